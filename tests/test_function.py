"""Custom autograd Functions (gradlab.autograd.Function), differential against PyTorch.

Each scenario defines its Functions on the library it is given, so the same code runs on both.
PyTorch's tutorials on custom Functions run unchanged at the end.
"""
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import gradlab  # noqa: E402
from gradlab.autograd.function import Function as GradlabFunction  # noqa: E402
from helpers import assert_prints_like_torch  # noqa: E402
from outcomes import assert_same_outcome, graph, scenarios  # noqa: E402

SCENARIOS, scenario = scenarios()


def function(L, name, forward, backward=None, **more):
    """A Function subclass of ``L`` named ``name`` (its node is ``<name>Backward``)."""
    body = {"forward": staticmethod(forward), **{k: staticmethod(v) for k, v in more.items()}}
    if backward is not None:
        body["backward"] = staticmethod(backward)
    return type(name, (L.autograd.Function,), body)


def legendre(L):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 1.5 * (5 * x ** 2 - 1)
    return function(L, "LegendrePolynomial3", forward, backward)


def leaf(L, values=(1., 2.), **kw):
    return L.tensor(list(values), requires_grad=True, **kw)


def product(L, grads):
    """Mul(a, b) whose backward returns ``grads(g, a, b)``."""
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return grads(g, a, b)
    return function(L, "Product", forward, backward)


# ---- the node ---------------------------------------------------------------------------------

@scenario
def node_named_as_torch_names_it(L):
    x = leaf(L)
    y = legendre(L).apply(x)
    fn = y.grad_fn
    return (repr(y), type(fn).__name__, fn.name(), graph(fn), repr(fn).split(" object")[0],
            fn.needs_input_grad, fn._sequence_nr() >= 0, fn.metadata)


@scenario
def values_and_gradients(L):
    x = leaf(L, (0.5, -1.5, 2.0))
    y = legendre(L).apply(x * 2)
    y.sum().backward()
    return y, x.grad


@scenario
def saved_tensors_on_the_node(L):
    x = leaf(L)
    y = legendre(L).apply(x)
    fn = y.grad_fn
    before = fn.saved_tensors
    y.sum().backward()
    return before, len(fn._raw_saved_tensors), fn.to_save, fn.saved_tensors


@scenario
def backward_twice_is_the_freed_error(L):
    x = leaf(L)
    y = legendre(L).apply(x)
    y.sum().backward()
    y.sum().backward()


@scenario
def retain_graph_backs_twice(L):
    x = leaf(L)
    y = legendre(L).apply(x)
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    return x.grad


@scenario
def saved_input_modified_in_place(L):
    b = leaf(L).clone()
    y = legendre(L).apply(b)
    b.add_(1)
    y.sum().backward()


@scenario
def saved_output_modified_in_place(L):
    def forward(ctx, a):
        r = a.exp()
        ctx.save_for_backward(r)
        return r

    def backward(ctx, g):
        r, = ctx.saved_tensors
        return g * r
    y = function(L, "SavedOut", forward, backward).apply(leaf(L))
    fn = y.grad_fn
    y.add_(1)
    return fn.saved_tensors


@scenario
def saved_output_unpacks_with_the_node(L):
    seen = []

    def forward(ctx, a):
        r = a.exp()
        ctx.save_for_backward(r)
        return r

    def backward(ctx, g):
        r, = ctx.saved_tensors
        seen.append((r.grad_fn is ctx, r.requires_grad))
        return g * r
    x = leaf(L)
    y = function(L, "SavedOut", forward, backward).apply(x)
    y.sum().backward()
    return seen, x.grad


@scenario
def saved_intermediate_and_none(L):
    def forward(ctx, a):
        r = a.exp()
        ctx.save_for_backward(r, None)
        return r * 2

    def backward(ctx, g):
        r, none = ctx.saved_tensors
        return g * r * 2 if none is None else g
    x = leaf(L)
    y = function(L, "Inter", forward, backward).apply(x)
    saved = y.grad_fn.saved_tensors
    y.sum().backward()
    return saved, x.grad


@scenario
def save_a_number(L):
    def forward(ctx, a):
        ctx.save_for_backward(a, 3)
        return a * 2
    function(L, "SaveNumber", forward, lambda ctx, g: g).apply(leaf(L))


