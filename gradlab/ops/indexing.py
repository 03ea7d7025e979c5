"""Indexing: x[key] as PyTorch splits it (select, slice, unsqueeze, then advanced index),
select/narrow/gather/scatter, and the ops that split a tensor (unbind, split, chunk)."""
import numpy as np

from .. import _dtype
from ..autograd.forward_ad import _levels
from ..autograd.grad_mode import _local
from ..tensor import InferenceVersion, Tensor
from ._core import broadcast_error, derivative, method, record, view_like
from .shape import _view

# backward of a selection: embed the gradient into zeros, itself differentiable
SelectBackwardBackward0 = derivative(
    "SelectBackwardBackward0", ("grad_output",), attrs=("dim", "index"),
    grad_output=("grad selected at index", lambda grad, dim, index: grad.select(dim, index)),
    result=("grad_output_t placed at index", lambda grad_output_t, result, dim, index: _embed(
        grad_output_t, result.shape, _axis_key(dim % result.dim(), index),
        SelectBackwardBackward0, (dim, index))))
SliceBackwardBackward0 = derivative(
    "SliceBackwardBackward0", ("grad_output",), attrs=("dim", "start", "end", "step"),
    grad_output=("grad sliced",
                 lambda grad, dim, start, end, step: _slice(grad, dim, start, end, step)),
    result=("grad_output_t placed in the slice", lambda grad_output_t, result, dim, start, end,
            step: _embed(grad_output_t, result.shape, _axis_key(
                dim % result.dim(), slice(start, end, step)), SliceBackwardBackward0,
                (dim, start, end, step))))


def _index_put_node(name):
    return derivative(
        name, ("self", "values"), saves=("indices",), attrs=("accumulate",),
        self=("grad, zero where written", lambda grad, indices, accumulate: grad if accumulate
              else _index_put(grad, indices, zeros_like_scalar(grad), False, IndexPutBackward0)),
        values=("grad at the indices", lambda grad, indices, accumulate: advanced_index(
            grad, indices)),
        result=("self_t.index_put(indices, values_t)", lambda self_t, values_t, indices,
                accumulate: _index_put(self_t, indices, values_t, accumulate, IndexPutBackward0)))


IndexPutBackward0 = _index_put_node("IndexPutBackward0")
IndexPutImplBackward0 = _index_put_node("IndexPutImplBackward0")  # _index_put_impl_, in formulas
IndexAddBackward0 = derivative(
    "IndexAddBackward0", ("self", "source"), saves=("index", "source"),
    attrs=("alpha", "dim", "source_dim"),
    self=("grad", lambda grad: grad),
    source=("grad at the index (· alpha)", lambda grad, index, source, alpha, dim, source_dim:
            _index_add_source_grad(grad, index, source, alpha, dim)),
    result=("self_t.index_add(source_t · alpha)",
            lambda self_t, source_t, index, alpha, dim:
                self_t.index_add(dim, index, source_t, alpha=alpha)))
SelectBackward0 = derivative(
    "SelectBackward0", ("self",), attrs=("dim", "index", "self_sym_sizes"),
    self=("grad placed at index", lambda grad, dim, index, self_sym_sizes: _embed(
        grad, self_sym_sizes, _axis_key(dim % len(self_sym_sizes), index), SelectBackwardBackward0,
        (dim, index))),
    result=("self_t selected", lambda self_t, dim, index: self_t.select(dim, index)))
INT64_MAX = 9223372036854775807  # slice_backward_wrapper's end for a slice with none
SliceBackward0 = derivative(
    "SliceBackward0", ("self",), attrs=("dim", "start", "end", "step", "self_sym_sizes"),
    self=("grad placed in the slice", lambda grad, dim, start, end, step, self_sym_sizes: _embed(
        grad, self_sym_sizes, _axis_key(dim % len(self_sym_sizes), slice(start, end, step)),
        SliceBackwardBackward0, (dim, start, INT64_MAX if end is None else end, step))),
    result=("self_t sliced",
            lambda self_t, dim, start, end, step: _slice(self_t, dim, start, end, step)))
