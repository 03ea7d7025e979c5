"""gradlab.viz.model: the graph of the same program is the same on gradlab and on PyTorch."""
import sys
import time

import numpy as np
import pytest

import gradlab
from gradlab.autograd import GradAccumulated, GradsComputed, NodeEntered, SavedReleased
from gradlab.autograd.backward_api import backward_stream
from gradlab.viz import model as m

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

BACKENDS = ((gradlab, m.from_gradlab), (torch, m.from_torch))


def leaf(T, values, requires_grad=True):
    t = T.tensor(np.asarray(values, dtype=np.float32))
    return t.requires_grad_() if requires_grad else t


# Each program takes the backend module and returns (outputs, params).

def square_plus(T):
    x = leaf(T, [1.0, 2.0, 3.0])
    y = (x ** 2 + x).sum()
    return y, locals()


def mlp(T):
    x = leaf(T, np.arange(6).reshape(2, 3) / 6, requires_grad=False)
    W = leaf(T, np.arange(12).reshape(4, 3) / 10 - 0.5)
    b = leaf(T, [0.1, -0.2, 0.3, 0.0])
    h = x.matmul(W.t()) + b
    loss = h.tanh().mean()
    return loss, locals()


def diamond(T):
    x = leaf(T, [0.5, 1.5])
    a = x * 2
    y = (a.sin() * a.cos()).sum()
    return y, locals()


def copy_slices(T):
    x = leaf(T, [1.0, 2.0, 3.0])
    a = x.clone()
    a[0] = x[1] * 3
    b = x * 1
    v = b[1:]
    v.mul_(2)
    y = (a * b).sum()
    return y, locals()


