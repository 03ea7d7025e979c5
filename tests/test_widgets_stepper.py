"""gradlab.widgets.BackwardStepper: steps run the real engine; the end state is backward()'s."""
import base64
import json
import os
import re
import subprocess
import sys
import warnings
import zipfile
from html import escape

import numpy as np
import pytest

import gradlab
from gradlab.autograd.backward_api import backward_stream
from gradlab.viz import model as m
from gradlab.viz.raster import png_bundle
from gradlab.widgets import BackwardStepper, frontend, styles

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def program(T):
    """A small net: a leaf used twice, broadcasting, saved inputs and a saved result."""
    x = T.tensor([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]], requires_grad=True)
    w = T.tensor([2.0, 3.0, 4.0], requires_grad=True)
    h = (x * w).tanh()
    loss = (h * x).sum() + w.exp().mean()
    return loss, dict(x=x, w=w, h=h, loss=loss)


def grads(T, p):
    return {k: p[k].grad.tolist() for k in ("x", "w")}


def stepped(T, retain_graph=False):
    loss, p = program(T)
    s = BackwardStepper(loss, retain_graph=retain_graph, params=p)
    while s.step():
        pass
    return s, loss, p


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_final_state_equals_backward(T):
    s, loss, p = stepped(T)
    ref_loss, ref = program(T)
    ref_loss.backward()
    assert grads(T, p) == grads(T, ref)
    # the graph after stepping, freed saved tensors included, is the graph after backward()
    assert m.build(loss, p) == m.build(ref_loss, ref)
    assert s.complete and s.frames[-1]["kind"] == "done"


def test_gradlab_final_state_equals_torch_backward():
    s, _, p = stepped(gradlab)
    ref_loss, ref = program(torch)
    ref_loss.backward()
    np.testing.assert_allclose(grads(gradlab, p)["x"], grads(torch, ref)["x"], rtol=1e-6)
    np.testing.assert_allclose(grads(gradlab, p)["w"], grads(torch, ref)["w"], rtol=1e-6)


def test_grad_fills_in_as_accumulate_grad_steps_pass():
    loss, p = program(gradlab)
    s = BackwardStepper(loss, params=p)
    seen = []
    while s.step():
        f = s.frames[s.index]
        seen.append((f["kind"], p["x"].grad is None, p["w"].grad is None))
        if f["kind"] == "accumulate":
            leaf = p[f["title"].split()[-1].split(".")[0]]
            assert f["panel"][1][1].endswith(gradlab_repr(leaf.grad))
    first_acc = next(i for i, k in enumerate(seen) if k[0] == "accumulate")
    assert all(k[1] and k[2] for k in seen[:first_acc])  # nothing accumulated before
    assert not seen[-1][1] and not seen[-1][2]


def gradlab_repr(t):
    return repr(t).replace("\n", "\n" + " " * len("after:  "))


def test_saved_tensors_freed_as_the_pass_releases_them():
    loss, p = program(gradlab)
    s = BackwardStepper(loss, params=p)
    mul = loss.grad_fn.next_functions[0][0].next_functions[0][0]  # h * x
    assert type(mul).__name__ == "MulBackward0"
    while s.frames[s.index]["kind"] != "release" or s.frames[s.index]["name"] != "MulBackward0":
        assert not any(slot.freed for slot in mul.saved_slots().values())
        s.step()
    assert all(slot.freed for slot in mul.saved_slots().values())
    assert set(s.state["freed"]) >= set(s.frames[s.index]["freed"])


def test_step_back_reset_and_events():
    loss, p = program(gradlab)
    s = BackwardStepper(loss, params=p)
    assert s.index == 0 and s.back() is False
    assert s.step() and s.step() and s.index == 2
    assert s.back() and s.index == 1
    assert s.step() and s.index == 2 and len(s.frames) == 3  # re-showed, did not re-run
    s.reset()
    assert s.index == 0 and len(s.events) == 2 and p["x"].grad is None
    n = 0
    while s.step():
        n += 1
    assert s.step() is False and s.complete
    expected = [type(e).__name__ for e in backward_stream(program(gradlab)[0], trace=True)]
    assert [type(e).__name__ for e in s.events] == expected
    assert len(s.frames) == len(expected) + 2  # start, one per event, done
    assert s.index == len(s.frames) - 1


