"""gradlab._random against PyTorch's CPU generator: every draw must be bit-identical."""
import importlib
import importlib.util
import math
import pathlib
import platform
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch")

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

if (platform.machine().lower() not in ("x86_64", "amd64")
        or torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512")):
    # AVX-512 CPUs run the AVX2 kernels too: PyTorch registers no AVX-512 kernel for the random
    # fills (normal_stub, uniform_stub, ...), see helpers.AVX2_KERNELS
    pytest.skip("gradlab reproduces PyTorch's x86-64 AVX2 kernels (FMA-contracted, AVX2 "
                "normal_fill); this PyTorch runs other kernels", allow_module_level=True)

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_random():
    """gradlab._random, bypassing gradlab/__init__.py if the package does not import
    yet (the engine is written concurrently; this module needs only NumPy)."""
    try:
        return importlib.import_module("gradlab._random")
    except Exception:
        spec = importlib.util.spec_from_file_location(
            "gradlab_random_standalone", ROOT / "gradlab" / "_random.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module


R = _load_random()

SEEDS = [0, 1, 42, 2**32 + 5, 2**63 + 12345, 2**64 - 1, 123456789012345678]
SIZES = [(0,), (1,), (2,), (7,), (8,), (15,), (16,), (17,), (31,), (32,), (33,), (47,),
         (1000,), (3, 4), (2, 3, 5), (4, 4), (5, 7)]
FLOATS = [np.float16, np.float32, np.float64]
TORCH = {np.float16: torch.float16, np.float32: torch.float32, np.float64: torch.float64,
         np.int64: torch.int64, np.int32: torch.int32, np.int16: torch.int16,
         np.int8: torch.int8, np.uint8: torch.uint8, np.bool_: torch.bool}


def same(expected, actual):
    """Bit-for-bit equality of a torch tensor (or array) and a NumPy array."""
    if isinstance(expected, torch.Tensor):
        expected = expected.numpy()
    expected = np.ascontiguousarray(expected)
    actual = np.ascontiguousarray(actual)
    return (expected.shape == actual.shape and expected.dtype == actual.dtype
            and np.array_equal(expected.view(np.uint8), actual.view(np.uint8)))


def seed_both(s):
    torch.manual_seed(s)
    R.manual_seed(s)


def assert_in_sync():
    """Both generators are in the same state (including the cached normal)."""
    assert same(torch.get_rng_state(), R.get_rng_state())


# ---------------------------------------------------------------------------
# seeding and state
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("s", SEEDS + [-1, -2**63, True, 3.7])
def test_manual_seed_and_initial_seed(s):
    torch.manual_seed(s)
    R.manual_seed(s)
    assert R.initial_seed() == torch.initial_seed()
    assert_in_sync()


def test_manual_seed_overflow():
    for bad in (2**64, -2**63 - 1):
        with pytest.raises(ValueError):
            torch.manual_seed(bad)
        with pytest.raises(ValueError):
            R.manual_seed(bad)


def test_seed_is_nondeterministic_and_reported():
    a = R.seed()
    assert R.initial_seed() == a and 0 <= a < 2**64
    b = R.seed()
    assert a != b
    x = R.rand((5,))
    R.manual_seed(a)
    R.manual_seed(b)
    assert np.array_equal(R.rand((5,)), x)


def test_manual_seed_returns_generator():
    g = R.manual_seed(3)
    assert g is R.default_generator and g.initial_seed() == 3


def test_state_layout_matches_torch_after_mixed_calls():
    seed_both(5)
    assert_in_sync()                                   # fresh: left=1, next=0
    for op in range(6):
        torch.randn(3)
        R.randn((3,))                                  # leaves a cached normal
        assert_in_sync()
        torch.rand(700, dtype=torch.float64)
        R.rand((700,), np.float64)                     # crosses a twist
        assert_in_sync()


def test_set_rng_state_roundtrip_and_interop():
    seed_both(11)
    torch.randn(5, dtype=torch.float64)
    R.randn((5,), np.float64)                          # cached sample in the state
    saved_t, saved_r = torch.get_rng_state(), R.get_rng_state()
    first_t = torch.randn(9, dtype=torch.float64)
    first_r = R.randn((9,), np.float64)
    assert same(first_t, first_r)
    # restore our own state
    R.set_rng_state(saved_r)
    assert same(first_t, R.randn((9,), np.float64))
    # a state produced by torch drives gradlab, and the other way round
    R.set_rng_state(saved_t.numpy())
    assert same(first_t, R.randn((9,), np.float64))
    torch.set_rng_state(torch.from_numpy(saved_r))
    assert same(first_t, torch.randn(9, dtype=torch.float64))
    assert_in_sync()


def test_set_rng_state_rejects_bad_input():
    with pytest.raises(RuntimeError):
        R.set_rng_state(np.zeros(10, np.uint8))
    with pytest.raises(RuntimeError):
        R.set_rng_state(np.zeros(5056, np.uint8))      # left == 0, not seeded
    with pytest.raises(RuntimeError):
        R.set_rng_state(np.zeros(5056, np.int64))


def test_get_rng_state_is_a_copy():
    R.manual_seed(1)
    st = R.get_rng_state()
    R.rand((10,))
    assert not np.array_equal(st, R.get_rng_state())
    R.set_rng_state(st)
    assert np.array_equal(st, R.get_rng_state())


# ---------------------------------------------------------------------------
# rand / randn / uniform_ / normal_
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.__name__)
@pytest.mark.parametrize("s", SEEDS)
def test_rand_randn_uniform_normal(s, dt):
    seed_both(s)
    tdt = TORCH[dt]
    for shape in SIZES:
        assert same(torch.rand(shape, dtype=tdt), R.rand(shape, dt)), ("rand", shape)
        assert same(torch.randn(shape, dtype=tdt), R.randn(shape, dt)), ("randn", shape)
        assert same(torch.empty(shape, dtype=tdt).uniform_(-1.7, 2.3),
                    R.uniform_(np.empty(shape, dt), -1.7, 2.3)), ("uniform_", shape)
        assert same(torch.empty(shape, dtype=tdt).normal_(0.3, 2.5),
                    R.normal_(np.empty(shape, dt), 0.3, 2.5)), ("normal_", shape)
        assert same(torch.empty(shape, dtype=tdt).normal_(-100.7, 0.013),
                    R.normal_(np.empty(shape, dt), -100.7, 0.013)), ("normal_", shape)
    assert_in_sync()


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.__name__)
def test_large_arrays(dt):
    seed_both(2024)
    tdt = TORCH[dt]
    for n in (4096, 100003):
        assert same(torch.randn(n, dtype=tdt), R.randn((n,), dt))
        assert same(torch.empty(n, dtype=tdt).normal_(3.5, 0.25),
                    R.normal_(np.empty(n, dt), 3.5, 0.25))
        assert same(torch.empty(n, dtype=tdt).uniform_(-0.05, 0.05),
                    R.uniform_(np.empty(n, dt), -0.05, 0.05))
        assert same(torch.rand(n, dtype=tdt), R.rand((n,), dt))
    assert_in_sync()


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.__name__)
def test_uniform_result_rounding_up_to_high_becomes_low(dt):
    # x * (high - low) + low can round to high; PyTorch then returns low
    seed_both(3)
    for low, high in [(1e4, 1e4 + 8), (5.629, 5.6315), (1000.0, 1000.5), (2.0, 2.0)]:
        t = torch.empty(5000, dtype=TORCH[dt]).uniform_(low, high)
        a = R.uniform_(np.empty(5000, dt), low, high)
        assert same(t, a), (low, high)
    if dt is np.float64:
        t = torch.empty(5000, dtype=torch.float64).uniform_(1e15, 1e15 + 1)
        assert same(t, R.uniform_(np.empty(5000, np.float64), 1e15, 1e15 + 1))


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.__name__)
def test_non_contiguous_fill_order_and_scalar_normal_path(dt):
    seed_both(77)
    tdt = TORCH[dt]
    t = torch.empty(40, 30, dtype=tdt).t()
    a = np.empty((40, 30), dt).T
    assert same(t.uniform_(-2, 3), R.uniform_(a, -2, 3))
    # non-contiguous normal_ uses the scalar (cached, double precision) path
    t = torch.empty(41, 30, dtype=tdt).t()
    a = np.empty((41, 30), dt).T
    assert same(t.normal_(0.1, 3.0), R.normal_(a, 0.1, 3.0))
    t = torch.empty(6, 10, dtype=tdt)[:, ::2]
    base = np.empty((6, 10), dt)
    a = base[:, ::2]
    assert same(t.normal_(), R.normal_(a))
    assert same(t.uniform_(), R.uniform_(a))
    assert_in_sync()


