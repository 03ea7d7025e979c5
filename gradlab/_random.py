"""PyTorch's default CPU random number generator, reimplemented with NumPy.

After ``manual_seed(s)`` the same sequence of calls yields the same bits as
PyTorch 2.13 on CPU (x86-64, the AVX2/AVX512 kernels PyTorch ships for Linux):

* the engine is MT19937 seeded with ``init_genrand(seed & 0xffffffff)``; the
  full 64-bit seed is what ``initial_seed()`` reports.  ``random()`` is one
  32-bit draw, ``random64()`` is two draws, the first one the high word.
* uniform floats: float32 and float16 use the low 24 bits of one draw, float64
  the low 53 bits of ``random64()``; ``x * (to - from) + from`` is one fused
  multiply-add (in float32 for float16, then rounded), and a result that
  rounds up to ``to`` is replaced by ``from``.
* normal floats: Box-Muller.  Contiguous arrays of at least 16 elements use the
  blocked "normal_fill" (all uniforms first, then blocks of 16 pairing element
  ``j`` with ``j + 8``, the last 16 redrawn and recomputed when the size is not
  a multiple of 16).  float32 uses the single-precision Cephes polynomials of
  PyTorch's AVX2 kernel; float16 computes the same in float32 and rounds, but
  draws uniforms only for the whole blocks before redrawing the last 16;
  float64 uses libm ``log``/``sin``/``cos``.  Smaller or non-contiguous
  arrays take the scalar double-precision path (libm ``log1p``/``sin``/``cos``),
  which caches the second (sine) sample in the generator.
* integers: ``(draw % (high - low)) + low``, with ``random64()`` when the range
  is at least 2**28 and ``random()`` otherwise.

Everything works on NumPy arrays; the Tensor layer wraps these functions.
"""
import math
import os
import warnings

import numpy as np

from . import _batching

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed",
    "get_rng_state", "set_rng_state", "rand", "randn", "randint", "randperm",
    "uniform_", "normal_", "random_", "bernoulli_",
]

_N = 624                       # MT19937 state words
_STATE_BYTES = 5056            # sizeof(CPUGeneratorImplState) in PyTorch
_U64 = (1 << 64) - 1
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_FLOATS = (_F16, _F32, _F64)

# Byte layout of PyTorch's serialized CPU generator state (little endian).
_STATE_DTYPE = np.dtype({
    "names": ["seed", "left", "seeded", "next", "mt", "normal_x", "normal_y",
              "normal_rho", "normal_is_valid", "float_normal", "float_normal_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", _N), "<f8", "<f8", "<f8", "<i4",
                "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    "itemsize": _STATE_BYTES,
})


# --------------------------------------------------------------------------
# Exact fused multiply-add emulation (PyTorch's kernels are compiled with FMA
# contraction, so a * b + c is rounded once).
# --------------------------------------------------------------------------

def _round_to_odd(s, err):
    """Turn s = RN(exact) into RO(exact), given err = exact - s (both float64)."""
    bits = s.view(np.int64)
    fix = (err != 0) & ((bits & 1) == 0)
    if fix.any():
        step = np.where(np.signbit(err) == np.signbit(s), 1, -1).astype(np.int64)
        bits = bits + np.where(fix, step, 0)
    return bits.view(np.float64)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fma32(a, b, c):
    """float32 fma(a, b, c) for float32 arrays/scalars, exactly rounded."""
    a = np.asarray(a, _F32).astype(_F64)
    b = np.asarray(b, _F32).astype(_F64)
    c = np.asarray(c, _F32).astype(_F64)
    with np.errstate(all="ignore"):
        p = a * b                              # exact: 24 + 24 bits
        s = p + c
        # Rounding s to float32 can only differ from rounding the exact sum when
        # s sits exactly on a float32 rounding midpoint (low 29 bits 1000...0)
        # or in the float32 subnormal range; redo those with round-to-odd.
        bits = s.view(np.int64)
        hard = ((bits & 0x1FFFFFFF) == 0x10000000) | (np.abs(s) < 2.0 ** -125)
        if hard.any():
            p, c, s = np.broadcast_arrays(p, c, s)
            s = s.copy()
            hs, he = _two_sum(p[hard], c[hard])  # a boolean mask also indexes 0-d arrays
            s[hard] = np.where(np.isfinite(hs), _round_to_odd(hs, he), hs)
        return s.astype(_F32)


