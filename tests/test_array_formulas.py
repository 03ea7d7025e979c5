"""A formula's NumPy form (run when backward records no graph) equals its gradlab-op form bit for
bit, in dtype and shape, on every case it accepts (it returns None for the others)."""
import tracemalloc

import numpy as np
import pytest

import gradlab
from gradlab._random import _fma32
from gradlab.ops import _core
from gradlab.autograd import backward_events
from gradlab.ops._core import EXACT_MAX
from gradlab.ops.elementwise import (_BLOCK, _one_minus_square_fused, _one_minus_square_split,
                                      _tanh_grad, mul_scalar, tanh_backward)
from gradlab.tensor import Tensor

rng = np.random.default_rng(7)


def tensor(shape, dtype=np.float32, requires_grad=True, positive=False):
    a = np.asarray(rng.standard_normal(shape), dtype)
    if positive:
        a = np.asarray(np.abs(a) + 0.1, dtype)
    if a.ndim and a.size:
        a.flat[0] = 0  # a kink for relu, a zero base for pow
    return gradlab.from_numpy(a).requires_grad_(requires_grad)


def scalar(value, dtype):
    """A 0-d tensor holding a NumPy scalar, as gradlab's 0-d results do."""
    return Tensor._make(np.dtype(dtype).type(value), gradlab.float32 if dtype == np.float32
                        else gradlab.float64)


SHAPES = [(), (1,), (5,), (3, 4), (2, 1, 3)]
F32, F64 = np.float32, np.float64

CASES = {
    "mul": [(lambda a, b: a * b, (s, s), d) for s in SHAPES for d in (F32, F64)]
    + [(lambda a, b: a * b, ((3, 1), (4,)), F32), (lambda a, b: a * b, ((), (3, 4)), F64)],
    "mul by a number": [(lambda a: a * 2.5, (s,), d) for s in SHAPES for d in (F32, F64)]
    + [(lambda a: 3 * a, ((2, 3),), F32), (lambda a: a * -1e-30, ((4,),), F32)],
    "mul_scalar": [(lambda a: mul_scalar(a, 0.1), (s,), d) for s in SHAPES for d in (F32, F64)],
    "mixed dtypes": [(lambda a, b: a * b.double(), ((3,), (3,)), F32),
                     (lambda a, b: a.double() * b, ((), (2, 2)), F32)],
    "pow": [(lambda a, e=e: a ** e, ((3, 4),), d)
            for e in (2, 3, 1, 0, -1, 0.5, 2.5, -1.5) for d in (F32, F64)]
    + [(lambda a: a ** 2, ((),), F32)],
    "unary": [(f, (s,), d) for f in (lambda a: a.tanh(), lambda a: a.sigmoid(),
                                     lambda a: a.relu(), lambda a: a.exp())
              for s in SHAPES for d in (F32, F64)],
    "reductions": [(f, (s,), d) for f in (lambda a: a.sum(), lambda a: a.mean())
                   for s in SHAPES for d in (F32, F64)],
    "mm": [(lambda a, b: a @ b, ((3, 4), (4, 2)), d) for d in (F32, F64)]
    + [(lambda a, b: a.t() @ b, ((4, 3), (4, 2)), F32)],
}


def both_forms(node, grad):
    with gradlab.enable_grad():  # a graph is recorded: the gradlab-op formulas run
        by_ops = node.apply([grad])
    with gradlab.no_grad():
        by_arrays = node.apply([grad])
    return by_ops, by_arrays


@pytest.mark.parametrize("group", CASES)
def test_numpy_forms_equal_the_op_forms(group):
    checked = 0
    for make, shapes, dtype in CASES[group]:
        inputs = [tensor(s, dtype, positive=group == "pow") for s in shapes]
        out = make(*inputs)
        node = out.grad_fn
        assert node._array_formulas is not None, node.name()
        for grad in (gradlab.from_numpy(np.asarray(rng.standard_normal(out.shape), dtype)),
                     scalar(0.75, dtype) if out.dim() == 0 else None):
            if grad is None:
                continue
            by_ops, by_arrays = both_forms(node, grad)
            for g_ops, g_arrays in zip(by_ops, by_arrays):
                if g_ops is None:  # an input that needs no gradient
                    assert g_arrays is None
                    continue
                assert g_arrays.grad_fn is None
                assert g_ops.dtype is g_arrays.dtype
                assert g_ops.shape == g_arrays.shape
                np.testing.assert_array_equal(g_ops.detach().numpy(), g_arrays.numpy(),
                                              strict=True)
                checked += 1
    assert checked >= len(CASES[group])


