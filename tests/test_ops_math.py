"""The math ops lessons use beyond the basics, against PyTorch: pointwise logs, exponentials,
rounding, trigonometry; triangular and diagonal matrices, traces, batched products, einsum;
with their in-place forms, integer dtypes and error texts."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import assert_same, check_op, pair  # noqa: E402
from test_ops import Case as C, distinct, pos  # noqa: E402

S = (2, 3)


def unit(*shape):
    """Values inside (-1, 1), away from its ends (asin, acos)."""
    return lambda rng: rng.uniform(-0.9, 0.9, shape)


def halves(*shape):
    """Values away from integers and from halves (rounding ops, whose derivative is 0)."""
    return lambda rng: (rng.integers(-20, 20, shape) + rng.choice([0.2, 0.35, 0.65, 0.8], shape))


POINTWISE = [
    C("log2", lambda T, a: a.log2(), pos(2, 3)),
    C("log2_fn", lambda T, a: T.log2(a), pos(4)),
    C("log10", lambda T, a: T.log10(a), pos(2, 3)),
    C("exp2", lambda T, a: a.exp2(), S),
    C("exp2_fn", lambda T, a: T.exp2(a), S),
    C("expm1", lambda T, a: T.expm1(a), S),
    C("floor", lambda T, a: a.floor() * a, halves(2, 3)),
    C("ceil", lambda T, a: T.ceil(a) * a, halves(2, 3)),
    C("round", lambda T, a: a.round() * a, halves(2, 3)),
    C("round_decimals", lambda T, a: T.round(a, decimals=1) * a, halves(2, 3)),
    C("round_decimals_neg", lambda T, a: a.round(decimals=-1), halves(2, 3)),
    C("trunc", lambda T, a: a.trunc() * a, halves(2, 3)),
    C("fix", lambda T, a: T.fix(a), halves(2, 3)),
    C("frac", lambda T, a: a.frac() * a, halves(2, 3)),
    C("frac_fn", lambda T, a: T.frac(a), halves(2, 3)),
    C("cosh", lambda T, a: a.cosh(), S),
    C("sinh", lambda T, a: T.sinh(a), S),
    C("tan", lambda T, a: a.tan(), unit(2, 3)),
    C("asin", lambda T, a: a.asin(), unit(2, 3)),
    C("arcsin", lambda T, a: T.arcsin(a), unit(3)),
    C("acos", lambda T, a: T.acos(a), unit(2, 3)),
    C("arccos", lambda T, a: a.arccos(), unit(3)),
    C("atan", lambda T, a: a.atan(), S),
    C("arctan", lambda T, a: T.arctan(a), S),
    C("rsqrt", lambda T, a: a.rsqrt(), pos(2, 3)),
    C("rsqrt_fn", lambda T, a: T.rsqrt(a), pos(3)),
    C("atan2", lambda T, a, b: T.atan2(a, b), (2, 3), (3,)),
    C("atan2_method", lambda T, a, b: a.atan2(b), (3, 1), (2,)),
    C("arctan2", lambda T, a, b: T.arctan2(a, b), S, S),
    C("arctan2_method", lambda T, a, b: a.arctan2(b), S, S),
    C("hypot", lambda T, a, b: T.hypot(a, b), (2, 3), (3,)),
    C("hypot_method", lambda T, a, b: a.hypot(b), S, S),
    C("atan2_nograd_other", lambda T, a, b: T.atan2(a, b), S, S, grad=(0,)),
]

INPLACE = [
    C(name + "_", lambda T, a, name=name: getattr(a * 1, name + "_")(), make)
    for name, make in [("log2", pos(2, 3)), ("log10", pos(2, 3)), ("exp2", S), ("expm1", S),
                       ("floor", halves(2, 3)), ("ceil", halves(2, 3)), ("round", halves(2, 3)),
                       ("trunc", halves(2, 3)), ("fix", halves(2, 3)), ("frac", halves(2, 3)),
                       ("cosh", S), ("sinh", S), ("tan", unit(2, 3)), ("asin", unit(2, 3)),
                       ("arcsin", unit(2, 3)), ("acos", unit(2, 3)), ("arccos", unit(2, 3)),
                       ("atan", S), ("arctan", S), ("rsqrt", pos(2, 3))]
] + [
    C("round_decimals_", lambda T, a: (a * 1).round_(decimals=2), halves(2, 3)),
    C("atan2_", lambda T, a, b: (a * 1).atan2_(b), S, (3,)),
    C("arctan2_", lambda T, a, b: (a * 1).arctan2_(b), S, S),
    C("hypot_", lambda T, a, b: (a * 1).hypot_(b), S, (3,)),
]

MATRIX = [
    C("tril", lambda T, a: a.tril(), (3, 4)),
    C("tril_neg", lambda T, a: T.tril(a, -1), (2, 3, 3)),
    C("tril_kw", lambda T, a: a.tril(diagonal=1), (4, 3)),
    C("triu", lambda T, a: a.triu(), (3, 4)),
    C("triu_fn", lambda T, a: T.triu(a, 2), (2, 4, 4)),
    C("tril_", lambda T, a: (a * 1).tril_(1), (3, 3)),
    C("triu_", lambda T, a: (a * 1).triu_(-1), (3, 3)),
    C("diag_vector", lambda T, a: a.diag(), (3,)),
    C("diag_vector_offset", lambda T, a: T.diag(a, -1), (3,)),
    C("diag_matrix", lambda T, a: T.diag(a), (3, 4)),
    C("diag_matrix_offset", lambda T, a: a.diag(1), (3, 4)),
    C("diag_matrix_neg", lambda T, a: a.diag(diagonal=-2), (4, 3)),
    C("trace", lambda T, a: a.trace(), (3, 3)),
    C("trace_fn", lambda T, a: T.trace(a) * a, (2, 4)),
    C("movedim", lambda T, a: a.movedim(0, 2), (2, 3, 4)),
    C("movedim_many", lambda T, a: T.movedim(a, (0, 1), (2, 0)), (2, 3, 4)),
    C("moveaxis", lambda T, a: T.moveaxis(a, -1, 0), (2, 3, 4)),
    C("moveaxis_method", lambda T, a: a.moveaxis([2], [1]), (2, 3, 4)),
    C("kron", lambda T, a, b: T.kron(a, b), (2, 3), (2, 2)),
    C("kron_ranks", lambda T, a, b: a.kron(b), (3,), (2, 2)),
    C("baddbmm", lambda T, s, a, b: T.baddbmm(s, a, b), (2, 3, 5), (2, 3, 4), (2, 4, 5)),
    C("baddbmm_scaled", lambda T, s, a, b: s.baddbmm(a, b, beta=0.5, alpha=2), (3, 5),
      (2, 3, 4), (2, 4, 5)),
    C("baddbmm_", lambda T, s, a, b: (s * 1).baddbmm_(a, b, alpha=-1), (2, 3, 5), (2, 3, 4),
      (2, 4, 5)),
    C("addbmm", lambda T, s, a, b: T.addbmm(s, a, b), (3, 5), (2, 3, 4), (2, 4, 5)),
    C("addbmm_scaled", lambda T, s, a, b: s.addbmm(a, b, beta=2, alpha=0.5), (5,), (2, 3, 4),
      (2, 4, 5)),
    C("addbmm_", lambda T, s, a, b: (s * 1).addbmm_(a, b, beta=0.5), (3, 5), (2, 3, 4),
      (2, 4, 5)),
    C("addmv", lambda T, s, m, v: T.addmv(s, m, v), (3,), (3, 4), (4,)),
    C("addmv_scaled", lambda T, s, m, v: s.addmv(m, v, beta=2, alpha=-0.5), (1,), (3, 4), (4,)),
    C("addmv_", lambda T, s, m, v: (s * 1).addmv_(m, v, alpha=3), (3,), (3, 4), (4,)),
    C("addr", lambda T, s, a, b: T.addr(s, a, b), (3, 4), (3,), (4,)),
    C("addr_scaled", lambda T, s, a, b: s.addr(a, b, beta=0.5, alpha=2), (4,), (3,), (4,)),
    C("addr_", lambda T, s, a, b: (s * 1).addr_(a, b), (3, 4), (3,), (4,)),
    C("linalg_cross", lambda T, a, b: T.linalg.cross(a, b), (2, 3), (1, 3)),
    C("cross_dim", lambda T, a, b: T.cross(a, b, dim=0), (3, 2), (3, 2)),
    C("cross_method", lambda T, a, b: a.cross(b, dim=-1), (4, 3), (4, 3)),
    C("meshgrid_ij", lambda T, a, b: T.meshgrid(a, b, indexing="ij"), (3,), (4,)),
    C("meshgrid_xy", lambda T, a, b, c: T.meshgrid([a, b, c], indexing="xy"), (3,), (4,), (2,)),
    C("meshgrid_0d", lambda T, a, b: T.meshgrid((a, b), indexing="ij"), (), (2,)),
    C("cartesian_prod", lambda T, a, b: T.cartesian_prod(a, b), (3,), (2,)),
    C("cartesian_prod_three", lambda T, a, b, c: T.cartesian_prod(a, b, c), (2,), (2,), (3,)),
    C("cartesian_prod_one", lambda T, a: T.cartesian_prod(a) * 2, (3,)),
]


EINSUM = [
    C(f"einsum{k}[{eq}]", lambda T, *ops, eq=eq: T.einsum(eq, *ops), *shapes)
    for k, (eq, shapes) in enumerate([
        ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("i,i->", [(3,), (3,)]),
        ("i,j->ij", [(3,), (2,)]), ("ij,ij->ij", [(2, 3), (2, 3)]), ("ii", [(3, 3)]),
        ("ii->i", [(3, 3)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]),
        ("...ij->...ji", [(2, 3, 4)]), ("bi,bj->b", [(2, 3), (2, 3)]),
        ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("ik,kj,jl->il", [(2, 3), (3, 4),
                                                                           (4, 2)]),
        ("...i,i->...", [(2, 3, 4), (4,)]), ("ij,kj->ikj", [(2, 3), (4, 3)]),
        ("ijk,ikl->jl", [(2, 3, 4), (2, 4, 5)]), ("i,i,i->i", [(3,), (3,), (3,)]),
        ("iij->j", [(2, 2, 3)]), ("Ab,bC->AC", [(2, 3), (3, 2)]), ("i j , j k -> i k",
                                                                   [(2, 3), (3, 2)]),
        ("ij,j->i", [(3, 1), (4,)]), ("ij,jk->ik", [(1, 3), (3, 1)])])
] + [
    C("einsum_list", lambda T, a, b: T.einsum("ij,jk->ik", [a, b]), (2, 3), (3, 4)),
]

ALL = POINTWISE + INPLACE + MATRIX + EINSUM
assert len({c.id for c in ALL}) == len(ALL)


def _params(cases):
    return [pytest.param(c, dt, id=f"{c.id}-{dt}", marks=c.marks)
            for c in cases for dt in ("float32", "float64")]


@pytest.mark.parametrize("case,dtype", _params(ALL))
def test_op(case, dtype):
    check_op(case.fn, case.arrays(), dtype, **case.options)



# ---- integer and bool inputs ------------------------------------------------------------------

UNARY = ["log2", "log10", "exp2", "expm1", "floor", "ceil", "round", "trunc", "fix", "frac",
         "cosh", "sinh", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "rsqrt"]


def _outcome(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the error is the outcome compared
        return e


def _assert_same_outcome(g, t):
    if isinstance(t, Exception):
        assert type(g).__name__ == type(t).__name__ and str(g) == str(t), (g, t)
    else:
        assert not isinstance(g, Exception), g
        for go, to in zip(g, t) if isinstance(t, tuple) else [(g, t)]:
            assert_same(go, to)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16"])
def test_unary_dtypes_and_in_place_forms(name, dtype):
    """Integer and bool inputs: the default float dtype (log2 of an int), the same dtype
    (floor of an int), or PyTorch's error; the in-place forms refuse what they cannot hold."""
    values = [0, 1, 2, 3] if dtype != "float16" else [0.25, 0.5, 1.5, 2.5]
    g, t = pair(np.array(values), dtype)
    for make in (lambda T, x: getattr(x, name)(), lambda T, x: getattr(T, name)(x),
                 lambda T, x: getattr(x.clone(), name + "_")()):
        _assert_same_outcome(_outcome(lambda: make(gradlab, g)),
                             _outcome(lambda: make(torch, t)))