_SPLIT = 134217729.0  # 2**27 + 1


def _split(a):
    t = _SPLIT * a
    hi = t - (t - a)
    return hi, a - hi


def _fma64(a, b, c):
    """float64 fma(a, b, c), exactly rounded (Boldo-Melquiond emulation)."""
    a = np.asarray(a, _F64)
    b = np.asarray(b, _F64)
    c = np.asarray(c, _F64)
    with np.errstate(all="ignore"):
        ph = a * b
        ah, al = _split(a)
        bh, bl = _split(b)
        pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl   # ph + pl == a * b
        th, tl = _two_sum(c, ph)
        v, ve = _two_sum(tl, pl)
        r = th + _round_to_odd(v, ve)
        plain = a * b + c
        ok = np.isfinite(r) & np.isfinite(ph) & (np.abs(ph) < 1e300)
        return np.where(ok, r, plain)


# --------------------------------------------------------------------------
# libm-exact elementwise functions
# --------------------------------------------------------------------------

def _map(fn, x):
    x = np.asarray(x, _F64)
    return np.fromiter(map(fn, x.ravel().tolist()), _F64, x.size).reshape(x.shape)


def _numpy_matches_libm(np_fn, fn):
    probe = np.random.default_rng(12345).random(4096) * (2 * math.pi)
    probe = np.concatenate([probe, np.linspace(0.0, 2 * math.pi, 4096)])
    return np.array_equal(np_fn(probe), _map(fn, probe))


# NumPy's float64 sin/cos normally call libm, but some builds use their own SIMD
# code; only use them when they agree with libm (which is what PyTorch calls).
_SIN = np.sin if _numpy_matches_libm(np.sin, math.sin) else (lambda x: _map(math.sin, x))
_COS = np.cos if _numpy_matches_libm(np.cos, math.cos) else (lambda x: _map(math.cos, x))


def _log(x):       # NumPy's float64 log is not libm's; PyTorch uses libm.
    return _map(math.log, x)


def _log1p(x):
    return _map(math.log1p, x)


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------

def _init_genrand(seed32):
    key = np.empty(_N, np.uint32)
    s = seed32
    key[0] = s
    for j in range(1, _N):
        s = (1812433253 * (s ^ (s >> 30)) + j) & 0xFFFFFFFF
        key[j] = s
    return key


def _as_seed(value):
    """The uint64 seed PyTorch stores for ``manual_seed(value)``."""
    if isinstance(value, (float, np.floating)):
        value = int(value)
    value = int(value)   # accepts bool, numpy ints, objects with __int__/__index__
    if value < -(1 << 63) or value > _U64:
        raise ValueError("Overflow when unpacking long long")
    return value & _U64


_NO_CUDA_GENERATOR = (
    "Cannot get CUDA generator without ATen_cuda library. PyTorch splits its backend into two "
    "shared libraries: a CPU library and a CUDA library; this error has occurred because you are "
    "trying to use some CUDA functionality, but the CUDA library has not been loaded by the "
    "dynamic linker for some reason.  The CUDA library MUST be loaded, EVEN IF you don't directly "
    "use any symbols from the CUDA library! One common culprit is a lack of -Wl,--no-as-needed in "
    "your link arguments; many dynamic linkers will delete dynamic library dependencies if you "
    "don't depend on any of their symbols.  You can check if this has occurred by using ldd on "
    "your binary to see if there is a dependency on *_cuda.so library.")


def _nondeterministic_seed():
    return int.from_bytes(os.urandom(8), "little")


