"""``ForwardStepper``: forward-mode AD shown op by op, one pass per input direction.

Forward mode needs no traversal: each op computes its output's tangent from its inputs' as it
runs (the ``result`` column of the op table). The stepper runs the function once per direction
``v`` inside a dual level, with a watcher on the ops (``forward_ad._levels.watch``, set only
while it runs) that records what each op's forward formula read and the tangent it gave. The
steps walk the ops' nodes in the backward graph's drawing (make_dot's) in the order they ran.
A pass ends with ``J·v``: with one-hot directions (the default) pass k gives column k of the
Jacobian, so n inputs take n passes, where reverse mode takes one pass per output.

Its frames are :mod:`gradlab.widgets.trace`'s, shown by the same view (``StepperView``) and
pictures as BackwardStepper's; the first frame of a pass lists under ``cleared`` the marks of
the previous pass it removes.
"""
from __future__ import annotations

import inspect
from typing import NamedTuple

import numpy as np

from ..autograd import forward_ad
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ..viz import model as m
from ..viz.dot import Drawing
from .stepper import (StepperView, _graph_summary, _size_message, _strip_prolog, panel_lines,
                      static_svg)
from .trace import fmt, hang, state_at, type_name


class Step(NamedTuple):
    """One op of a pass: its node, what its forward formula read, the tangent it gave."""

    node: object
    formula: str
    values: dict
    tangent: object


class Pass(NamedTuple):
    """One run of the function: the inputs (leaves with tangents), direction, ops, outputs."""

    inputs: tuple
    direction: tuple
    steps: list
    outputs: tuple
    tangents: tuple


class ForwardStepper:
    """Watch ``fn(*primals)``'s tangents flow forward, op by op, one pass per direction.

    ``tangents`` gives one direction (a tensor per primal); by default every one-hot direction
    is a pass ("pass 2 of 6": the tangent is 1 at one element of one input), so the passes'
    output tangents are the Jacobian's columns. ``params`` names other tensors in the drawing
    (the inputs take the names of ``fn``'s parameters). Python API as BackwardStepper's:
    ``step()``, ``back()``, ``reset()``, ``frames``, ``index``, ``state``, ``passes``,
    ``jacobian()``, ``text()``, ``static_svg()``, ``view()``.
    """

    mode = "forward"
    backend = "gradlab"
    complete = True

    def __init__(self, fn, primals, tangents=None, *, params=None, max_nodes: int | None = 500,
                 show_saved=False):
        primals = tuple(primals) if isinstance(primals, (tuple, list)) else (primals,)
        if not all(isinstance(p, Tensor) for p in primals):
            raise TypeError("ForwardStepper takes gradlab tensors (gradlab does not implement "
                            "stepping PyTorch's forward mode)")
        if tangents is None:
            directions = one_hot(primals)
        else:
            directions = [tuple(tangents) if isinstance(tangents, (tuple, list)) else
                          (tangents,)]
        self.names = _input_names(fn, len(primals))
        self.passes = [run_pass(fn, primals, v) for v in directions]
        first = self.passes[0]
        named = {**(params or {}), **dict(zip(self.names, first.inputs))}
        self.graph = m.build(first.outputs, named, max_nodes=max_nodes)
        self.message = _size_message(self.graph, max_nodes)
        self.svg = _strip_prolog(Drawing(self.graph, show_saved=show_saved).svg)
        self.one_hot = tangents is None
        self.index = 0
        self._frames = []
        self._views = []
        marked = {"carried": set(), "done": set()}
        for k, p in enumerate(self.passes):
            graph = m.build(p.outputs, {**(params or {}), **dict(zip(self.names, p.inputs))},
                            max_nodes=max_nodes)  # the same program: the drawing's ids
            frames = pass_frames(graph, p, k, len(self.passes), self.names, marked)
            if k == len(self.passes) - 1 and self.one_hot:
                frames[-1]["panel"].append(["Jacobian (pass k gave column k)",
                                            _matrix(self.jacobian()), "result"])
            for frame in frames:
                for key, ids in marked.items():
                    ids.difference_update(frame.get("cleared", {}).get(key, ()))
                    ids.update(frame[key])
                frame["step"] = len(self._frames)
                self._frames.append(frame)

    @property
    def frames(self) -> list:
        return self._frames

    @property
    def state(self) -> dict:
        return state_at(self._frames, self.index)

    def jacobian(self) -> np.ndarray:
        """The passes' output tangents as columns: ``J`` (outputs' elements × directions)."""
        return np.stack([np.concatenate([np.ravel(t._array) for t in p.tangents])
                         for p in self.passes], axis=1)

    def step(self) -> bool:
        """Show the next step; False at the last."""
        if self.index >= len(self._frames) - 1:
            return False
        self.index += 1
        return True

    def back(self) -> bool:
        if self.index == 0:
            return False
        self.index -= 1
        return True

    def reset(self):
        self.index = 0

    def view(self) -> StepperView:
        """A new widget that shows this stepper from its current step on."""
        view = StepperView(self)
        self._views.append(view)
        return view

    def _open(self):  # the view's hooks: nothing to predict, nothing left to run
        return None

    def _publish(self, start, asker=None):
        pass

    def __repr__(self) -> str:
        return self._describe(self.index)

    def _describe(self, index) -> str:
        n = len(self.passes)
        return (f"ForwardStepper({_graph_summary(self.graph)}, {n} pass{'es' * (n != 1)}): "
                f"step {index} of {len(self._frames) - 1}: {self._frames[index]['title']}")

    def text(self, index: int | None = None) -> str:
        """A step (by default the current one) as text: the repr line, then the panel."""
        index = self.index if index is None else index
        lines = [self._describe(index)] + ([self.message] if self.message else [])
        return "\n".join(lines + panel_lines(self._frames[index]))

    def static_svg(self, index: int | None = None) -> str:
        """The drawing with a step's highlights (by default the current one), styled inline."""
        index = self.index if index is None else index
        return static_svg(self.svg, state_at(self._frames, index))

    def _repr_mimebundle_(self, **kwargs):
        return self.view()._repr_mimebundle_(**kwargs)


