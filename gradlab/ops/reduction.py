"""Reductions (sum, mean, prod, max, min, norm, var, std), softmax and friends."""
import math
import warnings

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import _local
from ..tensor import Tensor
from ._core import RESULT, accumulator, cr_exp, cr_log, derivative, method, quiet, record
from . import elementwise as ew
from .elementwise import div_scalar, mul_scalar
from .indexing import narrow
from .shape import _broadcast, cat


def _restore(grad, dim, keepdim, ndim):
    """Unsqueeze the reduced dims of ``grad`` back (PyTorch's unsqueeze_multiple: one dim as
    given, several wrapped and in order)."""
    if keepdim or ndim == 0:
        return grad
    if len(dim) == 1:
        return grad.unsqueeze(dim[0])
    for d in sorted(d % ndim for d in dim):
        grad = grad.unsqueeze(d)
    return grad


def _dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    return tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)


SumBackward0 = derivative(
    "SumBackward0", ("self",), attrs=("self_sym_sizes",),
    self=("grad expanded to self's shape", lambda grad, self_sym_sizes: grad.expand(self_sym_sizes),
          lambda g, self_sym_sizes: _broadcast(np.asarray(g), self_sym_sizes)),
    result="reduction")
SumBackward1 = derivative(
    "SumBackward1", ("self",), attrs=("dim", "keepdim", "self_sym_sizes"),
    self=("grad expanded over dim", lambda grad, dim, keepdim, self_sym_sizes: _restore(
        grad, dim, keepdim, len(self_sym_sizes)).expand(self_sym_sizes)),
    result="reduction")
MeanBackward0 = derivative(
    "MeanBackward0", ("self",), attrs=("self_sym_numel", "self_sym_sizes"),
    self=("grad / numel, expanded", lambda grad, self_sym_numel, self_sym_sizes:
          div_scalar(grad.expand(self_sym_sizes), self_sym_numel),
          lambda g, self_sym_numel, self_sym_sizes: np.full(
              self_sym_sizes, np.true_divide(g, self_sym_numel, dtype=g.dtype), g.dtype)),
    result="reduction")
NansumBackward0 = derivative(
    "NansumBackward0", ("self",), saves=("self",), attrs=("dim", "keepdim"),
    self=("grad expanded over dim, 0 where self is NaN", lambda grad, self, dim, keepdim: _restore(
        grad, dim or (), keepdim, self.dim()).expand(self.shape) * ew.logical_not(ew.isnan(self))),
    result="reduction")
CummaxBackward0, CumminBackward0 = (derivative(
    name, ("self",), saves=("self", "indices"), attrs=("dim",),
    self=("grad added at the indices", lambda grad, self, indices, dim:
          _cummaxmin_backward(grad, self, indices, dim)),
    result=("self_t gathered at the indices",
            lambda self_t, self, indices, dim: self_t.gather(dim, indices)))
    for name in ("CummaxBackward0", "CumminBackward0"))


def _cummaxmin_backward(grad, self, indices, dim):
    """PyTorch's cummaxmin_backward: zeros, into which scatter_add_ puts the gradient."""
    if not self.numel():
        return self
    return ew.zeros_like(self).scatter_add_(dim, indices, grad)


MeanBackward1 = derivative(
    "MeanBackward1", ("self",), attrs=("dim", "keepdim", "self_sym_numel", "self_sym_sizes"),
    self=("grad / count, expanded over dim",
          lambda grad, dim, keepdim, self_sym_numel, self_sym_sizes: div_scalar(_restore(
              grad, dim, keepdim, len(self_sym_sizes)).expand(self_sym_sizes),
              _count(self_sym_sizes, dim))),
    result="reduction")
ProdBackward0 = derivative(
    "ProdBackward0", ("self",), saves=("self", "result"),
    self=("grad · result / self", lambda grad, self, result: _prod_backward(grad, self, result)),
    result="reduction")
ProdBackward1 = derivative(
    "ProdBackward1", ("self",), saves=("self", "result"), attrs=("dim", "keepdim"),
    self=("grad · result / self", lambda grad, self, result, dim, keepdim: _prod_backward(
        _restore(grad, (dim % (self.dim() or 1),), keepdim, self.dim()), self,
        _restore(result, (dim % (self.dim() or 1),), keepdim, self.dim()), dim)),
    result="reduction")
CumsumBackward0 = derivative(
    "CumsumBackward0", ("self",), attrs=("dim",),
    self=("reversed cumulative sum of grad", lambda grad, dim: _cumsum_backward(grad, dim)),
    result=("cumsum(self_t)", lambda self_t, dim: self_t.cumsum(dim)))
CumprodBackward0 = derivative(
    "CumprodBackward0", ("self",), saves=("self", "result"), attrs=("dim",),
    self=("Σ_{j≥k} grad_j · result_j / self_k", lambda grad, self, result, dim: _cumprod_backward(
        grad, self, dim, result)),
    result=("Σ_{j≤k} self_t_j · Π_{i≤k, i≠j} self_i",
            lambda self_t, self, dim: _cumprod_jvp(self_t, self, dim)))
