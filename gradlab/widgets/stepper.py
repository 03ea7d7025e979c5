"""``BackwardStepper``: walk the real backward pass, one engine event per step.

The stepper holds the generator of ``backward_stream(..., trace=True)`` and pulls ONE event per
new step, so the leaves' ``.grad`` fill in as the student steps, saved tensors are freed as the
pass frees them, and after the last step the state is exactly that of ``backward()``. Each event
becomes a frame (:mod:`gradlab.widgets.trace`).

Each display of a stepper is a view of its own (:class:`StepperView`, the widget) that starts at
the step the stepper was at when its cell ran: a lesson that steps in Python and shows the
stepper in several cells keeps each output as it was, while there is still one stepper, one
engine pass and one list of frames. A view's Back, Reset and slider move between the frames its
browser has received without asking the kernel; Step past the last frame asks the stepper to run
the next engine event, and the new frame goes to every view. They only move the VIEW: the engine
never runs backwards, and ``.grad`` keeps what the pass has done.

With a PyTorch output, torch's engine runs in C++ and cannot be paused: the stepper runs torch's
backward once, when it is created, with hooks on every node recording the order and the
gradients, and its steps replay that record (``.grad`` is final from the start).

Anomaly mode (``detect_anomaly``) as it is when the stepper is made holds for its whole pass, as
it would for a backward run then: a node whose gradients hold NaN stops the pass with PyTorch's
error, and the error frame marks that node and shows the forward line that made it.

The SVG is drawn once, in Python (:func:`gradlab.viz.make_dot`, every element's ``id`` is its
model id); a step in the browser only toggles CSS classes on elements by id. A node that gets
its gradient in several parts carries a hidden "waiting k of M" badge, shown while it waits.

Predict mode (``predict=True``) makes the stepper an exercise: each step that computes
gradients hides them ("grad_self = ?") until the student predicts each one (a value, or the
shape of a tensor too big to print), checked in Python with a relative ``tolerance`` as
:mod:`gradlab.exercises` checks answers, or reveals it. Until then the pass does not go on, and
nothing that would give the answer away leaves Python: the browser and the pictures outside a
live kernel (text, SVG, PNG) show the question, not the value.
"""
from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path
from typing import NamedTuple

import anywidget
import traitlets

from ..autograd import anomaly_mode
from ..autograd.engine import NodeEntered
from ..viz import model as m
from ..viz.dot import FONT_FAMILY, Drawing
from ..viz.raster import css_size, svg_to_png
from . import frontend, styles, with_pictures
from .trace import (FrameMaker, answer_text, check_prediction, fmt_bytes, graph_nodes, hang,
                    record_torch, state_at, torch_backward_again)

CHUNK = 1000  # frames per message when many are sent at once
ANSWER_CHARS = 2000  # a typed prediction is read up to this length


class Verdict(NamedTuple):
    """What :meth:`BackwardStepper.predict` says: right or not, and the message (its repr)."""

    correct: bool
    message: str

    def __repr__(self):
        return self.message