def test_zero_dim_and_int_shapes():
    seed_both(4)
    for dt in FLOATS:
        assert same(torch.rand((), dtype=TORCH[dt]), R.rand((), dt))
        assert same(torch.randn((), dtype=TORCH[dt]), R.randn((), dt))
    assert same(torch.randint(0, 5, ()), R.randint(0, 5, ()))
    assert same(torch.rand(6), R.rand(6))
    assert same(torch.randn(6), R.randn([6]))
    assert_in_sync()


def test_normal_cache_survives_across_calls_and_dtypes():
    seed_both(9)
    # 1 element leaves the sine sample cached; the next small call uses it first
    for shape, dt in [((1,), np.float32), ((3,), np.float64), ((1,), np.float16),
                      ((20,), np.float32), ((2,), np.float32), ((5,), np.float64),
                      ((16,), np.float64), ((1,), np.float64), ((0,), np.float32),
                      ((1,), np.float32)]:
        assert same(torch.randn(shape, dtype=TORCH[dt]), R.randn(shape, dt)), shape
        assert_in_sync()
    # manual_seed clears the cache
    seed_both(9)
    assert same(torch.randn(1), R.randn((1,)))
    seed_both(9)
    assert same(torch.randn(1), R.randn((1,)))
    assert_in_sync()


def test_interleaved_call_sequence():
    seed_both(42)
    steps = [
        lambda: (torch.rand(5), R.rand((5,))),
        lambda: (torch.randn(3, 4), R.randn((3, 4))),
        lambda: (torch.randint(0, 10, (7,)), R.randint(0, 10, (7,))),
        lambda: (torch.randn(1, dtype=torch.float64), R.randn((1,), np.float64)),
        lambda: (torch.rand(17, dtype=torch.float64), R.rand((17,), np.float64)),
        lambda: (torch.randn(33), R.randn((33,))),
        lambda: (torch.randperm(10), R.randperm(10)),
        lambda: (torch.randn(5), R.randn((5,))),
        lambda: (torch.empty(2, 3).uniform_(-1, 1), R.uniform_(np.empty((2, 3), np.float32), -1, 1)),
        lambda: (torch.randint(-3, 2**40, (4,)), R.randint(-3, 2**40, (4,))),
        lambda: (torch.randn(18, dtype=torch.float16), R.randn((18,), np.float16)),
    ]
    for _ in range(3):
        for i, step in enumerate(steps):
            t, a = step()
            assert same(t, a), i
    assert_in_sync()


