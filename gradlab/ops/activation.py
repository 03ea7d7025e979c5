"""The activations of torch.nn.functional that are ops of their own in PyTorch: gelu, leaky_relu,
elu (selu, celu), silu, mish, softplus and hardtanh (relu6), with their backward ops, so that
create_graph records PyTorch's ``<Op>BackwardBackward0`` nodes."""
import math

import numpy as np

from ..tensor import Tensor
from ._core import RESULT, derivative, quietly, record
from .elementwise import (add_scalar, rsub_number, sigmoid_backward, sub_scalar, where,
                          zeros_like)
from .unary import ERF

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def _float_op(fn, self, cls, attrs=(), saved=None):
    """fn on the input's values computed in float64, rounded to its dtype (within an ulp of
    PyTorch's vectorised kernels), recorded with ``self`` (or ``saved``, its clone) saved."""
    a = self._array
    out = np.asarray(quietly(fn, a.astype(np.float64)), a.dtype)
    saved = self if saved is None else saved
    return record(cls, Tensor._make(out, self.dtype), (self,), (saved,), attrs)


def _backward_op(fn, grad_output, self, cls, saved, attrs):
    """A backward op: fn(grad, x) on float64 values, recorded as ``cls``."""
    g, x = grad_output._array.astype(np.float64), self._array.astype(np.float64)
    out = np.asarray(quietly(fn, g, x), self._array.dtype)
    return record(cls, Tensor._make(out, self.dtype), (grad_output, self), saved, attrs)


# ---- gelu --------------------------------------------------------------------------------------

def _gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + ERF(x * _SQRT_HALF).astype(np.float64))


