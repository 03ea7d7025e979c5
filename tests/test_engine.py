"""The backward engine: node order, hooks and their order, the event stream, deep graphs, memory.

Orders and hook arguments are compared with real PyTorch on identical graphs.
"""
import gc
import sys
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from gradlab.autograd.graph import FREED_ERROR  # noqa: E402
from outcomes import assert_same_outcome  # noqa: E402

LIBS = pytest.mark.parametrize("L", [torch, gradlab], ids=["torch", "gradlab"])


def nodes(root):
    """Every node reachable from ``root`` (deterministic order)."""
    seen, stack, out = set(), [root], []
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        out.append(n)
        stack.extend(f for f, _ in n.next_functions)
    return out


def label(node, leaves):
    """A node's name; an AccumulateGrad is named by the index of its leaf."""
    var = getattr(node, "variable", None)
    if var is not None:
        return f"{node.name()}[{next(i for i, l in enumerate(leaves) if l is var)}]"
    return node.name()


def values(ts):
    return [None if t is None else np.asarray(t.detach().numpy()).tolist() for t in ts]


def _close_logs(a, b):
    """Logs of (kind, node, gradients) are equal up to float rounding."""
    assert [(k, n) for k, n, _ in a] == [(k, n) for k, n, _ in b]
    for (_, n, va), (_, _, vb) in zip(a, b):
        assert len(va) == len(vb), n
        for x, y in zip(va, vb):
            if x is None or y is None:
                assert x is y, n
            else:
                np.testing.assert_allclose(x, y, rtol=1e-5, err_msg=n)


# --------------------------------------------------------------------------- graphs

def diamond(L):
    x = L.tensor([1., 2.], requires_grad=True)
    a, b = x * 2, x.exp()
    return [(a.sin() * b.cos()).sum()], [x]


def multi_use(L):
    x = L.tensor([1., 2.], requires_grad=True)
    w = L.tensor([3., 4.], requires_grad=True)
    y = x * w
    z = y + x
    return [(z * y).sum() + (w * x).sum() + x.sum()], [x, w]


def leaves_in_odd_order(L):
    c = L.tensor([0.5], requires_grad=True)
    b = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    a = L.tensor([2., -1.], requires_grad=True)
    h = (b @ a).tanh() * c
    return [(h * a).sum() + (b.sum(0) * c).sum()], [a, b, c]


def broadcast_and_views(L):
    x = L.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
    bias = L.tensor([0.1, 0.2, 0.3], requires_grad=True)
    y = (x + bias).relu()
    parts = y.unbind(0)
    return [(parts[0] * parts[1]).sum() + y.t().reshape(-1)[1:].sum() + bias.sum()], [x, bias]


def deep_and_wide(L):
    x = L.tensor([0.3, -0.2, 0.7], requires_grad=True)
    w = L.tensor([1.5, 0.5, -1.0], requires_grad=True)
    h = x
    outs = []
    for i in range(4):
        h = (h * w + x).sigmoid()
        outs.append(h.sum() * (i + 1))
    total = outs[0]
    for o in outs[1:]:
        total = total + o
    return [total], [x, w]


def two_roots(L):
    x = L.tensor([1., 2.], requires_grad=True)
    w = L.tensor([0.5, 0.25], requires_grad=True)
    return [(x * w).sum(), (x.exp() + w).sum()], [x, w]


def leaf_is_root_input(L):
    x = L.tensor([1., 2.], requires_grad=True)
    y = L.tensor([3., 1.], requires_grad=True)
    return [(x + y * 2 + x).sum()], [x, y]


GRAPHS = [diamond, multi_use, leaves_in_odd_order, broadcast_and_views, deep_and_wide, two_roots,
          leaf_is_root_input]


def run_order(L, build):
    roots, leaves = build(L)
    log = []
    all_nodes = []
    for r in roots:
        all_nodes += [n for n in nodes(r.grad_fn) if n not in all_nodes]
    for n in all_nodes:
        n.register_prehook(lambda g, n=n: log.append((label(n, leaves), values(g))))
    L.autograd.backward(roots)
    return log, [values([leaf.grad]) for leaf in leaves]


@pytest.mark.parametrize("build", GRAPHS)
def test_node_order_and_grads_match_torch(build):
    t_log, t_grads = run_order(torch, build)
    g_log, g_grads = run_order(gradlab, build)
    assert [n for n, _ in g_log] == [n for n, _ in t_log]
    _close_logs([("in", n, v) for n, v in g_log], [("in", n, v) for n, v in t_log])
    for g, t in zip(g_grads, t_grads):
        np.testing.assert_allclose(g[0], t[0], rtol=1e-5)


def test_accumulate_grad_name_and_type():
    for L, name in ((torch, "torch::autograd::AccumulateGrad"),
                    (gradlab, "torch::autograd::AccumulateGrad")):
        x = L.tensor([1.], requires_grad=True)
        acc = (x * 2).grad_fn.next_functions[0][0]
        assert acc.name() == name
        assert type(acc).__name__ == "AccumulateGrad"
        assert acc.variable is x
        assert acc.next_functions == ()


# --------------------------------------------------------------------------- hooks

