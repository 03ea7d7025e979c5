"""Convolution (ATen's ``convolution`` and ``convolution_backward``) and ``constant_pad_nd``.

The kernels work on NumPy arrays of any number of spatial dims: a strided view of every window
the kernel visits (im2col without a Python loop over pixels), one batched matmul per call; the
gradient of the input scatters the columns back with one slice-add per kernel offset.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..tensor import Tensor
from ._core import derivative, joint, record

# ---- NumPy kernels ------------------------------------------------------------------------------


def _padded(x, padding, extra=None, value=0):
    """``x`` with ``padding`` on both sides of each spatial dim (and ``extra`` more at the end)."""
    extra = extra or (0,) * len(padding)
    if not any(padding) and not any(extra):
        return x
    shape = x.shape[:2] + tuple(n + 2 * p + e for n, p, e in zip(x.shape[2:], padding, extra))
    out = np.full(shape, value, x.dtype)
    out[(slice(None),) * 2 + tuple(slice(p, p + n) for n, p in zip(x.shape[2:], padding))] = x
    return out


def windows(xp, kernel, stride, dilation, out):
    """A read-only view (N, C, *out, *kernel) of ``xp``: every window the kernel visits."""
    s = xp.strides
    return as_strided(xp, xp.shape[:2] + tuple(out) + tuple(kernel),
                      s[:2] + tuple(a * b for a, b in zip(s[2:], stride)) +
                      tuple(a * b for a, b in zip(s[2:], dilation)), writeable=False)


def _columns(x, kernel, stride, padding, dilation, out, groups):
    """im2col: (groups, C/groups · prod(kernel), N · prod(out)), a copy (its inner loop runs
    along a row of the input, which keeps the copy fast)."""
    w = windows(_padded(x, padding), kernel, stride, dilation, out)
    d = len(kernel)
    w = w.transpose((1,) + tuple(range(2 + d, 2 + 2 * d)) + (0,) + tuple(range(2, 2 + d)))
    return w.reshape(groups, x.shape[1] // groups * math.prod(kernel), x.shape[0] * math.prod(out))


def conv_out_size(size, kernel, stride, padding, dilation):
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))


def conv(x, w, stride, padding, dilation, groups):
    """y[n, o] = Σ w[o, c, k] · x_padded[n, c, out · stride + k · dilation], c in o's group."""
    kernel, out = w.shape[2:], conv_out_size(x.shape[2:], w.shape[2:], stride, padding, dilation)
    cols = _columns(x, kernel, stride, padding, dilation, out, groups)
    y = np.matmul(w.reshape(groups, w.shape[0] // groups, -1), cols)
    y = y.reshape((w.shape[0], x.shape[0]) + out)
    return np.ascontiguousarray(y.swapaxes(0, 1))


def conv_input_grad(g, w, size, stride, padding, dilation, groups):
    """The adjoint of ``conv`` in its input, of spatial ``size`` (also the transposed conv).

    Group by group: the columns w · g, laid out (kernel, out, N, C) so that each kernel offset's
    slice-add runs along N · C contiguous values, summed back into the padded input."""
    if groups > 1:
        o = w.shape[0] // groups
        return np.concatenate([conv_input_grad(g[:, i * o:(i + 1) * o], w[i * o:(i + 1) * o],
                                               size, stride, padding, dilation, 1)
                               for i in range(groups)], 1)
    n, (o, c), kernel, out, d = g.shape[0], w.shape[:2], w.shape[2:], g.shape[2:], len(size)
    spatial_first = (tuple(range(2, 2 + d)) + (0, 1))
    gp = g.transpose(spatial_first).reshape(-1, o)
    wk = w.reshape(o, c, -1).transpose(2, 0, 1)
    cols = np.matmul(gp, wk).reshape(kernel + out + (n * c,))
    full = np.zeros(tuple(s + 2 * p for s, p in zip(size, padding)) + (n * c,), g.dtype)
    for k in np.ndindex(*kernel):
        full[tuple(slice(i * dl, i * dl + st * (m - 1) + 1, st)
                   for i, dl, st, m in zip(k, dilation, stride, out))] += cols[k]
    full = full[tuple(slice(p, p + s) for p, s in zip(padding, size))]
    full = full.reshape(size + (n, c))
    return np.ascontiguousarray(full.transpose((d, d + 1) + tuple(range(d))))


def conv_weight_grad(g, x, kernel, stride, padding, dilation, groups):
    """The adjoint of ``conv`` in its weight: Σ over n and positions of g · x's windows."""
    n, o = g.shape[:2]
    cols = _columns(x, kernel, stride, padding, dilation, g.shape[2:], groups)
    gg = g.reshape(n, groups, o // groups, -1).transpose(1, 0, 3, 2)
    gw = np.matmul(cols, gg.reshape(groups, -1, o // groups))
    return np.ascontiguousarray(gw.transpose(0, 2, 1)).reshape(
        (o, x.shape[1] // groups) + tuple(kernel))


def _transposed_size(size, kernel, stride, padding, dilation, output_padding):
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, d, op in
                 zip(size, kernel, stride, padding, dilation, output_padding))


def _expanded(d, *params):
    """Each of ``params`` with one value per spatial dim (ATen takes a single value for all)."""
    return tuple(p * d if len(p) == 1 else p for p in params)


def convolution_array(x, w, b, stride, padding, dilation, transposed, output_padding, groups):
    stride, padding, dilation, output_padding = _expanded(
        w.ndim - 2, stride, padding, dilation, output_padding)
    if transposed:
        size = _transposed_size(x.shape[2:], w.shape[2:], stride, padding, dilation,
                                output_padding)
        y = conv_input_grad(x, w, size, stride, padding, dilation, groups)
    else:
        y = conv(x, w, stride, padding, dilation, groups)
    if b is not None:
        y += b.reshape((1, -1) + (1,) * (y.ndim - 2))
    return y


def backward_arrays(g, x, w, stride, padding, dilation, transposed, groups, mask):
    """(grad_input, grad_weight, grad_bias), None where ``mask`` says no."""
    stride, padding, dilation = _expanded(w.ndim - 2, stride, padding, dilation)
    if transposed:
        gi = mask[0] and conv(g, w, stride, padding, dilation, groups)
        gw = mask[1] and conv_weight_grad(x, g, w.shape[2:], stride, padding, dilation, groups)
    else:
        gi = mask[0] and conv_input_grad(g, w, x.shape[2:], stride, padding, dilation, groups)
        gw = mask[1] and conv_weight_grad(g, x, w.shape[2:], stride, padding, dilation, groups)
    gb = mask[2] and g.sum((0,) + tuple(range(2, g.ndim)))
    return tuple(a if a is not False else None for a in (gi, gw, gb))


# ---- the ops ------------------------------------------------------------------------------------

CONV_ATTRS = ("stride", "padding", "dilation", "transposed", "output_padding", "groups")


def _backward(grad, input, weight, stride, padding, dilation, transposed, output_padding, groups,
              bias_sym_sizes_opt, *, needs):
    return convolution_backward(grad, input, weight, bias_sym_sizes_opt, stride, padding,
                                dilation, transposed, output_padding, groups, needs)


def _backward_arrays(grad, input, weight, stride, padding, dilation, transposed, output_padding,
                     groups, bias_sym_sizes_opt, *, needs):
    return backward_arrays(grad, input, weight, stride, padding, dilation, transposed, groups,
                           needs)


GEOMETRY = ("stride", "padding", "dilation", "transposed", "groups")  # what backward reads
_input_grad, _weight_grad, _bias_grad = joint(
    _backward, 3, _backward_arrays,
    shows=(("grad", "weight") + GEOMETRY, ("grad", "input") + GEOMETRY, ("grad",)))


def _conv_jvp(input_t, weight_t, bias_t, input, weight, bias, stride, padding, dilation,
              transposed, output_padding, groups):
    """PyTorch's convolution_jvp: conv(input_t, weight, bias_t) + conv(input, weight_t)."""
    args = (stride, padding, dilation, transposed, output_padding, groups)
    return (convolution(input_t, weight, bias_t if bias is not None else None, *args) +
            convolution(input, weight_t, None, *args))


ConvolutionBackward0 = derivative(
    "ConvolutionBackward0", ("input", "weight", "bias"), saves=("input", "weight"),
    attrs=CONV_ATTRS + ("bias_sym_sizes_opt",),
    input=("conv_transpose(grad, weight): each grad · weight added back over its window",
           _input_grad),
    weight=("correlation of input with grad (grad as the kernel), summed over the batch",
            _weight_grad),
    bias=("grad summed over the batch and every position (all dims but 1)", _bias_grad),
    result=("conv(input_t, weight, bias_t) + conv(input, weight_t)", _conv_jvp))


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """ATen's convolution (checked by the caller), recorded as ConvolutionBackward0."""
    y = convolution_array(input._array, weight._array, None if bias is None else bias._array,
                          stride, padding, dilation, transposed, output_padding, groups)
    out = Tensor._make(y, input.dtype)
    sizes = (0,) if bias is None else tuple(bias._array.shape)
    return record(ConvolutionBackward0, out, (input, weight, bias), (input, weight),
                  (stride, padding, dilation, transposed, output_padding, groups, sizes))


def _double_backward(name):
    """One of the three results of PyTorch's _convolution_double_backward, as a formula."""
    def fn(grads, grad_output, input, weight, stride, padding, dilation, transposed,
           output_padding, groups):
        return _DOUBLE[name](*grads, grad_output, input, weight, stride, padding, dilation,
                             transposed, output_padding, groups)
    return fn


def _ggO(ggI, ggW, ggb, gO, input, weight, stride, padding, dilation, transposed,
         output_padding, groups):
    """grad_output's: conv(ggI, weight) + conv(input, ggW) + ggb."""
    args = (stride, padding, dilation, transposed, output_padding, groups)
    out = None
    if input.numel():
        if ggI is not None:
            out = convolution(ggI, weight, None, *args)
        if ggW is not None:
            term = convolution(input, ggW, None, *args)
            out = term if out is None else out + term
    if ggb is not None:
        term = ggb.contiguous().view((1, -1) + (1,) * (gO.dim() - 2)).expand(gO.shape)
        out = term if out is None else out + term
    return out


def _gI(ggI, ggW, ggb, gO, input, weight, stride, padding, dilation, transposed,
        output_padding, groups):
    """input's: the other-way convolution of gO with ggW."""
    if ggW is None or not input.numel():
        return None
    if transposed:
        gI = convolution(gO, ggW, None, stride, padding, dilation, False, output_padding, groups)
        for i in range(2, gI.dim()):
            if gI.shape[i] > input.shape[i]:
                gI = gI.narrow(i, 0, input.shape[i])
        return gI
    kernel = weight.shape[2:]
    op = tuple(n - ((k - 1) * d - 2 * p + s * (o - 1) + 1) for n, k, d, p, s, o in zip(
        input.shape[2:], kernel, dilation, padding, stride, gO.shape[2:]))
    return convolution(gO, ggW, None, stride, padding, dilation, True, op, groups)


def _gW(ggI, ggW, ggb, gO, input, weight, stride, padding, dilation, transposed,
        output_padding, groups):
    """weight's: conv(ggI, gO) over the batch, group by group."""
    if ggI is None or not input.numel():
        return None
    from .shape import cat
    gOt, ggIt = gO.transpose(0, 1), ggI.transpose(0, 1)
    args = (dilation, padding, stride, False, output_padding, 1)  # stride and dilation swap

    def one(a, b):
        return convolution(b, a, None, *args) if transposed else convolution(a, b, None, *args)
    if groups == 1:
        gWt = one(ggIt, gOt)
    else:
        n, m = ggIt.shape[0] // groups, gOt.shape[0] // groups
        gWt = cat([one(ggIt.narrow(0, g * n, n), gOt.narrow(0, g * m, m))
                   for g in range(groups)], 1)
    gW = gWt.transpose(0, 1)
    for i in range(2, gW.dim()):
        if gW.shape[i] > weight.shape[i]:
            gW = gW.narrow(i, 0, weight.shape[i])
    return gW


_DOUBLE = {"grad_output": _ggO, "input": _gI, "weight": _gW}
ConvolutionBackwardBackward0 = derivative(
    "ConvolutionBackwardBackward0", ("grad_output", "input", "weight"),
    saves=("grad_output", "input", "weight"), attrs=CONV_ATTRS, num_outputs=3,
    grad_output=("conv(ggI, weight) + conv(input, ggW) + ggb", _double_backward("grad_output")),
    input=("conv_transpose(grad_output, ggW)", _double_backward("input")),
    weight=("conv(ggI, grad_output) over the batch", _double_backward("weight")),
    result=("bilinear: each result's backward of the tangents", lambda grad_output_t, input_t,
            weight_t, grad_output, input, weight, result, stride, padding, dilation, transposed,
            output_padding, groups: _conv_backward_jvp(
                (grad_output_t, input_t, weight_t), (grad_output, input, weight), result,
                (stride, padding, dilation, transposed, output_padding, groups))))
ConvolutionBackwardBackward0._multi = True  # its formulas read each output's grad (or None)


def _conv_backward_jvp(tangents, primals, result, attrs):
    """convolution_backward is linear in grad_output and in each of input (for grad_weight) and
    weight (for grad_input): PyTorch's result0..2 formulas."""
    (gO_t, x_t, w_t), (gO, x, w) = tangents, primals
    mask = tuple(r is not None for r in result)
    by_grad = convolution_backward(gO_t, x, w, None, *attrs, mask)
    gi = mask[0] and by_grad[0] + convolution_backward(gO, x, w_t, None, *attrs,
                                                       (True, False, False))[0]
    gw = mask[1] and by_grad[1] + convolution_backward(gO, x_t, w, None, *attrs,
                                                       (False, True, False))[1]
    gb = by_grad[2] if gO._fw_grad is not None else None  # PyTorch: none from a zero gO_t
    return tuple(t if t is not False else None for t in (gi, gw, gb))


def convolution_backward(grad_output, input, weight, bias_sizes, stride, padding, dilation,
                         transposed, output_padding, groups, output_mask):
    """ATen's convolution_backward: (grad_input, grad_weight, grad_bias), None where not asked."""
    arrays = backward_arrays(grad_output._array, input._array, weight._array, stride, padding,
                             dilation, transposed, groups, output_mask)
    outs = tuple(None if a is None else Tensor._make(a, input.dtype) for a in arrays)
    return record(ConvolutionBackwardBackward0, outs, (grad_output, input, weight),
                  (grad_output, input, weight),
                  (stride, padding, dilation, transposed, output_padding, groups))


# ---- constant_pad_nd ----------------------------------------------------------------------------

ConstantPadNdBackward0 = derivative(
    "ConstantPadNdBackward0", ("self",), attrs=("pad",),
    self=("grad cropped by pad", lambda grad, pad: constant_pad_nd(grad, tuple(-p for p in pad))),
    result=("constant_pad_nd(self_t, pad)", lambda self_t, pad: constant_pad_nd(self_t, pad)))


def constant_pad_nd(self, pad, value=0):
    """Pad (or, where negative, crop) the last len(pad) // 2 dims, the last one first."""
    a = self._array
    n = len(pad) // 2
    lead = a.ndim - n
    new = a.shape[:lead] + tuple(a.shape[lead + i] + pad[2 * (n - 1 - i)] + pad[2 * (n - 1 - i) + 1]
                                 for i in range(n))
    if min(new[lead:], default=0) < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    out = np.full(new, value, a.dtype)
    src, dst = [slice(None)] * lead, [slice(None)] * lead
    for i in range(n):
        before, after = pad[2 * (n - 1 - i)], pad[2 * (n - 1 - i) + 1]
        size = a.shape[lead + i]
        src.append(slice(max(-before, 0), size - max(-after, 0)))
        dst.append(slice(max(before, 0), new[lead + i] - max(after, 0)))
    out[tuple(dst)] = a[tuple(src)]
    return record(ConstantPadNdBackward0, Tensor._make(out, self.dtype), (self,), (), (pad,))


# ---- conv1d, conv2d: PyTorch's argument handling and checks -------------------------------------

def _name(dt):
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(dt.name, dt.name)


def _int_list(value, n):
    """What PyTorch's argument parser makes of an int or a sequence for an int[n] parameter."""
    return (value,) * n if isinstance(value, int) else tuple(value)


def expand_param(values, name, dim):
    """PyTorch's expand_param_if_needed."""
    if len(values) == 1:
        return values * dim
    if len(values) != dim:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dim} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(values)}")
    return tuple(values)


def _batchify(input, d, op):
    """PyTorch's batchify: an unbatched input gets a batch dim of 1."""
    if input.dim() == d + 1:
        return input.unsqueeze(0), False
    if input.dim() != d + 2:
        raise RuntimeError(f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {op}, "
                           f"but got input of size: {list(input.shape)}")
    return input, True


def _check_shape(input, weight, bias, stride, padding, dilation, groups, transposed=False):
    """PyTorch's check_shape_forward, in its order, and the kernel's type and size checks."""
    ws = list(weight.shape)
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if weight.dim() != input.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-"
                           f"dimensional weight {ws}, but got {input.dim()}-dimensional input of "
                           f"size {list(input.shape)} instead")
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {ws} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{ws}] instead")
    channels = ws[0] if transposed else ws[1] * groups
    outs = ws[1] * groups if transposed else ws[0]
    said = f"Given transposed=1, weight of size {ws}" if transposed else \
        f"Given groups={groups}, weight of size {ws}"
    if input.shape[1] != channels:
        raise RuntimeError(f"{said}, expected input{list(input.shape)} to have {channels} "
                           f"channels, but got {input.shape[1]} channels instead")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != outs):
        who = said if transposed else f"Given weight of size {ws}"
        raise RuntimeError(f"{who}, expected bias to be 1-dimensional with {outs} elements, but "
                           f"got bias of size {list(bias.shape)} instead")
    if not transposed:
        sizes = [n + 2 * p for n, p in zip(input.shape[2:], padding)]
        kernel = [d * (k - 1) + 1 for d, k in zip(dilation, ws[2:])]
        if any(n < k for n, k in zip(sizes, kernel)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, sizes))}). "
                f"Kernel size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater "
                "than actual input size")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype._legacy[:-6]} but found "
                           f"{weight.dtype._legacy[:-6]}")
    if 0 in ws[2:]:
        h, w = ([1] + ws[2:])[-2:]
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {h} "
                           f"kernel_width: {w}")
    if 0 in input.shape[2:] and 0 not in input.shape[:2]:
        raise RuntimeError("Only zero batch or zero channel inputs are supported, but got input "
                           f"shape: {list(input.shape)}")