def one_hot(primals) -> list:
    """Every one-hot direction: one per element of each input, the others' tangents zero."""
    zeros = [np.zeros(p._array.shape, p.dtype.np) for p in primals]
    out = []
    for i, p in enumerate(primals):
        for j in range(p._array.size):
            direction = [z.copy() for z in zeros]
            direction[i].flat[j] = 1
            out.append(tuple(Tensor._make(d, q.dtype) for d, q in zip(direction, primals)))
    return out


def run_pass(fn, primals, direction) -> Pass:
    """Run ``fn`` on leaves carrying ``direction`` as tangents, recording each op's step."""
    steps, made = [], []

    def watch(cls, outputs, values, tangent):
        if made:  # the last op's node, before an in-place op moves its tensor to another
            made[-1] = _node_of(made[-1])
        made.append(outputs)
        steps.append([cls, {k: _copy(v) for k, v in values.items()}, _copy(tangent)])

    with forward_ad.dual_level():
        inputs = []
        for p, t in zip(primals, direction):
            with no_grad():
                checked = forward_ad.make_dual(p, t)  # PyTorch's errors for a bad tangent
            leaf = p.detach().clone().requires_grad_()  # the drawing's input, a leaf
            forward_ad.set_tangent(leaf, forward_ad.unpack_dual(checked).tangent)
            inputs.append(leaf)
        forward_ad._levels.watch = watch
        try:
            out = fn(*inputs)
        finally:
            forward_ad._levels.watch = None
        outputs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        tangents = tuple(_copy(forward_ad.unpack_dual(o).tangent) if o._fw_grad is not None
                         else Tensor._make(np.zeros(o._array.shape, o.dtype.np), o.dtype)
                         for o in outputs)
    direction = tuple(_copy(t) for t in direction)
    nodes = made[:-1] + [_node_of(o) for o in made[-1:]]
    return Pass(tuple(inputs), direction,
                [Step(node, cls._forward[0], values, t)
                 for node, (cls, values, t) in zip(nodes, steps)], outputs, tangents)


def _node_of(outputs):
    first = next(o for o in outputs if o is not None) if type(outputs) in (tuple, list) \
        else outputs
    return first._grad_fn


def _copy(value):
    """A snapshot (later in-place ops must not change what a step showed)."""
    if isinstance(value, Tensor):
        return Tensor._make(np.array(value._array), value.dtype)
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(v) for v in value)
    return value


