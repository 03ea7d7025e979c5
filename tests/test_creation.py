"""Factories vs PyTorch: sizes as ints/tuples/size=, their errors, full/eye/*_like, tensor and
as_tensor/from_numpy, the default dtype, and arange/linspace values bit for bit (PyTorch's
kernels use a fused multiply-add, and arange vectorizes).

The bit-for-bit tests hold wherever PyTorch runs its AVX2 kernels, on AVX2 and AVX-512 CPUs alike
(helpers.AVX2_KERNELS), and are skipped on its DEFAULT kernels, which round start + step * i twice.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import avx2_kernels  # noqa: E402
from outcomes import assert_same_outcome, err, scenarios  # noqa: E402

SC, sc = scenarios()


@sc
def sizes(L):
    fs = [L.zeros, L.ones, L.empty, L.rand, L.randn]
    r = []
    for f in fs:
        r.append([err(lambda: f(2, 3).shape), err(lambda: f((2, 3)).shape), err(lambda: f([2, 3]).shape), err(lambda: f(size=(2, 3)).shape), err(lambda: f(L.Size([2])).shape), err(lambda: f().shape), err(lambda: f(()).shape), err(lambda: f(0).shape), err(lambda: f(-1)), err(lambda: f(2.5)), err(lambda: f(2, 3, dtype=L.float64).dtype), err(lambda: f(L.tensor(3)).shape), err(lambda: f(np.int64(2)).shape), err(lambda: f((2, -3))), err(lambda: f(2, 3, requires_grad=True).requires_grad), err(lambda: f((2,), (3,)))])
    return r
@sc
def zeros_ones_values(L):
    return [L.zeros(2, dtype=L.int64), L.ones(2, 2, dtype=L.bool), L.zeros(3, requires_grad=True), L.ones(1, dtype=L.float16), err(lambda: L.zeros(2, dtype=L.int32, requires_grad=True))]
@sc
def full_cases(L):
    return [err(lambda: L.full((2,), 3)), err(lambda: L.full((2,), 3.)), err(lambda: L.full((2,), True)), err(lambda: L.full([2, 2], 1.5, dtype=L.float64)), err(lambda: L.full(2, 1.)), err(lambda: L.full((2,), 1., requires_grad=True)), err(lambda: L.full((2,), L.tensor(2.))), err(lambda: L.full((), 7)), err(lambda: L.full((2,), 2.5, dtype=L.int64)), err(lambda: L.full(size=(2,), fill_value=1))]
@sc
def like_cases(L):
    x = L.tensor([[1, 2]], dtype=L.int32); f = L.tensor([1., 2.], requires_grad=True)
    return [L.zeros_like(x), L.ones_like(x), L.full_like(x, 7), L.full_like(x, 2.7), L.zeros_like(f), L.ones_like(f, dtype=L.float64), L.empty_like(f).shape, L.rand_like(f).shape, L.randn_like(f).dtype, L.zeros_like(f, requires_grad=True), err(lambda: L.rand_like(x)), L.full_like(f, 3, requires_grad=True), err(lambda: L.zeros_like(x, requires_grad=True))]
@sc
def eye_cases(L):
    return [L.eye(3), L.eye(2, 3), L.eye(3, 2, dtype=L.int64), L.eye(0), err(lambda: L.eye(-1)), L.eye(2, requires_grad=True), err(lambda: L.eye(2, m=3).shape), err(lambda: L.eye(n=2).shape), err(lambda: L.eye(2.5))]
@sc
def arange_cases(L):
    args = [(5,), (1, 5), (0, 1, 0.1), (1., 5.), (0, -5, -1), (0, 10, 3), (0.5,), (-1.5, 2.5, 0.5), (0, 1, 1 / 3), (10, 0, -0.7), (1, 1), (0, 5, 2), (1e-3, 1, 0.0999), (0, 2.2, 0.2), (L.tensor(3),), (L.tensor(2.), 5)]
    r = [err(lambda a=a: L.arange(*a)) for a in args]
    r += [err(lambda: L.arange(0, 5, 0)), err(lambda: L.arange(5, 0)), err(lambda: L.arange(0, 5, -1)), err(lambda: L.arange(5, dtype=L.float64)), err(lambda: L.arange(0, 1, 0.1, dtype=L.float64)), err(lambda: L.arange(0.5, 5, dtype=L.int64)), err(lambda: L.arange(3, requires_grad=True)), err(lambda: L.arange(3., requires_grad=True)), err(lambda: L.arange(start=1, end=4)), err(lambda: L.arange(end=4)), err(lambda: L.arange(0, 2, 0.5, dtype=L.int32)), err(lambda: L.arange(-3, 3, 0.7, dtype=L.int64)), err(lambda: L.arange(float("inf"))), err(lambda: L.arange(float("nan")))]
    return r
@sc
def linspace_cases(L):
    args = [(0, 1, 5), (0., 1., 11), (-1, 1, 7), (1, 0, 4), (0, 10, 1), (0, 10, 0), (0, 1, 100), (3, 3, 4), (-2.5, 7.1, 13), (0, 1, 2), (1e-3, 1e3, 9), (0.1, 0.7, 6)]
    r = [err(lambda a=a: L.linspace(*a)) for a in args]
    r += [err(lambda a=a: L.linspace(*a, dtype=L.float64)) for a in args]
    r += [err(lambda: L.linspace(0, 10, 5, dtype=L.int64)), err(lambda: L.linspace(-3.7, 10.2, 7, dtype=L.int32)), err(lambda: L.linspace(0, 1, -1)), err(lambda: L.linspace(0, 1)), err(lambda: L.linspace(0, 1, steps=3, requires_grad=True)), err(lambda: L.linspace(L.tensor(0.), L.tensor(1.), 3)), err(lambda: L.linspace(0, 1, 2.5))]
    return r
@sc
def factory_errors(L):
    return [err(lambda: L.zeros(2, dtype=L.int64, requires_grad=True)), err(lambda: L.ones("a")), err(lambda: L.zeros((2, "a"))), err(lambda: L.zeros(2, 3.0)), err(lambda: L.randn(2, dtype=L.int64)), err(lambda: L.rand(2, dtype=L.int32)), err(lambda: L.zeros(None))]
@sc
def randint_randperm(L):
    return [err(lambda: L.randint(5, (3,)).shape), err(lambda: L.randint(0, 5, (2, 2)).dtype), err(lambda: L.randint(3, 5, size=(4,)).shape), err(lambda: L.randint(5, 3, (2,))), err(lambda: sorted(L.randperm(5).tolist())), err(lambda: L.randperm(4, dtype=L.float32).dtype), err(lambda: L.randint(5, (2,), requires_grad=True)), err(lambda: L.randint(0, 1, (3,)))]
@sc
def as_tensor_from_numpy(L):
    a = np.array([1., 2.]); t = L.as_tensor(a); a[0] = 9; x = L.tensor([1., 2.])
    b = np.array([1, 2], dtype=np.int32); f = L.from_numpy(b)
    return [t, L.as_tensor(x) is x, L.as_tensor([1, 2]), L.as_tensor(x, dtype=L.float64), f, err(lambda: L.from_numpy([1, 2])), L.as_tensor(a, dtype=L.float32), a.tolist(), err(lambda: L.from_numpy(np.array(["a"])))]
@sc
def default_dtype(L):
    try:
        L.set_default_dtype(L.float64)
        r = [L.tensor([1.]).dtype, L.zeros(1).dtype, L.arange(1.).dtype, L.linspace(0, 1, 2).dtype, L.full((1,), 2.).dtype, L.tensor([1]).dtype, L.eye(1).dtype, L.rand(1).dtype, L.get_default_dtype(), L.tensor(1.).dtype, L.as_tensor([1.]).dtype, L.Tensor([1.]).dtype]
        r.append(err(lambda: L.set_default_dtype(L.int64)))
    finally:
        L.set_default_dtype(L.float32)
    return r


FUSED = {"linspace_cases"}  # values that a fused multiply-add rounds differently


@pytest.mark.parametrize("name", [pytest.param(n, marks=[avx2_kernels] if n in FUSED else [])
                                  for n in sorted(SC)])
def test_scenario_matches_torch(name):
    assert_same_outcome(SC[name])


def same_bits(t, g):
    a, b = t.numpy(), g.numpy()
    assert str(t.dtype) == str(g.dtype) and a.shape == b.shape
    assert np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")), \
        np.nonzero(a != b)[0][:10]


FLOAT_DTYPES = st.sampled_from(["float32", "float64"])
ENDPOINTS = st.one_of(st.integers(-1000, 1000),
                      st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
                      st.decimals(-100, 100, places=3).map(float))


@avx2_kernels
@settings(max_examples=300, deadline=None, database=None)
@given(start=ENDPOINTS, step=st.one_of(st.decimals("0.001", 20, places=3).map(float),
                                       st.floats(1e-3, 50), st.integers(1, 50)),
       n=st.integers(0, 300), sign=st.sampled_from([1, -1]), slack=st.floats(0, 0.999),
       dtype=FLOAT_DTYPES)
def test_arange_bit_identical(start, step, n, sign, slack, dtype):
    step *= sign
    end = start + (n + slack) * step
    t = torch.arange(start, end, step, dtype=getattr(torch, dtype))
    g = gradlab.arange(start, end, step, dtype=getattr(gradlab, dtype))
    same_bits(t, g)


@avx2_kernels
@settings(max_examples=300, deadline=None, database=None)
@given(start=ENDPOINTS, end=ENDPOINTS, steps=st.integers(0, 300), dtype=FLOAT_DTYPES)
def test_linspace_bit_identical(start, end, steps, dtype):
    same_bits(torch.linspace(start, end, steps, dtype=getattr(torch, dtype)),
              gradlab.linspace(start, end, steps, dtype=getattr(gradlab, dtype)))


@settings(max_examples=100, deadline=None, database=None)
@given(start=ENDPOINTS, end=ENDPOINTS, steps=st.integers(1, 60),
       dtype=st.sampled_from(["int64", "int32", "int16", "uint8"]))
def test_linspace_integer_dtypes(start, end, steps, dtype):
    if dtype == "uint8" and not 0 <= min(start, end) <= max(start, end) < 256 or \
            max(abs(start), abs(end)) > 30000:
        return
    same_bits(torch.linspace(start, end, steps, dtype=getattr(torch, dtype)),
              gradlab.linspace(start, end, steps, dtype=getattr(gradlab, dtype)))


@settings(max_examples=150, deadline=None, database=None)
@given(start=st.one_of(st.integers(-50, 50), st.floats(-50, 50).map(lambda v: round(v, 2))),
       step=st.one_of(st.integers(1, 7), st.floats(0.1, 7).map(lambda v: round(v, 2))),
       n=st.integers(0, 40), sign=st.sampled_from([1, -1]),
       dtype=st.sampled_from(["int64", "int32", "int16"]))
def test_arange_integer_dtypes(start, step, n, sign, dtype):
    step *= sign
    end = start + n * step
    def run(L):
        return L.arange(start, end, step, dtype=getattr(L, dtype)).tolist()
    assert_same_outcome(run)


@avx2_kernels  # 8 float32 lanes: AVX-512 CPUs run this AVX2 kernel too (no AVX-512 arange)
@pytest.mark.parametrize("n", [31, 32, 33, 1000, 32768])
def test_arange_long_float32_vectorized_blocks(n):
    same_bits(torch.arange(0.1, 0.1 + n * 0.37, 0.37), gradlab.arange(0.1, 0.1 + n * 0.37, 0.37))
    same_bits(torch.arange(-3, n * 0.1 - 3, 0.1, dtype=torch.float64),
              gradlab.arange(-3, n * 0.1 - 3, 0.1, dtype=gradlab.float64))


@avx2_kernels
def test_default_dtype_arange_linspace_values():
    try:
        torch.set_default_dtype(torch.float64)
        gradlab.set_default_dtype(gradlab.float64)
        same_bits(torch.arange(0, 1, 0.1), gradlab.arange(0, 1, 0.1))
        same_bits(torch.linspace(-1, 1, 7), gradlab.linspace(-1, 1, 7))
    finally:
        torch.set_default_dtype(torch.float32)
        gradlab.set_default_dtype(gradlab.float32)
    assert math.isclose(gradlab.arange(0, 1, 0.1)[3].item(), 0.3, rel_tol=1e-6)
