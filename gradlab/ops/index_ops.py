"""index_add, index_fill, index_copy and take, in place and out of place, with PyTorch's checks."""
import numpy as np

from .. import _dtype
from ..tensor import Tensor
from ._core import derivative, method, record
from .indexing import _axis_key, _index_add, _index_add_source_grad, _index_put_zeros

IndexFillBackward0 = derivative(
    "IndexFillBackward0", ("self",), saves=("index",), attrs=("dim",),
    self=("grad, zero at the index", lambda grad, index, dim: index_fill(grad, dim, index, 0)),
    result=("self_t, zero at the index",
            lambda self_t, index, dim: index_fill(self_t, dim, index, 0)))
IndexFillBackward1 = derivative(
    "IndexFillBackward1", ("self", "value"), saves=("index",), attrs=("dim",),
    self=("grad, zero at the index", lambda grad, index, dim: index_fill(grad, dim, index, 0)),
    value=("Σ grad at the (distinct) indices", lambda grad, index, dim: grad.index_select(
        dim, index.unique()).sum()),
    result=("self_t filled with value_t at the index",
            lambda self_t, value_t, index, dim: index_fill(self_t, dim, index, value_t)))
IndexCopyBackward0 = derivative(
    "IndexCopyBackward0", ("self", "source"), saves=("index", "source"),
    attrs=("dim", "source_dim"),
    self=("grad, zero at the index", lambda grad, index, dim: index_fill(grad, dim, index, 0)),
    source=("grad at the index", lambda grad, index, source, dim: _index_add_source_grad(
        grad, index, source, 1, dim)),
    result=("self_t.index_copy(source_t)", lambda self_t, source_t, index, dim: index_copy(
        self_t, dim, index, source_t)))
TakeBackward0 = derivative(
    "TakeBackward0", ("self",), saves=("index", "self"),
    self=("grad added at the flat indices", lambda grad, index, self: _index_put_zeros(
        grad.reshape(-1), (self.numel(),), (index.reshape(-1),)).reshape(self.shape)),
    result=("self_t taken", lambda self_t, index: take(self_t, index)))


def _vector_index(self, dim, index, op, dtypes=(_dtype.int64,), what="int64", error=IndexError):
    d = self._dim_index(dim)
    if index._array.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if index.dtype not in dtypes:
        raise IndexError(f"{op}(): Expected dtype {what} for index.")
    size = self._array.shape[d] if self._array.ndim else 1
    i = np.asarray(index._array).reshape(-1)
    bad = np.flatnonzero((i < -size) | (i >= size))
    if bad.size:
        prefix = f"{op}(): " if op == "index_copy_" else ""
        raise error(f"{prefix}index {i[bad[0]]} is out of bounds for dimension {d} with size "
                         f"{size}")
    return d, i


@method()
def index_fill(self, dim, index, value):
    d, i = _vector_index(self, dim, index, "index_fill_")
    a = np.array(self._array)
    if isinstance(value, Tensor):
        if value._array.ndim:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._array.ndim} dimension(s).")
        a[_axis_key(d, i)] = value._array
        return record(IndexFillBackward1, Tensor._make(a, self.dtype), (self, value), (index,),
                      (dim,))
    a[_axis_key(d, i)] = value
    return record(IndexFillBackward0, Tensor._make(a, self.dtype), (self,), (index,), (dim,))


@method()
def index_fill_(self, dim, index, value):
    from .inplace import inplace
    return inplace(self, lambda t: index_fill(t, dim, index, value), overlap_ok=True)


def _check_source(self, d, index, source, op):
    if source.dtype is not self.dtype:
        raise RuntimeError(f"{op}(): self ({self.dtype._legacy[:-6]}) and source "
                           f"({source.dtype._legacy[:-6]}) must have the same scalar type")
    s, t = list(self._array.shape), list(source._array.shape)
    if len(s) != len(t) or s[:d] + s[d + 1:] != t[:d] + t[d + 1:]:
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {s} source.shape = {t}")
    n = index._array.size
    if source._array.ndim and n != t[d]:
        raise RuntimeError(f"{op}(): Number of indices ({n}) should be equal to source.size(dim): "
                           f"({t[d]}), for dim: {d}")


@method()
def index_add(self, dim, index, source, *, alpha=1):
    d, _ = _vector_index(self, dim, index, "index_add_", (_dtype.int64, _dtype.int32),
                         "int32 or int64", RuntimeError)
    _check_source(self, d, index, source, "index_add_")
    return _index_add(self, dim, index, source, alpha)


@method()
def index_add_(self, dim, index, source, *, alpha=1):
    from .inplace import inplace
    return inplace(self, lambda t: index_add(t, dim, index, source, alpha=alpha))


@method()
def index_copy(self, dim, index, source):
    d, i = _vector_index(self, dim, index, "index_copy_")
    _check_source(self, d, index, source, "index_copy_")
    a = np.array(self._array)
    a[_axis_key(d, i)] = source._array
    return record(IndexCopyBackward0, Tensor._make(a, self.dtype), (self, source),
                  (index, source), (dim, source._array.ndim))


@method()
def index_copy_(self, dim, index, source):
    from .inplace import inplace
    return inplace(self, lambda t: index_copy(t, dim, index, source))


@method()
def take(self, index):
    if index.dtype is not _dtype.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{index.dtype._legacy[:-6]}")
    flat = np.asarray(self._array).reshape(-1)
    i = np.asarray(index._array)
    bad = np.flatnonzero((i < -flat.size) | (i >= flat.size))
    if bad.size:
        raise IndexError(f"out of range: tried to access index {i.reshape(-1)[bad[0]]} on a "
                         f"tensor of {flat.size} elements.")
    return record(TakeBackward0, Tensor._make(flat[i], self.dtype), (self,), (index, self))
