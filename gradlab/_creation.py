"""Tensor factories: tensor, zeros, ones, arange, rand, ... with PyTorch's dtype inference."""
import math
import numbers
import warnings

import numpy as np

from . import _dtype, _random
from ._size import Size
from .tensor import Tensor

SCALAR_REQUIRES_GRAD_WARNING = (
    "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
    "Consider using tensor.detach() first. (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/generated/python_variable_methods.cpp:822.)")
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
    """A NumPy array of ``data`` and its dtype, inferred and checked as torch.tensor does."""
    if isinstance(data, Tensor):
        dt = dtype or data.dtype
        return np.array(data._array, dt.np), dt
    if isinstance(data, np.ndarray):
        dt = dtype or _dtype.of_numpy(data.dtype)
        return np.array(data, dt.np), dt
    dt = dtype or _scalar_type(data)
    if not isinstance(data, (list, tuple)):
        data = _scalar(data, dt)
        with np.errstate(over="ignore"):
            return np.array(data).astype(dt.np), dt
    sizes = _sizes(data)
    if 0 in sizes:
        return np.zeros(sizes, dt.np), dt
    leaves = _leaves(data, sizes)
    if any(type(v) not in (int, float, bool) for v in leaves):
        leaves = [_scalar(v, dt) for v in leaves]
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(leaves, dt.np).reshape(sizes), dt


def _scalar_type(x):
    """PyTorch's infer_scalar_type: the dtype of a number, tensor, array or nested sequence."""
    t = type(x)
    if t is float:
        return _dtype.get_default_dtype()
    if t is int:
        return _dtype.int64
    if t is bool:
        return _dtype.bool_
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return _dtype.of_numpy(x.dtype)
    if isinstance(x, (list, tuple)):
        if not x:
            return _dtype.get_default_dtype()
        kinds = set(map(type, x))
        if kinds <= {int, float, bool}:  # the common case, without a call per element
            return (_dtype.get_default_dtype() if float in kinds else
                    _dtype.int64 if int in kinds else _dtype.bool_)
        result = None
        for item in x:
            dt = _scalar_type(item)
            result = dt if result is None else _dtype.promote_types(result, dt)
        return result
    if isinstance(x, str):
        raise TypeError(f"new(): invalid data type '{t.__name__}'")
    if isinstance(x, numbers.Integral):
        return _dtype.int64
    if isinstance(x, numbers.Real):
        return _dtype.get_default_dtype()
    raise RuntimeError(f"Could not infer dtype of {t.__name__}")


def _sizes(data):
    """PyTorch's compute_sizes: the lengths along the first elements."""
    sizes = []
    while isinstance(data, (list, tuple, np.ndarray)):
        sizes.append(len(data))
        if not len(data):
            break
        data = data[0]
    return sizes


def _leaves(data, sizes):
    """The scalars of a nested sequence, checked against ``sizes`` level by level."""
    level = [data]
    for dim, n in enumerate(sizes):
        for seq in level:
            if not isinstance(seq, (list, tuple, np.ndarray)):
                raise TypeError("not a sequence")
            if len(seq) != n:
                raise ValueError(f"expected sequence of length {n} at dim {dim} (got {len(seq)})")
        level = [x for seq in level for x in seq]
    return level


def _scalar(v, dt):
    """One element as PyTorch's store_scalar reads it (tensors must have one element)."""
    if isinstance(v, Tensor):
        if v._array.size != 1:
            if dt.is_floating_point:
                raise ValueError("only one element tensors can be converted to Python scalars")
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        if v._requires_grad and dt.is_floating_point:
            warnings.warn(SCALAR_REQUIRES_GRAD_WARNING, UserWarning, stacklevel=4)
        return v.item()
    if isinstance(v, (list, tuple)):
        if dt.is_floating_point:
            raise TypeError(f"must be real number, not {type(v).__name__}")
        raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as an integer")
    if isinstance(v, np.ndarray):
        return v.item()
    return v


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
    dt, counter = _dtype.float32, [0]
    if len(args) == 1 and not isinstance(args[0], (int, np.integer, Size)):
        data = args[0]
        if isinstance(data, Tensor):  # an alias, keeping the dtype
            a, dt, counter = data._storage(), data.dtype, data._version_counter
        elif isinstance(data, numbers.Number):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        else:
            a, _ = _infer_array(data, dt)
    else:
        a = np.zeros(_size(args) if args else (0,), dt.np)
    self._array, self.dtype = a, dt
    self._requires_grad, self._grad_fn, self._output_nr, self._grad = False, None, 0, None
    self._version_counter, self._base, self._accumulator_ref = counter, None, None
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

