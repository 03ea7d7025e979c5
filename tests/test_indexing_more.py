"""Indexing as lessons write it (ranges, lists, tuples of index tensors, masks, with slices, None
and ...), for reading, writing in place and gradients; the sort-like and counting ops; all
against PyTorch: values, grad_fn graphs, versions, printed results, error texts."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import assert_same, check_op  # noqa: E402
from test_ops import C, distinct, ints  # noqa: E402


def ties(*shape, levels=3):
    """Small integers as floats: many equal values, where the kernels' order shows."""
    return lambda rng: rng.integers(0, levels, shape).astype(float)


CASES = [
    C("range_and_tensor", lambda T, a, y: a[range(3), y], (3, 4), ints([1, 3, 0])),
    C("range_alone", lambda T, a: a[range(1, 3)], (3, 4)),
    C("ellipsis_range", lambda T, a: a[..., range(2)], (2, 3, 4)),
    C("tuple_of_tensors", lambda T, a, i, j: a[(i, j)], (3, 4), ints([0, 2]), ints([3, 3])),
    C("bool_list", lambda T, a: a[[True, False, True]], (3, 4)),
    C("bool_list_cols", lambda T, a: a[1:, [True, False, True, True]], (3, 4)),
    C("list_slice", lambda T, a: a[[0, 2], 1:], (3, 4)),
    C("list_none_slice", lambda T, a: a[[0, 2], None, 1:], (3, 4)),
    C("split_advanced", lambda T, a: a[[0, 1], :, [2, 0]], (2, 3, 4)),
    C("int_list_split", lambda T, a: a[1, :, [0, 3]], (2, 3, 4)),
    C("broadcast_indices", lambda T, a: a[[[0], [2]], [1, 3]], (3, 4)),
    C("mask_then_int", lambda T, a, m: a[m, 1], (2, 3, 4), lambda rng: np.array(
        [[True, False, True], [False, True, True]])),
    C("uint8_0dim_and_true", lambda T, a: a[True, None, 1], (3, 4)),
    C("float_list_truncates", lambda T, a: a[[1.7, 0.2]], (3, 4)),
    C("empty_list", lambda T, a: a[[]], (3, 4)),
    C("list_of_list_as_tuple", lambda T, a: a[[[0, 2], [1, 1]]], (3, 4)),
    C("dup_indices", lambda T, a: a[[0, 0, 2], [1, 1, 1]], (3, 4)),
    C("index_put_mask_acc", lambda T, a, m, v: a.index_put((m,), v, accumulate=True), (3, 4),
      lambda rng: np.array([True, False, True]), (4,)),
    C("index_put_none_slot", lambda T, a, i, v: a.index_put((i,), v), (3, 4), ints([2, 2]),
      (2, 4)),
    C("sort", lambda T, a: a.sort(), (3, 5)),
    C("sort_ties_desc", lambda T, a: T.sort(a, 0, True), ties(6, 3)),
    C("sort_stable", lambda T, a: a.sort(dim=0, descending=True, stable=True), ties(20, 2)),
    C("sort_long_ties", lambda T, a: a.sort(), ties(2, 40)),
    C("topk", lambda T, a: a.topk(2), distinct(3, 5)),
    C("topk_ties", lambda T, a: T.topk(a, 3, 0, False, True), ties(7, 2)),
    C("topk_unsorted", lambda T, a: a.topk(4, sorted=False), ties(2, 9)),
    C("topk_heap", lambda T, a: a.topk(2, largest=False), ties(2, 200)),
    C("kthvalue", lambda T, a: a.kthvalue(2, 0, keepdim=True), ties(5, 3)),
    C("median_dim", lambda T, a: a.median(1), ties(3, 6)),
    C("median_all", lambda T, a: a.median(), ties(3, 4)),
    C("mode", lambda T, a: T.mode(a, 0), ties(7, 3)),
    C("msort", lambda T, a: T.msort(a), (4, 2)),
    C("index_add", lambda T, a, i, s: a.index_add(0, i, s, alpha=2), (3, 4), ints([2, 0, 2]),
      (3, 4)),
    C("index_add_fn", lambda T, a, i, s: T.index_add(a, 1, i, s), (3, 4), ints([3, 1]), (3, 2)),
    C("index_fill", lambda T, a, i: a.index_fill(1, i, -1.0), (3, 4), ints([0, 2])),
    C("index_fill_tensor", lambda T, a, i, v: T.index_fill(a, 0, i, v), (3, 4), ints([2, 2]), ()),
    C("index_copy", lambda T, a, i, s: a.index_copy(1, i, s), (3, 4), ints([3, 0]), (3, 2)),
    C("take", lambda T, a, i: a.take(i), (3, 4), ints([[0, 11], [-1, 5]]), names_order=1),
    C("take_fn", lambda T, a, i: T.take(a, i), (3, 4), ints([3, 3]), names_order=1),
    C("masked_fill_fn", lambda T, a: T.masked_fill(a, a > 0, 2.0), (3, 4)),
]


