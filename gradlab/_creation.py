"""Tensor factories: tensor, zeros, ones, arange, rand, ... with PyTorch's dtype inference."""
import math
from fractions import Fraction
import numbers
import warnings

import numpy as np

from . import _batching, _device, _dtype, _random
from ._size import Size
from .autograd.grad_mode import _local
from .tensor import InferenceVersion, Tensor

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
    """``torch.Tensor(...)``: data or sizes, in the default dtype (the legacy constructor)."""
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(kwargs)})")
    dt, counter = _dtype.get_default_dtype(), InferenceVersion() if _local.inference else [0]
    if len(args) == 1 and not isinstance(args[0], (int, np.integer, Size)):
        data = args[0]
        if isinstance(data, Tensor):  # an alias, keeping the dtype
            a, dt, counter = data._storage(), data.dtype, data._version_counter
        elif isinstance(data, numbers.Number):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        else:
            a, _ = _infer_array(data, dt)
    else:
        a = np.zeros(_size("new", args) if args else (0,), dt.np)
    self._array, self.dtype = a, dt
    self._requires_grad, self._grad_fn, self._output_nr, self._grad = False, None, 0, None
    self._version_counter, self._base, self._accumulator_ref = counter, None, None
    self._retains_grad = False


def _size(name, args, size=None):
    """The shape from ``*size`` arguments, with PyTorch's argument-parser errors for ``name``."""
    if size is not None:
        args = (size,)
    if not args:
        if name in ("rand", "randn"):
            raise TypeError(_invalid_combination(name, ()))
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(args) == 1:
        if isinstance(args[0], (tuple, list)):
            args = tuple(args[0])
        elif not _is_int(args[0]):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                            f"{type(args[0]).__name__}")
    elif any(isinstance(a, (tuple, list)) for a in args):
        if name in ("rand", "randn"):
            raise TypeError(_invalid_combination(name, args))
        raise TypeError(f"{name}() takes 1 positional argument but {len(args)} were given")
    for pos, s in enumerate(args, 1):
        if not _is_int(s):
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {pos} "
                            f'with error "type must be tuple of ints,but got {type(s).__name__}"')
        if not -2 ** 63 <= int(s) < 2 ** 63:  # PyTorch's text, but for its C++ stack trace
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {pos} "
                            'with error "Overflow when unpacking long long"')
    shape = tuple(int(s) for s in args)
    for s in shape:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")
    return shape


def _is_int(x):
    if isinstance(x, Tensor):
        return x._array.size == 1 and x.dtype._category == 1
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _invalid_combination(name, args):
    options = ("torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
               "bool pin_memory = False, bool requires_grad = False)")
    return (f"{name}() received an invalid combination of arguments - got "
            f"({', '.join(getattr(a, 'text', None) or type(a).__name__ for a in args)}), but "
            "expected one of:\n"
            f" * (tuple of ints size, *, torch.Generator generator, Tensor out = None, {options}\n"
            f" * (tuple of ints size, *, Tensor out = None, {options}\n")


def _factory(name, fill):
    def factory(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
                pin_memory=False, memory_format=None, **kwargs):
        shape = _size(name, size, kwargs.pop("size", None))
        dt = dtype or _dtype.get_default_dtype()
        return _finish(Tensor._make(fill(shape, dt.np), dt), requires_grad)
    factory.__name__ = factory.__qualname__ = name
    return factory


zeros = _factory("zeros", np.zeros)
ones = _factory("ones", np.ones)
empty = _factory("empty", np.zeros)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = fill_value.dtype if isinstance(fill_value, Tensor) else \
            _dtype.scalar_dtype(fill_value)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    shape = _size("full", (size,))
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _finish(Tensor._make(np.full(shape, fill_value, dtype.np), dtype), requires_grad)


def _like(fill):
    def like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
        dt = dtype or input.dtype
        out = _finish(Tensor._make(fill(input._array.shape, dt.np), dt), requires_grad)
        return _batching.taint(out, (input,)) if _batching.LEVELS else out
    return like


zeros_like = _like(np.zeros)
ones_like = _like(np.ones)
empty_like = _like(np.zeros)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    dt = dtype or input.dtype
    out = _finish(Tensor._make(np.full(input._array.shape, fill_value, dt.np), dt), requires_grad)
    return _batching.taint(out, (input,)) if _batching.LEVELS else out


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``: input's shape and
    dtype (or ``dtype``), integers drawn from [low, high) as ``randint`` draws them."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype,
                   requires_grad=requires_grad)


# arange and linspace: PyTorch's CPU kernels evaluate ``start + step * i`` as one fused
# multiply-add (and arange vectorizes by 8 float32 / 4 float64 lanes), reproduced bit for bit.

