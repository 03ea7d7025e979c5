"""Random ops: the in-place fills (uniform_, normal_, bernoulli_, exponential_, ...) and the
sampling functions (normal, bernoulli, poisson, multinomial), every one with ``generator=``.

The draws are gradlab._random's and gradlab._distributions' (PyTorch's CPU kernels, bit for
bit). As in PyTorch's derivatives.yaml, a sample's derivative with respect to its parameters
is zero, and each overload has its own grad_fn name.
"""
import numbers

import numpy as np

from .. import _distributions, _dtype, _random
from ..tensor import Tensor
from ._core import broadcast_error, derivative, method, record
from .elementwise import NotImplementedUnary, zeros_like
from .inplace import inplace

_ZERO = ("0", lambda grad: zeros_like(grad))
_ZERO_TANGENT = ("0", lambda result: zeros_like(result))


def _sample_node(name, inputs=("self",), broadcasts=()):
    """A grad_fn whose gradients (and forward derivative) are zero."""
    return derivative(name, inputs, broadcasts=broadcasts, result=_ZERO_TANGENT,
                      **{inp: _ZERO for inp in inputs})


(UniformBackward0, NormalBackward0, ExponentialBackward0, GeometricBackward0, CauchyBackward0,
 LogNormalBackward0, RandomBackward0, RandomBackward1, RandomBackward2, BernoulliBackward0,
 BernoulliBackward2, PoissonBackward0) = map(_sample_node, (
    "UniformBackward0", "NormalBackward0", "ExponentialBackward0", "GeometricBackward0",
    "CauchyBackward0", "LogNormalBackward0", "RandomBackward0", "RandomBackward1",
    "RandomBackward2", "BernoulliBackward0", "BernoulliBackward2", "PoissonBackward0"))
BernoulliBackward1 = _sample_node("BernoulliBackward1", ("self", "p"), broadcasts=("p",))
NormalBackward1 = _sample_node("NormalBackward1", ("mean",))
NormalBackward2 = _sample_node("NormalBackward2", ("std",))
NormalBackward3 = _sample_node("NormalBackward3", ("mean", "std"), broadcasts=True)


def _fill(self, cls, fill, *others):
    """``fill(array)`` writes the draws into self's memory, in PyTorch's order; self then takes
    a ``cls`` node (on ``others`` too, as bernoulli_'s p)."""
    def drawn(t):
        fill(t._storage())
        return record(cls, Tensor._make(t._array, t.dtype), (t,) + others)
    return inplace(self, drawn)


def _generator(generator, name):
    if generator is None or isinstance(generator, _random.Generator):
        return generator
    raise TypeError(f"{name}(): argument 'generator' must be torch.Generator, not "
                    f"{type(generator).__name__}")


@method()
def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
    """Fill with draws from [from, to) (``from`` may be given by keyword, as in PyTorch)."""
    low, gen = kwargs.pop("from", from_), _generator(generator, "uniform_")
    return _fill(self, UniformBackward0, lambda a: _random.uniform_(a, low, to, generator=gen))


@method()
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    gen = _generator(generator, "normal_")
    return _fill(self, NormalBackward0, lambda a: _random.normal_(a, mean, std, generator=gen))


@method()
def exponential_(self, lambd=1.0, *, generator=None):
    gen = _generator(generator, "exponential_")
    return _fill(self, ExponentialBackward0,
                 lambda a: _distributions.exponential_(a, lambd, generator=gen))


@method()
def geometric_(self, p, *, generator=None):
    gen = _generator(generator, "geometric_")
    return _fill(self, GeometricBackward0,
                 lambda a: _distributions.geometric_(a, p, generator=gen))


@method()
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    gen = _generator(generator, "cauchy_")
    return _fill(self, CauchyBackward0,
                 lambda a: _distributions.cauchy_(a, median, sigma, generator=gen))


@method()
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    gen = _generator(generator, "log_normal_")
    return _fill(self, LogNormalBackward0,
                 lambda a: _distributions.log_normal_(a, mean, std, generator=gen))