IndexBackward0 = derivative(
    "IndexBackward0", ("self",), saves=("indices",), attrs=("self_sym_sizes",),
    self=("grad added at the indices", lambda grad, indices, self_sym_sizes: _index_put_zeros(
        grad, self_sym_sizes, indices)),
    result=("self_t[indices]",
            lambda self_t, indices:
                advanced_index(self_t, indices)))
GatherBackward0 = derivative(
    "GatherBackward0", ("self",), saves=("self", "index"), attrs=("dim", "sparse_grad"),
    self=("grad scattered back", lambda grad, self, index, dim, sparse_grad: zeros_scatter(
        self.shape, grad.dtype, dim, index, grad, add=True)),
    result=("self_t gathered", lambda self_t, index, dim: self_t.gather(dim, index)))
ScatterAddBackward0 = derivative(
    "ScatterAddBackward0", ("self", "src"), saves=("index",), attrs=("dim",),
    self=("grad", lambda grad, index, dim: grad),
    src=("grad gathered", lambda grad, index, dim: grad.gather(dim, index)),
    result=("self_t.scatter_add(src_t)",
            lambda self_t, src_t, index, dim: self_t.scatter_add(dim, index, src_t)))
ScatterBackward0 = derivative(
    "ScatterBackward0", ("self", "src"), saves=("index",), attrs=("dim",),
    self=("grad, zero where scattered", lambda grad, index, dim: grad.scatter(dim, index, 0.0)),
    src=("grad gathered", lambda grad, index, dim: grad.gather(dim, index)),
    result=("self_t.scatter(src_t)",
            lambda self_t, src_t, index, dim: self_t.scatter(dim, index, src_t)))
ScatterBackward1 = derivative(
    "ScatterBackward1", ("self",), saves=("index",), attrs=("dim",),
    self=("grad, zero where scattered", lambda grad, index, dim: grad.scatter(dim, index, 0.0)),
    result=("self_t.scatter(0)", lambda self_t, index, dim: self_t.scatter(dim, index, 0.0)))
IndexSelectBackward0 = derivative(
    "IndexSelectBackward0", ("self",), saves=("index",), attrs=("dim", "self_sym_sizes"),
    self=("grad added at the index", lambda grad, index, dim, self_sym_sizes: _index_add_zeros(
        grad, self_sym_sizes, dim, index)),
    result=("self_t.index_select(index)",
            lambda self_t, index, dim: self_t.index_select(dim, index)))
MaskedSelectBackward0 = derivative(
    "MaskedSelectBackward0", ("self",), saves=("mask", "self"),
    self=("grad scattered into zeros at the mask", lambda grad, mask, self: masked_scatter(
        _zeros(np.broadcast_shapes(self.shape, mask.shape), grad.dtype), mask, grad)),
    result=("self_t.masked_select(mask)", lambda self_t, mask: self_t.masked_select(mask)))
MaskedScatterBackward0 = derivative(
    "MaskedScatterBackward0", ("self", "source"), saves=("mask",), attrs=("source_sym_sizes",),
    self=("grad, zero at the mask", lambda grad, mask: grad.masked_fill(mask, 0)),
    source=("grad at the mask, padded with zeros", lambda grad, mask, source_sym_sizes:
            _masked_scatter_source_grad(grad, mask, source_sym_sizes)),
    result=("self_t.masked_scatter(mask, source_t)",
            lambda self_t, source_t, mask: self_t.masked_scatter(mask, source_t)))

MaskedScatterBackwardBackward0 = derivative(
    "MaskedScatterBackwardBackward0", ("grad_output",), saves=("mask",),
    hidden=("grad_output_sizes",),
    grad_output=("grad scattered into zeros at the mask", lambda grad, mask, grad_output_sizes:
                 masked_scatter(_zeros(grad_output_sizes, grad.dtype), mask, grad)),
    # PyTorch's result: masked_scatter_backward(grad_output_t, mask, grad_output_t.sizes())
    result=("grad_output_t at the mask", lambda grad_output_t, mask, result: _sized_as(
        _masked_scatter_source_grad(grad_output_t, mask, grad_output_t.shape), result)))


