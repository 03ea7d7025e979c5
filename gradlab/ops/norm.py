"""Normalization ops: native_batch_norm and native_layer_norm with their backward ops.

Both normalise groups of elements (a channel over the batch and the spatial dims; a sample over
the normalized dims): x̂ = (x - mean) · invstd. Their backward ops share one formula, and their
double backward one more, written with gradlab's ops (so a third derivative differentiates it).
"""
import numpy as np

from ..autograd.grad_mode import _local
from ..tensor import Tensor
from ._core import derivative, joint, quietly, record
from .elementwise import add_scalar


def _group_view(t, x, group_dims):
    """A per-group tensor (mean, invstd) viewed to broadcast against ``x``."""
    return t.reshape(tuple(n if d in group_dims else 1 for d, n in enumerate(x.shape)))


def _norm_terms(x, mean, invstd, dims):
    count = int(np.prod([x.shape[d] for d in dims]))
    xhat = (x - mean) * invstd
    return xhat, count


def _project(v, xhat, dims, count):
    """P(v) = v - mean(v) - x̂ · mean(v · x̂) over each group: x̂'s Jacobian is invstd · P."""
    mean_along_xhat = (v * xhat).sum(dims, keepdim=True) / count
    return v - v.sum(dims, keepdim=True) / count - xhat * mean_along_xhat


def _input_grad(grad, x, weight, mean, invstd, dims):
    """The gradient of a normalization's input: invstd · P(grad · weight)."""
    xhat, count = _norm_terms(x, mean, invstd, dims)
    g = grad if weight is None else grad * weight
    return invstd * _project(g, xhat, dims, count)


def _double_backward(ggI, ggW, ggB, gO, x, weight, mean, invstd, dims, weight_dims, train,
                     mask):
    """The gradients of <ggI, gI> + <ggW, gW> + <ggB, gB> for (gO, x, weight), where (gI, gW,
    gB) is the first backward; mean and invstd are held constant, as PyTorch holds them."""
    xhat, count = _norm_terms(x, mean, invstd, dims)
    g = gO if weight is None else gO * weight
    gO_grad = x_grad = w_grad = None
    if train:
        p_ggI = _project(ggI, xhat, dims, count) if ggI is not None else None
        if mask[0]:
            parts = []
            if p_ggI is not None:
                parts.append(invstd * p_ggI if weight is None else invstd * p_ggI * weight)
            if ggW is not None:
                parts.append(ggW * xhat)
            if ggB is not None:
                parts.append(ggB.expand(gO.shape) if not parts else ggB)
            gO_grad = _total(parts, gO)
        if mask[1]:
            parts = []
            if ggI is not None:
                gI = invstd * _project(g, xhat, dims, count)
                a = (ggI * gI).sum(dims, keepdim=True) / count
                b = (ggI * xhat).sum(dims, keepdim=True) / count
                c = (g * xhat).sum(dims, keepdim=True) / count
                parts += [-(invstd * a * xhat), -(invstd * invstd * c * p_ggI),
                          -(invstd * invstd * b * _project(g, xhat, dims, count))]
            if ggW is not None:
                parts.append(invstd * _project(ggW * gO, xhat, dims, count))
            x_grad = _total(parts, x)
        if mask[2] and ggI is not None:
            w_grad = _sum_over(gO * invstd * p_ggI, weight_dims)
    else:
        if mask[0]:
            parts = []
            if ggI is not None:
                parts.append(ggI * invstd if weight is None else ggI * invstd * weight)
            if ggW is not None:
                parts.append(ggW * xhat)
            if ggB is not None:
                parts.append(ggB.expand(gO.shape) if not parts else ggB)
            gO_grad = _total(parts, gO)
        if mask[1]:
            x_grad = _total([gO * ggW * invstd] if ggW is not None else [], x)
        if mask[2] and ggI is not None:
            w_grad = _sum_over(ggI * gO * invstd, weight_dims)
    return gO_grad, x_grad, w_grad


def _sum_over(t, dims):
    return t.sum(dims) if dims else t


