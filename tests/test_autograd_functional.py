"""gradlab.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against torch's.

Each scenario runs with torch and with gradlab: values, dtypes, grad_fns, what a create_graph
result differentiates to, error types and texts must be the same (tests/outcomes.py); printed
results and the examples of PyTorch's own docstrings print the same.
"""
import contextlib
import doctest
import io
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")
import torch.autograd.functional as torch_functional  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

import gradlab  # noqa: E402
from outcomes import assert_same_outcome, graph  # noqa: E402

NAMES = ("vjp", "jvp", "jacobian", "hessian", "hvp", "vhp")


def _warm_up_torch():
    """torch's first forward-mode Jacobian imports modules that warn (torch.jit.script is
    deprecated) from inside torch, which a user's program does not show: import them now."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_functional.jacobian(torch.sin, torch.ones(1), vectorize=True,
                                  strategy="forward-mode")


_warm_up_torch()


def F(L, name):
    return getattr(L.autograd.functional, name)


# ---------------------------------------------------------------- the functions differentiated

def _inputs(L, *shapes, requires_grad=False):
    L.manual_seed(0)
    ts = tuple(L.rand(*s) * 2 - 1 for s in shapes)
    return tuple(t.requires_grad_() for t in ts) if requires_grad else ts


# name: (input shapes, a tuple of inputs?, func(L), scalar output?)
CASES = {
    "pow_reducer": ([(2, 2)], False, lambda L: lambda x: x.pow(3).sum(), True),
    "exp_reducer": ([(3, 3)], False, lambda L: lambda x: x.exp().sum(dim=1), False),
    "square": ([(3,)], False, lambda L: lambda x: x ** 2, False),
    "zero_dim": ([()], False, lambda L: lambda x: x.sin() * x, True),
    "linear": ([(4, 2)], False, lambda L: lambda x: x @ L.tensor([[2., -1.], [0., 1.]]).T
               + L.tensor([1., .5]), False),
    "tuple_in_out": ([(3,), (3,)], True, lambda L: lambda x, y: (x * y, x.tanh().sum()), False),
    "tuple_in_scalar": ([(2,), (2,)], True,
                        lambda L: lambda x, y: (2 * x.pow(2) + 3 * y.pow(2) * x).sum(), True),
    "unused_input": ([(2,), (2,)], True, lambda L: lambda x, y: (x ** 3).sum(), True),
    "one_tuple_in": ([(2,)], True, lambda L: lambda x: (x * x.exp(),), False),
    "constant": ([(2,)], False, lambda L: lambda x: L.ones(2), False),
    "double_output": ([(3,)], False, lambda L: lambda x: (x.double() ** 2).sum(), True),
}
SCALAR = [c for c, spec in CASES.items() if spec[3]]


def _call(L, case, api, requires_grad=False, **kwargs):
    """``api`` applied to the case's function at its inputs (and v: ones shaped like what
    the product needs)."""
    shapes, as_tuple, func, _ = CASES[case]
    inputs = _inputs(L, *shapes, requires_grad=requires_grad)
    f = func(L)
    args = inputs if as_tuple else inputs[0]
    if api in ("jvp", "hvp", "vhp"):
        kwargs["v"] = tuple(L.ones_like(t) for t in inputs) if as_tuple else L.ones_like(args)
    if api == "vjp":
        with L.no_grad():
            out = f(*inputs)
        kwargs["v"] = tuple(L.ones_like(o) for o in out) if isinstance(out, tuple) \
            else L.ones_like(out)
    return inputs, F(L, api)(f, args, **kwargs)


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _flat(r)]
    return [result]


def _differentiated(L, inputs, result):
    """The result, and the gradients of the sum of its parts that require grad."""
    parts = [t.sum() for t in _flat(result) if t.requires_grad]
    if not parts:
        return result, None
    return result, L.autograd.grad(sum(parts), inputs, allow_unused=True)


FORWARD = {"strategy": "forward-mode", "vectorize": True}
JACOBIAN_OPTIONS = [{}, {"vectorize": True}, FORWARD, {"strict": True}]
HESSIAN_OPTIONS = [{}, {"vectorize": True}, {"strict": True},
                   {"outer_jacobian_strategy": "forward-mode", "vectorize": True}]


@pytest.mark.parametrize("case,options,requires_grad", [
    (c, o, r) for c in CASES for o in JACOBIAN_OPTIONS for r in (False, True)
    if not (c == "linear" and o == FORWARD and r)], ids=str)
def test_jacobian(case, options, requires_grad):
    assert_same_outcome(lambda L: _call(L, case, "jacobian", requires_grad, **options)[1],
                        digits=6)


def test_forward_mode_tangents_of_a_linear_function_record_a_graph():
    """PyTorch's tangents of mul, matmul, ... record a graph when the primal requires grad, even
    where the Jacobian does not depend on it (the double-backward trick's columns did not)."""
    assert_same_outcome(lambda L: _call(L, "linear", "jacobian", True, **FORWARD)[1], digits=6)


@pytest.mark.parametrize("options", HESSIAN_OPTIONS, ids=str)
@pytest.mark.parametrize("case", SCALAR)
def test_hessian(case, options):
    assert_same_outcome(lambda L: _call(L, case, "hessian", **options)[1], digits=6)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("api", ["vjp", "jvp"])
@pytest.mark.parametrize("case", CASES)
def test_vector_products(case, api, strict):
    assert_same_outcome(lambda L: _call(L, case, api, strict=strict)[1], digits=6)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("api", ["hvp", "vhp"])
@pytest.mark.parametrize("case", SCALAR)
def test_hessian_vector_products(case, api, strict):
    assert_same_outcome(lambda L: _call(L, case, api, strict=strict)[1], digits=6)


CREATE_GRAPH = ([(case, "jacobian", o) for case in CASES for o in ({}, {"vectorize": True})]
                + [(case, "hessian", o) for case in SCALAR for o in ({}, {"vectorize": True})]
                + [(case, api, {}) for case in CASES for api in ("vjp", "jvp")]
                + [(case, api, {}) for case in SCALAR for api in ("hvp", "vhp")])


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("case,api,options", CREATE_GRAPH, ids=str)
def test_create_graph_results_differentiate_as_torchs(case, api, options, requires_grad):
    def scenario(L):
        inputs, result = _call(L, case, api, requires_grad, create_graph=True, **options)
        return _differentiated(L, inputs, result)
    assert_same_outcome(scenario, digits=6)


@pytest.mark.parametrize("case,api", [("pow_reducer", "jacobian"), ("tuple_in_out", "jacobian"),
                                      ("exp_reducer", "vjp"), ("exp_reducer", "jvp"),
                                      ("tuple_in_scalar", "hvp"), ("tuple_in_scalar", "vhp"),
                                      ("pow_reducer", "hessian")])
def test_create_graph_results_have_torchs_graph(case, api):
    graphs = [[graph(t.grad_fn) for t in _flat(_call(L, case, api, True, create_graph=True)[1])]
              for L in (torch, gradlab)]
    assert graphs[1] == graphs[0]


def test_third_order_through_hessian_of_create_graph():
    def scenario(L):
        x = _inputs(L, (3,), requires_grad=True)[0]
        h = F(L, "hessian")(lambda x: (x.sin() * x.pow(3)).sum(), x, create_graph=True)
        (g,) = L.autograd.grad((h * L.eye(3)).sum(), x, create_graph=True)
        return h, g, L.autograd.grad(g.sum(), x)
    assert_same_outcome(scenario, digits=5)


def test_caller_inputs_are_left_alone():
    def scenario(L):
        x = _inputs(L, (2,), requires_grad=True)[0]
        y = _inputs(L, (2,))[0]
        for name in NAMES:
            f = (lambda a, b: (a * b).sum()) if name in ("hessian", "hvp", "vhp") \
                else (lambda a, b: a * b)
            v = {"jacobian": {}, "hessian": {}, "vjp": {"v": L.ones(2)}}.get(
                name, {"v": (L.ones(2), L.ones(2))})
            F(L, name)(f, (x, y), **v)
        return x.requires_grad, y.requires_grad, x.grad, y.grad, x._version, y._version
    assert_same_outcome(scenario)


def test_grad_mode_inside_and_after():
    def scenario(L):
        x = _inputs(L, (2,))[0]
        seen = []

        def f(x):
            seen.append(L.is_grad_enabled())
            return x.exp()
        with L.no_grad():
            results = [F(L, "vjp")(f, x, L.ones(2)), F(L, "jacobian")(f, x),
                       F(L, "jvp")(f, x, L.ones(2), create_graph=True)]
            seen.append(L.is_grad_enabled())
        return seen, results
    assert_same_outcome(scenario, digits=6)


# ---------------------------------------------------------------- errors


def _scalar(x, y=None):
    return (x ** 3).sum() if y is None else (x ** 3 * y).sum()


def _linear(x, y=None):
    return 2 * x if y is None else (2 * x, 3 * y)


ERRORS = {
    # inputs and outputs that are not Tensors
    "inputs_list": lambda L, api: F(L, api)(_scalar, [L.ones(2)]),
    "inputs_tuple_with_int": lambda L, api: F(L, api)(_scalar, (L.ones(2), 3)),
    "output_int": lambda L, api: F(L, api)(lambda x: 3, L.ones(1), **_V1(L, api)),
    "output_list": lambda L, api: F(L, api)(lambda x: [x.sum()], L.ones(1), **_V1(L, api)),
    "output_tuple_with_int": lambda L, api: F(L, api)(lambda x: (x.sum(), 3), L.ones(1)),
    "output_tuple": lambda L, api: F(L, api)(lambda x: (x.sum(),), L.ones(1), **_V1(L, api)),
    "output_two_elements": lambda L, api: F(L, api)(lambda x: x * 2, L.ones(2), **_V2(L, api)),
    # integer inputs cannot require grad
    "int_input": lambda L, api: F(L, api)(lambda x: x * 2, L.tensor([1, 2]), **_V2(L, api)),
    "int_output": lambda L, api: F(L, api)(lambda x: (x > 0).long(), L.ones(2), **_V2(L, api)),
    # v
    "v_none_many_elements": lambda L, api: F(L, api)(lambda x: x.sum() * x, L.ones(2)),
    "v_list": lambda L, api: F(L, api)(_scalar, L.ones(2), v=[L.ones(2)]),
    "v_not_tensor": lambda L, api: F(L, api)(_scalar, (L.ones(2), L.ones(2)), v=(L.ones(2), 1.)),
    "v_too_long": lambda L, api: F(L, api)(_scalar, (L.ones(2), L.ones(2)),
                                           v=(L.ones(2),) * 3),
    "v_tuple_for_single": lambda L, api: F(L, api)(_scalar, L.ones(2), v=(L.ones(2),) * 2),
    "v_wrong_size": lambda L, api: F(L, api)(_scalar, L.ones(2), v=L.ones(3)),
    "v_entry_wrong_size": lambda L, api: F(L, api)(_scalar, (L.ones(2), L.ones(2)),
                                                   v=(L.ones(2), L.ones(1))),
    # strict mode
    "strict_output_without_grad": lambda L, api: F(L, api)(
        lambda x: x.detach().sum(), L.ones(2), strict=True, **_V2(L, api)),
    "strict_unused_input": lambda L, api: F(L, api)(
        lambda x, y: (x ** 3).sum(), (L.ones(2), L.ones(2)), strict=True, **_V22(L, api)),
    "strict_linear": lambda L, api: F(L, api)(
        lambda x: (2 * x).sum(), L.ones(2), strict=True, **_V2(L, api)),
    "strict_linear_create_graph": lambda L, api: F(L, api)(
        lambda x: (2 * x).sum(), L.ones(2), strict=True, create_graph=True, **_V2(L, api)),
    "strict_quadratic_create_graph": lambda L, api: F(L, api)(
        lambda x: (x * x).sum(), L.ones(2), strict=True, create_graph=True, **_V2(L, api)),
    "strict_quadratic_in_one": lambda L, api: F(L, api)(
        lambda x, y: (x * x).sum() + (y ** 3).sum(), (L.ones(2), L.ones(2)), strict=True,
        create_graph=True, **_V22(L, api)),
    "strict_independent_output": lambda L, api: F(L, api)(
        _capturing(L), L.ones(2), strict=True, **_V2(L, api)),
    "strict_hessian_block_of_zeros": lambda L, api: F(L, api)(
        _linear_in_y(L), (L.ones(2), L.ones(2)), strict=True, **_V22(L, api)),
}


def _linear_in_y(L):
    w = L.ones(2, requires_grad=True)
    return lambda x, y: (x ** 3).sum() + (y * w).sum()


def _capturing(L):
    w = L.ones(2, requires_grad=True)
    return lambda x: ((x * 2).sum(), (w * 3).sum())


def _V1(L, api):
    return {"v": L.ones(1)} if api in ("jvp", "hvp", "vhp") else {}


def _V2(L, api):
    return {"v": L.ones(2)} if api in ("jvp", "hvp", "vhp") else {}


def _V22(L, api):
    return {"v": (L.ones(2), L.ones(2))} if api in ("jvp", "hvp", "vhp") else {}


@pytest.mark.parametrize("error,api", [(e, api) for e in ERRORS for api in NAMES
                                       if not (e.startswith("v_") and api in ("jacobian",
                                                                                "hessian"))])
def test_errors(error, api):
    assert_same_outcome(lambda L: ERRORS[error](L, api), digits=6)


# and the edges: empty inputs and outputs
STRATEGY_ERRORS = {
    "unknown_strategy": lambda L: F(L, "jacobian")(_linear, L.ones(2), strategy="forward"),
    "forward_mode_not_vectorized": lambda L: F(L, "jacobian")(
        _linear, L.ones(2), strategy="forward-mode"),
    "forward_mode_create_graph": lambda L: F(L, "jacobian")(
        _linear, L.ones(2), strategy="forward-mode", vectorize=True, create_graph=True),
    "forward_mode_strict": lambda L: F(L, "jacobian")(
        _linear, L.ones(2), strategy="forward-mode", vectorize=True, strict=True),
    "forward_mode_int_input": lambda L: F(L, "jacobian")(
        _linear, L.tensor([1, 2]), strategy="forward-mode", vectorize=True),
    "forward_mode_list_input": lambda L: F(L, "jacobian")(
        _linear, [L.ones(2)], strategy="forward-mode", vectorize=True),
    "forward_mode_int_output": lambda L: F(L, "jacobian")(
        lambda x: 3, L.ones(2), strategy="forward-mode", vectorize=True),
    "forward_mode_list_output": lambda L: F(L, "jacobian")(
        lambda x: [x], L.ones(2), strategy="forward-mode", vectorize=True),
    "vectorize_strict": lambda L: F(L, "jacobian")(_linear, L.ones(2), vectorize=True,
                                                   strict=True),
    "hessian_unknown_strategy": lambda L: F(L, "hessian")(
        _scalar, L.ones(2), outer_jacobian_strategy="reverse"),
    "hessian_forward_not_vectorized": lambda L: F(L, "hessian")(
        _scalar, L.ones(2), outer_jacobian_strategy="forward-mode"),
    "hessian_forward_create_graph": lambda L: F(L, "hessian")(
        _scalar, L.ones(2), outer_jacobian_strategy="forward-mode", vectorize=True,
        create_graph=True),
    "hessian_vectorize_strict": lambda L: F(L, "hessian")(
        _scalar, L.ones(2), vectorize=True, strict=True),
    "hessian_of_empty_input": lambda L: F(L, "hessian")(_scalar, L.ones(0)),
    "jacobian_of_empty_output": lambda L: F(L, "jacobian")(lambda x: x[:0], L.ones(2)),
    "vectorized_jacobian_of_empty_output": lambda L: F(L, "jacobian")(
        lambda x: x[:0], L.ones(2), vectorize=True),
    "forward_mode_empty_input": lambda L: F(L, "jacobian")(
        _linear, L.ones(0), vectorize=True, strategy="forward-mode"),
    "forward_mode_empty_input_in_tuple": lambda L: F(L, "jacobian")(
        lambda x, y: (x * 2, y.sum()), (L.ones(2), L.ones(0)), vectorize=True,
        strategy="forward-mode"),
}


@pytest.mark.parametrize("error", STRATEGY_ERRORS)
def test_strategy_errors(error):
    assert_same_outcome(STRATEGY_ERRORS[error], digits=6)


# ---------------------------------------------------------------- forward mode's quirks


def test_forward_mode_returns_lists_as_torch_does():
    def scenario(L):
        x, y = _inputs(L, (2,), (3,))
        jac = F(L, "jacobian")
        f = (lambda x, y: (x * y.sum(), y.exp()))
        return (jac(f, (x, y), strategy="forward-mode", vectorize=True),
                jac(lambda x, y: x * y.sum(), (x, y), strategy="forward-mode", vectorize=True),
                jac(lambda x: (x, x.sum()), x, strategy="forward-mode", vectorize=True),
                F(L, "hessian")(lambda x, y: (x.exp() * y.sum()).sum(), (x, y),
                                outer_jacobian_strategy="forward-mode", vectorize=True))
    (_, (_, results)), _ = assert_same_outcome(scenario, digits=6)
    assert [r[0] for r in results] == ["list", "list", "tuple", "list"]


def test_forward_mode_dtype_is_the_outputs():
    def scenario(L):
        x = _inputs(L, (2,))[0]
        jac = F(L, "jacobian")
        f = (lambda x: x.double().exp())
        return jac(f, x, strategy="forward-mode", vectorize=True), jac(f, x)
    assert_same_outcome(scenario, digits=6)


@settings(max_examples=30, deadline=None, database=None)
@given(shape=st.lists(st.integers(1, 3), max_size=2).map(tuple),
       out_shape=st.lists(st.integers(1, 3), max_size=2).map(tuple),
       seed=st.integers(0, 2 ** 16), vectorize=st.booleans(), forward=st.booleans())
def test_jacobian_of_random_shapes(shape, out_shape, seed, vectorize, forward):
    """f(x) = W (x.tanh() flattened) reshaped to out_shape, its Jacobian W * (1 - tanh^2)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((int(np.prod(out_shape)), x.size)).astype(np.float32)
    options = {"vectorize": vectorize or forward,
               "strategy": "forward-mode" if forward else "reverse-mode"}
    jacs = [F(L, "jacobian")(lambda t: (L.tensor(w) @ t.tanh().reshape(-1)).reshape(out_shape),
                             L.tensor(x), **options).numpy() for L in (torch, gradlab)]
    assert jacs[1].shape == jacs[0].shape == out_shape + shape
    np.testing.assert_allclose(jacs[1], jacs[0], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- printed


def _printed(L, program):
    L.manual_seed(0)
    out = io.StringIO()
    namespace = {"torch": L, **{n: F(L, n) for n in NAMES}}
    with contextlib.redirect_stdout(out):
        for source in program:
            try:
                exec(compile(source, "<example>", "single"), namespace)
            except Exception as e:  # noqa: BLE001 - printed as a user would see it
                print(type(e).__name__, e)
    return out.getvalue()


@pytest.mark.parametrize("name", NAMES)
def test_pytorch_docstring_examples_print_the_same(name):
    """The examples in PyTorch's own docstrings, run as doctest runs them, on both."""
    program = [e.source for e in doctest.DocTestParser().get_examples(
        getattr(torch_functional, name).__doc__)]
    assert len(program) >= 5
    expected = _printed(torch, program)
    assert "Error" not in expected
    assert _printed(gradlab, program) == expected


PROGRAMS = {
    "jacobian_tuples": ["x, y = torch.rand(2, requires_grad=True), torch.rand(3)",
                        "jacobian(lambda x, y: (x.outer(y), (x.sum() * y).exp()), (x, y))",
                        "jacobian(lambda x, y: (x.outer(y), y), (x, y), create_graph=True)",
                        "jacobian(lambda x, y: x.outer(y).sum(), (x, y), vectorize=True)",
                        "jacobian(lambda y: y.outer(y), y, strategy='forward-mode', "
                        "vectorize=True)"],
    "hessian_tuples": ["x, y = torch.rand(2, 2), torch.rand(2, dtype=torch.float64)",
                       "hessian(lambda x, y: (x.sin() @ y.float()).sum(), (x, y))",
                       "hessian(lambda x, y: (x.sin() @ y.float()).sum(), (x, y), "
                       "create_graph=True)",
                       "hessian(lambda x: x.sin().prod(), x, vectorize=True, "
                       "outer_jacobian_strategy='forward-mode')"],
    "products": ["x = torch.rand(3)",
                 "vjp(lambda x: (x.exp(), x.sum()), x, (torch.ones(3), torch.tensor(2.)))",
                 "jvp(lambda x: (x.exp(), x.sum()), x, torch.ones(3), create_graph=True)",
                 "hvp(lambda x: x.pow(3).sum(), x, torch.ones(3))",
                 "vhp(lambda x: x.pow(3).sum(), (x,), (torch.ones(3),), create_graph=True)",
                 "vjp(lambda x: x.sum(), x)", "jvp(lambda x: x.sum(), x)"],
    "errors": ["jacobian(lambda x: x, [torch.ones(2)])",
               "hessian(lambda x: x, torch.ones(2))",
               "vjp(lambda x: x, torch.ones(2), strict=True)",
               "jvp(lambda x: 2 * x, torch.ones(2), torch.ones(3))"],
}


@pytest.mark.parametrize("program", PROGRAMS)
def test_results_print_as_torchs(program):
    expected = _printed(torch, PROGRAMS[program])
    assert expected.count("tensor(") >= 4 or program == "errors"
    assert _printed(gradlab, PROGRAMS[program]) == expected


# ---------------------------------------------------------------- the module


def test_public_names():
    import inspect

    import gradlab.autograd.functional as functional
    from gradlab.autograd.functional import hessian, jacobian  # noqa: F401
    assert functional.__all__ == torch_functional.__all__
    assert gradlab.autograd.functional is functional
    for name in torch_functional.__all__:
        assert inspect.signature(getattr(functional, name)) == \
            inspect.signature(getattr(torch_functional, name))