def _sized_as(tangent, primal):
    """``tangent``, which must have ``primal``'s size (PyTorch's check of a forward gradient)."""
    if tangent.shape != primal.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(primal.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    return tangent


def zeros_like_scalar(t):
    return Tensor._make(np.zeros((), t.dtype.np), t.dtype)


def _check_index(self, dim, index, op):
    """PyTorch's checks of gather's and scatter's index: its dtype, then each value in range."""
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
    i = np.asarray(index._array)
    size = self._array.shape[dim] if self._array.ndim else 1
    bad = np.flatnonzero((i < 0) | (i >= size))
    if bad.size:
        raise RuntimeError(f"index {i.flat[bad[0]]} is out of bounds for dimension {dim} with "
                           f"size {size}")


def _axis_key(dim, index):
    """The NumPy key selecting ``index`` along ``dim``; a view even for a single element."""
    return (slice(None),) * dim + (index, Ellipsis)


def _embed(grad, sizes, key, cls, attrs):
    """zeros(sizes) with grad written at ``key``, recorded as ``cls``."""
    out = np.zeros(sizes, grad.dtype.np)
    out[key] = grad._array
    return record(cls, Tensor._make(out, grad.dtype), (grad,), attrs=attrs)


def _index_put_zeros(grad, sizes, indices):
    """PyTorch's index_backward: _index_put_impl_(zeros, indices, grad, accumulate=True)."""
    from .inplace import inplace
    zeros = Tensor._make(np.zeros(sizes, grad.dtype.np), grad.dtype)
    return inplace(zeros, lambda t: _index_put(t, indices, grad, True, IndexPutImplBackward0),
                   overlap_ok=True)


def _index_add_zeros(grad, sizes, dim, index):
    """PyTorch's index_select_backward: zeros(sizes).index_add_(dim, index, grad)."""
    from .inplace import inplace
    if grad.dim() == 0:
        grad = grad.unsqueeze(0)
    zeros = Tensor._make(np.zeros(sizes, grad.dtype.np), grad.dtype)
    return inplace(zeros, lambda t: _index_add(t, dim, index, grad), overlap_ok=True)


def _index_add(self, dim, index, source, alpha=1):
    """ATen's index_add (out of place), for the formulas above."""
    a = np.array(self._array)
    d = dim % a.ndim if a.ndim else 0
    src = np.asarray(source._array)
    np.add.at(a, _axis_key(d, np.asarray(index._array)), src if alpha == 1 else src * alpha)
    return record(IndexAddBackward0, Tensor._make(a, self.dtype), (self, source),
                  (index, source), (alpha, dim, source._array.ndim))


def _index_add_source_grad(grad, index, source, alpha, dim):
    from .elementwise import mul_scalar
    if source.dim() > 0:
        g = grad.index_select(dim, index).expand_as(source)
    else:
        g = grad.index_select(dim, index.squeeze(0))
    return g if alpha == 1 else mul_scalar(g, alpha)


def _slice(t, dim, start, end, step):
    return t[_axis_key(dim % t._array.ndim, slice(start, end, step))]


def zeros_scatter(sizes, dt, dim, index, src, add=False):
    zeros = Tensor._make(np.zeros(sizes, dt.np), dt)
    return scatter_add(zeros, dim, index, src) if add else scatter(zeros, dim, index, src)


# ---- x[key] -----------------------------------------------------------------------------------

@method("__getitem__")
def getitem(self, key):
    """x[key]: basic parts become select/slice/unsqueeze views, then one advanced index."""
    from .index_key import apply_slicing, as_parts, is_int, unpack_long, _select
    if type(key) is slice:  # PyTorch slices even x[:] (SliceBackward0)
        if not self._array.ndim:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        return _slice_view(self, 0, key)
    if is_int(key):
        return _select(self, 0, unpack_long(key), 0)
    parts = (key,) if key is None or key is Ellipsis else as_parts(key, stacklevel=3)
    out, indices = apply_slicing(self, parts)
    if indices:
        return advanced_index(out, indices)
    if out is self:
        return _view(self, self._storage()[...], AliasBackward0)
    return out


AliasBackward0 = derivative("AliasBackward0", ("self",), self=("grad", lambda grad: grad),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))


