"""Losses that are ops of their own in PyTorch: mse_loss, nll_loss, binary_cross_entropy and
binary_cross_entropy_with_logits (``reduction`` is ATen's enum: 0 none, 1 mean, 2 sum).

The other losses (l1, cross_entropy) are compositions, built in ``gradlab.nn.functional``.
"""
import numpy as np

from .. import _dtype
from ..tensor import Tensor
from ..autograd.grad_mode import _local
from ._core import (array_of, broadcast_error, cr_exp, cr_log, cr_log1p, derivative, promote,
                    quietly, record)
from .elementwise import add_scalar, div_scalar, mul_scalar, rsub_number, where, zeros_like

EPSILON = float(np.float32(1e-12))  # PyTorch's floor for (1 - x) · x in BCE's backward (a float)

MseLossBackward0 = derivative(
    "MseLossBackward0", ("self", "target"), saves=("self", "target"), attrs=("reduction",),
    self=("grad · 2(self - target) / N",
          lambda grad, self, target, reduction: mse_loss_backward(grad, self, target, reduction)),
    target=("grad · 2(target - self) / N",
            lambda grad, self, target, reduction: mse_loss_backward(grad, target, self, reduction)),
    result="reduction")
MseLossBackwardBackward0 = derivative(
    "MseLossBackwardBackward0", ("grad_output", "self", "target"),
    saves=("grad_output", "self", "target"), attrs=("reduction",),
    grad_output=("grad · 2(self - target) / N", lambda grad, grad_output, self, target, reduction:
                 _mse_double_backward_grad_output(grad, grad_output, self, target, reduction)),
    self=("grad · grad_output · 2 / N", lambda grad, grad_output, self, reduction:
          _mse_double_backward(grad * grad_output, self, reduction)),
    target=("-grad · grad_output · 2 / N", lambda grad, grad_output, target, reduction:
            -_mse_double_backward(grad * grad_output, target, reduction)),
    result="element_wise")


def _nll_node(name, two_d):
    """NllLossBackward0 or NllLoss2DBackward0: its formula is the nll_loss_backward op."""
    return derivative(
        name, ("self",), saves=("self", "target", "weight", "total_weight"),
        attrs=("reduction", "ignore_index"),
        self=("-grad · weight[target] at target (/ total_weight)", lambda grad, self, target,
              weight, total_weight, reduction, ignore_index: nll_loss_backward(
                  grad, self, target, weight, reduction, ignore_index, total_weight, two_d)),
        result=("nll_loss(self_t)", lambda self_t, target, weight, reduction, ignore_index: (
            nll_loss2d if two_d else nll_loss)(self_t, target, weight, reduction, ignore_index)))


def _nll_backward_node(name, two_d):
    """nll_loss_backward's own node: linear in grad_output, whose derivative is nll_loss."""
    return derivative(
        name, ("grad_output", "self"), saves=("target", "weight"),
        attrs=("reduction", "ignore_index"), hidden=("total_weight",),
        grad_output=("nll_loss(grad)", lambda grad, target, weight, reduction, ignore_index: (
            nll_loss2d if two_d else nll_loss)(grad, target, weight, reduction, ignore_index)),
        # naming target and weight: PyTorch saves them whichever input needs a gradient
        self=("0", lambda grad, target, weight: zeros_like(grad)),
        # linear in grad_output, as PyTorch's decomposition of nll_loss_backward differentiates
        # it: no tangent unless grad_output has one
        result=("nll_loss_backward(grad_output_t)", lambda grad_output_t, grad_output, self,
                target, weight, reduction, ignore_index, total_weight: None
                if grad_output._fw_grad is None else nll_loss_backward(
                    grad_output_t, self, target, weight, reduction, ignore_index, total_weight,
                    two_d)))


NllLossBackward0 = _nll_node("NllLossBackward0", False)
NllLoss2DBackward0 = _nll_node("NllLoss2DBackward0", True)
NllLossBackwardBackward0 = _nll_backward_node("NllLossBackwardBackward0", False)
NllLoss2DBackwardBackward0 = _nll_backward_node("NllLoss2DBackwardBackward0", True)
BinaryCrossEntropyBackward0 = derivative(
    "BinaryCrossEntropyBackward0", ("self", "target"), saves=("self", "target", "weight"),
    attrs=("reduction",),
    self=("grad · (self - target) / max((1 - self) · self, ε)",
          lambda grad, self, target, weight, reduction: binary_cross_entropy_backward(
              grad, self, target, weight, reduction)),
    target=("-grad · logit(self)", lambda grad, self, target, weight, reduction:
            _bce_target_backward(grad, self, target, weight, reduction)),
    result="reduction")