BINARY_DTYPES = [("int64", "int64"), ("int64", "float32"), ("float32", "float64"),
                 ("bool", "float32"), ("int32", "int64")]


@pytest.mark.parametrize("op", ["atan2", "arctan2", "hypot"])
@pytest.mark.parametrize("da,db", BINARY_DTYPES)
def test_binary_dtypes(op, da, db):
    (ga, ta), (gb, tb) = pair(np.array([1, 2, 0]), da), pair(np.array([2, 1, 1]), db)
    for make in (lambda T, x, y: getattr(T, op)(x, y), lambda T, x, y: getattr(x, op)(y),
                 lambda T, x, y: getattr(x.clone(), op + "_")(y)):
        _assert_same_outcome(_outcome(lambda: make(gradlab, ga, gb)),
                             _outcome(lambda: make(torch, ta, tb)))


MATRIX_DTYPES = [
    ("tril_int", lambda T, a: a.long().tril(-1)), ("triu_bool", lambda T, a: (a > 0).triu()),
    ("tril_int_", lambda T, a: a.long().tril_()),
    ("diag_int", lambda T, a: a.long().diag()),
    ("diag_vector_int", lambda T, a: a[0].long().diag(1)),
    ("trace_int", lambda T, a: a.long().trace()), ("trace_int32", lambda T, a: a.int().trace()),
    ("trace_bool", lambda T, a: (a > 0).trace()),
    ("kron_int_float", lambda T, a: T.kron(a.long(), a)),
    ("addmv_int", lambda T, a: T.addmv(a[0].long(), a.long(), a[1].long())),
    ("movedim_int", lambda T, a: a.long().movedim(1, 0)),
    ("einsum_int", lambda T, a: T.einsum("ij,jk->ik", a.long(), a.long())),
    ("meshgrid_int", lambda T, a: T.meshgrid(a[0].long(), a[1].long(), indexing="xy")),
    ("cross_int", lambda T, a: T.linalg.cross(a.long(), a.long().flip(0))),
]