def advanced_index(self, indices):
    """at::index: self[indices] for index tensors by dim (None: the whole dim), IndexBackward0."""
    from .index_key import np_key
    key = np_key(self._array.shape, indices, stacklevel=4)
    out = Tensor._make(np.asarray(self._array)[key], self.dtype)
    return record(IndexBackward0, out, (self,), (indices,), (self._array.shape,))


def _slice_view(self, dim, k, saved_dim=None):
    size = self._array.shape[dim]
    start, stop, step = k.start, k.stop, k.step
    if step is not None and step <= 0:
        raise ValueError("step must be greater than zero" if step else "slice step cannot be zero")
    s, e, st = k.indices(size)
    key = _axis_key(dim, slice(s, max(e, s), st))
    saved_start = 0 if start is None else start
    saved_end = 9223372036854775807 if stop is None else stop
    return _view(self, self._storage()[key], SliceBackward0,
                 (dim if saved_dim is None else saved_dim, saved_start, saved_end,
                  1 if step is None else step, self._array.shape))


def slice_dim(self, dim, start, end=None):
    """C++ ``Tensor::slice(dim, start, end)`` as backward formulas use it: an end left out is
    saved as None (``_saved_end``), not as the INT64_MAX of Python's ``a[start:]``."""
    d = dim % self._array.ndim
    key = _axis_key(d, slice(start, end))
    return _view(self, self._storage()[key], SliceBackward0,
                 (dim, start, end, 1, self._array.shape))


@method()
def select(self, dim, index):
    if self._array.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = self._dim_index(dim)
    size = self._array.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(self._array.shape)} at dimension {d}")
    i = index + size if index < 0 else index
    return _view(self, self._storage()[_axis_key(d, i)], SelectBackward0,
                 (dim, index, self._array.shape))


@method()
def narrow(self, dim, start, length):
    d = self._dim_index(dim)
    size = self._array.shape[d]
    if start < 0:
        start += size
    if not 0 <= start <= size or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice_view(self, d, slice(start, start + length), dim)


@method()
def index_select(self, dim, index):
    d = self._dim_index(dim)
    if index._array.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    size = self._array.shape[d] if self._array.ndim else 1
    if index._array.size and (index._array.min() < 0 or index._array.max() >= size):
        raise IndexError("index out of range in self")
    key = _axis_key(d, np.asarray(index._array))
    out = Tensor._make(np.asarray(self._array)[key], self.dtype)
    return record(IndexSelectBackward0, out, (self,), (index,), (dim, self._array.shape))


@method()
def gather(self, dim, index, *, sparse_grad=False):
    d = self._dim_index(dim)
    _check_index(self, d, index, "gather")
    a = np.asarray(self._array)
    i = np.asarray(index._array)
    if a.ndim == 0:  # one element, as PyTorch reads a 0-dim tensor (index checked above)
        a, i = a.reshape(1), i.reshape(-1)
    a = a[tuple(slice(None) if k == d else slice(0, n) for k, n in enumerate(i.shape))]
    out = np.take_along_axis(a, i, axis=d).reshape(index._array.shape)
    return record(GatherBackward0, Tensor._make(out, self.dtype), (self,), (self, index),
                  (dim, sparse_grad))


@method()
def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
    """Each element ``repeats`` times along ``dim`` (of the flattened tensor without it), as ATen
    composes it: unsqueeze, expand, clone, flatten for a number of repeats; index_select for a
    tensor of them. ``torch.repeat_interleave(repeats)`` alone gives the indices."""
    if repeats is None:  # the one-argument form: self holds the repeats
        return Tensor._make(_repeated_indices(self, self._array.shape[0] if self._array.ndim
                                              else 1), _dtype.int64)
    source = self if dim is not None else self.flatten()
    d = self._dim_index(0 if dim is None else dim)
    if not isinstance(repeats, Tensor):
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        sizes = list(source._array.shape)
        sizes.insert(d + 1, repeats)
        return source.unsqueeze(d + 1).expand(sizes).clone().flatten(d, d + 1)
    if repeats.dtype not in (_dtype.int32, _dtype.int64):
        raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                  f"'{repeats.dtype._legacy[:-6]}'")
    size = source._array.shape[d]
    index = Tensor._make(_repeated_indices(repeats.expand(size) if repeats._array.ndim == 0
                                           else repeats, size), _dtype.int64)
    return index_select(source, d, index)


