"""Elementwise ops: arithmetic with broadcasting and type promotion, unary math, comparisons."""
import operator
import sys

import numpy as np

from .. import _batching, _dtype
from .._random import _fma32, _fma64
from ..autograd.grad_mode import _local, no_grad
from ..tensor import Tensor
from ._core import (_FP_IGNORE, EXACT_MAX, RESULT, _fp_errors, array_of, broadcast_error,
                    check_number, cr_cos, cr_exp, cr_log, cr_log1p, cr_power, cr_sin, cr_tanh,
                    derivative, method, promote, quietly, record, shape_of)

# ---- grad_fn table ----------------------------------------------------------------------------

AddBackward0 = derivative(
    "AddBackward0", ("self", "other"), broadcasts=True, attrs=("alpha",),
    self=("grad", lambda grad: grad),
    other=("grad · alpha", lambda grad, alpha: grad if alpha == 1 else mul_scalar(grad, alpha)),
    result="element_wise")
SubBackward0 = derivative(
    "SubBackward0", ("self", "other"), broadcasts=True, attrs=("alpha",),
    self=("grad", lambda grad: grad),
    other=("-grad · alpha", lambda grad, alpha: -grad if alpha == 1 else mul_scalar(-grad, alpha)),
    result="element_wise")
AddBackward1 = derivative("AddBackward1", ("self",), self=("grad", lambda grad: grad),
    result=("self_t", lambda self_t: self_t.clone()))
SubBackward1 = derivative("SubBackward1", ("self",), self=("grad", lambda grad: grad),
    result=("self_t", lambda self_t: self_t.clone()))
RsubBackward0 = derivative(
    "RsubBackward0", ("self", "other"), broadcasts=True, attrs=("alpha",),
    self=("-grad · alpha", lambda grad, alpha: -grad if alpha == 1 else mul_scalar(-grad, alpha)),
    other=("grad", lambda grad: grad),
    result="element_wise")
RsubBackward1 = derivative(
    "RsubBackward1", ("self",), attrs=("alpha",),
    self=("-grad · alpha", lambda grad, alpha: -grad if alpha == 1 else mul_scalar(-grad, alpha)),
    result="element_wise")
MulBackward1 = derivative(
    "MulBackward1", ("self",), attrs=("other",),
    self=("grad · other", lambda grad, other: mul_scalar(grad, other),
          lambda g, other, *, out=None: _times(g, other, out=out)),
    result="element_wise")
MulBackward0 = derivative(
    "MulBackward0", ("self", "other"), broadcasts=True, saves=("self", "other"),
    self=("grad · other", lambda grad, other: grad * other,
          lambda g, other, *, out=None: _times(g, other, out=out)),
    other=("grad · self", lambda grad, self: grad * self,
           lambda g, self, *, out=None: _times(g, self, out=out)),
    result="element_wise")
DivBackward1 = derivative(
    "DivBackward1", ("self",), attrs=("other",),
    self=("grad / other", lambda grad, other: div_scalar(grad, other)),
    result="element_wise")
DivBackward0 = derivative(
    "DivBackward0", ("self", "other"), broadcasts=True, saves=("self", "other"),
    self=("grad / other", lambda grad, other: grad / other),
    other=("-grad · self / other²", lambda grad, self, other: -grad * ((self / other) / other)),
    result="element_wise")
DivBackward2 = derivative(
    "DivBackward2", ("self", "other"), saves=("self", "other"), attrs=("rounding_mode",),
    self=("0 (a rounded quotient is piecewise constant)",
          lambda grad, other, rounding_mode: zeros_like(grad)),
    other=("0 (a rounded quotient is piecewise constant)",
           lambda grad, self, other, rounding_mode: zeros_like(grad)),
    result="element_wise")
RemainderBackward0 = derivative("RemainderBackward0", ("self",), self=("grad", lambda grad: grad),
    result=("self_t", lambda self_t: self_t.clone()))
RemainderBackward1 = derivative(
    "RemainderBackward1", ("self", "other"), saves=("self", "other"),
    self=("grad", lambda grad: grad),
    other=("-grad · floor(self / other)",
           lambda grad, self, other: -grad * self.div(other, rounding_mode="floor")),
    result="element_wise")
FmodBackward0 = derivative("FmodBackward0", ("self",), self=("grad", lambda grad: grad),
    result=("self_t", lambda self_t: self_t.clone()))
FmodBackward1 = derivative(
    "FmodBackward1", ("self", "other"), saves=("self", "other"),
    self=("grad", lambda grad: grad),
    other=("-grad · trunc(self / other)",
           lambda grad, self, other: -grad * self.div(other, rounding_mode="trunc")),
    result="element_wise")


def _no_derivative(grad, op):
    raise RuntimeError(f"derivative for aten::{op} is not implemented")


# PyTorch's NotImplemented node: an op with no derivative keeps the graph, and backward through
# it fails (floor_divide; a number's remainder by a tensor)
def _no_forward(op):
    raise NotImplementedError(f"Trying to use forward AD with aten::{op} that does not support it.")


NotImplementedUnary = derivative("NotImplemented", ("self",), hidden=("op",),
                                 self=("not implemented", _no_derivative),
                                 result=("not implemented", lambda op: _no_forward(op)))
NotImplementedBinary = derivative("NotImplemented", ("self", "other"), hidden=("op",),
                                  self=("not implemented", _no_derivative),
                                  other=("not implemented", _no_derivative),
                                  result=("not implemented", lambda op: _no_forward(op)))
for _cls in (NotImplementedUnary, NotImplementedBinary):
    _cls.name = lambda node: "torch::autograd::NotImplemented"
PowBackward0 = derivative(
    "PowBackward0", ("self",), saves=("self",), attrs=("exponent",),
    self=("grad · exponent · self^(exponent-1)",
          lambda grad, self, exponent: zeros_like(self) if exponent == 0
          else grad * mul_scalar(self.pow(float(exponent) - 1), float(exponent)),
          lambda g, self, exponent: _pow_grad(g, self, exponent)),
    result="element_wise")