def recorded(view):
    """The messages ``view`` sends to its browser, collected in a list."""
    sent = []
    view.send = lambda content, buffers=None: sent.append(content)
    return sent


def test_run_to_end_and_sent_messages():
    loss, p = program(gradlab)
    s = BackwardStepper(loss, params=p)
    v = s.view()
    sent = recorded(v)
    v._on_message(v, {"type": "step"}, [])
    assert v.index == 1 and sent[-1] == {"type": "frames", "start": 1, "frames": [s.frames[1]],
                                         "complete": False, "index": 1}
    assert s.index == 0  # the Python cursor is the stepper's own
    v._on_message(v, {"type": "run"}, [])
    assert s.complete and v.complete and v.index == len(s.frames) - 1 == v.count - 1
    assert sent[-1]["start"] == 2 and len(sent[-1]["frames"]) == len(s.frames) - 2
    assert sent[-1]["index"] == len(s.frames) - 1
    v._on_message(v, {"type": "sync"}, [])
    assert sent[-2]["start"] == 0 and len(sent[-2]["frames"]) == len(s.frames)
    assert sent[-1] == {"type": "index", "index": v.index}
    v._on_message(v, {"type": "again"}, [])
    assert s.frames[-1]["kind"] == "error" and sent[-1]["index"] == v.index == len(s.frames) - 1
    json.dumps(s.frames)  # frames are plain JSON


def test_each_display_keeps_the_step_it_was_made_at():
    """A lesson steps in Python and shows the stepper in several cells: each output keeps its
    step, the stepper stays one (one pass, one list of frames), and new frames reach every view."""
    loss, p = program(gradlab)
    s = BackwardStepper(loss, params=p)
    first = s.view()
    sent = recorded(first)
    s.step()
    s.step()
    second = s.view()
    assert (first.index, second.index, s.index) == (0, 2, 2)
    assert sent[-1] == {"type": "frames", "start": 2, "frames": [s.frames[2]], "complete": False}
    assert first.count == 3 and "step 0 of 2 so far" in first._repr_mimebundle_()[0]["text/plain"]
    assert second._repr_mimebundle_()[0]["text/plain"].startswith(
        "BackwardStepper(gradlab, 19 nodes: 7 grad_fn, 2 AccumulateGrad): step 2 of 2 so far")
    # a view that steps past the recorded frames runs the engine once, for all views
    recorded(second)
    second._on_message(second, {"type": "step"}, [])
    assert (first.index, second.index, s.index, len(s.frames)) == (0, 3, 2, 4)
    assert sent[-1] == {"type": "frames", "start": 3, "frames": [s.frames[3]], "complete": False}
    s.run()
    assert first.index == 0 and second.index == 3 and first.complete and second.complete
    data, _ = s._repr_mimebundle_()  # displaying the stepper shows a new view at its step
    assert f"step {len(s.frames) - 1} of {len(s.frames) - 1}: Backward pass complete" in \
        data["text/plain"]
    assert len(s._views) == 3


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_second_backward_fails_at_the_node_that_needed_a_freed_tensor(T):
    s, loss, p = stepped(T)
    error = s.try_backward()
    ref_loss, _ = program(torch)
    ref_loss.backward()
    with pytest.raises(RuntimeError) as ref:
        ref_loss.backward()
    assert type(error) is RuntimeError and str(error) == str(ref.value)
    frame = s.frames[-1]
    assert frame["kind"] == "error" and s.index == len(s.frames) - 1
    assert frame["name"] == "ExpBackward0"  # the first node run that needs a saved tensor
    assert frame["node"] == s.state["current"] is not None
    assert [s.graph.node(i).name for i in frame["needed"]] == ["result"]
    assert frame["panel"][0] == ["RuntimeError at ExpBackward0", str(ref.value), "error"]