def _total(parts, like):
    if not parts:
        return Tensor._make(np.zeros(like.shape, like.dtype.np), like.dtype)
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def _norm_jvp(input_p, input_t, weight_p, weight_t, bias_t, mean_p, invstd_p, dims, numel,
              affine_view, train=True):
    """PyTorch's batch_norm_jvp / layer_norm_jvp: the tangent of (x - mean) · invstd · weight +
    bias, the statistics' own tangents included when they come from the input (training)."""
    if train:
        centred_t = input_t - input_t.mean(dims, True)
        invstd_t = -invstd_p.pow(3) * (centred_t * (input_p - mean_p)).sum(dims, True) / numel
        result_t = centred_t * invstd_p + (input_p - mean_p) * invstd_t
    else:
        result_t = input_t * invstd_p
    if weight_p is not None:
        result_t = result_t * weight_p.view(affine_view) \
            + (input_p - mean_p) * invstd_p * weight_t.view(affine_view)
    if bias_t is not None:
        result_t = result_t + bias_t.view(affine_view)
    return result_t


def _jvp_by_duals(fn, primals, tangents):
    """The tangents of fn's outputs, fn run on dual tensors (primal, tangent) whose ops carry
    them: the forward derivative of a backward op computed by a composition of gradlab's ops."""
    from ..autograd import forward_ad
    duals = [p.view(p.shape) if isinstance(p, Tensor) and t is not None else p  # (its graph)
             for p, t in zip(primals, tangents)]
    level, forward_ad._levels.current = forward_ad._levels.current, 0
    try:
        for d, t in zip(duals, tangents):
            if isinstance(d, Tensor) and t is not None:
                forward_ad.set_tangent(d, t)
        outs = fn(*duals)
        return tuple(None if o is None else o._fw_grad if o._fw_grad is not None else
                     Tensor._make(np.zeros(o._array.shape, o.dtype.np), o.dtype) for o in outs)
    finally:
        forward_ad._levels.current = level


def _stats_tangents(x, x_t, mean, invstd, dims, train):
    """The tangents of a normalization's saved mean and invstd (functions of the input when
    training), shaped as they are saved."""
    if not train:
        return None, None
    view = _group_view(mean, x, tuple(d for d in range(x.dim()) if d not in dims))
    mean_t = x_t.mean(dims, True)
    count = int(np.prod([x.shape[d] for d in dims]))
    invstd_v = invstd.reshape(view.shape)
    invstd_t = -invstd_v.pow(3) * ((x_t - mean_t) * (x - view)).sum(dims, True) / count
    return mean_t.reshape(mean.shape), invstd_t.reshape(invstd.shape)


# ---- batch norm -------------------------------------------------------------------------------

def _bn_dims(x):
    return (0,) + tuple(range(2, x.dim()))


def _bn_stats(x, running_mean, running_var, training, eps, save_mean, save_invstd):
    """(mean, invstd) viewed as (1, C, 1, ...): the batch's or the running statistics'."""
    if training:
        mean, invstd = save_mean, save_invstd
    else:
        mean = running_mean
        invstd = Tensor._make(np.asarray(1 / np.sqrt(running_var._array.astype(np.float64) + eps),
                                         running_var.dtype.np), running_var.dtype)
    return _group_view(mean, x, (1,)), _group_view(invstd, x, (1,))


def _bn_backward(grad, input, weight, running_mean, running_var, result1, result2, training,
                 eps, *, needs):
    return native_batch_norm_backward(grad, input, weight, running_mean, running_var, result1,
                                      result2, training, eps, needs)


_bn_input, _bn_weight, _bn_bias = joint(_bn_backward, 3)
NativeBatchNormBackward0 = derivative(
    "NativeBatchNormBackward0", ("input", "weight", "bias"),
    saves=("input", "weight", "running_mean", "running_var", "result1", "result2"),
    attrs=("training", "eps"),
    input=("invstd · weight · P(grad)", _bn_input), weight=("Σ grad · x̂", _bn_weight),
    bias=("Σ grad", _bn_bias),
    result=("batch_norm_jvp(input, input_t, weight, weight_t, bias_t, ...)", lambda input,
            input_t, weight, weight_t, bias, bias_t, running_mean, running_var, result1, result2,
            training, eps: _bn_jvp(input, input_t, weight, weight_t, bias, bias_t, running_mean,
                                   running_var, result1, result2, training, eps)))


def _bn_jvp(input, input_t, weight, weight_t, bias, bias_t, running_mean, running_var,
            save_mean, save_invstd, train, eps):
    view = tuple(n if d == 1 else 1 for d, n in enumerate(input.shape))
    dims = _bn_dims(input)
    numel = input.numel() // input.shape[1]
    if train:
        mean, invstd = save_mean.view(view), save_invstd.view(view)
    else:
        mean = running_mean.view(view)
        invstd = 1 / (add_scalar(running_var.view(view), eps)).sqrt()
    return _norm_jvp(input, input_t, weight, weight_t, None if bias is None else bias_t, mean,
                     invstd, dims, numel, view, train)