@scenario
def saved_tensors_inside_forward(L):
    seen = []

    def forward(ctx, a):
        ctx.save_for_backward(a)
        seen.append(ctx.saved_tensors)
        return a * 2
    function(L, "InForward", forward, lambda ctx, g: g).apply(leaf(L))
    return seen


@scenario
def saved_variables_is_deprecated(L):
    return function(L, "Plain", lambda ctx, a: a * 2, lambda ctx, g: g).apply(
        leaf(L)).grad_fn.saved_variables


@scenario
def ctx_attributes_and_needs_input_grad(L):
    seen = []

    def forward(ctx, a, b, k, none):
        ctx.k = k
        seen.append(("forward", L.is_grad_enabled(), ctx.needs_input_grad))
        return a * k + b

    def backward(ctx, g):
        seen.append(("backward", L.is_grad_enabled(), ctx.needs_input_grad, ctx.k))
        return g * ctx.k, None, None, None
    x = leaf(L)
    y = function(L, "Affine", forward, backward).apply(x, L.ones(2), 3, None)
    y.sum().backward()
    return seen, graph(y.grad_fn), y.grad_fn.k, x.grad


@scenario
def no_grad_records_nothing(L):
    seen = []

    def forward(ctx, a):
        seen.append(ctx.needs_input_grad)
        return a * 2
    f = function(L, "Twice", forward, lambda ctx, g: g * 2)
    with L.no_grad():
        a = f.apply(leaf(L))
    return seen, a, f.apply(L.ones(2))


@scenario
def hooks_on_the_node(L):
    log = []
    x = leaf(L)
    y = legendre(L).apply(x)
    y.grad_fn.register_prehook(lambda go: log.append(("pre", go)))
    y.grad_fn.register_hook(lambda gi, go: log.append(("post", gi, go)))
    y.register_hook(lambda g: g * 10)
    y.retain_grad()
    y.sum().backward()
    return log, y.grad, x.grad


@scenario
def apply_by_hand(L):
    y = legendre(L).apply(leaf(L))
    return y.grad_fn.apply(L.ones(2))


@scenario
def node_is_not_callable(L):
    y = legendre(L).apply(leaf(L))
    y.grad_fn(L.ones(2))


# ---- what backward returns --------------------------------------------------------------------

@scenario
def too_few_gradients(L):
    product(L, lambda g, a, b: g).apply(leaf(L), leaf(L)).sum().backward()


@scenario
def too_many_gradients(L):
    product(L, lambda g, a, b: (g, g, g)).apply(leaf(L), leaf(L)).sum().backward()


@scenario
def extra_none_gradients(L):
    x, w = leaf(L), leaf(L, (3., 4.))
    product(L, lambda g, a, b: (g * b, g * a, None)).apply(x, w).sum().backward()
    return x.grad, w.grad


@scenario
def gradient_of_the_wrong_shape(L):
    product(L, lambda g, a, b: (L.ones(3), g)).apply(leaf(L), leaf(L)).sum().backward()


@scenario
def gradient_broadcast_and_cast(L):
    x, w = leaf(L), leaf(L)
    product(L, lambda g, a, b: (L.ones(3, 2), L.ones(2, dtype=L.float64))).apply(
        x, w).sum().backward()
    return x.grad, w.grad


@scenario
def gradient_not_a_tensor(L):
    product(L, lambda g, a, b: (3, g)).apply(leaf(L), leaf(L)).sum().backward()


@scenario
def gradient_a_list(L):
    f = function(L, "Listy", lambda ctx, a: a.sum(), lambda ctx, g: [g])
    f.apply(leaf(L)).backward()


@scenario
def gradient_for_a_number(L):
    f = function(L, "Scale", lambda ctx, a, k: a * k, lambda ctx, g: (g, L.ones(1)))
    f.apply(leaf(L), 3).sum().backward()


@scenario
def gradient_for_an_input_needing_none(L):
    x = leaf(L)
    product(L, lambda g, a, b: (g * b, L.ones(5))).apply(x, L.ones(2)).sum().backward()
    return x.grad


@scenario
def integer_gradient_is_cast(L):
    x = leaf(L)
    function(L, "IntGrad", lambda ctx, a: a.sum(),
             lambda ctx, g: L.ones(2, dtype=L.int64)).apply(x).backward()
    return x.grad