BinaryCrossEntropyBackwardBackward0 = derivative(
    "BinaryCrossEntropyBackwardBackward0", ("grad_output", "self", "target"),
    saves=("grad_output", "self", "target", "weight"), attrs=("reduction",),
    grad_output=("grad · (self - target) / (self · (1 - self))",
                 lambda grad, self, target, weight, reduction: _bce_ggo(
                     grad, self, target, weight, reduction)),
    self=("grad · grad_output · (self² - 2 self target + target) / (self (1 - self))²",
          lambda grad, grad_output, self, target, weight, reduction: _bce_gi(
              grad, grad_output, self, target, weight, reduction)),
    target=("-grad · grad_output / (self (1 - self))",
            lambda grad, grad_output, self, target, weight, reduction: _bce_gt(
                grad, grad_output, self, target, weight, reduction)),
    result="element_wise")
BinaryCrossEntropyWithLogitsBackward0 = derivative(
    "BinaryCrossEntropyWithLogitsBackward0", ("self", "target"),
    saves=("self", "target", "weight", "pos_weight"), attrs=("reduction",),
    self=("grad · ((1 + pos_weight · target) · sigmoid(self) - pos_weight · target)",
          lambda grad, self, target, weight, pos_weight, reduction: _bce_logits_backward(
              grad, self, target, weight, pos_weight, reduction)),
    target=("grad · (log_sigmoid(-self) - pos_weight · log_sigmoid(self))",
            lambda grad, self, target, weight, pos_weight, reduction: _bce_logits_target_backward(
                grad, self, target, weight, pos_weight, reduction)),
    result="reduction")


def mse_loss_backward(grad_output, self, target, reduction):
    """ATen's mse_loss_backward, an op of its own: (2 / N) · (self - target) · grad_output."""
    dt = promote(self, target)
    norm = dt.np.type(2.0 / self._array.size if reduction == 1 else 2.0)
    d = quietly(np.subtract, array_of(self, dt), array_of(target, dt))
    out = Tensor._make(np.asarray(quietly(np.multiply, d * norm, array_of(grad_output, dt))), dt)
    return record(MseLossBackwardBackward0, out, (grad_output, self, target),
                  (grad_output, self, target), (reduction,))


def _mse_double_backward(grad, input, reduction):
    """PyTorch's mse_loss_double_backward: 2 · grad, divided in place by N for a mean."""
    from .inplace import inplace
    grad_input = mul_scalar(grad, 2)
    if reduction == 1:
        n = input.numel()
        grad_input = inplace(grad_input, lambda t: div_scalar(t, n))
    return grad_input


def _mse_double_backward_grad_output(grad, grad_output, self, target, reduction):
    out = mse_loss_backward(grad, self, target, reduction)
    return out if reduction == 0 else out.sum()


def _reduce(loss, reduction, dt):
    """apply_loss_reduction on a NumPy array of elementwise losses."""
    if reduction == 1:
        return np.asarray(loss.mean(dtype=dt.np), dt.np).reshape(())
    if reduction == 2:
        return np.asarray(loss.sum(dtype=dt.np), dt.np).reshape(())
    return np.asarray(loss, dt.np)


def mse_loss(self, target, reduction=1):
    """ATen's mse_loss on inputs of one shape: (self - target)², reduced."""
    dt = promote(self, target)
    d = quietly(np.subtract, array_of(self, dt), array_of(target, dt))
    out = Tensor._make(_reduce(quietly(np.multiply, d, d), reduction, dt), dt)
    return record(MseLossBackward0, out, (self, target), (self, target), (reduction,))


def _scalar_type(t):
    return t.dtype._legacy[:-len("Tensor")]