PowBackward1 = derivative(
    "PowBackward1", ("self", "exponent"), broadcasts=True, saves=("self", "exponent", "result"),
    self=("grad · exponent · self^(exponent-1)",
          lambda grad, self, exponent: where(
              exponent == 0, 0.0, grad * (exponent * self.pow(sub_scalar(exponent, 1))))),
    exponent=("grad · result · log(self)",
              lambda grad, self, exponent, result: grad * where(
                  (self == 0) & (exponent >= 0), 0.0, result * self.log())),
    result="element_wise")
PowBackward2 = derivative(
    "PowBackward2", ("exponent",), saves=("exponent", "result"), attrs=("self",),
    exponent=("grad · result · log(self)",
              lambda grad, self, exponent, result: grad * mul_scalar(result, float(np.log(self)))
              if self != 0 else grad * where(exponent >= 0, 0.0,
                                             mul_scalar(result, float(np.log(self))))),
    result="element_wise")
NegBackward0 = derivative("NegBackward0", ("self",), self=("-grad", lambda grad: -grad),
    result="element_wise")
AbsBackward0 = derivative("AbsBackward0", ("self",), saves=("self",),
                          self=("grad · sign(self)", lambda grad, self: grad * self.sgn()),
    result="element_wise")
ExpBackward0 = derivative("ExpBackward0", ("self",), saves=("result",),
                          self=("grad · result", lambda grad, result: grad * result,
                                lambda g, result, *, out=None: _times(g, result, out=out)),
    result="element_wise")
LogBackward0 = derivative("LogBackward0", ("self",), saves=("self",),
                          self=("grad / self", lambda grad, self: grad.div(self)),
    result="element_wise")
Log1PBackward0 = derivative("Log1PBackward0", ("self",), saves=("self",),
                            self=("grad / (self + 1)", lambda grad, self: grad / add_scalar(self, 1)),
    result="element_wise")
SqrtBackward0 = derivative("SqrtBackward0", ("self",), saves=("result",),
                           self=("grad / (2 · result)",
                                 lambda grad, result: grad / mul_scalar(result, 2)),
    result="element_wise")
SinBackward0 = derivative("SinBackward0", ("self",), saves=("self",),
                          self=("grad · cos(self)", lambda grad, self: grad * self.cos()),
    result="element_wise")
CosBackward0 = derivative("CosBackward0", ("self",), saves=("self",),
                          self=("-grad · sin(self)", lambda grad, self: grad * -self.sin()),
    result="element_wise")
TanhBackward0 = derivative(
    "TanhBackward0", ("self",), saves=("result",),
    self=("grad · (1 - result²)", lambda grad, result: tanh_backward(grad, result),
          lambda g, result, *, out=None: _tanh_grad(g, result, out=out)),
    result="element_wise")
SigmoidBackward0 = derivative(
    "SigmoidBackward0", ("self",), saves=("result",),
    self=("grad · result · (1 - result)", lambda grad, result: sigmoid_backward(grad, result),
          lambda g, result: _sigmoid_grad(g, result)),
    result="element_wise")
ReluBackward0 = derivative(
    "ReluBackward0", ("self",), saves=("result",),
    self=("grad · (result > 0)", lambda grad, result: threshold_backward(grad, result, 0),
          lambda g, result, *, out=None: _threshold_grad(g, result, 0, out=out)),
    result="element_wise")
# the backward functions above are ops themselves, so that create_graph records them
TanhBackwardBackward0 = derivative(
    "TanhBackwardBackward0", ("grad_output", "output"), saves=("grad_output", "output"),
    grad_output=("grad · (1 - output²)", lambda grad, output: tanh_backward(grad, output)),
    output=("-2 · grad · output · grad_output",
            lambda grad, grad_output, output: grad * (mul_scalar(output, -2) * grad_output)),
    result="element_wise")
SigmoidBackwardBackward0 = derivative(
    "SigmoidBackwardBackward0", ("grad_output", "output"), saves=("grad_output", "output"),
    grad_output=("grad · output · (1 - output)",
                 lambda grad, output: sigmoid_backward(grad, output)),
    output=("grad · grad_output · (1 - 2 · output)",
            lambda grad, grad_output, output: grad * grad_output * add_scalar(
                mul_scalar(output, -2), 1)),
    result="element_wise")
ThresholdBackwardBackward0 = derivative(
    "ThresholdBackwardBackward0", ("grad_output", "self"), saves=("self",), attrs=("threshold",),
    grad_output=("grad · (self > threshold)",
                 lambda grad, self, threshold: threshold_backward(grad, self, threshold)),
    self=("0", lambda grad, self: zeros_like(grad)),
    result="element_wise")
ReciprocalBackward0 = derivative(
    "ReciprocalBackward0", ("self",), saves=("result",),
    self=("-grad · result²", lambda grad, result: -grad * (result * result)),
    result="element_wise")
ClampBackward1 = derivative(
    "ClampBackward1", ("self",), saves=("self",), attrs=("min", "max"),
    self=("grad · (min ≤ self ≤ max)", lambda grad, self, min, max: where(
        _between(self, min, max), grad, 0.0)),
    result="element_wise")
ClampBackward0 = derivative(
    "ClampBackward0", ("self", "min", "max"), broadcasts=True, saves=("self", "min", "max"),
    self=("grad · (min ≤ self ≤ max)",
          lambda grad, self, min, max: where(_between(self, min, max), grad, 0.0)),
    min=("grad · (self < min)", lambda grad, self, min: where(self < min, grad, 0.0)),
    max=("grad · (self > max)", lambda grad, self, max: where(self > max, grad, 0.0)),
    result="element_wise")
ClampMinBackward0 = derivative(
    "ClampMinBackward0", ("self",), saves=("self",), attrs=("min",),
    self=("grad · (self ≥ min)", lambda grad, self, min: where(self >= min, grad, 0.0)),
    result="element_wise")
ClampMaxBackward0 = derivative(
    "ClampMaxBackward0", ("self",), saves=("self",), attrs=("max",),
    self=("grad · (self ≤ max)", lambda grad, self, max: where(self <= max, grad, 0.0)),
    result="element_wise")