def hook_program(L):
    """Every kind of hook on one graph; the log holds what each hook saw, in order."""
    log = []
    x = L.tensor([1., 2.], requires_grad=True)
    y = x * 2
    z = y.exp()
    out = (z * y).sum()
    y.register_hook(lambda g: log.append(("t1", values([g]))))
    y.retain_grad()
    y.register_hook(lambda g: (log.append(("t2", values([g]))), g * 10)[1])
    y.grad_fn.register_prehook(lambda go: log.append(("pre", values(go))))
    y.grad_fn.register_hook(lambda gi, go: log.append(("post", values(gi), values(go))))
    x.register_hook(lambda g: log.append(("xleaf", values([g]))))
    acc = y.grad_fn.next_functions[0][0]
    acc.register_hook(lambda gi, go: log.append(("accpost", gi, values(go))))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("postacc", t is x,
                                                               values([t.grad]))))
    acc.register_prehook(lambda go: log.append(("accpre", values(go))))
    out.backward()
    log.append(("final", values([y.grad, x.grad])))
    return log


def test_hook_order_and_arguments_match_torch():
    assert hook_program(gradlab) == hook_program(torch)


def replacement_program(L):
    log = []
    w = L.tensor([1., 2.], requires_grad=True)
    z = (w * w).sum()
    m = z.grad_fn.next_functions[0][0]
    m.register_hook(lambda gi, go: (gi[0] * 3, gi[1]))
    m.register_prehook(lambda go: (go[0] * 5,))
    m.register_prehook(lambda go: log.append(values(go)))  # sees the previous prehook's result
    z.backward()
    log.append(values([w.grad]))
    x = L.tensor([1., 2.], requires_grad=True)
    y = (x * 3).sum()
    y.grad_fn.register_hook(lambda gi, go: (None,))
    y.backward()
    log.append(x.grad)
    return log


def test_hook_replacement_semantics_match_torch():
    assert replacement_program(gradlab) == replacement_program(torch)


def unbind_hook_order(L):
    log = []
    x = L.tensor([1., 2., 3.], requires_grad=True)
    a, b, c = x.unbind()
    c.register_hook(lambda g: log.append("c"))
    a.register_hook(lambda g: log.append("a"))
    b.register_hook(lambda g: log.append("b"))
    a.register_hook(lambda g: log.append("a2"))
    (a * b * c).backward()
    return log


def test_tensor_hooks_on_several_outputs_run_in_registration_order():
    assert unbind_hook_order(gradlab) == unbind_hook_order(torch)


def test_handle_remove_and_context_manager():
    for L in (torch, gradlab):
        calls = []
        x = L.tensor([1., 2.], requires_grad=True)
        y = (x * 2).sum()
        h1 = x.register_hook(lambda g: g * 100)
        h2 = y.grad_fn.register_prehook(lambda go: calls.append("pre"))
        h3 = y.grad_fn.register_hook(lambda gi, go: calls.append("post"))
        h4 = x.register_post_accumulate_grad_hook(lambda t: calls.append("acc"))
        y.backward(retain_graph=True)
        assert x.grad.tolist() == [200., 200.]
        for h in (h1, h2, h3, h4):
            h.remove()
        h1.remove()  # removing twice is harmless
        y.backward(retain_graph=True)
        assert x.grad.tolist() == [202., 202.]
        assert calls == ["pre", "post", "acc"]
        with x.register_hook(lambda g: g * 0):
            y.backward(retain_graph=True)
        y.backward()
        assert x.grad.tolist() == [204., 204.]


def _hook_error(L, case):
    w = L.tensor([1., 2.], requires_grad=True)
    x = L.tensor([1., 2.])
    z = w * 3
    s = z.sum()
    acc = z.grad_fn.next_functions[0][0]
    if case == "node_post_count":
        s.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
    elif case == "node_pre_count":
        s.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    elif case == "node_post_list":
        s.grad_fn.register_hook(lambda gi, go: [gi[0]])
    elif case == "node_pre_tensor":
        s.grad_fn.register_prehook(lambda go: go[0])
    elif case == "node_pre_dtype":
        s.grad_fn.register_prehook(lambda go: (go[0].double(),))
    elif case == "node_post_size":
        s.grad_fn.register_hook(lambda gi, go: (gi[0][:1],))
    elif case == "replace_none":
        s = (w * x).sum()
        s.grad_fn.next_functions[0][0].register_hook(lambda gi, go: (gi[0], L.ones(2)))
    elif case == "post_int":
        z.grad_fn.register_hook(lambda gi, go: 5)
    elif case == "tensor_size":
        z.register_hook(lambda g: L.ones(3))
    elif case == "tensor_int":
        z.register_hook(lambda g: 5)
    elif case == "tensor_dtype":
        z.register_hook(lambda g: g.double())
    elif case == "leaf_dtype":
        w.register_hook(lambda g: g.double())
    elif case == "leaf_size":
        w.register_hook(lambda g: L.ones(1))
    elif case == "accumulate_post":
        acc.register_hook(lambda gi, go: (L.ones(2),))
    elif case == "unnamed_callable":
        class Hook:
            def __call__(self, g):
                return g.double()
        z.register_hook(Hook())
    elif case == "register_no_grad":
        x.register_hook(lambda g: g)
    elif case == "post_acc_non_leaf":
        z.register_post_accumulate_grad_hook(lambda t: None)
    elif case == "post_acc_no_grad":
        x.register_post_accumulate_grad_hook(lambda t: None)
    elif case == "retain_no_grad":
        x.retain_grad()
    s.backward()