def test_randn_million():
    """A million normals as one array (their speed is benchmarks/' business: a time limit here
    failed on a slower or busier machine)."""
    R.manual_seed(0)
    a = R.randn((1000, 1000))
    assert a.dtype == np.float32 and a.shape == (1000, 1000) and a.flags.c_contiguous
    torch.manual_seed(0)
    assert same(torch.randn(1000, 1000), a)


def test_argument_checks():
    with pytest.raises(RuntimeError):
        R.uniform_(np.empty(3, np.float32), 2.0, 1.0)
    with pytest.raises(RuntimeError):
        R.normal_(np.empty(3, np.float32), 0.0, -1.0)
    with pytest.raises(RuntimeError):
        R.uniform_(np.empty(3, np.float16), 0.0, 1e6)
    with pytest.raises(RuntimeError):
        R.randint(5, 5, (3,))
    with pytest.raises(RuntimeError):
        R.randint(0, 300, (3,), np.uint8)
    with pytest.raises(RuntimeError):
        R.uniform_(np.empty(3, np.int64))
    for low, high in [(0, 2**20), (-2**30, 0)]:        # outside float16's range
        with pytest.raises(RuntimeError):
            torch.randint(low, high, (3,), dtype=torch.float16)
        with pytest.raises(RuntimeError):
            R.randint(low, high, (3,), np.float16)


# ---------------------------------------------------------------------------
# integers
# ---------------------------------------------------------------------------

INT_CASES = [
    (np.int64, [(0, 10), (-5, 5), (0, 2), (3, 2**28), (0, 2**28 - 1), (0, 2**31),
                (0, 2**32), (-2**40, 2**40), (-2**63, 2**63 - 1), (7, 8)]),
    (np.int32, [(0, 10), (-5, 5), (0, 2**28), (-2**31, 2**31 - 1)]),
    (np.int16, [(0, 100), (-300, 300)]),
    (np.int8, [(-128, 128), (0, 3)]),
    (np.uint8, [(0, 256), (10, 20)]),
    (np.bool_, [(0, 2), (1, 2)]),
    (np.float32, [(0, 10), (-5, 5), (0, 2**28), (0, 2**32), (-2**40, 2**40),
                  (-2**30 - 3, 2**30 + 3), (2**24 + 1, 2**24 + 7)]),
    (np.float64, [(0, 10), (0, 2**28), (-2**40, 2**40), (-2**53 - 1, 2**53 + 1)]),
    (np.float16, [(0, 10), (-2048, 2048), (0, 65504)]),
]


@pytest.mark.parametrize("dt,ranges", INT_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_randint(dt, ranges):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in SEEDS[:4]:
            seed_both(s)
            for low, high in ranges:
                for shape in [(1,), (5,), (3, 4), (0,)]:
                    t = torch.randint(low, high, shape, dtype=TORCH[dt])
                    a = R.randint(low, high, shape, dt)
                    assert same(t, a), (s, low, high, shape)
                assert_in_sync()


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.int16, np.uint8, np.bool_,
                                np.float16, np.float32, np.float64],
                         ids=lambda d: d.__name__)
def test_random_without_bounds(dt):
    seed_both(8)
    assert same(torch.empty(300, dtype=TORCH[dt]).random_(), R.random_(np.empty(300, dt)))
    assert same(torch.empty(30, dtype=TORCH[dt]).random_(2), R.random_(np.empty(30, dt), 2))
    assert_in_sync()


@pytest.mark.parametrize("s", SEEDS[:4])
def test_randperm(s):
    seed_both(s)
    for n in [0, 1, 2, 3, 10, 100, 5000]:
        assert same(torch.randperm(n), R.randperm(n)), n
        assert_in_sync()
    assert same(torch.randperm(50, dtype=torch.int32), R.randperm(50, np.int32))


# ---------------------------------------------------------------------------
# nn.init and nn.Linear
# ---------------------------------------------------------------------------

def _kaiming_uniform_bound(fan_in, a=math.sqrt(5)):
    # exactly torch.nn.init.kaiming_uniform_'s arithmetic (mode="fan_in", leaky_relu)
    gain = math.sqrt(2.0 / (1 + a ** 2))
    std = gain / math.sqrt(fan_in)
    return math.sqrt(3.0) * std


def test_kaiming_uniform_matches_uniform_with_torch_bound():
    seed_both(0)
    w = torch.empty(256, 784)
    torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    bound = _kaiming_uniform_bound(784)
    mine = R.uniform_(np.empty((256, 784), np.float32), -bound, bound)
    assert same(w.detach(), mine)
    assert_in_sync()


def test_nn_init_uniform_and_normal():
    seed_both(1)
    w = torch.empty(17, 9)
    torch.nn.init.uniform_(w, -0.2, 0.7)
    assert same(w, R.uniform_(np.empty((17, 9), np.float32), -0.2, 0.7))
    torch.nn.init.normal_(w, 0.0, 0.02)
    assert same(w, R.normal_(np.empty((17, 9), np.float32), 0.0, 0.02))
    assert_in_sync()