@scenario
def no_backward(L):
    function(L, "NoBackward", lambda ctx, a: a * 2).apply(leaf(L)).sum().backward()


@scenario
def backward_and_vjp_both(L):
    f = function(L, "Both", lambda ctx, a: a * 2, lambda ctx, g: g, vjp=lambda ctx, g: g)
    f.apply(leaf(L)).sum().backward()


@scenario
def vjp_instead_of_backward(L):
    x = leaf(L)
    function(L, "Vjp", lambda ctx, a: a * 2, vjp=lambda ctx, g: g * 2).apply(x).sum().backward()
    return x.grad


# ---- what forward returns ---------------------------------------------------------------------

@scenario
def forward_returns_a_list(L):
    return function(L, "List", lambda ctx, a: [a * 2, a * 3], lambda ctx, g: g).apply(leaf(L))


@scenario
def forward_returns_a_number(L):
    return function(L, "Number", lambda ctx, a: 3, lambda ctx, g: g).apply(leaf(L))


@scenario
def forward_returns_none(L):
    return function(L, "Nothing", lambda ctx, a: None, lambda ctx, g: g).apply(leaf(L))


@scenario
def forward_returns_tensors_and_numbers(L):
    seen = []

    def backward(ctx, *grads):
        seen.append(grads)
        return grads[0]
    x = leaf(L)
    out = function(L, "Mixed", lambda ctx, a: (a * 2, 5, "s", None), backward).apply(x)
    out[0].sum().backward()
    return out, seen, x.grad


@scenario
def integer_output_is_not_differentiable(L):
    seen = []

    def backward(ctx, g1, g2):
        seen.append((g1, g2))
        return g2
    x = leaf(L)
    a, b = function(L, "IntOut", lambda ctx, a: (a.long(), a * 2), backward).apply(x)
    b.sum().backward()
    return a, b, seen, x.grad


@scenario
def forward_not_implemented(L):
    return type("NoForward", (L.autograd.Function,), {}).apply(leaf(L))


@scenario
def instantiating_warns_and_calling_raises(L):
    f = legendre(L)()
    f(leaf(L))


@scenario
def legacy_forward_through_apply(L):
    class Legacy(L.autograd.Function):
        def forward(self, a):
            return a * 2

        def backward(self, g):
            return g * 2
    x = leaf(L)
    y = Legacy.apply(x)
    y.sum().backward()
    return y, x.grad


@scenario
def keyword_arguments(L):
    seen = []

    def forward(ctx, a, scale=2.0, *, shift=0.0):
        ctx.scale = scale
        return a * scale + shift

    def backward(ctx, g):
        seen.append(ctx.needs_input_grad)
        return g * ctx.scale, None
    f = function(L, "Keywords", forward, backward)
    x = leaf(L)
    f.apply(x, scale=3.0).sum().backward()
    f.apply(x).sum().backward()
    return seen, x.grad


@scenario
def keyword_only_argument(L):
    def forward(ctx, a, *, shift=0.0):
        return a + shift
    function(L, "KeywordOnly", forward, lambda ctx, g: g).apply(leaf(L), shift=1.0)


# ---- setup_context ----------------------------------------------------------------------------

@scenario
def setup_context_style(L):
    seen = []

    def forward(a, k=1):
        seen.append(("forward", L.is_grad_enabled()))
        return a * k, a + 1

    def setup_context(ctx, inputs, output):
        seen.append(("setup", L.is_grad_enabled(), len(inputs), inputs[1], type(output).__name__,
                     output[0].requires_grad))
        ctx.k = inputs[1]
        ctx.save_for_backward(inputs[0])

    def backward(ctx, g1, g2):
        a, = ctx.saved_tensors
        return g1 * ctx.k + g2 * a, None
    f = function(L, "Setup", forward, backward, setup_context=setup_context)
    x = leaf(L)
    y1, y2 = f.apply(x, k=3)
    (y1 + y2).sum().backward()
    z = f.apply(x)
    return seen, y1.grad_fn is y2.grad_fn, graph(y1.grad_fn), x.grad, z


# ---- mark_dirty, mark_non_differentiable, set_materialize_grads --------------------------------

def in_place(L, dirty=True, returned=True):
    def forward(ctx, a):
        a.mul_(2)
        if dirty:
            ctx.mark_dirty(a)
        return a if returned else a * 1
    return function(L, "InPlace", forward, lambda ctx, g: g * 2)