@pytest.mark.parametrize("fn", [f for _, f in MATRIX_DTYPES], ids=[n for n, _ in MATRIX_DTYPES])
def test_matrix_ops_on_integers(fn):
    g, t = pair(np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0], [7.0, 8.0, 9.0]]))
    _assert_same_outcome(_outcome(lambda: fn(gradlab, g)), _outcome(lambda: fn(torch, t)))


# ---- errors -----------------------------------------------------------------------------------

ERRORS = [
    ("round_decimals_float", lambda T, a, b: a.round(decimals=1.5), (2, 3), ()),
    ("atan2_number", lambda T, a, b: T.atan2(a, 2), (2, 3), ()),
    ("atan2_method_number", lambda T, a, b: a.atan2(2), (2, 3), ()),
    ("atan2_number_first", lambda T, a, b: T.atan2(2, a), (2, 3), ()),
    ("atan2_broadcast", lambda T, a, b: T.atan2(a, b), (2, 3), (4,)),
    ("hypot_number", lambda T, a, b: T.hypot(a, 2), (2, 3), ()),
    ("hypot_method_number", lambda T, a, b: a.hypot(2.0), (2, 3), ()),
    ("hypot_broadcast", lambda T, a, b: a.hypot(b), (2, 3), (2,)),
    ("hypot_int_number", lambda T, a, b: a.long().hypot(2), (2, 3), ()),
    ("hypot_int_broadcast", lambda T, a, b: a.long().hypot(b.long()), (2, 3), (2,)),
    ("atan2_inplace_broadcast", lambda T, a, b: a.atan2_(b), (3,), (2, 3)),
    ("tril_1d", lambda T, a, b: a.tril(), (3,), ()),
    ("triu_0d", lambda T, a, b: T.triu(a), (), ()),
    ("diag_3d", lambda T, a, b: a.diag(), (2, 3, 4), ()),
    ("trace_1d", lambda T, a, b: a.trace(), (3,), ()),
    ("trace_3d", lambda T, a, b: T.trace(a), (2, 2, 2), ()),
    ("movedim_lengths", lambda T, a, b: a.movedim((0, 1), (0,)), (2, 3), ()),
    ("movedim_range", lambda T, a, b: a.movedim(0, 5), (2, 3), ()),
    ("movedim_repeated", lambda T, a, b: a.movedim((0, 0), (0, 1)), (2, 3), ()),
    ("movedim_repeated_destination", lambda T, a, b: a.movedim((0, 1), (1, 1)), (2, 3), ()),
    ("cross_length", lambda T, a, b: T.linalg.cross(a, b), (2, 2), (2, 2)),
    ("cross_ndim", lambda T, a, b: T.linalg.cross(a, b), (2, 3), (3,)),
    ("addmv_dtypes", lambda T, a, b: T.addmv(b, a, b.double()), (3, 3), (3,)),
    ("addr_2d", lambda T, a, b: T.addr(a, b, a), (3, 3), (3,)),
    ("baddbmm_dtypes", lambda T, a, b: T.baddbmm(a.double(), a, a), (2, 3, 3), ()),
    ("meshgrid_indexing", lambda T, a, b: T.meshgrid(a, b, indexing="foo"), (3,), (2,)),
    ("meshgrid_dtypes", lambda T, a, b: T.meshgrid(a, b.double(), indexing="ij"), (3,), (2,)),
    ("cartesian_prod_2d", lambda T, a, b: T.cartesian_prod(a, b), (2, 3), (3,)),
    ("einsum_no_operand", lambda T, a, b: T.einsum("ij"), (2, 3), ()),
    ("einsum_too_few", lambda T, a, b: T.einsum("ij,jk", a), (2, 3), ()),
    ("einsum_too_many", lambda T, a, b: T.einsum("ij", a, b), (2, 3), (3,)),
    ("einsum_subscripts", lambda T, a, b: T.einsum("i", a), (2, 3), ()),
    ("einsum_ellipsis_subscripts", lambda T, a, b: T.einsum("...ijk", a), (2, 3), ()),
    ("einsum_invalid", lambda T, a, b: T.einsum("i1", a), (2, 3), ()),
    ("einsum_invalid_output", lambda T, a, b: T.einsum("ij->i1", a), (2, 3), ()),
    ("einsum_output_twice", lambda T, a, b: T.einsum("ij->ii", a), (2, 3), ()),
    ("einsum_output_unknown", lambda T, a, b: T.einsum("ij->k", a), (2, 3), ()),
    ("einsum_sizes", lambda T, a, b: T.einsum("ij,jk->ik", a, b), (2, 3), (4, 2)),
    ("einsum_repeated_sizes", lambda T, a, b: T.einsum("ii->i", a), (2, 3), ()),
    ("einsum_dot", lambda T, a, b: T.einsum("i.j", a), (2, 3), ()),
    ("einsum_two_ellipses", lambda T, a, b: T.einsum("......", a), (2, 3), ()),
    ("einsum_output_dot", lambda T, a, b: T.einsum("ij->i.", a), (2, 3), ()),
    ("einsum_ellipsis_broadcast", lambda T, a, b: T.einsum("...i,...i", a, b), (2, 3), (4, 3)),
]


