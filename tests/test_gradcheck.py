"""gradlab.autograd.gradcheck on every op (float64), against torch.autograd.gradcheck, and its
verdict on a deliberately wrong derivative."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from gradlab.ops import derivative  # noqa: E402
from gradlab.ops._core import RESULT, record  # noqa: E402
from test_ops import ALL  # noqa: E402

SECOND_ORDER = {"mul", "div", "pow_2", "pow_tensor", "rpow", "exp", "log", "tanh", "sigmoid",
                "relu", "softmax", "log_softmax", "logsumexp", "mm", "matmul_3_2", "sum_dim",
                "mean_dim", "var_dim", "std", "norm", "prod_dim", "prod_zero", "index_list",
                "gather", "cat_dim", "stack"}


def _closure(case, lib):
    """The case as a function of its float inputs only (indices and masks stay fixed)."""
    arrays = case.arrays()
    grad = case.options.get("grad", ())
    diff = [i for i, a in enumerate(arrays) if a.dtype.kind == "f" and (not grad or i in grad)]
    fixed = {i: (lib.tensor(a) if a.dtype.kind != "f" else lib.tensor(a, dtype=lib.float64))
             for i, a in enumerate(arrays) if i not in diff}

    def fn(*xs):
        it = iter(xs)
        args = [fixed[i] if i in fixed else next(it) for i in range(len(arrays))]
        out = case.fn(lib, *args)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return tuple(o for o in outs if o.dtype.is_floating_point)

    inputs = tuple(lib.tensor(arrays[i], dtype=lib.float64, requires_grad=True) for i in diff)
    return fn, inputs


# not differentiable at the test point (ties), or rounding to float32 (torch fails them too)
NOT_CHECKABLE = {"prod_dim_zero", "amax_ties", "to_float", "float"}
CASES = [c for c in ALL if c.id not in NOT_CHECKABLE]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gradcheck_every_op(case):
    g_fn, g_in = _closure(case, gradlab)
    t_fn, t_in = _closure(case, torch)
    assert torch.autograd.gradcheck(t_fn, t_in)
    assert gradlab.autograd.gradcheck(g_fn, g_in) is True


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SECOND_ORDER],
                         ids=[c.id for c in CASES if c.id in SECOND_ORDER])
def test_gradgradcheck(case):
    g_fn, g_in = _closure(case, gradlab)
    t_fn, t_in = _closure(case, torch)
    assert torch.autograd.gradgradcheck(t_fn, t_in)
    assert gradlab.autograd.gradgradcheck(g_fn, g_in) is True


def test_not_checkable_cases_fail_in_torch_too():
    for case in [c for c in ALL if c.id in NOT_CHECKABLE - {"prod_dim_zero"}]:
        g_fn, g_in = _closure(case, gradlab)
        t_fn, t_in = _closure(case, torch)
        assert torch.autograd.gradcheck(t_fn, t_in, raise_exception=False) is False
        assert gradlab.autograd.gradcheck(g_fn, g_in, raise_exception=False) is False


def test_second_order_cases_exist():
    assert SECOND_ORDER <= {c.id for c in CASES}


# ---- a wrong derivative is caught -------------------------------------------------------------

WrongExpBackward0 = derivative(
    "WrongExpBackward0", ("self",), saves=("result",),
    self=("2 · grad · result (deliberately wrong)", lambda grad, result: grad * result * 2))


def wrong_exp(x):
    out = gradlab.Tensor._make(np.exp(x._array), x.dtype)
    return record(WrongExpBackward0, out, (x,), (RESULT,))


class TorchWrongExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * 2


def _inputs(lib):
    return (lib.tensor([0.1, -0.4, 0.7], dtype=lib.float64, requires_grad=True),)


def test_wrong_derivative_returns_false():
    assert wrong_exp(_inputs(gradlab)[0]).grad_fn.name() == "WrongExpBackward0"
    assert torch.autograd.gradcheck(TorchWrongExp.apply, _inputs(torch),
                                    raise_exception=False) is False
    assert gradlab.autograd.gradcheck(wrong_exp, _inputs(gradlab), raise_exception=False) is False


def test_wrong_derivative_raises_like_torch():
    with pytest.raises(RuntimeError) as t:
        torch.autograd.gradcheck(TorchWrongExp.apply, _inputs(torch))
    with pytest.raises(RuntimeError) as g:
        gradlab.autograd.gradcheck(wrong_exp, _inputs(gradlab))
    assert type(g.value).__name__ == type(t.value).__name__ == "GradcheckError"
    assert str(g.value) == str(t.value)


def doubled_through_a_hook(lib, shapes):
    """A function of len(shapes) float64 inputs whose gradient a tensor hook doubles, and its
    inputs: an output of 2 elements and a scalar one, so no Jacobian is square."""
    inputs = [lib.linspace(0.5, 2.0, n, dtype=lib.float64).requires_grad_() for n in shapes]

    def fn(*args):
        s = args[0].sin()
        s.register_hook(lambda g: 2 * g)
        total = sum(a.sum() for a in args)
        return (s * total)[:2], total * s.sum()
    return fn, tuple(inputs)


@pytest.mark.parametrize("shapes", [(3,), (3, 2)])
def test_gradcheck_error_prints_the_jacobians_like_torch(shapes):
    """One row per input element, one column per output element, as PyTorch prints them."""
    messages = []
    for lib in (torch, gradlab):
        fn, inputs = doubled_through_a_hook(lib, shapes)
        with pytest.raises(RuntimeError) as e:
            lib.autograd.gradcheck(fn, inputs)
        messages.append(str(e.value))
    assert messages[0].startswith("Jacobian mismatch for output 0 with respect to input 0,\n")
    assert messages[1] == messages[0]


def test_right_derivative_passes_where_wrong_one_fails():
    x = _inputs(gradlab)
    assert gradlab.autograd.gradcheck(gradlab.exp, x) is True
    assert gradlab.autograd.gradcheck(wrong_exp, x, raise_exception=False) is False


def test_float32_input_warns_like_torch():
    def run(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.autograd.gradcheck(lambda a: a * 2, (x,), raise_exception=False)
        return [str(m.message) for m in w if issubclass(m.category, UserWarning)]
    assert run(gradlab)[:1] == run(torch)[:1] and run(torch)


def test_no_input_requires_grad_raises_like_torch():
    def run(lib):
        with pytest.raises(Exception) as e:
            lib.autograd.gradcheck(lambda a: a * 2, (lib.tensor([1.0], dtype=lib.float64),))
        return e.value
    g, t = run(gradlab), run(torch)
    assert type(g) is type(t) and str(g) == str(t)