def _input_names(fn, n) -> list:
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return (names + [f"input{i}" for i in range(len(names), n)])[:n]


def pass_frames(graph, p, k, n, names, marked) -> list:
    """The frames of pass ``k`` (of ``n``): its seed, one per op, its result. ``marked``: the
    ids the previous pass left marked (``{"carried": ids, "done": ids}``), which its first
    frame clears. An edge is marked "carried" where a nonzero tangent went along it."""
    seeded = set()
    leaves, carried = [], []
    for leaf, t in zip(p.inputs, p.direction):
        if not np.any(t._array):
            continue
        fn = leaf.grad_fn or leaf._accumulator()
        seeded.add(fn)
        leaves += [graph.id_of(leaf), graph.id_of(fn)]
        carried += [e.id for e in graph.edges_from(graph.id_of(leaf) or "")
                    if e.kind == m.EDGE_VARIABLE]
    direction = "\n".join(hang(f"{name}_t = ", fmt(t)) for name, t in zip(names, p.direction))
    why = ("Forward mode carries a tangent (a direction of change of the inputs) forward with "
           "the values: each op computes its output's tangent from its inputs' by its forward "
           "derivative. One pass gives J·v for one direction v: the Jacobian takes one pass per "
           "input element (reverse mode: one per output element).")
    frames = [_frame("seed", graph.id_of(p.inputs[0]), f"Pass {k + 1} of {n}: the inputs' "
                     "tangents are set", carried=carried, done=leaves,
                     panel=[["direction v (the inputs' tangents)", direction, ""],
                            ["forward mode", why, "note"]])]
    frames[0]["cleared"] = {key: sorted(ids) for key, ids in marked.items()}
    for step in p.steps:
        frames.append(_step_frame(graph, step, seeded))
        if np.any(step.tangent._array if isinstance(step.tangent, Tensor) else 1):
            seeded.add(step.node)  # its (nonzero) tangent flows on
    rows = [hang(f"{_label(graph, o, i, len(p.outputs))}_t = ", fmt(t))
            for i, (o, t) in enumerate(zip(p.outputs, p.tangents))]
    frames.append(_frame("done", None, f"Pass {k + 1} of {n} complete: the outputs' tangents "
                         "are J·v", panel=[["J·v", "\n".join(rows), "result"]]))
    return frames


def _step_frame(graph, step, seeded) -> dict:
    node = step.node
    nid = graph.id_of(node)
    carried = [graph.edge_id(node, i) for i, (fn, _) in
               enumerate(getattr(node, "next_functions", ())) if fn in seeded]
    done = [nid]
    for e in graph.edges_from(nid or ""):
        if e.kind == m.EDGE_RESULT:
            carried.append(e.id)
            done.append(e.dst)
    width = max((len(k) for k in step.values), default=0)
    body = [hang(f"{k:<{width}} = ", fmt(v)) for k, v in step.values.items()]
    body.append(hang("→ ", fmt(step.tangent)))
    name = type_name(node) if node is not None else "an op"
    panel = [[f"result_t = {step.formula}", "\n".join(body), "formula"]]
    if node is not None and nid is None:
        panel.append(["not drawn", "This node is beyond the drawn part of the graph "
                      "(max_nodes).", "note"])
    return _frame("tangent", nid, f"{name} computes its output's tangent",
                  name=name if node is not None else "", carried=carried, done=done,
                  panel=panel)


def _frame(kind, nid, title, **fields) -> dict:
    frame = {"step": 0, "kind": kind, "event": "", "node": nid, "name": "", "title": title,
             "carried": [], "freed": [], "done": [], "needed": [], "parts": [],
             "saved_bytes": 0, "panel": []}
    frame.update(fields)
    for key in ("carried", "done"):
        frame[key] = [i for i in dict.fromkeys(frame[key]) if i is not None]
    return frame


def _label(graph, tensor, i, n) -> str:
    nid = graph.id_of(tensor)
    return (graph.node(nid).name if nid is not None else "") or "output" + f"{i}" * (n > 1)


def _matrix(jacobian) -> str:
    return np.array2string(jacobian, precision=4, suppress_small=True)