def _same_padding(input, weight, stride, dilation):
    """padding="same": PyTorch pads symmetrically in the conv, the odd one at the end first."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    d = weight.dim() - 2
    dilation = expand_param(_int_list(dilation, d), "dilation", d)
    padding, extra = [], [0] * (2 * d)
    for i, (k, dl) in enumerate(zip(weight.shape[2:], dilation)):
        total = dl * (k - 1)
        padding.append(total // 2)
        extra[2 * (d - 1 - i) + 1] = total - 2 * (total // 2)
    if any(extra):
        import warnings
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                      "require a zero-padded copy of the input be created", stacklevel=4)
        input = constant_pad_nd(input, tuple(extra))
    return input, tuple(padding)


def _conv_nd(d, op, input, weight, bias, stride, padding, dilation, groups):
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({_name(input.dtype)}) and bias type "
                           f"({_name(bias.dtype)}) should be the same")
    input, batched = _batchify(input, d, op)
    output_padding = (0,) * d
    if isinstance(padding, str):
        if padding == "valid":
            padding = output_padding = (0,)
        elif padding == "same":
            input, padding = _same_padding(input, weight, _int_list(stride, d), dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    stride, padding, dilation = (_int_list(v, d) for v in (stride, padding, dilation))
    k = weight.dim() - 2
    _check_shape(input, weight, bias, *(expand_param(v, name, k) for v, name in (
        (stride, "stride"), (padding, "padding"), (dilation, "dilation"))), groups)
    out = convolution(input, weight, bias, stride, padding, dilation, False, output_padding,
                      groups)
    return out if batched else out.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv_nd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv_nd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)