ClampMinBackward1 = derivative(
    "ClampMinBackward1", ("self", "min"), broadcasts=True, saves=("self", "min"),
    self=("grad · (self ≥ min)", lambda grad, self, min: where(self >= min, grad, 0.0)),
    min=("grad · (self < min)", lambda grad, self, min: where(self < min, grad, 0.0)),
    result="element_wise")
ClampMaxBackward1 = derivative(
    "ClampMaxBackward1", ("self", "max"), broadcasts=True, saves=("self", "max"),
    self=("grad · (self ≤ max)", lambda grad, self, max: where(self <= max, grad, 0.0)),
    max=("grad · (self > max)", lambda grad, self, max: where(self > max, grad, 0.0)),
    result="element_wise")
MaximumBackward0 = derivative(
    "MaximumBackward0", ("self", "other"), broadcasts=True, saves=("self", "other"),
    self=("grad · (self > other), halved on ties", lambda grad, self, other: where(
        self == other, div_scalar(grad, 2), grad).masked_fill(self < other, 0)),
    other=("grad · (other > self), halved on ties", lambda grad, self, other: where(
        self == other, div_scalar(grad, 2), grad).masked_fill(self > other, 0)),
    result="element_wise")
MinimumBackward0 = derivative(
    "MinimumBackward0", ("self", "other"), broadcasts=True, saves=("self", "other"),
    self=("grad · (self < other), halved on ties", lambda grad, self, other: where(
        self == other, div_scalar(grad, 2), grad).masked_fill(self > other, 0)),
    other=("grad · (other < self), halved on ties", lambda grad, self, other: where(
        self == other, div_scalar(grad, 2), grad).masked_fill(self < other, 0)),
    result="element_wise")
NanToNumBackward0 = derivative(
    "NanToNumBackward0", ("self",), saves=("self",),
    self=("grad where self is finite", lambda grad, self: grad * isfinite(self)),
    result="element_wise")
WhereBackward0 = derivative(
    "WhereBackward0", ("self", "other"), broadcasts=True, saves=("condition",),
    self=("grad where condition", lambda grad, condition: where(condition, grad, 0.0)),
    other=("grad where not condition", lambda grad, condition: where(condition, 0.0, grad)),
    result="element_wise")
MaskedFillBackward0 = derivative(
    "MaskedFillBackward0", ("self",), saves=("mask",),
    self=("grad where not mask", lambda grad, mask: grad.masked_fill(mask, 0)),
    result="element_wise")
MaskedFillBackward1 = derivative(
    "MaskedFillBackward1", ("self", "value"), saves=("mask",),
    self=("grad where not mask", lambda grad, mask: grad.masked_fill(mask, 0)),
    value=("Σ grad where mask", lambda grad, mask: grad.masked_select(mask).sum()),
    result=("self_t.masked_fill(mask, value_t)",
            lambda self_t, value_t, mask: self_t.masked_fill(mask, value_t)))
LogitBackward0 = derivative(
    "LogitBackward0", ("self",), saves=("self",), attrs=("eps",),
    self=("grad / (self · (1 - self))", lambda grad, self, eps: _logit_backward(grad, self, eps)),
    result="element_wise")
CloneBackward0 = derivative("CloneBackward0", ("self",), self=("grad", lambda grad: grad),
    result=("self_t", lambda self_t: self_t.clone()))
ToCopyBackward0 = derivative("ToCopyBackward0", ("self",), self=("grad", lambda grad: grad),
    result=("self_t in result's dtype", lambda self_t, result: self_t.to(result.dtype)))
CopyBackwards = derivative(
    "CopyBackwards", ("self", "src"),
    self=("0", lambda grad: zeros_like(grad)), src=("grad", lambda grad: grad),
    result="element_wise")
CopyBackwards.name = lambda self: "torch::autograd::CopyBackwards"  # hand-written in PyTorch
SgnBackward0 = derivative("SgnBackward0", ("self",), saves=("self", "result"),
                          self=("0", lambda grad, self, result: zeros_like(grad)),
    result="element_wise")
SignBackward0 = derivative("SignBackward0", ("self",), self=("0", lambda grad: zeros_like(grad)),
    result="element_wise")


def _between(self, lo, hi):
    ok = None
    if lo is not None:
        ok = self >= lo
    if hi is not None:
        ok = (self <= hi) if ok is None else ok & (self <= hi)
    return ok if ok is not None else ones_like(self, dtype=_dtype.bool_)


# ---- helpers ----------------------------------------------------------------------------------

def _operands(a, b, name):
    """The NumPy operands of ``a op b`` in the result dtype, and that dtype."""
    tb = type(b)
    if tb is float or tb is int:
        dt = a.dtype
        if dt.is_floating_point or tb is int and dt._category:
            return _value(a), b, dt
        dt = promote(a, b)
        return array_of(a, dt), b, dt
    if tb is Tensor or isinstance(b, Tensor):
        if not isinstance(a, Tensor):
            check_number(a, name)
        elif a.dtype is b.dtype:
            return _value(a), _value(b), a.dtype
    else:
        check_number(b, name)
        if isinstance(b, np.generic):
            b = b.item()
        if type(b) is float or type(b) is int:
            return _operands(a, b, name)
        dt = promote(a, b)
        return array_of(a, dt), b, dt
    dt = promote(a, b)
    return array_of(a, dt), array_of(b, dt), dt


def _value(t):
    """``t``'s array; a 0-dim one that nothing else holds becomes the NumPy scalar it stands for
    (as 0-dim results are: NumPy computes with scalars ten times faster than with arrays)."""
    a = t._array
    if type(a) is np.ndarray and not a.shape and a.base is None and sys.getrefcount(a) <= 3:
        a = t._array = a[()]
    return a


def _binary(fn, a, b, name):
    """fn(a, b) on NumPy values; ``operator`` functions are fastest on NumPy scalars."""
    x, y, dt = _operands(a, b, name)
    token = _fp_errors.set(_FP_IGNORE)  # quietly(), inlined: inf and nan without NumPy's warning
    try:
        out = fn(x, y)
    except ValueError:
        raise broadcast_error(shape_of(a), shape_of(b)) from None
    finally:
        _fp_errors.reset(token)
    if out.dtype != dt.np:
        out = out.astype(dt.np)
    return Tensor._make(out, dt)