def _check_nll(self, target, weight):
    if self._array.ndim not in (1, 2):
        raise RuntimeError("input tensor should be 1D or 2D")
    if target._array.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    _check_target_dtype(target)
    n_classes = self._array.shape[-1]
    if weight is not None and (weight._array.ndim != 1 or weight._array.size != n_classes):
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes "
                           f"or no classes but got weight tensor of shape: "
                           f"{list(weight._array.shape)}")
    _check_weight_dtype(self, weight)


def _check_nll2d(self, target, weight):
    """check_inputs_nll_loss2d and the kernel's dtype checks, in PyTorch's order."""
    if target._array.ndim != 3:
        raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                           f"targets of dimension: {target._array.ndim}")
    if self._array.ndim != 4:
        raise RuntimeError("only batches of spatial inputs supported (4D tensors), but got "
                           f"input of dimension: {self._array.ndim}")
    _check_target_dtype(target)
    shape, t_shape = self._array.shape, target._array.shape
    if weight is not None and weight._array.size != shape[1]:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if (shape[0], shape[2], shape[3]) != t_shape:
        raise RuntimeError(f"size mismatch (got input: {list(shape)} , target: {list(t_shape)}")
    _check_weight_dtype(self, weight)
    if target.dtype is _dtype.uint8:
        raise RuntimeError("expected scalar type Long but found Byte")


def _check_target_dtype(target):
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_scalar_type(target)}")


def _check_weight_dtype(self, weight):
    if weight is not None and weight.dtype is not self.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_type(self)} but found "
                           f"{_scalar_type(weight)}")


def _targets(target, ignore_index, n_classes):
    """The target classes (ignored ones replaced by 0) and the mask of those not ignored."""
    t = np.asarray(target._array, np.int64).reshape(-1)
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"Target {t[bad][0]} is out of bounds.")
    return np.where(keep, t, 0), keep


def _rows(a):
    """An (N, C, d1, ...) array as rows of C class scores, in the order of the targets."""
    return a.reshape(1, -1) if a.ndim == 1 else np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _row_weights(weight, t, keep, dt):
    """weight[target] per row (1 without weights), 0 for ignored rows."""
    w = np.ones(len(t), dt.np) if weight is None else \
        np.asarray(weight._array, dt.np).reshape(-1)[t]
    return np.where(keep, w, dt.np.type(0))


def nll_loss(self, target, weight=None, reduction=1, ignore_index=-100):
    """ATen's nll_loss for a 1-D (one sample) or 2-D (batch, classes) input."""
    check_no_grad("nll_loss_forward", weight=weight)
    _check_nll(self, target, weight)
    return _nll(self, target, weight, reduction, ignore_index, NllLossBackward0)


def nll_loss2d(self, target, weight=None, reduction=1, ignore_index=-100):
    """ATen's nll_loss2d: a (N, C, H, W) input, (N, H, W) targets."""
    check_no_grad("nll_loss2d_forward", weight=weight)
    _check_nll2d(self, target, weight)
    return _nll(self, target, weight, reduction, ignore_index, NllLoss2DBackward0)


def _nll(self, target, weight, reduction, ignore_index, cls):
    x = np.asarray(self._array)
    rows = _rows(x)
    t, keep = _targets(target, ignore_index, rows.shape[1])
    dt = self.dtype
    w = _row_weights(weight, t, keep, dt)
    losses = np.where(keep, -(rows[np.arange(len(t)), t] * w), dt.np.type(0))
    total = w.sum(dtype=dt.np) if reduction or x.ndim == 1 else dt.np.type(0)
    if reduction == 0 and x.ndim > 1:
        value = losses.reshape(target._array.shape)
    else:
        value = losses.sum(dtype=dt.np)
        if reduction == 1:
            value = quietly(np.true_divide, value, total)
    out = Tensor._make(np.asarray(value, dt.np), dt)
    total_weight = Tensor._make(np.asarray(total, dt.np), dt)
    return record(cls, out, (self,), (self, target, weight, total_weight),
                  (reduction, ignore_index))


