"""More pointwise math: logs and exponentials in base 2 and 10, rounding, hyperbolic and inverse
trigonometric functions, rsqrt, erf and erfc, atan2, hypot and logaddexp, with their in-place
forms.

Each backward formula is PyTorch's (derivatives.yaml) written with the same ops, so a
create_graph backward records the nodes PyTorch's does.
"""
import math

import numpy as np

from .. import _dtype
from ..tensor import Tensor
from ._core import (RESULT, accumulator, broadcast_error, derivative, method, promote,
                    quietly, record, rounded, shape_of)
from .elementwise import add_scalar, exp, mul_scalar, zeros_like
from .inplace import inplace

LN2, LN10 = 0.6931471805599453, 2.3025850929940456


def _zero(grad):
    return zeros_like(grad)


Log2Backward0 = derivative(
    "Log2Backward0", ("self",), saves=("self",),
    self=("grad / (self · ln 2)", lambda grad, self: grad / mul_scalar(self, LN2)),
    result="element_wise")
Log10Backward0 = derivative(
    "Log10Backward0", ("self",), saves=("self",),
    self=("grad / (self · ln 10)", lambda grad, self: grad / mul_scalar(self, LN10)),
    result="element_wise")
Exp2Backward0 = derivative(
    "Exp2Backward0", ("self",), saves=("result",),
    self=("grad · result · ln 2", lambda grad, result: mul_scalar(grad * result, LN2)),
    result="element_wise")
Expm1Backward0 = derivative(
    "Expm1Backward0", ("self",), saves=("result",),
    self=("grad · (result + 1)", lambda grad, result: grad * add_scalar(result, 1)),
    result="element_wise")
FloorBackward0 = derivative("FloorBackward0", ("self",), self=("0", _zero),
                            result="element_wise")
CeilBackward0 = derivative("CeilBackward0", ("self",), self=("0", _zero), result="element_wise")
RoundBackward0 = derivative("RoundBackward0", ("self",), self=("0", _zero),
                            result="element_wise")
RoundBackward1 = derivative("RoundBackward1", ("self",), self=("0", _zero),
                            result="element_wise")
TruncBackward0 = derivative("TruncBackward0", ("self",), self=("0", _zero),
                            result="element_wise")
FracBackward0 = derivative("FracBackward0", ("self",), self=("grad", lambda grad: grad),
                           result=("self_t", lambda self_t: self_t.clone()))
CoshBackward0 = derivative(
    "CoshBackward0", ("self",), saves=("self",),
    self=("grad · sinh(self)", lambda grad, self: grad * sinh(self)), result="element_wise")
SinhBackward0 = derivative(
    "SinhBackward0", ("self",), saves=("self",),
    self=("grad · cosh(self)", lambda grad, self: grad * cosh(self)), result="element_wise")
TanBackward0 = derivative(
    "TanBackward0", ("self",), saves=("result",),
    self=("grad · (1 + result²)", lambda grad, result: grad * add_scalar(result.pow(2), 1)),
    result="element_wise")
AsinBackward0 = derivative(
    "AsinBackward0", ("self",), saves=("self",),
    self=("grad / √(1 - self²)", lambda grad, self: grad * rsqrt(add_scalar(-self * self, 1))),
    result="element_wise")
AcosBackward0 = derivative(
    "AcosBackward0", ("self",), saves=("self",),
    self=("-grad / √(1 - self²)",
          lambda grad, self: grad * -rsqrt(add_scalar(-self * self, 1))),
    result="element_wise")
AtanBackward0 = derivative(
    "AtanBackward0", ("self",), saves=("self",),
    self=("grad / (1 + self²)", lambda grad, self: grad / add_scalar(self * self, 1)),
    result="element_wise")
RsqrtBackward0 = derivative(
    "RsqrtBackward0", ("self",), saves=("result",),
    self=("-0.5 · grad · result³", lambda grad, result: mul_scalar(grad, -0.5) * result.pow(3)),
    result="element_wise")
Atan2Backward0 = derivative(
    "Atan2Backward0", ("self", "other"), broadcasts=True, saves=("self", "other"),
    self=("grad · other / (self² + other²)",
          lambda grad, self, other: grad * other * (self * self + other * other).reciprocal()),
    other=("-grad · self / (self² + other²)",
           lambda grad, self, other: grad * -self * (self * self + other * other).reciprocal()),
    result=("(other · self_t - self · other_t) / (self² + other²)",
            lambda self_t, other_t, self, other: (-self * other_t + other * self_t) / (
                self.pow(2) + other.pow(2))))
HypotBackward0 = derivative(
    "HypotBackward0", ("self", "other"), broadcasts=True, saves=("self", "other", "result"),
    self=("grad · self / result", lambda grad, self, result: grad * self / result),
    other=("grad · other / result", lambda grad, other, result: grad * other / result),
    result=("self_t · self / result + other_t · other / result",
            lambda self_t, other_t, self, other, result:
                self_t * self / result + other_t * other / result))