def _ids(cases):
    return [c.id for c in cases]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_op(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own deprecation warnings, compared below
        check_op(case.fn, case.arrays(), "float64", **case.options)


# ---- assignment into indices ---------------------------------------------------------------

WRITES = [
    "a[range(3), y] -= 1",
    "a[range(3), y] = x[0, :3] * 2",
    "a[[0, 2], 1:] += 1",
    "a[[0, 2], 1:] *= x[:2, :3]",
    "a[1:, [0, 2]] += 1",
    "a[[0, 2], None, 1:] += 1",
    "a[[0, 0]] += 1",
    "a[y[:2]] = x[:2] ** 2",
    "a[a > 5] = 0",
    "a[a > 5] = x[x > 5] * 3",
    "a[a > 5] = torch.tensor(5)",
    "a[[True, False, True]] = x[0]",
    "a[True] = 5",
    "a[False] = 5",
    "a[None] = torch.ones(4)",
    "a[...] = torch.ones(4)",
    "a[:, :] = 5",
    "a[:] = 5",
    "a[1, 2] = torch.tensor([7.])",
    "a[[1]] = torch.ones(1, 1, 4)",
    "a[[0, 1], [0, 1]] = torch.ones(1, 1, 2)",
    "a[[0, 0], [1, 1]] = torch.tensor([3., 4.])",
    "a[0, [1]] = np.int64(2)",
    "a[[1]] = True",
    "a.index_put_((y,), x[0], accumulate=True)",
    "a.index_put_([torch.tensor([0, 0])], torch.tensor(1.))",
    "a.index_add_(0, y[:2], x[:2])",
    "a.index_fill_(1, y[:2], x[0, 0])",
    "a.index_copy_(0, y[1:], x[:2])",
    # PyTorch's errors
    "a[[0]] = torch.tensor([1.], dtype=torch.float64)",
    "a[[0]] = torch.tensor([1, 2])",
    "a[[0]] = [1., 2]",
    "a[0] = [1., 2]",
    "a[[0]] = 'x'",
    "a[[0, 1]] = torch.ones(3, 4)",
    "a[0] = torch.ones(3)",
    "a[1] = torch.ones(2, 4)",
    "a[[0, 1], [0, 1]] = torch.ones(2, 1, 2)",
    "a[:, [0, 5]] = 1",
    "a[None, 5] = 1",
    "a[[1]] = 2**70",
    "a[[1]] = 1j",
    "a[a > 5] = torch.tensor([1., 2])",
    "a.index_put_(torch.tensor([0, 0]), torch.tensor(1.))",
    "a.index_put_((None, torch.tensor([0, 0])), torch.tensor(1.))",
    "a.index_put_((torch.tensor([0, 0]), torch.tensor([1, 2, 3])), torch.tensor(1.))",
    "a.index_put_((torch.tensor([0, 9]),), torch.tensor(1.), accumulate=True)",
    "a.index_put_((torch.tensor([0.]),), torch.tensor(1.))",
]


def _write(lib, statement):
    """Run ``statement`` on ``a = x * 1``: (a's value, version, grad_fn chain, x.grad) or the
    error."""
    x = lib.arange(12.0, dtype=lib.float64).reshape(3, 4).requires_grad_()
    a = x * 1
    y = lib.tensor([1, 3, 0])
    try:
        exec(statement, {"torch": lib, "np": np, "a": a, "x": x, "y": y})
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return type(e).__name__, str(e), a._version
    chain, node = [], a.grad_fn
    while node is not None:
        chain.append(node.name())
        node = node.next_functions[0][0] if node.next_functions else None
    a.backward(lib.arange(12.0, dtype=lib.float64).reshape(3, 4) + 1)
    return a.tolist(), a._version, chain, x.grad.tolist()


@pytest.mark.parametrize("statement", WRITES)
def test_assignment_into_indices(statement):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _write(gradlab, statement) == _write(torch, statement)


# ---- keys: results, graphs, warnings and errors -------------------------------------------

KEYS = [
    "range(3), y", "range(0)", "[], []", "(range(2), range(1, 3))", "[range(2)]",
    "[[0, 1], [1, 2]]", "[torch.tensor(1), 2]", "[0, None]", "[0, [1]]", "[True, 1]",
    "torch.tensor(1)", "torch.tensor(1, dtype=torch.int16)", "torch.tensor(True)",
    "torch.tensor(1, dtype=torch.uint8)", "y.to(torch.uint8)", "y.int()", "np.array([1.5])",
    "np.array([[0, 1], [1, 2]])", "np.int64(1)", "[np.int64(1)]", "..., 1, ...", "None, ..., None",
    "0:100, 1", "-100:, 1", "torch.tensor(1):", "b > 3",
    # errors
    "y, range(-1, 2)", "[5, -7]", "[-7, 5]", "2**63", "[2**63]", "y.to(torch.int16)",
    "y.float()", "torch.tensor(1.)", "'x'", "[0, 'x']", "1.5", "[1.5], 1.5", "object()", "{}",
    "np.bool_(True)", "np.float64(1.0)", "torch.tensor([True, False])", ":, [True, False, True]",
    "0, 0, 0", "[0], [0], [0]", "-4", "::0", "::-1", "1.5:", "None, 5", "None, ..., 1, 7",
    "torch.ones(3, dtype=torch.bool), [0, 1]", "[[0], [5]], [[0, 4]]", "[0, 3], [4, 0]",
]


def _read(lib, key, on="a"):
    a = lib.arange(12.0).reshape(3, 4).requires_grad_() * 1
    b = lib.arange(24.0).reshape(2, 3, 4)
    s = lib.tensor(5.0)
    y = lib.tensor([1, 3, 0])
    scope = {"torch": lib, "np": np, "a": a, "b": b, "s": s, "y": y}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = eval(f"{on}[{key}]", scope)
        except Exception as e:  # noqa: BLE001 - compared with PyTorch's
            return type(e).__name__, str(e), [str(w.message) for w in caught]
    saved = out.grad_fn._saved_indices if out.grad_fn.name() == "IndexBackward0" else ()
    return (repr(out), out.grad_fn.name(), out.grad_fn.next_functions[0][0].name(),
            [repr(i) for i in saved], [str(w.message) for w in caught])


@pytest.mark.parametrize("key", KEYS)
def test_key(key):
    assert _read(gradlab, key) == _read(torch, key)


@pytest.mark.parametrize("key", ["1", "-1", "0", "(0,)", "True", "False", "torch.tensor(0)",
                                 "[0]", "[True]", "...", "..., None", "0:1"])
def test_key_of_a_0dim_tensor(key):
    assert _read(gradlab, key, "s * 1") == _read(torch, key, "s * 1")


def test_warnings_point_at_the_line_that_indexes():
    for lib in (gradlab, torch):
        a = lib.zeros(3, 4)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a[[[0, 1], [1, 2]]]
        assert caught[0].filename == __file__, lib


# ---- Karpathy's "becoming a backprop ninja" ------------------------------------------------

def _ninja(lib):
    n, vocab = 8, 5
    lib.manual_seed(42)
    logits = lib.randn(n, vocab).double().requires_grad_()
    Yb = lib.tensor([0, 3, 1, 4, 2, 2, 0, 1])
    counts = logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    for t in (logprobs, probs, counts_sum_inv, counts_sum, counts):
        t.retain_grad()
    loss.backward()
    dlogprobs = lib.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    return (loss.item(), logprobs.grad.tolist(), dlogprobs.tolist(), counts_sum_inv.grad.tolist(),
            logits.grad.tolist(), logprobs[range(n), Yb].grad_fn.name(),
            counts_sum_inv.grad_fn.name())


def test_becoming_a_backprop_ninja():
    g, t = _ninja(gradlab), _ninja(torch)
    assert g[5:] == t[5:] == ("IndexBackward0", "PowBackward0")
    assert g[2] == t[2]
    for a, b in zip(g[:5], t[:5]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


# ---- random keys (Hypothesis) --------------------------------------------------------------

def _part(draw, size):
    kind = draw(st.sampled_from(["int", "slice", "none", "list", "range", "tensor", "mask",
                                 "full", "ellipsis"]))
    if kind == "int":
        return draw(st.integers(-size, size - 1)) if size else None
    if kind == "slice":
        return slice(draw(st.integers(0, size)), draw(st.one_of(st.none(), st.integers(0, size))),
                     draw(st.sampled_from([None, 1, 2])))
    if kind == "none":
        return None
    if kind in ("list", "range", "tensor") and size:
        items = draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=3))
        return (items if kind == "list" else range(0, size, draw(st.integers(1, 2)))
                if kind == "range" else ("t", items))
    if kind == "mask":
        return ("m", draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    return slice(None) if kind == "full" else Ellipsis


@st.composite
def keys(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    parts, dims, ellipsis = [], list(shape), False
    for _ in range(draw(st.integers(1, 4))):
        if not dims:
            break
        part = _part(draw, dims[0])
        if part is Ellipsis:
            if ellipsis:
                continue
            ellipsis = True
            dims = dims[-1:]
        elif part is not None:
            dims.pop(0)
        parts.append(part)
    return shape, tuple(parts)


def _build(lib, part):
    if isinstance(part, tuple):
        kind, items = part
        return lib.tensor(items) if kind == "t" else lib.tensor(items, dtype=lib.bool)
    return part


def _run_key(lib, shape, parts, values):
    key = tuple(_build(lib, p) for p in parts)
    x = lib.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape), requires_grad=True)
    try:
        out = (x * 1)[key]
    except IndexError as e:
        return "IndexError", str(e)
    out.backward(lib.ones_like(out))
    a = (x * 1).detach()
    try:
        a[key] = values(lib, out.shape)
    except RuntimeError as e:
        return out.tolist(), out.grad_fn.name(), x.grad.tolist(), str(e)
    return out.tolist(), out.grad_fn.name(), x.grad.tolist(), a.tolist(), a._version


