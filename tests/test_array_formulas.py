"""A formula's NumPy form (run when backward records no graph) equals its gradlab-op form bit for
bit, in dtype and shape, on every case it accepts (it returns None for the others)."""
import numpy as np
import pytest

import gradlab
from gradlab.ops import _core
from gradlab.ops.elementwise import mul_scalar
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
                                     lambda a: a.relu()) for s in SHAPES for d in (F32, F64)],
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
