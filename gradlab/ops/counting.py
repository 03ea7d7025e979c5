"""Counting and binning: unique, bincount, histc, one_hot, searchsorted, bucketize (no gradients,
as in PyTorch, but unique's node that refuses backward)."""
import numpy as np

from .. import _dtype
from ..tensor import Tensor
from ._core import derivative, method, record


def _long(a):
    return Tensor._make(np.asarray(a, np.int64), _dtype.int64)


def _unique_refused(grad):
    raise NotImplementedError("the derivative for '_unique2' is not implemented.")


def _unique_no_forward(self_t):
    raise NotImplementedError(
        "Trying to use forward AD with _unique2 that does not support it because it has not been "
        "implemented yet.\nPlease file an issue to PyTorch at https://github.com/pytorch/pytorch/"
        "issues/new?template=feature-request.yml so that we can prioritize its implementation or "
        "submit a PR adding the implementation to derivatives.yaml")


Unique2Backward0 = derivative("Unique2Backward0", ("self",),
                              self=("not implemented", _unique_refused),
                              result=("not implemented", _unique_no_forward))


@method()
def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted; each NaN its own), with the inverse indices and counts."""
    a = np.asarray(self._array)
    if dim is None:
        flat = a.reshape(-1)
        values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True,
                                            equal_nan=False)
        inverse = inverse.reshape(a.shape)
        out = Tensor._make(values, self.dtype)
        if self.dtype.is_floating_point:
            record(Unique2Backward0, out, (self,))
    else:
        d = self._dim_index(dim)
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        out = Tensor._make(np.ascontiguousarray(values), self.dtype)
        inverse = inverse.reshape(-1)
    extra = (_long(inverse),) * return_inverse + (_long(counts),) * return_counts
    return (out,) + extra if extra else out


@method()
def bincount(self, weights=None, minlength=0):
    a = np.asarray(self._array)
    if self.dtype.is_floating_point or self.dtype is _dtype.bool_:
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{self.dtype._legacy[:-6]}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if a.ndim != 1 or a.size and a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _long(np.bincount(a.astype(np.intp, copy=False), minlength=minlength))
    w = np.asarray(weights._array)
    if w.ndim != 1 or w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = weights.dtype if weights.dtype in (_dtype.float32, _dtype.float64) else _dtype.float64
    out = np.zeros(max(minlength, int(a.max()) + 1 if a.size else 0), dt.np)
    np.add.at(out, a, w.astype(dt.np))
    return Tensor._make(out, dt)


@method()
def histc(self, bins=100, min=0, max=0):
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0)."""
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{self.dtype._legacy[:-6]}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    a = np.asarray(self._array).reshape(-1)
    dt = self.dtype.np.type
    lo, hi = dt(min), dt(max)
    if lo == hi and a.size:
        lo, hi = a.min(), a.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    inside = a[(a >= lo) & (a <= hi)]
    with np.errstate(all="ignore"):  # as PyTorch's kernel: (x - lo) · bins / (hi - lo)
        pos = ((inside - lo) * dt(bins) / (hi - lo)).astype(np.intp)
    pos[pos == bins] = bins - 1
    return Tensor._make(np.bincount(pos, minlength=bins).astype(self.dtype.np), self.dtype)


class Histogram(tuple):
    """(hist, bin_edges), printed as torch.return_types.histogram."""

    hist = property(lambda self: self[0])
    bin_edges = property(lambda self: self[1])

    def __repr__(self):
        return f"torch.return_types.histogram(\nhist={self[0]!r},\nbin_edges={self[1]!r})"


@method()
def histogram(self, bins=100, *, range=None, weight=None, density=False):
    """Counts (or weights) of the elements in each bin: ``bins`` equal bins over ``range`` (the
    data's when None), found as PyTorch's kernel finds them, or the bins between given edges."""
    a = np.asarray(self._array).reshape(-1)
    if isinstance(bins, Tensor):
        edges = np.asarray(bins._array)
        pos = np.searchsorted(edges, a, side="right") - 1  # upper_bound - 1
    else:
        lo, hi = (range if range is not None else
                  (a.min(), a.max()) if a.size else (0.0, 1.0))
        lo, hi = float(lo), float(hi)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo:g}, {hi:g}] is not "
                               "finite")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        from .._creation import linspace
        edges = np.asarray(linspace(lo, hi, bins + 1, dtype=self.dtype)._array)
        with np.errstate(all="ignore"):
            guess = ((a - edges[0]) * bins / (edges[-1] - edges[0]))
        guess = np.nan_to_num(guess, nan=-1).astype(np.int64)
        pos = _local_search(edges, a, guess)
    n = len(edges) - 1
    keep = (a >= edges[0]) & (a <= edges[-1])
    pos = np.where(pos == n, n - 1, pos)[keep]
    w = None if weight is None else np.asarray(weight._array).reshape(-1)[keep]
    hist = np.bincount(pos.astype(np.intp, copy=False), w, minlength=n).astype(self.dtype.np)
    if density:
        hist = (hist / (hist.sum() * np.diff(edges))).astype(self.dtype.np)
    return Histogram((Tensor._make(hist, self.dtype), Tensor._make(edges.copy(), self.dtype)))


def _local_search(edges, a, guess):
    """PyTorch's LINEAR_INTERPOLATION_WITH_LOCAL_SEARCH: upper_bound in [guess - 1, guess + 2)."""
    n_edges = len(edges)
    lo = np.clip(guess - 1, 0, n_edges)
    hi = np.clip(guess + 2, 0, n_edges)
    pos = lo.copy()
    for k in (0, 1, 2):  # upper_bound over at most three edges
        idx = lo + k
        inside = idx < hi
        pos += inside & (edges[np.minimum(idx, n_edges - 1)] <= a)
    return pos - 1


def one_hot(tensor, num_classes=-1):
    """torch.nn.functional.one_hot: int64 rows with a 1 at each class value."""
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    a = np.asarray(tensor._array)
    if num_classes == -1:
        if not a.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes or num_classes < 0:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return _long(np.arange(num_classes) == a[..., None])


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where each value would go into the (last dim of the) sorted sequence."""
    seq = np.asarray(sorted_sequence._array)
    values = np.asarray(input._array) if isinstance(input, Tensor) else np.asarray(input)
    if seq.ndim > 1 and seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
    how = "right" if right or side == "right" else "left"
    if sorter is not None:
        seq = np.take_along_axis(seq, np.asarray(sorter._array), -1)
    if seq.ndim <= 1:
        out = np.searchsorted(seq, values, how)
    else:
        rows = seq.reshape(-1, seq.shape[-1])
        vals = values.reshape(len(rows), -1)
        out = np.stack([np.searchsorted(r, v, how) for r, v in zip(rows, vals)]).reshape(
            values.shape)
    return Tensor._make(np.asarray(out, np.int32 if out_int32 else np.int64),
                        _dtype.int32 if out_int32 else _dtype.int64)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value among the (1-d) boundaries."""
    if boundaries._array.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries._array.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