def test_mixed_dtypes_fall_back_to_the_op_form():
    a, b = tensor((3,), F32), tensor((3,), F64)
    times = (a * b).grad_fn._array_formulas[0]
    assert times(np.ones(3, F32), b._array) is None
    assert times(np.ones(3, F64), b._array).dtype == F64


def test_numpy_forms_check_saved_tensors_like_the_op_forms():
    a = tensor((3,))
    y = a.tanh()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.sum().backward()
    b = tensor((3,))
    y = b * b.detach()
    b.detach().add_(1)  # b's version: the saved b is stale
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_numpy_forms_warn_of_nothing():
    a = gradlab.tensor([1.0, 2.0], requires_grad=True)
    with np.errstate(all="raise"):  # PyTorch overflows to inf silently
        (a * 1e30).backward(gradlab.tensor([1e30, 1.0]))
    assert a.grad.tolist() == [float("inf"), float(np.float32(1e30))]


def test_a_formula_table_entry_may_carry_a_numpy_form():
    assert _core.GRAD_FNS["MmBackward0"]._array_formulas is not None
    assert _core.GRAD_FNS["AddBackward0"]._array_formulas is None


def _fused(y):
    into = np.empty_like(y)
    _one_minus_square_fused(y, into, np.empty(y.size))
    return into


def _ulps(a, b):
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def test_tanh_grad_rounds_one_minus_square_once():
    """_tanh_grad takes fma(-y, y, 1) to be 1 - y·y in float64 rounded to float32. y·y is exact
    in float64, and so is 1 - y·y for 2**-3 <= |y| < 2**26; below 2**-13, 1 - y·y lies within
    2**-26 of 1, where no float32 midpoint is. Rounding twice can differ from rounding once only
    where the float64 value is a float32 midpoint: every such y of the other binades is checked
    against the exactly rounded fma (above 2**64, both overflow to -inf)."""
    midpoints = 0
    for e in (*range(-13, -3), *range(26, 64)):
        first = np.float32(2.0 ** e).view(np.uint32)
        y = np.arange(first, first + 2 ** 23, dtype=np.uint32).view(np.float32)
        bits = (1.0 - np.multiply(y, y, dtype=np.float64)).view(np.int64)
        y = y[bits & 0x1FFFFFFF == 0x10000000]
        midpoints += y.size
        np.testing.assert_array_equal(_fused(y), _fma32(-y, y, 1.0), strict=True)
        for g in (np.float32(1), np.float32(-0.75)):
            small = y[:EXACT_MAX]
            np.testing.assert_array_equal(_tanh_grad(g, small), g * _fma32(-small, small, 1.0),
                                          strict=True)
    assert midpoints > 30_000  # (none is below 2**-3)
    y = np.asarray(rng.standard_normal(10 ** 5) * 10.0 ** rng.integers(-8, 8, 10 ** 5), F32)
    np.testing.assert_array_equal(_fused(y), _fma32(-y, y, 1.0), strict=True)