def _bn_double(grads, grad_out, input, weight, running_mean, running_var, save_mean,
               save_invstd, train, eps, *, needs):
    x = input
    mean, invstd = _bn_stats(x, running_mean, running_var, train, eps, save_mean, save_invstd)
    ggI, ggW, ggB = grads
    w = None if weight is None else _group_view(weight, x, (1,))
    ggW = None if ggW is None else _group_view(ggW, x, (1,))
    ggB = None if ggB is None else _group_view(ggB, x, (1,))
    gO, gx, gw = _double_backward(ggI, ggW, ggB, grad_out, x, w, mean, invstd, _bn_dims(x),
                                  _bn_dims(x), train, needs)
    return gO, gx, gw, None, None


_bn_double_parts = joint(_bn_double, 5)
NativeBatchNormBackwardBackward0 = derivative(
    "NativeBatchNormBackwardBackward0",
    ("grad_out", "input", "weight", "running_mean", "running_var"), num_outputs=3,
    saves=("grad_out", "input", "weight", "running_mean", "running_var", "save_mean",
           "save_invstd"), attrs=("train", "eps"),
    grad_out=("the first backward, applied to (ggI, ggW, ggB)", _bn_double_parts[0]),
    input=("∂/∂input of <ggI, gI> + <ggW, gW>", _bn_double_parts[1]),
    weight=("Σ gO · invstd · P(ggI)", _bn_double_parts[2]),
    running_mean=("0", _bn_double_parts[3]), running_var=("0", _bn_double_parts[4]),
    result=("the backward's composition, run on dual tensors", lambda grad_out, grad_out_t,
            input, input_t, weight, weight_t, running_mean, running_var, save_mean, save_invstd,
            train, eps: _jvp_by_duals(
                lambda g, x, w, m, i: _bn_backward_values(g, x, w, running_mean, running_var, m,
                                                          i, train, eps, (True,) * 3),
                (grad_out, input, weight, save_mean, save_invstd),
                (grad_out_t, input_t, weight_t) + _stats_tangents(
                    input, input_t, save_mean, save_invstd, _bn_dims(input), train))))
NativeBatchNormBackwardBackward0._multi = True  # its formulas read each output's grad


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """ATen's native_batch_norm: the output (and, in training, the running statistics updated in
    place with the batch's mean and unbiased variance), in the order of ATen's CPU kernel's
    arithmetic: statistics accumulated in float64, the output as input · alpha + beta."""
    _check_batch_norm(input, weight, bias, running_mean, running_var, training)
    dt = input.dtype
    f = dt.np.type
    a = input._array
    dims = _bn_dims(input)
    shape = tuple(n if d == 1 else 1 for d, n in enumerate(a.shape))
    if training:
        count = a.size // a.shape[1] if a.shape[1] else 0
        wide = a.astype(np.float64)
        mean = wide.mean(dims).astype(dt.np)
        var_sum = ((wide - mean.reshape(shape)) ** 2).sum(dims).astype(dt.np)
        invstd = (1 / np.sqrt((var_sum / f(count)).astype(np.float64) + eps)).astype(dt.np)
        m = f(momentum)
        if running_mean is not None:
            _update(running_mean, m * mean + (f(1) - m) * running_mean._array)
        if running_var is not None:
            unbiased = var_sum.astype(np.float64) / (count - 1) if count > 1 else \
                np.full(var_sum.shape, np.inf)
            _update(running_var, np.float64(m) * unbiased + (f(1) - m) * running_var._array)
        save_mean = Tensor._make(mean, dt)
        save_invstd = Tensor._make(invstd, dt)
    else:
        mean = running_mean._array.astype(dt.np)
        invstd = f(1) / np.sqrt(running_var._array.astype(dt.np) + f(eps))
        save_mean = save_invstd = Tensor._make(np.zeros(0, dt.np), dt)
    alpha = invstd if weight is None else invstd * weight._array
    beta = -(mean * alpha) if bias is None else bias._array - mean * alpha
    y = quietly(lambda: a * alpha.reshape(shape) + beta.reshape(shape))
    out = Tensor._make(np.asarray(y, dt.np), dt)
    return record(NativeBatchNormBackward0, out, (input, weight, bias),
                  (input, weight, running_mean, running_var, save_mean, save_invstd),
                  (training, eps))