@pytest.mark.parametrize("fn,sa,sb", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(fn, sa, sb):
    """PyTorch's error type and text; a failed in-place op leaves the tensor as it was."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    (ga, ta), (gb, tb) = pair(a), pair(b)
    g, t = _outcome(lambda: fn(gradlab, ga, gb)), _outcome(lambda: fn(torch, ta, tb))
    assert isinstance(t, Exception), t
    _assert_same_outcome(g, t)
    assert ga._version == ta._version and np.array_equal(ga.numpy(), ta.numpy())


def test_meshgrid_without_indexing_warns_as_pytorch():
    (ga, ta), (gb, tb) = pair(np.arange(3.0)), pair(np.arange(2.0))
    with pytest.warns(UserWarning) as t_warning:
        t = torch.meshgrid(ta, tb)
    with pytest.warns(UserWarning) as g_warning:
        g = gradlab.meshgrid(ga, gb)
    assert str(g_warning[0].message) == str(t_warning[0].message)
    _assert_same_outcome(g, t)


def test_cross_without_dim_warns_as_pytorch_and_takes_the_first_dim_of_size_3():
    rng = np.random.default_rng(3)
    (ga, ta), (gb, tb) = pair(rng.standard_normal((3, 3))), pair(rng.standard_normal((3, 3)))
    with pytest.warns(UserWarning) as t_warning:
        t = torch.cross(ta, tb)
    with pytest.warns(UserWarning) as g_warning:
        g = gradlab.cross(ga, gb)
    assert str(g_warning[0].message) == str(t_warning[0].message)
    assert_same(g, t)


def test_round_halves_to_even_and_decimals_as_pytorch():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.125, 0.375, 1.005, 2.675, 1234.5678, -0.0])
    for dtype in ("float32", "float64", "float16"):
        g, t = pair(x, dtype)
        for d in (0, 1, 2, 3, -1, -2):
            np.testing.assert_array_equal(g.round(decimals=d).numpy(),
                                          t.round(decimals=d).numpy(), err_msg=f"{dtype} {d}")


FORWARD = ["log2", "log10", "exp2", "expm1", "floor", "round_decimals", "frac", "cosh", "sinh",
           "tan", "asin", "acos", "atan", "rsqrt", "atan2", "hypot", "tril", "triu",
           "diag_vector", "diag_matrix_offset", "trace", "movedim_many", "kron", "baddbmm_scaled",
           "addbmm_scaled", "addmv_scaled", "addr_scaled", "linalg_cross", "cartesian_prod",
           "einsum0[ij,jk->ik]", "einsum6[ii]"]


@pytest.mark.parametrize("case", [c for c in ALL if c.id in FORWARD], ids=lambda c: c.id)
def test_forward_mode(case):
    """Forward-mode derivatives (each op's ``result`` formula) against PyTorch's."""
    arrays = case.arrays()
    rng = np.random.default_rng(4)
    outs = []
    for lib in (gradlab, torch):
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            duals = []
            for a in arrays:
                primal = lib.tensor(np.asarray(a, np.float64))
                tangent = lib.tensor(rng.standard_normal(np.shape(a)))
                duals.append(fwAD.make_dual(primal, tangent))
            out = case.fn(lib, *duals)
            outs.append([fwAD.unpack_dual(o).tangent for o in
                         (out if isinstance(out, tuple) else (out,))])
        rng = np.random.default_rng(4)
    assert len(outs[0]) == len(outs[1])
    for g, t in zip(*outs):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-9, atol=1e-12)