@pytest.mark.parametrize("fan_in,fan_out", [(3, 2), (784, 256), (10, 1), (1, 5)])
def test_nn_linear_init(fan_in, fan_out):
    for s in (0, 1, 42):
        seed_both(s)
        layer = torch.nn.Linear(fan_in, fan_out)
        weight = R.uniform_(np.empty((fan_out, fan_in), np.float32),
                            -_kaiming_uniform_bound(fan_in), _kaiming_uniform_bound(fan_in))
        bound = 1 / math.sqrt(fan_in)
        bias = R.uniform_(np.empty((fan_out,), np.float32), -bound, bound)
        assert same(layer.weight.detach(), weight)
        assert same(layer.bias.detach(), bias)
        assert_in_sync()


# ---------------------------------------------------------------------------
# Generator objects
# ---------------------------------------------------------------------------

def test_generator_objects():
    g_t = torch.Generator()
    g_r = R.Generator()
    assert g_t.initial_seed() == g_r.initial_seed() == 67280421310721
    assert same(torch.rand(20, generator=g_t), R.rand((20,), generator=g_r))
    g_t.manual_seed(123)
    assert g_r.manual_seed(123) is g_r
    seed_both(5)
    assert same(torch.randn(25, generator=g_t), R.randn((25,), generator=g_r))
    assert same(torch.randint(0, 9, (6,), generator=g_t), R.randint(0, 9, (6,), generator=g_r))
    assert same(torch.randperm(9, generator=g_t), R.randperm(9, generator=g_r))
    assert same(torch.randn(3, generator=g_t), R.randn((3,), generator=g_r))
    assert same(g_t.get_state(), g_r.get_state().numpy())
    # the default generator was not touched by any of that
    assert_in_sync()
    assert same(torch.rand(4), R.rand((4,)))


# ---------------------------------------------------------------------------
# property-based
# ---------------------------------------------------------------------------

OPS = ["rand", "randn", "uniform", "normal", "randint", "randperm"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**64 - 1),
       calls=st.lists(st.tuples(st.sampled_from(OPS),
                                st.lists(st.integers(0, 40), min_size=1, max_size=3),
                                st.sampled_from(FLOATS),
                                st.floats(-50, 50, allow_nan=False),
                                st.floats(0, 20, allow_nan=False)),
                      min_size=1, max_size=6))
def test_hypothesis_call_sequences(seed, calls):
    seed_both(seed)
    for op, shape, dt, a, b in calls:
        shape = tuple(shape)
        tdt = TORCH[dt]
        if op == "rand":
            t, m = torch.rand(shape, dtype=tdt), R.rand(shape, dt)
        elif op == "randn":
            t, m = torch.randn(shape, dtype=tdt), R.randn(shape, dt)
        elif op == "uniform":
            t = torch.empty(shape, dtype=tdt).uniform_(a, a + b)
            m = R.uniform_(np.empty(shape, dt), a, a + b)
        elif op == "normal":
            t = torch.empty(shape, dtype=tdt).normal_(a, b)
            m = R.normal_(np.empty(shape, dt), a, b)
        elif op == "randint":
            low, high = int(a), int(a) + 1 + int(b * 1e8)
            t = torch.randint(low, high, shape)
            m = R.randint(low, high, shape)
        else:
            n = int(np.prod(shape))
            t, m = torch.randperm(n), R.randperm(n)
        assert same(t, m), (op, shape, dt, a, b)
    assert_in_sync()


# ---------------------------------------------------------------------------
# gradlab's tensor-level random API against torch's: Generator, generator=, the samplers
# ---------------------------------------------------------------------------

import gradlab  # noqa: E402
import gradlab.nn.functional as GF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

LIBS = (gradlab, torch)
DTYPES = ["float32", "float64", "float16"]


def bits(t):
    """A tensor's dtype, shape and bytes (gradlab's or torch's)."""
    a = np.ascontiguousarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t._array)
    return str(t.dtype).replace("torch.", "").replace("gradlab.", ""), a.shape, a.tobytes()


def run_both(fn, seed=0):
    """fn(lib, generator) in gradlab and torch from the same seed: outputs bit-identical, the
    generators left in the same state."""
    outs = []
    for lib in LIBS:
        g = lib.Generator().manual_seed(seed)
        out = fn(lib, g)
        outs.append(([bits(t) for t in out] if isinstance(out, tuple) else bits(out),
                     bytes(g.get_state().numpy())))
    assert outs[0] == outs[1]


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e)
    return None


def same_error(fn):
    """fn(lib) fails in gradlab exactly as in torch (type and text), or succeeds in both."""
    assert error_of(lambda: fn(gradlab)) == error_of(lambda: fn(torch))