def _update(buffer, value):
    """A running statistic written in place (as ATen's kernel writes it: no new version)."""
    buffer._array[...] = value.astype(buffer.dtype.np)


def _check_batch_norm(input, weight, bias, running_mean, running_var, training):
    """_batch_norm_impl_index's checks and the CPU kernel's dtype check, in PyTorch's order."""
    channels = input.size(1)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
        if t is None and not training and name.startswith("running"):
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    if any(t is not None and t.dtype is not input.dtype
           for t in (weight, bias, running_mean, running_var)):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float"
                           if input.dtype.np == np.float32 else
                           "mixed dtype (CPU): all inputs must share same datatype.")


def _bn_backward_values(grad_out, x, weight, running_mean, running_var, save_mean, save_invstd,
                        train, eps, mask):
    """(grad_input, grad_weight, grad_bias) with gradlab's ops (None where ``mask`` says)."""
    dims = _bn_dims(x)
    mean, invstd = _bn_stats(x, running_mean, running_var, train, eps, save_mean, save_invstd)
    w = None if weight is None else _group_view(weight, x, (1,))
    if train:
        gI = _input_grad(grad_out, x, w, mean, invstd, dims) if mask[0] else None
    else:
        gI = grad_out * invstd * (1 if w is None else w) if mask[0] else None
    xhat = (x - mean) * invstd
    gW = (grad_out * xhat).sum(dims) if mask[1] else None
    gB = grad_out.sum(dims) if mask[2] else None
    return gI, gW, gB


def native_batch_norm_backward(grad_out, input, weight, running_mean, running_var, save_mean,
                               save_invstd, train, eps, mask):
    """ATen's native_batch_norm_backward: (grad_input, grad_weight, grad_bias), an op of its
    own, so that create_graph records one NativeBatchNormBackwardBackward0 for all three."""
    level, _local.enabled = _local.enabled, False  # the kernel: values only, then one node
    try:
        gI, gW, gB = _bn_backward_values(grad_out, input, weight, running_mean, running_var,
                                         save_mean, save_invstd, train, eps, mask)
    finally:
        _local.enabled = level
    outs = tuple(None if t is None else Tensor._make(t._array, t.dtype) for t in (gI, gW, gB))
    return record(NativeBatchNormBackwardBackward0, outs,
                  (grad_out, input, weight, running_mean, running_var),
                  (grad_out, input, weight, running_mean, running_var, save_mean, save_invstd),
                  (train, eps))


# ---- layer norm -------------------------------------------------------------------------------

def _ln_dims(x, normalized_shape):
    return tuple(range(x.dim() - len(normalized_shape), x.dim()))


def _ln_backward(grad, input, weight, bias, result1, result2, normalized_shape, *, needs):
    return native_layer_norm_backward(grad, input, normalized_shape, result1, result2, weight,
                                      bias, needs)


_ln_input, _ln_weight, _ln_bias = joint(_ln_backward, 3)
NativeLayerNormBackward0 = derivative(
    "NativeLayerNormBackward0", ("input", "weight", "bias"),
    saves=("input", "weight", "bias", "result1", "result2"), attrs=("normalized_shape",),
    input=("rstd · P(grad · weight)", _ln_input), weight=("Σ grad · x̂", _ln_weight),
    bias=("Σ grad", _ln_bias),
    result=("layer_norm_jvp(input, input_t, weight, weight_t, bias_t, ...)", lambda input,
            input_t, weight, weight_t, bias, bias_t, result1, result2, normalized_shape:
            _norm_jvp(input, input_t, weight, weight_t, None if bias is None else bias_t,
                      result1, result2, _ln_dims(input, normalized_shape),
                      int(np.prod(normalized_shape)), normalized_shape)))


def _ln_double(grads, grad_out, input, mean, rstd, weight, normalized_shape, *, needs):
    ggI, ggW, ggB = grads
    dims = _ln_dims(input, normalized_shape)
    lead = tuple(range(input.dim() - len(normalized_shape)))
    gO, gx, gw = _double_backward(ggI, ggW, ggB, grad_out, input, weight, mean, rstd, dims,
                                  lead, True, needs[:2] + needs[4:5])
    return gO, gx, None, None, gw, None


