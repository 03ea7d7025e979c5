"""gradlab.widgets.ForwardStepper: forward mode's tangents op by op, checked against PyTorch."""
import re

import numpy as np
import pytest

import gradlab
from gradlab.autograd import forward_ad
from gradlab.widgets import ForwardStepper
from gradlab.widgets.trace import state_at

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")
fwAD = torch.autograd.forward_ad


def net(x, w):
    """Each intermediate in the order its op runs (the stepper's steps), the output last."""
    a = x * w
    b = a.tanh()
    c = b * x
    d = c.sum()
    e = w.exp()
    f = e.mean()
    return [a, b, c, d, e, f, d + f]


def squares(x):
    a = x * 2
    b = a.exp_()  # in place: its node still shows the tangent the op gave
    c = b.sin()
    return [a, b, c, c * x]


def two_outputs(x):
    a = x.sin()
    b = x * x
    return [a, b, a, b]  # returns (a, b)


PROGRAMS = {
    "net": (net, [[1.0, -2.0], [0.5, 0.25]], 7, lambda out: out[-1]),
    "in_place": (squares, [[0.5, -1.0, 2.0]], 4, lambda out: out[-1]),
    "two_outputs": (two_outputs, [[0.3, 1.2]], 2, lambda out: tuple(out[-2:])),
}


def stepper_of(name, **kwargs):
    program, values, n_ops, result = PROGRAMS[name]
    primals = tuple(gradlab.tensor(v) for v in values)
    return ForwardStepper(lambda *xs: result(program(*xs)), primals, **kwargs), n_ops


def torch_tangents(name, direction):
    """The tangent of each intermediate and the outputs, by torch's forward AD."""
    program, values, _, result = PROGRAMS[name]
    with fwAD.dual_level():
        duals = [fwAD.make_dual(torch.tensor(v), torch.tensor(t.tolist()))
                 for v, t in zip(values, direction)]
        out = program(*duals)
        # an in-place op changes its tensor's tangent: read each one as its op ran
        return [fwAD.unpack_dual(t).tangent.clone() for t in out]


@pytest.mark.parametrize("name", ["net", "two_outputs"])
def test_each_step_shows_the_tangent_torch_computes(name):
    s, n_ops = stepper_of(name)
    _, values, _, _ = PROGRAMS[name]
    assert len(s.passes) == sum(np.size(v) for v in values)  # one pass per input element
    for p in s.passes:
        expected = torch_tangents(name, p.direction)
        assert len(p.steps) == n_ops
        for step, ref in zip(p.steps, expected):
            np.testing.assert_allclose(step.tangent.tolist(), ref.tolist(), rtol=1e-6)


def test_an_in_place_op_shows_the_tangent_it_gave():
    s, _ = stepper_of("in_place")
    for p in s.passes:
        a, b, c, out = torch_tangents("in_place", p.direction)
        a = 2 * torch.tensor(p.direction[0].tolist())  # a's tangent before exp_ changed it
        got = [step.tangent.tolist() for step in p.steps]
        np.testing.assert_allclose(got[0], a.tolist(), rtol=1e-6)
        np.testing.assert_allclose(got[1:], [b.tolist(), c.tolist(), out.tolist()], rtol=1e-6)
        assert [type(step.node).__name__ for step in p.steps] == \
            ["MulBackward0", "ExpBackward0", "SinBackward0", "MulBackward0"]


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_the_passes_give_torchs_jacobian_column_by_column(name):
    program, values, _, result = PROGRAMS[name]
    s, _ = stepper_of(name)
    inputs = tuple(torch.tensor(v) for v in values)
    jac = torch.autograd.functional.jacobian(
        lambda *xs: result(program(*[x.clone() for x in xs])), inputs, strategy="forward-mode",
        vectorize=True)
    outputs = s.passes[0].outputs
    per_output = jac if len(outputs) > 1 else (jac,)  # [output][input]
    rows = [np.concatenate([np.reshape(j.numpy(), (o.numel(), -1)) for j in by_input], axis=1)
            for by_input, o in zip(per_output, outputs)]
    np.testing.assert_allclose(s.jacobian(), np.concatenate(rows), rtol=1e-6)
    last = s.frames[-1]
    assert last["kind"] == "done" and last["panel"][-1][0] == "Jacobian (pass k gave column k)"