# The op table (tests/test_op_table.py) runs these: every random op, each on both libraries.
RANDOM_OPS = [
    ("uniform_", lambda T, g: T.empty(5, 7).uniform_(-2, 3, generator=g)),
    ("normal_", lambda T, g: T.empty(40).normal_(1.5, 0.5, generator=g)),
    ("exponential_", lambda T, g: T.empty(9).exponential_(2.0, generator=g)),
    ("geometric_", lambda T, g: T.empty(9).geometric_(0.3, generator=g)),
    ("cauchy_", lambda T, g: T.empty(9).cauchy_(1.0, 2.0, generator=g)),
    ("log_normal_", lambda T, g: T.empty(9).log_normal_(0.5, 0.25, generator=g)),
    ("random_", lambda T, g: T.empty(9, dtype=T.int64).random_(generator=g)),
    ("random_to", lambda T, g: T.empty(9, dtype=T.int64).random_(7, generator=g)),
    ("random_from_to", lambda T, g: T.empty(9).random_(-3, 8, generator=g)),
    ("random_from_none", lambda T, g: T.empty(9, dtype=T.int16).random_(5, None, generator=g)),
    ("random_full", lambda T, g: T.empty(9, dtype=T.int64).random_(-2 ** 63, None, generator=g)),
    ("bernoulli_", lambda T, g: T.empty(30).bernoulli_(0.3, generator=g)),
    ("bernoulli_tensor", lambda T, g: T.empty(4, 5).bernoulli_(
        T.tensor([0.1, 0.5, 0.9, 0.0, 1.0]), generator=g)),
    ("bernoulli", lambda T, g: T.bernoulli(T.full((20,), 0.4), generator=g)),
    ("bernoulli_method_p", lambda T, g: T.zeros(20).bernoulli(0.7, generator=g)),
    ("poisson", lambda T, g: T.poisson(T.tensor([0.0, 0.5, 4.0, 12.0, 300.0]), generator=g)),
    ("normal_tensor_float", lambda T, g: T.normal(T.arange(20.0), 2.0, generator=g)),
    ("normal_float_tensor", lambda T, g: T.normal(1.0, T.arange(20.0), generator=g)),
    ("normal_tensor_tensor", lambda T, g: T.normal(T.zeros(3, 1), T.ones(5), generator=g)),
    ("normal_size", lambda T, g: T.normal(2.0, 3.0, (4, 5), generator=g)),
    ("multinomial", lambda T, g: T.multinomial(T.tensor([0.1, 0.2, 0.7]), 2, generator=g)),
    ("multinomial_replacement", lambda T, g: T.tensor([[1.0, 2.0], [3.0, 0.0]]).multinomial(
        5, replacement=True, generator=g)),
    ("rand_like", lambda T, g: T.rand_like(T.ones(3), generator=g)),
    ("randn_like", lambda T, g: T.randn_like(T.ones(3), generator=g)),
    ("randint_like", lambda T, g: (T.randint_like(T.ones(3), 9, generator=g),
                                   T.randint_like(T.ones(3, dtype=T.int32), -4, 4, generator=g))),
]


@pytest.mark.parametrize("fn", [f for _, f in RANDOM_OPS], ids=[n for n, _ in RANDOM_OPS])
def test_random_ops_table(fn):
    for seed in (0, 7, 2147483647):
        run_both(fn, seed)


def test_generator_api():
    g, t = gradlab.Generator(), torch.Generator()
    assert g.initial_seed() == t.initial_seed() and str(g.device) == str(t.device) == "cpu"
    assert repr(g.device) == repr(t.device)
    assert g.manual_seed(2147483647) is g and t.manual_seed(2147483647) is t
    assert bytes(g.get_state().numpy()) == bytes(t.get_state().numpy())
    assert g.get_state().dtype == gradlab.uint8 and g.get_state().shape == (5056,)
    t.set_state(torch.from_numpy(g.get_state().numpy()))
    g.set_state(gradlab.tensor(t.get_state().numpy()))
    assert bits(gradlab.rand(4, generator=g)) == bits(torch.rand(4, generator=t))
    state = g.get_state()
    first = bits(gradlab.randn(3, generator=g))
    assert g.set_state(state) is g and bits(gradlab.randn(3, generator=g)) == first
    s = g.seed()
    assert g.initial_seed() == s and gradlab.default_generator is not g
    assert gradlab.manual_seed(3) is gradlab.default_generator
    assert bits(g.clone_state().get_state()) == bits(g.get_state())
    assert bits(gradlab.get_rng_state()) == bits(gradlab.default_generator.get_state())
    torch.manual_seed(3)
    assert bits(gradlab.get_rng_state()) == bits(torch.get_rng_state())
    gradlab.set_rng_state(gradlab.get_rng_state())
    for fn in [lambda L: L.Generator().set_state(np.zeros(5056, np.uint8)),
               lambda L: L.Generator().set_state(L.zeros(10, dtype=L.uint8)),
               lambda L: L.Generator().set_state(L.zeros(5056, dtype=L.int64)),
               lambda L: L.Generator().set_state(L.zeros(5056, dtype=L.uint8)),
               lambda L: L.Generator("cuda"), lambda L: L.Generator("meta"),
               lambda L: L.Generator().manual_seed(2 ** 64),
               lambda L: L.Generator().manual_seed("a"),
               lambda L: L.Generator().get_offset(),
               lambda L: L.rand(3, generator=3), lambda L: L.randn((2,), generator="g"),
               lambda L: L.set_rng_state(np.zeros(3))]:
        same_error(fn)


@pytest.mark.parametrize("seed", SEEDS)
def test_factories_take_a_generator_and_leave_the_default_alone(seed):
    for lib in LIBS:
        lib.manual_seed(99)
    for dt in DTYPES:
        run_both(lambda L, g: (L.rand(7, 3, generator=g, dtype=getattr(L, dt)),
                               L.randn(33, generator=g, dtype=getattr(L, dt)),
                               L.randn(5, generator=g, dtype=getattr(L, dt)),
                               L.randint(-5, 2 ** 40, (6,), generator=g),
                               L.randint(10, (3, 2), generator=g, dtype=getattr(L, dt)),
                               L.randperm(30, generator=g),
                               L.rand_like(L.ones(2, 2, dtype=getattr(L, dt)), generator=g),
                               L.randn_like(L.ones(17, dtype=getattr(L, dt)), generator=g)),
                 seed)
    assert bits(gradlab.get_rng_state()) == bits(torch.get_rng_state())