MaxBackward1 = derivative(
    "MaxBackward1", ("self",), saves=("self", "result"),
    self=("grad shared among the maxima", lambda grad, self, result: _evenly(grad, self, result)),
    result="reduction")
MinBackward1 = derivative(
    "MinBackward1", ("self",), saves=("self", "result"),
    self=("grad shared among the minima", lambda grad, self, result: _evenly(grad, self, result)),
    result="reduction")
MaxBackward0 = derivative(
    "MaxBackward0", ("self",), saves=("indices",), attrs=("dim", "keepdim", "self_sym_sizes"),
    self=("grad at the index of the max", lambda grad, indices, dim, keepdim, self_sym_sizes:
          _select_back(grad, dim, indices, self_sym_sizes, keepdim)),
    result="reduction")
MinBackward0 = derivative(
    "MinBackward0", ("self",), saves=("indices",), attrs=("dim", "keepdim", "self_sym_sizes"),
    self=("grad at the index of the min", lambda grad, indices, dim, keepdim, self_sym_sizes:
          _select_back(grad, dim, indices, self_sym_sizes, keepdim)),
    result="reduction")
AmaxBackward0 = derivative(
    "AmaxBackward0", ("self",), saves=("self", "result"), attrs=("dim", "keepdim"),
    self=("grad shared among the maxima", lambda grad, self, result, dim, keepdim: _amax_backward(
        grad, self, result, dim, keepdim)),
    result="reduction")
AminBackward0 = derivative(
    "AminBackward0", ("self",), saves=("self", "result"), attrs=("dim", "keepdim"),
    self=("grad shared among the minima", lambda grad, self, result, dim, keepdim: _amax_backward(
        grad, self, result, dim, keepdim)),
    result="reduction")
LinalgVectorNormBackward0 = derivative(
    "LinalgVectorNormBackward0", ("self",), saves=("self", "result"), attrs=("ord", "dim", "keepdim"),
    self=("grad · self / result", lambda grad, self, result, ord, dim, keepdim: _norm_backward(
        grad, self, result, ord, dim, keepdim)),
    result="reduction")
VarBackward0 = derivative(
    "VarBackward0", ("self",), saves=("self",), attrs=("correction", "dim", "keepdim"),
    self=("grad · 2(self - mean) / (N - correction)",
          lambda grad, self, correction, dim, keepdim: _var_backward(grad, self, dim, correction,
                                                                     keepdim)),
    result="reduction")
StdBackward0 = derivative(
    "StdBackward0", ("self",), saves=("self", "result"), attrs=("correction", "dim", "keepdim"),
    self=("grad · (self - mean) / ((N - correction) · result)",
          lambda grad, self, result, correction, dim, keepdim: _var_backward(
              (grad / mul_scalar(result, 2)).masked_fill(result == 0, 0), self, dim, correction,
              keepdim)),
    result="reduction")
SoftmaxBackward0 = derivative(
    "SoftmaxBackward0", ("self",), saves=("result",), attrs=("dim",),
    self=("result · (grad - Σ grad · result)",
          lambda grad, result, dim: softmax_backward_data(grad, result, dim)),
    result="element_wise")
LogSoftmaxBackward0 = derivative(
    "LogSoftmaxBackward0", ("self",), saves=("result",), attrs=("dim",),
    self=("grad - exp(result) · Σ grad",
          lambda grad, result, dim: log_softmax_backward_data(grad, result, dim)),
    result=("self_t - Σ self_t · exp(result)",
            lambda self_t, result, dim: self_t - (self_t * result.exp()).sum(dim, keepdim=True)))
# the two backward functions above are ops themselves, so that create_graph records them
SoftmaxBackwardDataBackward0 = derivative(
    "SoftmaxBackwardDataBackward0", ("grad_output", "output"), saves=("grad_output", "output"),
    attrs=("dim",),
    grad_output=("output · (grad - Σ grad · output)",
                 lambda grad, output, dim: softmax_backward_data(grad, output, dim)),
    output=("grad_output · grad - Σ(output · grad_output) · grad - grad_output · Σ(output · grad)",
            lambda grad, grad_output, output, dim: grad_output * grad
            - (output * grad_output).sum(dim, True) * grad
            - grad_output * (output * grad).sum(dim, True)),
    result=("softmax_backward_data(grad_output_t, output) + its output term",
            lambda grad_output_t, output_t, grad_output, output, dim:
                softmax_backward_data(grad_output_t, output, dim)
                + output_t * (grad_output - (grad_output * output).sum(dim, keepdim=True))
                - output * (grad_output * output_t).sum(dim, keepdim=True)))