_UNSET = object()


@method()
def random_(self, *args, generator=None, **kwargs):
    """``random_()``, ``random_(to)``, ``random_(from, to)`` and ``random_(from, None)``."""
    gen = _generator(generator, "random_")
    if "from" in kwargs:
        args = (kwargs.pop("from"), kwargs.pop("to", None))
    elif "to" in kwargs:
        args = args + (kwargs.pop("to"),)
    if kwargs or len(args) > 2:
        raise TypeError(_random_signature_error(args, kwargs))
    if not args:
        return _fill(self, RandomBackward2, lambda a: _random.random_(a, generator=gen))
    if len(args) == 1:
        return _fill(self, RandomBackward1, lambda a: _random.random_(a, args[0], generator=gen))
    low, high = args
    if high is None:
        return _fill(self, RandomBackward0, lambda a: _random_from(a, int(low), gen))
    return _fill(self, RandomBackward0, lambda a: _random.random_(a, low, high, generator=gen))


def _random_signature_error(args, kwargs):
    got = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}"
                                                         for k, v in kwargs.items()])
    return ("random_() received an invalid combination of arguments - got (" + got + ", ), but "
            "expected one of:\n * (*, torch.Generator generator = None)\n * (int from, int to, "
            "*, torch.Generator generator = None)\n * (int to, *, torch.Generator generator = "
            "None)\n")


def _random_from(array, low, gen):
    """``random_(from, None)``: [from, the dtype's largest integer], or all 64-bit integers."""
    dt = array.dtype
    if low == -2 ** 63:
        if dt not in (np.int64, np.float32, np.float64):
            raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, "
                               "float and bfloat16")
        if array.size:
            values = _random._gen(gen)._random64(array.size).view(np.int64)
            _random._write(array, values.astype(dt))
        return array
    if dt.kind == "f":
        top = 1 << {2: 11, 4: 24, 8: 53}[dt.itemsize]
        low = _random._update_from(low, dt)
        if not low < top:
            raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal "
                               f"to 'to_inc' casted to dtype, but got from={low} > to_inc={top}")
    else:
        top = 1 if dt == np.bool_ else int(np.iinfo(dt).max)
    return _random.random_(array, low, top + 1, generator=gen)


@method()
def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0 or 1, 1 with probability ``p`` (a number, or a tensor broadcast to self)."""
    gen = _generator(generator, "bernoulli_")
    if isinstance(p, Tensor):
        probs = _expanded_to(p, self)
        return _fill(self, BernoulliBackward1,
                     lambda a: _distributions.bernoulli_tensor_(a, probs, generator=gen), p)
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return _fill(self, BernoulliBackward2, lambda a: _random.bernoulli_(a, p, generator=gen))


def _expanded_to(p, self):
    """p's values broadcast to self's shape, with expand's errors."""
    shape, target = p._array.shape, self._array.shape
    if len(shape) > len(target):
        raise RuntimeError(f"expand(torch.{p.dtype._legacy}{{{list(shape)}}}, "
                           f"size={list(target)}): the number of sizes provided "
                           f"({len(target)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(shape)})")
    for i in range(1, len(shape) + 1):
        if shape[-i] != 1 and shape[-i] != target[-i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[-i]}) must match the existing size "
                f"({shape[-i]}) at non-singleton dimension {len(target) - i}.  Target sizes: "
                f"{list(target)}.  Tensor sizes: {list(shape)}")
    return np.broadcast_to(p._array, target)


@method("bernoulli")
def _bernoulli(self, p=None, *, generator=None, out=None):
    """A new tensor of self's shape and dtype: 1 with probability self (or ``p``), else 0."""
    gen = _generator(generator, "bernoulli")
    result = np.empty(self._array.shape, self.dtype.np)
    if p is None:
        _distributions.bernoulli_tensor_(result, self._array, generator=gen)
        return record(BernoulliBackward0, Tensor._make(result, self.dtype), (self,))
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    _random.bernoulli_(result, p, generator=gen)
    return record(NotImplementedUnary, Tensor._make(result, self.dtype), (self,),
                  attrs=("bernoulli",))