def nll_loss_backward(grad, self, target, weight, reduction, ignore_index, total_weight, two_d):
    """ATen's nll_loss_backward (nll_loss2d_backward if ``two_d``): -grad (/ total_weight for
    mean) · weight[target] at each target class, nothing for ignored targets."""
    shape = self._array.shape
    n_classes = 1 if not shape else (shape[0] if len(shape) == 1 else shape[1])
    t, keep = _targets(target, ignore_index, n_classes)
    dt = self.dtype
    g = np.asarray(grad._array, dt.np)
    if reduction == 0 and len(shape) > 1:
        g = g.reshape(-1)
    elif reduction == 1:
        g = quietly(np.true_divide, g, np.asarray(total_weight._array, dt.np))
    rows = np.zeros((len(t), n_classes), dt.np)
    rows[np.arange(len(t)), t] = np.where(keep, _row_weights(weight, t, keep, dt) * -g,
                                          dt.np.type(0))
    if len(shape) == 1:
        a = rows.reshape(shape)
    else:
        a = np.moveaxis(rows.reshape((shape[0],) + shape[2:] + (n_classes,)), -1, 1).copy()
    cls = NllLoss2DBackwardBackward0 if two_d else NllLossBackwardBackward0
    return record(cls, Tensor._make(a, dt), (grad, self), (target, weight),
                  (reduction, ignore_index, total_weight))


def binary_cross_entropy_backward(grad_output, self, target, weight, reduction):
    """ATen's binary_cross_entropy_backward, an op of its own (its double backward below)."""
    x, y = np.asarray(self._array), np.asarray(array_of(target, self.dtype))
    g = np.asarray(grad_output._array, x.dtype)
    value = quietly(lambda: g * (x - y) / np.maximum((1 - x) * x, x.dtype.type(EPSILON)))
    if weight is not None:
        value = value * np.asarray(weight._array, x.dtype)
    if reduction == 1:
        value = value / x.dtype.type(x.size)
    out = Tensor._make(np.asarray(value, x.dtype), self.dtype)
    return record(BinaryCrossEntropyBackwardBackward0, out, (grad_output, self, target),
                  (grad_output, self, target, weight), (reduction,))


def _div_numel_(t, like):
    """t.div_(like.numel()): an in-place division by a number (DivBackward1)."""
    from .inplace import inplace
    n = like.numel()
    return inplace(t, lambda u: div_scalar(u, n))


def _bce_target_backward(grad, self, target, weight, reduction):
    """PyTorch's binary_cross_entropy_target_backward: -logit(self) · grad, in place."""
    g = self.logit().neg_().mul_(grad)
    if weight is not None:
        g = g.mul_(weight)
    return _div_numel_(g, target) if reduction == 1 else g


def _bce_ggo(grad, self, target, weight, reduction):
    """PyTorch's binary_cross_entropy_double_backward_grad_output."""
    eps = 1e-12
    ggo = (self - target) / (add_scalar(self, eps) * add_scalar(rsub_number(1, self), eps))
    ggo = ggo.mul_(grad)
    if weight is not None:
        ggo = ggo.mul_(weight)
    if reduction == 1:
        ggo = _div_numel_(ggo, self)
    return ggo.sum() if reduction else ggo


def _bce_gi(grad, grad_output, self, target, weight, reduction):
    """PyTorch's binary_cross_entropy_double_backward (the gradient for self)."""
    eps = 1e-12
    denom = add_scalar(self, eps).pow(2) * add_scalar(rsub_number(1, self), eps).pow(2)
    gi = (self * self - mul_scalar(self, 2) * target + target) / denom
    gi = gi.mul_(grad * grad_output)
    if weight is not None:
        gi = gi.mul_(weight)
    return div_scalar(gi, self.numel()) if reduction == 1 else gi


def _bce_gt(grad, grad_output, self, target, weight, reduction):
    """PyTorch's binary_cross_entropy_double_backward_target."""
    from ..autograd.grad_mode import no_grad
    res = -grad * grad_output
    if weight is not None:
        res = res.mul_(weight)
    denom = rsub_number(1, self).mul_(self)
    with no_grad():
        denom.clamp_(min=EPSILON)
    res = res.div_(denom)
    return _div_numel_(res, target) if reduction == 1 else res