LogaddexpBackward0 = derivative(
    "LogaddexpBackward0", ("self", "other"), broadcasts=True, saves=("self", "other"),
    self=("grad / (1 + exp(other - self))",
          lambda grad, self, other: grad / add_scalar(exp(other - self), 1)),
    other=("grad / (1 + exp(self - other))",
           lambda grad, self, other: grad / add_scalar(exp(self - other), 1)),
    result=("self_t / (1 + exp(other - self)) + other_t / (1 + exp(self - other))",
            lambda self_t, other_t, self, other: self_t / add_scalar(exp(other - self), 1)
            + other_t / add_scalar(exp(self - other), 1)))
ErfBackward0 = derivative(
    "ErfBackward0", ("self",), saves=("self",),
    self=("2/√π · exp(-self²) · grad",
          lambda grad, self: mul_scalar(exp(-self.pow(2)), 2 / math.sqrt(math.pi)) * grad),
    result="element_wise")
ErfcBackward0 = derivative(
    "ErfcBackward0", ("self",), saves=("self",),
    self=("-2/√π · exp(-self²) · grad",
          lambda grad, self: mul_scalar(exp(-self.pow(2)), -2 / math.sqrt(math.pi)) * grad),
    result="element_wise")


def _float_unary(fn, self, cls, saved=()):
    """A float op: integer and bool inputs give the default float dtype, as in PyTorch."""
    a, dt = self._array, self.dtype
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
        a = a.astype(dt.np)
    return record(cls, Tensor._make(np.asarray(quietly(fn, a), dt.np), dt), (self,), saved)


def _type_name(t):
    return t.dtype._legacy[:-len("Tensor")]


def _rounding(fn, self, cls, kernel):
    """floor, ceil, round, trunc: integers are returned as they are (copied), bools refused."""
    if self.dtype is _dtype.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if not self.dtype.is_floating_point:
        return Tensor._make(self._array.copy(), self.dtype)
    return record(cls, Tensor._make(np.asarray(fn(self._array)), self.dtype), (self,))


_cr = {name: rounded(getattr(np, name)) for name in (
    "log2", "log10", "exp2", "expm1", "cosh", "sinh", "tan", "arcsin", "arccos", "arctan",
    "arctan2", "hypot")}

ERF, ERFC = np.frompyfunc(math.erf, 1, 1), np.frompyfunc(math.erfc, 1, 1)  # NumPy has none


def _in_float64(fn):
    """``fn`` (math's, element by element) on float64 values, rounded to the input's dtype:
    within an ulp of PyTorch's kernels."""
    def f(a):
        return np.asarray(fn(np.asarray(a, np.float64)), np.float64).astype(a.dtype)
    return f


_erf, _erfc = _in_float64(ERF), _in_float64(ERFC)


@method()
def erf(self):
    return _float_unary(_erf, self, ErfBackward0, (self,))


@method()
def erfc(self):
    return _float_unary(_erfc, self, ErfcBackward0, (self,))


@method()
def log2(self):
    return _float_unary(_cr["log2"], self, Log2Backward0, (self,))


@method()
def log10(self):
    return _float_unary(_cr["log10"], self, Log10Backward0, (self,))


@method()
def exp2(self):
    return _float_unary(_cr["exp2"], self, Exp2Backward0, (RESULT,))


@method()
def expm1(self):
    return _float_unary(_cr["expm1"], self, Expm1Backward0, (RESULT,))


@method()
def cosh(self):
    return _float_unary(_cr["cosh"], self, CoshBackward0, (self,))


@method()
def sinh(self):
    return _float_unary(_cr["sinh"], self, SinhBackward0, (self,))


@method()
def tan(self):
    return _float_unary(_cr["tan"], self, TanBackward0, (RESULT,))


@method("asin", "arcsin")
def asin(self):
    return _float_unary(_cr["arcsin"], self, AsinBackward0, (self,))


@method("acos", "arccos")
def acos(self):
    return _float_unary(_cr["arccos"], self, AcosBackward0, (self,))


@method("atan", "arctan")
def atan(self):
    return _float_unary(_cr["arctan"], self, AtanBackward0, (self,))


def _rsqrt(a):
    return a.dtype.type(1) / np.sqrt(a)


@method()
def rsqrt(self):
    return _float_unary(_rsqrt, self, RsqrtBackward0, (RESULT,))


arcsin, arccos, arctan = asin, acos, atan


@method()
def floor(self):
    return _rounding(np.floor, self, FloorBackward0, "floor_vml_cpu")


@method()
def ceil(self):
    return _rounding(np.ceil, self, CeilBackward0, "ceil_vml_cpu")


@method("trunc", "fix")
def trunc(self):
    return _rounding(np.trunc, self, TruncBackward0, "trunc_vml_cpu")


fix = trunc