@settings(max_examples=300, deadline=None)
@given(keys())
def test_random_keys_read_write_and_differentiate_as_in_pytorch(case):
    shape, parts = case

    def values(lib, shape):
        return lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape) + 100

    assert _run_key(gradlab, shape, parts, values) == _run_key(torch, shape, parts, values)


# ---- sort-like ops: order of equal values, printing, errors -------------------------------

@settings(max_examples=200, deadline=None)
@given(st.integers(1, 80), st.integers(1, 3), st.integers(1, 4), st.booleans(), st.booleans(),
       st.integers(0, 2 ** 31), st.booleans())
def test_sort_topk_kthvalue_pick_the_indices_pytorch_picks(n, rows, levels, flag, flag2, seed,
                                                           nan):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, levels, (rows, n)).astype(np.float32)
    if nan:
        a[rng.random(a.shape) < 0.2] = np.nan
    k = int(rng.integers(0, n + 1))
    g, t = gradlab.tensor(a), torch.tensor(a)
    for fn in (lambda x: x.sort(descending=flag), lambda x: x.sort(dim=0, stable=True),
               lambda x: x.topk(k, largest=flag, sorted=flag2), lambda x: x.argsort(0, flag),
               lambda x: x.kthvalue(max(k, 1)), lambda x: x.median(-1), lambda x: x.mode(0)):
        rg, rt = fn(g), fn(t)
        for u, v in zip(rg, rt) if isinstance(rt, tuple) else [(rg, rt)]:
            assert_same(u, v)