def sigmoid_modified(T):
    """z = 3 * sigmoid(x), then the sigmoid's result (saved by its node) doubled in place."""
    x = T.tensor([0.0, 1.0, 2.0], requires_grad=True)
    y = x.sigmoid()
    z = y * 3
    y.mul_(2)
    return z.sum(), dict(x=x, y=y, z=z)


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_a_saved_tensor_modified_in_place_stops_the_pass_at_the_node_that_saved_it(T):
    out, p = sigmoid_modified(T)
    s = BackwardStepper(out, params=p)
    with pytest.raises(RuntimeError) as raised:
        s.run()
    ref, _ = sigmoid_modified(torch)
    with pytest.raises(RuntimeError) as expected:
        ref.backward()
    assert str(raised.value) == str(s.error) == str(expected.value)
    assert "output 0 of Sigmoid, is at version 1; expected version 0" in str(s.error)
    frame = s.frames[-1]
    assert frame["kind"] == "error" and s.complete and s.step() is False
    assert frame["name"] == "SigmoidBackward0" and frame["node"] == s.state["current"]
    assert [s.graph.node(i).label for i in frame["needed"]] == ["result\n(modified in place)"]
    assert frame["panel"][0] == ["RuntimeError at SigmoidBackward0", str(expected.value),
                                 "error"]
    assert frame["panel"][1][0] == "why" and "in-place operation" in frame["panel"][1][1]
    # the nodes before it ran, and the leaf got nothing
    assert "MulBackward0 computes the gradients of its inputs" in [f["title"] for f in s.frames]
    assert p["x"].grad is None


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_only_the_saved_tensor_modified_in_place_is_marked(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 1, x * 2
    c = a * b  # saves both factors
    b.add_(1)
    s = BackwardStepper(c.sum(), params=dict(x=x, a=a, b=b, c=c))
    with pytest.raises(RuntimeError, match="output 0 of Add, is at version 1"):
        s.run()
    frame = s.frames[-1]
    assert frame["name"] == "MulBackward0" and frame["node"] == s.graph.id_of(c.grad_fn)
    assert sorted(s.graph.saved_ids(c.grad_fn)) == ["other", "self"]
    assert [s.graph.node(i).label for i in frame["needed"]] == ["other\n(modified in place)"]


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_retain_graph_keeps_saved_and_backward_again_accumulates(T):
    s, loss, p = stepped(T, retain_graph=True)
    assert not any(f["freed"] for f in s.frames)
    assert all(n.state == m.ALIVE for n in m.build(loss, p).of_kind(m.SAVED))
    once = grads(T, p)
    assert s.try_backward() is None
    assert s.frames[-1]["kind"] == "again"
    np.testing.assert_allclose(grads(T, p)["w"], 2 * np.array(once["w"]), rtol=1e-6)


def test_stepping_a_freed_graph_shows_the_error():
    loss, p = program(gradlab)
    loss.backward()
    s = BackwardStepper(loss, params=p)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        while s.step():
            pass
    assert s.complete and s.frames[-1]["kind"] == "error" and s.step() is False


def test_reprs_have_no_address_and_a_static_svg():
    loss, p = program(gradlab)
    s = BackwardStepper(loss, params=p)
    s.step()
    data, metadata = s._repr_mimebundle_()
    assert set(data) == {"text/plain", "image/svg+xml", "image/png",
                         "application/vnd.jupyter.widget-view+json"}
    # untrusted notebooks show the PNG: the static SVG's picture
    assert ({"image/png": data["image/png"]}, metadata) == png_bundle(data["image/svg+xml"])
    for text in (repr(s), data["text/plain"], data["image/svg+xml"]):
        assert not re.search(r"0x[0-9a-f]{6,}", text)
    assert repr(s) == ("BackwardStepper(gradlab, 19 nodes: 7 grad_fn, 2 AccumulateGrad): step 1 "
                       "of 1 so far (the pass runs as you step): AddBackward0 receives its "
                       "gradient")
    assert data["text/plain"].splitlines()[1:3] == ["  incoming grad:", "    tensor(1.)"]
    svg = data["image/svg+xml"]
    assert svg.startswith('<svg class="gradlab-stepper"') and "<style>" in svg
    current = s.state["current"]
    assert re.search(f'<g id="{current}" class="node grad_fn current"', svg)
    s.run()
    svg = s.static_svg()
    assert svg.count(" freed") >= len(m.build(loss, p).of_kind(m.SAVED))
    assert "carried" in svg and " done" in svg


def test_svg_is_escaped_and_ids_match_the_model():
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    s = BackwardStepper(y, params={"<img src=x onerror=alert(1)>": x, "y": y})
    assert "<img" not in s.svg and "&lt;img src=x onerror=alert(1)&gt;" in s.svg
    assert s.svg.startswith("<svg")
    ids = set(re.findall(r'<g id="([ne]\d+)"', s.svg))
    shown = {n.id for n in s.graph.nodes} | {e.id for e in s.graph.edges}
    assert ids == shown
    s.run()
    marked = {i for f in s.frames for k in ("carried", "freed", "done") for i in f[k]}
    assert marked <= ids


def test_large_graph_is_collapsed_with_a_message_and_still_steps():
    a = gradlab.tensor([0.5], requires_grad=True)
    h = a
    for _ in range(1700):  # 5,100 grad_fn nodes
        h = (h * 1.001).tanh() + a
    s = BackwardStepper(h, params={})
    assert s.graph.omitted > 4000
    assert s.message.startswith("Large graph: ") and "max_nodes=500" in s.message
    s.run()
    hidden = [f for f in s.frames if f["name"] and f["node"] is None]
    assert hidden and hidden[0]["panel"][-1][0] == "not drawn"
    # frames stay small: what changed at the step, and a sum of 1,701 parts shows 8 of them
    assert max(len(json.dumps(f)) for f in s.frames) < 2000
    acc = next(f for f in s.frames if f["kind"] == "accumulate")
    assert acc["panel"][0][0] == "incoming grad = sum of 1701 parts"
    assert "\n+ … 1694 more parts …\n" in acc["panel"][0][1]
    ref = gradlab.tensor([0.5], requires_grad=True)
    h = ref
    for _ in range(1700):
        h = (h * 1.001).tanh() + ref
    h.backward()
    assert a.grad.tolist() == ref.grad.tolist()
    small = BackwardStepper(ref * 2, params={}, max_nodes=None)
    assert small.message == "" and small.graph.omitted == 0


def test_default_names_come_from_the_callers_variables():
    weight = gradlab.tensor([1.0, 2.0], requires_grad=True)
    out = (weight * weight).sum()
    s = BackwardStepper(out)
    assert "weight" in {n.name for n in s.graph.nodes}


def test_frontend_files_are_found_and_ship_in_the_wheel(tmp_path):
    assert frontend("stepper.js").parent.name in ("widgets", "_frontend")
    js = frontend("stepper.js").read_text()
    assert "export default" in js and "import " not in js
    assert "http" not in js.replace('"http://www.w3.org/2000/svg"', "")  # a name, not fetched
    assert "innerHTML" not in js.replace('graph.innerHTML = model.get("svg")', "")
    pytest.importorskip("hatchling")
    from hatchling.builders.wheel import WheelBuilder
    wheel = next(iter(WheelBuilder(ROOT).build(directory=str(tmp_path), versions=["standard"])))
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("stepper.js", "stepper.css", "history.js", "history.css", "theme.css"):
        assert f"gradlab/_frontend/{f}" in names
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    out = subprocess.run([sys.executable, "-c", "from gradlab.widgets import frontend; "
                          "print(frontend('stepper.js'))"], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(tmp_path / "site")})
    assert out.stdout.strip() == str(tmp_path / "site" / "gradlab" / "_frontend" / "stepper.js")