def _gelu_slope(x, approximate):
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        t = np.tanh(inner)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
    cdf = 0.5 * (1 + ERF(x * _SQRT_HALF).astype(np.float64))
    return cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _gelu_curvature(self, approximate):
    """d²gelu/dx², with gradlab's ops."""
    if approximate == "tanh":
        k, c = _SQRT_2_OVER_PI, 0.044715
        x2 = self * self
        t = ((self + self * x2 * c) * k).tanh()
        u = (x2 * (3 * c) + 1) * k
        sech2 = 1 - t * t
        return sech2 * u - self * sech2 * t * u * u + self * sech2 * (self * (6 * c * k)) * 0.5
    pdf = (self * self * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
    return pdf * (2 - self * self)


GeluBackward0 = derivative(
    "GeluBackward0", ("self",), saves=("self",), attrs=("approximate",),
    self=("grad · gelu'(self)", lambda grad, self, approximate: gelu_backward(grad, self,
                                                                            approximate)),
    result="element_wise")
GeluBackwardBackward0 = derivative(
    "GeluBackwardBackward0", ("grad_output", "self"), saves=("grad_output", "self"),
    attrs=("approximate",),
    grad_output=("grad · gelu'(self)", lambda grad, self, approximate: gelu_backward(
        grad, self, approximate)),
    self=("grad · grad_output · gelu''(self)", lambda grad, grad_output, self, approximate:
          grad * grad_output * _gelu_curvature(self, approximate)),
    result="element_wise")


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _float_op(lambda x: _gelu(x, approximate), input, GeluBackward0, (approximate,))


def gelu_backward(grad_output, self, approximate):
    return _backward_op(lambda g, x: g * _gelu_slope(x, approximate), grad_output, self,
                        GeluBackwardBackward0, (grad_output, self), (approximate,))


# ---- leaky_relu, hardtanh: piecewise linear ----------------------------------------------------

LeakyReluBackward0 = derivative(
    "LeakyReluBackward0", ("self",), saves=("self",), attrs=("negative_slope",),
    self=("grad · (self > 0 ? 1 : negative_slope)", lambda grad, self, negative_slope:
          leaky_relu_backward(grad, self, negative_slope)),
    result="element_wise")
LeakyReluBackwardBackward0 = derivative(
    "LeakyReluBackwardBackward0", ("grad_output", "self"), saves=("self",),
    attrs=("negative_slope",),
    grad_output=("grad · (self > 0 ? 1 : negative_slope)", lambda grad, self, negative_slope:
                 leaky_relu_backward(grad, self, negative_slope)),
    self=("0", lambda grad, self: zeros_like(self)),
    result="element_wise")


def leaky_relu(input, negative_slope=0.01):
    a = input._array
    out = np.where(a > 0, a, a * a.dtype.type(negative_slope))
    return record(LeakyReluBackward0, Tensor._make(out, input.dtype), (input,), (input,),
                  (negative_slope,))


def leaky_relu_backward(grad_output, self, negative_slope):
    g = grad_output._array
    out = np.where(self._array > 0, g, g * g.dtype.type(negative_slope))
    return record(LeakyReluBackwardBackward0, Tensor._make(out, grad_output.dtype),
                  (grad_output, self), (self,), (negative_slope,))


HardtanhBackward0 = derivative(
    "HardtanhBackward0", ("self",), saves=("self",), attrs=("min_val", "max_val"),
    self=("grad · (min_val < self < max_val)", lambda grad, self, min_val, max_val:
          hardtanh_backward(grad, self, min_val, max_val)),
    result="element_wise")
HardtanhBackwardBackward0 = derivative(
    "HardtanhBackwardBackward0", ("grad_output", "self"), saves=("self",),
    attrs=("min_val", "max_val"),
    grad_output=("grad · (min_val < self < max_val)", lambda grad, self, min_val, max_val:
                 hardtanh_backward(grad, self, min_val, max_val)),
    self=("0", lambda grad, self: zeros_like(self)),
    result="element_wise")


def hardtanh(input, min_val=-1.0, max_val=1.0, saved=None):
    a = input._array
    out = np.minimum(np.maximum(a, a.dtype.type(min_val)), a.dtype.type(max_val))
    out = np.where(np.isnan(a), a, out)
    saved = input if saved is None else saved
    return record(HardtanhBackward0, Tensor._make(out, input.dtype), (input,), (saved,),
                  (min_val, max_val))


def hardtanh_backward(grad_output, self, min_val, max_val):
    a, g = self._array, grad_output._array
    out = np.where((a <= min_val) | (a >= max_val), g.dtype.type(0), g)
    return record(HardtanhBackwardBackward0, Tensor._make(out, grad_output.dtype),
                  (grad_output, self), (self,), (min_val, max_val))


# ---- elu (selu, celu) --------------------------------------------------------------------------

EluBackward0 = derivative(
    "EluBackward0", ("self",), saves=("self",), attrs=("alpha", "scale", "input_scale"),
    self=("grad · (self > 0 ? scale : alpha · scale · input_scale · exp(self · input_scale))",
          lambda grad, self, alpha, scale, input_scale: elu_backward(
              grad, alpha, scale, input_scale, False, self)),
    result="element_wise")
CeluBackward0 = derivative(
    "CeluBackward0", ("self",), saves=("self",), attrs=("alpha",),
    self=("grad · (self > 0 ? 1 : exp(self / alpha))", lambda grad, self, alpha: elu_backward(
        grad, alpha, 1, 1.0 / float(np.float32(alpha)), False, self)),  # (ATen's float)
    result="element_wise")
EluBackwardBackward0 = derivative(
    "EluBackwardBackward0", ("grad_output", "self_or_result"),
    saves=("grad_output", "self_or_result"),
    attrs=("alpha", "scale", "input_scale", "is_result"),
    grad_output=("grad · elu'(self)", lambda grad, self_or_result, alpha, scale, input_scale,
                 is_result: elu_backward(grad, alpha, scale, input_scale, is_result,
                                         self_or_result)),
    self_or_result=("grad · grad_output · elu''(self)", lambda grad, grad_output,
                    self_or_result, alpha, scale, input_scale, is_result: _elu_double_backward(
                        grad * grad_output, self_or_result, alpha, scale, input_scale,
                        is_result)),
    result="element_wise")


def _elu_double_backward(grad, self_or_result, alpha, scale, input_scale, is_result):
    if is_result:  # PyTorch's elu_double_backward for a saved result
        return grad * input_scale * (self_or_result < 0).to(grad.dtype)
    return where(self_or_result <= 0, grad * (self_or_result * input_scale).exp() * (
        alpha * scale * input_scale * input_scale), 0.0)


def _elu_values(x, alpha, scale, input_scale):
    return np.where(x <= 0, np.expm1(x * input_scale) * (alpha * scale), x * scale)


def elu(input, alpha=1.0, scale=1, input_scale=1):
    return _float_op(lambda x: _elu_values(x, alpha, scale, input_scale), input, EluBackward0,
                     (alpha, scale, input_scale))


def celu(input, alpha=1.0):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _float_op(lambda x: _elu_values(x, alpha, 1, 1.0 / alpha), input, CeluBackward0,
                     (alpha,))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input):
    return elu(input, SELU_ALPHA, SELU_SCALE, 1)


def _elu_slope(x, alpha, scale, input_scale, is_result):
    if is_result:  # x is the result: its negative part is alpha · scale · (exp - 1)
        return np.where(x <= 0, input_scale * (x + alpha * scale), scale)
    return np.where(x <= 0, np.exp(x * input_scale) * (alpha * scale * input_scale), scale)