HOOK_ERRORS = ["node_post_count", "node_pre_count", "node_post_list", "node_pre_tensor",
               "node_pre_dtype", "node_post_size", "replace_none", "post_int", "tensor_size",
               "tensor_int", "tensor_dtype", "leaf_dtype", "leaf_size", "accumulate_post",
               "unnamed_callable", "register_no_grad", "post_acc_non_leaf", "post_acc_no_grad",
               "retain_no_grad"]


@pytest.mark.parametrize("case", HOOK_ERRORS)
def test_hook_errors_match_torch(case):
    with pytest.raises(Exception) as expected:
        _hook_error(torch, case)
    with pytest.raises(type(expected.value)) as got:
        _hook_error(gradlab, case)
    assert str(got.value) == str(expected.value)


def retain_grad_program(L):
    x = L.tensor([1., 2.], requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.retain_grad()  # twice is the same as once
    z = y * y
    z.retain_grad()
    x.retain_grad()  # a leaf: no effect
    s = z.sum()
    s.backward(retain_graph=True)
    first = values([y.grad, z.grad, x.grad])
    s.backward()
    return first, values([y.grad, z.grad, x.grad]), y.retains_grad, x.retains_grad, \
        y.grad is not None and y.grad.requires_grad


def test_retain_grad_accumulates_like_torch():
    assert retain_grad_program(gradlab) == retain_grad_program(torch)


# --------------------------------------------------------------------------- event stream

def event_graph(L):
    x = L.tensor([1., 2.], requires_grad=True)
    w = L.tensor([3., 4.], requires_grad=True)
    b = L.tensor([0.5], requires_grad=True)
    y = (x * w).tanh()
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    loss = ((y * x).sum() + (w + b).exp().sum())
    return loss, [x, w, b], y


def torch_node_log():
    """What each torch node received and produced, in execution order."""
    loss, leaves, _ = event_graph(torch)
    log = []
    for n in nodes(loss.grad_fn):
        n.register_prehook(lambda go, n=n: log.append(("in", label(n, leaves), values(go))))
        if not hasattr(n, "variable"):
            n.register_hook(lambda gi, go, n=n: log.append(("out", label(n, leaves), values(gi))))
    loss.backward()
    return log, [values([leaf.grad]) for leaf in leaves]


def test_event_stream_step_by_step_matches_torch_and_plain_backward():
    t_log, t_grads = torch_node_log()
    loss, leaves, y = event_graph(gradlab)
    events = gradlab.autograd.backward_stream(loss, trace=True)
    assert all(leaf.grad is None for leaf in leaves)  # nothing runs before the first event
    log = []
    seen_saved = []
    accumulated = {}
    ev = next(events)
    assert isinstance(ev, gradlab.autograd.NodeEntered) and ev.node is loss.grad_fn
    while True:
        name = label(ev.node, leaves)
        if isinstance(ev, gradlab.autograd.NodeEntered):
            log.append(("in", name, values(ev.grad_outputs)))
            if ev.node is y.grad_fn:  # before the tensor hook doubles it
                assert values(ev.grad_outputs) == values([leaves[0]])
        elif isinstance(ev, gradlab.autograd.GradsComputed):
            assert len(ev.grad_inputs) == len(ev.node.next_functions)
            log.append(("out", name, values(ev.grad_inputs)))
        elif isinstance(ev, gradlab.autograd.SavedReleased):
            assert ev.names and all(hasattr(type(ev.node), "_saved_" + n) for n in ev.names)
            for n in ev.names:
                with pytest.raises(RuntimeError, match="backward through the graph a second"):
                    getattr(ev.node, "_saved_" + n)
            seen_saved.append(name)
        elif isinstance(ev, gradlab.autograd.GradAccumulated):
            leaf = ev.variable
            assert ev.before is None and ev.after is leaf.grad
            accumulated[name] = values([ev.after])
        elif isinstance(ev, gradlab.autograd.HookFired):
            assert ev.kind in ("tensor", "retain_grad") and ev.node is y.grad_fn
            log[-1] = ("in", name, values(ev.grads))  # torch's node pre-hook sees this
            if ev.kind == "retain_grad":
                assert values([y.grad]) == values(ev.grads)
        try:
            ev = next(events)
        except StopIteration:
            break
    _close_logs(log, t_log)
    assert sorted(seen_saved) == ["ExpBackward0", "MulBackward0", "MulBackward0",
                                  "TanhBackward0"]
    for leaf, t in zip(leaves, t_grads):
        np.testing.assert_allclose(values([leaf.grad])[0], t[0], rtol=1e-5)
    # the same graph, drained by plain backward, ends in the same state
    loss2, leaves2, y2 = event_graph(gradlab)
    loss2.backward()
    for a, b in zip(leaves, leaves2):
        assert values([a.grad]) == values([b.grad])
    assert values([y.grad]) == values([y2.grad])
    streamed = [sorted((k, s.freed) for k, s in n.saved_slots().items())
                for n in nodes(loss.grad_fn)]
    plain = [sorted((k, s.freed) for k, s in n.saved_slots().items())
             for n in nodes(loss2.grad_fn)]
    assert streamed == plain and all(f for node in streamed for _, f in node)




def test_grad_accumulated_before_after_on_second_pass():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    first = x.grad
    acc = [e for e in gradlab.autograd.backward_stream(y, trace=True)
           if isinstance(e, gradlab.autograd.GradAccumulated)]
    assert len(acc) == 1
    assert acc[0].before.tolist() == [2., 4.] and acc[0].before is not first
    assert acc[0].after is x.grad and x.grad.tolist() == [4., 8.]


def test_hook_fired_events_for_every_kind():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g + 1)
    y.retain_grad()
    y.grad_fn.register_prehook(lambda go: None)
    y.grad_fn.register_hook(lambda gi, go: None)
    x.register_post_accumulate_grad_hook(lambda t: None)
    kinds = [(type(e).__name__, getattr(e, "kind", None), e.node.name())
             for e in gradlab.autograd.backward_stream(y.sum(), trace=True)
             if isinstance(e, (gradlab.autograd.HookFired, gradlab.autograd.GradAccumulated))]
    assert kinds == [("HookFired", "tensor", "MulBackward0"),
                     ("HookFired", "retain_grad", "MulBackward0"),
                     ("HookFired", "prehook", "MulBackward0"),
                     ("HookFired", "hook", "MulBackward0"),
                     ("GradAccumulated", None, "torch::autograd::AccumulateGrad"),
                     ("HookFired", "post_accumulate", "torch::autograd::AccumulateGrad")]
    assert y.grad.tolist() == [2., 2.]


