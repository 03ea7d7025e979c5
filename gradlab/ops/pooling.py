"""Pooling: max_pool2d_with_indices, avg_pool2d, _adaptive_avg_pool2d (and their backward ops,
whose own nodes give the second derivatives), max_pool1d and avg_pool1d as PyTorch composes them.

Windows are strided views of the padded input (see ``conv.windows``); gradients go back with
one bincount (max) or one slice-add per kernel offset (avg), never a loop over pixels.
"""
import numpy as np

from ..tensor import Tensor
from ._core import derivative, record
from .elementwise import zeros_like
from .conv import _padded, windows

# ---- geometry and checks (PyTorch's pooling_output_shape and pool2d_shape_check) ----------------


def _out_size(n, k, s, p, d, ceil_mode):
    if s == 0:
        raise RuntimeError("stride should not be zero")
    if p < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    if p > ((k - 1) * d + 1) // 2:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                           f"kernel_size={k} and dilation={d}")
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pair(value, op, what, omit=False):
    """A kernel_size/stride/padding/dilation argument as (h, w), with PyTorch's checks."""
    v = (value,) if isinstance(value, int) else () if value is None else tuple(value)
    if omit and not v:
        return None
    if len(v) not in (1, 2):
        order = "be either" if what == "dilation" else "either be"
        raise RuntimeError(f"{op}: {what} must {order} {'omitted, ' if omit else ''}a single int, "
                           "or a tuple of two ints")
    return v * 2 if len(v) == 1 else v


def _geometry(self, kernel_size, stride, padding, dilation, ceil_mode, op):
    """(kernel, stride, padding, dilation, output size) of a 2d pooling, checked."""
    kernel = _pair(kernel_size, op, "kernel_size")
    step = _pair(stride, op, "stride", omit=True) or kernel
    pad = _pair(padding, op, "padding")
    dil = _pair(dilation, op, "dilation")
    a = self._array
    if a.ndim not in (3, 4):
        if op == "avg_pool2d":
            self._dim_index(-3)
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    size = a.shape[-2:]
    out = tuple(_out_size(*args, ceil_mode) for args in zip(size, kernel, step, pad, dil))
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} "
                           f"kW: {kernel[1]}")
    if min(step) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {step[0]} dW: "
                           f"{step[1]}")
    if min(dil) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dil[0]} "
                           f"dilationW: {dil[1]}")
    if 0 in a.shape[-3:] or a.ndim == 3 and a.shape[0] == 0:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{list(a.shape)}")
    if min(out) < 1:
        c = a.shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{size[0]}x{size[1]}). Calculated output size: "
                           f"({c}x{out[0]}x{out[1]}). Output size is too small")
    return kernel, step, pad, dil, out


def _windows_of(a, kernel, stride, padding, dilation, out, fill):
    """The pooling windows (N, C, *out, *kernel) of 4-D ``a`` padded with ``fill``."""
    extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)) for n, k, s, p, d, o in
                  zip(a.shape[2:], kernel, stride, padding, dilation, out))
    return windows(_padded(a, padding, extra, fill), kernel, stride, dilation, out)


def _col2im(cols, size, kernel, stride, padding, dilation):
    """Sum ``cols`` (N, C, *kernel, *out) back into an (N, C, *size) array: each window's
    values to the positions it covers."""
    out = cols.shape[2 + len(kernel):]
    full = np.zeros(cols.shape[:2] + tuple(max(n + 2 * p, (o - 1) * s + d * (k - 1) + 1)
                                           for n, p, o, s, d, k in zip(
                                               size, padding, out, stride, dilation, kernel)),
                    cols.dtype)
    for k in np.ndindex(*kernel):
        at = tuple(slice(i * dl, i * dl + st * (o - 1) + 1, st)
                   for i, dl, st, o in zip(k, dilation, stride, out))
        full[(slice(None),) * 2 + at] += cols[(slice(None),) * 2 + k]
    return full[(slice(None),) * 2 + tuple(slice(p, p + n) for p, n in zip(padding, size))]


def _as4d(a):
    return a if a.ndim == 4 else a[None]


# ---- max_pool2d_with_indices ---------------------------------------------------------------------

def _gather_at(values, indices):
    """values[..., indices] over the flattened last two dims: PyTorch's max_pool_double_backward."""
    size = indices.shape[:-2] + (-1,)
    return values.contiguous().view(size).gather(-1, indices.view(size)).view(indices.shape)