def poisson(input, generator=None):
    """Counts drawn from Poisson(rate) for each rate in ``input`` (its shape and dtype)."""
    gen = _generator(generator, "poisson")
    out = _distributions.poisson(input._array, generator=gen)
    return record(PoissonBackward0, Tensor._make(out, input.dtype), (input,))


@method("multinomial")
def _multinomial(self, num_samples, replacement=False, *, generator=None, out=None, _position=1):
    """Indices drawn from each row's categorical distribution (weights need not sum to 1)."""
    if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool):
        raise TypeError(f"multinomial(): argument 'num_samples' (position {_position}) must be "
                        f"int, not {type(num_samples).__name__}")
    gen = _generator(generator, "multinomial")
    a = self._array
    if not 1 <= a.ndim <= 2:
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{self.dtype._legacy[:-len('Tensor')]}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > a.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if a.shape[-1] > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    samples = _distributions.multinomial(a, int(num_samples), replacement, generator=gen)
    return Tensor._make(samples, _dtype.int64)


def normal(mean, std=_UNSET, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory=False, requires_grad=False):
    """torch.normal's four overloads: (Tensor mean, float std=1), (float mean, Tensor std),
    (Tensor mean, Tensor std) and (float mean, float std, size)."""
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    gen = _generator(generator, "normal")
    if size is not None or not (mean_t or std_t):
        if mean_t or std_t or size is None or std is _UNSET:
            raise TypeError(_normal_signature_error(mean, std, size))
        from .._creation import _finish, _size
        dt = dtype or _dtype.get_default_dtype()
        shape = _size("normal", (size,))
        if float(std) < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")
        if not dt.is_floating_point:
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                      f"'{dt._legacy[:-len('Tensor')]}'")
        a = _random.normal_(np.empty(shape, dt.np), mean, std, generator=gen)
        return _finish(Tensor._make(a, dt), requires_grad)
    if std is _UNSET:
        std = 1.0
    if std_t and (std._array.size and not std._array.min() >= 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not std_t and not float(std) >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")
    like = mean if mean_t else std
    shape = like._array.shape
    if mean_t and std_t:
        try:
            shape = np.broadcast_shapes(mean._array.shape, std._array.shape)
        except ValueError:
            raise broadcast_error(mean._array.shape, std._array.shape) from None
    dt = like.dtype
    if not dt.is_floating_point:
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                  f"'{dt._legacy[:-len('Tensor')]}'")
    z = _random.normal_(np.empty(shape, dt.np), 0.0, 1.0 if std_t else std, generator=gen)
    with np.errstate(all="ignore"):
        if std_t:   # output.mul_(std), computed in the two dtypes' common type
            z = (z * std._array.astype(np.result_type(z, std._array))).astype(dt.np)
        m = mean._array if mean_t else np.array(mean, dt.np)   # a float mean in the output dtype
        z = (z + m.astype(np.result_type(z, m))).astype(dt.np)
    result = Tensor._make(z, dt)
    if mean_t and std_t:
        return record(NormalBackward3, result, (mean, std))
    return record(NormalBackward1, result, (mean,)) if mean_t else \
        record(NormalBackward2, result, (std,))


def _normal_signature_error(*args):
    got = ", ".join(type(a).__name__ for a in args if a is not None and a is not _UNSET)
    return (f"normal() received an invalid combination of arguments - got ({got}), but expected "
            "one of:\n"
            " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
            " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = "
            "None)\n"
            " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
            " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
            "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
            "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n")


def bernoulli(input, p=None, *, generator=None, out=None):
    return _bernoulli(input, p, generator=generator)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    return _multinomial(input, num_samples, replacement, generator=generator, _position=2)