def unbind(T):
    x = leaf(T, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    h = x * 2
    p, q, r = h.unbind()
    y = p * q + r
    return y, locals()


def tuple_outputs(T):
    x = leaf(T, [1.0, -2.0])
    w = leaf(T, [3.0, 4.0])
    h = x * w
    return (h.exp().sum(), h.relu(), x), locals()


def view_output(T):
    x = leaf(T, [[1.0, 2.0], [3.0, 4.0]])
    h = x.pow(3)
    return h[0], locals()


def unnamed(T):
    x = leaf(T, [2.0])
    return (x.sigmoid() / 3).sum(), None


PROGRAMS = [square_plus, mlp, diamond, copy_slices, unbind, tuple_outputs, view_output, unnamed]


def graphs(program, **kw):
    out = []
    for T, build in BACKENDS:
        outputs, params = program(T)
        out.append(build(outputs, params, **kw))
    return out


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_same_graph_on_both_backends(program):
    g, t = graphs(program)
    assert (g.backend, t.backend) == ("gradlab", "torch")
    assert [(n.id, n.kind, n.label, n.attrs, n.state) for n in g.nodes] == \
           [(n.id, n.kind, n.label, n.attrs, n.state) for n in t.nodes]
    assert g.edges == t.edges
    assert g == t


def test_same_graph_for_a_view_modified_in_place():
    def program(T):
        x = leaf(T, [1.0, 2.0, 3.0])
        b = x * 1
        v = b[1:]
        v.mul_(2)
        return v, locals()
    g, t = graphs(program)
    assert g == t


def test_square_plus_structure():
    (y, params) = square_plus(gradlab)
    g = m.from_gradlab(y, params)
    assert [(n.kind, n.label) for n in g.nodes] == [
        (m.OUTPUT, "y\n()\n20."),
        (m.GRAD_FN, "SumBackward0"),
        (m.GRAD_FN, "AddBackward0"),
        (m.GRAD_FN, "PowBackward0"),
        (m.SAVED, "self (x)\n(3)\n[1., 2., 3.]"),
        (m.ACCUMULATE_GRAD, "AccumulateGrad"),
        (m.LEAF, "x\n(3)\n[1., 2., 3.]"),
    ]
    assert [(e.src, e.dst, e.kind, e.input_nr, e.output_nr) for e in g.edges] == [
        ("n1", "n0", m.EDGE_RESULT, None, 0),
        ("n2", "n1", m.EDGE_NEXT, 0, 0),
        ("n3", "n2", m.EDGE_NEXT, 0, 0),
        ("n5", "n2", m.EDGE_NEXT, 1, 0),
        ("n3", "n4", m.EDGE_SAVED, None, None),
        ("n5", "n3", m.EDGE_NEXT, 0, 0),
        ("n6", "n5", m.EDGE_VARIABLE, None, None),
    ]
    assert g.node("n3").attrs == (("exponent", "2"),)
    assert g.node("n2").attrs == (("alpha", "1"),)
    assert [e.id for e in g.edges] == [f"e{i}" for i in range(len(g.edges))]


def test_kinds_of_a_program_with_everything():
    for T, build in BACKENDS:
        (out, params) = tuple_outputs(T)
        g = build(out, params)
        kinds = [n.kind for n in g.nodes]
        assert kinds[:3] == [m.OUTPUT] * 3
        assert g.node(g.id_of(params["x"])).kind == m.OUTPUT  # an output that is also a leaf
        assert g.node(g.id_of(params["w"])).kind == m.LEAF
        assert g.node(g.id_of(params["h"])).kind == m.INTERMEDIATE
        assert {m.GRAD_FN, m.ACCUMULATE_GRAD, m.SAVED} <= set(kinds)
        (v, params) = view_output(T)
        g = build(v, params)
        base = g.node(g.id_of(params["h"]))
        assert base.kind == m.INTERMEDIATE
        assert [e.kind for e in g.edges_to(g.id_of(v))] == [m.EDGE_RESULT, m.EDGE_VIEW]
        c = T.zeros(2)
        g = build(c[1:], None)
        assert [n.kind for n in g.nodes] == [m.OUTPUT, m.OTHER_LEAF]  # a view of a plain leaf


def test_multi_output_edges_carry_output_nr():
    for g in graphs(unbind):
        src = _find(g, "UnbindBackward0")
        out = [e for e in g.edges if e.src == src]
        assert sorted((e.kind, e.output_nr, e.input_nr) for e in out) == [
            (m.EDGE_NEXT, 0, 0), (m.EDGE_NEXT, 1, 1), (m.EDGE_NEXT, 2, 1),  # p * q + r
            (m.EDGE_RESULT, 0, None), (m.EDGE_RESULT, 1, None), (m.EDGE_RESULT, 2, None)]


def _find(g, label):
    return next(n.id for n in g.nodes if n.label == label)


@pytest.mark.parametrize("retain", [False, True])
def test_freed_state_after_backward(retain):
    states = []
    for T, build in BACKENDS:
        (y, params) = diamond(T)
        before = build(y, params)
        y.backward(retain_graph=retain)
        after = build(y, params)
        assert [n.id for n in after.nodes] == [n.id for n in before.nodes]
        saved = after.of_kind(m.SAVED)
        assert saved and all(n.state == (m.ALIVE if retain else m.FREED) for n in saved)
        assert all(n.freed != retain for n in saved)
        if not retain:
            assert all(n.label.endswith("\n(freed)") and n.shape is None for n in saved)
        states.append(after)
    assert states[0] == states[1]


def test_modified_in_place_state():
    got = []
    for T, build in BACKENDS:
        x = leaf(T, [1.0, 2.0])
        h = x * 1
        e = h.exp()
        e.add_(1)
        g = build(e)
        exp = g.node(_find(g, "ExpBackward0"))
        saved = [g.node(i) for i in g.saved_ids(exp.id).values()]
        assert [(s.name, s.state) for s in saved] == [("result", m.MODIFIED)]
        got.append(g)
    assert got[0] == got[1]


def test_params_names_and_non_tensors_ignored():
    x = leaf(gradlab, [1.0, 2.0])
    y = (x * 3).sum()
    params = {"x": x, "y": y, "n": 3, "s": "text", "lst": [x], "_": y, "_1": x, 7: x}
    g = m.from_gradlab(y, params)
    assert g.node(g.id_of(y)).name == "y"  # "_" loses to a real name
    assert g.node(g.id_of(x)).name == "x"  # first real name wins over the later key 7
    g = m.from_gradlab(y, [("only", y)])
    assert g.node("n0").label == "only\n()\n9."
    g = m.from_gradlab(y, {"_": y})
    assert g.node("n0").name == "_"


def output_name(graph, output):
    return graph.node(graph.id_of(output)).name


def test_output_keeps_the_callers_name_when_params_name_only_parameters():
    for T, build in BACKENDS:
        T.manual_seed(0)
        model = T.nn.Linear(3, 2)
        x = T.ones(4, 3)
        loss = model(x).tanh().mean()
        for graph in (build(loss, dict(model.named_parameters())), m.build(loss, {})):
            assert output_name(graph, loss) == "loss"  # torchviz: only the shape
            assert graph.node("n0").label.startswith("loss\n()\n")
        g = build(loss, dict(model.named_parameters()))
        leaves = {n.name for n in g.of_kind(m.LEAF)}
        assert leaves == {"weight", "bias"}  # other tensors named only through params
        assert all(n.name == "" for n in g.of_kind(m.INTERMEDIATE, m.OTHER_LEAF))
        assert output_name(build(loss), loss) == ""  # no params, no names: torchviz's drawing
        assert output_name(build(loss, {"L": loss}), loss) == "L"  # params first
        expr = build(model(x).sum(), {})
        assert expr.node("n0").name == ""  # an expression has no name


def test_output_name_comes_from_the_code_that_asked(monkeypatch):
    def inner():
        total = (x * 2).sum()
        monkeypatch.setitem(globals(), "a_global", total)
        return total, m.build(total, [])  # the caller's locals before its globals
    x = leaf(gradlab, [1.0, 2.0])
    total, graph = inner()
    assert output_name(graph, total) == "total"
    _ = (x * 4).sum()  # IPython's last result: not a name to show
    assert output_name(m.build(_, {"x": x}), _) == ""
    y = (x * 3).sum()
    g = m.build((y, x.exp()), {"x": x})
    assert [n.name for n in g.of_kind(m.OUTPUT)] == ["y", ""]
    assert output_name(gradlab.make_dot(y, {"x": x}).graph, y) == "y"


def test_stepper_with_params_keeps_the_outputs_name():
    from gradlab.widgets import BackwardStepper
    model = gradlab.nn.Linear(3, 1)
    loss = model(gradlab.ones(2, 3)).pow(2).mean()
    stepper = BackwardStepper(loss, params=dict(model.named_parameters()))
    assert output_name(stepper.graph, loss) == "loss"
    assert "<text" in stepper.svg and ">loss</text>" in stepper.svg


def test_values_shown_only_when_small():
    for T, build in BACKENDS:
        big = leaf(T, np.ones(7))
        small = leaf(T, [1.5, -2.0, 1e-5])
        i = T.tensor([1, 2])
        assert build(big).node("n0").values is None
        assert build(small).node("n0").values == "[1.5, -2., 1e-05]"
        node = build(i).node("n0")
        assert (node.kind, node.dtype, node.values, node.label) == \
               (m.OUTPUT, "int64", "[1, 2]", "(2)\nint64\n[1, 2]")


def test_engine_events_map_to_ids():
    x = leaf(gradlab, [1.0, 2.0])
    w = leaf(gradlab, [3.0, 4.0])
    h = x * w
    y = (h.sin() + h).sum()
    g = m.from_gradlab(y, locals())
    entered, edges, saved, leaves = [], [], [], []
    for ev in backward_stream(y, trace=True):
        nid = g.id_of(ev.node)
        assert nid is not None
        if isinstance(ev, NodeEntered):
            entered.append(g.node(nid).label)
        elif isinstance(ev, GradsComputed):
            for i, grad in enumerate(ev.grad_inputs):
                if ev.node.next_functions[i][0] is not None:
                    e = g.edge_id(ev.node, i)
                    edge = next(x for x in g.edges if x.id == e)
                    assert edge.dst == nid and edge.src == g.id_of(ev.node.next_functions[i][0])
                    edges.append(e)
        elif isinstance(ev, SavedReleased):
            ids = g.saved_ids(ev.node)
            saved += [ids[name] for name in ev.names]
        elif isinstance(ev, GradAccumulated):
            leaves.append(g.node(g.id_of(ev.variable)).label.split("\n")[0])
    assert entered[0] == "SumBackward0" and entered.count("AccumulateGrad") == 2
    assert sorted(edges) == sorted(e.id for e in g.edges if e.kind == m.EDGE_NEXT)
    assert sorted(saved) == sorted(n.id for n in g.of_kind(m.SAVED))
    assert sorted(leaves) == ["w", "x"]
    assert g.object_of(g.id_of(x)) is x and g.object_of("nope") is None
    assert g.id_of(gradlab.tensor(1.0)) is None and g.edge_id(y.grad_fn, 5) is None


def chain(T, n):
    x = leaf(T, [1.0])
    y = x
    for _ in range(n):
        y = y * 1.0
    return y


def test_deep_chain_without_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # the traversal must not recurse
    try:
        start = time.perf_counter()
        g = m.from_gradlab(chain(gradlab, 5000), max_nodes=None)
        assert len(g.nodes) == 1 + 5000 * 2 + 2 and g.omitted == 0  # muls, saved 'other's
        c = m.from_gradlab(chain(gradlab, 5000))
        assert time.perf_counter() - start < 10
    finally:
        sys.setrecursionlimit(limit)
    assert len(c.nodes) == 501 and c.nodes[-1].kind == m.SUMMARY
    assert c.nodes[:500] == g.nodes[:500]  # the kept nodes keep their ids
    # kept: the output, then (MulBackward0, its saved 'other') pairs; the 250th Mul's saved
    # tensor and everything after it are cut; 4,750 Muls, the AccumulateGrad and x are omitted
    assert c.omitted == 4752 and c.nodes[-1].label == "… 4752 more nodes"
    assert c.nodes[-2].label == "MulBackward0" and c.saved_ids(c.nodes[-2].id) == {}
    assert [(e.src, e.dst, e.kind, e.input_nr) for e in c.edges if "n500" in (e.src, e.dst)] == \
           [("n500", "n499", m.EDGE_NEXT, 0)]


def test_collapsed_graph_same_on_both_backends():
    g = m.from_gradlab(chain(gradlab, 30), max_nodes=10)
    t = m.from_torch(chain(torch, 30), max_nodes=10)
    assert g == t and g.omitted == t.omitted > 0


def shared(T, n):
    """A recurrence whose every step uses the same leaf a (an unrolled RNN's weight)."""
    a = leaf(T, [0.5])
    y = a
    for _ in range(n):
        y = (y * a).tanh()
    return y


def test_a_shared_leaf_has_one_edge_into_the_summary():
    g = m.from_gradlab(shared(gradlab, 30), max_nodes=10)
    [acc] = [n.id for n in g.of_kind(m.ACCUMULATE_GRAD)]
    summary = g.of_kind(m.SUMMARY)[0].id
    kept = [e for e in g.edges if e.src == acc and e.dst != summary]
    assert [(e.dst, e.kind) for e in g.edges_from(acc) if e.dst == summary] == \
           [(summary, m.EDGE_NEXT)]  # not one per collapsed step (29 here)
    assert [(e.kind, e.input_nr) for e in kept] == [(m.EDGE_NEXT, 1)]  # the last step's mul
    assert g == m.from_torch(shared(torch, 30), max_nodes=10)


def test_rejects_mixed_or_non_tensors():
    with pytest.raises(TypeError, match="expected gradlab tensors, got list"):
        m.from_gradlab([[1.0]])
    with pytest.raises(TypeError, match="expected torch tensors, got Tensor"):
        m.build((torch.ones(1), gradlab.ones(1)))
    assert m.build(torch.ones(1)).backend == "torch"
    assert m.build(gradlab.ones(1)).backend == "gradlab"


def test_graph_is_frozen_plain_data():
    g = m.from_gradlab(chain(gradlab, 2))
    with pytest.raises(AttributeError):
        g.nodes[0].label = "x"
    assert not hasattr(g.nodes[0], "__dict__") and not hasattr(g, "__dict__")
    assert hash(g.nodes[0]) == hash(m.from_gradlab(g.object_of("n0")).nodes[0])
