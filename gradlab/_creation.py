"""Tensor factories: tensor, zeros, ones, arange, rand, ... with PyTorch's dtype inference."""
import math
import warnings

import numpy as np

from . import _dtype, _random
from .tensor import Tensor

COPY_CONSTRUCT_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
    "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).")


def _finish(t, requires_grad):
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


def _infer_array(data, dtype):
    """A NumPy array of ``data`` and its dtype, inferred as torch.tensor infers it."""
    if isinstance(data, Tensor):
        return np.array(data._array), data.dtype
    if isinstance(data, np.ndarray):
        dt = dtype or _dtype.of_numpy(data.dtype)
        return np.array(data, dt.np), dt
    if isinstance(data, (list, tuple)):
        _check_ragged(data, 0)
    try:
        a = np.array(_plain(data))
    except (ValueError, TypeError) as e:
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'") from e
    if a.dtype == object:
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if dtype is None:
        kind = a.dtype.kind
        if isinstance(data, np.generic):
            dtype = _dtype.of_numpy(a.dtype)
        elif kind == "b":
            dtype = _dtype.bool_
        elif kind in "iu":
            dtype = _dtype.int64
        elif kind == "f":
            dtype = _dtype.get_default_dtype()
        else:
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    return a.astype(dtype.np), dtype


def _plain(data):
    """Lists of tensors become lists of their values (torch.tensor([t1, t2]) is allowed)."""
    if isinstance(data, Tensor):
        return data._array
    if isinstance(data, (list, tuple)):
        return [_plain(d) for d in data]
    return data


def _check_ragged(data, depth):
    """PyTorch's ValueError for lists of unequal lengths."""
    lengths = [len(d) if isinstance(d, (list, tuple)) else None for d in data]
    seqs = [n for n in lengths if n is not None]
    if not seqs:
        return
    first = lengths[0]
    for n in lengths:
        if n != first:
            raise ValueError(f"expected sequence of length {first} at dim {depth + 1} (got {n})")
    for d in data:
        _check_ragged(d, depth + 1)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of ``data`` (numbers, nested lists, arrays)."""
    if isinstance(data, Tensor):
        warnings.warn(COPY_CONSTRUCT_WARNING, UserWarning, stacklevel=2)
    a, dt = _infer_array(data, dtype)
    return _finish(Tensor._make(a, dt), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Share the data when it already is a tensor or an array of the right dtype."""
    if isinstance(data, Tensor):
        return data if dtype is None or dtype is data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtype.np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor._make(array, _dtype.of_numpy(array.dtype))


def legacy_tensor(self, *args, **kwargs):
    """``torch.Tensor(...)``: data or sizes, always float32 (the legacy constructor)."""
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(kwargs)})")
    dt = _dtype.float32
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        data = args[0]
        if isinstance(data, Tensor):
            a = data._storage()
        else:
            a, _ = _infer_array(data, dt)
    else:
        a = np.zeros(_size(args), dt.np)
    self._array, self.dtype = a.astype(dt.np, copy=False), dt
    self._requires_grad, self._grad_fn, self._output_nr, self._grad = False, None, 0, None
    self._version_counter, self._base, self._accumulator_ref = [0], None, None
    self._retains_grad = False


def _size(args, size=None):
    if size is not None:
        args = (size,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for s in args:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"zeros(): argument 'size' (position 1) must be tuple of ints, but "
                            f"found element of type {type(s).__name__} at pos 0")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(args)}")
    return tuple(int(s) for s in args)


def _factory(fill):
    def factory(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
                pin_memory=False, memory_format=None, **kwargs):
        shape = _size(size, kwargs.pop("size", None))
        dt = dtype or _dtype.get_default_dtype()
        return _finish(Tensor._make(fill(shape, dt.np), dt), requires_grad)
    return factory


zeros = _factory(np.zeros)
ones = _factory(np.ones)
empty = _factory(np.zeros)
zeros.__name__, ones.__name__, empty.__name__ = "zeros", "ones", "empty"


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = fill_value.dtype if isinstance(fill_value, Tensor) else \
            _dtype.scalar_dtype(fill_value)
    shape = _size((size,))
    return _finish(Tensor._make(np.full(shape, fill_value, dtype.np), dtype), requires_grad)


def _like(fill):
    def like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
        dt = dtype or input.dtype
        return _finish(Tensor._make(fill(input._array.shape, dt.np), dt), requires_grad)
    return like


zeros_like = _like(np.zeros)
ones_like = _like(np.ones)
empty_like = _like(np.zeros)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    dt = dtype or input.dtype
    return _finish(Tensor._make(np.full(input._array.shape, fill_value, dt.np), dt), requires_grad)


def rand_like(input, *, dtype=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, int) for v in values) else \
            _dtype.get_default_dtype()
    n = math.ceil((end - start) / step)
    a = (start + np.arange(n, dtype=np.float64) * step) if dtype.is_floating_point else \
        np.arange(start, end, step)
    return _finish(Tensor._make(a.astype(dtype.np), dtype), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    dt = dtype or _dtype.get_default_dtype()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    calc = np.float64 if dt is _dtype.float64 else np.float32 if dt.is_floating_point else np.float64
    if steps == 1:
        a = np.array([start], calc)
    else:
        step = (calc(end) - calc(start)) / calc(steps - 1)
        i = np.arange(steps)
        half = steps // 2
        a = np.where(i < half, calc(start) + step * i.astype(calc),
                     calc(end) - step * (steps - i - 1).astype(calc))
    if not dt.is_floating_point:
        a = np.trunc(a)
    return _finish(Tensor._make(a.astype(dt.np), dt), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    dt = dtype or _dtype.get_default_dtype()
    return _finish(Tensor._make(np.eye(n, n if m is None else m, dtype=dt.np), dt), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    dt = dtype or _dtype.get_default_dtype()
    a = _random.rand(_size(size, kwargs.pop("size", None)), dt.np)
    return _finish(Tensor._make(a, dt), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    dt = dtype or _dtype.get_default_dtype()
    a = _random.randn(_size(size, kwargs.pop("size", None)), dt.np)
    return _finish(Tensor._make(a, dt), requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # the randint(high, size) overload
    elif high is None:
        low, high = 0, low
    dt = dtype or _dtype.int64
    a = _random.randint(low, high, _size((size,)), dt.np)
    return _finish(Tensor._make(a, dt), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    dt = dtype or _dtype.int64
    return Tensor._make(_random.randperm(n).astype(dt.np), dt)


def manual_seed(seed):
    return _random.manual_seed(seed)


def seed():
    return _random.seed()


def initial_seed():
    return _random.initial_seed()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()