def test_grad_stream_captures_and_leaves_grad_untouched():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    w = gradlab.tensor([3., 4.], requires_grad=True)
    h = x * w
    out = (h ** 2).sum()
    captured, events = gradlab.autograd.grad_stream(out, [w, h], trace=True)
    evs = list(events)
    caps = [e for e in evs if isinstance(e, gradlab.autograd.GradCaptured)]
    assert [(e.index, e.node.name()) for e in caps] == [(1, "MulBackward0"),
                                                         (0, "torch::autograd::AccumulateGrad")]
    assert not any(isinstance(e, gradlab.autograd.GradAccumulated) for e in evs)
    assert x.grad is None and w.grad is None
    tx = torch.tensor([1., 2.], requires_grad=True)
    tw = torch.tensor([3., 4.], requires_grad=True)
    th = tx * tw
    expected = torch.autograd.grad((th ** 2).sum(), [tw, th])
    assert values(captured) == values(expected)
    assert caps[0].grad is captured[1] and caps[1].grad is captured[0]


def test_stream_checks_arguments_before_the_first_event():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        gradlab.autograd.backward_stream(x * 2, trace=True)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
@pytest.mark.parametrize("consumer_mode", [True, False])
def test_consumer_between_events_keeps_its_own_grad_mode(consumer_mode):
    x = gradlab.tensor([1., 2.], requires_grad=True)
    y = (x ** 3).sum()
    seen = []
    with gradlab.set_grad_enabled(consumer_mode):
        for ev in gradlab.autograd.backward_stream(y, create_graph=True, trace=True):
            seen.append(gradlab.is_grad_enabled())
            probe = x * 2  # consumer work between events
            assert probe.requires_grad is consumer_mode
    assert seen and all(s is consumer_mode for s in seen)
    assert gradlab.is_grad_enabled()
    assert x.grad.grad_fn is not None  # the engine still built the gradient graph
    (g2,) = gradlab.autograd.grad(x.grad.sum(), x)
    assert g2.tolist() == [6., 12.]


def test_consumer_between_events_in_a_no_create_graph_pass():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    events = gradlab.autograd.backward_stream((x.exp() * x).sum(), trace=True)
    for ev in events:
        assert gradlab.is_grad_enabled()
        assert (x * 1).requires_grad
    assert x.grad.grad_fn is None and not x.grad.requires_grad


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_abandoned_stream_leaves_the_grad_mode_alone():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    events = gradlab.autograd.backward_stream((x * x).sum(), create_graph=True, trace=True)
    next(events)
    next(events)
    del events
    gc.collect()
    assert gradlab.is_grad_enabled()


def test_trace_false_yields_nothing_but_runs():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    assert list(gradlab.autograd.backward_stream((x * x).sum())) == []
    assert x.grad.tolist() == [2., 4.]


# --------------------------------------------------------------------------- deep graphs

N_DEEP = 100_000


def _deep_chain(L):
    x = L.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(N_DEEP):
        y = y * 1.0
    return x, y


def test_deep_chain_backward_and_grad_without_recursion_error():
    limit = sys.getrecursionlimit()
    x, y = _deep_chain(gradlab)
    (g,) = gradlab.autograd.grad(y.sum(), x, retain_graph=True)
    assert g.tolist() == [1.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0]
    assert sys.getrecursionlimit() == limit
    del y  # freeing a deep graph must not recurse either
    gc.collect()


