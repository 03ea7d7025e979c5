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
    assert same(g_t.get_state(), g_r.get_state())
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