FILLS = [
    ("exponential_", lambda a, g: a.exponential_(0.7, generator=g), DTYPES),
    ("geometric_", lambda a, g: a.geometric_(0.2, generator=g), DTYPES + ["int64", "int32"]),
    ("cauchy_", lambda a, g: a.cauchy_(-1.0, 0.3, generator=g), DTYPES),
    ("log_normal_", lambda a, g: a.log_normal_(0.1, 0.9, generator=g), DTYPES),
    ("bernoulli_", lambda a, g: a.bernoulli_(0.35, generator=g),
     DTYPES + ["int64", "uint8", "bool"]),
    ("uniform_", lambda a, g: a.uniform_(-1.0, 4.0, generator=g), DTYPES),
    ("normal_", lambda a, g: a.normal_(3.0, 0.1, generator=g), DTYPES),
    ("random_", lambda a, g: a.random_(generator=g),
     DTYPES + ["int64", "int32", "int8", "uint8", "bool"]),
    ("random_to", lambda a, g: a.random_(100, generator=g), DTYPES + ["int64", "int16"]),
    ("random_from_to", lambda a, g: a.random_(-50, 50, generator=g), DTYPES + ["int64", "int8"]),
    ("random_from_none", lambda a, g: a.random_(-3, None, generator=g),
     DTYPES + ["int64", "int32", "int8"]),
    ("random_full_range", lambda a, g: a.random_(-2 ** 63, None, generator=g),
     ["float32", "float64", "int64"]),
]
SHAPES = [(1,), (5,), (16,), (17,), (3, 7), (4, 4, 3), (0,)]


@pytest.mark.parametrize("name,fill,dtypes", FILLS, ids=[f[0] for f in FILLS])
def test_in_place_fills(name, fill, dtypes):
    for seed in SEEDS[:4]:
        for dt in dtypes:
            for shape in SHAPES:
                run_both(lambda L, g: fill(L.empty(shape, dtype=getattr(L, dt)), g), seed)
            # non-contiguous: filled in memory order
            run_both(lambda L, g: fill(L.empty(6, 5, dtype=getattr(L, dt)).t(), g), seed)
            run_both(lambda L, g: fill(L.empty(6, 10, dtype=getattr(L, dt))[:, ::3], g), seed)


def test_in_place_fills_default_generator_and_graphs():
    for name, fill, _ in FILLS:
        for lib in LIBS:
            lib.manual_seed(5)
        x = [lib.ones(4, requires_grad=True) * 1 for lib in LIBS]
        y = [fill(v, None) for v in x]
        assert bits(y[0]) == bits(y[1]), name
        assert y[0].grad_fn.name() == y[1].grad_fn.name(), name
        for v in y:
            v.sum().backward()
        same_error(lambda L: fill(L.ones(2, requires_grad=True), None))
    assert bits(gradlab.get_rng_state()) == bits(torch.get_rng_state())


def test_bernoulli_tensor_p():
    for dt in DTYPES:
        for out_dt in ["float32", "float64", "int64", "bool"]:
            run_both(lambda L, g: L.empty(3, 4, dtype=getattr(L, out_dt)).bernoulli_(
                L.rand(4, generator=g, dtype=getattr(L, dt)), generator=g), 11)
            run_both(lambda L, g: L.empty(4, 3, dtype=getattr(L, out_dt)).t().bernoulli_(
                L.rand(3, 4, generator=g, dtype=getattr(L, dt)), generator=g), 12)
        run_both(lambda L, g: L.bernoulli(L.rand(50, generator=g, dtype=getattr(L, dt)),
                                          generator=g), 13)
        run_both(lambda L, g: L.rand(5, 6, generator=g, dtype=getattr(L, dt)).t().bernoulli(
            generator=g), 14)
    p = [lib.full((3,), 0.5, requires_grad=True) for lib in LIBS]
    x = [lib.ones(3, requires_grad=True) * 2 for lib in LIBS]
    outs = [[xi.bernoulli_(pi), lib.bernoulli(pi), lib.bernoulli(pi, 0.3)]
            for lib, xi, pi in zip(LIBS, x, p)]
    for a, b in zip(*outs):
        assert a.grad_fn.name() == b.grad_fn.name()
    for o in outs:
        (o[0].sum() + o[1].sum()).backward()
    assert bits(p[0].grad) == bits(p[1].grad)
    for fn in [lambda L: L.empty(3).bernoulli_(1.5), lambda L: L.empty(3).bernoulli_(-0.1),
               lambda L: L.empty(3).bernoulli_(L.tensor([0.5, 1.5, 0.5])),
               lambda L: L.empty(3).bernoulli_(L.tensor([1, 0, 1])),
               lambda L: L.empty(3).bernoulli_(L.tensor([0.5, 0.5])),
               lambda L: L.empty(3).bernoulli_(L.full((2, 3), 0.5)),
               lambda L: L.bernoulli(L.tensor([1, 0])),
               lambda L: L.bernoulli(L.tensor([0.5, 0.5]), 2.0),
               lambda L: L.bernoulli(p[0] if L is gradlab else p[1], 0.3).sum().backward()]:
        same_error(fn)