def test_one_direction_is_one_pass_and_its_jvp():
    x, v = gradlab.tensor([1.0, -2.0]), gradlab.tensor([0.5, 3.0])
    w, u = gradlab.tensor([0.5, 0.25]), gradlab.tensor([1.0, -1.0])
    s = ForwardStepper(lambda x, w: net(x, w)[-1], (x, w), tangents=(v, u))
    assert len(s.passes) == 1
    _, jvp = torch.func.jvp(lambda x, w: net(x, w)[-1], (torch.tensor([1.0, -2.0]),
                            torch.tensor([0.5, 0.25])),
                            (torch.tensor([0.5, 3.0]), torch.tensor([1.0, -1.0])))
    assert s.passes[0].tangents[0].item() == pytest.approx(jvp.item(), rel=1e-6)
    assert "Pass 1 of 1" in s.frames[0]["title"]
    # the inputs are named after the function's parameters, in the panel and the drawing
    assert s.frames[0]["panel"][0][1] == "x_t = tensor([0.5000, 3.0000])\nw_t = tensor([ 1., -1.])"
    assert {n.name for n in s.graph.nodes} >= {"x", "w"}
    assert f"output_t = {gradlab.tensor(jvp.item())!r}" in s.text(len(s.frames) - 1)


def test_frames_walk_the_drawing_in_the_order_the_ops_ran():
    s, n_ops = stepper_of("net")
    graph = s.graph
    first = s.frames[:n_ops + 2]
    assert [f["kind"] for f in first] == ["seed"] + ["tangent"] * n_ops + ["done"]
    names = [f["name"] for f in first[1:-1]]
    assert names == ["MulBackward0", "TanhBackward0", "MulBackward0", "SumBackward0",
                     "ExpBackward0", "MeanBackward0", "AddBackward0"]
    for frame in first[1:-1]:  # the current node is the op's node in make_dot's drawing
        assert graph.node(frame["node"]).label.startswith(frame["name"])
    # the panel: the forward formula (the op table's result column), its numbers, the tangent
    head, body, style = first[2]["panel"][0]
    assert (head, style) == ("result_t = self_t · (1 - result²)", "formula")
    tangent = torch_tangents("net", s.passes[0].direction)[1]
    assert body.splitlines()[-1] == f"→ {gradlab.tensor(tangent.tolist())!r}"
    assert re.search(r"^self_t = tensor\(\[0.5000, 0.0000\]\)$", body, re.M)
    # an input without a parameter name (*args) is named by its position
    assert first[0]["panel"][0][1].splitlines()[0] == "input0_t = tensor([1., 0.])"


def test_a_new_pass_clears_the_marks_of_the_last():
    s, n_ops = stepper_of("net")
    end_of_first = state_at(s.frames, n_ops + 1)
    second = state_at(s.frames, n_ops + 2)
    assert end_of_first["done"] > second["done"] and second["done"]
    assert second["done"] == set(s.frames[n_ops + 2]["done"])
    # in a pass where only w moves, the edge from x carries nothing
    w_pass = state_at(s.frames, 3 * (n_ops + 2) - 1)
    x_edge = s.graph.edge_id(s.passes[0].steps[0].node, 0)
    assert x_edge in end_of_first["carried"] and x_edge not in w_pass["carried"]


def test_static_picture_and_text():
    s, _ = stepper_of("net")
    s.step()
    data, _ = s._repr_mimebundle_()
    assert {"text/plain", "image/svg+xml", "image/png"} <= set(data)
    assert " at 0x" not in data["text/plain"] and data["text/plain"].startswith("ForwardStepper(")
    current = s.frames[1]["node"]
    assert re.search(f'<g id="{current}" class="node[^"]* current"', data["image/svg+xml"])
    view = s.view()
    assert view.mode == "forward" and view.count == len(s.frames) and view.complete


def test_a_wrong_tangent_fails_as_make_dual_does():
    with pytest.raises(RuntimeError) as ours:
        ForwardStepper(lambda x: x.sin(), gradlab.ones(2), tangents=gradlab.ones(3))
    with fwAD.dual_level(), pytest.raises(RuntimeError) as theirs:
        fwAD.make_dual(torch.ones(2), torch.ones(3))
    assert str(ours.value) == str(theirs.value)
    assert forward_ad._levels.watch is None and forward_ad._levels.current == -1