def _unary(fn, self, cls, saved=()):
    """A float unary op: integer inputs are computed in the default float dtype, as in PyTorch."""
    a = self._array
    dt = self.dtype
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
        a = a.astype(dt.np)
    return record(cls, Tensor._make(quietly(fn, a), dt), (self,), saved)


def _as_tensor(x, like):
    if isinstance(x, Tensor):
        return x
    return Tensor._make(np.array(x, dtype=promote(like, x).np), promote(like, x))


# ---- arithmetic -------------------------------------------------------------------------------

@method("add", "__add__", "__radd__")
def add(self, other, *, alpha=1):
    out = _binary(operator.add, self, other, "add") if alpha == 1 else \
        _scaled(self, other, alpha, "add")
    if not isinstance(self, Tensor):
        self, other = other, self
    return record(AddBackward0, out, (self, other), attrs=_alpha(alpha))


@method("sub", "__sub__", "subtract")
def sub(self, other, *, alpha=1):
    if self.dtype is _dtype.bool_ and getattr(other, "dtype", None) is _dtype.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    out = _binary(operator.sub, self, other, "sub") if alpha == 1 else \
        _scaled(self, other, -alpha, "sub")
    return record(SubBackward0, out, (self, other), attrs=_alpha(alpha))


ALPHA_1 = (1,)


def _alpha(alpha):
    """An add/sub node's attrs: the common ``alpha=1`` shared, not a tuple per node."""
    return ALPHA_1 if type(alpha) is int and alpha == 1 else (alpha,)


def _scaled(a, b, alpha, name):
    """a + alpha · b as a tensor outside the graph (alpha belongs to the add/sub node)."""
    x, y, dt = _operands(a, b, name)
    try:
        out = fused_add(x, y, alpha, dt)
    except ValueError:
        raise broadcast_error(shape_of(a), shape_of(b)) from None
    return Tensor._make(out if out.dtype == dt.np else out.astype(dt.np), dt)


def fused_add(x, y, alpha, dt):
    """x + alpha · y on NumPy values of dtype ``dt``, rounded once: PyTorch's add kernel is a
    fused multiply-add (optimizers' ``param.add_(grad, alpha=-lr)`` depend on it). Emulating the
    single rounding costs ~8 passes over the data, so large tensors (training, not what lessons
    print; see ``EXACT_MAX``) round twice, at most one ulp from PyTorch."""
    if np.size(x) > EXACT_MAX or np.size(y) > EXACT_MAX:
        return quietly(np.add, x, alpha * np.asarray(y, dt.np), dtype=dt.np)
    if dt is _dtype.float64:
        return _fma64(y, alpha, x)
    if dt.is_floating_point:  # float16 is computed in float32, as PyTorch's opmath
        return _fma32(y, alpha, x)
    return np.asarray(x + alpha * y)


subtract = sub


@method("__rsub__")
def rsub(self, other, *, alpha=1):
    """other - alpha * self (Python's ``number - tensor``)."""
    if isinstance(other, Tensor):
        out = _binary(operator.sub, other, self, "rsub") if alpha == 1 else \
            _scaled(other, self, -alpha, "rsub")
        return record(RsubBackward0, out, (self, other), attrs=_alpha(alpha))
    out = _binary(lambda x, y: y - x, self, other, "rsub")
    return record(RsubBackward1, out, (self,), attrs=_alpha(alpha))


@method("mul", "__mul__", "__rmul__", "multiply")
def mul(self, other):
    out = _binary(operator.mul, self, other, "mul")
    if not isinstance(self, Tensor):
        self, other = other, self
    return record(MulBackward0, out, (self, other), (self, other))


multiply = mul


def mul_scalar(self, other):
    """self · a Python number as ATen's mul.Scalar, which PyTorch's C++ formulas use."""
    return record(MulBackward1, _binary(operator.mul, self, other, "mul"), (self,), attrs=(other,))


def add_scalar(self, other):
    """self + a Python number as ATen's add.Scalar, which PyTorch's C++ formulas use."""
    return record(AddBackward1, _binary(operator.add, self, other, "add"), (self,))


def sub_scalar(self, other):
    """self - a Python number as ATen's sub.Scalar, which PyTorch's C++ formulas use."""
    return record(SubBackward1, _binary(operator.sub, self, other, "sub"), (self,))


def div_scalar(self, other):
    """self / a Python number as ATen's div.Scalar, which PyTorch's C++ code uses."""
    x, y, dt = _operands(self, other, "div")
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
        x = np.asarray(x, dt.np)
    out = Tensor._make(np.asarray(quietly(np.true_divide, x, y, dtype=dt.np)), dt)
    return record(DivBackward1, out, (self,), attrs=(other,))


@method("div", "__truediv__", "divide", "true_divide")
def div(self, other, *, rounding_mode=None):
    if rounding_mode is not None:
        return _div_rounding(self, other, rounding_mode)
    x, y, dt = _operands(self, other, "div")
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
        x, y = np.asarray(x, dt.np), np.asarray(y, dt.np) if isinstance(y, np.ndarray) else y
    try:
        out = quietly(np.true_divide, x, y, dtype=dt.np)
    except ValueError:
        raise broadcast_error(shape_of(self), shape_of(other)) from None
    return record(DivBackward0, Tensor._make(out, dt), (self, other), (self, other))


divide = true_divide = div


def _div_rounding(self, other, mode):
    out = _rounded_quotient(self, other, mode)
    return record(DivBackward2, out, (self, other), (self, other), (mode,))


def _rounded_quotient(self, other, mode):
    x, y, dt = _operands(self, other, "div")
    _check_int_divisor(y, dt)
    with np.errstate(all="ignore"):
        if mode == "floor":
            out = np.floor_divide(x, y) if not dt.is_floating_point else np.floor(x / y)
        elif mode == "trunc":
            out = np.trunc(np.true_divide(x, y)) if dt.is_floating_point else \
                (np.abs(x) // np.abs(y)) * np.sign(x) * np.sign(y)
        else:
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                               f"but found '{mode}'")
    return Tensor._make(np.asarray(out).astype(dt.np), dt)