@pytest.mark.parametrize("dt", DTYPES)
def test_poisson(dt):
    rates = [0.0, 1e-3, 0.5, 3.0, 9.99, 10.0, 11.5, 40.0, 1234.5, 1e6]
    for seed in SEEDS[:4]:
        run_both(lambda L, g: L.poisson(L.tensor(rates * 3, dtype=getattr(L, dt)), g), seed)
        run_both(lambda L, g: L.poisson(L.rand(4, 5, generator=g, dtype=getattr(L, dt)).t()
                                        * 30, generator=g), seed)
    r = [lib.tensor([1.0, 20.0], requires_grad=True) for lib in LIBS]
    out = [lib.poisson(v) for lib, v in zip(LIBS, r)]
    assert out[0].grad_fn.name() == out[1].grad_fn.name() == "PoissonBackward0"
    for o in out:
        o.sum().backward()
    assert bits(r[0].grad) == bits(r[1].grad)
    for fn in [lambda L: L.poisson(L.tensor([1, 2])), lambda L: L.poisson(L.tensor([1.0, -2])),
               lambda L: L.poisson(L.tensor([float("nan")]))]:
        same_error(fn)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 64 - 1), rate=st.floats(0, 1e4))
def test_poisson_hypothesis(seed, rate):
    run_both(lambda L, g: L.poisson(L.full((20,), rate, dtype=L.float64), g), seed)


def test_normal_overloads_values_and_gradients():
    for dt in DTYPES:
        D = dt
        run_both(lambda L, g: (
            L.normal(L.arange(20.0, dtype=getattr(L, D)), 0.5, generator=g),
            L.normal(L.arange(3.0, dtype=getattr(L, D)), generator=g),
            L.normal(-2.0, L.arange(17.0, dtype=getattr(L, D)), generator=g),
            L.normal(L.zeros(4, 1, dtype=getattr(L, D)), L.arange(1.0, 6.0), generator=g),
            L.normal(L.ones(5, dtype=L.float64), L.rand(2, 5, generator=g, dtype=getattr(L, D)),
                     generator=g),
            L.normal(0.3, 2.5, (3, 6), generator=g, dtype=getattr(L, D)),
            L.normal(0.3, 2.5, size=(40,), generator=g, dtype=getattr(L, D))), 21)
    m = [lib.zeros(2, 3, requires_grad=True) for lib in LIBS]
    s = [lib.ones(3, requires_grad=True) for lib in LIBS]
    outs = [[L.normal(mi, 1.0), L.normal(0.0, si), L.normal(mi, si), L.normal(mi, si.detach()),
             L.normal(1.0, 2.0, (2,), requires_grad=True)] for L, mi, si in zip(LIBS, m, s)]
    for a, b in zip(*outs):
        assert (a.grad_fn and a.grad_fn.name()) == (b.grad_fn and b.grad_fn.name())
        assert a.requires_grad == b.requires_grad
    for o in outs:
        sum(v.sum() for v in o[:4]).backward()
    assert bits(m[0].grad) == bits(m[1].grad) and bits(s[0].grad) == bits(s[1].grad)
    for fn in [lambda L: L.normal(L.tensor([1, 2]), 1.0),
               lambda L: L.normal(L.tensor([1.0, 2]), -1.0),
               lambda L: L.normal(0.0, L.tensor([1.0, -2])),
               lambda L: L.normal(L.tensor([1.0, 2]), L.tensor([1.0, -2])),
               lambda L: L.normal(L.tensor([1.0, 2]), L.tensor([1.0, 2, 3])),
               lambda L: L.normal(0.0, L.tensor([1, 2])),
               lambda L: L.normal(2.0, -3.0, (2, 3)), lambda L: L.normal(2.0, 3.0),
               lambda L: L.normal(2, 3, (2,), dtype=L.int64),
               lambda L: L.normal(L.tensor([1.0, 2]), 1.0, (2,))]:
        same_error(fn)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 64 - 1), rows=st.integers(0, 4), cols=st.integers(1, 40),
       n=st.integers(1, 60), replacement=st.booleans(), one_d=st.booleans(),
       dt=st.sampled_from(["float32", "float64"]), zeros=st.integers(0, 3))
def test_multinomial_hypothesis(seed, rows, cols, n, replacement, one_d, dt, zeros):
    """Distinct weights (so that no two p / q tie), some of them zero."""
    if not replacement:   # no more samples than positive weights: zeros would tie
        n = min(n, cols - min(zeros, cols - 1))
    base = np.random.default_rng(seed % 1000).permutation(rows * cols + 1)[:rows * cols] + 1.0
    weights = base.reshape(rows, cols) / (rows * cols)
    weights[:, :min(zeros, cols - 1)] = 0.0
    if one_d:
        weights = weights[0] if rows else weights.reshape(-1)[:cols]
        if weights.size == 0:
            return
    run_both(lambda L, g: L.multinomial(L.tensor(weights, dtype=getattr(L, dt)), n,
                                        replacement, generator=g), seed)


def test_multinomial_dtypes_and_errors():
    for dt in DTYPES:
        for n, rep in [(1, False), (1, True), (7, True), (300, True), (4, False)]:
            run_both(lambda L, g: L.rand(3, 9, generator=g, dtype=getattr(L, dt)).multinomial(
                n, rep, generator=g), 31)
    T = lambda L, v: L.tensor(v)  # noqa: E731
    for fn in [lambda L: L.multinomial(T(L, [0.2, 0.8]), 0),
               lambda L: L.multinomial(T(L, [0.2, 0.8]), 3),
               lambda L: L.multinomial(T(L, 0.5), 1),
               lambda L: L.multinomial(L.ones(2, 2, 2), 1),
               lambda L: L.multinomial(T(L, [1, 2]), 1),
               lambda L: L.multinomial(T(L, [-1.0, 2]), 1),
               lambda L: L.multinomial(T(L, [-1.0, 2]), 2, True),
               lambda L: L.multinomial(T(L, [float("inf"), 2]), 1),
               lambda L: L.multinomial(T(L, [float("nan"), 2]), 2, True),
               lambda L: L.multinomial(T(L, [float("inf"), -2]), 2, True),
               lambda L: L.multinomial(T(L, [0.0, 0]), 1),
               lambda L: L.multinomial(T(L, [0.0, 0]), 2, True),
               lambda L: L.multinomial(T(L, [[0.0, 0], [1, 1]]), 1),
               lambda L: L.multinomial(L.ones(2, 0), 1),
               lambda L: L.multinomial(L.ones(0, 3), 2).shape]:
        same_error(fn)


