"""backward / autograd.backward / autograd.grad and .grad semantics, compared with PyTorch.

Each scenario is run with torch and with gradlab; results, error types and texts, and warnings
must be identical (see tests/outcomes.py).
"""
import inspect
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from gradlab.autograd import backward_api  # noqa: E402
from outcomes import assert_same_outcome  # noqa: E402

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def err(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)


def leaf(L, values=(1., 2.), **kw):
    return L.tensor(list(values), requires_grad=True, **kw)


# ---------------------------------------------------------------- retain_graph, freed buffers

@scenario
def backward_twice(L):
    x = leaf(L)
    y = (x * x).sum()
    y.backward()
    y.backward()


@scenario
def backward_twice_add_self(L):
    x = leaf(L)
    y = (x + x).sum()
    y.backward()
    y.backward()
    return x.grad


@scenario
def backward_twice_mul_scalar(L):
    x = leaf(L)
    y = (x * 2).sum()
    y.backward()
    y.backward()


@scenario
def retain_graph_then_again(L):
    x = leaf(L)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.clone()
    y.backward()
    return first, x.grad


@scenario
def retain_graph_default_follows_create_graph(L):
    x = leaf(L)
    y = (x ** 3).sum()
    L.autograd.grad(y, x, create_graph=True)
    return L.autograd.grad(y, x)


@scenario
def grad_frees_by_default(L):
    x = leaf(L)
    y = (x ** 3).sum()
    L.autograd.grad(y, x)
    return L.autograd.grad(y, x)


# ---------------------------------------------------------------- backward arguments

@scenario
def gradient_argument(L):
    x = leaf(L)
    (x * 3).backward(gradient=L.tensor([1., 0.5]))
    return x.grad


@scenario
def gradient_scalar_tensor(L):
    x = leaf(L)
    (x * 2).sum().backward(L.tensor(3.))
    return x.grad


@scenario
def gradient_of_other_dtypes_is_cast(L):
    x = leaf(L)
    (x * 2).backward(L.ones(2, dtype=L.float64))
    w = leaf(L)
    (w * 2).backward(L.ones(2, dtype=L.int64))
    return x.grad, w.grad


@scenario
def gradient_wrong_shape(L):
    x = leaf(L)
    (x * 2).backward(L.ones(3))


@scenario
def gradient_not_a_tensor(L):
    x = leaf(L)
    (x * 2).backward([1., 1.])


@scenario
def implicit_grad_non_scalar(L):
    x = leaf(L)
    (x * 2).backward()


@scenario
def implicit_grad_one_element(L):
    x = leaf(L, [3.])
    (x * 2).backward()
    return x.grad


@scenario
def root_does_not_require_grad(L):
    x = L.tensor([1., 2.])
    (x * 2).sum().backward()


@scenario
def root_made_under_no_grad(L):
    x = leaf(L)
    with L.no_grad():
        y = (x * 2).sum()
    y.backward()


@scenario
def backward_inside_no_grad(L):
    x = leaf(L)
    y = (x * x).sum()
    with L.no_grad():
        y.backward()
    return x.grad


@scenario
def backward_of_a_leaf(L):
    x = leaf(L)
    x.backward(L.tensor([2., 3.]))
    return x.grad


@scenario
def inputs_leaf(L):
    a, w = leaf(L), leaf(L, [3., 4.])
    (a * w).sum().backward(inputs=[a])
    return a.grad, w.grad


@scenario
def inputs_single_tensor(L):
    a, w = leaf(L), leaf(L, [3., 4.])
    (a * w).sum().backward(inputs=w)
    return a.grad, w.grad


@scenario
def inputs_non_leaf(L):
    a = leaf(L)
    b = a * 2
    c = (b * b).sum()
    c.backward(inputs=[b], retain_graph=True)
    first = b.grad.clone()
    c.backward(inputs=b, retain_graph=True)
    second = b.grad.clone()
    c.backward()  # b keeps retaining its grad, as PyTorch's backward(inputs=) retain_grad()s it
    return first, second, b.grad, a.grad, b.retains_grad


@scenario
def inputs_not_requiring_grad(L):
    a, w = leaf(L), L.tensor([1., 2.])
    (a * w).sum().backward(inputs=[w])


@scenario
def inputs_unused(L):
    a, w = leaf(L), leaf(L)
    (a * 2).sum().backward(inputs=[w])
    return a.grad, w.grad


@scenario
def inputs_empty(L):
    a = leaf(L)
    (a * 2).sum().backward(inputs=[])


@scenario
def autograd_backward_several(L):
    a = leaf(L)
    L.autograd.backward([(a * 2).sum(), a * 3], [None, L.ones(2)])
    return a.grad