def _repeated_indices(repeats, size):
    """0, 1, ... each as often as ``repeats`` says (PyTorch's checks)."""
    counts = np.asarray(repeats._array).reshape(-1)
    if counts.size != size:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.size} and input.size(0) = {size}")
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    return np.repeat(np.arange(counts.size, dtype=np.int64), counts)


@method()
def take_along_dim(self, indices, dim=None):
    """gather along ``dim`` after broadcasting the input and the indices against each other (the
    flattened input and indices without ``dim``), as ATen composes it."""
    if indices.dtype is not _dtype.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{indices.dtype._legacy[:-6]}")
    if dim is None:
        return gather(self.view(-1), 0, indices.view(-1))
    if self._array.ndim != indices._array.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {self._array.ndim} dimensions for "
                           f"input, and {indices._array.ndim} dimensions for indices")
    d = self._dim_index(dim)
    sizes, index_sizes = list(self._array.shape), list(indices._array.shape)
    sizes[d], index_sizes[d] = index_sizes[d], sizes[d]
    shapes = []
    for a, b in ((tuple(sizes), indices._array.shape), (tuple(index_sizes), self._array.shape)):
        try:
            shapes.append(np.broadcast_shapes(a, b))
        except ValueError:
            raise broadcast_error(a, b) from None
    index_shape, shape = shapes
    return gather(self.broadcast_to(shape), d, indices.broadcast_to(index_shape))


@method()
def scatter(self, dim, index, src):
    d = self._dim_index(dim)
    _check_index(self, d, index, "scatter")
    a = np.array(self._array)
    if isinstance(src, Tensor):
        values = src._array[tuple(slice(0, n) for n in index._array.shape)]
    else:
        values = src
    np.put_along_axis(a, index._array, values, axis=d)
    out = Tensor._make(a, self.dtype)
    if not isinstance(src, Tensor):
        return record(ScatterBackward1, out, (self,), (index,), (dim,))
    return record(ScatterBackward0, out, (self, src), (index,), (dim,))


@method()
def scatter_add(self, dim, index, src):
    d = self._dim_index(dim)
    _check_index(self, d, index, "scatter")
    a = np.array(self._array)
    i, values = np.asarray(index._array), np.asarray(src._array)
    if a.ndim == 0:  # one element, as PyTorch reads a 0-dim tensor
        i, values = i.reshape(-1), values.reshape(-1)
    values = values[tuple(slice(0, n) for n in i.shape)]
    idx = np.indices(i.shape, sparse=True)
    key = tuple(i if k == d else ix for k, ix in enumerate(idx))
    np.add.at(a.reshape(-1) if a.ndim == 0 else a, key, values)
    return record(ScatterAddBackward0, Tensor._make(a, self.dtype), (self, src), (index,), (dim,))


@method()
def index_put(self, indices, values, accumulate=False):
    """A copy of self with values written (or added) at the advanced indices."""
    return _index_put(self, _public_indices(indices, "index_put"), values, accumulate,
                      IndexPutBackward0, stacklevel=4)