def binary_cross_entropy(self, target, weight=None, reduction=1):
    """ATen's binary_cross_entropy: log terms floored at -100, as PyTorch."""
    check_no_grad("binary_cross_entropy", weight=weight)
    if target.dtype is not self.dtype:
        raise RuntimeError(f"Found dtype {_scalar_type(target)} but expected {_scalar_type(self)}")
    x, y = np.asarray(self._array), np.asarray(array_of(target, self.dtype))
    if not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if not ((y >= 0) & (y <= 1)).all():
        raise RuntimeError("all elements of target should be between 0 and 1")
    one, floor = x.dtype.type(1), x.dtype.type(-100)
    loss = quietly(lambda: (y - one) * np.maximum(cr_log1p(-x), floor)
                   - y * np.maximum(cr_log(x), floor))
    if weight is not None:
        loss = loss * np.asarray(weight._array, x.dtype)
    out = Tensor._make(_reduce(loss, reduction, self.dtype), self.dtype)
    return record(BinaryCrossEntropyBackward0, out, (self, target), (self, target, weight),
                  (reduction,))


def _bce_logits_backward(grad, self, target, weight, pos_weight, reduction):
    """PyTorch's binary_cross_entropy_with_logits_backward (as grad mode records it)."""
    if pos_weight is not None:
        t = pos_weight * target
        grad_input = (add_scalar(t, 1) - target) * self.sigmoid() - t
    else:
        grad_input = self.sigmoid() - target
    grad_input = grad_input * grad
    if weight is not None:
        grad_input = grad_input * weight
    return _div_numel_(grad_input, self) if reduction == 1 else grad_input


def _bce_logits_target_backward(grad, self, target, weight, pos_weight, reduction):
    """PyTorch's binary_cross_entropy_with_logits_target_backward."""
    if pos_weight is not None:
        from .activation import log_sigmoid
        grad_target = (log_sigmoid(-self) - log_sigmoid(self) * pos_weight) * grad
    else:
        grad_target = -self * grad
    if weight is not None:
        grad_target = grad_target.mul_(weight)
    return _div_numel_(grad_target, target) if reduction == 1 else grad_target


def check_no_grad(op, **optional):
    """PyTorch's check_no_requires_grad: with grad mode on, the tensors an op does not
    differentiate for (weights) must not require grad."""
    if _local.enabled:
        for name, t in optional.items():
            if t is not None and t.requires_grad:
                raise RuntimeError(f"The function '{op}' is not differentiable with respect to "
                                   f"argument '{name}'. This input cannot have requires_grad "
                                   "True.")


def _check_in_place(shape, other):
    """An in-place op's check: ``other`` broadcasts into ``shape`` without growing it."""
    try:
        full = np.broadcast_shapes(shape, other)
    except ValueError:
        raise broadcast_error(shape, other) from None
    if full != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(full)}")


