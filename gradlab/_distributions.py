"""PyTorch's other CPU samplers on NumPy arrays, drawing from gradlab's generator bit for bit.

Each follows the kernel PyTorch 2.13 runs on x86-64 CPUs (aten/src/ATen/native/cpu/
DistributionTemplates.h, core/TransformationHelper.h, native/Distributions.cpp,
cpu/MultinomialKernel.cpp): the elements are visited in memory order, each takes its draws in
turn, and the arithmetic is done in double precision (libm's log, log1p, exp, tan, lgamma)
before the cast to the array's dtype.
"""
import ctypes
import ctypes.util
import math

import numpy as np

from ._random import _F16, _F32, _F64, _FLOATS, _fma64, _gen, _map, _normal_scalar, _write


def _libm(name, fallback):
    """libm's ``name`` (what PyTorch calls), or Python's own where libm cannot be loaded."""
    try:
        fn = getattr(ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"), name)
    except (OSError, AttributeError):
        return fallback
    fn.restype, fn.argtypes = ctypes.c_double, (ctypes.c_double,)
    return fn


_lgamma = _libm("lgamma", math.lgamma)   # CPython's lgamma is its own, not libm's


def _cast(values, dtype):
    """float64 values -> dtype as static_cast does (c10::Half goes through float)."""
    if dtype == _F16:
        with np.errstate(over="ignore"):
            return values.astype(_F32).astype(_F16)
    if dtype.kind in "iu":
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(values), values, -2.0 ** 63).astype(np.int64).astype(dtype)
    return values.astype(dtype)


def _dtype_name(dtype):
    from ._dtype import FROM_NUMPY
    return FROM_NUMPY[dtype]._legacy[:-len("Tensor")]


def _not_implemented(kernel, dtype):
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_name(dtype)}'")


def _continuous(array, what):
    if array.dtype not in _FLOATS:
        name = "long int" if what == "Cauchy" else _dtype_name(array.dtype)
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {name}")


def _fill(array, gen, sample):
    """array's elements, in memory order, set to ``sample(gen, n)`` (float64) cast."""
    if array.size:
        _write(array, _cast(sample(gen, array.size), array.dtype))
    return array


def exponential_(array, lambd=1.0, *, generator=None):
    """``Tensor.exponential_(lambd)``: -1/lambd · log1p(-u), u a 53-bit uniform."""
    _continuous(array, "Exponential")
    lambd = float(lambd)
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    scale = -1.0 / lambd
    return _fill(array, _gen(generator), lambda g, n: scale * _map(math.log1p, -g._uniform53(n)))


def geometric_(array, p, *, generator=None):
    """``Tensor.geometric_(p)``: ceil(log(u) / log1p(-p)), u a 53-bit uniform."""
    if array.dtype == np.bool_:
        raise _not_implemented("geometric_cpu", array.dtype)
    p = float(p)
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    denominator = math.log1p(-p)

    def sample(g, n):
        with np.errstate(divide="ignore"):
            return np.ceil(_map(lambda u: math.log(u) if u else -math.inf, g._uniform53(n))
                           / denominator)
    return _fill(array, _gen(generator), sample)


def cauchy_(array, median=0.0, sigma=1.0, *, generator=None):
    """``Tensor.cauchy_(median, sigma)``: median + sigma · tan(pi · (u - 1/2)), one fma."""
    _continuous(array, "Cauchy")
    median, sigma = float(median), float(sigma)
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    return _fill(array, _gen(generator), lambda g, n: _fma64(
        sigma, _map(math.tan, math.pi * (g._uniform53(n) - 0.5)), median))


def log_normal_(array, mean=1.0, std=2.0, *, generator=None):
    """``Tensor.log_normal_(mean, std)``: exp of the scalar (cached) normal path's draws."""
    if array.dtype not in _FLOATS:
        raise _not_implemented("log_normal_cpu", array.dtype)
    mean, std = float(mean), float(std)
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return _fill(array, _gen(generator),
                 lambda g, n: _map(math.exp, _normal_scalar(g, n, mean, std)))


