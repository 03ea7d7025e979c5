"""What outside tests found wrong, against PyTorch 2.13: error types and texts of bad calls,
NaN, infinities and signed zeros through values and derivatives, float16 reductions (which
accumulate in float32), NumPy's warnings (which never reach the user), and gradlab standing in
for ``torch`` in ``sys.modules``."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from outcomes import err  # noqa: E402

NAN, INF = float("nan"), float("inf")


def outcome(fn, lib):
    """err() with every warning an error: a NumPy RuntimeWarning must not leak."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return err(lambda: fn(lib), repr)


ERRORS = {
    "sum_repeated_dim": lambda T: T.ones(2, 3).sum(dim=(0, 0)),
    "sum_repeated_wrapped_dim": lambda T: T.ones(2, 3).sum((0, -2)),
    "sum_first_repeat": lambda T: T.ones(2, 3).sum((0, 1, 0, 1)),
    "mean_repeated_dim": lambda T: T.ones(2, 3).mean(dim=(1, 1)),
    "amax_repeated_dim": lambda T: T.ones(2, 3).amax((1, 1)),
    "var_repeated_dim": lambda T: T.ones(2, 3).var((0, 0)),
    "norm_repeated_dim": lambda T: T.ones(2, 3).norm(dim=(1, 1)),
    "logsumexp_repeated_dim": lambda T: T.ones(2, 3).logsumexp((1, -1)),
    "sum_float_dim": lambda T: T.ones(2, 3).sum(dim=1.5),
    "mean_float_dim": lambda T: T.ones(2, 3).mean(dim=1.5),
    "sum_float_in_dims": lambda T: T.ones(2, 3).sum((0, 1.5)),
    "amax_float_dim": lambda T: T.ones(2, 3).amax(1.5),
    "var_float_dim": lambda T: T.ones(2, 3).var(1.5),
    "cumsum_float_dim": lambda T: T.ones(2, 3).cumsum(1.5),
    "argmax_float_dim": lambda T: T.ones(2, 3).argmax(1.5),
    "log_softmax_float_dim": lambda T: T.ones(2, 3).log_softmax(1.5),
    "sum_numpy_int_dim": lambda T: T.ones(2, 3).sum(np.int64(1)),
    "sum_tensor_dim": lambda T: T.ones(2, 3).sum(T.tensor(1)),
    "argmax_empty": lambda T: T.ones(0).argmax(),
    "argmin_empty_keepdim": lambda T: T.ones(0).argmin(keepdim=True),
    "argmax_empty_dim": lambda T: T.ones(0, 3).argmax(-2),
    "argmax_nonempty_dim": lambda T: T.ones(0, 3).argmax(1),
    "max_empty_dim": lambda T: T.ones(0, 3).max(0),
    "min_empty": lambda T: T.ones(0).min(),
    "amax_empty": lambda T: T.ones(0).amax(),
    "amin_empty_dims": lambda T: T.ones(0, 3).amin((0, 1)),
    "index_0dim_int": lambda T: T.tensor(1.0)[0],
    "index_0dim_slice": lambda T: T.tensor(1.0)[0:1],
    "index_0dim_tuple": lambda T: T.tensor(1.0)[0, ],
    "index_0dim_none": lambda T: T.tensor(1.0)[None],
    "ellipsis_none_ellipsis": lambda T: T.arange(6.0).reshape(2, 3)[..., None, ...],
    "ellipsis_int_ellipsis": lambda T: T.arange(6.0).reshape(2, 3)[..., 0, ...],
    "two_ellipses": lambda T: T.arange(6.0).reshape(2, 3)[..., ...],
    "gather_out_of_range": lambda T: T.ones(2, 3).gather(1, T.tensor([[3], [0]])),
    "gather_negative": lambda T: T.ones(2, 3).gather(1, T.tensor([[-1], [0]])),
    "gather_first_bad": lambda T: T.ones(2, 3).gather(-1, T.tensor([[1, 9], [7, 0]])),
    "gather_float_index": lambda T: T.ones(2, 3).gather(0, T.tensor([[0.0]])),
    "gather_smaller_index": lambda T: T.arange(6.0).reshape(2, 3).gather(
        1, T.tensor([[2]], dtype=T.int32)),
    "scatter_out_of_range": lambda T: T.ones(2, 3).scatter(1, T.tensor([[3]]), 1.0),
    "scatter_add_float_index": lambda T: T.ones(2, 3).scatter_add(
        1, T.tensor([[0.0]]), T.ones(2, 3)),
    "chunk_0": lambda T: T.ones(3).chunk(0),
    "chunk_negative": lambda T: T.ones(3).chunk(-1),
    "chunk_float": lambda T: T.ones(3).chunk(1.5),
    "index_select_float": lambda T: T.ones(3).index_select(0, T.tensor([0.0])),
    "index_select_out_of_range": lambda T: T.ones(3).index_select(0, T.tensor([3])),
    "index_select_negative": lambda T: T.ones(3).index_select(0, T.tensor([-1])),
    "index_select_matrix": lambda T: T.ones(3).index_select(0, T.tensor([[0.0]])),
    "where_float_condition": lambda T: T.where(T.ones(2), T.ones(2), T.zeros(2)),
    "where_long_condition": lambda T: T.where(T.ones(2, dtype=T.int64), T.ones(2), T.zeros(2)),
    "invert_float": lambda T: ~T.ones(2),
    "bitwise_not_float": lambda T: T.bitwise_not(T.ones(2)),
    "invert_bool": lambda T: ~T.tensor([True, False]),
    "cuda": lambda T: T.ones(2).cuda(),
    "to_cuda": lambda T: T.ones(2).to("cuda"),
    "to_cuda_device": lambda T: T.ones(2).to(T.device("cuda:0")),
    "to_mps": lambda T: T.ones(2).to("mps"),
    "device_cuda": lambda T: T.device("cuda"),
    "device_unknown": lambda T: T.device("foo"),
    # NumPy would warn ("Mean of empty slice", "overflow encountered in reduce", ...)
    "mean_empty": lambda T: T.ones(0).mean(),
    "mean_empty_dim": lambda T: T.ones(0, 3).mean(0),
    "logsumexp_empty": lambda T: T.ones(0, 3).logsumexp(0),
    "softmax_empty": lambda T: T.ones(0).softmax(0),
    "log_softmax_inf": lambda T: T.tensor([INF, 1.0]).log_softmax(0),
    "sum_overflow": lambda T: T.full((3,), 3e38).sum(),
    "sum_dim_overflow": lambda T: T.full((3, 2), 3e38).sum(0),
    "mean_overflow": lambda T: T.full((3,), 3e38).mean(),
    "prod_overflow": lambda T: T.full((3,), 1e30).prod(0),
    "cumsum_overflow": lambda T: T.full((3,), 3e38).cumsum(0),
    "cumprod_overflow": lambda T: T.full((3,), 1e30).cumprod(0),
    "norm_overflow": lambda T: T.full((3,), 1e30).norm(),
    "norm_3_overflow": lambda T: T.full((3,), 1e30).norm(3),
    "var_overflow": lambda T: T.tensor([3e38, -3e38]).var(),
    "float16_sum_overflow": lambda T: T.full((3,), 6e4, dtype=T.float16).sum(),
    "float16_cast_overflow": lambda T: T.full((1000,), 100.0, dtype=T.float16).sum(),
}


