"""Sorting and selecting: sort, argsort, topk, kthvalue, median, mode, with PyTorch's CPU order for
equal values (its kernels' std::sort, std::nth_element, quick select: see _stl)."""
import numpy as np

from .. import _dtype
from ..tensor import Tensor
from . import _stl
from ._core import RESULT, derivative, method, record
from .reduction import ValuesIndices, _evenly, _select_back


def _selecting(name, keepdim):
    """A grad_fn class of an op that picks elements (sort, topk: keeping the dim; kthvalue, ...)."""
    if not keepdim:
        return derivative(
            name, ("self",), saves=("indices",), attrs=("dim", "self_sym_sizes"),
            self=("grad placed back at the indices", lambda grad, indices, dim, self_sym_sizes:
                  _select_back(grad, dim, indices, self_sym_sizes, True)),
            result=("self_t gathered at the indices",
                    lambda self_t, indices, dim: _gather(self_t, dim, indices, True)))
    return derivative(
        name, ("self",), saves=("indices",), attrs=("dim", "keepdim", "self_sym_sizes"),
        self=("grad placed back at the index", lambda grad, indices, dim, keepdim,
              self_sym_sizes: _select_back(grad, dim, indices, self_sym_sizes, keepdim)),
        result=("self_t gathered at the index", lambda self_t, indices, dim, keepdim: _gather(
            self_t, dim, indices, keepdim)))


def _gather(t, dim, indices, keepdim):
    if not t.dim():
        return t.clone()
    if keepdim:
        return t.gather(dim, indices)
    return t.gather(dim, indices.unsqueeze(dim)).squeeze(dim)


SortBackward0 = _selecting("SortBackward0", False)
SortBackward1 = _selecting("SortBackward1", False)  # sort.stable
TopkBackward0 = _selecting("TopkBackward0", False)
KthvalueBackward0 = _selecting("KthvalueBackward0", True)
MedianBackward1 = _selecting("MedianBackward1", True)
ModeBackward0 = _selecting("ModeBackward0", True)


def _less(descending):
    """PyTorch's KeyValueComp: NaN sorts as the largest value."""
    if descending:
        return lambda x, y: x[0] > y[0] or x[0] != x[0] and y[0] == y[0]
    return lambda x, y: x[0] < y[0] or x[0] == x[0] and y[0] != y[0]


def _rows(a, d):
    """``a`` with ``d`` moved last, as a 2-d array of rows (and the moved shape)."""
    if not a.ndim:
        return a.reshape(1, 1), ()
    moved = np.moveaxis(a, d, -1)
    return moved.reshape(-1, moved.shape[-1] if moved.ndim else 1), moved.shape


def _unrows(rows, shape, d):
    if shape == ():
        return rows.reshape(())
    return np.ascontiguousarray(np.moveaxis(rows.reshape(shape), -1, d))


def _stable_order(rows, descending):
    """Row by row, the stable sort order (NaN largest), as NumPy computes it."""
    if not descending:
        return np.argsort(rows, axis=-1, kind="stable")
    n = rows.shape[-1]
    return (n - 1 - np.argsort(rows[:, ::-1], axis=-1, kind="stable"))[:, ::-1]


def _has_ties(rows, order):
    s = np.take_along_axis(rows, order, -1)
    same = s[:, 1:] == s[:, :-1]
    if s.dtype.kind == "f":
        same |= np.isnan(s[:, 1:]) & np.isnan(s[:, :-1])
    return same.any(-1)


def _sort_order(rows, descending, stable, radix):
    order = _stable_order(rows, descending)
    if stable or radix:
        return order
    for r in np.flatnonzero(_has_ties(rows, order)):  # std::sort's order for equal values
        pairs = list(zip(rows[r].tolist(), range(rows.shape[1])))
        _stl.sort(pairs, _less(descending))
        order[r] = [i for _, i in pairs]
    return order


def _dim(self, dim):
    return self._dim_index(dim) if self._array.ndim else self._dim_index(dim, 1)


@method()
def sort(self, dim=-1, descending=False, *, stable=None):
    if isinstance(dim, bool) and not isinstance(descending, bool):  # sort(stable, dim, ...)
        stable, dim = dim, -1
    d = _dim(self, dim)
    a = np.asarray(self._array)
    rows, shape = _rows(a, d)
    radix = a.ndim == 1 and a.size >= 32768 and a.dtype.kind in "iu" and not descending
    order = _sort_order(rows, descending, stable, radix)
    values = _unrows(np.take_along_axis(rows, order, -1), shape, d)
    indices = Tensor._make(_unrows(order.astype(np.int64), shape, d), _dtype.int64)
    cls = SortBackward0 if stable is None else SortBackward1
    out = record(cls, Tensor._make(values, self.dtype), (self,), (indices,), (dim, a.shape))
    return ValuesIndices("sort", out, indices)


@method()
def argsort(self, dim=-1, descending=False, *, stable=False):
    return sort(self, dim, descending, stable=stable)[1]


@method()
def msort(self):
    return sort(self, 0)[0]


@method()
def topk(self, k, dim=-1, largest=True, sorted=True):
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' (position 1) must be int, not {type(k).__name__}")
    d = _dim(self, dim)
    a = np.asarray(self._array)
    n = a.shape[d] if a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if self.dtype is _dtype.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    rows, shape = _rows(a, d)
    order = _stable_order(rows, largest)
    # NumPy's order is the kernel's where no equal values are among the first k + 1, and the
    # kernel sorts the first k (a partial sort, or nth_element then sorted)
    exact = ~_has_ties(rows, order[:, :k + 1]) & (sorted or k * 64 <= n)
    order = order[:, :k].copy()
    for r in np.flatnonzero(~exact) if k else ():
        order[r] = _topk_row(rows[r], k, largest, sorted)
    out_shape = shape[:-1] + (k,) if a.ndim or not k else ()
    values = _unrows(np.take_along_axis(rows, order, -1), out_shape, d)
    indices = Tensor._make(_unrows(order.astype(np.int64), out_shape, d), _dtype.int64)
    out = record(TopkBackward0, Tensor._make(values, self.dtype), (self,), (indices,),
                 (dim, a.shape))
    return ValuesIndices("topk", out, indices)


