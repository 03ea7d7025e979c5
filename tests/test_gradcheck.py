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


# not differentiable at the test point (ties, NaN), or rounding to float32 (torch fails them too)
NOT_CHECKABLE = {"prod_dim_zero", "amax_ties", "to_float", "float", "cummax_ties", "cummax_nan"}
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


# ---- forward mode, reentrancy, grad_output, undefined gradients --------------------------------

FORWARD_CASES = [c for c in CASES if c.id in SECOND_ORDER | {"sin", "sqrt", "abs", "where",
                                                              "linalg_solve", "linalg_inv"}]


@pytest.mark.parametrize("case", FORWARD_CASES, ids=[c.id for c in FORWARD_CASES])
def test_gradcheck_forward_ad(case):
    g_fn, g_in = _closure(case, gradlab)
    t_fn, t_in = _closure(case, torch)
    assert torch.autograd.gradcheck(t_fn, t_in, check_forward_ad=True)
    assert gradlab.autograd.gradcheck(g_fn, g_in, check_forward_ad=True) is True


def custom(lib, backward, jvp=None, materialize=True, ones=None):
    """A custom Function computing 2·x with the given backward (and jvp)."""
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            ctx.ones = ones
            return x * 2

    Double.backward = staticmethod(backward)
    if jvp is not None:
        Double.jvp = staticmethod(jvp)
    return Double.apply


def failure(build, **options):
    """gradcheck's error (type name, text) and warnings on gradlab and on torch."""
    out = []
    for lib in (gradlab, torch):
        x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings(record=True) as w, pytest.raises(Exception) as e:
            warnings.simplefilter("always")
            lib.autograd.gradcheck(build(lib), (x,), **options)
        out.append((type(e.value).__name__, str(e.value), [str(m.message) for m in w]))
        x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert lib.autograd.gradcheck(build(lib), (x,), raise_exception=False,
                                          **options) is False
    return out


def test_wrong_forward_derivative_raises_like_torch():
    g, t = failure(lambda lib: custom(lib, lambda ctx, g: 2 * g, jvp=lambda ctx, t: 3 * t),
                   check_forward_ad=True)
    assert t[1].startswith("Jacobian computed with forward mode mismatch for output 0")
    assert g == t


def test_backward_not_reentrant_raises_like_torch():
    calls = []

    def noisy(ctx, grad):
        calls.append(1)
        return grad * (2 + len(calls) * 1e-3)
    g, t = failure(lambda lib: custom(lib, noisy), atol=1e-2)
    assert t[1].startswith("Backward is not reentrant")
    assert g == t


def test_backward_not_multiplied_by_grad_output_like_torch():
    g, t = failure(lambda lib: custom(
        lib, lambda ctx, grad: 2 * grad + (grad.abs().sum() == 0).to(grad.dtype)))
    assert t[1] == "backward not multiplied by grad_output"
    assert g == t


def test_backward_that_cannot_take_undefined_grads_like_torch():
    def backward(ctx, grad):
        return 2 * grad if grad is not None else ctx.ones
    g, t = failure(lambda lib: custom(lib, backward, materialize=False, ones=lib.ones(3).double()))
    assert t[1].startswith("Expected all input grads to be undefined or zero when all output "
                           "grads are undefined or zero.")
    assert t[2][-1].startswith("Backwards compatibility: New undefined gradient support")
    assert g == t


def test_function_without_differentiable_outputs_like_torch():
    g, t = failure(lambda lib: lambda x: x.detach() * 2)
    assert g == t == ("GradcheckError", "Numerical gradient for function expected to be zero", [])


def test_undefined_grad_node_as_torch():
    from gradlab.ops.shape import undefined_grad
    for lib, undefined in ((gradlab, undefined_grad), (torch, torch._C._functions.UndefinedGrad())):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = undefined(x * 2)
        assert y.grad_fn.name() == "torch::autograd::UndefinedGradBackward"
        assert y.tolist() == [2.0, 4.0]
        assert lib.autograd.grad(y, x, lib.ones(2), allow_unused=True) == (None,)
        with lib.autograd.forward_ad.dual_level():
            dual = lib.autograd.forward_ad.make_dual(lib.ones(2), lib.ones(2))
            assert lib.autograd.forward_ad.unpack_dual(undefined(dual)).tangent is None


def test_gradgradcheck_draws_grad_outputs_from_the_global_generator_as_torch():
    """grad_outputs are uniform in [-1, 1), checked as inputs too; the next draw is the same."""
    after = []
    for lib in (gradlab, torch):
        lib.manual_seed(3)
        x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda a: (a * a.sin(), a.exp()), (x,)) is True
        after.append(lib.rand(4, dtype=lib.float64).tolist())
    assert after[0] == after[1]


def test_gradgradcheck_forward_over_reverse():
    for lib in (gradlab, torch):
        x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda a: a.tanh() * a, (x,), check_fwd_over_rev=True)
        with pytest.raises(AssertionError, match="Expected at least one of check_fwd_over_rev"):
            lib.autograd.gradgradcheck(lambda a: a * a, (x,), check_rev_over_rev=False)


def test_gradgradcheck_finds_a_wrong_second_derivative():
    """x² whose backward detaches x: right first derivatives, no second one."""
    def build(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                return 2 * ctx.saved_tensors[0].detach() * grad
        return Square.apply
    for lib in (gradlab, torch):
        x = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(build(lib), (x,))
        assert lib.autograd.gradgradcheck(build(lib), (x,), raise_exception=False) is False


def test_batched_grad_checks_say_gradlab_does_not_implement_them():
    x = gradlab.ones(2, dtype=gradlab.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="gradlab does not implement gradcheck's "
                                                  "check_batched_grad=True"):
        gradlab.autograd.gradcheck(lambda a: a * 2, (x,), check_batched_grad=True)