def elu_backward(grad_output, alpha, scale, input_scale, is_result, self_or_result):
    return _backward_op(
        lambda g, x: g * _elu_slope(x, alpha, scale, input_scale, is_result), grad_output,
        self_or_result, EluBackwardBackward0, (grad_output, self_or_result),
        (alpha, scale, input_scale, is_result))


# ---- silu, mish: PyTorch differentiates their backward as compositions -------------------------

def _silu_backward(grad, self):
    """PyTorch's infinitely_differentiable_silu_backward."""
    s = self.sigmoid()
    return grad * s * add_scalar(self * rsub_number(1.0, s), 1.0)


def _mish_backward(grad, self):
    """PyTorch's infinitely_differentiable_mish_backward."""
    s = self.sigmoid()
    t = self.exp().log1p().tanh()
    return grad * (t + self * s * rsub_number(1.0, t * t))


SiluBackward0 = derivative(
    "SiluBackward0", ("self",), saves=("self",),
    self=("grad · σ(self) · (1 + self · (1 - σ(self)))", _silu_backward),
    result="element_wise")
MishBackward0 = derivative(
    "MishBackward0", ("self",), saves=("self",),
    self=("grad · (tanh(softplus(self)) + self · σ(self) · sech²(softplus(self)))",
          _mish_backward), result="element_wise")


def silu(input):
    return _float_op(lambda x: x / (1 + np.exp(-x)), input, SiluBackward0)


def mish(input):
    return _float_op(lambda x: x * np.tanh(np.logaddexp(0, x)), input, MishBackward0)


# ---- softplus ----------------------------------------------------------------------------------

SoftplusBackward0 = derivative(
    "SoftplusBackward0", ("self",), saves=("self",), attrs=("beta", "threshold"),
    self=("grad · σ(beta · self) (grad above threshold)", lambda grad, self, beta, threshold:
          softplus_backward(grad, self, beta, threshold)),
    result="element_wise")
SoftplusBackwardBackward0 = derivative(
    "SoftplusBackwardBackward0", ("grad_output", "self"), saves=("grad_output", "self"),
    attrs=("beta", "threshold"),
    grad_output=("grad · σ(beta · self)", lambda grad, self, beta, threshold: softplus_backward(
        grad, self, beta, threshold)),
    self=("grad · grad_output · beta · σ'(beta · self)", lambda grad, grad_output, self, beta,
          threshold: _softplus_double_backward(grad * grad_output, self, beta, threshold)),
    result="element_wise")


def _softplus_double_backward(grad, self, beta, threshold):
    """PyTorch's softplus_double_backward."""
    x = self * beta
    return sigmoid_backward(grad, x.sigmoid()) * (x < threshold).to(grad.dtype) * beta


def softplus(input, beta=1, threshold=20):
    def f(x):
        bx = x * beta
        return np.where(bx > threshold, x, np.log1p(np.exp(bx)) / beta)
    return _float_op(f, input, SoftplusBackward0, (beta, threshold))


def softplus_backward(grad_output, self, beta, threshold):
    def f(g, x):
        bx = x * beta
        return np.where(bx > threshold, g, g / (1 + np.exp(-bx)))
    return _backward_op(f, grad_output, self, SoftplusBackwardBackward0, (grad_output, self),
                        (beta, threshold))



# ---- log_sigmoid -------------------------------------------------------------------------------

LogSigmoidBackward0 = derivative(
    "LogSigmoidBackward0", ("self",), saves=("self", "buffer"),
    self=("grad · sigmoid(-self)", lambda grad, self, buffer: log_sigmoid_backward(
        grad, self, buffer)),
    result="element_wise")
LogSigmoidBackwardBackward0 = derivative(
    "LogSigmoidBackwardBackward0", ("grad_output", "self"),
    saves=("grad_output", "self", "buffer"),
    grad_output=("grad · sigmoid(-self)", lambda grad, self, buffer: log_sigmoid_backward(
        grad, self, buffer)),
    # naming buffer: PyTorch saves it whichever input needs a gradient
    self=("grad · grad_output · (σ(self) - 1) · σ(self)", lambda grad, grad_output, self,
          buffer: _log_sigmoid_double_backward(grad * grad_output, self)),
    result="element_wise")


def _log_sigmoid_double_backward(grad, self):
    """PyTorch's log_sigmoid_double_backward."""
    z = self.sigmoid()
    return grad * sub_scalar(z, 1) * z


def log_sigmoid(input):
    """ATen's log_sigmoid_forward: min(x, 0) - log1p(z), keeping z = exp(-|x|) (its buffer)."""
    x = input._array.astype(np.float64)
    z = quietly(np.exp, -np.abs(x))
    out = np.asarray(np.minimum(x, 0) - np.log1p(z), input._array.dtype)
    buffer = Tensor._make(np.asarray(z, input._array.dtype), input.dtype)
    return record(LogSigmoidBackward0, Tensor._make(out, input.dtype), (input,),
                  (input, buffer))