MaxPool2DWithIndicesBackward0 = derivative(
    "MaxPool2DWithIndicesBackward0", ("self",), saves=("self", "result1"),
    attrs=("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    self=("each grad added at result1: its window's max, by index (row · width + column)",
          lambda grad, self, result1: max_pool2d_with_indices_backward(grad, self, result1),
          lambda grad, self, result1: _max_backward(grad, self.shape, result1)),
    result=("self_t at the indices", lambda self_t, result1: (_gather_at(self_t, result1), None)))
MaxPool2DWithIndicesBackwardBackward0 = derivative(
    "MaxPool2DWithIndicesBackwardBackward0", ("grad_output", "self"), saves=("indices",),
    grad_output=("grad at the indices", lambda grad, indices: _gather_at(grad, indices)),
    # naming indices: PyTorch saves them whichever input needs a gradient
    self=("0", lambda grad, indices: zeros_like(grad)),
    result=("grad_output_t to the indices", lambda grad_output_t, self, indices:
            max_pool2d_with_indices_backward(grad_output_t, self, indices)))


def _max_backward(g, shape, indices):
    """Each output's gradient added at its max's place: one bincount over the (n, c) planes."""
    planes = int(np.prod(shape[:-2]))
    hw = shape[-2] * shape[-1]
    flat = indices.reshape(planes, -1) + np.arange(planes)[:, None] * hw
    out = np.bincount(flat.ravel().astype(np.intp, copy=False), g.ravel(), planes * hw)
    return out.astype(g.dtype, copy=False).reshape(shape)


def max_pool2d_with_indices_backward(grad_output, self, indices):
    out = Tensor._make(_max_backward(grad_output._array, self._array.shape, indices._array),
                       grad_output.dtype)
    return record(MaxPool2DWithIndicesBackwardBackward0, out, (grad_output, self), (indices,))