LogSoftmaxBackwardDataBackward0 = derivative(
    "LogSoftmaxBackwardDataBackward0", ("grad_output", "output"), saves=("grad_output", "output"),
    attrs=("dim",),
    grad_output=("grad - Σ(grad · exp(output))",
                 lambda grad, output, dim: grad - (grad * output.exp()).sum(dim, True)),
    output=("-Σ grad_output · exp(output) · grad",
            lambda grad, grad_output, output, dim: -grad_output.sum(dim, True) * output.exp() * grad),
    result=("log_softmax_backward_data(grad_output_t, output) + its output term",
            lambda grad_output_t, output_t, grad_output, output, dim:
                log_softmax_backward_data(grad_output_t, output, dim)
                - output.exp() * output_t * grad_output.sum(dim, keepdim=True)))


def softmax_backward_data(grad_output, output, dim):
    """output · (grad_output - Σ grad_output · output): PyTorch's _softmax_backward_data."""
    g, y = np.asarray(grad_output._array), np.asarray(output._array)
    value = y * (g - (g * y).sum(dim, keepdims=True)) if y.ndim else np.zeros_like(y)
    out = Tensor._make(np.asarray(value, output.dtype.np), output.dtype)
    return record(SoftmaxBackwardDataBackward0, out, (grad_output, output), (grad_output, output),
                  (dim,))


def log_softmax_backward_data(grad_output, output, dim):
    """grad_output - exp(output) · Σ grad_output: PyTorch's _log_softmax_backward_data."""
    g, y = np.asarray(grad_output._array), np.asarray(output._array)
    value = g - cr_exp(y) * g.sum(dim, keepdims=True) if y.ndim else np.zeros_like(y)
    out = Tensor._make(np.asarray(value, output.dtype.np), output.dtype)
    return record(LogSoftmaxBackwardDataBackward0, out, (grad_output, output),
                  (grad_output, output), (dim,))
LogsumexpBackward0 = derivative(
    "LogsumexpBackward0", ("self",), saves=("self", "result"), attrs=("dim", "keepdim"),
    self=("grad · exp(self - result)", lambda grad, self, result, dim, keepdim: _restore(
        grad, dim, keepdim, self.dim()) * (self - _restore(result, dim, keepdim, self.dim())).exp()),
    result="reduction")


def _amax_backward(grad, self, result, dim, keepdim):
    """PyTorch's: scale_grad_by_count(restore_reduced_dims(grad), restore_reduced_dims(result)
    == self, dim)."""
    dims = _dims(dim or None, self.dim())  # amax's default dim=() reduces every dim
    return _scale_by_count(_restore_reduced_dims(grad, dim, keepdim),
                           _restore_reduced_dims(result, dim, keepdim) == self, dims)


def _restore_reduced_dims(t, dims, keepdim):
    """PyTorch's restore_reduced_dims: a reshape putting back the reduced dims as 1s."""
    if keepdim:
        return t
    n = t.dim() + len(dims)
    ones = {d % n for d in dims}
    sizes = iter(t.shape)
    return t.reshape(tuple(1 if i in ones else next(sizes) for i in range(n)))


def _count(sizes, dim):
    n = 1
    for d in dim:
        n *= sizes[d]
    return n


def _evenly(grad, self, result):
    """PyTorch's evenly_distribute_backward: zeros with grad / count written at the maxima."""
    a = self._array
    mask = np.isnan(a) if np.isnan(result._array) else a == result._array
    mask = Tensor._make(np.asarray(mask), _dtype.bool_)
    zeros = Tensor._make(np.zeros(a.shape, self.dtype.np), self.dtype)
    return zeros.masked_fill_(mask, grad / mask.sum())


def _scale_by_count(grad, mask, dim):
    return (grad / mask.sum(dim, keepdim=True)) * mask


def _select_back(grad, dim, indices, sizes, keepdim):
    from .indexing import zeros_scatter
    if not keepdim and len(sizes):
        grad, indices = grad.unsqueeze(dim), indices.unsqueeze(dim)
    return zeros_scatter(sizes, grad.dtype, dim, indices, grad)


def _prod_backward(grad, self, result, dim=None):
    """PyTorch's prod_backward: grad · result / self, or with zeros the exclusive products."""
    if self.dim() == 0:
        return grad
    zeros = int((self._array == 0).sum())
    if not zeros:
        return grad * (result / self)
    if dim is not None:
        return _prod_safe_zeros_backward(grad, self, dim % self.dim())
    if zeros > 1 and not _local.enabled:
        return Tensor._make(np.zeros(self._array.shape, self.dtype.np), self.dtype)
    return _prod_safe_zeros_backward(grad, self.contiguous().view(-1), 0).view_as(self)