@pytest.mark.parametrize("fn", ERRORS.values(), ids=ERRORS.keys())
def test_outcome_is_torchs(fn):
    assert outcome(fn, gradlab) == outcome(fn, torch)


@pytest.mark.parametrize("call", [lambda T: T.zeros(10 ** 20), lambda T: T.ones(2, -(2 ** 64))],
                         ids=["zeros", "ones"])
def test_an_oversized_size_is_torchs_type_error(call):
    """PyTorch's text goes on with its C++ stack trace, which gradlab leaves out."""
    texts = []
    for lib in (gradlab, torch):
        with pytest.raises(TypeError) as info:
            call(lib)
        texts.append(str(info.value))
    assert texts[0].endswith('"Overflow when unpacking long long"')
    assert texts[1].startswith(texts[0][:-1] + "\n")


# ---- NaN, infinities and signed zeros ---------------------------------------------------------

SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.0, -2.0, 4.0]
EDGES = {
    "abs": lambda x: x.abs(),
    "sign": lambda x: x.sign(),
    "sgn": lambda x: x.sgn(),
    "relu": lambda x: x.relu(),
    "pow_half": lambda x: x ** 0.5,
    "pow_minus_half": lambda x: x ** -0.5,
    "pow_1.5": lambda x: x ** 1.5,
    "pow_3": lambda x: x ** 3,
    "pow_minus_1": lambda x: x ** -1,
    "pow_minus_2": lambda x: x.pow(-2),
    "sqrt": lambda x: x.sqrt(),
    "cumprod": lambda x: x.cumprod(0),
    "prod": lambda x: x[[0, 5, 6, 7]].prod(),
    "cumprod_nan": lambda x: x[[5, 0, 6, 7]].cumprod(0),
    "cumprod_nan_zero": lambda x: x[[5, 0, 3, 7]].cumprod(0),
}


def _exact(t):
    """The values and their sign bits (so 0. and -0. differ), or "zeros" for PyTorch's
    efficient zeros."""
    if isinstance(t, torch.Tensor) and t._is_zerotensor():
        return "zeros"
    a = t.detach().numpy()
    return a.tolist(), np.signbit(a).tolist()