class BackwardStepper:
    """Step through ``output.backward(gradient, retain_graph, create_graph)`` one event at a time.

    ``retain_graph`` defaults to ``create_graph``, as in ``backward()``. ``params`` names the
    tensors in the drawing (a mapping such as ``locals()``; by default the caller's variables);
    above ``max_nodes`` nodes the drawing is collapsed, with a message, and steps at nodes not
    drawn still run. ``show_saved`` draws the saved tensors (they turn "freed" as the pass
    releases them). ``predict`` asks the student for each gradient before showing it, right
    within ``tolerance`` (relative; a shape must be exact).

    Python API: ``step()`` (False once the pass is complete), ``back()``, ``reset()``, ``run()``
    (to the end, revealing what predict mode hides), ``try_backward()`` (a second backward:
    returns PyTorch's error, shown at the node that needed a freed tensor), ``question`` and
    ``predict(value)`` / ``reveal()`` (predict mode), ``export_frames(folder)`` (every step as
    SVG and PNG), ``events`` (the engine events so far), ``frames``, ``index``, ``state``,
    ``view()`` (a widget showing the current step; displaying the stepper makes one).
    """

    def __init__(self, output, gradient=None, retain_graph=None, *, create_graph=False,
                 predict=False, tolerance=0.01, params=None, max_nodes: int | None = 500,
                 show_saved=True):
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or \
                not 0 <= tolerance < float("inf"):
            raise ValueError(f"tolerance must be a number >= 0 (0.01 is 1%), got {tolerance!r}")
        outputs = tuple(output) if isinstance(output, (tuple, list)) else (output,)
        if params is None:
            params = m.caller_variables()
        graph = m.build(outputs, params, max_nodes=max_nodes)
        self.graph = graph
        self.message = _size_message(graph, max_nodes)
        self.create_graph = bool(create_graph)
        self.retain_graph = self.create_graph if retain_graph is None else bool(retain_graph)
        self.tolerance = tolerance
        self.index = 0
        self.complete = False
        self.events = []
        self.error = None
        self._frames = []
        self._answers = {}  # predict mode: frame index -> what its questions hide
        self._views = []
        self._outputs, self._gradient = outputs, gradient
        self._anomaly = tuple(anomaly_mode._state)  # for the pass, which runs as it is stepped
        self._leaves = [fn.variable for fn in graph_nodes(outputs)
                        if getattr(fn, "variable", None) is not None]
        # made before the pass runs: it counts the saved tensors the graph holds
        self._maker = FrameMaker(graph, None, self.retain_graph, create_graph=self.create_graph,
                                 predict=bool(predict))
        self.svg = wait_badges(gradient_heads(_strip_prolog(
            Drawing(graph, show_saved=show_saved).svg)), self._maker.fan_in())
        if graph.backend == "torch":
            events, self._maker.values, error = record_torch(
                outputs, _torch_gradients(outputs, gradient), self.retain_graph,
                self.create_graph)
            self._source = _replay(events, error)
            seeds = _torch_seeds(outputs, gradient)
        else:
            from ..autograd.backward_api import _given, _seed_grads, backward_stream
            self._source = backward_stream(outputs, gradient, retain_graph=self.retain_graph,
                                           create_graph=self.create_graph, trace=True)
            seeds = _seed_grads(outputs, _given(gradient, len(outputs)))
        start = self._maker.start(outputs, seeds)
        if graph.backend == "torch":
            start["panel"].append(["PyTorch", "torch's engine runs in C++ and cannot be paused: "
                                   "this backward ran when the stepper was created, with hooks on "
                                   "every node; the steps replay what they recorded.", "note"])
        self._append(start)

    # ---- Python API ----------------------------------------------------------------------------

    @property
    def frames(self) -> list:
        """The frames recorded so far (frame 0 is the start, one per event after it)."""
        return self._frames

    @property
    def backend(self) -> str:
        """"gradlab" or "torch": whose tensors (and engine) this stepper runs."""
        return self.graph.backend

    @property
    def state(self) -> dict:
        """What the view shows at ``index``: the current node id, the sets marked so far, the
        nodes waiting for more parts of their gradient, the bytes saved tensors hold."""
        return state_at(self._frames, self.index)

    def step(self) -> bool:
        """Advance one step; False once the pass is complete (nothing more to show).

        In predict mode the pass waits at an open question: RuntimeError until it is answered
        (``predict``) or revealed (``reveal``).
        """
        if self.index < len(self._frames) - 1:
            self.index += 1
            return True
        if self.complete:
            return False
        if self._open() is not None:
            raise RuntimeError(f"step {len(self._frames) - 1} asks for a prediction "
                               f"({self.question}): answer it with stepper.predict(value), or "
                               "see it with stepper.reveal()")
        start = len(self._frames)
        try:
            return self._pull()
        finally:
            self._publish(start)
            self.index = len(self._frames) - 1

    def back(self) -> bool:
        """Show the previous frame (the engine does not run backwards); False at frame 0."""
        if self.index == 0:
            return False
        self.index -= 1
        return True

    def reset(self):
        """Show frame 0 again (the engine's work, and ``.grad``, stay as they are)."""
        self.index = 0

    def run(self):
        """Run the pass to its end (predict mode: revealing every gradient on the way)."""
        start = len(self._frames) - (self._open() is not None)  # a revealed frame changes
        try:
            self._pull_all()
        finally:
            self._publish(start)
            self.index = len(self._frames) - 1

    @property
    def question(self) -> str | None:
        """Predict mode: what the stepper waits for ("grad_self = ?"), or None."""
        question = self._open()
        return question["ask"] if question is not None else None

    def predict(self, answer) -> Verdict:
        """Predict mode: answer the open question (a number, a list, a tensor, a shape, or the
        text one would type: "7.39", "[1, 2]", "(2, 3)"). Right: the gradient shows."""
        start = len(self._frames) - 1
        verdict = self._predict(answer)
        self._publish(start)
        return verdict

    def reveal(self):
        """Predict mode: show the gradient the open question hides, without an answer."""
        if self._open() is None:
            raise RuntimeError(self._nothing_open("reveal"))
        self._reveal_open()
        self._publish(len(self._frames) - 1)

    def export_frames(self, folder) -> list[Path]:
        """Run the pass to its end, then write every step to ``folder`` (made if missing) as
        ``step-000.svg`` and ``step-000.png``, ...: the drawing with the step's marks, a title
        line and the panel's text, for slides. Returns the paths: each step's SVG, then PNG."""
        self.run()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        digits = max(3, len(str(len(self._frames) - 1)))
        paths = []
        for k in range(len(self._frames)):
            svg = self.slide_svg(k)
            name = folder / f"step-{k:0{digits}d}"
            name.with_suffix(".svg").write_text(svg, encoding="utf-8")
            name.with_suffix(".png").write_bytes(svg_to_png(svg))
            paths += [name.with_suffix(".svg"), name.with_suffix(".png")]
        return paths

    def try_backward(self):
        """Run backward again (after finishing this pass); return PyTorch's error, or None.

        Without ``retain_graph`` this fails as in PyTorch; the error frame highlights the node
        that needed a freed saved tensor. With it, the gradients accumulate a second time.
        """
        if not self.complete:
            self.run()
        start = len(self._frames)
        error = self._again()
        self._publish(start)
        self.index = start
        return error

    def view(self) -> StepperView:
        """A new widget that shows this stepper from its current step on."""
        view = StepperView(self)
        self._views.append(view)
        return view

    def _again(self):
        """Record the frame of a second backward: its error, or "again" when it succeeded."""
        if self.graph.backend == "torch":
            node, error = torch_backward_again(self._outputs,
                                               _torch_gradients(self._outputs, self._gradient),
                                               self.retain_graph, self.create_graph)
        else:
            node, error = self._gradlab_again()
        self.error = error
        self._append(self._maker.again(self._leaves) if error is None
                     else self._maker.error(node, error))
        return error

    def _gradlab_again(self):
        from ..autograd.backward_api import backward_stream
        last = None
        try:
            with anomaly_mode.set_detect_anomaly(*self._anomaly):
                for ev in backward_stream(self._outputs, self._gradient, self.retain_graph,
                                          self.create_graph, trace=True):
                    if type(ev) is NodeEntered:
                        last = ev.node
        except RuntimeError as e:
            return last, e
        return None, None

    # ---- recording -----------------------------------------------------------------------------

    def _pull(self) -> bool:
        """Take the next engine event into a frame; False (and the final frame) at the end."""
        try:
            with anomaly_mode.set_detect_anomaly(*self._anomaly):
                event = next(self._source)
        except StopIteration:
            self.complete = True
            self._append(self._maker.done(self._leaves))
            return False
        except RuntimeError as e:  # e.g. the graph was freed by an earlier backward
            self.complete, self.error = True, e
            self._append(self._maker.error(self._maker.entered, e))
            raise
        self.events.append(event)
        frame = self._maker.frame(event)
        answers = frame.pop("answers", None)  # predict mode: kept here, never sent
        if answers is not None:
            self._answers[len(self._frames)] = answers
        self._append(frame)
        return True

    def _pull_all(self):
        """Pull every event left, revealing what predict mode hides."""
        self._reveal_open(every=True)
        while not self.complete and self._pull():
            self._reveal_open(every=True)

    # ---- predict mode ---------------------------------------------------------------------------

    def _open(self):
        """The open question of the last frame (no other frame can have one), or None."""
        quiz = self._frames[-1].get("quiz") if self._frames else None
        return next((q for q in quiz if q["state"] == "open"), None) if quiz else None

    def _nothing_open(self, what) -> str:
        if not self._maker.predict:
            return (f"nothing to {what}: only a stepper made with predict=True asks for "
                    "gradients")
        return f"nothing to {what} now: step on to a node that computes gradients"

    def _predict(self, answer) -> Verdict:
        question = self._open()
        if question is None:
            raise RuntimeError(self._nothing_open("predict"))
        k = len(self._frames) - 1
        j = self._frames[k]["quiz"].index(question)
        correct, message = check_prediction(answer, question, self._answers[k]["expected"][j],
                                            self.tolerance)
        question["answer"] = answer if isinstance(answer, str) else str(answer)
        question["verdict"] = message
        if correct:
            self._resolve(k, j, "correct")
        return Verdict(correct, message)

    def _reveal_open(self, every=False) -> bool:
        """Reveal the (every) open question of the last frame; True if there was one."""
        k = len(self._frames) - 1
        revealed = False
        for j, question in enumerate(self._frames[k].get("quiz", ())):
            if question["state"] == "open" and (every or not revealed):
                question["verdict"] = hang("Revealed: ", answer_text(
                    question, self._answers[k]["expected"][j]))
                self._resolve(k, j, "revealed")
                revealed = True
        return revealed

    def _resolve(self, k, j, state):
        """Question ``j`` of frame ``k`` is answered or revealed: its gradient shows."""
        frame, answers = self._frames[k], self._answers[k]
        frame["quiz"][j]["state"] = state
        at = answers["sections"][j]
        frame["panel"][at] = answers["panel"][at]
        if all(q["state"] != "open" for q in frame["quiz"]):
            frame["panel"] = answers.pop("panel")
            del self._answers[k]

    def _append(self, frame):
        frame["step"] = len(self._frames)
        self._frames.append(frame)

    def _publish(self, start, asker=None):
        """Send frames ``start:`` to every open view; the view that asked for them shows the last."""
        self._views = [v for v in self._views if v.comm is not None]
        for view in self._views:
            view.send_frames(start, show_last=view is asker)

    # ---- outside a live kernel -------------------------------------------------------------------

    def __repr__(self) -> str:
        return self._describe(self.index)

    def _describe(self, index) -> str:
        f = self._frames[index]
        n = len(self._frames) - 1
        where = f"step {index} of {n}" if self.complete else \
            f"step {index} of {n} so far (the pass runs as you step)"
        return f"BackwardStepper({_graph_summary(self.graph)}): {where}: {f['title']}"

    def text(self, index: int | None = None) -> str:
        """A step (by default the current one) as text: the repr line, then the panel."""
        index = self.index if index is None else index
        lines = [self._describe(index)]
        if self.message:
            lines.append(self.message)
        for question in self._frames[index].get("quiz", ()):
            if question["state"] == "open":
                lines.append(f"  predict {question['ask']}  (stepper.predict(value), or "
                             "stepper.reveal())")
            if question["verdict"]:
                lines.append(hang("    ", question["verdict"]))
        return "\n".join(lines + panel_lines(self._frames[index]))

    def static_svg(self, index: int | None = None) -> str:
        """The drawing with a step's highlights (by default the current one), styled inline."""
        index = self.index if index is None else index
        return static_svg(self.svg, state_at(self._frames, index))

    def slide_svg(self, index: int | None = None) -> str:
        """A step (by default the current one) as one picture, for slides: a title line, the
        saved tensors' bytes, the drawing with the step's marks and the panel's text beside it."""
        index = self.index if index is None else index
        frame = self._frames[index]
        so_far = "" if self.complete else " so far"
        lines = [(f"Step {index} of {len(self._frames) - 1}{so_far}: {frame['title']}", "title"),
                 (f"saved tensors hold {fmt_bytes(frame['saved_bytes'])}", "note")]
        panel = []
        for question in frame.get("quiz", ()):
            if question["state"] == "open":
                panel.append((f"predict {question['ask']}", "head"))
            panel += [(line, "body") for line in question["verdict"].split("\n") if line]
        for head, body, style in frame["panel"]:
            panel.append((head, "formula" if style == "formula" else "head"))
            if style == "note":  # prose: wrapped, as the panel wraps it
                body = "\n".join(textwrap.fill(line, 72) for line in body.split("\n"))
            panel += [(line, "body") for line in body.split("\n")]
            panel.append(("", "body"))
        return slide(self.static_svg(index), lines, panel)

    def _repr_mimebundle_(self, **kwargs):
        return self.view()._repr_mimebundle_(**kwargs)