def test_multinomial_float16_without_replacement_and_ties():
    """Ties of p / q (frequent in float16) come out in PyTorch's topk order only when topk's
    introselect happens to keep index order; gradlab keeps index order. The samples drawn and
    the order of distinct keys are PyTorch's; with one sample (argmax) it is exact."""
    run_both(lambda L, g: L.rand(6, 40, generator=g, dtype=L.float16).multinomial(
        1, generator=g), 5)
    for lib in LIBS:
        lib.manual_seed(0)
    w = [lib.rand(4, 30, dtype=lib.float16) for lib in LIBS]
    g_out, t_out = (L.multinomial(v, 30) for L, v in zip(LIBS, w))
    for g_row, t_row in zip(g_out._array, t_out.numpy()):
        assert sorted(g_row) == sorted(t_row)


MAKEMORE = '''
g = torch.Generator().manual_seed(2147483647)
p = torch.rand(3, generator=g)
p = p / p.sum()
print(p)
print(torch.multinomial(p, num_samples=100, replacement=True, generator=g))
N = torch.randint(0, 50, (27, 27), generator=g)
P = (N + 1).float()
P /= P.sum(1, keepdims=True)
g = torch.Generator().manual_seed(2147483647)
for i in range(20):
    out = []
    ix = 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(ix)
        if ix == 0:
            break
    print(out)
g = torch.Generator().manual_seed(2147483647)
W = torch.randn((27, 27), generator=g, requires_grad=True)
print(W[:2, :4])
'''


def test_makemore_cells_print_what_pytorch_prints(capsys):
    printed = []
    for lib in LIBS:
        exec(MAKEMORE, {"torch": lib})
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]


def test_feature_dropout():
    for name, shape in [("dropout", (3, 4, 5)), ("dropout1d", (3, 4, 5)), ("dropout1d", (4, 5)),
                        ("dropout2d", (2, 3, 4, 4)), ("dropout3d", (2, 3, 2, 2, 2)),
                        ("dropout3d", (3, 2, 2, 2))]:
        for p in (0.0, 0.25, 0.5, 1.0):
            for inplace in (False, True):
                outs = []
                for lib, F in ((gradlab, GF), (torch, TF)):
                    lib.manual_seed(8)
                    x = lib.ones(shape, requires_grad=True)
                    y = getattr(F, name)(x * 1, p, True, inplace)
                    y.sum().backward()
                    unbatched_inplace = inplace and name != "dropout" and len(shape) in (2, 4)
                    name_of = "" if unbatched_inplace else y.grad_fn.name()  # see _dropout.py
                    outs.append((bits(y), name_of, bits(x.grad)))
                assert outs[0] == outs[1], (name, shape, p, inplace)
    for L, F in ((gradlab, GF), (torch, TF)):
        assert repr(L.nn.Dropout2d(0.2)) == "Dropout2d(p=0.2, inplace=False)"
        x = L.ones(2, 3)
        assert bits(L.nn.Dropout1d(0.5).eval()(x)) == bits(x)
        assert L.nn.Dropout(0.5).eval()(x) is x
    for fn in [lambda F, L: F.dropout1d(L.ones(5), 0.5), lambda F, L: F.dropout2d(L.ones(5), 2.0),
               lambda F, L: F.dropout2d(L.ones(5), 0.5)]:
        results = []
        for L, F in ((gradlab, GF), (torch, TF)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                results.append((error_of(lambda: fn(F, L)), [str(w.message) for w in caught]))
        assert results[0] == results[1]
    for L, F in ((gradlab, GF), (torch, TF)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            F.dropout2d(L.ones(2, 3, 4), 0.5)
        assert "assuming that channel-wise 1D dropout" in str(caught[0].message)


def test_random_error_texts():
    E = lambda L, dt="float32": L.empty(3, dtype=getattr(L, dt))  # noqa: E731
    for fn in [lambda L: E(L).exponential_(0), lambda L: E(L).exponential_(-1.5),
               lambda L: E(L).exponential_(float("nan")),
               lambda L: E(L, "int64").exponential_(),
               lambda L: E(L).geometric_(0), lambda L: E(L).geometric_(1.5),
               lambda L: E(L, "bool").geometric_(0.3),
               lambda L: E(L).cauchy_(0, 0), lambda L: E(L, "int64").cauchy_(),
               lambda L: E(L).log_normal_(1, 0), lambda L: E(L, "int64").log_normal_(),
               lambda L: E(L).random_(5, 3), lambda L: E(L).random_(0),
               lambda L: E(L, "int64").random_(-2 ** 63),
               lambda L: E(L, "int64").random_(from_=2),
               lambda L: E(L).uniform_(2.0, 1.0), lambda L: E(L).normal_(0.0, -1.0),
               lambda L: E(L).multinomial(2.0)]:
        same_error(fn)
    # an exponential_ rate of inf gives zeros, as in PyTorch
    run_both(lambda L, g: L.empty(4).exponential_(float("inf"), generator=g))