@scenario
def autograd_backward_several_implicit(L):
    a = leaf(L)
    L.autograd.backward([(a * 2).sum(), a * 3])


@scenario
def autograd_backward_too_few_gradients(L):
    a = leaf(L)
    L.autograd.backward([a.sum(), (a * a).sum()], [None])


@scenario
def autograd_backward_same_root_twice(L):
    a = leaf(L)
    s = (a * a).sum()
    L.autograd.backward([s, s], [L.tensor(1.), L.tensor(2.)])
    return a.grad


@scenario
def autograd_backward_tuple_grad_tensors(L):
    a = leaf(L)
    L.autograd.backward((a * 2,), (L.tensor([1., -1.]),))
    return a.grad


# ---------------------------------------------------------------- autograd.grad

@scenario
def grad_basic(L):
    x = leaf(L)
    return L.autograd.grad((x ** 3).sum(), x)


@scenario
def grad_lists(L):
    x = leaf(L)
    return L.autograd.grad([(x ** 3).sum()], [x])


@scenario
def grad_outputs_argument(L):
    x = leaf(L)
    return L.autograd.grad(x ** 3, x, grad_outputs=L.tensor([1., 0.5]))


@scenario
def grad_outputs_none_entry(L):
    x = leaf(L)
    return L.autograd.grad([(x * 2).sum()], x, grad_outputs=[None])


@scenario
def grad_outputs_wrong_shape(L):
    x = leaf(L)
    return L.autograd.grad(x * 2, x, L.ones(3))


@scenario
def grad_several_outputs(L):
    x = leaf(L)
    return L.autograd.grad((x.sum(), (x * x).sum()), x)


@scenario
def grad_unused_input(L):
    x, w = leaf(L), leaf(L, [1.])
    return L.autograd.grad((x ** 3).sum(), [x, w])


@scenario
def grad_allow_unused(L):
    x, w = leaf(L), leaf(L, [1.])
    return L.autograd.grad((x ** 3).sum(), [x, w], allow_unused=True)


@scenario
def grad_materialize(L):
    x, w = leaf(L), leaf(L, [1.])
    return L.autograd.grad((x ** 3).sum(), [x, w], materialize_grads=True)


@scenario
def grad_materialize_with_allow_unused_false(L):
    x, w = leaf(L), leaf(L, [1.])
    return L.autograd.grad((x ** 3).sum(), [x, w], materialize_grads=True, allow_unused=False)


@scenario
def grad_non_leaf_input(L):
    x = leaf(L)
    h = x * 2
    return L.autograd.grad((h ** 3).sum(), h), x.grad


@scenario
def grad_input_not_requiring_grad(L):
    x, w = leaf(L), L.tensor([1.])
    return L.autograd.grad((x ** 3).sum(), [x, w])


@scenario
def grad_input_not_a_tensor(L):
    x = leaf(L)
    return L.autograd.grad(x.sum(), [x, 3])


@scenario
def grad_no_inputs(L):
    x = leaf(L)
    return L.autograd.grad(x.sum(), [])


@scenario
def grad_output_not_requiring_grad(L):
    return L.autograd.grad(L.tensor([1., 2.]).sum(), [leaf(L)])


@scenario
def grad_integer_tensors(L):
    x = L.tensor([1, 2])
    return L.autograd.grad(x.sum(), x)


@scenario
def grad_same_input_twice(L):
    x = leaf(L)
    return L.autograd.grad((x * x).sum(), [x, x])


@scenario
def grad_output_is_input(L):
    x = leaf(L)
    return L.autograd.grad(x, x, L.ones(2))


@scenario
def grad_does_not_accumulate_but_runs_hooks(L):
    x = leaf(L)
    log = []
    x.register_hook(lambda g: log.append(g.tolist()))
    h = x * 2
    h.retain_grad()
    g = L.autograd.grad((h * h).sum(), x)
    return g, x.grad, h.grad, log


@scenario
def grad_capture_of_a_running_node_precedes_its_hooks(L):
    x = leaf(L)
    h = x * 2
    h.register_hook(lambda g: g * 100)
    out = (h.exp() * x).sum()
    both = L.autograd.grad(out, [h, x], retain_graph=True)  # h's node runs: captured unhooked
    alone = L.autograd.grad(out, [h], retain_graph=True)  # h's node only captures: hooked
    h.retain_grad()
    out.backward(inputs=[h, x])
    return both, alone, h.grad, x.grad


