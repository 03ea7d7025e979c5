"""gradlab.widgets.trace: frames from engine events, and PyTorch's backward replayed as the same frames."""
import re
import sys

import numpy as np
import pytest

import gradlab
from gradlab.autograd.backward_api import backward_stream
from gradlab.ops._core import GRAD_FNS
from gradlab.viz import model as m
from gradlab.widgets.trace import (FrameMaker, check_prediction, fmt, formula_values, graph_nodes,
                                   record_torch, state_at)

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")


def leaf(T, values):
    return T.tensor(np.asarray(values, dtype=np.float32)).requires_grad_()


def frames_of(T, program, retain_graph=False):
    """(frames, leaves) of one backward of ``program``: gradlab's engine, or torch's replayed."""
    y, params = program(T)
    graph = m.build(y, params)
    maker = FrameMaker(graph, None, retain_graph)  # before the pass: it counts saved tensors
    if T is torch:
        events, maker.values, _ = record_torch((y,), None, retain_graph)
    else:  # frames made as the events come, as the stepper makes them
        events = backward_stream(y, retain_graph=retain_graph, trace=True)
    frames = [maker.start((y,), [T.ones_like(y)])] + [maker.frame(e) for e in events]
    return frames, graph


NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]\d+)?")


def same_text(a, b):
    """Equal texts, numbers compared to float32 precision (the backends may differ in an ulp)."""
    if NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    x = [float(v) for v in NUMBER.findall(a)]
    y = [float(v) for v in NUMBER.findall(b)]
    return np.allclose(x, y, rtol=1e-4, atol=1e-7)


def mul_sum(T):
    x = leaf(T, [1.0, 2.0])
    w = leaf(T, [3.0, 4.0])
    y = (x * w).sum()
    return y, locals()


def mixed(T):
    x = leaf(T, [1.0, 2.0])
    w = leaf(T, [3.0, 4.0])
    y = (x * w).exp().sum() + (x ** 2).mean()
    return y, locals()


def reuse_broadcast(T):
    a = leaf(T, [[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]])
    b = leaf(T, [2.0, 3.0, 4.0])
    c = (a * b + b).tanh()
    y = (c * a).sum() / (b * b).sum()
    return y, locals()


def matmul_relu(T):
    x = leaf(T, np.arange(6).reshape(2, 3) / 6)
    W = leaf(T, np.arange(12).reshape(4, 3) / 10 - 0.5)
    y = x.matmul(W.t()).relu().pow(2).mean()
    return y, locals()


def big(T):
    x = leaf(T, np.linspace(-1, 1, 40))
    y = (x.sin() * 2).sum()
    return y, locals()


PROGRAMS = [mul_sum, mixed, reuse_broadcast, matmul_relu, big]


def test_mul_sum_frames():
    frames, graph = frames_of(gradlab, mul_sum)
    kinds = [(f["kind"], f["name"]) for f in frames]
    assert kinds == [("start", ""), ("enter", "SumBackward0"), ("grads", "SumBackward0"),
                     ("enter", "MulBackward0"), ("grads", "MulBackward0"),
                     ("release", "MulBackward0"), ("enter", "AccumulateGrad"),
                     ("accumulate", "AccumulateGrad"), ("enter", "AccumulateGrad"),
                     ("accumulate", "AccumulateGrad")]
    mul = frames[4]
    assert mul["node"] == graph.id_of(gradlab_node(graph, "MulBackward0"))
    assert mul["panel"][0] == ["incoming grad", "tensor([1., 1.])", ""]
    assert mul["panel"][1] == [
        "grad_self = grad · other",
        "grad  = tensor([1., 1.])\nother = tensor([3., 4.], requires_grad=True)\n"
        "→ tensor([3., 4.])\n  sent to AccumulateGrad → x", "formula"]
    assert mul["panel"][2][0] == "grad_other = grad · self"
    assert mul["panel"][2][1].endswith("→ tensor([1., 2.])\n  sent to AccumulateGrad → w")
    assert mul["done"] == [mul["node"]]
    assert len(mul["carried"]) == 2
    released = frames[5]
    assert sorted(graph.node(i).name for i in released["freed"]) == ["other", "self"]
    acc = frames[7]
    assert acc["title"] == "AccumulateGrad adds the gradient into x.grad"
    assert acc["panel"][1] == ["x.grad", "before: None\nafter:  tensor([3., 4.])", "result"]
    assert len(acc["done"]) == 2 and graph.node(acc["done"][1]).name == "x"


def gradlab_node(graph, name):
    return next(obj for obj, nid in graph.objects.values() if type(obj).__name__ == name)


