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