def log_sigmoid_backward(grad_output, self, buffer):
    """ATen's log_sigmoid_backward: (x < 0 ? 1 - z / (1 + z) : z / (1 + z)) · grad."""
    z, g = buffer._array, grad_output._array
    negative = self._array < 0
    out = np.where(negative, 1 - z / (1 + z), z / (1 + z)) * g
    return record(LogSigmoidBackwardBackward0, Tensor._make(np.asarray(out, g.dtype),
                                                            grad_output.dtype),
                  (grad_output, self), (grad_output, self, buffer))


# ---- in place: the activations' `_` forms ------------------------------------------------------
# leaky_relu_, elu_ (selu_, celu_) save their result (LeakyReluBackward1, EluBackward1,
# CeluBackward1); hardtanh_ (relu6), silu_ and mish_ record the out-of-place node, saving a
# clone of the input taken before the write, as PyTorch does.

NEGATIVE_SLOPE_IN_PLACE = (
    "In-place leakyReLu backward calculation is triggered with a negative slope which is not "
    "supported. This is caused by calling in-place forward function with a negative slope, please "
    "call out-of-place version instead. File an issue at https://github.com/pytorch/pytorch if "
    "you do require supporting in-place leakRelu backward calculation with negative slope")


def _leaky_relu_result_backward(grad, result, negative_slope):
    if negative_slope < 0:
        raise RuntimeError(NEGATIVE_SLOPE_IN_PLACE)
    return leaky_relu_backward(grad, result, negative_slope)


LeakyReluBackward1 = derivative(
    "LeakyReluBackward1", ("self",), saves=("result",), attrs=("negative_slope",),
    self=("grad · (result > 0 ? 1 : negative_slope)", _leaky_relu_result_backward),
    result="element_wise")
EluBackward1 = derivative(
    "EluBackward1", ("self",), saves=("result",), attrs=("alpha", "scale", "input_scale"),
    self=("grad · (result > 0 ? scale : input_scale · (result + alpha · scale))",
          lambda grad, result, alpha, scale, input_scale: elu_backward(
              grad, alpha, scale, input_scale, True, result)),
    result="element_wise")
CeluBackward1 = derivative(
    "CeluBackward1", ("self",), saves=("result",), attrs=("alpha",),
    self=("grad · (result > 0 ? 1 : result / alpha + 1)", lambda grad, result, alpha:
          elu_backward(grad, alpha, 1, 1.0 / float(np.float32(alpha)), True, result)),
    result="element_wise")


def _in_place(input, op):
    from .inplace import inplace
    return inplace(input, op)


def _saving_result(fn, cls, attrs):
    """An op ``fn`` (of float64 values) whose node ``cls`` saves its result."""
    def op(self):
        a = self._array
        out = np.asarray(quietly(fn, a.astype(np.float64)), a.dtype)
        return record(cls, Tensor._make(out, self.dtype), (self,), (RESULT,), attrs)
    return op


def _saving_a_clone(op):
    """``op(t, saved)`` recorded on ``t`` while saving a clone of it (taken before the write)."""
    return lambda t: op(t, t.clone())


def leaky_relu_(input, negative_slope=0.01):
    def fn(x):
        return np.where(x > 0, x, x * negative_slope)
    return _in_place(input, _saving_result(fn, LeakyReluBackward1, (negative_slope,)))


def elu_(input, alpha=1.0, scale=1, input_scale=1):
    return _in_place(input, _saving_result(
        lambda x: _elu_values(x, alpha, scale, input_scale), EluBackward1,
        (alpha, scale, input_scale)))


def selu_(input):
    return elu_(input, SELU_ALPHA, SELU_SCALE, 1)


def celu_(input, alpha=1.0):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _in_place(input, _saving_result(lambda x: _elu_values(x, alpha, 1, 1.0 / alpha),
                                           CeluBackward1, (alpha,)))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _in_place(input, _saving_a_clone(lambda t, saved: hardtanh(t, min_val, max_val,
                                                                      saved)))


def silu_(input):
    return _in_place(input, _saving_a_clone(lambda t, saved: _float_op(
        lambda x: x / (1 + np.exp(-x)), t, SiluBackward0, saved=saved)))


def mish_(input):
    return _in_place(input, _saving_a_clone(lambda t, saved: _float_op(
        lambda x: x * np.tanh(np.logaddexp(0, x)), t, MishBackward0, saved=saved)))