class StepperView(anywidget.AnyWidget):
    """One displayed view of a :class:`BackwardStepper`, at a step of its own (``index``)."""

    _esm = frontend("stepper.js")
    _css = styles("stepper.css")

    svg = traitlets.Unicode("").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    count = traitlets.Int(0).tag(sync=True)
    complete = traitlets.Bool(False).tag(sync=True)
    backend = traitlets.Unicode("gradlab").tag(sync=True)
    mode = traitlets.Unicode("backward").tag(sync=True)  # or "forward": a ForwardStepper's

    def __init__(self, stepper: BackwardStepper):
        super().__init__(svg=stepper.svg, message=stepper.message, index=stepper.index,
                         count=len(stepper.frames), complete=stepper.complete,
                         backend=stepper.backend, mode=getattr(stepper, "mode", "backward"))
        self.stepper = stepper
        self.on_msg(self._on_message)

    def send_frames(self, start, show_last=False):
        """Send the stepper's frames ``start:`` (in chunks); with ``show_last``, show the last."""
        frames = self.stepper.frames
        last = len(frames)
        if show_last:
            self.index = last - 1
        for i in range(start, last, CHUNK):
            message = {"type": "frames", "start": i, "frames": frames[i:i + CHUNK],
                       "complete": self.stepper.complete}
            if show_last and i + CHUNK >= last:
                message["index"] = last - 1
            self.send(message)
        self.count, self.complete = last, self.stepper.complete

    def _on_message(self, _, content, buffers):
        kind = content.get("type") if isinstance(content, dict) else None
        stepper = self.stepper
        open_question = stepper._open() is not None
        # a question answered or revealed changes its frame; a refused step sends it again
        start = len(stepper.frames) - open_question
        try:
            if kind == "sync":
                self.send_frames(0)
                self.send({"type": "index", "index": self.index})
            elif self.mode == "forward":  # every frame was sent: nothing runs on request
                return
            elif kind == "step" and not stepper.complete and not open_question:
                stepper._pull()
            elif kind == "run":
                stepper._pull_all()
            elif kind == "again" and stepper.complete:
                stepper._again()
            elif kind == "predict" and open_question:
                stepper._predict(str(content.get("answer", ""))[:ANSWER_CHARS])
            elif kind == "reveal" and open_question:
                stepper._reveal_open()
        except RuntimeError:
            pass  # already recorded as an error frame, which the browser shows
        if kind in ("step", "run", "again", "predict", "reveal"):
            stepper._publish(start, asker=self)

    def __repr__(self) -> str:
        return self.stepper._describe(self.index)

    def _repr_mimebundle_(self, **kwargs):
        return with_pictures(super()._repr_mimebundle_(**kwargs), self.stepper.text(self.index),
                             self.stepper.static_svg(self.index))