NOTEBOOK = [
    "import gradlab as torch\n"
    "from gradlab.widgets import BackwardStepper, GradHistory\n"
    "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
    "y = (x * x).sum()\n"
    "s = BackwardStepper(y)\n"
    "s",
    "for _ in range(3):\n"
    "    s.step()\n"
    "s",
    "h = GradHistory(x)\n"
    "s.run()\n"
    "(x * 3).sum().backward()\n"
    "h",
]


def test_notebook_outputs_validate_under_nbval_and_convert(tmp_path, monkeypatch):
    """Outside a live kernel: stored outputs re-validate under nbval; nbconvert shows the SVG."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("nbval")
    nbconvert = pytest.importorskip("nbconvert")
    monkeypatch.setenv("PYTHONPATH", ROOT)
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(src) for src in NOTEBOOK],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    # as JupyterLab saves by default: outputs, no widget state (with a saved state, nbconvert
    # would render the live widget from it instead of the fallback)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [c.outputs[-1] for c in nb.cells]
    for out in outputs:
        assert out.output_type == "execute_result"
        assert {"text/plain", "image/svg+xml", "image/png",
                "application/vnd.jupyter.widget-view+json"} <= set(out.data)
        assert not re.search(r"0x[0-9a-f]{6,}", out.data["text/plain"])
    assert outputs[0].data["text/plain"].startswith("BackwardStepper(gradlab, 7 nodes")
    assert "step 3 of 3 so far" in outputs[1].data["text/plain"]
    assert outputs[2].data["text/plain"].splitlines()[0] == "GradHistory(x): 2 backward calls, 2 rows"
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, str(path))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval", "-p", "no:cacheprovider",
                          str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    images = [base64.b64decode(m).decode() for m in
              re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]
    assert len(images) == 3
    assert images[1].startswith('<svg class="gradlab-stepper"') and " current" in images[1]
    assert "GradHistory(x): 2 backward calls" in images[2]


def test_gradient_heads_point_against_the_edges():
    """Each edge gets a hidden head halfway along it, pointing to where the gradient goes."""
    from gradlab.widgets.stepper import STATIC_CSS
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    s = BackwardStepper(((x * x).sum() + x.mean()).tanh(), params={"x": x})
    groups = re.findall(r'<g id="(e\d+)" class="edge[^"]*">(.*?)</g>', s.svg, re.S)
    assert len(groups) == len(s.graph.edges)
    for _, body in groups:
        start, end = (np.array([float(v) for v in p.split(",")]) for p in
                      re.findall(r' d="M([-\d.]+,[-\d.]+)C.*?([-\d.]+,[-\d.]+)"', body)[0])
        head = re.search(r'<polygon class="gl-grad" display="none" points="([^"]+)"/>', body)
        tip, *base = (np.array([float(v) for v in p.split(",")]) for p in head.group(1).split())
        middle = (tip + sum(base) / 2) / 2
        assert np.linalg.norm(tip - start) < np.linalg.norm(sum(base) / 2 - start)
        assert np.linalg.norm(middle - start) < np.linalg.norm(end - start)
    css = styles("stepper.css")  # the fallback's colours are the CSS's light ones
    for colour in set(re.findall(r"#[0-9a-f]{6}", STATIC_CSS)):
        assert colour in css, colour


# ---- predict mode ------------------------------------------------------------------------------

def fan_out(T):
    a = T.tensor(2.0, requires_grad=True)
    h = a.exp()
    out = h * h + h
    return out, dict(a=a, h=h, out=out)


def step_to_question(s):
    """Step until the stepper asks for a prediction."""
    while s.question is None:
        s.step()


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_predict_mode_asks_before_it_shows(T):
    out, p = fan_out(T)
    s = BackwardStepper(out, predict=True, params=p)
    step_to_question(s)  # AddBackward0 computes grad_self and grad_other
    assert (s.frames[-1]["name"], s.question) == ("AddBackward0", "grad_self = ?")
    with pytest.raises(RuntimeError, match=r"step 2 asks for a prediction \(grad_self = \?\): "
                                           r"answer it with stepper.predict\(value\)"):
        s.step()
    verdict = s.predict(2)
    assert verdict == (False, "Not quite: that is not within 1% of grad_self. Try again, or "
                              "Reveal.")
    assert repr(verdict) == verdict.message
    assert s.predict("1.0").correct and s.question == "grad_other = ?"
    assert s.frames[-1]["panel"][1][1].endswith("→ tensor(1.)\n  sent to MulBackward0")
    assert "→ ?" in s.frames[-1]["panel"][2][1]
    s.reveal()
    assert s.question is None and "→ ?" not in str(s.frames[-1]["panel"])
    assert [(q["state"], q["verdict"]) for q in s.frames[-1]["quiz"]] == [
        ("correct", "Correct: grad_self = tensor(1.)"),
        ("revealed", "Revealed: grad_other = tensor(1.)")]
    step_to_question(s)  # MulBackward0
    assert s.predict(7.39).correct and s.predict(T.tensor(7.3891)).correct
    step_to_question(s)  # ExpBackward0: 15.78 * 7.39
    assert s.question == "grad_self = ?"
    hidden = "116.5"  # its gradient, nowhere outside Python until predicted or revealed
    data, _ = s._repr_mimebundle_()
    assert hidden not in data["text/plain"] and hidden not in data["image/svg+xml"]
    assert "  predict grad_self = ?  (stepper.predict(value), or stepper.reveal())" in \
        data["text/plain"]
    assert hidden not in json.dumps(s.frames) and hidden not in s.slide_svg()
    s.run()  # to the end: what is still hidden is revealed
    assert s.complete and hidden in json.dumps(s.frames)
    assert s.frames[-1]["kind"] == "done"
    exp = next(f for f in s.frames if f.get("quiz") and f["name"] == "ExpBackward0")
    assert exp["quiz"][0]["verdict"] == "Revealed: grad_self = tensor(116.5854)"
    assert s._answers == {}


def test_predict_messages_from_the_browser():
    out, p = fan_out(gradlab)
    s = BackwardStepper(out, predict=True, params=p)
    v = s.view()
    sent = recorded(v)
    for _ in range(2):
        v._on_message(v, {"type": "step"}, [])
    k = len(s.frames) - 1
    assert s.frames[k]["quiz"][0]["state"] == "open" and sent[-1]["frames"][-1]["panel"][1][1] \
        .count("→ ?") == 1
    v._on_message(v, {"type": "step"}, [])  # refused: the same frame again, shown
    assert len(s.frames) == k + 1 and sent[-1] == {"type": "frames", "start": k, "frames":
                                                  [s.frames[k]], "complete": False, "index": k}
    v._on_message(v, {"type": "predict", "answer": "[1]"}, [])
    assert sent[-1]["frames"][0]["quiz"][0] == {
        "input": "self", "ask": "grad_self = ?", "kind": "value", "state": "open",
        "answer": "[1]", "verdict": "Not quite: the answer should be a single number (a 0-d "
                                    "tensor or a float). Try again, or Reveal."}
    v._on_message(v, {"type": "predict", "answer": "tensor(1.)"}, [])
    v._on_message(v, {"type": "reveal"}, [])
    assert [q["state"] for q in sent[-1]["frames"][0]["quiz"]] == ["correct", "revealed"]
    v._on_message(v, {"type": "step"}, [])
    assert len(s.frames) == k + 2 and sent[-1]["start"] == k + 1
    v._on_message(v, {"type": "run"}, [])
    assert s.complete and s._open() is None


def test_a_big_gradient_is_predicted_by_its_shape():
    x = gradlab.ones(40, requires_grad=True)
    s = BackwardStepper((x * 3).sum(), predict=True, params={"x": x})
    step_to_question(s)
    assert s.question == "grad_self.shape = ?"
    assert s.predict("(4,)") == (False, "Not quite: grad_self.shape is another shape. Try "
                                        "again, or Reveal.")
    assert s.predict("(40,)") == (True, "Correct: grad_self.shape = (40,)")


def test_predict_needs_a_question():
    out, p = fan_out(gradlab)
    s = BackwardStepper(out, params=p)
    with pytest.raises(RuntimeError, match="nothing to predict: only a stepper made with "
                                           "predict=True asks for gradients"):
        s.predict(1.0)
    s = BackwardStepper(out, predict=True, params=p)
    with pytest.raises(RuntimeError, match="nothing to reveal now: step on to a node"):
        s.reveal()
    with pytest.raises(ValueError, match="tolerance must be a number >= 0"):
        BackwardStepper(out, tolerance="1%", params=p)


# ---- where gradients meet, in the drawing ------------------------------------------------------

def test_a_waiting_node_shows_its_badge():
    out, p = fan_out(gradlab)
    s = BackwardStepper(out, params=p)
    exp = s.graph.id_of(out.grad_fn.next_functions[1][0])
    badge = re.findall(rf'<g class="gl-wait" data-node="{exp}" display="none">.*?</g>', s.svg)
    assert len(badge) == 1 and ">waiting 0 of 3</text>" in badge[0]
    assert s.svg.count('class="gl-wait"') == 1  # only where gradients meet
    assert re.search(r"<g class=\"gl-wait\".*\n</g>\n</svg>", s.svg)  # drawn last: over edges
    for _ in range(2):
        s.step()  # AddBackward0 sent the first part
    svg = s.static_svg()
    assert f'<g class="gl-wait" data-node="{exp}"><rect' in svg and ">waiting 1 of 3<" in svg
    assert re.search(f'<g id="{exp}" class="node grad_fn waiting"', svg)
    s.step()
    s.step()  # all three parts in
    assert 'display="none"' in re.search(r'<g class="gl-wait"[^>]*>', s.static_svg()).group(0)


# ---- saved memory, create_graph ----------------------------------------------------------------

@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_create_graph_counts_the_saved_tensors_of_the_new_nodes(T):
    """(x * x).sum(): MulBackward0 saves x twice (8 bytes). With create_graph its backward
    records two MulBackward0 that save x again (counted) and the 4-byte gradient (new)."""
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with warnings.catch_warnings():  # PyTorch's reference-cycle warning (shown once a process)
        warnings.filterwarnings("ignore", "Using backward.. with create_graph=True")
        s = BackwardStepper(y, create_graph=True, params={"x": x, "y": y})
        s.run()
    assert s.retain_graph  # as backward(): retain_graph defaults to create_graph
    assert [(f["kind"], f["name"], f["saved_bytes"]) for f in s.frames if f["name"]] == [
        ("enter", "SumBackward0", 8), ("grads", "SumBackward0", 8),
        ("enter", "MulBackward0", 8), ("grads", "MulBackward0", 12),
        ("enter", "AccumulateGrad", 12), ("accumulate", "AccumulateGrad", 12)]
    mul = next(f for f in s.frames if f["kind"] == "grads" and f["name"] == "MulBackward0")
    assert mul["panel"][-1] == [
        "saved memory", "create_graph=True: this step recorded 2 new nodes. The saved tensors "
        "now hold 12 bytes in 2 storages, up from 8 bytes.", "note"]
    assert x.grad.grad_fn is not None  # the graph of the gradient: a second order is possible


# ---- export for slides -------------------------------------------------------------------------

def test_export_frames_writes_every_step(tmp_path):
    out, p = fan_out(gradlab)
    s = BackwardStepper(out, predict=True, params=p)
    paths = s.export_frames(tmp_path / "slides")
    assert s.complete  # run to the end first (revealing the predictions)
    n = len(s.frames)
    assert [q.name for q in paths] == [f"step-{k:03d}.{ext}" for k in range(n)
                                       for ext in ("svg", "png")]
    assert sorted(q.name for q in (tmp_path / "slides").iterdir()) == sorted(q.name for q in paths)
    for k in range(n):
        svg, png = paths[2 * k].read_text(), paths[2 * k + 1].read_bytes()
        assert svg == s.slide_svg(k) and png.startswith(b"\x89PNG")
        assert f">Step {k} of {n - 1}: {escape(s.frames[k]['title'])}</text>" in svg
        assert "→ ?" not in svg
    third = paths[2 * 3].read_text()  # ExpBackward0 waits for 2 more parts
    assert ">waiting 1 of 3</text>" in third and ">saved tensors hold 4 bytes</text>" in third
    assert "+ tensor(7.3891)  from MulBackward0 (grad_self)" in paths[2 * 6].read_text()
    assert ">saved tensors hold 0 bytes</text>" in paths[-2].read_text()


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_an_output_that_feeds_another_adds_its_seed_to_its_parts(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * 3
    s = BackwardStepper((y, z), gradient=(T.ones(2), T.ones(2)), params=dict(x=x, y=y, z=z))
    s.run()
    y_enters = [f for f in s.frames if f["kind"] == "enter" and f["name"] == "MulBackward0"][1]
    assert y_enters["panel"][0] == ["incoming grad = sum of 2 parts",
                                    "  tensor([1., 1.])  from the seed gradient\n"
                                    "+ tensor([3., 3.])  from MulBackward0 (grad_self)\n"
                                    "= tensor([4., 4.])", ""]


def test_a_revealed_matrix_lines_up_and_slides_draw_a_transpose():
    """The PNG's font has no ᵀ: a slide writes mat2ᵀ with a raised T."""
    x = gradlab.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = gradlab.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    s = BackwardStepper(x.mm(w).sum(), predict=True, params={"x": x, "w": w})
    step_to_question(s)  # SumBackward0
    s.reveal()
    step_to_question(s)  # MmBackward0
    s.reveal()
    assert s.frames[-1]["quiz"][0]["verdict"] == ("Revealed: grad_self = tensor([[-0.5000,  "
                                                  "2.2500],\n" + " " * 30 + "[-0.5000,  2.2500]])")
    text = s.text()
    assert "  predict grad_mat2 = ?" in text
    assert "    Revealed: grad_self = tensor([[-0.5000,  2.2500],\n" + " " * 34 + "[-0.5" in text
    slide = s.slide_svg()
    assert "ᵀ" not in slide and \
        '>grad_self = grad · mat2<tspan baseline-shift="super" font-size="75%">T</tspan></text>' \
        in slide