def test_frames_list_only_new_marks_and_state_accumulates():
    frames, graph = frames_of(gradlab, reuse_broadcast)
    for key in ("carried", "freed", "done"):
        ids = [i for f in frames for i in f[key]]
        assert len(ids) == len(set(ids)), key
    end = state_at(frames, len(frames) - 1)
    next_edges = {e.id for e in graph.edges if e.kind == m.EDGE_NEXT}
    assert next_edges <= end["carried"]  # every edge of the graph carried a gradient
    saved = {n.id for n in graph.nodes if n.kind == m.SAVED}
    assert end["freed"] == saved
    assert state_at(frames, 0)["carried"] == set()
    assert state_at(frames, 3)["current"] == frames[3]["node"]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("retain_graph", [False, True])
def test_torch_replay_gives_gradlabs_frames(program, retain_graph):
    ours, _ = frames_of(gradlab, program, retain_graph)
    theirs, _ = frames_of(torch, program, retain_graph)
    assert [f["step"] for f in ours] == [f["step"] for f in theirs]
    for a, b in zip(ours, theirs):
        assert {k: v for k, v in a.items() if k != "panel"} == \
            {k: v for k, v in b.items() if k != "panel"}
        assert [(h, s) for h, _, s in a["panel"]] == [(h, s) for h, _, s in b["panel"]]
        for (_, x, _), (_, y, _) in zip(a["panel"], b["panel"]):
            assert same_text(x, y), (x, y)


def test_accumulate_before_after_on_second_backward():
    x = leaf(gradlab, [1.0, 2.0])
    (x * 2).sum().backward()
    y = (x * x).sum()
    graph = m.build(y, {"x": x})
    maker = FrameMaker(graph)
    frames = [maker.frame(e) for e in backward_stream(y, trace=True)]
    acc = [f for f in frames if f["kind"] == "accumulate"]
    assert acc[0]["panel"][1][1] == "before: tensor([2., 2.])\nafter:  tensor([4., 6.])"


def test_formula_values_read_saved_and_attrs():
    x = leaf(gradlab, [1.0, 2.0])
    y = x ** 3
    values = formula_values(y.grad_fn)
    assert fmt(values["self"]) == "tensor([1., 2.], requires_grad=True)"
    assert values["exponent"] == 3
    t = leaf(torch, [1.0, 2.0]) ** 3
    assert formula_values(t.grad_fn)["exponent"] == 3


def test_registry_names_every_declared_class():
    assert GRAD_FNS["MulBackward0"]._formulas[0][2] == "grad · other"
    assert GRAD_FNS["PowBackward0"]._inputs == ("self",)
    x = leaf(gradlab, [1.0])
    assert GRAD_FNS[type((x * x).grad_fn).__name__] is type((x * x).grad_fn)


def test_fmt_summarises_big_tensors():
    assert fmt(gradlab.zeros(3, 7)) == "tensor of shape (3, 7), float32"
    assert fmt(torch.zeros(3, 7, dtype=torch.float64)) == "tensor of shape (3, 7), float64"
    assert fmt(gradlab.tensor([1.5])) == "tensor([1.5000])"
    assert fmt(None) == "None" and fmt((1, 2)) == "(1, 2)"


def test_error_frame_names_the_node_that_needed_a_freed_tensor():
    y, params = mul_sum(gradlab)
    graph = m.build(y, params)
    maker = FrameMaker(graph)
    for e in backward_stream(y, trace=True):
        maker.frame(e)
    with pytest.raises(RuntimeError) as info:
        for e in backward_stream(y, trace=True):
            maker.frame(e)
    frame = maker.error(maker.entered, info.value)
    assert frame["name"] == "MulBackward0" and frame["kind"] == "error"
    assert sorted(graph.node(i).name for i in frame["needed"]) == ["other", "self"]
    assert frame["panel"][0][0] == "RuntimeError at MulBackward0"
    assert frame["panel"][0][1].startswith("Trying to backward through the graph a second time")


def views_and_multi_output(T):
    a = leaf(T, np.arange(6).reshape(2, 3) / 5)
    b = a * 2
    b[0, 1:].mul_(3)  # CopySlices
    u, v = b.unbind(0)  # a node with several outputs
    c = T.cat([u, v]).softmax(0)
    y = T.stack([u, v]).max(dim=1)[0].sum() + T.where(c > 0.1, c, c * 0).sum()
    return y, locals()