def test_large_tanh_grads_are_at_most_one_ulp_from_the_fma():
    """Above EXACT_MAX elements, float32 takes (1 - y)(1 + y): within one ulp of fma(-y, y, 1)
    for every y in [-1, 1] (tanh's outputs; the sign only swaps the factors), and for a sample
    of all the other floats; 1 - y·y in float32 would be 1024 ulps off near |y| = 1."""
    top = int(np.float32(1).view(np.int32))
    for start in range(0, top + 1, 1 << 24):
        y = np.arange(start, min(start + (1 << 24), top + 1), dtype=np.int32).view(np.float32)
        into = np.empty_like(y)
        _one_minus_square_split(y, into, np.empty_like(y))
        assert _ulps(into, _fused(y)).max() <= 1
    y = np.arange(0, 2 ** 31 - 2 ** 23, 997, dtype=np.int32).view(np.float32)  # all finite ones
    with np.errstate(over="ignore"):
        into = np.empty_like(y)
        _one_minus_square_split(y, into, np.empty_like(y))
        assert _ulps(into, _fused(y)).max() <= 1
    y = np.float32(1) - np.float32(2.0 ** -23) * np.arange(1, EXACT_MAX + 2, dtype=F32)
    assert _ulps(np.float32(1) - y * y, _fused(y)).max() == 1024  # why not the naive form
    g = np.asarray(rng.standard_normal(y.size), F32)
    assert _ulps(_tanh_grad(g, y), g * _fused(y)).max() <= 2  # large: the split form, times g
    assert _ulps(_tanh_grad(g[:EXACT_MAX], y[:EXACT_MAX]), g[:EXACT_MAX] * _fused(
        y[:EXACT_MAX])).max() == 0  # small: exactly the fma


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_tanh_backward_is_pytorchs_bit_for_bit(dtype):
    """Against torch.ops.aten.tanh_backward on the same grad and output (NaNs as NaNs: their sign
    bit depends on the CPU's operand order)."""
    torch = pytest.importorskip("torch")
    import helpers
    if not helpers.AVX2_KERNELS:
        pytest.skip("PyTorch's DEFAULT kernels round 1 - y·y twice")
    for n in (1, 2, 7, 8, 9, 31, 100, 1000, 10 ** 5):
        y = np.tanh(rng.standard_normal(n) * 4).astype(dtype)
        y[rng.random(n) < 0.1] = rng.choice([0.0, -0.0, 1.0, -1.0, np.nan, 2.5, -300.0])
        grad = rng.standard_normal(n).astype(dtype)
        grad[rng.random(n) < 0.05] = rng.choice([np.inf, -np.inf, np.nan, 0.0])
        want = torch.ops.aten.tanh_backward(torch.from_numpy(grad), torch.from_numpy(y)).numpy()
        got = tanh_backward(gradlab.from_numpy(grad), gradlab.from_numpy(y)).numpy()
        assert got.dtype == want.dtype
        nan = np.isnan(want)
        np.testing.assert_array_equal(np.isnan(got), nan)
        if dtype == "float32" and n > EXACT_MAX:  # (1 - y)(1 + y), times grad: see above
            assert _ulps(got[~nan], want[~nan]).max() <= 2
            continue
        np.testing.assert_array_equal(got[~nan].view(np.uint8), want[~nan].view(np.uint8))


INTO_GRAD = {"tanh": lambda a: a.tanh(), "exp": lambda a: a.exp(), "relu": lambda a: a.relu(),
             "mul by a number": lambda a: a * 2.5}


@pytest.mark.parametrize("op", INTO_GRAD)
@pytest.mark.parametrize("n", [1, 7, 2 * _BLOCK + 3])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_numpy_forms_write_into_the_gradient_the_same_bits(op, n, dtype):
    """Given ``out`` (the gradient's array, which only the engine holds), a one-input formula's
    NumPy form writes its result there, bit for bit what it returns without."""
    node = INTO_GRAD[op](tensor((n,), dtype)).grad_fn
    assert node._into_grad[0]
    form, saves = node._array_formulas[0], node._n_saves
    saved = [_core._saved_value(node, node._store, j, True) if j < saves
             else node._attrs[j - saves] for j in node._formulas[0][1]]
    g = np.asarray(rng.standard_normal(n), dtype)
    want = form(g, *saved)
    into = g.copy()
    got = form(into, *saved, out=into)
    assert got is into
    np.testing.assert_array_equal(got, want, strict=True)