@method("__rtruediv__")
def _rtruediv(self, other):
    """number / tensor is ``other * self.reciprocal()`` in PyTorch (a MulBackward0)."""
    return mul(reciprocal(self), other)


@method("floor_divide", "__floordiv__")
def floor_divide(self, other):
    out = _rounded_quotient(self, other, "floor")
    if isinstance(other, Tensor):
        return record(NotImplementedBinary, out, (self, other), attrs=("floor_divide",))
    return record(NotImplementedUnary, out, (self,), attrs=("floor_divide",))


@method("__rfloordiv__")
def _rfloordiv(self, other):
    out = _rounded_quotient(_as_tensor(other, self), self, "floor")
    return record(NotImplementedUnary, out, (self,), attrs=("floor_divide",))


def _check_int_divisor(y, dt):
    """Integer division by zero raises in PyTorch (floats give inf or nan)."""
    if not dt.is_floating_point and not np.all(y):
        raise RuntimeError("ZeroDivisionError")


def _int_mod(x, y):
    if np.result_type(x, y).kind != "f" and not np.all(y):
        raise RuntimeError("ZeroDivisionError")
    return np.mod(x, y)


@method("remainder", "__mod__")
def remainder(self, other):
    if not isinstance(self, Tensor):  # torch.remainder(number, tensor)
        return _rmod(other, self)
    out = _binary(_int_mod, self, other, "remainder")
    if isinstance(other, Tensor):
        return record(RemainderBackward1, out, (self, other), (self, other))
    return record(RemainderBackward0, out, (self,))


@method("__rmod__")
def _rmod(self, other):
    out = _binary(_int_mod, _as_tensor(other, self), self, "remainder")
    return record(NotImplementedUnary, out, (self,), attrs=("remainder",))


def _trunc_mod(x, y):
    if np.result_type(x, y).kind != "f" and not np.all(y):
        raise RuntimeError("ZeroDivisionError")
    return np.fmod(x, y)


@method("fmod")
def fmod(self, other):
    out = _binary(_trunc_mod, self, other, "fmod")
    if isinstance(other, Tensor):
        return record(FmodBackward1, out, (self, other), (self, other))
    return record(FmodBackward0, out, (self,))


@method("pow", "__pow__")
def pow(self, exponent):
    if not isinstance(self, Tensor):
        return _scalar_pow(self, exponent)
    if isinstance(exponent, Tensor):
        out = _binary(_power, self, exponent, "pow")
        return record(PowBackward1, out, (self, exponent), (self, exponent, RESULT))
    if type(exponent) is not int and type(exponent) is not float:
        check_number(exponent, "pow")
    dt = self.dtype
    if isinstance(exponent, float) and not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
    a = self._array if dt is self.dtype else self._array.astype(dt.np)
    if not dt.is_floating_point and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    out = Tensor._make(quietly(_pow_values, a, exponent), dt)
    return record(PowBackward0, out, (self,), (self,), (exponent,))


def _pow_values(a, exponent):
    """a ** exponent as PyTorch's kernel computes it, which takes the exponents 0.5, 2, 3, -0.5,
    -1 and -2 as sqrt, products and quotients (so (-0.)**-0.5 is -inf, as 1/sqrt(-0.));
    callers silence NumPy."""
    if exponent == 1:
        return a
    if exponent == 2:
        return a * a
    if a.dtype.kind != "f" or exponent not in _POW_KERNELS:
        return cr_power(a, exponent)
    return _POW_KERNELS[exponent](a, a.dtype.type(1))


_POW_KERNELS = {0.5: lambda a, one: np.sqrt(a), 3: lambda a, one: a * a * a,
                -0.5: lambda a, one: one / np.sqrt(a), -1: lambda a, one: one / a,
                -2: lambda a, one: one / (a * a)}


def _power(a, b):
    return quietly(cr_power, a, b)


@method("__rpow__")
def _scalar_pow_method(self, base):
    return _scalar_pow(base, self)


def _scalar_pow(base, exponent):
    """number ** tensor: PowBackward2."""
    check_number(base, "pow")
    dt = promote(exponent, base)
    out = Tensor._make(_power(dt.np.type(base), array_of(exponent, dt)).astype(dt.np), dt)
    return record(PowBackward2, out, (exponent,), (exponent, RESULT), (base,))


@method("square")
def square(self):
    return pow(self, 2)


@method("neg", "__neg__", "negative")
def neg(self):
    if self.dtype is _dtype.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return record(NegBackward0, Tensor._make(-self._array, self.dtype), (self,))


negative = neg


@method("__pos__", "positive")
def positive(self):
    return self


@method("abs", "__abs__", "absolute")
def abs(self):
    return record(AbsBackward0, Tensor._make(np.abs(self._array), self.dtype), (self,), (self,))


absolute = abs


def _sign(a):
    """PyTorch's sign: 0 at NaN (NumPy's is NaN)."""
    s = np.sign(a)
    return np.where(np.isnan(s), s.dtype.type(0), s) if a.dtype.kind == "f" else s


@method()
def sign(self):
    return record(SignBackward0, Tensor._make(_sign(self._array), self.dtype), (self,))


@method()
def sgn(self):
    return record(SgnBackward0, Tensor._make(_sign(self._array), self.dtype), (self,),
                  (self, RESULT))


@method()
def exp(self):
    return _unary(cr_exp, self, ExpBackward0, (RESULT,))


@method()
def log(self):
    return _unary(cr_log, self, LogBackward0, (self,))


@method()
def log1p(self):
    return _unary(cr_log1p, self, Log1PBackward0, (self,))


@method()
def sqrt(self):
    return _unary(np.sqrt, self, SqrtBackward0, (RESULT,))


@method()
def sin(self):
    return _unary(cr_sin, self, SinBackward0, (self,))


@method()
def cos(self):
    return _unary(cr_cos, self, CosBackward0, (self,))


@method()
def tanh(self):
    return _unary(cr_tanh, self, TanhBackward0, (RESULT,))


def _sigmoid(a):
    return 1 / (1 + cr_exp(-a))  # PyTorch's formula, in the input's dtype


@method()
def sigmoid(self):
    return _unary(_sigmoid, self, SigmoidBackward0, (RESULT,))