def test_special_nodes_replay_alike():
    """CopySlices and multi-output nodes. torch hides CopySlices' inner node (and its saved
    tensors), so its release frame exists only on gradlab, and only gradlab counts the 8 bytes
    of what it saves (the 3 of mul_(3), which PyTorch wraps into an int64 tensor)."""
    ours, _ = frames_of(gradlab, views_and_multi_output)
    theirs, _ = frames_of(torch, views_and_multi_output)
    ours = [f for f in ours if (f["kind"], f["name"]) != ("release", "CopySlices")]
    assert len(ours) == len(theirs)
    assert ours[0]["saved_bytes"] == theirs[0]["saved_bytes"] + 8
    assert ours[-1]["saved_bytes"] == theirs[-1]["saved_bytes"] == 0
    for a, b in zip(ours, theirs):
        assert (a["kind"], a["name"], a["carried"], a["done"], a["parts"]) == \
            (b["kind"], b["name"], b["carried"], b["done"], b["parts"])
        assert [h for h, _, _ in a["panel"]] == [h for h, _, _ in b["panel"]]
        for (head, x, _), (_, y, _) in zip(a["panel"], b["panel"]):
            if head == "saved memory":
                continue
            # gradlab also shows CatBackward0's hidden sizes, which torch does not expose
            x = " ".join(line for line in x.split("\n") if not line.startswith("sizes"))
            x = x.replace(" (MulBackward0)", "")  # and names CopySlices' inner node
            assert same_text(" ".join(x.split()), " ".join(y.split())), (x, y)
    copy = next(f for f in ours if f["kind"] == "grads" and f["name"] == "CopySlices")
    assert copy["panel"][1][1].endswith("backward (MulBackward0), the rest passes through "
                                        "unchanged.")
    unbind = next(f for f in ours if f["kind"] == "grads" and f["name"] == "UnbindBackward0")
    assert unbind["panel"][0][0] == "incoming grads (one per output)"
    assert unbind["panel"][1][1].startswith("grads = (tensor([")


def chain(T):
    """Lesson 4's three layers: Python numbers in the graph, a mean."""
    x = leaf(T, [1.0, 2.0])
    y = 3 * x + 2
    z = 2 * y ** 2
    out = z.mean()
    return out, locals()


def grads_panel(frames, name, k=0):
    """The panel of the k-th GradsComputed frame of ``name``."""
    return [f for f in frames if f["kind"] == "grads" and f["name"] == name][k]["panel"]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_panel_speaks_plainly(T):
    frames, _ = frames_of(T, chain)
    assert grads_panel(frames, "MeanBackward0")[1] == [
        "grad_self = grad / numel, expanded",
        "grad = tensor(1.)\nself has 2 elements, shape (2,)\n→ tensor([0.5000, 0.5000])\n"
        "  sent to MulBackward0", "formula"]
    mul = grads_panel(frames, "MulBackward0")  # 2 * y**2: other is the Python number 2
    assert mul[1:] == [
        ["grad_self = grad · other",
         "grad  = tensor([0.5000, 0.5000])\nother = 2\n→ tensor([1., 1.])\n"
         "  sent to PowBackward0", "formula"],
        ["grad_other = grad · self", "self was not saved: other needs no gradient\n"
         "→ not computed", "formula"]]
    assert grads_panel(frames, "AddBackward0")[2] == [
        "grad_other = grad · alpha", "→ not computed: other needs no gradient", "formula"]
    assert grads_panel(frames, "MulBackward0", 1)[1][1].split("\n")[1] == "other = 3"

    def by_float(T):
        x = leaf(T, [1.0, 2.0])
        return (x * 2.5).sum(), locals()
    frames, _ = frames_of(T, by_float)
    assert grads_panel(frames, "MulBackward0")[1][1].split("\n")[1] == "other = 2.5"


def classifier(T):
    """Lesson 17's stepper cell: two Linear layers, a ReLU and a cross-entropy loss."""
    T.manual_seed(0)
    points = T.randn(40, 2)
    labels = (points.pow(2).sum(dim=1) < 1).long()
    T.manual_seed(0)
    small = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.ReLU(), T.nn.Linear(2, 2))
    loss = T.nn.CrossEntropyLoss()(small(points[:4]), labels[:4])
    return loss, dict(small.named_parameters())


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_a_node_computes_with_the_gradient_its_tensor_hook_returned(T):
    def hooked(T):
        x = leaf(T, [0.0, 1.0])
        s = x.sin()
        s.register_hook(lambda g: 2 * g)
        y = (s * 3).sum() + s.sum()
        return y, locals()
    frames, _ = frames_of(T, hooked)
    panel = grads_panel(frames, "SinBackward0")  # its two parts, 3 and 1, no longer add up
    assert panel[0] == ["incoming grad, as a hook changed it", "tensor([8., 8.])", ""]
    assert panel[1][1].startswith("grad = tensor([8., 8.])\n")


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_panel_says_why_a_value_was_not_saved(T):
    frames, _ = frames_of(T, classifier)
    first_layer = grads_panel(frames, "AddmmBackward0", 1)  # its mat1 is the data
    assert first_layer[2] == ["grad_mat1 = grad · mat2ᵀ · alpha",
                              "mat2 was not saved: mat1 needs no gradient\n→ not computed",
                              "formula"]
    lines = first_layer[3][1].split("\n")
    at = lines.index("alpha = 1")
    assert lines[at + 1:at + 3] == ["mat2 has shape (2, 2)", "→ tensor([[0.0000, 0.0394],"]
    nll = grads_panel(frames, "NllLossBackward0")[1][1].split("\n")
    assert nll[-7:-5] == ["reduction    = 'mean'", "ignore_index = -100"]