def test_sort_of_long_integers_is_stable_as_pytorchs_radix_sort():
    a = np.random.default_rng(0).integers(0, 5, 40000)
    assert np.array_equal(gradlab.tensor(a).sort().indices.numpy(),
                          torch.tensor(a).sort().indices.numpy())


def test_return_types_print_and_unpack_as_pytorchs():
    for lib in (gradlab, torch):
        lib.manual_seed(0)
    a = np.array([[1.0, 3.0, 3.0, 2.0], [0.5, 0.5, 2.0, 1.0]])
    for fn in (lambda T, x: x.topk(2), lambda T, x: T.sort(x, 1, True), lambda T, x: x.max(1),
               lambda T, x: x.kthvalue(2), lambda T, x: x.median(0), lambda T, x: x.mode()):
        g, t = fn(gradlab, gradlab.tensor(a)), fn(torch, torch.tensor(a))
        assert repr(g) == repr(t)
        assert_same(g.values, t.values)
        assert_same(g.indices, t.indices)
        values, indices = g
        assert values is g[0] and indices is g[1]


OTHERS = [
    "torch.unique(torch.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)",
    "torch.tensor([[3, 1], [3, 1], [2, 2]]).unique(dim=0, return_inverse=True)",
    "torch.unique(torch.tensor([1., float('nan'), float('nan'), 1.]))",
    "torch.unique(x)", "torch.unique(x).grad_fn.name()", "torch.unique(x).sum().backward()",
    "_forward(torch, lambda t: torch.unique(t))",
    "torch.tensor([1, 1, 3]).bincount()", "torch.bincount(torch.tensor([1, 1, 3]), minlength=6)",
    "torch.tensor([1, 1, 3]).bincount(torch.tensor([.5, 1, 2]))",
    "torch.tensor([1, 1, 3]).bincount(torch.tensor([.5, 1, 2], dtype=torch.float64))",
    "torch.tensor([1, 1, 3]).bincount(torch.tensor([5, 1, 2]))",
    "torch.tensor([1, -1]).bincount()", "torch.tensor([1.]).bincount()",
    "torch.tensor([1, 2]).bincount(torch.tensor([1.]))",
    "torch.tensor([1, 2]).bincount(minlength=-1)",
    "torch.histc(torch.tensor([1., 2, 1]), bins=4, min=0, max=3)", "torch.histc(x, 7)",
    "torch.histc(torch.tensor([1., 1]), 3)", "torch.histc(torch.tensor([1., 2]), 3, 2, 1)",
    "torch.histc(torch.tensor([1, 2, 1]))", "torch.histc(torch.tensor([1., 2.]), -1)",
    "x.histc(5, -1, 1)",
    "torch.histogram(torch.tensor([1., 2, 1]), bins=4, range=(0., 3.))",
    "torch.histogram(torch.tensor([1., 2, 1]), bins=torch.tensor([0., 1, 2, 3]))",
    "torch.histogram(torch.tensor([1., 2, 1, 5]), 3, density=True)",
    "torch.tensor([1., 2, 1, 5, .5, 7]).histogram(4, weight=torch.tensor([1., 2, 3, 4, 5, 6]))",
    "torch.tensor([1., float('nan')]).histogram(4)", "torch.histogram(torch.tensor([]), 2)",
    "torch.histogram(torch.tensor([.1, .2, .3], dtype=torch.float64), 7, range=(.1, .3))",
    "torch.histogram(torch.randn(1000, generator=torch.Generator().manual_seed(0)))",
    "x.new_ones(2)", "x.new_zeros((2, 1))", "x.new_full((2,), 7)", "x.new_empty(0)",
    "x.new_tensor([1, 2])", "x.new_ones(2, dtype=torch.int64)",
    "x.new_ones(2, 2, requires_grad=True)", "x.new_ones(2, 2, 2.5)", "x.new_zeros(-1)",
    "x.repeat(2)", "x.repeat(-1, 2)", "x.roll((1, 2))", "x.roll((1, 2), 0)",
    "torch.broadcast_shapes((2, 1), (3,))", "torch.broadcast_shapes((2, 3), 5)",
    "torch.broadcast_tensors(x, torch.ones(4))[0] is x",
    "torch.finfo(torch.float32)", "torch.finfo()", "torch.finfo(torch.float16).eps",
    "torch.finfo(torch.float64).tiny", "torch.iinfo(torch.int64)", "torch.iinfo(torch.uint8).max",
    "torch.finfo(torch.int32)", "torch.iinfo(torch.float32)",
    "torch.zeros(3, 5).scatter_(1, torch.tensor([[0], [1], [2]]), 1.0)",
    "torch.zeros(3, 5).scatter_(1, torch.tensor([[0], [1], [2]]), value=2.0)",
    "torch.zeros(3, 5).scatter_add_(0, torch.tensor([[0, 1, 2, 0, 0]]), torch.ones(1, 5))",
    "x.detach().scatter_add_(1, i.view(2, 1), torch.ones(2, 1))",
    "torch.nn.functional.one_hot(torch.tensor([0, 2]))",
    "torch.nn.functional.one_hot(torch.tensor([[0], [2]]), num_classes=4)",
    "torch.nn.functional.one_hot(torch.tensor(2), 3)",
    "torch.nn.functional.one_hot(torch.tensor([0., 2]))",
    "torch.nn.functional.one_hot(torch.tensor([0, 5]), 3)",
    "torch.nn.functional.one_hot(torch.tensor([0, -1]))",
    "torch.nn.functional.one_hot(torch.tensor([], dtype=torch.long))",
    "torch.nn.functional.one_hot(torch.tensor([], dtype=torch.long), 3)",
    "torch.searchsorted(torch.tensor([1., 3, 5]), torch.tensor([[3., 6], [0, 1]]))",
    "torch.searchsorted(torch.tensor([1., 3, 5]), torch.tensor([3., 6]), right=True)",
    "torch.searchsorted(torch.tensor([[1., 3, 5], [2, 4, 6]]), torch.tensor([[3.], [3]]))",
    "torch.searchsorted(torch.tensor([1., 3, 5]), torch.tensor([3]), out_int32=True)",
    "torch.searchsorted(torch.tensor([1., 3, 5]), torch.tensor([3.]), side='right')",
    "torch.searchsorted(torch.tensor([[1., 3, 5]]), torch.tensor([3.]))",
    "torch.bucketize(torch.tensor([[3., 6], [0, 1]]), torch.tensor([1., 3, 5]))",
    "torch.bucketize(torch.tensor([3.]), torch.tensor([[1., 3, 5]]))",
    "x.topk(5)", "x.topk(-1)", "x.topk(2, dim=2)", "torch.tensor(3.).topk(1)",
    "torch.tensor([True, False]).topk(1)", "torch.tensor([True, False]).sort()",
    "x.topk(2.0)", "x.topk(0)", "x.kthvalue(5)", "x.sort(dim=3)", "torch.tensor(3.).sort()",
    "x.take(torch.tensor([12]))", "x.take(torch.tensor([-13]))", "x.take(torch.tensor([1.]))",
    "x.index_fill(1, torch.tensor([5]), 1.)", "x.index_fill(1, torch.tensor([[1]]), 1.)",
    "x.index_fill(1, torch.tensor([1.]), 1.)", "x.index_fill(1, i, torch.tensor([1.]))",
    "x.index_add(0, torch.tensor([5, 0]), torch.ones(2, 4))",
    "x.index_add(0, i, torch.ones(2, 3))",
    "x.index_add(0, i, torch.ones(2, 4, dtype=torch.float64))",
    "x.detach().index_add_(0, i, torch.ones(3, 4))",
    "x.index_copy(0, torch.tensor([5, 0]), torch.ones(2, 4))",
    "x.max(1)", "x.min(0)", "torch.max(x, 1, keepdim=True)", "x.argsort(1, True)",
    "torch.argsort(x, stable=True, dim=0)", "x.msort()",
]