class Generator:
    """A CPU random generator with PyTorch's algorithms (``torch.Generator``)."""

    def __init__(self, device="cpu"):
        from ._device import device as as_device
        kind = as_device(device).type
        if kind == "cuda":
            raise RuntimeError(_NO_CUDA_GENERATOR)
        if kind != "cpu":
            raise RuntimeError(f"{kind.upper()} device type not an accelerator.")
        self.device = as_device("cpu")
        self._bg = np.random.MT19937(0)
        self.manual_seed(67280421310721)   # torch.Generator()'s default seed

    # ---- seeding and state ------------------------------------------------
    def manual_seed(self, seed):
        if isinstance(seed, str):
            raise RuntimeError("manual_seed expected a long, but got str")
        seed = _as_seed(seed)
        self._seed = seed
        self._bg.state = {"bit_generator": "MT19937",
                          "state": {"key": _init_genrand(seed & 0xFFFFFFFF), "pos": _N}}
        self._fresh = True           # no draw yet since seeding (torch's next_ == 0)
        self._normal_double = None   # cached second Box-Muller sample
        self._normal_float = None    # (never set by the CPU kernels; kept for state)
        return self

    def seed(self):
        s = _nondeterministic_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor in PyTorch's 5056-byte layout."""
        from .tensor import Tensor
        from . import _dtype
        return Tensor._make(self._state_array(), _dtype.uint8)

    def set_state(self, new_state):
        """Restore a state ``get_state`` gave (here or in PyTorch); returns the generator."""
        from .tensor import Tensor
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got "
                            f"{type(new_state).__module__}.{type(new_state).__name__}")
        if new_state.dtype.np != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        return self._load_state_array(new_state._array)

    def _state_array(self):
        """The state as PyTorch's 5056-byte layout (a uint8 NumPy array)."""
        st = np.zeros((), _STATE_DTYPE)
        mt = self._bg.state["state"]
        pos = int(mt["pos"])
        st["seed"] = self._seed
        st["left"] = _N + 1 - pos
        st["seeded"] = 1
        st["next"] = 0 if (self._fresh and pos == _N) else pos
        st["mt"] = np.asarray(mt["key"], np.uint64)
        if self._normal_double is not None:
            st["normal_is_valid"] = 1
            st["normal_y"] = self._normal_double
        if self._normal_float is not None:
            st["float_normal_valid"] = 1
            st["float_normal"] = self._normal_float
        return np.frombuffer(st.tobytes(), np.uint8).copy()

    def _load_state_array(self, new_state):
        raw = np.ascontiguousarray(np.asarray(new_state))
        if raw.dtype != np.uint8:
            raise RuntimeError("expected a torch.ByteTensor-like uint8 state, got dtype "
                               + str(raw.dtype))
        if raw.size != _STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} "
                               f"but found the input RNG state size to be {raw.size}")
        st = np.frombuffer(raw.tobytes(), _STATE_DTYPE)[0]
        left, nxt = int(st["left"]), int(st["next"])
        if not st["seeded"] or not (0 < left <= _N) or nxt > _N:
            raise RuntimeError("Invalid mt19937 state")
        if left == 1:
            pos, fresh = _N, nxt == 0
        elif nxt == _N + 1 - left:
            pos, fresh = nxt, False
        else:
            raise RuntimeError("Invalid mt19937 state (inconsistent 'left'/'next')")
        key = (np.asarray(st["mt"], np.uint64) & 0xFFFFFFFF).astype(np.uint32)
        self._bg.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        self._seed = int(st["seed"])
        self._fresh = fresh
        self._normal_double = float(st["normal_y"]) if st["normal_is_valid"] else None
        self._normal_float = (float(np.float32(st["float_normal"]))
                              if st["float_normal_valid"] else None)
        return self

    # ---- raw draws ----------------------------------------------------------
    def _random(self, n):
        """n 32-bit draws (``random()``), as uint64."""
        if n <= 0:
            return np.empty(0, np.uint64)
        self._fresh = False
        return self._bg.random_raw(n)

    def _random64(self, n):
        """n 64-bit draws (``random64()``): first 32-bit draw is the high word."""
        r = self._random(2 * n).reshape(-1, 2)
        return (r[:, 0] << np.uint64(32)) | r[:, 1]

    def _uniform24(self, n):
        """float32 values in [0, 1) from 24 random bits (float32/float16 path)."""
        r = self._random(n) & np.uint64((1 << 24) - 1)
        return r.astype(_F32) * np.float32(2.0 ** -24)

    def _uniform53(self, n):
        r = self._random64(n) & np.uint64((1 << 53) - 1)
        return r.astype(_F64) * (2.0 ** -53)

    def get_offset(self):
        raise RuntimeError("CPU Generator does not use offset")

    def set_offset(self, offset):
        raise RuntimeError("CPU Generator does not use offset")

    def clone_state(self):
        """A new generator in this one's state."""
        return Generator()._load_state_array(self._state_array())

    def __repr__(self):
        return "<gradlab.Generator object>"