def broadcasts(T):
    """Lesson 6's cases: a bias added to rows, a 0-d scale, a column (keepdim), both at once."""
    X = T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = leaf(T, [0.5, -1.0, 2.0])
    s = leaf(T, 2.0)
    col = leaf(T, [[1.0], [2.0]])
    c = leaf(T, [[1.0], [2.0], [3.0]])
    y = ((X + b) * s).sum() + (col * X).sum() + (T.ones(2, 3, 4) - c).sum()
    return y, locals()


def summed(frames, name, k=0, section=2):
    """The lines of a grads panel's section that say how a gradient was summed."""
    text = grads_panel(frames, name, k)[section][1]
    return [line for line in text.split("\n") if "broadcast to" in line or "summed" in line]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_panel_says_how_a_broadcast_input_s_gradient_is_summed_to_its_shape(T):
    frames, _ = frames_of(T, broadcasts)
    assert summed(frames, "SubBackward0") == [
        "other has shape (3, 1), broadcast to the output's (2, 3, 4):",
        "-grad · alpha is summed over dim 0, and over dim 2 with keepdim, to other's shape "
        "(3, 1)"]
    assert summed(frames, "SubBackward0", section=1) == []  # self had the output's shape
    assert summed(frames, "MulBackward0", 0, 1) == [  # col * X
        "self has shape (2, 1), broadcast to the output's (2, 3):",
        "grad · other is summed over dim 1 with keepdim to self's shape (2, 1)"]
    assert summed(frames, "MulBackward0", 1, 2) == [  # (X + b) * s
        "other has shape (), broadcast to the output's (2, 3):",
        "grad · self is summed over all its elements to other's shape ()"]
    add = grads_panel(frames, "AddBackward0", 2)[2][1].split("\n")  # X + b
    assert add[-4:] == ["other has shape (3,), broadcast to the output's (2, 3):",
                        "grad · alpha is summed over dim 0 to other's shape (3,)",
                        "→ tensor([4., 4., 4.])", "  sent to AccumulateGrad → b"]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_only_broadcast_inputs_say_they_were_summed(T):
    def linear_and_mm(T):
        T.manual_seed(0)
        layer = T.nn.Linear(3, 2)
        col, row = leaf(T, [[1.0], [2.0]]), leaf(T, [[1.0, 2.0]])
        y = layer(T.ones(4, 3)).sum() + (col @ row).sum()  # col's shape fits the output's
        return y, dict(layer.named_parameters(), col=col, row=row)
    frames, _ = frames_of(T, linear_and_mm)
    assert summed(frames, "AddmmBackward0", section=1) == [  # nn.Linear's bias
        "self has shape (2,), broadcast to the output's (4, 2):",
        "grad · beta is summed over dim 0 to self's shape (2,)"]
    assert summed(frames, "AddmmBackward0", section=3) == []
    assert summed(frames, "MmBackward0", section=1) == []


def test_predict_mode_does_not_tell_how_a_hidden_gradient_was_summed():
    y, params = broadcasts(gradlab)
    maker = FrameMaker(m.build(y, params), predict=True)
    frames = [maker.frame(e) for e in backward_stream(y, trace=True)]
    sub = next(f for f in frames if f["kind"] == "grads" and f["name"] == "SubBackward0")
    assert "summed" not in sub["panel"][2][1]
    assert "summed over dim 0" in sub["answers"]["panel"][2][1]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_only_edges_that_carried_a_gradient_are_marked(T):
    def unbound(T):
        a = leaf(T, [[1.0, 2.0], [3.0, 4.0]])
        u, v = a.unbind(0)  # v is unused: its gradient is None
        c = T.tensor([5.0, 6.0])  # needs no gradient: no edge
        return (u * c).sum(), locals()
    frames, graph = frames_of(T, unbound)
    carried = state_at(frames, len(frames) - 1)["carried"]
    edges = {(graph.node(e.src).name, graph.node(e.dst).name): e.id for e in graph.edges}
    assert edges["UnbindBackward0", "u"] in carried
    assert edges["UnbindBackward0", "v"] not in carried
    assert carried == {e.id for e in graph.edges if e.kind != m.EDGE_SAVED} - \
        {edges["UnbindBackward0", "v"]}


# ---- where gradients meet ----------------------------------------------------------------------

def fan_out(T):
    """h feeds three edges: h * h (twice) and + h."""
    a = T.tensor(2.0, requires_grad=True)
    h = a.exp()
    out = h * h + h
    return out, locals()