def _public_indices(indices, op):
    """index_put's ``indices`` as PyTorch's argument parser takes them: tensors, in a tuple or
    list."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return tuple(indices)


def _index_put(self, indices, values, accumulate, cls, stacklevel=6):
    """_index_put_impl_ out of place, with its checks: a lone mask with a single value is
    masked_fill (any dtype), else values of self's dtype that broadcast to self[indices]."""
    from .index_key import MASK_TYPES, check_bounds, np_key
    key, longs = np_key(self._array.shape, indices, stacklevel, bounds=False)
    a = np.array(self._array)
    v = values._array
    defined = [i for i in indices if i is not None]
    if not (v.size == 1 and not accumulate and len(defined) == 1 and
            defined[0].dtype in MASK_TYPES):
        target = _indexed_shape(a.shape, longs)
        if v.ndim > len(target) or any(m not in (1, n) for m, n in zip(v.shape[::-1],
                                                                      target[::-1])):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be "
                               f"broadcast to indexing result of shape {list(target)}")
        if values.dtype is not self.dtype:
            raise RuntimeError("Index put requires the source and destination dtypes match, got "
                               f"{self.dtype._legacy[:-6]} for the destination and "
                               f"{values.dtype._legacy[:-6]} for the source.")
    else:
        v = v.reshape(())
    check_bounds(self._array.shape, longs)
    if accumulate:
        np.add.at(a, _long_key(key), v)
    else:
        a[key] = v
    out = Tensor._make(a, self.dtype)
    return record(cls, out, (self, values), (indices,), (accumulate,))


def _indexed_shape(shape, longs):
    """The shape of self[indices]: the indices' shape where they stand, or first if they stand
    apart (the (dim, broadcast array) pairs of the indexed dims)."""
    dims = [d for d, _ in longs]
    common = longs[0][1].shape
    rest = [n for d, n in enumerate(shape) if d not in dims]
    if dims == list(range(dims[0], dims[0] + len(dims))):
        return tuple(rest[:dims[0]]) + common + tuple(rest[dims[0]:])
    return common + tuple(rest)


def _long_key(key):
    """The key with each mask as its nonzero positions (np.add.at takes no masks)."""
    out = []
    for k in key:
        out.extend(np.nonzero(k) if getattr(k, "dtype", None) == np.bool_ else (k,))
    return tuple(out)


@method()
def masked_select(self, mask):
    shape = np.broadcast_shapes(self._array.shape, mask._array.shape)
    out = np.broadcast_to(self._array, shape)[np.broadcast_to(mask._array, shape)]
    return record(MaskedSelectBackward0, Tensor._make(out, self.dtype), (self,), (mask, self))


@method()
def masked_scatter(self, mask, source):
    """self with the mask's positions filled, in order, from the elements of source."""
    a = np.array(np.broadcast_to(self._array, np.broadcast_shapes(self._array.shape,
                                                                   mask._array.shape)))
    m = np.broadcast_to(mask._array, a.shape)
    a[m] = np.asarray(source._array).reshape(-1)[:int(m.sum())]
    return record(MaskedScatterBackward0, Tensor._make(a, self.dtype), (self, source), (mask,),
                  (source._array.shape,))


def _masked_scatter_source_grad(grad, mask, sizes):
    """PyTorch's masked_scatter_backward: grad at the mask, padded with zeros to ``sizes``."""
    picked = np.asarray(grad._array)[np.broadcast_to(mask._array, grad.shape)]
    out = np.zeros(int(np.prod(sizes)), grad.dtype.np)
    out[:picked.size] = picked
    return record(MaskedScatterBackwardBackward0, Tensor._make(out.reshape(sizes), grad.dtype),
                  (grad,), (mask,), (tuple(grad.shape),))


@method()
def nonzero(self, *, as_tuple=False):
    idx = np.nonzero(np.asarray(self._array))
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), _dtype.int64) for i in idx)
    return Tensor._make(np.stack(idx, axis=1).astype(np.int64), _dtype.int64)


# ---- splitting ops (one node, several outputs) ------------------------------------------------

UnbindBackward0 = derivative(
    "UnbindBackward0", ("self",), attrs=("dim",), num_outputs=0,
    self=("the grads stacked", lambda grads, dim: _stack_grads(grads, dim)),
    result=("self_t unbound", lambda self_t, dim: self_t.unbind(dim)))
SplitBackward0 = derivative(
    "SplitBackward0", ("self",), attrs=("dim", "self_sym_sizes", "split_size"), num_outputs=0,
    self=("the grads concatenated", lambda grads, dim, self_sym_sizes, split_size: _cat_grads(
        grads, dim, self_sym_sizes, split_size)),
    result=("self_t split", lambda self_t, dim, split_size: self_t.split(split_size, dim)))