def _derivatives(lib, fn, values):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    y = fn(x)
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    out = [_exact(y), _exact(g)]
    if g.requires_grad:
        (gg,) = lib.autograd.grad(g.sum(), x, allow_unused=True)
        out.append(_exact(gg))
    return out


@pytest.mark.parametrize("fn", EDGES.values(), ids=EDGES.keys())
def test_special_values_and_their_derivatives(fn):
    """Values, first and second derivatives, bit for bit but for NaN's sign: sign(nan) is 0 (so
    abs's gradient at NaN is 0), (-0.)**-0.5 is -inf as PyTorch's rsqrt kernel gives it, ..."""
    g, t = _derivatives(gradlab, fn, SPECIAL), _derivatives(torch, fn, SPECIAL)
    for order, (gv, tv) in enumerate(zip(g, t)):
        if tv == "zeros":  # PyTorch's efficient zeros
            assert not np.array(gv[0]).any(), f"order {order}"
            continue
        assert gv[0] == tv[0] or np.array_equal(gv[0], tv[0], equal_nan=True), f"order {order}"
        nan = np.isnan(np.array(tv[0], dtype=float))
        assert np.array_equal(np.array(gv[1])[~nan], np.array(tv[1])[~nan]), f"order {order} sign"
    assert len(g) == len(t)


def test_abs_gradient_at_nan_is_zero():
    for lib in (gradlab, torch):
        x = lib.tensor([NAN, -1.0], requires_grad=True)
        x.abs().sum().backward()
        assert x.grad.tolist() == [0.0, -1.0]


# ---- float16 reductions accumulate in float32 -------------------------------------------------

HALF = {
    "sum": lambda x: x.sum(), "sum_dim": lambda x: x.sum(0), "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean(0), "prod_dim": lambda x: (x / 10 + 0.5).prod(0),
    "cumsum": lambda x: x.cumsum(0), "cumprod": lambda x: (x / 100 + 0.99).cumprod(0),
    "var": lambda x: x.var(), "std_dim": lambda x: x.std(0), "norm": lambda x: x.norm(),
    "norm_3": lambda x: x.norm(3), "softmax": lambda x: x.softmax(0),
    "log_softmax": lambda x: x.log_softmax(0), "logsumexp": lambda x: x.logsumexp(0),
}


@pytest.mark.parametrize("fn", HALF.values(), ids=HALF.keys())
@pytest.mark.parametrize("values", [np.full((1000, 2), 100.0),
                                    np.random.default_rng(0).uniform(0, 10, (64, 33))],
                         ids=["hundreds", "uniform"])
def test_float16_reductions_accumulate_in_float32(fn, values):
    g = outcome(lambda T: fn(T.tensor(values, dtype=T.float16)).double().numpy(), gradlab)
    t = outcome(lambda T: fn(T.tensor(values, dtype=T.float16)).double().numpy(), torch)
    assert g[0] == t[0] == "ok"
    g_value = fn(gradlab.tensor(values, dtype=gradlab.float16)).double().numpy()
    t_value = fn(torch.tensor(values, dtype=torch.float16)).double().numpy()
    np.testing.assert_allclose(g_value, t_value, rtol=2e-3, atol=1e-6)


def test_float16_mean_of_a_thousand_hundreds_is_100():
    for lib in (gradlab, torch):
        assert lib.full((1000,), 100.0, dtype=lib.float16).mean().item() == 100.0


# ---- gradlab as sys.modules["torch"] ----------------------------------------------------------

STAND_IN = """
import sys
import gradlab
sys.modules["torch"] = gradlab
import torch
from gradlab.widgets import BackwardStepper, GradHistory
x = torch.tensor([1., 2.], requires_grad=True)
y = (x * x).sum()
print(type(gradlab.make_dot(y, params={"x": x})).__name__, BackwardStepper(y).backend)
h = GradHistory(x)
y.backward()
print(len(h.rows))
"""


def test_gradlab_in_sys_modules_torch_is_not_taken_for_pytorch():
    """Some notebooks put gradlab in sys.modules["torch"] before anything imports PyTorch:
    make_dot and the widgets tell PyTorch's tensors by their type, not by that name."""
    run = subprocess.run([sys.executable, "-c", STAND_IN], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "Drawing gradlab\n1\n"


def test_linalg_is_torchs_namespace():
    """gradlab.linalg is torch.linalg (the internal module of matrix products is gradlab.ops.linalg);
    what it lacks says so."""
    for name in ("norm", "vector_norm", "matrix_norm", "inv", "matmul", "LinAlgError"):
        assert hasattr(torch.linalg, name) and hasattr(gradlab.linalg, name), name
    assert issubclass(gradlab.linalg.LinAlgError, RuntimeError)
    assert gradlab.linalg.LinAlgError.__name__ == torch.linalg.LinAlgError.__name__
    with pytest.raises(AttributeError, match="^gradlab does not implement torch.linalg.svd$"):
        gradlab.linalg.svd