def nan_program(T):
    """sqrt(-1): anomaly mode's classic, SqrtBackward0 returns NaN."""
    x = T.tensor([-1.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Anomaly Detection has been enabled"
        with T.autograd.detect_anomaly():
            y = x.sqrt()
            loss = (y * 2).sum()
            s = BackwardStepper(loss, params=dict(x=x, y=y, loss=loss))
    return s, x, y


NAN_LINE = nan_program.__code__.co_firstlineno + 6


@pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])
def test_anomaly_mode_marks_the_node_that_returned_nan(T):
    s, x, y = nan_program(T)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="^Function 'SqrtBackward0' returned nan values "
                                               "in its 0th output.$"):
            while s.step():  # stepped outside the block: the mode it was made in holds
                pass
    assert not gradlab.is_anomaly_enabled() and not torch.is_anomaly_enabled()
    if T is gradlab:  # torch's pass ran (and warned) when the stepper was made
        assert [str(w.message).split(".")[0] for w in caught] == [
            "Error detected in SqrtBackward0"]
    frame = s.frames[-1]
    assert frame["kind"] == "error" and frame["name"] == "SqrtBackward0"
    assert frame["node"] == s.graph.id_of(y.grad_fn) and frame["needed"] == []
    panel = {head: text for head, text, _ in frame["panel"]}
    assert panel["made by this forward line (anomaly mode)"] == (
        f'File "{__file__}", line {NAN_LINE}, in nan_program\ny = x.sqrt()')
    assert "SqrtBackward0 is the first whose gradients hold NaN" in panel["why"]
    assert x.grad is None  # the pass stopped before AccumulateGrad
    assert "made by this forward line" in s.text()