@scenario
def mark_dirty(L):
    x = leaf(L)
    b = x.clone()
    out = in_place(L).apply(b)
    same = out is b
    out.sum().backward()
    return same, b._version, graph(b.grad_fn), x.grad


@scenario
def mark_dirty_on_a_leaf(L):
    in_place(L).apply(leaf(L))


@scenario
def dirty_but_not_returned(L):
    in_place(L, returned=False).apply(leaf(L).clone())


@scenario
def input_returned_as_is_is_a_view(L):
    x = leaf(L)
    b = x.clone()
    out = in_place(L, dirty=False).apply(b)
    facts = (out is b, out._base is b, out._version, type(out.grad_fn).__name__)
    out.sum().backward()
    return facts, x.grad


@scenario
def view_output_modified_in_place(L):
    out = in_place(L, dirty=False).apply(leaf(L).clone())
    out.mul_(2)


@scenario
def view_output_after_its_base_changed(L):
    b = leaf(L).clone()
    out = in_place(L, dirty=False).apply(b)
    b.mul_(2)
    return out.grad_fn


@scenario
def view_made_in_forward_modified_in_place(L):
    f = function(L, "First", lambda ctx, a: a[0:1],
                 lambda ctx, g: L.cat([g, L.zeros(1)]))
    out = f.apply(leaf(L).clone())
    out.mul_(2)


def argmax_function(L):
    seen = []

    def forward(ctx, a):
        idx = a.argmax()
        m = a.max()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(a, idx)
        return m, idx

    def backward(ctx, gm, gi):
        seen.append((gm, gi))
        a, idx = ctx.saved_tensors
        r = L.zeros_like(a)
        r[idx] = gm
        return r
    return function(L, "ArgMax", forward, backward), seen


@scenario
def mark_non_differentiable(L):
    f, seen = argmax_function(L)
    x = leaf(L)
    m, i = f.apply(x)
    m.backward()
    return m, i, seen, x.grad


@scenario
def backward_from_a_non_differentiable_output(L):
    f, _ = argmax_function(L)
    m, i = f.apply(leaf(L))
    i.float().backward()


def two_outputs(L, materialize):
    seen = []

    def forward(ctx, a):
        ctx.set_materialize_grads(materialize)
        return a * 2, a * 3

    def backward(ctx, g1, g2):
        seen.append((g1, g2))
        return (g1 if g1 is not None else 0) + (g2 * 3 if g2 is not None else 0)
    return function(L, "TwoOut", forward, backward), seen


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads(materialize):
    def run(L):
        f, seen = two_outputs(L, materialize)
        x = leaf(L)
        f.apply(x)[0].sum().backward()
        return seen, x.grad
    assert_same_outcome(run)


# ---- higher order -----------------------------------------------------------------------------

def cube(L, once=False):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    def backward(ctx, g):
        a, = ctx.saved_tensors
        return 3 * a ** 2 * g
    if once:
        backward = L.autograd.function.once_differentiable(backward)
    return function(L, "Cube", forward, backward)


@scenario
def double_backward(L):
    x = leaf(L)
    y = cube(L).apply(x)
    g, = L.autograd.grad(y.sum(), x, create_graph=True)
    g.sum().backward()
    return g, graph(g.grad_fn), x.grad


@scenario
def double_backward_through_a_saved_second_output(L):
    def forward(ctx, x):
        expx, expnegx = L.exp(x), L.exp(-x)
        ctx.save_for_backward(expx, expnegx)
        return (expx - expnegx) / 2, expx, expnegx

    def backward(ctx, grad_out, grad_exp, grad_negexp):
        expx, expnegx = ctx.saved_tensors
        grad_input = grad_out * (expx + expnegx) / 2
        grad_input += grad_exp * expx
        grad_input -= grad_negexp * expnegx
        return grad_input
    x = L.tensor([0.5, -1.0], dtype=L.float64, requires_grad=True)
    out = function(L, "Sinh", forward, backward).apply(x)[0]
    g, = L.autograd.grad(out.sum(), x, create_graph=True)
    g.sum().backward()
    return g, x.grad, graph(g.grad_fn)