_ln_double_parts = joint(_ln_double, 6)
NativeLayerNormBackwardBackward0 = derivative(
    "NativeLayerNormBackwardBackward0", ("grad_out", "input", "mean", "rstd", "weight", "bias"),
    num_outputs=3, saves=("grad_out", "input", "mean", "rstd", "weight"),
    attrs=("normalized_shape",),
    grad_out=("the first backward, applied to (ggI, ggW, ggB)", _ln_double_parts[0]),
    input=("∂/∂input of <ggI, gI> + <ggW, gW>", _ln_double_parts[1]),
    mean=("0", _ln_double_parts[2]), rstd=("0", _ln_double_parts[3]),
    weight=("Σ gO · rstd · P(ggI)", _ln_double_parts[4]), bias=("0", _ln_double_parts[5]),
    result=("the backward's composition, run on dual tensors", lambda grad_out, grad_out_t,
            input, input_t, mean, rstd, weight, weight_t, bias, normalized_shape: _jvp_by_duals(
                lambda g, x, w, m, r: _ln_backward_values(g, x, normalized_shape, m, r, w, bias,
                                                          (True,) * 3),
                (grad_out, input, weight, mean, rstd), (grad_out_t, input_t, weight_t)
                + _stats_tangents(input, input_t, mean, rstd,
                                  _ln_dims(input, normalized_shape), True))))
NativeLayerNormBackwardBackward0._multi = True


def _check_layer_norm(input, normalized_shape, weight, bias):
    shape = list(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and list(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(t.shape)} and normalized_shape = {shape}")
    if list(input.shape[input.dim() - len(shape):]) != shape or input.dim() < len(shape):
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    if any(t is not None and t.dtype is not input.dtype for t in (weight, bias)):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float"
                           if input.dtype.np == np.float32 else
                           "mixed dtype (CPU): all inputs must share same datatype.")


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """ATen's native_layer_norm: each sample normalised over its last dims, in the order of the
    CPU kernel's arithmetic: ((x · rstd + (-rstd · mean)) · weight + bias)."""
    normalized_shape = tuple(normalized_shape)
    _check_layer_norm(input, normalized_shape, weight, bias)
    dt = input.dtype
    f = dt.np.type
    a = input._array
    dims = _ln_dims(input, normalized_shape)
    wide = a.astype(np.float64)
    mean = wide.mean(dims, keepdims=True)
    var = ((wide - mean) ** 2).mean(dims, keepdims=True).astype(dt.np)
    mean = mean.astype(dt.np)
    rstd = quietly(lambda: f(1) / np.sqrt(var + f(eps)))
    y = quietly(lambda: a * rstd + -rstd * mean)
    if weight is not None:
        y = y * weight._array
    if bias is not None:
        y = y + bias._array
    out = Tensor._make(np.asarray(y, dt.np), dt)
    return record(NativeLayerNormBackward0, out, (input, weight, bias),
                  (input, weight, bias, Tensor._make(mean, dt), Tensor._make(rstd, dt)),
                  (normalized_shape,))


def _ln_backward_values(grad_out, input, normalized_shape, mean, rstd, weight, bias, mask):
    """(grad_input, grad_weight, grad_bias) with gradlab's ops (None where ``mask`` says)."""
    dims = _ln_dims(input, normalized_shape)
    lead = tuple(range(input.dim() - len(normalized_shape)))
    gI = _input_grad(grad_out, input, weight, mean, rstd, dims) if mask[0] else None
    gW = _sum_over(grad_out * ((input - mean) * rstd), lead) if mask[1] and weight is not None \
        else None
    gB = _sum_over(grad_out, lead) if mask[2] and bias is not None else None
    return gI, gW, gB


def native_layer_norm_backward(grad_out, input, normalized_shape, mean, rstd, weight, bias, mask):
    """ATen's native_layer_norm_backward: (grad_input, grad_weight, grad_bias), an op of its own
    (one NativeLayerNormBackwardBackward0 for all three under create_graph)."""
    level, _local.enabled = _local.enabled, False
    try:
        gI, gW, gB = _ln_backward_values(grad_out, input, normalized_shape, mean, rstd, weight,
                                         bias, mask)
    finally:
        _local.enabled = level
    outs = tuple(None if t is None else Tensor._make(t._array, t.dtype) for t in (gI, gW, gB))
    return record(NativeLayerNormBackwardBackward0, outs,
                  (grad_out, input, mean, rstd, weight, bias),
                  (grad_out, input, mean, rstd, weight), (normalized_shape,))