default_generator = Generator()
default_generator.seed()   # like torch: the default generator starts non-deterministic


def _gen(generator):
    if _batching.LEVELS:
        _batching.check_random()
    return default_generator if generator is None else generator


def manual_seed(seed):
    """Seed the default generator; returns it (like ``torch.manual_seed``)."""
    return default_generator.manual_seed(seed)


def seed():
    """Reseed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """A copy of the default generator's state: uint8 array in torch's layout."""
    return default_generator._state_array()


def set_rng_state(new_state):
    default_generator._load_state_array(new_state)


# --------------------------------------------------------------------------
# Iteration order helpers
# --------------------------------------------------------------------------

def _memory_order_view(arr):
    """A view of ``arr`` whose C order is the order PyTorch's TensorIterator
    visits the elements of a (possibly non-contiguous) output."""
    if arr.flags.c_contiguous or arr.ndim < 2:
        return arr
    if arr.flags.f_contiguous:
        return arr.T
    order = sorted(range(arr.ndim), key=lambda d: (-abs(arr.strides[d]), d))
    return arr.transpose(order)


def _write(arr, values):
    view = _memory_order_view(arr)
    view[...] = values.reshape(view.shape)
    return arr


def _check_float_array(arr, name):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} expects a NumPy array, got {type(arr).__name__}")
    if arr.dtype not in _FLOATS:
        raise RuntimeError(f"\"{name}\" not implemented for '{arr.dtype}'")


# --------------------------------------------------------------------------
# Uniform
# --------------------------------------------------------------------------

def bernoulli_(array, p, *, generator=None):
    """Fill ``array`` in place like ``Tensor.bernoulli_(p)`` for a float ``p`` in [0, 1]: in
    memory order, 1 where a float64 uniform (53 bits, as ``uniform_``) is below ``p``, else 0.
    That is PyTorch's default CPU kernel, which its released builds run on every CPU (their MKL
    kernel is compiled out until pytorch/pytorch#132395 is fixed)."""
    if array.size == 0:
        return array
    u = _gen(generator)._uniform53(array.size)
    return _write(array, (u < p).astype(array.dtype))


def _uniform_values(gen, n, dtype, low, high):
    if dtype == _F64:
        x = gen._uniform53(n)
        lo, hi = np.float64(low), np.float64(high)
        v = x if (lo == 0.0 and hi == 1.0) else _fma64(x, hi - lo, lo)
        return np.where(v >= hi, lo, v)
    x = gen._uniform24(n)
    lo, hi = np.float32(low), np.float32(high)
    with np.errstate(over="ignore"):
        v = x if (lo == 0.0 and hi == 1.0) else _fma32(x, np.float32(hi - lo), lo)
    if dtype == _F16:
        v = v.astype(_F16)
        lo, hi = np.float16(lo), np.float16(hi)
    return np.where(v >= hi, lo, v).astype(dtype, copy=False)


def uniform_(array, low=0.0, high=1.0, *, generator=None):
    """Fill ``array`` in place like ``Tensor.uniform_(low, high)``; returns it."""
    _check_float_array(array, "uniform_")
    low, high = float(low), float(high)
    if not low <= high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={low:g} > to={high:g}")
    finfo = np.finfo(array.dtype)
    if not (-float(finfo.max) <= low <= float(finfo.max)
            and -float(finfo.max) <= high <= float(finfo.max)):
        raise RuntimeError(f"uniform_ expects from and to to be within the range of "
                           f"{array.dtype}")
    if high - low > float(finfo.max):
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<"
                           f"{array.dtype}>::max(), but found to={high:g} and from={low:g}"
                           f" which result in to-from to exceed the limit")
    n = array.size
    if n == 0:
        return array
    return _write(array, _uniform_values(_gen(generator), n, array.dtype, low, high))


def rand(shape, np_dtype=np.float32, *, generator=None):
    """``torch.rand(*shape, dtype=...)`` as a new C-contiguous array."""
    out = np.empty(_shape(shape), np_dtype)
    return uniform_(out, 0.0, 1.0, generator=generator)


# --------------------------------------------------------------------------
# Normal
# --------------------------------------------------------------------------