def ids_by_name(graph):
    return {n.name: n.id for n in graph.nodes}


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_a_node_receives_its_gradient_in_parts(T):
    """ExpBackward0's incoming gradient is 1 + 7.39 + 7.39 = 15.78, one part per edge into it,
    arriving as each consumer runs; it waits (1 of 3, 2 of 3 ...) until the last arrives."""
    frames, graph = frames_of(T, fan_out)
    exp = ids_by_name(graph)["ExpBackward0"]
    steps = [(f["kind"], f["name"], f["parts"]) for f in frames]
    assert steps[:5] == [("start", "", []), ("enter", "AddBackward0", []),
                         ("grads", "AddBackward0", [[exp, 1, 3]]),
                         ("enter", "MulBackward0", []), ("grads", "MulBackward0", [[exp, 2, 3]])]
    assert all(not f["parts"] for f in frames[5:])
    assert [state_at(frames, k)["waiting"] for k in range(1, 5)] == \
        [{}, {exp: (1, 3)}, {exp: (1, 3)}, {}]
    add, mul = grads_panel(frames, "AddBackward0"), grads_panel(frames, "MulBackward0")
    assert add[2][1].endswith("sent to ExpBackward0 (part 1 of 3: it waits for 2 more)")
    assert add[1][1].endswith("sent to MulBackward0")  # one edge into it: nothing to count
    assert mul[1][1].endswith("sent to ExpBackward0 (part 2 of 3: it waits for 1 more)")
    assert mul[2][1].endswith("sent to ExpBackward0 (part 3 of 3: all in, it can run)")
    enter = next(f for f in frames if f["kind"] == "enter" and f["name"] == "ExpBackward0")
    assert enter["panel"] == [
        ["incoming grad = sum of 3 parts",
         "  tensor(1.)      from AddBackward0 (grad_other)\n"
         "+ tensor(7.3891)  from MulBackward0 (grad_self)\n"
         "+ tensor(7.3891)  from MulBackward0 (grad_other)\n"
         "= tensor(15.7781)", ""],
        ["next", "It waited until all 3 parts had arrived (its dependency count reached 0): "
                 "now it will apply its local derivative rule for each input.", "note"]]
    assert grads_panel(frames, "ExpBackward0")[0] == enter["panel"][0]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_a_leaf_used_twice_is_written_once(T):
    """x * x: one AccumulateGrad, two parts (from self and other), one write into x.grad."""
    def square(T):
        x = leaf(T, [1.0, 2.0])
        return (x * x).sum(), locals()
    frames, graph = frames_of(T, square)
    assert [f["kind"] for f in frames].count("accumulate") == 1
    acc = ids_by_name(graph)["AccumulateGrad"]
    assert next(f for f in frames if f["name"] == "MulBackward0" and f["kind"] == "grads")[
        "parts"] == [[acc, 2, 2]]
    accumulate = next(f for f in frames if f["kind"] == "accumulate")
    assert accumulate["panel"] == [
        ["incoming grad = sum of 2 parts",
         "  tensor([1., 2.])  from MulBackward0 (grad_self)\n"
         "+ tensor([1., 2.])  from MulBackward0 (grad_other)\n"
         "= tensor([2., 4.])", ""],
        ["x.grad", "before: None\nafter:  tensor([2., 4.])", "result"]]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_parts_are_counted_per_output_of_a_node_with_several(T):
    def unbound(T):
        a = leaf(T, [[1.0, 2.0], [3.0, 4.0]])
        u, v = a.unbind(0)
        return (u * u).sum() + v.sum(), locals()
    frames, graph = frames_of(T, unbound)
    unbind = ids_by_name(graph)["UnbindBackward0"]
    assert [p for f in frames for p in f["parts"]] == [[unbind, 1, 3], [unbind, 2, 3]]
    assert grads_panel(frames, "UnbindBackward0")[0] == [
        "incoming grads (one per output)",
        "output 0 = sum of 2 parts:\n"
        "  tensor([1., 2.])  from MulBackward0 (grad_self)\n"
        "+ tensor([1., 2.])  from MulBackward0 (grad_other)\n"
        "= tensor([2., 4.])\n"
        "output 1: tensor([1., 1.])", ""]


# ---- saved memory ------------------------------------------------------------------------------