# ---- helpers ------------------------------------------------------------------------------------

def panel_lines(frame) -> list:
    """A frame's panel as indented text lines: each section's head, then its body."""
    lines = []
    for head, body, _ in frame["panel"]:
        lines.append(f"  {head}:")
        lines.extend("    " + line for line in body.split("\n"))
    return lines


def _strip_prolog(svg: str) -> str:
    """The SVG from its ``<svg`` tag on (no XML declaration, doctype or comment before it)."""
    return svg[svg.index("<svg"):]


def _graph_summary(graph) -> str:
    drawn = sum(1 for n in graph.nodes if n.kind != m.SUMMARY)
    kinds = ", ".join(f"{sum(1 for n in graph.nodes if n.kind == k)} {label}" for k, label in
                      ((m.GRAD_FN, "grad_fn"), (m.ACCUMULATE_GRAD, "AccumulateGrad")))
    more = f", {graph.omitted} more not drawn" if graph.omitted else ""
    return f"{graph.backend}, {drawn} nodes: {kinds}{more}"


def _size_message(graph, max_nodes) -> str:
    if not graph.omitted:
        return ""
    drawn = len(graph.nodes) - 1
    return (f"Large graph: {drawn + graph.omitted} nodes. Drawing the {drawn} nearest the output; "
            f"the other {graph.omitted} are collapsed into one box (max_nodes={max_nodes}). "
            "Steps at nodes not drawn still run and show in the panel.")