# Cephes single-precision constants of PyTorch's avx_mathfun.h
_C = np.float32
_MIN_NORM = np.array([0x00800000], np.int32).view(np.float32)[0]
_SQRTHF = _C(0.707106781186547524)
_LOG_P = [_C(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1,
                          -1.2420140846E-1, 1.4249322787E-1, -1.6668057665E-1,
                          2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)]
_LOG_Q1 = _C(-2.12194440e-4)
_LOG_Q2 = _C(0.693359375)
_FOPI = _C(1.27323954473516)
_DP1, _DP2, _DP3 = _C(-0.78515625), _C(-2.4187564849853515625e-4), _C(-3.77489497744594108e-8)
_SINCOF = [_C(v) for v in (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)]
_COSCOF = [_C(v) for v in (2.443315711809948E-005, -1.388731625493765E-003,
                           4.166664568298827E-002)]
_TWO_PI_F = _C(2.0 * math.pi)
_ONE, _HALF, _ZERO = _C(1.0), _C(0.5), _C(0.0)


def _log_ps(x):
    """log256_ps: Cephes logf, float32, with the FMA contractions GCC makes."""
    x = np.maximum(x, _MIN_NORM)
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_F32) + _ONE
    x = ((bits & np.int32(~0x7F800000)) | np.int32(0x3F000000)).view(_F32)
    small = x < _SQRTHF
    tmp = np.where(small, x, _ZERO)
    x = x - _ONE
    e = e - np.where(small, _ONE, _ZERO)
    x = x + tmp
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = _fma32(y, x, p)
    y = y * x
    y = _fma32(y, z, e * _LOG_Q1)
    y = y - z * _HALF
    x = x + y
    return x + e * _LOG_Q2


def _sincos_ps(x):
    """sincos256_ps: Cephes sinf/cosf, float32, with GCC's FMA contractions."""
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * _FOPI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(_F32)
    sign_sin ^= (j & 4) != 0
    sign_cos = (~(j - 2) & 4) != 0
    poly_sin = (j & 2) == 0
    x = _fma32(y, _DP1, x)
    x = _fma32(y, _DP2, x)
    x = _fma32(y, _DP3, x)
    z = x * x
    c = _fma32(_COSCOF[0], z, _COSCOF[1])
    c = _fma32(c, z, _COSCOF[2])
    c = c * z
    c = _fma32(c, z, -(z * _HALF))
    c = c + _ONE
    s = _fma32(_SINCOF[0], z, _SINCOF[1])
    s = _fma32(s, z, _SINCOF[2])
    s = s * z
    s = _fma32(s, x, x)
    sin = np.where(poly_sin, s, c)
    cos = np.where(poly_sin, c, s)
    sin = np.where(sign_sin, -sin, sin)
    cos = np.where(sign_cos, -cos, cos)
    return sin, cos


def _box_muller16_f32(u, mean, std):
    """normal_fill_16_AVX2 applied to every block of 16 float32 uniforms."""
    blocks = u.reshape(-1, 2, 8)
    u1 = _ONE - blocks[:, 0]
    u2 = blocks[:, 1]
    radius = np.sqrt(_C(-2.0) * _log_ps(u1))
    sin, cos = _sincos_ps(_TWO_PI_F * u2)
    out = np.empty_like(blocks)
    out[:, 0] = _fma32(radius * cos, std, mean)
    out[:, 1] = _fma32(radius * sin, std, mean)
    return out.reshape(-1)


def _box_muller16_f64(u, mean, std):
    """normal_fill_16<double> applied to every block of 16 float64 uniforms."""
    blocks = u.reshape(-1, 2, 8)
    u1 = 1.0 - blocks[:, 0]
    u2 = blocks[:, 1]
    radius = np.sqrt(-2.0 * _log(u1))
    theta = (2.0 * math.pi) * u2
    out = np.empty_like(blocks)
    c, s = radius * _COS(theta), radius * _SIN(theta)
    if std == 1.0 and mean == 0.0:
        out[:, 0], out[:, 1] = c, s
    else:
        out[:, 0] = _fma64(c, std, mean)
        out[:, 1] = _fma64(s, std, mean)
    return out.reshape(-1)