def saved_bytes(frames):
    """The saved bytes of each step, with the step's kind and node."""
    return [(f["kind"], f["name"], f["saved_bytes"]) for f in frames]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_saved_bytes_fall_as_nodes_free_them(T):
    frames, _ = frames_of(T, mul_sum)  # MulBackward0 saves x and w: 2 float32 each
    assert [b for _, _, b in saved_bytes(frames)] == [16] * 5 + [0] * 5
    release = frames[5]
    assert release["panel"][2] == [
        "saved memory", "The saved tensors now hold nothing, down from 16 bytes.", "note"]
    frames, _ = frames_of(T, mul_sum, retain_graph=True)
    assert {b for _, _, b in saved_bytes(frames)} == {16}


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_a_storage_shared_by_saved_tensors_counts_once(T):
    """h's 4 bytes are saved three times (ExpBackward0's result, MulBackward0's self and other);
    rows of one matrix are views of its 24 bytes; the 2 of x * 2 is an 8-byte int64 tensor."""
    frames, _ = frames_of(T, fan_out)
    assert [b for k, n, b in saved_bytes(frames) if k == "release"] == [4, 0]
    mul_release = next(f for f in frames if f["kind"] == "release")
    assert mul_release["panel"][2][1] == (
        "The saved tensors still hold 4 bytes in 1 storage: another saved tensor shares this "
        "storage, which counts once.")

    def rows(T):
        x = leaf(T, np.arange(6.0).reshape(2, 3))
        return (x[0] * x[1]).sum(), locals()

    def by_two(T):
        x = leaf(T, [1.0, 2.0])
        return (x * 2).sum(), locals()
    assert frames_of(T, rows)[0][0]["saved_bytes"] == 24
    assert frames_of(T, by_two)[0][0]["saved_bytes"] == 8


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_saved_bytes_are_the_graph_model_s_saved_tensors(program):
    """The bytes at the start are those of the distinct storages of the saved tensors drawn."""
    y, params = program(torch)
    graph = m.build(y, params, max_nodes=None)
    maker = FrameMaker(graph)
    storages = {}
    for fn in graph_nodes([y]):
        for name in dir(fn):
            if name.startswith("_saved_") and isinstance(getattr(fn, name), torch.Tensor):
                s = getattr(fn, name).untyped_storage()
                storages[s.data_ptr()] = s.nbytes()
    assert maker.memory.bytes == sum(storages.values()) > 0


# ---- predict mode ------------------------------------------------------------------------------

def test_predict_mode_hides_the_gradients_it_asks_for():
    y, params = mul_sum(gradlab)
    maker = FrameMaker(m.build(y, params), predict=True)
    frames = [maker.frame(e) for e in backward_stream(y, trace=True)]
    mul = next(f for f in frames if f["kind"] == "grads" and f["name"] == "MulBackward0")
    assert mul["quiz"] == [
        {"input": "self", "ask": "grad_self = ?", "kind": "value", "state": "open",
         "answer": "", "verdict": ""},
        {"input": "other", "ask": "grad_other = ?", "kind": "value", "state": "open",
         "answer": "", "verdict": ""}]
    assert mul["panel"][1][1] == ("grad  = tensor([1., 1.])\nother = tensor([3., 4.], "
                                  "requires_grad=True)\n→ ?\n  sent to AccumulateGrad → x")
    answers = mul["answers"]
    assert answers["panel"][1][1].endswith("→ tensor([3., 4.])\n  sent to AccumulateGrad → x")
    assert answers["expected"] == [([3.0, 4.0], [2], "tensor([3., 4.])"),
                                   ([1.0, 2.0], [2], "tensor([1., 2.])")]
    assert answers["sections"] == [1, 2]
    assert frames[1]["quiz"][0]["ask"] == "grad_self = ?"  # SumBackward0's
    assert not any("quiz" in f or "answers" in f for f in frames if f["kind"] != "grads")


QUESTION = {"ask": "grad_self = ?", "kind": "value"}
SHAPE = {"ask": "grad_self.shape = ?", "kind": "shape"}
EXPECTED = ([7.389056205749512, 1.0], [2], "tensor([7.3891, 1.0000])")


@pytest.mark.parametrize("answer, verdict", [
    ("[7.39, 1]", (True, "Correct: grad_self = tensor([7.3891, 1.0000])")),
    ("tensor([7.39, 1.])", (True, "Correct: grad_self = tensor([7.3891, 1.0000])")),
    (np.array([7.4, 1.0]), (True, "Correct: grad_self = tensor([7.3891, 1.0000])")),
    ("[7.5, 1]", (False, "Not quite: that is not within 1% of grad_self. Try again, or Reveal.")),
    ("7.39", (False, "Not quite: the answer should hold 2 values, got a single value. Try "
                     "again, or Reveal.")),
    ("[7.39, 1, 0]", (False, "Not quite: the answer should hold 2 values, got 3. Try again, "
                             "or Reveal.")),
    ("7,39", (False, "Not quite: that is not within 1% of grad_self. Try again, or Reveal.")),
    ("e**2", (False, "Could not check this: could not read 'e**2': type a number (7.39), a "
                     "list ([1, 2.5]) or, for a shape, a tuple ((2, 3)).")),
    ("", (False, "Could not check this: could not read '': type a number (7.39), a list "
                 "([1, 2.5]) or, for a shape, a tuple ((2, 3)).")),
])
def test_a_prediction_is_checked_as_the_exercises_check_answers(answer, verdict):
    assert check_prediction(answer, QUESTION, EXPECTED, 0.01) == verdict