def _topk_row(row, k, largest, sorted):
    """PyTorch's topk_impl_loop on one row."""
    queue = list(zip(row.tolist(), range(len(row))))
    less = _less(largest)
    if k * 64 <= len(row):
        _stl.partial_sort(queue, k, less)
    else:
        _stl.nth_element(queue, k - 1, less)
        if sorted:
            head = queue[:k - 1]
            _stl.sort(head, less)
            queue[:k - 1] = head
    return [i for _, i in queue[:k]]


def _reduced(self, dim, keepdim, name, cls, pick):
    """values, indices of ``pick(row) -> index`` along ``dim``."""
    d = _dim(self, dim)
    a = np.asarray(self._array)
    rows, shape = _rows(a, d)
    shape = shape or (1,)
    idx = np.array([pick(r) for r in rows], np.int64).reshape(shape[:-1] + (1,))
    values = np.take_along_axis(rows.reshape(shape), idx, -1)
    idx, values = np.moveaxis(idx, -1, d), np.moveaxis(values, -1, d)
    if not keepdim or not a.ndim:
        idx, values = idx.squeeze(d), values.squeeze(d)
    indices = Tensor._make(np.ascontiguousarray(idx), _dtype.int64)
    out = record(cls, Tensor._make(np.ascontiguousarray(values), self.dtype), (self,), (indices,),
                 (dim, keepdim, a.shape))
    return ValuesIndices(name, out, indices)


@method()
def kthvalue(self, k, dim=-1, keepdim=False):
    d = _dim(self, dim)
    n = self._array.shape[d] if self._array.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    return _reduced(self, dim, keepdim, "kthvalue", KthvalueBackward0,
                    lambda row: _quick_select(row.tolist(), k - 1))


def _quick_select(values, k):
    """PyTorch's quick_select_template (SortingUtils.h): the index of the k-th smallest."""
    arr = list(zip(values, range(len(values))))

    def gt(x, y):
        return x[0] > y[0] or x[0] != x[0] and y[0] == y[0]

    lo, hi = 0, len(arr) - 1
    while True:
        if hi <= lo:
            return arr[k][1]
        if hi == lo + 1:
            if gt(arr[lo], arr[hi]):
                arr[lo], arr[hi] = arr[hi], arr[lo]
            return arr[k][1]
        p = lo + (hi - lo) // 2
        arr[p], arr[lo + 1] = arr[lo + 1], arr[p]
        if gt(arr[lo + 1], arr[hi]):
            arr[lo + 1], arr[hi] = arr[hi], arr[lo + 1]
        if gt(arr[lo], arr[hi]):
            arr[lo], arr[hi] = arr[hi], arr[lo]
        if gt(arr[lo + 1], arr[lo]):
            arr[lo + 1], arr[lo] = arr[lo], arr[lo + 1]
        i, j, pivot = lo + 1, hi, arr[lo]
        while True:
            i += 1
            while gt(pivot, arr[i]):
                i += 1
            j -= 1
            while gt(arr[j], pivot):
                j -= 1
            if j < i:
                break
            arr[i], arr[j] = arr[j], arr[i]
        arr[lo], arr[j] = arr[j], arr[lo]
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1


def _median_index(row):
    """PyTorch's median kernel: the first NaN, else nth_element of the indices ordered by value
    then index (so the middle of a stable sort)."""
    nan = np.flatnonzero(row != row)
    if nan.size:
        return int(nan[0])
    return int(np.argsort(row, kind="stable")[(len(row) - 1) // 2])


def _mode_index(row):
    """PyTorch's mode kernel: std::sort the (value, index) pairs by value, then the last index of
    the first longest run."""
    pairs = list(zip(row.tolist(), range(len(row))))
    _stl.sort(pairs, lambda x, y: x[0] < y[0])
    best, best_count, count = 0, 0, 0
    for i, (v, j) in enumerate(pairs):
        count += 1
        if i == len(pairs) - 1 or v != pairs[i + 1][0]:
            if count > best_count:
                best, best_count = j, count
            count = 0
    return best


MedianBackward0 = derivative(
    "MedianBackward0", ("self",), saves=("self", "result"),
    self=("grad shared among the elements equal to the median", lambda grad, self, result:
          _evenly(grad, self, result)),
    result=("mean of self_t where self equals the median", lambda self_t, self, result:
            _evenly_read(self_t, self, result)))


def _evenly_read(self_t, self, result):
    """PyTorch's evenly_read_jvp."""
    mask = self == result
    return (self_t * mask).sum() / mask.sum()


@method()
def median(self, dim=None, keepdim=False):
    if dim is None:
        a = np.asarray(self._array).reshape(-1)
        if not a.size:
            return Tensor._make(np.array(np.nan, self.dtype.np), self.dtype)
        out = Tensor._make(np.array(a[_median_index(a)]), self.dtype)
        return record(MedianBackward0, out, (self,), (self, RESULT))
    return _reduced(self, dim, keepdim, "median", MedianBackward1, _median_index)


@method()
def mode(self, dim=-1, keepdim=False):
    return _reduced(self, dim, keepdim, "mode", ModeBackward0, _mode_index)