def binary_cross_entropy_with_logits(self, target, weight=None, pos_weight=None, reduction=1):
    """ATen's binary_cross_entropy_with_logits: (1 - target) · x - log_weight · log_sigmoid(x),
    log_weight = 1 + (pos_weight - 1) · target."""
    check_no_grad("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    x, y = np.asarray(self._array), np.asarray(array_of(target, self.dtype))
    one = x.dtype.type(1)
    log_sigmoid = quietly(lambda: np.minimum(x, 0) - cr_log1p(cr_exp(-np.abs(x))))
    if pos_weight is not None:
        pw = np.asarray(pos_weight._array, x.dtype)
        try:  # (pos_weight - 1).mul(target), then into log_sigmoid(x) in place
            _check_in_place(x.shape, np.broadcast_shapes(pw.shape, y.shape))
        except ValueError:
            raise broadcast_error(pw.shape, y.shape) from None
        log_sigmoid = log_sigmoid * ((pw - one) * y + one)
    loss = (one - y) * x - log_sigmoid
    if weight is not None:
        _check_in_place(loss.shape, weight._array.shape)
        loss = loss * np.asarray(weight._array, x.dtype)
    out = Tensor._make(_reduce(loss, reduction, self.dtype), self.dtype)
    return record(BinaryCrossEntropyWithLogitsBackward0, out, (self, target),
                  (self, target, weight, pos_weight), (reduction,))


def _double_backward_grad_output(backward, grad, grad_output, self, target, reduction, arg):
    """The gradient for grad_output of a loss's backward op, linear in grad_output."""
    out = backward(grad, self, target, reduction, arg)
    return out if reduction == 0 else out.sum()


def _smooth_l1_double_backward(grad, self, target, reduction, beta):
    """PyTorch's smooth_l1_loss_double_backward: grad · (|self - target| < beta) / beta."""
    if beta == 0:
        return zeros_like(grad)
    inside = ((self - target).abs() < beta).to(grad.dtype)
    grad_input = div_scalar(grad * inside, beta)
    return div_scalar(grad_input, self.numel()) if reduction == 1 else grad_input


def _huber_double_backward_grad_output(grad, grad_output, self, target, reduction, delta):
    """PyTorch's huber_loss_double_backward_grad_output: the backward of ones, times grad."""
    if reduction == 0:
        return huber_loss_backward(grad, self, target, reduction, delta)
    ones = Tensor._make(np.ones(grad_output._array.shape, grad_output.dtype.np), grad_output.dtype)
    return (huber_loss_backward(ones, self, target, reduction, delta) * grad).sum()


def _huber_double_backward(grad, self, target, reduction, delta):
    """PyTorch's huber_loss_double_backward: grad · (|self - target| < delta)."""
    grad_input = grad * ((self - target).abs() < delta)
    return div_scalar(grad_input, self.numel()) if reduction == 1 else grad_input


SmoothL1LossBackward0 = derivative(
    "SmoothL1LossBackward0", ("self", "target"), saves=("self", "target"),
    attrs=("reduction", "beta"),
    self=("grad · clamp((self - target) / beta, -1, 1)", lambda grad, self, target, reduction,
          beta: smooth_l1_loss_backward(grad, self, target, reduction, beta)),
    target=("-grad · clamp((self - target) / beta, -1, 1)", lambda grad, self, target,
            reduction, beta: smooth_l1_loss_backward(grad, target, self, reduction, beta)),
    result="reduction")
SmoothL1LossBackwardBackward0 = derivative(
    "SmoothL1LossBackwardBackward0", ("grad_output", "self", "target"),
    saves=("grad_output", "self", "target"), attrs=("reduction", "beta"),
    grad_output=("grad · clamp((self - target) / beta, -1, 1)", lambda grad, grad_output, self,
                 target, reduction, beta: _double_backward_grad_output(
                     smooth_l1_loss_backward, grad, grad_output, self, target, reduction, beta)),
    self=("grad · grad_output · (|self - target| < beta) / beta", lambda grad, grad_output,
          self, target, reduction, beta: _smooth_l1_double_backward(
              grad * grad_output, self, target, reduction, beta)),
    target=("-grad · grad_output · (|self - target| < beta) / beta", lambda grad, grad_output,
            self, target, reduction, beta: -_smooth_l1_double_backward(
                grad * grad_output, self, target, reduction, beta)),
    result="element_wise")
HuberLossBackward0 = derivative(
    "HuberLossBackward0", ("self", "target"), saves=("self", "target"),
    attrs=("reduction", "delta"),
    self=("grad · clamp(self - target, -delta, delta)", lambda grad, self, target, reduction,
          delta: huber_loss_backward(grad, self, target, reduction, delta)),
    target=("-grad · clamp(self - target, -delta, delta)", lambda grad, self, target,
            reduction, delta: huber_loss_backward(grad, target, self, reduction, delta)),
    result="reduction")
HuberLossBackwardBackward0 = derivative(
    "HuberLossBackwardBackward0", ("grad_output", "self", "target"),
    saves=("grad_output", "self", "target"), attrs=("reduction", "delta"),
    grad_output=("grad · clamp(self - target, -delta, delta)", lambda grad, grad_output, self,
                 target, reduction, delta: _huber_double_backward_grad_output(
                     grad, grad_output, self, target, reduction, delta)),
    self=("grad · grad_output · (|self - target| < delta)", lambda grad, grad_output, self,
          target, reduction, delta: _huber_double_backward(
              grad * grad_output, self, target, reduction, delta)),
    target=("-grad · grad_output · (|self - target| < delta)", lambda grad, grad_output, self,
            target, reduction, delta: -_huber_double_backward(
                grad * grad_output, self, target, reduction, delta)),
    result="element_wise")


def _pointwise_backward(value, grad_output, self, target, reduction, cls, attr):
    """A loss's backward op, ATen's kernel ``value(d, norm · grad)`` with d = self - target and
    norm 1/N for a mean, recorded as ``cls``."""
    dt = promote(self, target)
    d = quietly(np.subtract, array_of(self, dt), array_of(target, dt))
    norm = dt.np.type(1 / d.size if reduction == 1 else 1)
    grad = np.asarray(array_of(grad_output, dt))
    out = Tensor._make(np.asarray(quietly(value, d, norm, grad), dt.np), dt)
    return record(cls, out, (grad_output, self, target), (grad_output, self, target),
                  (reduction, attr))


def smooth_l1_loss_backward(grad_output, self, target, reduction, beta):
    """ATen's smooth_l1_loss_backward, an op of its own: clamp(d / beta, -1, 1) · grad."""
    def value(d, norm, grad):
        b = d.dtype.type(beta)
        return np.where(d <= -b, -norm * grad, np.where(d >= b, norm * grad, norm * d * grad / b))
    return _pointwise_backward(value, grad_output, self, target, reduction,
                               SmoothL1LossBackwardBackward0, beta)


def huber_loss_backward(grad_output, self, target, reduction, delta):
    """ATen's huber_loss_backward, an op of its own: clamp(d, -delta, delta) · grad."""
    def value(d, norm, grad):
        k = d.dtype.type(delta)
        return np.where(d <= -k, -norm * grad * k, np.where(d >= k, norm * grad * k,
                                                           norm * d * grad))
    return _pointwise_backward(value, grad_output, self, target, reduction,
                               HuberLossBackwardBackward0, delta)


def smooth_l1_loss(self, target, reduction=1, beta=1.0):
    """ATen's smooth_l1_loss: ½ d² / beta inside |d| < beta, else |d| - ½ beta."""
    dt = promote(self, target)
    d = np.abs(array_of(self, dt) - array_of(target, dt))
    b = dt.np.type(beta)
    loss = np.where(d < b, dt.np.type(0.5) * d * d / b, d - dt.np.type(0.5) * b) if beta > 0 \
        else d
    out = Tensor._make(_reduce(quietly(np.asarray, loss), reduction, dt), dt)
    return record(SmoothL1LossBackward0, out, (self, target), (self, target), (reduction, beta))


def huber_loss(self, target, reduction=1, delta=1.0):
    """ATen's huber_loss: ½ d² inside |d| ≤ delta, else delta · (|d| - ½ delta)."""
    dt = promote(self, target)
    d = np.abs(array_of(self, dt) - array_of(target, dt))
    k = dt.np.type(delta)
    loss = np.where(d <= k, dt.np.type(0.5) * d * d, k * (d - dt.np.type(0.5) * k))
    out = Tensor._make(_reduce(loss, reduction, dt), dt)
    return record(HuberLossBackward0, out, (self, target), (self, target), (reduction, delta))


# ---- kl_div: a composition in ATen, over xlogy --------------------------------------------------

XlogyBackward0 = derivative(
    "XlogyBackward0", ("self", "other"), saves=("self", "other"),
    self=("xlogy(grad, other), 0 where self = 0 and other ≤ 0", lambda grad, self, other:
          xlogy(grad, other).masked_fill((self == 0.0) & (other <= 0.0), 0.0)),
    other=("grad · self / other", lambda grad, self, other: grad * self / other),
    result=("xlogy(self_t, other) + other_t · self / other", lambda self_t, other_t, self,
            other: xlogy(self_t, other).masked_fill((self == 0.0) & (other <= 0.0), 0.0)
            + other_t * self / other),
    broadcasts=True)


def xlogy(self, other):
    """ATen's xlogy: self · log(other), 0 where self is 0 (nan where other is nan)."""
    dt = promote(self, other)
    x, y = array_of(self, dt), array_of(other, dt)
    value = quietly(lambda: np.where(np.isnan(y), y, np.where(x == 0, dt.np.type(0),
                                                                x * cr_log(y))))
    out = Tensor._make(np.asarray(value, dt.np), dt)
    return record(XlogyBackward0, out, (self, other), (self, other))


def kl_div(self, target, reduction=1, log_target=False):
    """ATen's kl_div: exp(target) · (target - self) for log targets, else
    xlogy(target, target) - target · self; reduced."""
    if not (self.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    # the right operand first, as GCC evaluates ATen's `a - b`, `a * b` (it numbers the nodes)
    if log_target:
        difference = target - self
        output = target.exp() * difference
    else:
        product = target * self
        output = xlogy(target, target) - product
    return output.mean() if reduction == 1 else output.sum() if reduction == 2 else output