@scenario
def once_differentiable_under_create_graph(L):
    x = leaf(L)
    y = cube(L, once=True).apply(x)
    g, = L.autograd.grad(y, x, L.ones(2, requires_grad=True), create_graph=True)
    facts = (g, type(g.grad_fn).__name__, g.grad_fn.name(), graph(g.grad_fn))
    try:
        g.sum().backward()
    except RuntimeError as e:
        return facts, str(e)


@scenario
def once_differentiable_plain(L):
    x = leaf(L)
    g, = L.autograd.grad(cube(L, once=True).apply(x).sum(), x, create_graph=True)
    return g, cube(L, once=True).backward.__name__


# ---- forward mode: jvp -------------------------------------------------------------------------

def scaled(L, jvp, save=False):
    """x * y * k with the given jvp (x, y tensors, k a number)."""
    def forward(ctx, x, k, y):
        if save:
            ctx.save_for_forward(x, y)
        ctx.save_for_backward(y)
        seen = L.autograd.forward_ad.unpack_dual(x).tangent  # forward runs without forward AD
        ctx.seen = seen
        return x * y * k
    return function(L, "Scaled", forward, lambda ctx, g: (g, None, g), jvp=jvp)


def dual_call(L, fn, *rest, tangent=(1., -2.)):
    fw = L.autograd.forward_ad
    with fw.dual_level():
        x = fw.make_dual(L.tensor([1., 2.]), L.tensor(list(tangent)))
        out = fn.apply(x, *rest)
        outs = out if isinstance(out, tuple) else (out,)
        return [fw.unpack_dual(o) for o in outs]


@scenario
def jvp_gives_the_tangent_with_saved_for_forward_and_zeros_for_the_rest(L):
    got = []

    def jvp(ctx, tx, tk, ty):
        got.extend([tx, tk, ty, ctx.saved_tensors, ctx.seen])
        x, y = ctx.saved_tensors
        return (tx * y + ty * x) * 3
    (out,) = dual_call(L, scaled(L, jvp, save=True), 3, L.tensor([3., 4.]))
    return out.primal, out.tangent, got


@scenario
def backward_after_jvp_reads_the_tensors_saved_for_backward(L):
    seen = []
    fn = scaled(L, lambda ctx, tx, tk, ty: tx * 3, save=True)
    fw = L.autograd.forward_ad
    x = L.tensor([1., 2.], requires_grad=True)
    with fw.dual_level():
        out = fn.apply(fw.make_dual(x, L.ones(2)), 3, L.tensor([3., 4.]))
        out.grad_fn.register_prehook(lambda g: seen.append(out.grad_fn.saved_tensors))
        out.sum().backward()
        return fw.unpack_dual(out).tangent, x.grad, seen


@scenario
def jvp_missing_is_pytorchs_error(L):
    dual_call(L, legendre(L))


@scenario
def jvp_with_too_many_tangents(L):
    dual_call(L, scaled(L, lambda ctx, tx, tk, ty: (tx, tx)), 3, L.tensor([3., 4.]))


@scenario
def jvp_returning_a_number(L):
    dual_call(L, scaled(L, lambda ctx, tx, tk, ty: 5), 3, L.tensor([3., 4.]))


@scenario
def jvp_returning_a_list(L):
    dual_call(L, scaled(L, lambda ctx, tx, tk, ty: [tx]), 3, L.tensor([3., 4.]))


@scenario
def jvp_of_the_wrong_size(L):
    dual_call(L, scaled(L, lambda ctx, tx, tk, ty: L.ones(3)), 3, L.tensor([3., 4.]))


@scenario
def jvp_not_materialized_gives_none(L):
    got = []

    def forward(ctx, x, y):
        ctx.set_materialize_grads(False)
        return x + y, x * y

    def jvp(ctx, tx, ty):
        got.append(ty)
        return tx, tx * 2
    fn = function(L, "Pair", forward, lambda ctx, g, h: (g, h), jvp=jvp)
    outs = dual_call(L, fn, L.tensor([5., 6.]))
    return [o.tangent for o in outs], got


@scenario
def jvp_with_setup_context_and_no_grad(L):
    def forward(x):
        return x.exp()

    def setup_context(ctx, inputs, output):
        ctx.result = output

    def jvp(ctx, t):
        return t * ctx.result
    fn = function(L, "Exp", forward, lambda ctx, g: g, setup_context=setup_context, jvp=jvp)
    with L.no_grad():
        (out,) = dual_call(L, fn)
    return out.tangent, dual_call(L, fn)[0].tangent