def _forward(lib, fn):
    """fn run on a dual tensor: its tangent's value, or PyTorch's error."""
    with lib.autograd.forward_ad.dual_level():
        x = lib.autograd.forward_ad.make_dual(lib.tensor([1.0, 2.0, 1.0]), lib.ones(3))
        return lib.autograd.forward_ad.unpack_dual(fn(x)).tangent


def _other(lib, expression):
    x = lib.tensor([[0.5, -1.0, 2.0, 0.0], [1.5, 1.5, -0.5, 3.0], [-2.0, 0.25, 1.0, 1.0]],
                   requires_grad=True)
    try:
        scope = {"torch": lib, "x": x, "i": lib.tensor([2, 0]), "_forward": _forward}
        return repr(eval(expression, scope))
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return type(e).__name__, str(e)


@pytest.mark.parametrize("expression", OTHERS)
def test_counting_and_selecting_ops(expression):
    assert _other(gradlab, expression) == _other(torch, expression)


def run_for_the_op_table(lib):
    """Every case above once, for tests/test_op_table.py (which ops the differential tests run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in CASES:
            case.fn(lib, *[lib.tensor(a) for a in case.arrays()])
        for statement in WRITES:
            _write(lib, statement)
        for expression in OTHERS:
            _other(lib, expression)