@method()
def round(self, *, decimals=0):
    """Halves to even; with ``decimals``, PyTorch's x · 10^d rounded, divided by 10^d."""
    if type(decimals) is not int:
        raise TypeError(f"round(): argument 'decimals' must be int, not "
                        f"{type(decimals).__name__}")
    if decimals == 0:
        return _rounding(np.rint, self, RoundBackward0, "round_vml_cpu")
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f'"round_cpu" not implemented for \'{_type_name(self)}\'')
    a = self._array.astype(accumulator(self.dtype))  # float16 in float32, as PyTorch
    scale = a.dtype.type(10.0 ** abs(decimals))
    out = quietly(lambda: np.rint(a * scale) / scale if decimals > 0 else
                  np.rint(a / scale) * scale)
    return record(RoundBackward1, Tensor._make(np.asarray(out, self.dtype.np), self.dtype),
                  (self,))


@method()
def frac(self):
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{_type_name(self)}\'')
    a = self._array
    return record(FracBackward0, Tensor._make(np.asarray(a - np.trunc(a)), self.dtype), (self,))


def _pair(self, other, op, position):
    """The operands of a binary float op in their promoted (float) dtype."""
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}(): argument 'other' (position {position}) must be Tensor, not "
                        f"{type(other).__name__}")
    dt = promote(self, other)
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
    try:
        np.broadcast_shapes(shape_of(self), shape_of(other))
    except ValueError:
        raise broadcast_error(shape_of(self), shape_of(other)) from None
    return self._array.astype(dt.np), other._array.astype(dt.np), dt


def atan2(input, other):
    if not isinstance(input, Tensor):
        raise TypeError(f"atan2(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return _atan2(input, other, 2)


def _atan2(self, other, position):
    y, x, dt = _pair(self, other, "atan2", position)
    out = Tensor._make(np.asarray(quietly(_cr["arctan2"], y, x), dt.np), dt)
    return record(Atan2Backward0, out, (self, other), (self, other))


@method("atan2", "arctan2")
def _atan2_method(self, other):
    return _atan2(self, other, 1)


arctan2 = atan2


def hypot(input, other):
    return _hypot(input, other, 2)


def _hypot(self, other, position):
    x, y, dt = _pair(self, other, "hypot", position)
    promoted = promote(self, other)
    if not promoted.is_floating_point:
        name = promoted._legacy[:-len("Tensor")]
        raise NotImplementedError(f'"hypot_cpu" not implemented for \'{name}\'')
    out = Tensor._make(np.asarray(quietly(_cr["hypot"], x, y), dt.np), dt)
    return record(HypotBackward0, out, (self, other), (self, other, RESULT))


@method("hypot")
def _hypot_method(self, other):
    return _hypot(self, other, 1)


def _logaddexp64(x, y):
    """log(exp(x) + exp(y)) as PyTorch's kernel: max + log1p(exp(-|x - y|)), and x where both
    are the same infinity."""
    m = np.maximum(x, y)
    return np.where(np.isinf(x) & (x == y), x, m + np.log1p(np.exp(-np.abs(x - y))))


def logaddexp(input, other):
    if not isinstance(input, Tensor):
        raise TypeError(f"logaddexp(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return _logaddexp(input, other, 2)


def _logaddexp(self, other, position):
    x, y, dt = _pair(self, other, "logaddexp", position)
    promoted = promote(self, other)
    if not promoted.is_floating_point:
        name = promoted._legacy[:-len("Tensor")]
        raise NotImplementedError(f'"logaddexp_cpu" not implemented for \'{name}\'')
    out = quietly(_logaddexp64, x.astype(np.float64), y.astype(np.float64))
    return record(LogaddexpBackward0, Tensor._make(np.asarray(out, dt.np), dt), (self, other),
                  (self, other))


@method("logaddexp")
def _logaddexp_method(self, other):
    return _logaddexp(self, other, 1)


# ---- in place ---------------------------------------------------------------------------------

@method()
def erf_(self):
    return inplace(self, erf)


@method()
def erfc_(self):
    return inplace(self, erfc)


@method()
def log2_(self):
    return inplace(self, log2)


@method()
def log10_(self):
    return inplace(self, log10)


@method()
def exp2_(self):
    return inplace(self, exp2)


@method()
def expm1_(self):
    return inplace(self, expm1)


@method()
def cosh_(self):
    return inplace(self, cosh)


@method()
def sinh_(self):
    return inplace(self, sinh)


@method()
def tan_(self):
    return inplace(self, tan)


@method("asin_", "arcsin_")
def asin_(self):
    return inplace(self, asin)


@method("acos_", "arccos_")
def acos_(self):
    return inplace(self, acos)


@method("atan_", "arctan_")
def atan_(self):
    return inplace(self, atan)


@method()
def rsqrt_(self):
    return inplace(self, rsqrt)


@method()
def floor_(self):
    return inplace(self, floor)


@method()
def ceil_(self):
    return inplace(self, ceil)


@method("trunc_", "fix_")
def trunc_(self):
    return inplace(self, trunc)


@method()
def frac_(self):
    return inplace(self, frac)


@method()
def round_(self, *, decimals=0):
    return inplace(self, lambda t: round(t, decimals=decimals))


@method("atan2_", "arctan2_")
def atan2_(self, other):
    return inplace(self, lambda t: _atan2(t, other, 1))


@method()
def hypot_(self, other):
    return inplace(self, lambda t: _hypot(t, other, 1))