SplitWithSizesBackward0 = derivative(
    "SplitWithSizesBackward0", ("self",), attrs=("dim", "self_sym_sizes", "split_sizes"),
    num_outputs=0,
    self=("the grads concatenated", lambda grads, dim, self_sym_sizes, split_sizes: _cat_grads(
        grads, dim, self_sym_sizes, split_sizes)),
    result=("self_t split", lambda self_t, dim, split_sizes: self_t.split(split_sizes, dim)))


def _stack_grads(grads, dim):
    from .shape import stack
    like = next(g for g in grads if g is not None)
    return stack([g if g is not None else _zeros(like.shape, like.dtype) for g in grads], dim)


def _cat_grads(grads, dim, sizes, split):
    from .shape import cat
    like = next(g for g in grads if g is not None)
    dim %= len(sizes)  # split_backward wraps the dim
    n = sizes[dim]
    if isinstance(split, int):
        split = [min(split, n - s) for s in range(0, n, split)] or [n]
    filled = []
    for g, k in zip(grads, split):
        if g is None:
            shape = list(sizes)
            shape[dim] = k
            g = _zeros(tuple(shape), like.dtype)
        filled.append(g)
    return cat(filled, dim)


def _zeros(shape, dt):
    return Tensor._make(np.zeros(shape, dt.np), dt)


def _multi(self, arrays, cls, attrs):
    """Outputs of one node with several outputs (views of self); missing grads become zeros."""
    base = self._base
    if base is None:
        if type(self._version_counter) is InferenceVersion:  # as in shape._view
            return tuple(Tensor._make(a, self.dtype, counter=self._version_counter) for a in arrays)
        base = self
    outs = tuple(Tensor._make(a, self.dtype, counter=self._version_counter, base=base)
                 for a in arrays)
    if self._requires_grad and not _local.enabled:
        for out in outs:  # views made in no_grad mode, as in shape._view
            out._requires_grad = True
        if _levels.current < 0:
            return outs
        return record(_with_outputs(cls, len(outs)), outs, (self,), attrs=attrs)  # tangents
    node_outs = record(_with_outputs(cls, len(outs)), outs, (self,), attrs=attrs)
    return node_outs


_multi_classes = {}


def _with_outputs(cls, n):
    key = (cls, n)
    sub = _multi_classes.get(key)
    if sub is None:
        sub = _multi_classes[key] = type(cls.__name__, (cls,), {"__slots__": (),
                                                                "__module__": "builtins",
                                                                "num_outputs": n})
    return sub


@method()
def unbind(self, dim=0):
    d = self._dim_index(dim)
    a = self._storage()
    return _multi(self, [a[_axis_key(d, i)] for i in range(a.shape[d])], UnbindBackward0, (dim,))


@method()
def split(self, split_size, dim=0):
    d = self._dim_index(dim)
    a = self._storage()
    n = a.shape[d]
    if isinstance(split_size, int):
        if split_size <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                               f"size of {n}")
        bounds = list(range(0, n, split_size)) + [n]
        arrays = [a[_axis_key(d, slice(s, e))] for s, e in zip(bounds[:-1], bounds[1:])] or [a]
        return _multi(self, arrays, SplitBackward0, (dim, a.shape, split_size))
    sizes = list(split_size)
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    starts = np.cumsum([0] + sizes)
    arrays = [a[_axis_key(d, slice(s, s + k))] for s, k in zip(starts, sizes)]
    return _multi(self, arrays, SplitWithSizesBackward0, (dim, a.shape, tuple(sizes)))


@method()
def chunk(self, chunks, dim=0):
    if not isinstance(chunks, (int, np.integer)) or isinstance(chunks, bool):
        raise TypeError(f"chunk(): argument 'chunks' (position 1) must be int, not "
                        f"{type(chunks).__name__}")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = self._dim_index(dim)
    n = self._array.shape[d]
    return split(self, max(1, -(-n // chunks)), dim)