def test_without_anomaly_mode_nan_flows_to_the_leaf():
    x = gradlab.tensor([-1.0, 4.0], requires_grad=True)
    loss = (x.sqrt() * 2).sum()
    s = BackwardStepper(loss, params=dict(x=x, loss=loss))
    with gradlab.autograd.set_detect_anomaly(True):  # the mode when stepping does not count
        s.run()
    assert s.frames[-1]["kind"] == "done" and s.error is None
    assert np.isnan(x.grad[0].item()) and x.grad[1].item() == 0.5


def test_stepper_steps_through_unpacks_of_saved_tensor_hooks():
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    unpacked = []
    with gradlab.autograd.graph.save_on_cpu():
        y = (x * x).sum()
    with gradlab.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(t) or t):
        z = (x.exp() * 2).sum()
    stepper = BackwardStepper(y, params={"x": x})
    assert "MulBackward0.self: (device(type='cpu'), tensor([1., 2.], requires_grad=True))" in \
        stepper.text()
    while stepper.frames[-1]["kind"] != "unpack":
        stepper.step()
    assert stepper.frames[-1]["title"] == "MulBackward0 unpacks its saved other"
    stepper.run()
    assert x.grad.tolist() == [2.0, 4.0]
    BackwardStepper(z).run()
    assert len(unpacked) == 1
    assert x.grad.tolist() == pytest.approx([2.0 + 2 * 2.7182817, 4.0 + 2 * 7.389056])