def _prod_safe_zeros_backward(grad, inp, dim):
    """grad · Π_{j≠k} inp_j as exclusive cumprods from both ends (PyTorch's, safe with zeros):
    [1, a, a·b] · [b·c, c, 1] for [a, b, c]."""
    from .shape import cat
    n = inp.shape[dim]
    if inp.numel() == 0:
        return grad.expand_as(inp)
    if n == 1:
        return grad
    ones = Tensor._make(np.ones(inp.shape[:dim] + (1,) + inp.shape[dim + 1:], grad.dtype.np),
                        grad.dtype)
    exclusive_normal = cat([ones, inp.narrow(dim, 0, n - 1)], dim).cumprod(dim)
    exclusive_reverse = cat([ones, inp.narrow(dim, 1, n - 1).flip(dim)], dim).cumprod(dim).flip(dim)
    return grad * (exclusive_normal * exclusive_reverse)


def _reversed_cumsum(w, dim):
    return w.flip(dim).cumsum(dim).flip(dim)


def _cumsum_backward(grad, dim):
    if grad.numel() <= 1 or grad.shape[dim] == 1:
        return grad
    return _reversed_cumsum(grad, dim)


def _cumprod_jvp(self_t, self, dim):
    """cumprod's forward derivative, zeros included: each output's product with one factor
    replaced by its tangent, summed (n² products per slice, which lessons' sizes afford)."""
    if self.dim() == 0:
        return self_t.clone()
    x, t = self.transpose(dim, -1), self_t.transpose(dim, -1)
    n = x.shape[-1]
    k, j, i = np.ogrid[:n, :n, :n]
    kept = Tensor._make((i <= k) & (i != j), _dtype.bool_)
    factors = ew.where(kept, x.unsqueeze(-2).unsqueeze(-2), 1.0).prod(-1)  # [..., k, j]
    lower = Tensor._make((j <= k)[..., 0].astype(x.dtype.np), x.dtype)
    return ((factors * lower) * t.unsqueeze(-2)).sum(-1).transpose(dim, -1)


def _cumprod_backward(grad, self, dim, result):
    """PyTorch's cumprod_backward: with zeros, its O(n²) form, differentiable again."""
    from .indexing import slice_dim
    from .shape import cat
    if self.numel() <= 1:
        return grad
    dim %= self.dim()
    n = self.shape[dim]
    if n == 1:
        return grad
    if not (self._array == 0).any():
        return _reversed_cumsum(result * grad, dim).div(self)
    size = self.shape[:dim] + (1,) + self.shape[dim + 1:]
    ones = Tensor._make(np.ones(1, grad.dtype.np), grad.dtype).expand(size)
    out = Tensor._make(np.zeros(self._array.shape, grad.dtype.np), grad.dtype)
    for k in range(n):
        if k == 0:
            omitted = cat([ones, slice_dim(self, dim, 1).cumprod(dim)], dim)
        else:
            until_k = slice_dim(self, dim, 0, k).prod(dim, True)
            if k == n - 1:
                omitted = until_k
            else:
                from_k_plus_1 = slice_dim(self, dim, k + 1).cumprod(dim)
                omitted = cat([until_k, until_k.expand_as(from_k_plus_1) * from_k_plus_1], dim)
        out.select(dim, k).copy_((slice_dim(grad, dim, k) * omitted).sum(dim))
    return out


def _norm_backward(grad, self, result, ord, dim, keepdim):
    """PyTorch's norm_backward (in-place ops where it has them: they show as clones of the
    saved self in the graph of the next derivative)."""
    dim = () if dim is None else dim
    if not keepdim and self.dim() != 0:
        grad = _restore(grad, dim, keepdim, self.dim())
        result = _restore(result, dim, keepdim, self.dim())
    p = float(ord)
    if p == 0.0:
        return None
    if p == 1.0:
        return self.sgn() * grad
    if p == 2.0:
        return grad * (self / result).masked_fill_(result == 0, 0)
    if math.isinf(p):
        a = np.abs(self._array)  # the argmax mask: |self| == norm, or NaN
        mask = Tensor._make(np.asarray((a == result._array) | np.isnan(a)), _dtype.bool_)
        return self.sgn() * ((grad / mask.sum(dim or tuple(range(self.dim())), True)) * mask)
    if p < 1.0:
        return self.sgn() * self.abs().pow_(p - 1).masked_fill_(self == 0, 0) * grad * \
            result.pow(1 - p)
    self_scaled = self.sgn() * self.abs().pow_(p - 1) if p < 2.0 else self * self.abs().pow_(p - 2)
    scale_v = grad / result.pow(p - 1)
    scale_v.masked_fill_(result == 0, 0)
    return self_scaled * scale_v


def _var_backward(grad, self, dim, correction, keepdim):
    """PyTorch's var_backward: 2 / (N - correction) · grad · (self - mean)."""
    c = 1 if correction is None else correction
    if self.dim() == 0 or dim is None:
        dof = self.numel() - c
        if dof <= 0:
            from .elementwise import where
            return grad * where(self == self.mean(), float("nan"), float("inf"))
        return mul_scalar(grad, 2.0 / dof) * (self - self.mean())
    dims = _dims(dim, self.dim())
    if not keepdim and self.dim() > 1:
        grad = _restore(grad, dims, keepdim, self.dim())
    return mul_scalar(grad, 2.0 / (_count(self.shape, dims) - c)) * (
        self - self.mean(dims, keepdim=True))