def test_a_shape_prediction_must_be_exact():
    assert check_prediction("(2,)", SHAPE, EXPECTED, 0.01) == \
        (True, "Correct: grad_self.shape = (2,)")
    assert check_prediction(torch.Size([2]), SHAPE, EXPECTED, 0.01)[0]
    assert check_prediction("(3,)", SHAPE, EXPECTED, 0.01) == \
        (False, "Not quite: grad_self.shape is another shape. Try again, or Reveal.")
    assert check_prediction("(2, 1)", SHAPE, EXPECTED, 0.01)[0] is False


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_forward_line_is_the_users_not_the_librarys(T):
    """F.relu is Python in both libraries: the line shown is the caller's, not relu's own."""
    from gradlab.widgets.trace import forward_line
    x = T.tensor([1.0, -2.0], requires_grad=True)
    backend = "torch" if T is torch else "gradlab"
    assert forward_line(T.nn.functional.relu(x).grad_fn, backend) is None  # mode off
    with T.autograd.set_detect_anomaly(True):
        y = T.nn.functional.relu(x); line = sys._getframe().f_lineno  # noqa: E702
    T.set_anomaly_enabled(False)
    assert forward_line(y.grad_fn, backend) == (
        f'File "{__file__}", line {line}, in test_forward_line_is_the_users_not_the_librarys\n'
        "y = T.nn.functional.relu(x); line = sys._getframe().f_lineno  # noqa: E702")


def test_saved_tensor_hooks_frames():
    """Frame 0 lists what the pack hooks returned; each unpack is a step showing the packed value
    and the unpack hook's result (used by the node's formula panel, no hook called again); the
    release says the packed values went; the drawing keeps the saved tensors, then marks them
    freed."""
    calls = []
    x = leaf(gradlab, [1.0, 2.0])
    with gradlab.autograd.graph.saved_tensors_hooks(lambda t: ("cpu", t.detach() * 10),
                                                    lambda p: calls.append(1) or p[1] / 10):
        y = (x.exp() * x).sum()
    frames, graph = frames_of(gradlab, lambda T: (y, {"x": x, "y": y}))
    assert len(calls) == 3  # once per saved tensor, by the engine: drawing calls no hook
    start = dict((h, t) for h, t, _ in frames[0]["panel"])
    assert start["packed by saved-tensor hooks"] == (
        "ExpBackward0.result: ('cpu', tensor([27.1828, 73.8906]))\n"
        "MulBackward0.self: ('cpu', tensor([27.1828, 73.8906]))\n"
        "MulBackward0.other: ('cpu', tensor([10., 20.]))")
    kinds = [(f["kind"], f["name"]) for f in frames]
    mul = kinds.index(("enter", "MulBackward0"))
    assert kinds[mul + 1:mul + 5] == [("unpack", "MulBackward0"), ("unpack", "MulBackward0"),
                                      ("grads", "MulBackward0"), ("release", "MulBackward0")]
    unpack = frames[mul + 1]
    assert unpack["title"] == "MulBackward0 unpacks its saved other"
    assert unpack["panel"] == [["packed", "('cpu', tensor([10., 20.]))", ""],
                               ["unpack_hook returned", "tensor([1., 2.])", "result"]]
    grads = dict((h, t) for h, t, _ in frames[mul + 3]["panel"])
    assert "other = tensor([1., 2.])" in grads["grad_self = grad · other"]
    assert "dropped" in dict((h, t) for h, t, _ in frames[mul + 4]["panel"])["why"]
    saved = [n for n in graph.nodes if n.kind == m.SAVED]
    assert len(saved) == 3 and all(n.state == m.ALIVE for n in saved)
    assert frames[-1]["saved_bytes"] == 0 < frames[0]["saved_bytes"]
    assert sorted(i for f in frames for i in f["freed"]) == sorted(n.id for n in saved)


def test_packed_without_a_tensor_is_drawn_as_packed():
    x = leaf(gradlab, [1.0, 2.0])
    keep = []
    with gradlab.autograd.graph.saved_tensors_hooks(lambda t: keep.append(t) or len(keep) - 1,
                                                    keep.__getitem__):
        y = x.exp().sum()
    graph = m.build(y, {"x": x})
    (saved,) = [n for n in graph.nodes if n.kind == m.SAVED]
    assert saved.state == m.PACKED and saved.label == "result\n(packed)"