def _replay(events, error):
    """torch's recorded events, then the error that stopped its pass (if one did)."""
    yield from events
    if error is not None:
        raise error


def _torch_gradients(outputs, gradient):
    if gradient is None:
        return None
    return list(gradient) if isinstance(gradient, (tuple, list)) else [gradient]


def _torch_seeds(outputs, gradient):
    import torch
    given = _torch_gradients(outputs, gradient) or [None] * len(outputs)
    return [g if g is not None else torch.ones_like(o) for o, g in zip(outputs, given)]


# the light colours of widgets/stepper.css, for the drawing without the widget
STATIC_CSS = """
.gradlab-stepper g.node.current > polygon { fill: #ffca28; stroke: #e65100; stroke-width: 3px; }
.gradlab-stepper g.node.done > polygon { stroke: #2e7d32; stroke-width: 2.5px; }
.gradlab-stepper g.node.freed > polygon { fill: #eeeeee; stroke: #616161; stroke-dasharray: 4 3; }
.gradlab-stepper g.node.freed > text { fill: #555555; }
.gradlab-stepper g.node.needed > polygon { fill: #ffcdd2; stroke: #c62828; stroke-width: 3px; }
.gradlab-stepper g.node.current > text, .gradlab-stepper g.node.needed > text { fill: #000000; }
.gradlab-stepper g.edge.carried > path { stroke: #c2185b; stroke-width: 2.5px; }
.gradlab-stepper g.edge.carried > polygon.gl-grad { display: inline; fill: #c2185b; stroke: none; }
"""