def test_backward_writes_only_into_gradients_nobody_else_holds():
    """Gradients a hook kept, an event carries or two edges share keep their values."""
    torch = pytest.importorskip("torch")
    a = np.asarray(np.random.default_rng(3).standard_normal(1000), F32)
    kept = {}

    def program(lib, keep):
        x = lib.from_numpy(a.copy()).requires_grad_()
        e = x.exp()
        t = e.tanh()
        r = (t + t).relu() * 2.5
        if keep:
            for name, v in (("e", e), ("t", t), ("r", r)):
                v.register_hook(lambda g, name=name: kept.update({name: (g, g.clone())}))
        (r * x).sum().backward()
        return x.grad.numpy()

    want = program(torch, False)
    np.testing.assert_allclose(program(gradlab, False), want, rtol=1e-5)
    np.testing.assert_allclose(program(gradlab, True), want, rtol=1e-5)

    def captured(lib):  # autograd.grad keeps e's gradient, and e's node runs on to x
        x = lib.from_numpy(a.copy()).requires_grad_()
        e = x.exp()
        r = e.tanh().relu() * 2.5
        return [g.detach().numpy() for g in lib.autograd.grad((r * x).sum(), [r, e, x])]

    for got, want in zip(captured(gradlab), captured(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-5)  # (float32 kernels: a few ulps)
    assert set(kept) == {"e", "t", "r"}
    for g, copy in kept.values():
        np.testing.assert_array_equal(g.numpy(), copy.numpy())

    x = gradlab.from_numpy(a.copy()).requires_grad_()
    y = x.exp().tanh().relu()
    seen = [(event, [g.clone() for g in event.grad_outputs if g is not None])
            for event in backward_events([(y.sum().grad_fn, 0)], [gradlab.ones(())])
            if type(event).__name__ == "NodeEntered"]
    assert len(seen) == 5
    for event, copies in seen:
        for g, copy in zip([g for g in event.grad_outputs if g is not None], copies):
            np.testing.assert_array_equal(g.numpy(), copy.numpy())


def test_a_large_backward_writes_into_its_gradients():
    """exp, then tanh, backward on 10**6 floats: one new array (tanh's gradient, which exp's
    backward overwrites and x.grad takes) and tanh's blocks, where each formula writing a fresh
    array makes two."""
    x = gradlab.from_numpy(np.asarray(rng.standard_normal(10 ** 6), F32)).requires_grad_()
    peak = _backward_peak(x.exp().tanh().sum())
    assert x.grad.numpy().nbytes <= peak < 1.5 * x.grad.numpy().nbytes


def _backward_peak(loss):
    """The most memory (bytes, tracemalloc) that ``loss.backward()`` held at once."""
    tracemalloc.start()
    try:
        loss.backward()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_sum_times_a_tensor_sends_the_tensor_only_where_no_one_else_sees_it():
    """sum's gradient (1 expanded) times t is t's values: the engine passes t's array on
    without a copy, but hooks, autograd.grad, events, a call by hand and x.grad get arrays of
    their own, whatever later happens to t, x or them."""
    torch = pytest.importorskip("torch")
    a = np.asarray(rng.standard_normal(1000), F32)

    def program(lib, how):
        x = lib.from_numpy(a.copy()).requires_grad_()
        t = x.exp().tanh()
        if how == "hook":  # doubles the gradient in place: x must not double
            t.register_hook(lambda g: g.mul_(2))
        if how == "grad":
            gs = lib.autograd.grad((t * x).sum(), [t, x])
            for g in gs:
                g.add_(1)
            return [g.detach().numpy().copy() for g in gs] + [x.detach().numpy().copy()]
        loss = (t * x).sum()
        loss.backward(retain_graph=True)
        if how == "twice":
            loss.backward()
        x.grad.add_(1)  # x.grad is its own: t and x keep their values
        return [x.grad.numpy().copy(), t.detach().numpy().copy(), x.detach().numpy().copy()]

    for how in ("once", "twice", "hook", "grad"):
        for got, want in zip(program(gradlab, how), program(torch, how)):
            np.testing.assert_allclose(got, want, rtol=1e-5)

    x = gradlab.from_numpy(a.copy()).requires_grad_()
    t = x.exp().tanh()
    node = (t * x).grad_fn
    with gradlab.no_grad():
        by_hand = node(gradlab.ones(()).expand(1000))
    traced = [g for event in backward_events([((t * x).sum().grad_fn, 0)], [gradlab.ones(())])
              if type(event).__name__ == "GradsComputed" for g in event.grad_inputs
              if g is not None]
    assert len(traced) >= 4
    for g in [*by_hand, *traced]:
        for v in (x, t):
            assert not np.shares_memory(g.numpy(), v.detach().numpy())


def test_a_node_called_by_hand_inside_a_backward_gets_gradients_of_its_own():
    """A hook of one backward that calls another graph's node by hand gets arrays of its own,
    not the node's saved ones: adding to them changes neither x nor t."""
    a = np.asarray(rng.standard_normal(1000), F32)
    x = gradlab.from_numpy(a.copy()).requires_grad_()
    t = x.exp().tanh()
    node = (t * x).grad_fn
    before = x.detach().numpy().copy(), t.detach().numpy().copy()
    got = []

    def hook(g):
        with gradlab.no_grad():
            got.extend(node(gradlab.ones(()).expand(1000)))

    w = x * 2
    w.register_hook(hook)
    w.sum().backward()
    assert len(got) == 2
    for g in got:
        assert not np.shares_memory(g.numpy(), x.detach().numpy())
        assert not np.shares_memory(g.numpy(), t.detach().numpy())
        g.add_(1)
    np.testing.assert_array_equal(x.detach().numpy(), before[0])
    np.testing.assert_array_equal(t.detach().numpy(), before[1])


def test_a_sum_of_exp_backward_makes_no_new_array():
    """x.exp().sum(): exp's gradient is its saved result times an expanded 1, which x.grad takes
    as it is (the result was the graph's alone)."""
    x = gradlab.from_numpy(np.asarray(rng.standard_normal(10 ** 6), F32)).requires_grad_()
    peak = _backward_peak(x.exp().sum())
    assert peak < x.grad.numpy().nbytes / 10
    np.testing.assert_array_equal(x.grad.numpy(), np.exp(x.detach().numpy()))