def _normal_fill(gen, n, dtype, mean, std):
    if dtype == _F64:
        draw, bm = gen._uniform53, _box_muller16_f64
        mean, std = np.float64(mean), np.float64(std)
    else:   # float32, and float16 which PyTorch computes in float32
        draw, bm = gen._uniform24, _box_muller16_f32
        mean, std = np.float32(mean), np.float32(std)
    full = n - n % 16
    if dtype == _F16:
        # float16 computes in float32 but only draws uniforms for the whole
        # blocks before redrawing the last 16 (no draws for the partial block).
        out = np.empty(n, _F32)
        out[:full] = bm(draw(full), mean, std)
        if n % 16:
            out[n - 16:] = bm(draw(16), mean, std)
        return out.astype(_F16)
    u = draw(n)
    out = np.empty(n, u.dtype)
    out[:full] = bm(u[:full], mean, std)
    if n % 16:
        out[full:] = u[full:]
        out[n - 16:] = bm(draw(16), mean, std)
    return out.astype(dtype, copy=False)


def _normal_scalar(gen, n, mean, std):
    """n draws of normal_distribution<double>(mean, std), with the generator's
    cached sine sample consumed first and a leftover sine sample cached."""
    raw = np.empty(n, _F64)
    k = 0
    if n and gen._normal_double is not None:
        raw[0] = gen._normal_double
        gen._normal_double = None
        k = 1
    rest = n - k
    if rest:
        pairs = (rest + 1) // 2
        u = gen._uniform53(2 * pairs).reshape(pairs, 2)
        r = np.sqrt(-2.0 * _log1p(-u[:, 1]))
        theta = (2.0 * math.pi) * u[:, 0]
        both = np.empty((pairs, 2), _F64)
        both[:, 0] = r * _COS(theta)
        both[:, 1] = r * _SIN(theta)
        both = both.reshape(-1)
        raw[k:] = both[:rest]
        if rest % 2:
            gen._normal_double = float(both[-1])
    if std == 1.0 and mean == 0.0:
        return raw
    return _fma64(raw, std, mean)


def normal_(array, mean=0.0, std=1.0, *, generator=None):
    """Fill ``array`` in place like ``Tensor.normal_(mean, std)``; returns it."""
    _check_float_array(array, "normal_kernel_cpu")
    mean, std = float(mean), float(std)
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    n = array.size
    if n == 0:
        return array
    gen = _gen(generator)
    if n >= 16 and array.flags.c_contiguous:
        array.reshape(-1)[...] = _normal_fill(gen, n, array.dtype, mean, std)
        return array
    vals = _normal_scalar(gen, n, mean, std)
    if array.dtype == _F16:
        vals = vals.astype(_F32)     # c10::Half is built from float
    return _write(array, vals.astype(array.dtype))


def randn(shape, np_dtype=np.float32, *, generator=None):
    """``torch.randn(*shape, dtype=...)`` as a new C-contiguous array."""
    out = np.empty(_shape(shape), np_dtype)
    return normal_(out, 0.0, 1.0, generator=generator)


# --------------------------------------------------------------------------
# Integers
# --------------------------------------------------------------------------

def _int_bounds(dtype):
    if dtype == np.bool_:
        return 0, 1
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _through(value, dtype):
    """int64(static_cast<dtype>(value)), or None when the cast overflows."""
    v = np.array(value, np.int64)
    with np.errstate(over="ignore"):
        cast = float(v.astype(_F32).astype(_F16) if dtype == _F16 else v.astype(dtype))
    return int(cast) if math.isfinite(cast) else None


def _update_from(low, dtype):
    """PyTorch's update_from: move ``low`` right until it survives the cast."""
    digits = {2: 11, 4: 24, 8: 53}[dtype.itemsize]
    plus1 = _through(low + 1, dtype)
    if plus1 is not None and plus1 < low:
        n = abs(low + 1).bit_length() - 1
        low = plus1 + (1 << (n - digits + 1))
    return low


def _update_to(high, dtype):
    """PyTorch's update_to: move ``high`` left so high - 1 survives the cast."""
    digits = {2: 11, 4: 24, 8: 53}[dtype.itemsize]
    minus1 = _through(high - 1, dtype)
    if minus1 is not None and minus1 >= high:
        n = abs(high - 1).bit_length() - 1
        high = minus1 - (1 << (n - digits + 1))
    return high