_GROUP = re.compile(r'<g id="([ne]\d+)" class="([^"]*)"')


def static_svg(svg: str, state: dict) -> str:
    """``svg`` with the classes of ``state`` (see ``state_at``) and the CSS that colours them;
    the badges of the nodes that wait for more parts show."""
    marks = {}
    for key in ("carried", "freed", "done", "needed", "waiting"):
        for i in state[key]:
            marks.setdefault(i, []).append(key)
    if state["current"] is not None:
        marks.setdefault(state["current"], []).append("current")

    def mark(match):
        extra = marks.get(match.group(1))
        if not extra:
            return match.group(0)
        return f'<g id="{match.group(1)}" class="{match.group(2)} {" ".join(extra)}"'

    body = _GROUP.sub(mark, svg)
    for nid, (got, total) in state["waiting"].items():
        body = re.sub(f'<g class="gl-wait" data-node="{nid}" display="none">(.*?>)waiting 0 of ',
                      rf'<g class="gl-wait" data-node="{nid}">\g<1>waiting {got} of ', body,
                      count=1)
    end = body.index(">", body.index("<svg")) + 1
    head = body[:end].replace("<svg", '<svg class="gradlab-stepper"', 1)
    return f"{head}\n<style>{STATIC_CSS}</style>{body[end:]}"