# ---- forward functions ------------------------------------------------------------------------

def _contiguous(a):
    """A reduction's result C-ordered, as PyTorch allocates it (NumPy's follows the input's
    layout, which makes a later reshape a _reshape_alias rather than a view)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else a.copy()


def _sum_dtype(self, dtype):
    if dtype is not None:
        return dtype
    return self.dtype if self.dtype.is_floating_point else _dtype.int64


def _axes(self, dim, op):
    """``dim`` (an int or a tuple of ints) as wrapped axes, with PyTorch's errors for ``op``."""
    dims = _dims(dim, self._array.ndim)
    for pos, d in enumerate(dims, 1):
        if not _is_dim(d):
            if isinstance(dim, (tuple, list)):
                raise TypeError(f"{op}(): argument 'dim' failed to unpack the object at pos {pos} "
                                f'with error "type must be tuple of ints,but got '
                                f'{type(d).__name__}"')
            raise TypeError(_DIM_TYPE_ERRORS[op].format(op=op, type=type(d).__name__))
    axes = tuple(self._dim_index(int(d)) for d in dims)
    seen = set()
    for d in axes:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return axes


def _is_dim(d):
    return isinstance(d, (int, np.integer)) and not isinstance(d, bool) or \
        isinstance(d, Tensor) and d._array.ndim == 0 and d.dtype._category == 1


# PyTorch's argument-parser texts for a dim that is not an int, by op (keyword form: ``dim=1.5``)
_SUM_SIGNATURES = ("but expected one of:\n * (*, torch.dtype dtype = None)\n"
                   " * (tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None)\n")
_VAR_SIGNATURES = ("but expected one of:\n * (tuple of ints dim, bool unbiased = True, "
                   "bool keepdim = False)\n * (tuple of ints dim = None, *, Number correction = "
                   "None, bool keepdim = False)\n * (bool unbiased = True)\n      didn't match "
                   "because some of the arguments have invalid types: (!{type}!)\n")
_DIM_TYPE_ERRORS = {
    "sum": "{op}() received an invalid combination of arguments - got (dim={type}, ), "
           + _SUM_SIGNATURES,
    "mean": "{op}() received an invalid combination of arguments - got (dim={type}, ), "
            + _SUM_SIGNATURES,
    "var": "{op}() received an invalid combination of arguments - got ({type}), " + _VAR_SIGNATURES,
    "std": "{op}() received an invalid combination of arguments - got ({type}), " + _VAR_SIGNATURES,
    "norm": "object of type '{type}' has no len()",
    "amax": "{op}(): argument 'dim' (position 1) must be tuple of ints, not {type}",
    "amin": "{op}(): argument 'dim' (position 1) must be tuple of ints, not {type}",
    "logsumexp": "{op}(): argument 'dim' (position 1) must be tuple of ints, not {type}",
}


@method()
@quiet
def sum(self, dim=None, keepdim=False, *, dtype=None):
    dt = _sum_dtype(self, dtype)
    a = self._array
    if dim is None:
        out = Tensor._make(np.asarray(a.sum(dtype=accumulator(dt)), dt.np).reshape(()), dt)
        return record(SumBackward0, out, (self,), attrs=(a.shape,))
    axes = _axes(self, dim, "sum")
    value = a.sum(axis=axes, keepdims=keepdim, dtype=accumulator(dt))
    out = Tensor._make(_contiguous(value.astype(dt.np, copy=False)), dt)
    return record(SumBackward1, out, (self,), attrs=(_dims(dim, 0), keepdim, a.shape))


@method()
def nansum(self, dim=None, keepdim=False, *, dtype=None):
    """sum with NaNs counted as 0."""
    a = self._array
    finite = Tensor._make(np.where(np.isnan(a), a.dtype.type(0), a), self.dtype) \
        if a.dtype.kind == "f" else self.detach()
    out = sum(finite, dim, keepdim, dtype=dtype)
    dims = None if dim is None else _dims(dim, a.ndim)
    return record(NansumBackward0, out, (self,), (self,), (dims, keepdim))


@method()
def nanmean(self, dim=None, keepdim=False, *, dtype=None):
    """mean of the elements that are not NaN."""
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {self.dtype._legacy[:-6]}")
    count = ew.logical_not(ew.isnan(self)).sum(dim, keepdim)
    return ew.div(nansum(self, dim, keepdim, dtype=dtype), count)


