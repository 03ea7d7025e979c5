"""lerp, addcmul and addcdiv, rounded as PyTorch's CPU kernels: the optimizers' arithmetic.

lerp and addcmul end in one fused multiply-add (lerp's ``start + w · (end - start)``, addcmul's
``self + (value · t1) · t2``); addcdiv rounds each step, ``self + (value · t1) / t2``.
"""
import numpy as np

from .. import _dtype
from .._random import _fma32, _fma64
from ..tensor import Tensor
from ._core import EXACT_MAX, array_of, derivative, method, quietly, record
from .elementwise import mul_scalar, rdiv_number, rsub_number
from .inplace import inplace

LerpBackward0 = derivative(
    "LerpBackward0", ("self", "end"), broadcasts=True, attrs=("weight",),
    self=("grad · (1 - weight)", lambda grad, weight: mul_scalar(grad, 1 - weight)),
    end=("grad · weight", lambda grad, weight: mul_scalar(grad, weight)),
    result="element_wise")
LerpBackward1 = derivative(
    "LerpBackward1", ("self", "end", "weight"), broadcasts=True, saves=("end", "self", "weight"),
    self=("grad · (1 - weight)", lambda grad, weight: grad * rsub_number(1, weight)),
    end=("grad · weight", lambda grad, weight: grad * weight),
    weight=("grad · (end - self)", lambda grad, end, self: grad * (end - self)),
    result="element_wise")
AddcmulBackward0 = derivative(
    "AddcmulBackward0", ("self", "tensor1", "tensor2"), broadcasts=True,
    saves=("tensor1", "tensor2"), attrs=("value",),
    self=("grad", lambda grad: grad),
    tensor1=("grad · tensor2 · value",
             lambda grad, tensor2, value: grad * mul_scalar(tensor2, value)),
    tensor2=("grad · tensor1 · value",
             lambda grad, tensor1, value: grad * mul_scalar(tensor1, value)),
    result="element_wise")
AddcdivBackward0 = derivative(
    "AddcdivBackward0", ("self", "tensor1", "tensor2"), broadcasts=True,
    saves=("tensor1", "tensor2"), attrs=("value",),
    self=("grad", lambda grad: grad),
    tensor1=("grad · value / tensor2",
             lambda grad, tensor2, value: grad * rdiv_number(value, tensor2)),
    tensor2=("-grad · value · tensor1 / tensor2²", lambda grad, tensor1, tensor2, value:
             -grad * (mul_scalar(tensor1, value) / (tensor2 * tensor2))),
    result="element_wise")


def fma(a, b, c, dt):
    """a · b + c rounded once in ``dt`` (float16 in float32, as PyTorch's opmath); large arrays
    round twice, at most one ulp off, as ``elementwise.fused_add``."""
    if max(np.size(a), np.size(b), np.size(c)) > EXACT_MAX:
        return quietly(lambda: np.asarray(a * b + c, dt.np))
    return (_fma64 if dt is _dtype.float64 else _fma32)(a, b, c)


def _common(*tensors):
    """The tensors' NumPy values in their promoted dtype (lerp wants one dtype throughout)."""
    dt = _dtype.result_type([t.dtype for t in tensors if t.ndim],
                            [t.dtype for t in tensors if not t.ndim], [])
    return [array_of(t, dt) for t in tensors], dt


def _weight_check(self, other, what):
    if other.dtype is not self.dtype and (what != "weight" or other.ndim):
        raise RuntimeError(f"expected dtype {_scalar_name(self)} for `{what}` but got dtype "
                           f"{_scalar_name(other)}")


def _scalar_name(t):
    return t.dtype._legacy[:-len("Tensor")].lower()


@method()
def lerp(self, end, weight):
    """start + weight · (end - start); for weights of 0.5 and more, end - (1 - w) · (end - start)
    (PyTorch's two forms, each one fused multiply-add)."""
    _weight_check(self, end, "end")
    if not self.dtype.is_floating_point:
        kind = "tensor" if isinstance(weight, Tensor) else "scalar"
        raise NotImplementedError(f'"lerp_kernel_{kind}" not implemented for '
                                  f"'{self.dtype._legacy[:-len('Tensor')]}'")
    dt = self.dtype
    start, stop = self._array, end._array
    if isinstance(weight, Tensor):
        _weight_check(self, weight, "weight")
        w = array_of(weight, dt)
    else:
        w = dt.np.type(weight) if dt is _dtype.float64 else np.float32(weight)
    diff = quietly(np.subtract, stop, start)
    small = np.abs(w) < 0.5
    out = np.where(small, fma(w, diff, start, dt), fma(w - 1, diff, stop, dt))
    out = Tensor._make(np.asarray(out, dt.np), dt)
    if isinstance(weight, Tensor):
        return record(LerpBackward1, out, (self, end, weight), (end, self, weight))
    return record(LerpBackward0, out, (self, end), attrs=(weight,))


@method()
def addcmul(self, tensor1, tensor2, *, value=1):
    """self + value · tensor1 · tensor2, the last step a fused multiply-add."""
    (x, a, b), dt = _common(self, tensor1, tensor2)
    if dt.is_floating_point:
        out = fma(np.asarray(a * dt.np.type(value), dt.np) if value != 1 else a, b, x, dt)
    else:
        out = x + dt.np.type(int(value)) * a * b
    return record(AddcmulBackward0, Tensor._make(np.asarray(out, dt.np), dt),
                  (self, tensor1, tensor2), (tensor1, tensor2), (value,))


@method()
def addcdiv(self, tensor1, tensor2, *, value=1):
    """self + value · tensor1 / tensor2, each step rounded."""
    (x, a, b), dt = _common(self, tensor1, tensor2)
    if not (tensor1.dtype.is_floating_point or tensor2.dtype.is_floating_point):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    out = quietly(lambda: x + (a * dt.np.type(value) if value != 1 else a) / b)
    return record(AddcdivBackward0, Tensor._make(np.asarray(out, dt.np), dt),
                  (self, tensor1, tensor2), (tensor1, tensor2), (value,))


@method()
def lerp_(self, end, weight):
    return inplace(self, lambda t: lerp(t, end, weight))


@method()
def addcmul_(self, tensor1, tensor2, *, value=1):
    return inplace(self, lambda t: addcmul(t, tensor1, tensor2, value=value))


@method()
def addcdiv_(self, tensor1, tensor2, *, value=1):
    return inplace(self, lambda t: addcdiv(t, tensor1, tensor2, value=value))