def _fma(a, b, c, dt=_dtype.float64):
    """a * b + c rounded once to ``dt`` (float32 or float64), as a fused multiply-add.

    Dekker's two-product and Knuth's two-sum give the exact sum as s + t almost always; the rare
    values within a hair of a rounding tie are recomputed exactly with fractions.
    """
    a, b, c = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, c)))
    p = a * b
    a_hi, b_hi = _split(a), _split(b)
    a_lo, b_lo = a - a_hi, b - b_hi
    p_err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    s = p + c
    bb = s - p
    t = p_err + ((p - (s - bb)) + (c - bb))
    r = np.where(t == 0, s, s + t)  # keeps the sign of an exact zero
    out = r.astype(dt.np)
    wide = out.astype(np.float64)
    ulp = np.spacing(np.abs(out).astype(dt.np)).astype(np.float64)
    off = np.abs((r - wide) + (t - (r - s))) * 2
    near_tie = np.abs(off - ulp) <= ulp * 2.0 ** -20
    for k in zip(*np.nonzero(near_tie)):
        out[k] = _round_exact(Fraction(float(a[k])) * Fraction(float(b[k])) + Fraction(float(c[k])),
                              dt.np.type)
    return out


def _round_exact(x, kind):
    """The ``kind`` (np.float32 or np.float64) nearest to the fraction x, ties to even."""
    v = kind(float(x))
    if not np.isfinite(v) or Fraction(float(v)) == x:
        return v
    other = np.nextafter(v, kind(np.inf) if Fraction(float(v)) < x else kind(-np.inf))
    dv, do = abs(Fraction(float(v)) - x), abs(Fraction(float(other)) - x)
    if do < dv or (do == dv and int(np.asarray(other).view(f"u{other.itemsize}")) % 2 == 0):
        return other
    return v


def _split(x):
    t = 134217729.0 * x
    return t - (t - x)


_LANES = {"float32": 8, "float64": 4}  # Vectorized<T>::size() of PyTorch's AVX2 kernels