@method()
@quiet
def mean(self, dim=None, keepdim=False, *, dtype=None):
    dt = dtype or self.dtype
    if not dt.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {dt.name.capitalize()}"
                           .replace("Int64", "Long").replace("Int32", "Int"))
    a = self._array
    if dim is None:
        out = Tensor._make(np.asarray(_mean_all(a, dt.np), dt.np), dt)
        return record(MeanBackward0, out, (self,), attrs=(a.size, a.shape))
    axes = _axes(self, dim, "mean")
    acc = accumulator(dt)
    value = np.true_divide(a.sum(axis=axes, keepdims=keepdim, dtype=acc), _count(a.shape, axes),
                           dtype=acc)  # np.mean's arithmetic, without its empty-slice warning
    out = Tensor._make(_contiguous(value.astype(dt.np, copy=False)), dt)
    return record(MeanBackward1, out, (self,), attrs=(_dims(dim, 0), keepdim, a.size, a.shape))


def _mean_all(a, dt):
    """``a.mean(dtype=dt)`` without NumPy's Python wrapper: as np.mean, the sum in ``dt`` (float16
    in float32) divided in float64 and rounded back to ``dt``; nan for no element, silently."""
    if not a.size:
        return dt.type(np.nan)
    return dt.type(float(np.add.reduce(a, None, accumulator(_dtype.FROM_NUMPY[dt]))) / a.size)


@method()
@quiet
def prod(self, dim=None, keepdim=False, *, dtype=None):
    dt = _sum_dtype(self, dtype)
    a = self._array
    if dim is None:
        out = Tensor._make(np.asarray(a.prod(dtype=dt.np), dt.np).reshape(()), dt)
        return record(ProdBackward0, out, (self,), (self, RESULT))
    d = self._dim_index(dim)  # unlike sum's, PyTorch's float16 products round at each step
    out = Tensor._make(np.asarray(a.prod(axis=d, keepdims=keepdim, dtype=dt.np)), dt)
    return record(ProdBackward1, out, (self,), (self, RESULT), (dim, keepdim))


@quiet
def _scan(self, dim, dtype, ufunc, cls, saves, op):
    dt = _sum_dtype(self, dtype)
    a = self._array
    d = self._dim_index(dim, op=op)
    out = ufunc.accumulate(a.reshape(1) if a.ndim == 0 else a, axis=d, dtype=accumulator(dt))
    out = Tensor._make(out.reshape(a.shape).astype(dt.np, copy=False), dt)
    return record(cls, out, (self,), saves, (dim,))


@method()
def cumsum(self, dim, *, dtype=None):
    return _scan(self, dim, dtype, np.add, CumsumBackward0, (), "cumsum")


@method()
def cumprod(self, dim, *, dtype=None):
    return _scan(self, dim, dtype, np.multiply, CumprodBackward0, (self, RESULT), "cumprod")


def _cumulative_extreme(self, dim, kind):
    """cummax/cummin as PyTorch's kernel: the running extreme and its index, a later equal
    element taking the index, and a NaN taking over (each later NaN too)."""
    a = np.asarray(self._array)
    d = self._dim_index(dim)
    line = np.moveaxis(a.reshape(1) if a.ndim == 0 else a, d, -1)
    values, indices = np.empty_like(line), np.zeros(line.shape, np.int64)
    best, at = line[..., :1].copy(), np.zeros(line.shape[:-1] + (1,), np.int64)
    for i in range(line.shape[-1]):
        x = line[..., i:i + 1]
        takes = x >= best if kind == "cummax" else x <= best
        if a.dtype.kind == "f":
            takes = takes & ~np.isnan(best) | np.isnan(x)
        best, at = np.where(takes, x, best), np.where(takes, i, at)
        values[..., i:i + 1], indices[..., i:i + 1] = best, at
    values, indices = (np.moveaxis(v, -1, d).reshape(a.shape) for v in (values, indices))
    values = Tensor._make(np.array(values, order="C"), self.dtype)
    indices = Tensor._make(np.array(indices, order="C"), _dtype.int64)
    cls = CummaxBackward0 if kind == "cummax" else CumminBackward0
    record(cls, values, (self,), (self, indices), (dim,))
    return ValuesIndices(kind, values, indices)


@method()
def cummax(self, dim):
    return _cumulative_extreme(self, dim, "cummax")


@method()
def cummin(self, dim):
    return _cumulative_extreme(self, dim, "cummin")


@method()
def diff(self, n=1, dim=-1, prepend=None, append=None):
    """Differences of neighbours along ``dim``, ``n`` times (ATen's diff: narrow, subtract; bools
    xor), after ``prepend`` and ``append`` are concatenated to the input."""
    if self._array.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    ends = [t for t in (prepend, append) if t is not None]
    if [t for t in ends if t._array.ndim != self._array.ndim]:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    result = cat([t for t in (prepend, self, append) if t is not None], dim) if ends else self
    if n == 0:
        return ew.zeros_like(result).copy_(result)
    size = result._array.shape[result._dim_index(dim)]  # (min and any are ops, here)
    for length in range(size - 1, size - 1 - (n if n < size else size), -1):
        before = narrow(result, dim, 0, length)  # first: PyTorch's build evaluates the C++
        after = narrow(result, dim, 1, length)  # arguments right to left (numbering the nodes)
        result = ew.logical_xor(after, before) if result.dtype is _dtype.bool_ else after - before
    return result