def rsub_number(number, t):
    """C++ ``number - t`` in a backward formula: ATen fills a tensor with the number and
    subtracts in place (a SubBackward0 whose first edge is empty, not Python's RsubBackward1)."""
    return Tensor._make(np.full(np.shape(t._array), number, t.dtype.np), t.dtype) - t


def rdiv_number(number, t):
    """C++ ``number / t`` in a backward formula: a tensor filled with the number divided by ``t``
    (a DivBackward0 whose first edge is empty, not Python's reciprocal times the number)."""
    return Tensor._make(np.full(np.shape(t._array), number, t.dtype.np), t.dtype) / t


@method()
def logit(self, eps=None):
    """log(self / (1 - self)), self clamped to [eps, 1 - eps] if eps is given."""
    a = np.asarray(self._array)
    if eps is not None:
        a = np.clip(a, eps, 1 - eps)
    out = quietly(lambda: cr_log(a / (a.dtype.type(1) - a)))
    return record(LogitBackward0, Tensor._make(np.asarray(out, a.dtype), self.dtype), (self,),
                  (self,), (eps,))


def _logit_backward(grad, self, eps):
    """PyTorch's infinitely_differentiable_logit_backward: grad / (self · (1 - self)) inside
    [eps, 1 - eps] (0 outside), or inside [0, 1] (NaN outside) without eps."""
    a = np.asarray(self._array)
    lo, hi = (0.0, 1.0) if eps is None else (eps, 1.0 - eps)
    inside = Tensor._make(np.asarray((a >= lo) & (a <= hi)), _dtype.bool_)
    return where(inside, grad / (self * rsub_number(1.0, self)),
                 float("nan") if eps is None else 0.0)


def tanh_backward(grad_output, output):
    """grad_output · (1 - output²): PyTorch's tanh_backward, an op of its own."""
    out = Tensor._make(quietly(_tanh_grad, grad_output._array, output._array),
                       output.dtype)
    return record(TanhBackwardBackward0, out, (grad_output, output), (grad_output, output))


def sigmoid_backward(grad_output, output):
    """grad_output · (1 - output) · output: PyTorch's sigmoid_backward, an op of its own."""
    out = Tensor._make(quietly(_sigmoid_grad, grad_output._array, output._array),
                       output.dtype)
    return record(SigmoidBackwardBackward0, out, (grad_output, output), (grad_output, output))


def threshold_backward(grad_output, self, threshold):
    """grad_output where self > threshold, else 0: PyTorch's threshold_backward."""
    out = Tensor._make(_threshold_grad(grad_output._array, self._array, threshold),
                       grad_output.dtype)
    return record(ThresholdBackwardBackward0, out, (grad_output, self), (self,), (threshold,))


# ---- the NumPy forms of formulas (see ``derivative``) ---------------------------------------

def _tanh_grad(g, y, *, out=None):
    """g · (1 - y²) as PyTorch's CPU kernel rounds it: ``1 - y·y`` is one fused multiply-add
    (float16 computed in float32); into ``out`` (g's array) if given and g and y are alike.

    In float32 that fma is ``1 - y·y`` in float64 rounded to float32: y·y is exact in float64,
    and rounding twice differs from rounding once only where the float64 value is a float32
    midpoint it is not exactly; for no float32 y is it (tests/test_array_formulas.py checks the
    binades where 1 - y·y is inexact in float64). Float32 tensors of more than ``EXACT_MAX``
    elements take ``(1 - y)·(1 + y)`` in float32 instead, three times faster: at most one ulp
    from the fma for every float32 y (tests check every y in [-1, 1]), so the gradient at most
    two from PyTorch's, as those tensors' forward transcendentals are allowed one (``rounded``);
    ``1 - y·y`` in float32 would be 1024 ulps off near |y| = 1. Block by block, in the CPU's
    cache: the factor, then (g like y) it times g, so that memory is read and written once."""
    if y.dtype == np.float64:
        return np.asarray(np.multiply(g, _fma64(-y, y, 1.0), out=_alike(out, y)), y.dtype)
    alike = type(g) is np.ndarray and g.dtype == y.dtype == np.float32 and \
        g.shape == y.shape and g.flags.c_contiguous
    result = _alike(out, y) if alike else None
    result = np.empty(np.shape(y), np.float32) if result is None else result
    flat_y, flat_out = np.ravel(y), result.reshape(-1)
    flat_g = g.reshape(-1) if alike else None
    size = min(flat_y.size, _BLOCK)
    fill = _one_minus_square_split if y.dtype == np.float32 and y.size > EXACT_MAX else \
        _one_minus_square_fused
    spare = np.empty(size, np.float64 if fill is _one_minus_square_fused else np.float32)
    narrow = np.empty(size, np.float32) if alike else None  # a block's 1 - y·y
    for i in range(0, flat_y.size, _BLOCK):
        part = flat_y[i:i + _BLOCK]
        one_minus = narrow[:part.size] if alike else flat_out[i:i + _BLOCK]
        fill(part, one_minus, spare[:part.size])
        if alike:
            np.multiply(flat_g[i:i + _BLOCK], one_minus, out=flat_out[i:i + _BLOCK])
    if alike:
        return result
    np.multiply(g, result, out=result)
    return result if y.dtype == np.float32 else result.astype(y.dtype)


def _one_minus_square_fused(y, into, wide):
    """into = 1 - y·y rounded once (through ``wide``, float64: see _tanh_grad)."""
    wide[...] = y  # in place: ufuncs' dtype= casts are slow
    np.multiply(wide, wide, out=wide)
    into[...] = np.subtract(1.0, wide, out=wide)


def _one_minus_square_split(y, into, spare):
    """into = (1 - y)·(1 + y) in float32 (see _tanh_grad)."""
    one = np.float32(1)
    np.subtract(one, y, out=into)
    np.multiply(into, np.add(one, y, out=spare), out=into)


_BLOCK = 1 << 16  # elements: float64 blocks that stay in the CPU's (level 2) cache


def _alike(out, like):
    """``out`` if results shaped and typed as ``like`` may be written into it, else None."""
    if out is not None and out.shape == np.shape(like) and out.dtype == like.dtype:
        return out
    return None