@scenario
def grad_hooks_and_nodes_seen_when_capturing_leaves(L):
    x, w = leaf(L), leaf(L, [3., 4.])
    log = []
    out = (x * w).sum()
    mul = out.grad_fn.next_functions[0][0]
    mul.register_hook(lambda gi, go: log.append(("post", [g is None for g in gi])))
    acc = mul.next_functions[1][0]
    acc.register_prehook(lambda go: log.append("acc prehook"))
    w.register_hook(lambda g: log.append("w tensor hook"))
    L.autograd.grad(out, w)
    return log


@scenario
def grad_batched_and_dict_inputs(L):
    x = L.tensor([1., 2., 3.], requires_grad=True)
    w = L.tensor([1., 2.], requires_grad=True)
    u = L.tensor([1.], requires_grad=True)
    y = x ** 2
    z = x[:2] * w
    r = [err(lambda: L.autograd.grad(y, x, L.eye(3), is_grads_batched=True, retain_graph=True)),
         err(lambda: L.autograd.grad(z, (x, w), L.eye(2), is_grads_batched=True)),
         err(lambda: L.autograd.grad(z, (x, w), L.eye(2), is_grads_batched=True)),
         err(lambda: L.autograd.grad(y, (x, u), L.eye(3), is_grads_batched=True, allow_unused=True, retain_graph=True)),
         err(lambda: L.autograd.grad(y, (x, u), L.eye(3), is_grads_batched=True, materialize_grads=True, retain_graph=True)),
         err(lambda: L.autograd.grad(y, (x, u), L.eye(3), is_grads_batched=True, retain_graph=True)),
         err(lambda: L.autograd.grad(y, x, L.ones(2, 3, 1), is_grads_batched=True, retain_graph=True)),
         err(lambda: L.autograd.grad(y.sum(), {"x": x}, retain_graph=True)),
         err(lambda: L.autograd.grad(y.sum(), (x, u), materialize_grads=True, create_graph=True)[1].requires_grad)]
    g = L.autograd.grad(x ** 3, x, L.eye(3), is_grads_batched=True, create_graph=True)[0]
    r.append((g.tolist(), g.requires_grad))  # the grad_fn differs: vmap batches the ops
    r.append(L.autograd.grad(g.sum(), x))
    return r


@scenario
def grad_batched_empty_batch(L):
    x = L.tensor([1., 2.], requires_grad=True)
    y = x * 2
    return [err(lambda: L.autograd.grad(y, x, g, is_grads_batched=True, retain_graph=True))
            for g in (L.ones(0, 2), L.ones(0, 0))]


@scenario
def grad_only_inputs_false(L):
    x = leaf(L)
    return L.autograd.grad((x * 2).sum(), x, only_inputs=False)


@scenario
def grad_second_and_third_derivatives(L):
    x = leaf(L, [0.5, 2.])
    (g,) = L.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (g2,) = L.autograd.grad(g.sum(), x, create_graph=True)
    (g3,) = L.autograd.grad(g2.sum(), x)
    return g, g2, g3


@scenario
def grad_create_graph_of_linear_function(L):
    x = leaf(L)
    (g,) = L.autograd.grad((x * 2).sum(), x, create_graph=True)
    return g, g.requires_grad


@scenario
def grad_create_graph_sin_mixed(L):
    x, y = leaf(L, [0.3, 1.2]), leaf(L, [2., -1.])
    z = (x.sin() * y ** 2).sum()
    gx, gy = L.autograd.grad(z, [x, y], create_graph=True)
    return gx, gy, L.autograd.grad((gx * gy).sum(), [x, y])


@scenario
def backward_create_graph_then_second_order(L):
    x = leaf(L)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    return g, x.grad


# ---------------------------------------------------------------- .grad semantics

@scenario
def grad_identity_kept_across_backwards(L):
    x = leaf(L)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    g = x.grad
    y.backward()
    return g is x.grad, g


@scenario
def grad_not_shared_between_leaves(L):
    a, b = leaf(L), leaf(L)
    (a + b).sum().backward()
    a.grad.add_(1)
    return a.grad, b.grad, a.grad is b.grad


@scenario
def user_gradient_not_aliased(L):
    a = leaf(L)
    g = L.ones(2)
    (a * 1).backward(g)
    g.add_(1)
    b = leaf(L)
    h = L.ones(2)
    b.backward(h)
    h.add_(1)
    return a.grad, b.grad, b.grad is h


@scenario
def grad_accumulates_in_place(L):
    x = leaf(L)
    (x * 2).sum().backward()
    g = x.grad
    version = g._version
    (x * 3).sum().backward()
    return g is x.grad, g, g._version > version


@scenario
def grad_after_zero_and_none(L):
    x = leaf(L)
    (x * 2).sum().backward()
    x.grad.zero_()
    (x * 3).sum().backward()
    first = x.grad.clone()
    x.grad = None
    (x * 4).sum().backward()
    return first, x.grad