def test_deep_chain_free_without_recursion():
    x, y = _deep_chain(gradlab)
    ref = weakref.ref(y.grad_fn)
    del y
    assert ref() is None


# --------------------------------------------------------------------------- memory

def test_training_loop_memory_is_flat_without_gc():
    gradlab.manual_seed(0)
    w1 = (gradlab.randn(4, 8) * 0.3).requires_grad_()
    b1 = gradlab.zeros(8, requires_grad=True)
    w2 = (gradlab.randn(8, 1) * 0.3).requires_grad_()
    x = gradlab.randn(16, 4)
    target = gradlab.randn(16, 1)
    params = [w1, b1, w2]

    def step():
        h = (x @ w1 + b1).tanh()
        loss = ((h @ w2 - target) ** 2).mean()
        loss.backward()
        with gradlab.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad.zero_()

    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for i in range(10_000):
            step()
            if i == 99:
                early = tracemalloc.get_traced_memory()[0]
            elif i == 4999:
                middle = tracemalloc.get_traced_memory()[0]
        late = tracemalloc.get_traced_memory()[0]
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found = [o for o in gc.garbage if _from_gradlab(o)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    # NumPy's and CPython's caches warm up during the first ~1000 steps (about 90 KB); a leak of
    # even 30 bytes a step would exceed the first bound, of 4 bytes a step the second
    assert late - early < 256 * 1024, (early, late)
    assert late - middle < 20 * 1024, (middle, late)
    assert found == []


def test_scalar_training_loop_leaves_no_cycles_and_flat_memory():
    """Micrograd's loop with 0-d tensors: every weight a scalar, Python numbers mixed in."""
    gradlab.manual_seed(0)
    w = [gradlab.randn(()).requires_grad_() for _ in range(6)]
    b = [gradlab.zeros((), requires_grad=True) for _ in range(3)]
    points = [((0.5, -1.0), 1.0), ((-0.3, 0.8), -1.0)]

    def step(i):
        (x0, x1), y = points[i % 2]
        h = [(w[k] * x0 + w[k + 1] * x1 + b[k // 2]).relu() for k in (0, 2)]
        score = w[4] * h[0] + w[5] * h[1] + b[2]
        loss = (1 + -y * score).relu() + 1e-4 * sum(p * p for p in w)
        for p in w + b:
            p.grad = None
        loss.backward()
        with gradlab.no_grad():
            for p in w + b:
                p -= 0.05 * p.grad

    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for i in range(10_000):
            step(i)
            if i == 999:
                early = tracemalloc.get_traced_memory()[0]
        late = tracemalloc.get_traced_memory()[0]
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found = [o for o in gc.garbage if _from_gradlab(o)]  # (torch frees its own late)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    assert found == []  # every node, tensor and saved value died by its reference count
    assert late - early < 64 * 1024, (early, late)  # a leak of 8 bytes a step would exceed it


def test_a_recorded_op_leaves_few_objects_for_the_garbage_collector():
    """Each object a live graph holds is one more for every full collection to walk: a scalar
    op leaves its node (its edges are slots of its own) and the tuple of what it saves (saved
    inputs and numbers as they are; shapes, dtypes, output numbers, unmodified versions and
    alpha=1 are shared)."""
    x = gradlab.tensor(2.0, requires_grad=True)
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        y = x
        for _ in range(1000):
            y = (y * 1.0001 + 0.001).tanh()  # a saved number, nothing saved, a saved result
        per_op = (len(gc.get_objects()) - before) / 3000
    finally:
        if was_enabled:
            gc.enable()
    # 7 objects per 3 ops: mul 2, add 1, tanh 4 (its saved output is a SavedTensor holding
    # the output's version counter); 3.33 with a tuple of next nodes, 3.67 with a SavedTensor
    # per saved value, 7.0 with a tuple per edge, per input's shape and dtype and per alpha
    assert per_op < 2.4, per_op


def _from_gradlab(obj):
    """A tensor, node, saved value or hook table, or a frame or cell of gradlab's code."""
    if isinstance(obj, (gradlab.Tensor, gradlab.autograd.Node)):
        return True
    module = getattr(type(obj), "__module__", "") or ""
    if module.startswith("gradlab"):
        return True
    code = getattr(obj, "f_code", None) or getattr(obj, "__code__", None)
    return code is not None and "gradlab" in code.co_filename


def test_graph_arrays_released_after_backward_and_kept_with_retain_graph():
    def measure(retain):
        x = gradlab.ones(1000, 1000, requires_grad=True)  # 4 MB
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            y = (x.exp() * 2).tanh()  # exp saves its result, tanh saves y; mul saves nothing
            loss = y.sum()
            loss.backward(retain_graph=retain)
            x.grad = None
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        return (after - before) / 4e6, (loss, y)

    freed, keep = measure(False)
    kept, keep2 = measure(True)
    assert 0.9 < freed < 1.1, freed  # only y itself is alive
    assert 1.9 < kept < 2.1, kept  # y and exp's result, kept for a second backward


def backward_peak(loss):
    """Bytes allocated at most during ``loss.backward()``, over what was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loss.backward()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_gradients_are_summed_in_place_and_released_once_sent():
    """Two gradients for one input are summed into the first (PyTorch's InputBuffer does so
    into a gradient nobody else holds), and each array goes once the engine is done with it:
    here at most two 4 MB gradients are alive at once, and the leaf keeps their sum."""
    x = gradlab.ones(1000, 1000, requires_grad=True)
    loss = (x * 2 + x * 3).sum()
    assert backward_peak(loss) / 4e6 < 2.1
    assert x.grad.unique().tolist() == [5.0]
    for dtype in (gradlab.float64, gradlab.float16):  # float16 sums out of place (rounding)
        x = gradlab.full((3,), 0.1, dtype=dtype, requires_grad=True)
        (x * 2 + x * 3).sum().backward()
        t = torch.full((3,), 0.1, dtype=getattr(torch, str(dtype)[6:]), requires_grad=True)
        (t * 2 + t * 3).sum().backward()
        assert x.grad.tolist() == t.grad.tolist()


def test_a_gradient_someone_holds_is_not_summed_into():
    kept = []
    x = gradlab.ones(1000, requires_grad=True)
    y, z = x * 2, x * 3
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: kept.append(grad_inputs))
    z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: kept.append(grad_inputs))
    (y + z).sum().backward()
    assert sorted(g[0][0].item() for g in kept) == [2.0, 3.0]
    assert x.grad[0].item() == 5.0
    x.grad = None
    (x + x).sum().backward()  # one gradient tensor sent along both edges
    assert x.grad.unique().tolist() == [2.0]


def test_no_cycles_between_tensor_and_node():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    y = (x.exp() * x).tanh()
    ref = weakref.ref(y.grad_fn)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        del y
        assert ref() is None
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- retain_graph

def _backward_twice(L, case):
    x = L.tensor([1., 2.], requires_grad=True)
    if case == "mul_tensor":
        y = (x * x).sum()
    elif case == "mul_scalar":
        y = (x * 2).sum()
    elif case == "add_self":
        y = (x + x).sum()
    elif case == "exp":
        y = x.exp().sum()
    elif case == "retain":
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return values([x.grad])
    y.backward()
    y.backward()
    return values([x.grad])


@pytest.mark.parametrize("case", ["mul_tensor", "mul_scalar", "add_self", "exp", "retain"])
def test_second_backward_matches_torch(case):
    try:
        expected = _backward_twice(torch, case)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            _backward_twice(gradlab, case)
        assert str(got.value) == str(e) == FREED_ERROR
    else:
        assert _backward_twice(gradlab, case) == expected


@pytest.mark.parametrize("attr,make", [
    ("_saved_self", lambda x: x * x), ("_saved_other", lambda x: x * 2),
    ("_saved_result", lambda x: x.exp()), ("_saved_self", lambda x: x.exp().log())])
def test_reading_saved_after_backward(attr, make):
    for L in (torch, gradlab):
        x = L.tensor([1., 2.], requires_grad=True)
        y = make(x)
        getattr(y.grad_fn, attr)  # readable before backward
        y.sum().backward()
        with pytest.raises(RuntimeError) as e:
            getattr(y.grad_fn, attr)
        assert str(e.value) == FREED_ERROR


def test_retained_graph_saved_values_still_readable():
    for L in (torch, gradlab):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x.exp()
        y.sum().backward(retain_graph=True)
        assert y.grad_fn._saved_result.tolist() == pytest.approx(np.exp([1., 2.]).tolist())


# --------------------------------------------------------------------------- random graphs

@st.composite
def programs(draw):
    """A random program over a few leaves: (n_leaves, [(op, i, j)], [roots])."""
    n_leaves = draw(st.integers(1, 5))
    steps = []
    for k in range(draw(st.integers(1, 12))):
        pool = n_leaves + k
        op = draw(st.sampled_from(["add", "mul", "sub", "exp", "sin", "tanh", "scale", "sum_to",
                                   "unbind_first", "stack"]))
        steps.append((op, draw(st.integers(0, pool - 1)), draw(st.integers(0, pool - 1))))
    pool = n_leaves + len(steps)
    roots = draw(st.lists(st.integers(0, pool - 1), min_size=1, max_size=3, unique=True))
    return n_leaves, steps, roots


def _build(L, program):
    """The program's leaves, every value it computes, and the indices of its outputs."""
    n_leaves, steps, roots = program
    leaves = [L.tensor([0.3 * (i + 1), -0.2 * i + 0.1], requires_grad=True)
              for i in range(n_leaves)]
    values = list(leaves)
    for op, i, j in steps:
        a, b = values[i], values[j]
        values.append({
            "add": lambda: a + b, "mul": lambda: a * b, "sub": lambda: a - b,
            "exp": lambda: (a * 0.5).exp(), "sin": lambda: a.sin(), "tanh": lambda: a.tanh(),
            "scale": lambda: a * 3, "sum_to": lambda: a.sum() * b,
            "unbind_first": lambda: a.unbind()[0] + b, "stack": lambda: L.stack([a, b]).sum(0),
        }[op]())
    return leaves, values, roots


def run_program(L, program):
    leaves, values, roots = _build(L, program)
    outs = [values[r].sum() for r in roots]
    log = []
    seen = []
    for out in outs:
        if out.grad_fn is None:
            continue
        seen += [n for n in nodes(out.grad_fn) if n not in seen]
    for n in seen:
        n.register_prehook(lambda g, n=n: log.append(label(n, leaves)))
    outs = [o for o in outs if o.requires_grad]
    L.autograd.backward(outs)
    return log, [values_of(leaf.grad) for leaf in leaves]


def values_of(t):
    return None if t is None else np.round(np.asarray(t.detach().numpy(), np.float64), 4).tolist()


@settings(max_examples=150, deadline=None, database=None)
@given(program=programs())
def test_random_graphs_run_in_torch_order(program):
    t_log, t_grads = run_program(torch, program)
    g_log, g_grads = run_program(gradlab, program)
    assert g_log == t_log
    for g, t in zip(g_grads, t_grads):
        assert (g is None) == (t is None)
        if g is not None:
            np.testing.assert_allclose(g, t, rtol=1e-4, atol=1e-5)


def test_many_leaves_accumulate_in_torch_order():
    def run(L):
        leaves = [L.tensor([float(i)], requires_grad=True) for i in range(12)]
        log = []
        out = L.stack(leaves).sum() + (leaves[3] * leaves[7] * leaves[1]).sum() + \
            L.cat(leaves[::-1]).pow(2).sum()
        for n in nodes(out.grad_fn):
            n.register_prehook(lambda g, n=n: log.append(label(n, leaves)))
        out.backward()
        return log
    assert run(gradlab) == run(torch)


def _partial_run(L, mode):
    x = L.tensor([1., 2.], requires_grad=True)
    w = L.tensor([3., 4.], requires_grad=True)
    b = L.tensor([0.5, 0.5], requires_grad=True)
    h = (x * w).exp()
    out = (h * b + w.sin()).sum()
    leaves = [x, w, b]
    log = []
    for n in nodes(out.grad_fn):
        n.register_prehook(lambda g, n=n: log.append((label(n, leaves), values(g))))
        if not hasattr(n, "variable"):
            n.register_hook(lambda gi, go, n=n: log.append(("post " + label(n, leaves),
                                                            values(gi))))
    if mode == "inputs_leaf":
        out.backward(inputs=[w])
    elif mode == "inputs_non_leaf":
        out.backward(inputs=[h])
    elif mode == "grad":
        log.append(("result", values(L.autograd.grad(out, [w, h]))))
    return log, [values([leaf.grad]) for leaf in leaves]


@pytest.mark.parametrize("mode", ["inputs_leaf", "inputs_non_leaf", "grad"])
def test_partial_backward_runs_the_nodes_torch_runs(mode):
    t_log, t_grads = _partial_run(torch, mode)
    g_log, g_grads = _partial_run(gradlab, mode)
    assert [n for n, _ in g_log] == [n for n, _ in t_log]
    _close_logs([("", n, v) for n, v in g_log], [("", n, v) for n, v in t_log])
    assert g_grads == t_grads or all(
        np.allclose(a[0], b[0]) if a[0] is not None else b[0] is None
        for a, b in zip(g_grads, t_grads))


def _node_api(L):
    def err(fn):
        try:
            return "ok", fn()
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e)
    x = L.tensor([1., 2.], requires_grad=True)
    y = x * 1
    y[0] = 5.
    z = (x * 2).exp()
    acc = z.grad_fn.next_functions[0][0].next_functions[0][0]
    return [y.grad_fn.name(), type(y.grad_fn).__name__, z.grad_fn.name(), acc.name(),
            acc._sequence_nr(), z.grad_fn._sequence_nr() > acc.next_functions.__len__(),
            z.grad_fn._sequence_nr() > z.grad_fn.next_functions[0][0]._sequence_nr(),
            z.grad_fn.metadata, type(z.grad_fn.register_hook(lambda *a: None)).__name__,
            err(lambda: z.grad_fn(L.ones(2))), err(lambda: z.grad_fn.next_functions[0][0](L.ones(2))),
            err(lambda: acc(L.ones(2))), err(lambda: acc(L.ones(2))), x.grad,
            str(y.grad_fn).split(" object")[0], z.grad_fn == z.grad_fn,
            (x * 2).grad_fn.next_functions[1]]


def test_node_api_matches_torch():
    assert_same_outcome(_node_api)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
@pytest.mark.parametrize("consumer_mode", [True, False])
def test_grad_mode_restored_when_backward_raises(consumer_mode):
    x = gradlab.tensor([1., 2.], requires_grad=True)
    y = x * 2

    def bad(g):
        raise KeyError("boom")
    y.register_hook(bad)
    loss = (y * y).sum()
    z = x.exp()
    z.add_(1)
    z_sum = z.sum()
    with gradlab.set_grad_enabled(consumer_mode):
        with pytest.raises(KeyError):
            loss.backward(create_graph=True, retain_graph=True)
        assert gradlab.is_grad_enabled() is consumer_mode
        events = gradlab.autograd.backward_stream(loss, create_graph=True, trace=True)
        with pytest.raises(KeyError):
            for _ in events:
                assert gradlab.is_grad_enabled() is consumer_mode
        assert gradlab.is_grad_enabled() is consumer_mode
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z_sum.backward(create_graph=True)
        assert gradlab.is_grad_enabled() is consumer_mode


def test_leaf_hooks_survive_graphs_without_a_reference_cycle():
    log = []
    x = gradlab.tensor([1., 2.], requires_grad=True)
    x.register_hook(lambda g: log.append(("hook", g.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("post", t.grad.tolist())))
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        (x * 2).sum().backward()  # the AccumulateGrad of this graph dies with it
        (x * 3).sum().backward()  # a new one runs the same hooks
        ref = weakref.ref(x)
        del x
        assert ref() is None  # no cycle keeps the leaf alive
    finally:
        if was_enabled:
            gc.enable()
    assert log == [("hook", [2., 2.]), ("post", [2., 2.]), ("hook", [3., 3.]), ("post", [5., 5.])]


def _grad_program(L, program, picks, use_backward):
    leaves, values, roots = _build(L, program)
    out = sum(values[r].sum() for r in roots)
    inputs = [values[p % len(values)] for p in picks]
    log = []
    for n in nodes(out.grad_fn):
        n.register_prehook(lambda g, n=n: log.append(label(n, leaves)))
    if use_backward:
        out.backward(inputs=inputs)
        return log, [values_of(leaf.grad) for leaf in leaves]
    grads = L.autograd.grad(out, inputs, allow_unused=True)
    return log, [values_of(g) for g in grads]


@settings(max_examples=120, deadline=None, database=None)
@given(program=programs(), picks=st.lists(st.integers(0, 30), min_size=1, max_size=3, unique=True),
       use_backward=st.booleans())
def test_random_partial_backward_and_grad_match_torch(program, picks, use_backward):
    assert_same_outcome(lambda L: _grad_program(L, program, picks, use_backward), digits=4)


def test_queue_callback_runs_once_when_the_pass_ends_as_in_torch():
    from gradlab.autograd.engine import queue_callback

    def run(lib, queue):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        log = []

        def hook(grad):
            queue(lambda: log.append(("end", x.grad.tolist())))
            log.append(("hook", grad.tolist()))
        x.register_hook(hook)
        (x * x).sum().backward()
        try:
            queue(lambda: None)
        except RuntimeError as e:
            log.append(("outside", str(e)))
        return log

    expected = run(torch, torch.autograd.Variable._execution_engine.queue_callback)
    assert run(gradlab, queue_callback) == expected
    assert expected[-1] == ("outside", "Final callbacks can only be installed during backward pass.")


def test_a_pass_resumed_on_another_thread_still_takes_final_callbacks():
    """A widget steps the engine from a kernel's comm thread: queue_callback must still work."""
    import threading
    from gradlab.autograd import backward_stream
    from gradlab.autograd.engine import queue_callback

    w = gradlab.tensor([1.0, 2.0], requires_grad=True)
    ended = []
    w.register_hook(lambda grad: queue_callback(lambda: ended.append(w.grad.tolist())))
    events = backward_stream((w * w).sum(), trace=True)
    next(events)  # started on this thread ...
    worker = threading.Thread(target=lambda: [None for _ in events])  # ... finished on another
    worker.start()
    worker.join()
    assert ended == [[2.0, 4.0]]
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed"):
        queue_callback(print)


def test_one_node_through_every_step_in_order():
    """The steps of the engine's loop, pinned: hooks and captures (a node that runs is captured
    before its hooks, one that does not after its tensor hooks), run, post hooks, release."""
    x = gradlab.tensor([1., 2.], requires_grad=True)
    h = x * x
    h.register_hook(lambda g: g * 2)
    x.register_hook(lambda g: g + 1)
    h.grad_fn.register_prehook(lambda gs: None)
    h.grad_fn.register_hook(lambda gi, go: None)
    captured, events = gradlab.autograd.grad_stream((h * 3).sum(), [h, x], trace=True)
    seen = [(type(e).__name__, e.node.name(), getattr(e, "kind", getattr(e, "index", None)))
            for e in events]
    assert seen == [("NodeEntered", "SumBackward0", None),
                    ("GradsComputed", "SumBackward0", None),
                    ("NodeEntered", "MulBackward0", None),
                    ("GradsComputed", "MulBackward0", None),
                    ("SavedReleased", "MulBackward0", None),  # h * 3 saved the 3
                    ("NodeEntered", "MulBackward0", None),
                    ("GradCaptured", "MulBackward0", 0),
                    ("HookFired", "MulBackward0", "tensor"),
                    ("HookFired", "MulBackward0", "prehook"),
                    ("HookFired", "MulBackward0", "hook"),
                    ("GradsComputed", "MulBackward0", None),
                    ("SavedReleased", "MulBackward0", None),
                    ("NodeEntered", "torch::autograd::AccumulateGrad", None),
                    ("HookFired", "torch::autograd::AccumulateGrad", "tensor"),
                    ("GradCaptured", "torch::autograd::AccumulateGrad", 1)]
    tx = torch.tensor([1., 2.], requires_grad=True)
    th = tx * tx
    th.register_hook(lambda g: g * 2)
    tx.register_hook(lambda g: g + 1)
    expected = torch.autograd.grad((th * 3).sum(), [th, tx])
    assert values(captured) == values(expected)