def bernoulli_tensor_(array, p, *, generator=None):
    """``Tensor.bernoulli_(p)`` for a tensor ``p`` (already broadcast to the array's shape):
    element i is ``u < p[i]``, u a 53-bit uniform for a float64 ``p``, else a 24-bit one."""
    if p.dtype not in _FLOATS:
        raise _not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
    if array.size == 0:
        return array
    from ._random import _memory_order_view
    laid_out = np.empty_like(array, _F64 if p.dtype == _F64 else _F32)  # array's layout
    laid_out[...] = p
    probs = _memory_order_view(laid_out).reshape(-1)
    if not np.all((probs >= 0) & (probs <= 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    gen = _gen(generator)
    u = gen._uniform53(probs.size) if p.dtype == _F64 else gen._uniform24(probs.size)
    return _write(array, (u < probs).astype(array.dtype))


def poisson(rates, *, generator=None):
    """``torch.poisson(rates)``: a new array of rates' dtype, sampled element by element in C
    order with PyTorch's sampler (NumPy's: Hoermann's transformed rejection for rates >= 10,
    multiplication of uniforms below)."""
    if rates.dtype not in _FLOATS:
        raise _not_implemented("poisson_cpu", rates.dtype)
    flat = np.ascontiguousarray(rates).reshape(-1).astype(_F64).tolist()
    if any(not rate >= 0 for rate in flat):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    gen = _gen(generator)
    draw = lambda: float(gen._uniform53(1)[0])  # noqa: E731
    out = np.array([_sample_poisson(rate, draw) for rate in flat], _F64)
    return _cast(out, rates.dtype).reshape(rates.shape)


def _sample_poisson(lam, uniform):
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43) if math.isfinite(lam) else -2 ** 63
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - _lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam, x, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= uniform()
        if prod > enlam:
            x += 1
        else:
            return x


def multinomial(probs, n_sample, replacement=False, *, generator=None):
    """``torch.multinomial``: indices (int64) of shape (n_sample,) or (rows, n_sample).

    Without replacement, or for one sample, PyTorch's fast path: argmax / topk of p / q with
    q ~ Exp(1) drawn by ``exponential_``; otherwise a binary search of a 53-bit uniform per
    sample in each row's cumulative distribution, summed in the input's dtype (float for
    float16) and normalised by its total.
    """
    rows = probs.reshape(-1, probs.shape[-1])
    out_shape = probs.shape[:-1] + (n_sample,)
    if rows.shape[0] == 0 or n_sample == 0:
        return np.empty(out_shape, np.int64)
    gen = _gen(generator)
    if not replacement or n_sample == 1:
        if not (np.all(rows <= np.finfo(rows.dtype).max) and np.all(rows >= 0)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if np.any(rows.sum(1, dtype=rows.dtype) == 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        q = exponential_(np.empty(rows.shape, rows.dtype), 1.0, generator=gen)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = rows / q
        # topk's order of ties is its sort's; a stable sort of -keys is PyTorch's for
        # distinct keys, which the continuous q makes all but certain
        order = np.argsort(-keys, axis=1, kind="stable")[:, :n_sample]
        return order.reshape(out_shape)
    acc = _F32 if rows.dtype == _F16 else rows.dtype
    result = np.empty((rows.shape[0], n_sample), np.int64)
    for i, row in enumerate(rows.astype(acc)):
        bad = ~((row >= 0) & np.isfinite(row))
        if bad.any():   # the first bad entry says what is wrong, as the kernel checks in turn
            what = "< 0" if not row[bad.argmax()] >= 0 else "= infinity or NaN"
            raise RuntimeError(f"invalid multinomial distribution (encountering probability "
                               f"entry {what})")
        cumulative = np.cumsum(row, dtype=acc)
        total = cumulative[-1]
        if not total > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        cumulative = (cumulative / total).astype(_F64)
        cumulative[-1] = 1.0
        result[i] = np.searchsorted(cumulative, gen._uniform53(n_sample), side="left")
    return result.reshape(out_shape)