def _window_max(win):
    """Each window's max and its offset in the window: a later value wins if greater or NaN,
    as in PyTorch's kernel. Without NaNs, the first offset holding the max: all ufuncs, no
    masked writes (which branch per element)."""
    kh, kw = win.shape[-2:]
    offsets = [win[..., k // kw, k % kw] for k in range(kh * kw)]
    values = offsets[0].copy()
    for v in offsets[1:]:
        np.maximum(v, values, out=values)  # NumPy returns its second argument on ties (-0., 0.)
    if values.dtype.kind == "f" and np.isnan(values).any():
        return _window_max_nan(offsets)
    arg = np.zeros(values.shape, np.int64)
    missed = np.ones(values.shape, bool)
    for v in offsets[:-1]:
        missed &= v != values
        arg += missed
    return values, arg


def _window_max_nan(offsets):
    values, arg = offsets[0].copy(), np.zeros(offsets[0].shape, np.int64)
    for k, v in enumerate(offsets[1:], 1):
        better = (v > values) | (v != v)
        np.copyto(values, v, where=better)
        arg[better] = k
    return values, arg


def max_pool2d_with_indices(self, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """(values, indices): each window's max and its index in the flattened input plane."""
    kernel, step, pad, dil, out = _geometry(self, kernel_size, stride, padding, dilation,
                                            ceil_mode, "max_pool2d")
    a = _as4d(self._array)
    fill = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    win = _windows_of(a, kernel, step, pad, dil, out, fill)
    values, arg = _window_max(win)
    rows = np.arange(out[0])[:, None] * step[0] - pad[0] + arg // kernel[1] * dil[0]
    cols = np.arange(out[1]) * step[1] - pad[1] + arg % kernel[1] * dil[1]
    idx = rows * a.shape[3] + cols
    shape = self._array.shape[:-2] + out
    values = Tensor._make(values.reshape(shape), self.dtype)
    indices = Tensor._make(idx.reshape(shape), _int64())
    record(MaxPool2DWithIndicesBackward0, (values, indices), (self,), (self, indices),
           tuple(map(_given, (kernel_size, stride, padding, dilation))) + (ceil_mode,))
    return values, indices


def _given(value):
    """An int[2] argument as PyTorch's parser passes it on (and its nodes save it)."""
    return (value, value) if isinstance(value, int) else () if value is None else tuple(value)


def _int64():
    from .. import _dtype
    return _dtype.int64


def max_pool2d(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return max_pool2d_with_indices(self, kernel_size, stride, padding, dilation, ceil_mode)[0]


# ---- avg_pool2d ---------------------------------------------------------------------------------

AVG_ATTRS = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
             "divisor_override")
AvgPool2DBackward0 = derivative(
    "AvgPool2DBackward0", ("self",), saves=("self",), attrs=AVG_ATTRS,
    self=("grad / divisor to each window's positions",
          lambda grad, self, kernel_size, stride, padding, ceil_mode, count_include_pad,
          divisor_override: avg_pool2d_backward(grad, self, kernel_size, stride, padding,
                                                ceil_mode, count_include_pad, divisor_override)),
    result=("avg_pool2d(self_t)", lambda self_t, kernel_size, stride, padding, ceil_mode,
            count_include_pad, divisor_override: avg_pool2d(
                self_t, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override)))
AvgPool2DBackwardBackward0 = derivative(
    "AvgPool2DBackwardBackward0", ("grad_output", "self"), attrs=AVG_ATTRS,
    grad_output=("avg_pool2d(grad)", lambda grad, kernel_size, stride, padding, ceil_mode,
                 count_include_pad, divisor_override: avg_pool2d(
                     grad, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)),
    self=("0", lambda grad: zeros_like(grad)),
    result=("avg_pool2d_backward(grad_output_t)", lambda grad_output_t, self, kernel_size, stride,
            padding, ceil_mode, count_include_pad, divisor_override: avg_pool2d_backward(
                grad_output_t, self, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override)))


def _divisor(size, kernel, stride, padding, out, count_include_pad, divisor_override):
    """Each output's divisor: the window's size within the padded input, or its count of
    input elements (count_include_pad=False), or divisor_override."""
    if divisor_override:
        return divisor_override
    counts = []
    for n, k, s, p, o in zip(size, kernel, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        counts.append(end - start if count_include_pad else
                      np.minimum(end, n) - np.maximum(start, 0))
    return counts[0][:, None] * counts[1]


def _avg_args(self, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    kernel, step, pad, dil, out = _geometry(self, kernel_size, stride, padding, 1, ceil_mode,
                                            "avg_pool2d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    div = _divisor(self._array.shape[-2:], kernel, step, pad, out, count_include_pad,
                   divisor_override)
    return kernel, step, pad, dil, out, div


def avg_pool2d(self, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    kernel, step, pad, dil, out, div = _avg_args(self, kernel_size, stride, padding, ceil_mode,
                                                 count_include_pad, divisor_override)
    a = _as4d(self._array)
    sums = _windows_of(a, kernel, step, pad, dil, out, 0).sum((-2, -1))
    y = (sums / div).astype(a.dtype, copy=False) if a.dtype.kind == "f" else sums // div
    out_t = Tensor._make(y.reshape(self._array.shape[:-2] + out), self.dtype)
    return record(AvgPool2DBackward0, out_t, (self,), (self,),
                  tuple(map(_given, (kernel_size, stride, padding))) + (
                      ceil_mode, count_include_pad, divisor_override))


def avg_pool2d_backward(grad_output, self, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override):
    kernel, step, pad, dil, out, div = _avg_args(self, kernel_size, stride, padding, ceil_mode,
                                                 count_include_pad, divisor_override)
    g = _as4d(grad_output._array)
    share = (g / div).astype(g.dtype, copy=False)
    cols = np.broadcast_to(share[:, :, None, None], g.shape[:2] + kernel + out)
    gi = _col2im(cols, self._array.shape[-2:], kernel, step, pad, dil)
    out_t = Tensor._make(gi.reshape(self._array.shape), grad_output.dtype)
    return record(AvgPool2DBackwardBackward0, out_t, (grad_output, self), (),
                  (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override))


# ---- _adaptive_avg_pool2d -----------------------------------------------------------------------

def _bins(n, m):
    """(m, n) 0/1 matrix of the input positions each of m adaptive bins averages, and counts."""
    i = np.arange(m)
    start, end = i * n // m, -(-(i + 1) * n // m)
    j = np.arange(n)
    return (j >= start[:, None]) & (j < end[:, None]), end - start


AdaptiveAvgPool2DBackward0 = derivative(
    "AdaptiveAvgPool2DBackward0", ("self",), saves=("self",),
    self=("grad / bin size to each bin's positions",
          lambda grad, self: adaptive_avg_pool2d_backward(grad, self)),
    result=("_adaptive_avg_pool2d(self_t)", lambda self_t, result: _adaptive_avg_pool2d(
        self_t, result.shape[-2:])))
AdaptiveAvgPool2DBackwardBackward0 = derivative(
    "AdaptiveAvgPool2DBackwardBackward0", ("grad_output", "self"),
    attrs=("grad_output_sym_argsize_minus_1", "grad_output_sym_argsize_minus_2"),
    grad_output=("_adaptive_avg_pool2d(grad)", lambda grad, grad_output_sym_argsize_minus_1,
                 grad_output_sym_argsize_minus_2: _adaptive_avg_pool2d(grad, (
                     grad_output_sym_argsize_minus_2, grad_output_sym_argsize_minus_1))),
    self=("0", lambda grad: zeros_like(grad)),
    result=("_adaptive_avg_pool2d_backward(grad_output_t)", lambda grad_output_t, self:
            adaptive_avg_pool2d_backward(grad_output_t, self)))


def _adaptive(a, size, transpose=False):
    """Sum over each bin (or, ``transpose``, spread each bin's value back) along the last 2 dims,
    divided by the bin sizes."""
    (mh, ch), (mw, cw) = (_bins(n, m) for n, m in zip(*(
        (a.shape[-2:], size) if not transpose else (size, a.shape[-2:]))))
    mh, mw = mh.astype(a.dtype), mw.astype(a.dtype)
    div = (ch[:, None] * cw).astype(a.dtype)
    if transpose:
        return mh.T @ (a / div) @ mw
    return (mh @ a @ mw.T) / div


def _adaptive_avg_pool2d(self, output_size):
    a = self._array
    if a.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(a.shape)}")
    for d in range(a.ndim - 3, a.ndim):
        if a.shape[d] == 0:
            raise RuntimeError(
                "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch "
                f"dimensions, but input has sizes {list(a.shape)} with dimension {d} being empty")
    out = Tensor._make(_adaptive(a, tuple(output_size)), self.dtype)
    return record(AdaptiveAvgPool2DBackward0, out, (self,), (self,))


def adaptive_avg_pool2d_backward(grad_output, self):
    g = grad_output._array
    out = Tensor._make(_adaptive(g, self._array.shape[-2:], True), grad_output.dtype)
    return record(AdaptiveAvgPool2DBackwardBackward0, out, (grad_output, self), (),
                  (g.shape[-1], g.shape[-2]))


def adaptive_avg_pool2d(self, output_size):
    """ATen's adaptive_avg_pool2d: a mean over the last two dims for a 1×1 output."""
    size = (output_size,) * 2 if isinstance(output_size, int) else tuple(output_size)
    if len(size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if min(size) < 0:
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than or "
                           f"equal to 0 but received {{{size[0]}, {size[1]}}}")
    if size == (1, 1):
        return self.mean((-1, -2), keepdim=True)
    return _adaptive_avg_pool2d(self, size)


# ---- 1d pooling: PyTorch's compositions over the 2d ops -----------------------------------------

def _single(value):
    return (value,) if isinstance(value, int) else () if value is None else tuple(value)


def max_pool1d_with_indices(self, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    if self.dim() not in (2, 3):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(self.shape)}")
    k, p, d = _single(kernel_size), _single(padding), _single(dilation)
    s = _single(stride) or k
    values, indices = max_pool2d_with_indices(self.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p,
                                              (1,) + d, ceil_mode)
    return values.squeeze(-2), indices.squeeze(-2)


def max_pool1d(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    if self.dim() not in (2, 3):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(self.shape)}")
    k, p = _single(kernel_size)[0], _single(padding)[0]
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    s, d = (_single(stride) or (k,))[0], _single(dilation)[0]
    if s > 0 and d > 0 and _out_size(self.shape[-1], k, s, p, d, ceil_mode) <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: "
                           f"{_out_size(self.shape[-1], k, s, p, d, ceil_mode)}")
    return max_pool1d_with_indices(self, kernel_size, stride, padding, dilation, ceil_mode)[0]


def avg_pool1d(self, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    if self.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {self.dim()}-dimensional tensor "
                           "for argument #1 'self' (while checking arguments for avg_pool1d)")
    k, p = _single(kernel_size), _single(padding)
    s = _single(stride) or k
    out = avg_pool2d(self.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p, ceil_mode,
                     count_include_pad)
    return out.squeeze(-2)