_NODE_BOX = re.compile(r'<g id="(n\d+)" class="node[^"]*">\n<title>[^<]*</title>\n'
                       r'<polygon[^>]* points="([^"]+)"')
BADGE_FONT = 9.0  # the drawing's units (its node text is 10)


def wait_badges(svg: str, fan_in: dict) -> str:
    """``svg`` with a hidden "waiting 0 of M" badge above each node of ``fan_in`` (``{node id:
    M}``: the nodes that receive their gradient in M parts), drawn last, over the edges, as
    ``<g class="gl-wait" data-node="n5">``. The stepper shows a node's badge, with its count,
    while the node has some but not all of its parts."""
    width = float(re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+)', svg).group(1))
    scale, dx, dy = (float(v) for v in re.search(
        r'class="graph" transform="scale\(([\d.]+) [\d.]+\) rotate\(0\) '
        r'translate\(([\d.]+) ([\d.]+)\)', svg).groups())
    right_end, top_end = width / scale - dx - 2, 2 - dy  # the drawing's edges, in its units
    badges = []
    for match in _NODE_BOX.finditer(svg):
        total = fan_in.get(match.group(1))
        if total is None:
            continue
        v = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", match.group(2))]
        right, top = max(v[::2]), min(v[1::2])
        width = len(f"waiting {total - 1} of {total}") * 0.6 * BADGE_FONT + 8
        height = BADGE_FONT + 5
        x = min(right - 22, right_end - width)  # over the top right corner, clear of arrows
        y = max(top - height + 4, top_end)
        badges.append(
            f'<g class="gl-wait" data-node="{match.group(1)}" display="none"><rect x="{x:.2f}" '
            f'y="{y:.2f}" width="{width:.2f}" height="{height:.2f}" rx="3" fill="#fff3e0" '
            f'stroke="#e65100"/><text xml:space="preserve" text-anchor="middle" '
            f'x="{x + width / 2:.2f}" y="{y + height - 4:.2f}" font-family="{FONT_FAMILY}" '
            f'font-size="{BADGE_FONT:.2f}" fill="#000000">waiting 0 of {total}</text></g>\n')
    if not badges:
        return svg
    end = svg.rindex("</g>")  # the end of Graphviz's graph group
    return svg[:end] + "".join(badges) + svg[end:]


SUPERSCRIPT_T = '<tspan baseline-shift="super" font-size="75%">T</tspan>'
SLIDE_TEXT = {"title": ("15", "bold", "#1f2328"), "note": ("12", "normal", "#57606a"),
              "head": ("13", "bold", "#57606a"), "formula": ("13", "bold", "#6639ba"),
              "body": ("12", "normal", "#1f2328")}  # font size (px), weight, colour