def _arange_values(start, step, n, dt):
    """PyTorch's arange kernel: fma in double (acc type) then a cast, and per vector a base
    plus lane multiples of step."""
    f64 = _dtype.float64
    values = _fma(step, np.arange(n, dtype=np.float64), start, f64).astype(dt.np)
    lanes = _LANES.get(dt.name)
    done = n // (2 * lanes) * 2 * lanes if lanes else 0
    if done:
        base = _fma(step, np.arange(0, done, lanes, dtype=np.float64), start, f64).astype(dt.np)
        lane = np.arange(lanes, dtype=np.float64)
        block = _fma(lane[None, :], step, base.astype(np.float64)[:, None], f64).astype(dt.np)
        block[:, 0] = base  # the first lane is the base itself, not base + 0 * step
        values[:done] = block.reshape(-1)
    return values


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, int) for v in values) else \
            _dtype.get_default_dtype()
    if dtype is _dtype.bool_:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is _dtype.int64:  # computed in int64 from the truncated arguments
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {_c_double(start)} -> {_c_double(end)}")
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is _dtype.int64:
        n = -((end - start) // -step) if step > 0 else -((start - end) // step)
        a = start + np.arange(n, dtype=np.int64) * step
    else:
        n = math.ceil((end - start) / step)
        if dtype.is_floating_point:
            a = _arange_values(start, step, n, dtype)
        else:  # accumulated in int64 from the truncated start and step
            a = int(start) + np.arange(n, dtype=np.int64) * int(step)
    return _finish(Tensor._make(a.astype(dtype.np), dtype), requires_grad)


def _c_double(v):
    """A number as C++'s ostream prints a double."""
    return "%g" % v


def linspace(start, end, steps=None, *, dtype=None, device=None, requires_grad=False):
    if not _is_int(steps):
        raise TypeError(_linspace_invalid(start, end, *(() if steps is None else (steps,))))
    dt = dtype or _dtype.get_default_dtype()
    start, end, steps = (v.item() if isinstance(v, Tensor) else v for v in (start, end, steps))
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if dt.is_floating_point:
        start, end = dt.np.type(start), dt.np.type(end)
        step = (end - start) / dt.np.type(steps - 1) if steps > 1 else 0
    else:  # integer results: truncated endpoints, a double step
        start, end = int(start), int(end)
        step = (float(end) - float(start)) / (steps - 1) if steps > 1 else 0
    wide = dt if dt.name in _LANES else _dtype.float64
    if steps == 1:
        a = np.array([start], np.float64)
    else:
        i = np.arange(steps, dtype=np.float64)
        a = np.where(i < steps // 2, _fma(step, i, start, wide),
                     _fma(-np.float64(step), steps - i - 1, end, wide))
    if not dt.is_floating_point:
        a = np.trunc(a)
    return _finish(Tensor._make(a.astype(dt.np), dt), requires_grad)


def _linspace_invalid(*args):
    options = ("int steps, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = "
               "None, torch.device device = None, bool pin_memory = False, bool requires_grad = "
               "False)")
    pairs = ("Tensor start, Tensor end", "Number start, Tensor end", "Tensor start, Number end",
             "Number start, Number end")
    return (f"linspace() received an invalid combination of arguments - got "
            f"({', '.join(getattr(a, 'text', None) or type(a).__name__ for a in args)}), but "
            "expected one of:\n"
            + "".join(f" * ({p}, {options}\n" for p in pairs))


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    for name, v in (("n", n), ("m", m)):
        if v is not None and not _is_int(v):
            raise TypeError(f"eye(): argument '{name}' (position {1 if name == 'n' else 2}) must "
                            f"be int, not {type(v).__name__}")
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    dt = dtype or _dtype.get_default_dtype()
    return _finish(Tensor._make(np.eye(n, n if m is None else m, dtype=dt.np), dt), requires_grad)


def _check_random_dtype(dt, kernel):
    if not dt.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dt._legacy[:-6]}'")


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    dt = dtype or _dtype.get_default_dtype()
    shape = _size("rand", size, kwargs.pop("size", None))
    _check_random_dtype(dt, "check_uniform_bounds")
    a = _random.rand(shape, dt.np, generator=_generator("rand", size, generator))
    return _finish(Tensor._make(a, dt), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    dt = dtype or _dtype.get_default_dtype()
    shape = _size("randn", size, kwargs.pop("size", None))
    _check_random_dtype(dt, "normal_kernel_cpu")
    a = _random.randn(shape, dt.np, generator=_generator("randn", size, generator))
    return _finish(Tensor._make(a, dt), requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # the randint(high, size) overload
    elif high is None:
        low, high = 0, low
    dt = dtype or _dtype.int64
    a = _random.randint(low, high, _size("randint", (size,)), dt.np,
                        generator=_generator("randint", None, generator))
    return _finish(Tensor._make(a, dt), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    dt = dtype or _dtype.int64
    perm = _random.randperm(n, generator=_generator("randperm", None, generator))
    return _finish(Tensor._make(perm.astype(dt.np), dt), requires_grad)


def _generator(name, size, generator):
    """``generator`` if it is None or a Generator, else PyTorch's argument-parser error."""
    if generator is None or isinstance(generator, _random.Generator):
        return generator
    if name in ("rand", "randn"):
        raise TypeError(_invalid_combination(name, tuple(size) + (_Keyword("generator",
                                                                          generator),)))
    raise TypeError(f"{name}(): argument 'generator' must be torch.Generator, not "
                    f"{type(generator).__name__}")


class _Keyword:
    """A keyword argument as PyTorch's invalid-combination message names it."""

    def __init__(self, name, value):
        self.text = f"{name}={type(value).__name__}"


def manual_seed(seed):
    return _random.manual_seed(seed)


def seed():
    return _random.seed()


def initial_seed():
    return _random.initial_seed()


def get_rng_state():
    """The default generator's state, a uint8 tensor in PyTorch's layout."""
    return _random.default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default generator's state from ``get_rng_state()`` (or PyTorch's)."""
    _random.default_generator.set_state(new_state)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()



def _new(name, fill):
    """Tensor.new_<name>(*size): a new tensor of the tensor's dtype unless ``dtype`` is given."""
    def new(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        shape = _size("new_" + name, size, kwargs.pop("size", None))
        dt = dtype or self.dtype
        return _finish(Tensor._make(fill(shape, dt.np), dt), requires_grad)
    new.__name__ = new.__qualname__ = "new_" + name
    return new


Tensor.new_zeros, Tensor.new_ones, Tensor.new_empty = (
    _new(name, fill) for name, fill in (("zeros", np.zeros), ("ones", np.ones),
                                        ("empty", np.zeros)))


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(size, fill_value, dtype=dtype or self.dtype, device=device,
                requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        data = data.detach()._array
    return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


Tensor.new_full, Tensor.new_tensor = _new_full, _new_tensor


def _on_cpu(factory, kernel="aten::empty.memory_format"):
    """``factory`` taking ``device=`` and failing, as a CPU-only PyTorch, for any but the CPU
    (and for a default device that is not the CPU)."""
    def checked(*args, device=None, **kwargs):
        if device is not None or _device.default is not None:
            _device.check_factory(device, kernel)
        return factory(*args, **kwargs)
    checked.__name__ = checked.__qualname__ = factory.__name__
    checked.__doc__ = factory.__doc__
    return checked


zeros, ones, empty, full, arange, linspace, eye, rand, randn, randint, randperm = map(
    _on_cpu, (zeros, ones, empty, full, arange, linspace, eye, rand, randn, randint, randperm))
zeros_like, ones_like, empty_like, full_like, rand_like, randn_like = (
    _on_cpu(f, "aten::empty_strided")
    for f in (zeros_like, ones_like, empty_like, full_like, rand_like, randn_like))
tensor, as_tensor = _on_cpu(tensor, None), _on_cpu(as_tensor, None)