@scenario
def no_dual_level_calls_no_jvp(L):
    return scaled(L, lambda ctx, tx, tk, ty: 1 / 0).apply(L.tensor([1., 2.]), 3, L.ones(2))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name):
    assert_same_outcome(SCENARIOS[name])


def test_public_names():
    assert gradlab.autograd.Function is GradlabFunction
    assert gradlab.autograd.function.Function is GradlabFunction
    assert callable(gradlab.autograd.function.once_differentiable)
    with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
        GradlabFunction.jvp(None, None)


def test_jvp_is_kept_on_the_class():
    def jvp(ctx, t):
        return t * 2
    f = function(gradlab, "WithJvp", lambda ctx, a: a * 2, lambda ctx, g: g * 2, jvp=jvp)
    assert f.jvp is jvp


# ---- PyTorch's tutorials, run unchanged -------------------------------------------------------

# pytorch/tutorials beginner_source/examples_autograd/polynomial_custom_function.py
# (comments and docstrings left out; 300 of its 2000 steps)
LEGENDRE_TUTORIAL = '''
import torch
import math


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


dtype = torch.float
device = torch.device("cpu")
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
for t in range(300):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
'''

# pytorch/tutorials beginner_source/examples_autograd/two_layer_net_custom_function.py
# (comments and docstrings left out; 20 of its 500 steps)
RELU_TUTORIAL = '''
import torch


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


dtype = torch.float
device = torch.device("cpu")
N, D_in, H, D_out = 64, 1000, 100, 10
x = torch.randn(N, D_in, device=device, dtype=dtype)
y = torch.randn(N, D_out, device=device, dtype=dtype)
w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for t in range(20):
    relu = MyReLU.apply
    y_pred = relu(x.mm(w1)).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
'''

# pytorch/tutorials intermediate_source/custom_function_double_backward_tutorial.rst: its
# Functions and checks; the graphs it draws with torchviz are printed as grad_fn chains (gradlab's
# gradgradcheck seeds with ones, PyTorch's with random numbers: no values after one are printed)
DOUBLE_BACKWARD_TUTORIAL = '''
import torch


def chain(fn, depth=6):
    if fn is None or depth == 0:
        return None
    if hasattr(fn, "variable"):
        return "AccumulateGrad"
    return fn.name(), [chain(f, depth - 1) for f, _ in fn.next_functions]


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        x, = ctx.saved_tensors
        return grad_out * 2 * x

x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
print(torch.autograd.gradcheck(Square.apply, x))
print(torch.autograd.gradgradcheck(Square.apply, x))

x = torch.tensor(1., requires_grad=True).clone()
out = Square.apply(x)
grad_x, = torch.autograd.grad(out, x, create_graph=True)
print(grad_x, chain(grad_x.grad_fn))


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        result, = ctx.saved_tensors
        return result * grad_out

x = torch.tensor(1., requires_grad=True, dtype=torch.double).clone()
print(torch.autograd.gradcheck(Exp.apply, x))
print(torch.autograd.gradgradcheck(Exp.apply, x))
out = Exp.apply(x)
grad_x, = torch.autograd.grad(out, x, create_graph=True)
print(grad_x, chain(grad_x.grad_fn))


class Sinh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.save_for_backward(expx, expnegx)
        return (expx - expnegx) / 2, expx, expnegx

    @staticmethod
    def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
        expx, expnegx = ctx.saved_tensors
        grad_input = grad_out * (expx + expnegx) / 2
        grad_input += _grad_out_exp * expx
        grad_input -= _grad_out_negexp * expnegx
        return grad_input

def sinh(x):
    return Sinh.apply(x)[0]

x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
print(torch.autograd.gradcheck(sinh, x))
print(torch.autograd.gradgradcheck(sinh, x))
out = sinh(x)
grad_x, = torch.autograd.grad(out.sum(), x, create_graph=True)
cosh = (torch.exp(x) + torch.exp(-x)) / 2
print(torch.allclose(grad_x, cosh), grad_x.shape, chain(grad_x.grad_fn))


class SinhBad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.expx = expx
        ctx.expnegx = expnegx
        return (expx - expnegx) / 2

    @staticmethod
    def backward(ctx, grad_out):
        expx = ctx.expx
        expnegx = ctx.expnegx
        grad_input = grad_out * (expx + expnegx) / 2
        return grad_input

out = SinhBad.apply(x)
grad_x, = torch.autograd.grad(out.sum(), x, create_graph=True)
print(torch.allclose(grad_x, cosh), grad_x.requires_grad, chain(grad_x.grad_fn))


def cube_forward(x):
    return x**3

def cube_backward(grad_out, x):
    return grad_out * 3 * x**2

def cube_backward_backward(grad_out, sav_grad_out, x):
    return grad_out * sav_grad_out * 6 * x

def cube_backward_backward_grad_out(grad_out, x):
    return grad_out * 3 * x**2

class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cube_forward(x)

    @staticmethod
    def backward(ctx, grad_out):
        x, = ctx.saved_tensors
        return CubeBackward.apply(grad_out, x)

class CubeBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, grad_out, x):
        ctx.save_for_backward(x, grad_out)
        return cube_backward(grad_out, x)

    @staticmethod
    def backward(ctx, grad_out):
        x, sav_grad_out = ctx.saved_tensors
        dx = cube_backward_backward(grad_out, sav_grad_out, x)
        dgrad_out = cube_backward_backward_grad_out(grad_out, x)
        return dgrad_out, dx

x = torch.tensor(2., requires_grad=True, dtype=torch.double)

print(torch.autograd.gradcheck(Cube.apply, x))
print(torch.autograd.gradgradcheck(Cube.apply, x))
out = Cube.apply(x)
grad_x, = torch.autograd.grad(out, x, create_graph=True)
print(grad_x, chain(grad_x.grad_fn))
'''