def slide(drawing: str, lines: list, panel: list, pad=12, gap=20) -> str:
    """One SVG: ``lines`` on top, ``drawing`` under them and the ``panel`` lines beside it
    (each line a ``(text, kind)`` pair, kinds as in SLIDE_TEXT); monospace text throughout,
    0.6 em per character, as the drawing's own text."""
    def rows(items, x, y):
        out = []
        for text, kind in items:
            size, weight, colour = SLIDE_TEXT[kind]
            y += int(size) + 5
            text = html.escape(text, False).replace("ᵀ", SUPERSCRIPT_T)  # no glyph in the PNG
            out.append(f'<text xml:space="preserve" x="{x:.1f}" y="{y:.1f}" font-size="{size}" '
                       f'font-weight="{weight}" fill="{colour}">{text}</text>')
        return out, y

    def wide(items):
        return max((len(t) * 0.6 * int(SLIDE_TEXT[k][0]) for t, k in items), default=0)

    width, height = css_size(drawing)
    top, top_y = rows(lines, pad, pad - 4)
    side, side_y = rows(panel, pad + width + gap, top_y + 4)
    total_w = pad * 2 + max(wide(lines), width + gap + wide(panel))
    total_h = max(top_y + 8 + height, side_y) + pad
    end = drawing.index(">", drawing.index("<svg"))
    tag = re.sub(r'\s(width|height|x|y)="[^"]*"', "", drawing[:end])
    inner = (f'{tag} x="{pad}" y="{top_y + 8:.1f}" width="{width:.1f}" height="{height:.1f}"'
             f'{drawing[end:]}')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w:.0f}" height="{total_h:.0f}" '
            f'viewBox="0 0 {total_w:.0f} {total_h:.0f}">\n<rect width="100%" height="100%" '
            f'fill="#ffffff"/>\n<g font-family="{FONT_FAMILY}">\n' + "\n".join(top + side) +
            f'\n</g>\n{inner}\n</svg>\n')


_EDGE = re.compile(r'(<g id="e\d+" class="edge[^"]*">.*?<path[^>]* d="([^"]+)".*?)(</g>)', re.S)


def gradient_heads(svg: str) -> str:
    """``svg`` with a hidden arrowhead halfway along each edge, pointing against the edge.

    Edges point forward, as torchviz draws them; the gradient flows the other way. The
    stepper's CSS shows the head of an edge that carried a gradient (class ``carried``); without
    CSS the heads stay hidden.
    """
    return _EDGE.sub(lambda e: f'{e.group(1)}<polygon class="gl-grad" display="none" points="'
                               f'{_head_points(e.group(2))}"/>\n{e.group(3)}', svg)


def _head_points(d: str, length=11.0, width=9.0) -> str:
    """An arrowhead in the middle of Graphviz path ``d`` (M, then cubics), towards its start."""
    v = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", d)]
    pts = list(zip(v[::2], v[1::2]))
    curves = [pts[i:i + 4] for i in range(0, len(pts) - 3, 3)] or [pts[:1] * 4]
    p0, p1, p2, p3 = curves[len(curves) // 2]
    t = 0.5 if len(curves) % 2 else 0.0  # the middle curve's middle, or the middle joint
    s = 1 - t
    x, y = (s ** 3 * a + 3 * s * s * t * b + 3 * s * t * t * c + t ** 3 * e
            for a, b, c, e in zip(p0, p1, p2, p3))
    tx, ty = (3 * s * s * (b - a) + 6 * s * t * (c - b) + 3 * t * t * (e - c)
              for a, b, c, e in zip(p0, p1, p2, p3))
    norm = (tx * tx + ty * ty) ** 0.5 or 1.0
    ux, uy = -tx / norm, -ty / norm  # towards the start of the path: the gradient's way
    bx, by = x - ux * length / 2, y - uy * length / 2
    head = [(x + ux * length / 2, y + uy * length / 2),
            (bx - uy * width / 2, by + ux * width / 2), (bx + uy * width / 2, by - ux * width / 2)]
    return " ".join(f"{a:.2f},{b:.2f}" for a, b in head)