@scenario
def grad_of_hook_returned_tensor_not_aliased(L):
    x = leaf(L)
    seen = []
    x.register_hook(lambda g: seen.append(g) or g)
    (x * 2).sum().backward()
    seen[0].add_(100)
    return x.grad


@scenario
def non_leaf_grad_warning(L):
    a = leaf(L)
    b = a * 2
    return b.grad


@scenario
def non_leaf_retain_grad_no_warning(L):
    a = leaf(L)
    b = a * 2
    b.retain_grad()
    b.sum().backward()
    return b.grad, b.retains_grad, a.retains_grad


@scenario
def retain_grad_not_requiring(L):
    L.tensor([1.]).retain_grad()


@scenario
def grad_setter_wrong_size(L):
    leaf(L).grad = L.ones(3)


@scenario
def grad_setter_scalar_shape(L):
    leaf(L).grad = L.ones(())


@scenario
def grad_setter_not_tensor(L):
    leaf(L).grad = 3


@scenario
def grad_setter_ok_then_delete(L):
    x = leaf(L)
    x.grad = L.ones(2)
    first = x.grad
    del x.grad
    return first, x.grad


@scenario
def grad_setter_on_int_tensor(L):
    x = L.tensor([1, 2])
    x.grad = L.ones(2)


@scenario
def grad_setter_double_leaf_float_grad(L):
    x = leaf(L, dtype=L.float64)
    x.grad = L.ones(2)


@scenario
def grad_after_create_graph_accumulates_in_place(L):
    x = L.tensor([1., 2.], requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    g = x.grad
    (x * 3).sum().backward()
    return g is x.grad, x.grad, x.grad.grad_fn, g._version
@scenario
def user_set_grad_accumulated_in_place(L):
    x = L.tensor([1., 2.], requires_grad=True)
    t = L.ones(2)
    x.grad = t
    (x * 3).sum().backward()
    return t is x.grad, t, t._version
@scenario
def create_graph_twice_adds_out_of_place(L):
    x = L.tensor([1., 2.], requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    g = x.grad
    (x ** 3).sum().backward(create_graph=True)
    return g is x.grad, x.grad, x.grad.grad_fn, g
@scenario
def user_set_grad_requiring_grad_in_place(L):
    x = L.tensor([1., 2.], requires_grad=True)
    t = L.ones(2, requires_grad=True)
    x.grad = t
    (x * 3).sum().backward()
    return t is x.grad, x.grad, t._version


@pytest.mark.parametrize("dtype", ["float64", "float16", "int64", "int32", "int16", "int8",
                                   "uint8", "bool"])
def test_grad_setter_dtype_errors(dtype):
    assert_same_outcome(lambda L: setattr(leaf(L), "grad", L.ones(2, dtype=getattr(L, dtype))))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_torch(name):
    assert_same_outcome(SCENARIOS[name])


# ---------------------------------------------------------------- warnings' category and place

TORCH_CREATE_GRAPH = """
import torch, warnings
warnings.simplefilter("always")
x = torch.tensor([1., 2.], requires_grad=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    (x * x).sum().backward(create_graph=True)
    (x * x).sum().backward(create_graph=True)
    torch.autograd.grad((x * x).sum(), x, create_graph=True)
print(repr([(w.category.__name__, str(w.message)) for w in caught]))
"""


def test_create_graph_warning_once_with_torch_text_category_at_user_line(monkeypatch):
    out = subprocess.run([sys.executable, "-c", TORCH_CREATE_GRAPH], capture_output=True,
                         text=True, check=True).stdout
    expected = eval(out)  # torch warns once per process, whatever the filters say
    assert len(expected) == 1
    monkeypatch.setattr(backward_api, "_warned", [])
    x = leaf(gradlab)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x * x).sum().backward(create_graph=True)
        line = inspect.currentframe().f_lineno - 1
        (x * x).sum().backward(create_graph=True)
        gradlab.autograd.grad((x * x).sum(), x, create_graph=True)
    assert [(w.category.__name__, str(w.message)) for w in caught] == expected
    # gradlab points at the user's line (torch points inside torch/autograd)
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)
    monkeypatch.setattr(backward_api, "_warned", [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gradlab.autograd.backward((x * x).sum(), create_graph=True)
        line = inspect.currentframe().f_lineno - 1
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)


def test_non_leaf_grad_warning_points_at_the_user_line():
    b = leaf(gradlab) * 2
    with pytest.warns(UserWarning) as caught:
        b.grad  # noqa: B018
    assert caught[0].filename == __file__
    tb = leaf(torch) * 2
    with pytest.warns(UserWarning) as t_caught:
        tb.grad  # noqa: B018
    assert str(caught[0].message) == str(t_caught[0].message)