class ValuesIndices(tuple):
    """(values, indices), printed as PyTorch prints torch.return_types.max and friends."""

    def __new__(cls, name, values, indices):
        self = super().__new__(cls, (values, indices))
        self._name = name
        return self

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])

    def __repr__(self):
        return (f"torch.return_types.{self._name}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")


def _nonempty(a, axes, op):
    """PyTorch's errors for max-like reductions (max, amax, argmax, ...) over no element."""
    if axes is None and not a.size:
        if op.startswith("arg"):
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() "
                             "== 0.")
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == "
                           "0. Specify the reduction dim with the 'dim' argument.")
    for d in () if axes is None else axes:
        if a.ndim and not a.shape[d]:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def _extreme(self, dim, keepdim, kind):
    a = np.asarray(self._array)
    if dim is None:
        _nonempty(a, None, kind)
        out = Tensor._make(np.asarray(a.max() if kind == "max" else a.min()), self.dtype)
        cls = MaxBackward1 if kind == "max" else MinBackward1
        return record(cls, out, (self,), (self, RESULT))
    d = self._dim_index(dim)
    _nonempty(a, (d,), kind)
    idx = np.argmax(a, axis=d, keepdims=True) if kind == "max" else np.argmin(a, axis=d, keepdims=True)
    values = np.take_along_axis(a, idx, axis=d) if a.ndim else a
    if not keepdim and a.ndim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    # np.array, not np.ascontiguousarray, which turns a 0-d result into shape (1,)
    values = Tensor._make(np.array(values, order="C"), self.dtype)
    indices = Tensor._make(np.array(idx, np.int64, order="C"), _dtype.int64)
    cls = MaxBackward0 if kind == "max" else MinBackward0
    record(cls, values, (self,), (indices,), (dim, keepdim, a.shape))
    return ValuesIndices(kind, values, indices)


@method()
def max(self, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        from .elementwise import maximum
        return maximum(self, dim)
    return _extreme(self, dim, keepdim, "max")


@method()
def min(self, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        from .elementwise import minimum
        return minimum(self, dim)
    return _extreme(self, dim, keepdim, "min")


@method()
def amax(self, dim=(), keepdim=False):
    axes = _axes(self, dim if dim != () else None, "amax")
    _nonempty(self._array, axes if dim != () else None, "amax")
    out = Tensor._make(np.asarray(np.max(self._array, axis=axes, keepdims=keepdim)), self.dtype)
    return record(AmaxBackward0, out, (self,), (self, RESULT), (_dims(dim, 0), keepdim))


@method()
def amin(self, dim=(), keepdim=False):
    axes = _axes(self, dim if dim != () else None, "amin")
    _nonempty(self._array, axes if dim != () else None, "amin")
    out = Tensor._make(np.asarray(np.min(self._array, axis=axes, keepdims=keepdim)), self.dtype)
    return record(AminBackward0, out, (self,), (self, RESULT), (_dims(dim, 0), keepdim))


def _arg_extreme(self, dim, keepdim, fn, op):
    a = np.asarray(self._array)
    if dim is None:
        _nonempty(a, None, op)
        i = np.asarray(fn(a), np.int64).reshape((1,) * a.ndim if keepdim else ())
        return Tensor._make(i, _dtype.int64)
    d = self._dim_index(dim, op=op)
    _nonempty(a, (d,), op)
    return Tensor._make(np.asarray(fn(a, axis=d, keepdims=keepdim), np.int64), _dtype.int64)


@method()
def argmax(self, dim=None, keepdim=False):
    return _arg_extreme(self, dim, keepdim, np.argmax, "argmax")


@method()
def argmin(self, dim=None, keepdim=False):
    return _arg_extreme(self, dim, keepdim, np.argmin, "argmin")


@method()
def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    return _vector_norm(self, 2 if p in ("fro", None) else p, dim, keepdim, "norm")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.vector_norm."""
    return _vector_norm(x, ord, dim, keepdim, "linalg.vector_norm")


@quiet
def _vector_norm(self, ord, dim, keepdim, op):
    a = np.abs(np.asarray(self._array, accumulator(self.dtype)))
    axes = None if dim is None else _axes(self, dim, op)
    if ord in (INF, -INF):
        if not a.size:
            raise RuntimeError(f"{op} cannot compute the {ord} norm on an empty tensor because "
                               "the operation does not have an identity")
        value = (np.max if ord > 0 else np.min)(a, axis=axes, keepdims=keepdim)
    elif ord == 0:
        value = np.sum(a != 0, axis=axes, keepdims=keepdim, dtype=a.dtype)
    elif ord == 1:
        value = np.sum(a, axis=axes, keepdims=keepdim)
    elif ord == 2:
        value = np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
    else:
        value = np.sum(a ** ord, axis=axes, keepdims=keepdim) ** (1.0 / ord)
    out = Tensor._make(np.asarray(value, self.dtype.np), self.dtype)
    return record(LinalgVectorNormBackward0, out, (self,), (self, RESULT),
                  (ord, None if dim is None else _dims(dim, 0), keepdim))


INF = float("inf")


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def _moment(fn, name, a, axes, correction, keepdim):
    """np.var or np.std, with PyTorch's warning when the degrees of freedom are <= 0."""
    n = a.size if axes is None else math.prod(a.shape[i] for i in axes)
    if n - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel). "
                      "(Triggered internally at "
                      "/__w/pytorch/pytorch/aten/src/ATen/native/ReduceOps.cpp:1861.)",
                      UserWarning, stacklevel=3)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(a, axis=axes, ddof=correction, keepdims=keepdim, dtype=accumulator(
            _dtype.FROM_NUMPY[a.dtype]))