def _sigmoid_grad(g, y):
    """(g · (1 - y)) · y, in that order and in the tensors' dtype, as PyTorch's CPU kernel."""
    one = y.dtype.type(1)
    return np.asarray((g * (one - y)) * y, y.dtype)


def _threshold_grad(g, x, threshold, *, out=None):
    return _zeroed(g, x <= threshold, out)


def _zeroed(a, mask, out=None):
    """``a`` with +0 where ``mask`` (an array of the caller's own, which it inverts in place):
    float32/64 bit patterns times ~mask, no branch per element (np.where on a random mask is ten
    times slower); into ``out`` (a's array) if given."""
    if type(a) is not np.ndarray:  # a NumPy scalar (a 0-dim tensor's): immutable, no bits needed
        return a.dtype.type(0) if mask else a
    if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
        return np.where(mask, a.dtype.type(0), a)
    ints = a.view(f"i{a.dtype.itemsize}")
    out = _alike(out, a)
    out = np.empty(np.broadcast_shapes(a.shape, np.shape(mask)), a.dtype) if out is None else out
    np.multiply(ints, np.invert(mask, out=mask if type(mask) is np.ndarray else None),
                out=out.view(ints.dtype))
    return out


def _times(g, other, *, out=None):
    """g · other where NumPy computes it as ``mul`` does: same dtypes, or a Python number; into
    ``out`` (g's array) if given and the product has g's shape and dtype. A sum's gradient, 1
    expanded, times an array of its shape is that array itself (the engine copies it where
    anyone but the engine could see it, see _core._run)."""
    if type(g) is not np.ndarray and (type(other) is type(g) or type(other) is float):
        return g * other  # NumPy scalars (0-dim tensors'): their own arithmetic, 10x a ufunc's
    if type(other) is float or type(other) is int:
        return np.multiply(g, other, out=out if g.dtype.kind == "f" else None)
    if getattr(other, "dtype", None) == g.dtype:
        if np.shape(other) == g.shape and _expanded_one(g) and other.flags.writeable:
            return other
        return np.multiply(g, other, out=out if np.shape(other) == np.shape(g) else None)
    return None


def _expanded_one(a):
    """True for a floating array that is a single 1 expanded (every stride 0), as sum's backward
    gives: multiplying by it changes nothing."""
    return a.ndim > 0 and a.size > 0 and not any(a.strides) and a.dtype.kind == "f" and \
        a[(0,) * a.ndim] == 1


def _pow_grad(g, x, exponent):
    if type(exponent) is not float and type(exponent) is not int:
        return None
    if exponent == 0:
        return np.zeros_like(x)
    return g * (_pow_values(x, exponent - 1) * exponent)


@method()
def reciprocal(self):
    return _unary(np.reciprocal, self, ReciprocalBackward0, (RESULT,))


@method()
def relu(self):
    a = self._array
    zero = a.dtype.type(0)  # x < 0 ? 0 : x, as PyTorch's kernel: relu(-0.) is -0.
    out = Tensor._make(_zeroed(a, a < zero) if self.dtype is not _dtype.bool_ else a, self.dtype)
    return record(ReluBackward0, out, (self,), (RESULT,))


@method("clamp", "clip")
def clamp(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = -np.inf if min is None else array_of(min, self.dtype)
        hi = np.inf if max is None else array_of(max, self.dtype)
        out = Tensor._make(np.minimum(np.maximum(self._array, lo), hi).astype(self.dtype.np),
                           self.dtype)
        return record(ClampBackward0, out, (self, min, max), (self, min, max))
    dt = self.dtype
    if not dt.is_floating_point and (isinstance(min, float) or isinstance(max, float)):
        dt = _dtype.get_default_dtype()
    a = self._array.astype(dt.np) if dt is not self.dtype else self._array
    out = Tensor._make(np.clip(a, min, max).astype(dt.np), dt)
    return record(ClampBackward1, out, (self,), (self,), (min, max))


clip = clamp


@method()
def clamp_min(self, min):
    with no_grad():
        out = clamp(self, min=min)
    if isinstance(min, Tensor):
        return record(ClampMinBackward1, out, (self, min), (self, min))
    return record(ClampMinBackward0, out, (self,), (self,), (min,))


@method()
def clamp_max(self, max):
    with no_grad():
        out = clamp(self, max=max)
    if isinstance(max, Tensor):
        return record(ClampMaxBackward1, out, (self, max), (self, max))
    return record(ClampMaxBackward0, out, (self,), (self,), (max,))


@method()
def maximum(self, other):
    out = _binary(np.maximum, self, other, "maximum")
    return record(MaximumBackward0, out, (self, other), (self, other))


@method()
def minimum(self, other):
    out = _binary(np.minimum, self, other, "minimum")
    return record(MinimumBackward0, out, (self, other), (self, other))


def where(condition, self=None, other=None):
    """where(condition, x, y): x where condition holds, else y."""
    if self is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor) or condition.dtype is not _dtype.bool_:
        name = condition.dtype._legacy[:-6] if isinstance(condition, Tensor) else "Float"
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {name}")
    if not isinstance(self, Tensor) and not isinstance(other, Tensor):
        self = Tensor._make(np.array(self, _dtype.scalar_dtype(self).np), _dtype.scalar_dtype(self))
    x, y, dt = _operands(self, other, "where") if isinstance(self, Tensor) else \
        _swap(_operands(other, self, "where"))
    try:
        out = np.where(condition._array, x, y).astype(dt.np)
    except ValueError:
        raise broadcast_error(shape_of(self), shape_of(other)) from None
    return record(WhereBackward0, Tensor._make(out, dt), (self, other), (condition,))


@method("where")
def _where_method(self, condition, other):
    """Tensor.where(condition, other): self where condition holds, else other."""
    return where(condition, self, other)


def _swap(operands):
    x, y, dt = operands
    return y, x, dt


@method()
def masked_fill(self, mask, value):
    if isinstance(value, Tensor):  # masked_fill.Tensor: a 0-dim value, differentiable
        if value._array.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._array.ndim} dimension(s).")
        out = np.where(mask._array, self.dtype.np.type(value.item()), self._array)
        return record(MaskedFillBackward1, Tensor._make(out, self.dtype), (self, value), (mask,))
    out = np.where(mask._array, self.dtype.np.type(value), self._array)
    return record(MaskedFillBackward0, Tensor._make(out, self.dtype), (self,), (mask,))