def run_tutorial(program, L):
    """What ``program`` prints with ``import torch`` answered by ``L``."""
    import contextlib
    import io
    L.manual_seed(0)
    out = io.StringIO()
    saved = sys.modules["torch"]
    sys.modules["torch"] = L
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(program, "<tutorial>", "exec"), {"__name__": "__main__"})
    finally:
        sys.modules["torch"] = saved
    return out.getvalue()


def assert_close_prints(got, expected, rtol, atol):
    """The same text between the numbers, and the numbers close: a training loop's float32
    sums of thousands of terms come out an ulp apart in another order, step after step."""
    number = r"-?\d+\.?\d*(?:e-?\d+)?"
    assert re.split(number, got) == re.split(number, expected)
    np.testing.assert_allclose([float(v) for v in re.findall(number, got)],
                               [float(v) for v in re.findall(number, expected)], rtol, atol)


def test_legendre_tutorial():
    """Its losses print the same; a and c end near 0 (1e-9), where the order of a float32 sum
    of 2000 terms decides the digits."""
    expected = run_tutorial(LEGENDRE_TUTORIAL, torch)
    got = run_tutorial(LEGENDRE_TUTORIAL, gradlab)
    assert got.splitlines()[:3] == expected.splitlines()[:3]
    assert_close_prints(got, expected, 1e-6, 1e-7)


def test_custom_relu_tutorial():
    expected = run_tutorial(RELU_TUTORIAL, torch)
    assert expected.count("\n") == 20
    assert_close_prints(run_tutorial(RELU_TUTORIAL, gradlab), expected, 1e-5, 0)


def test_double_backward_tutorial():
    expected = run_tutorial(DOUBLE_BACKWARD_TUTORIAL, torch)
    assert expected.count("True") == 10 and "CubeBackwardBackward" in expected
    assert_prints_like_torch(run_tutorial(DOUBLE_BACKWARD_TUTORIAL, gradlab), expected,
                             lambda L: run_tutorial(DOUBLE_BACKWARD_TUTORIAL, L))


def test_make_dot_draws_the_node_as_torch_names_it():
    from gradlab.viz import model

    def labels(L):
        x = leaf(L)
        y = legendre(L).apply(x * 2).sum()
        return [(n.kind, n.label) for n in model.build(y, {"x": x, "y": y}).nodes]
    assert labels(gradlab) == labels(torch)
    x = leaf(gradlab)
    assert "LegendrePolynomial3Backward" in gradlab.make_dot(legendre(gradlab).apply(x)).source