@method()
@quiet
def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    c = _correction(unbiased, correction)
    axes = None if dim is None else _axes(self, dim, "var")
    value = _moment(np.var, "var", np.asarray(self._array), axes, c, keepdim)
    out = Tensor._make(np.asarray(value, self.dtype.np), self.dtype)
    saved_c = None if correction is None and unbiased is None and dim is None else c
    return record(VarBackward0, out, (self,), (self,),
                  (saved_c, None if dim is None else _dims(dim, 0), keepdim))


@method()
@quiet
def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    c = _correction(unbiased, correction)
    axes = None if dim is None else _axes(self, dim, "std")
    value = _moment(np.std, "std", np.asarray(self._array), axes, c, keepdim)
    out = Tensor._make(np.asarray(value, self.dtype.np), self.dtype)
    saved_c = None if correction is None and unbiased is None and dim is None else c
    return record(StdBackward0, out, (self,), (self, RESULT),
                  (saved_c, None if dim is None else _dims(dim, 0), keepdim))


@method()
@quiet
def softmax(self, dim, dtype=None):
    dt = dtype or self.dtype
    a = np.asarray(self._array, accumulator(dt))
    d = self._dim_index(dim, op="softmax")
    if a.ndim:
        e = cr_exp(a - np.max(a, axis=d, keepdims=True, initial=-np.inf))
        total = np.sum(e, axis=d, keepdims=True)
        # PyTorch's kernel multiplies by 1/sum along the last dim, divides along the others
        e = e * (1 / total) if d == a.ndim - 1 else e / total
    else:
        e = np.ones_like(a)
    out = Tensor._make(e.astype(dt.np, copy=False), dt)
    return record(SoftmaxBackward0, out, (self,), (RESULT,), (dim,))


@method()
@quiet
def log_softmax(self, dim, dtype=None):
    dt = dtype or self.dtype
    a = np.asarray(self._array, accumulator(dt))
    d = self._dim_index(dim, op="log_softmax")
    if a.ndim:
        shifted = a - np.max(a, axis=d, keepdims=True, initial=-np.inf)
        value = shifted - cr_log(np.sum(cr_exp(shifted), axis=d, keepdims=True))
    else:
        value = np.zeros_like(a)
    out = Tensor._make(value.astype(dt.np), dt)
    return record(LogSoftmaxBackward0, out, (self,), (RESULT,), (dim,))


@method()
@quiet
def logsumexp(self, dim, keepdim=False):
    a = np.asarray(self._array, accumulator(self.dtype))
    axes = _axes(self, dim, "logsumexp")
    m = np.max(a, axis=axes, keepdims=True, initial=-np.inf)
    m = np.where(np.isinf(m), 0, m)
    value = cr_log(np.sum(cr_exp(a - m), axis=axes, keepdims=True)) + m
    if not keepdim:
        value = value.squeeze(axes)
    out = Tensor._make(np.asarray(value, self.dtype.np), self.dtype)
    return record(LogsumexpBackward0, out, (self,), (self, RESULT), (_dims(dim, 0), keepdim))


@method()
def any(self, dim=None, keepdim=False):
    axes = None if dim is None else self._dim_index(dim)
    return Tensor._make(np.asarray(np.any(self._array, axis=axes, keepdims=keepdim)), _dtype.bool_)


@method()
def all(self, dim=None, keepdim=False):
    axes = None if dim is None else self._dim_index(dim)
    return Tensor._make(np.asarray(np.all(self._array, axis=axes, keepdims=keepdim)), _dtype.bool_)


@method()
def count_nonzero(self, dim=None):
    return Tensor._make(np.asarray(np.count_nonzero(self._array, axis=dim), np.int64), _dtype.int64)