# ---- comparisons and logic (not differentiable) -----------------------------------------------

def _compare(fn, name):
    def compare(self, other):
        if not isinstance(other, (Tensor, int, float, bool, np.generic)):
            return NotImplemented
        x, y, _ = _operands(self, other, name)
        try:
            out = Tensor._make(np.asarray(fn(x, y)), _dtype.bool_)
        except ValueError:
            raise broadcast_error(shape_of(self), shape_of(other)) from None
        return _batching.taint(out, (self, other)) if _batching.LEVELS else out
    compare.__name__ = name
    return compare


eq = method("eq", "__eq__")(_compare(np.equal, "eq"))
ne = method("ne", "__ne__")(_compare(np.not_equal, "ne"))
lt = method("lt", "__lt__", "less")(_compare(np.less, "lt"))
le = method("le", "__le__", "less_equal")(_compare(np.less_equal, "le"))
gt = method("gt", "__gt__", "greater")(_compare(np.greater, "gt"))
ge = method("ge", "__ge__", "greater_equal")(_compare(np.greater_equal, "ge"))


def _logical(fn, name):
    def logical(self, other):
        x, y, dt = _operands(self, other, name)
        if dt.is_floating_point:
            raise RuntimeError(f"\"{name}_cpu\" not implemented for '{dt.name.capitalize()}'")
        return Tensor._make(np.asarray(fn(x, y)), dt)
    logical.__name__ = name
    return logical


bitwise_and = method("__and__", "__rand__", "bitwise_and")(_logical(np.bitwise_and, "bitwise_and"))
bitwise_or = method("__or__", "__ror__", "bitwise_or")(_logical(np.bitwise_or, "bitwise_or"))
bitwise_xor = method("__xor__", "__rxor__", "bitwise_xor")(_logical(np.bitwise_xor, "bitwise_xor"))


@method("bitwise_not")
def bitwise_not(self):
    if self.dtype.is_floating_point:
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for '
                                  f"'{self.dtype._legacy[:-6]}'")
    return Tensor._make(np.asarray(~self._array), self.dtype)


@method()
def __invert__(self):
    if self.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


@method()
def logical_not(self):
    return Tensor._make(np.asarray(np.logical_not(self._array)), _dtype.bool_)


@method()
def isnan(self):
    return Tensor._make(np.asarray(np.isnan(self._array)), _dtype.bool_)


@method()
def isinf(self):
    return Tensor._make(np.asarray(np.isinf(self._array)), _dtype.bool_)


@method()
def isposinf(self):
    return Tensor._make(np.asarray(np.isposinf(self._array)), _dtype.bool_)


@method()
def isneginf(self):
    return Tensor._make(np.asarray(np.isneginf(self._array)), _dtype.bool_)


@method()
def isfinite(self):
    return Tensor._make(np.asarray(np.isfinite(self._array)), _dtype.bool_)


@method()
def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced: by ``nan``, and by the dtype's largest and lowest values
    unless ``posinf``/``neginf`` are given."""
    a = self._array
    out = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf) if a.dtype.kind == "f" else \
        a.copy()
    return record(NanToNumBackward0, Tensor._make(out, self.dtype), (self,), (self,))


@method()
def signbit(self):
    a = self._array
    return Tensor._make(np.asarray(np.signbit(a) if a.dtype.kind == "f" else a < 0), _dtype.bool_)


def _logical(ufunc, name):
    """The function ``name`` (torch.logical_and ...) and, as a side effect, the Tensor method:
    a bool tensor of ``ufunc`` on the two tensors' truth values. (PyTorch's type errors count
    the method's positions from ``other``.)"""
    def compute(input, other, position):
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position {position}) must be Tensor, "
                            f"not {type(other).__name__}")
        try:
            return Tensor._make(np.asarray(ufunc(input._array, other._array)), _dtype.bool_)
        except ValueError:
            raise broadcast_error(shape_of(input), shape_of(other)) from None

    def as_method(self, other):
        return compute(self, other, 1)

    def function(input, other):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return compute(input, other, 2)
    as_method.__name__ = function.__name__ = function.__qualname__ = name
    as_method.__qualname__ = f"Tensor.{name}"
    setattr(Tensor, name, as_method)
    return function


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


@method()
def equal(self, other):
    return self.shape == other.shape and bool(np.array_equal(self._array, other._array))


@method()
def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(self._array, other._array, rtol, atol, equal_nan))


@method()
def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(np.asarray(np.isclose(self._array, other._array, rtol, atol, equal_nan)),
                        _dtype.bool_)


# ---- copies and conversions -------------------------------------------------------------------

@method()
def clone(self, *, memory_format=None):
    return record(CloneBackward0, Tensor._make(np.array(self._array), self.dtype), (self,))


def copy_graph(grad):
    """The copy AccumulateGrad makes of a gradient under create_graph (a CopyBackwards node)."""
    copy = Tensor._make(np.array(grad._array), grad.dtype,  # empty + copy_: version 1
                        counter=None if _local.inference else [1])
    return record(CopyBackwards, copy, (None, grad))


def to(self, *args, dtype=None, copy=False, **kwargs):
    """Tensor.to(dtype) / to(device) / to(other): a ToCopyBackward0 when the dtype changes."""
    from .._device import device, require_cpu
    for a in (*args, kwargs.get("device")):
        if isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, device, int)) and not isinstance(a, bool):
            require_cpu(a)
    if dtype is None or dtype is self.dtype:
        return clone(self) if copy else self
    out = Tensor._make(np.asarray(self._array).astype(dtype.np), dtype)
    if not dtype.is_floating_point:
        return out
    return record(ToCopyBackward0, out, (self,))


def zeros_like(t, dtype=None):
    dt = dtype or t.dtype
    return Tensor._make(np.zeros(t._array.shape, dt.np), dt)


def ones_like(t, dtype=None):
    dt = dtype or t.dtype
    return Tensor._make(np.ones(t._array.shape, dt.np), dt)