def legendre_program(T):
    """PyTorch's Legendre polynomial tutorial's custom Function, applied to a computed input."""
    class LegendrePolynomial3(T.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            """P3'(x) = 1.5 (5 x^2 - 1)."""
            # the docstring, this comment and the decorator are not shown
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    x = leaf(T, [0.5, 2.0])
    y = LegendrePolynomial3.apply(x * 2).sum()
    return y, locals()


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_a_custom_function_s_panel_shows_its_backward_and_what_it_read(T):
    frames, graph = frames_of(T, legendre_program)
    assert "LegendrePolynomial3Backward" in [n.label for n in graph.nodes]
    assert grads_panel(frames, "LegendrePolynomial3Backward") == [
        ["incoming grad", "tensor([1., 1.])", ""],
        ["LegendrePolynomial3.backward (your code)",
         "def backward(ctx, grad_output):\n    input, = ctx.saved_tensors\n"
         "    return grad_output * 1.5 * (5 * input ** 2 - 1)", "formula"],
        ["ctx.saved_tensors", "saved_tensors[0] = tensor([1., 4.], grad_fn=<MulBackward0>)", ""],
        ["grad of input 0", "→ tensor([  6.0000, 118.5000])\n  sent to MulBackward0", "formula"]]
    release = [f for f in frames if f["kind"] == "release" and
               f["name"] == "LegendrePolynomial3Backward"]
    assert [f["panel"][0][1] for f in release] == ["saved_tensors[0]"]


def test_custom_function_frames_replay_alike():
    g_frames, _ = frames_of(gradlab, legendre_program)
    t_frames, _ = frames_of(torch, legendre_program)
    assert [(f["kind"], f["name"], f["panel"]) for f in g_frames] == \
        [(f["kind"], f["name"], f["panel"]) for f in t_frames]


def test_a_custom_function_s_saved_tensors_are_packed_and_unpacked_once():
    """Under saved-tensor hooks a custom Function's saved tensors are packed as any op's: frame 0
    lists them, an unpack frame shows each, and the panel shows what the hook returned without
    calling it again."""
    calls = []
    with gradlab.autograd.graph.saved_tensors_hooks(lambda t: ("p", t),
                                                    lambda p: calls.append(1) or p[1]):
        y, params = legendre_program(gradlab)
    frames, _ = frames_of(gradlab, lambda T: (y, params))
    assert len(calls) == 1  # x * 2 saves only the number 2, which is not packed
    start = dict((h, t) for h, t, _ in frames[0]["panel"])
    assert "LegendrePolynomial3Backward.saved_tensors[0]: ('p', tensor([1., 4.], " \
        "grad_fn=<MulBackward0>))" in start["packed by saved-tensor hooks"]
    unpack = [f["title"] for f in frames if f["kind"] == "unpack"]
    assert unpack[0] == "LegendrePolynomial3Backward unpacks saved_tensors[0]"
    assert grads_panel(frames, "LegendrePolynomial3Backward")[2] == [
        "ctx.saved_tensors", "saved_tensors[0] = tensor([1., 4.], grad_fn=<MulBackward0>)", ""]


def conv_pool(T):
    """Lesson 21's net in functional form: a conv with a bias, a ReLU, a 2x2 max pool."""
    x = leaf(T, np.arange(16.0).reshape(1, 1, 4, 4) % 5)
    w = leaf(T, [[[[1.0, 0.0], [-1.0, 2.0]]]])
    b = leaf(T, [1.0])
    y = T.nn.functional.max_pool2d(T.nn.functional.conv2d(x, w, b).relu(), 2, stride=1)
    return y.sum(), locals()


def shown_names(section):
    """The names of the values a formula section lists (``name = value`` lines)."""
    return [line.split(" = ")[0].strip() for line in section[1].split("\n")
            if " = " in line and not line.startswith(" ")]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_conv_and_max_pool_panels_list_what_each_gradient_reads(T):
    """ConvolutionBackward0's three gradients come from one joint formula: each input's section
    lists only the values its gradient depends on (the bias's: grad alone); max pool's says
    that result1 holds the indices of the maxima."""
    frames, _ = frames_of(T, conv_pool)
    head, *inputs = grads_panel(frames, "ConvolutionBackward0")
    assert [s[0] for s in inputs] == [
        "grad_input = conv_transpose(grad, weight): each grad · weight added back over its "
        "window",
        "grad_weight = correlation of input with grad (grad as the kernel), summed over the batch",
        "grad_bias = grad summed over the batch and every position (all dims but 1)"]
    geometry = ["stride", "padding", "dilation", "transposed", "groups"]
    assert [shown_names(s) for s in inputs] == [
        ["grad", "weight"] + geometry, ["grad", "input"] + geometry, ["grad"]]
    assert "stride     = (1, 1)\n" in inputs[0][1]
    assert inputs[2][1].endswith("→ tensor([4.])\n  sent to AccumulateGrad → b")
    pool = grads_panel(frames, "MaxPool2DWithIndicesBackward0")[1]
    assert pool[0] == ("grad_self = each grad added at result1: its window's max, by index "
                       "(row · width + column)")
    assert shown_names(pool) == ["grad", "self", "result1"]
    assert "result1 = tensor([[[[3, 2],\n                    [3, 7]]]])\n" in pool[1]
    assert pool[1].endswith("→ tensor([[[[0., 0., 1.],\n            [2., 0., 0.],\n"
                            "            [0., 1., 0.]]]])\n  sent to ReluBackward0")