def _check_from_to(low, high_inc, dtype):
    if dtype.kind == "f":
        big = float(np.finfo(dtype).max)
        digits = {2: 11, 4: 24, 8: 53}[dtype.itemsize]
        for value, what in ((low, "from"), (high_inc, "to - 1")):
            if not -big <= value <= big:
                raise RuntimeError(f"{what} is out of bounds for {dtype}")
        for value, what in ((low, "from"), (high_inc, "to - 1")):
            if not -(1 << digits) <= value <= (1 << digits):
                warnings.warn(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to "
                              f"precision limitations {dtype} can support discrete uniform "
                              f"distribution only within this range.", UserWarning,
                              stacklevel=4)
    else:
        lo_ok, hi_ok = _int_bounds(dtype)
        if not lo_ok <= low <= hi_ok:
            raise RuntimeError(f"from is out of bounds for {dtype}")
        if not lo_ok <= high_inc <= hi_ok:
            raise RuntimeError(f"to - 1 is out of bounds for {dtype}")


def _to_dtype(v, dtype):
    """int64 values -> dtype the way PyTorch's static_cast does."""
    if dtype == np.bool_:
        return v != 0
    if dtype == _F16:
        return v.astype(_F32).astype(_F16)
    return v.astype(dtype)


def random_(array, low=None, high=None, *, generator=None):
    """Fill ``array`` in place like ``Tensor.random_``: ``random_(a, low, high)``
    draws from [low, high), ``random_(a, high)`` from [0, high), and
    ``random_(a)`` from [0, 2**mantissa] (floats) or [0, max] (integers)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"random_ expects a NumPy array, got {type(array).__name__}")
    dtype = array.dtype
    if dtype.kind not in "biuf" or (dtype.kind == "f" and dtype not in _FLOATS):
        raise RuntimeError(f"\"random_from_to_kernel_cpu\" not implemented for '{dtype}'")
    gen = _gen(generator)
    if low is None and high is None:            # random_(): uniform_int_distribution
        n = array.size
        if n == 0:
            return array
        if dtype == np.bool_:
            return _write(array, (gen._random(n) & np.uint64(1)) != 0)
        wide = dtype in (np.dtype(np.int64), _F64)
        draws = gen._random64(n) if wide else gen._random(n)
        if dtype.kind == "f":
            digits = {2: 11, 4: 24, 8: 53}[dtype.itemsize]
            modulus = (1 << digits) + 1
        else:
            modulus = int(np.iinfo(dtype).max) + 1
        v = (draws % np.uint64(modulus)).view(np.int64)
        return _write(array, _to_dtype(v, dtype))
    if high is None:
        low, high = 0, low
    low, high = int(low), int(high)
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    if dtype.kind == "f":
        low, high = _update_from(low, dtype), _update_to(high, dtype)
        if not low < high:
            raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than 'to' "
                               f"casted to dtype, but got from={low} >= to={high}")
    _check_from_to(low, high - 1, dtype)
    n = array.size
    if n == 0:
        return array
    span = (high - low) & _U64
    draws = gen._random64(n) if span >= (1 << 28) else gen._random(n)
    with np.errstate(over="ignore"):
        v = (draws % np.uint64(span)) + np.uint64(low & _U64)   # wraps like uint64
    return _write(array, _to_dtype(v.view(np.int64), dtype))


def randint(low, high, shape, np_dtype=np.int64, *, generator=None):
    """``torch.randint(low, high, shape, dtype=...)`` as a new C-contiguous array."""
    out = np.empty(_shape(shape), np_dtype)
    return random_(out, low, high, generator=generator)


def randperm(n, np_dtype=np.int64, *, generator=None):
    """``torch.randperm(n)`` (CPU): Fisher-Yates with ``random() % (n - i)``."""
    n = int(n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    gen = _gen(generator)
    perm = list(range(n))
    if n < (2 ** 32 - 1) // 20:
        if n > 1:
            mods = np.arange(n, 1, -1, dtype=np.uint64)
            z = (gen._random(n - 1) % mods).tolist()
            for i, zi in enumerate(z):
                j = i + zi
                perm[i], perm[j] = perm[j], perm[i]
    else:   # "inside-out" variant PyTorch uses for huge n
        z = (gen._random64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
        for i, zi in enumerate(z):
            perm[i] = perm[zi]
            perm[zi] = i
    return np.array(perm, dtype=np.int64).astype(np_dtype)


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)
