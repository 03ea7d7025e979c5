"""Frames of a backward pass: what the stepper shows at each engine event.

A frame is plain JSON data, made from one engine event (see :mod:`gradlab.autograd.engine`)
and the graph model that drew the SVG (:mod:`gradlab.viz.model`)::

    {"step": 3, "kind": "grads", "event": "GradsComputed", "node": "n2",
     "name": "MulBackward0", "title": "MulBackward0 computes the gradients of its inputs",
     "carried": ["e4", "e5"], "freed": [], "done": ["n2"], "needed": [],
     "panel": [["incoming grad", "tensor([1., 1.])", ""],
               ["grad_self = grad · other", "grad  = tensor([1., 1.])\\n...", "formula"], ...]}

``kind`` is ``start``, ``enter``, ``hook``, ``grads``, ``release``, ``accumulate``,
``capture``, ``done``, ``again`` (a second backward that succeeded) or ``error``. ``node`` is
the model id of the node the event happened at (None when that node is not drawn, e.g. beyond
``max_nodes``). ``carried`` (edges a gradient went along: an input's edge when its gradient is
not None, a tensor's edge into its grad_fn when that tensor's gradient is not None, a leaf's
edge when AccumulateGrad adds into its ``.grad``), ``freed`` (saved tensors released) and
``done`` (nodes finished) list only what is NEW at this step: the state at step k is the
union over frames 0..k, so a frame stays small on any graph (see :func:`state_at`).
``needed`` (error frames) lists the freed saved tensors the failing node needed. ``panel`` is
a list of ``[heading, text, style]`` sections, all plain text.

PyTorch outputs: :func:`record_torch` runs torch's backward once with hooks on every node and
returns the same event objects gradlab's engine yields, for the same frames.
"""
from __future__ import annotations

import numpy as np

from ..autograd.engine import (GradAccumulated, GradCaptured, GradsComputed, HookFired,
                               NodeEntered, SavedReleased)
from ..viz import model as m

SHOW_VALUES = 16  # tensors with at most this many elements are printed in full

_KINDS = {NodeEntered: "enter", HookFired: "hook", GradsComputed: "grads",
          SavedReleased: "release", GradAccumulated: "accumulate", GradCaptured: "capture"}


# ---- formatting ---------------------------------------------------------------------------------

def is_tensor(x) -> bool:
    """A gradlab or torch tensor."""
    from ..tensor import Tensor
    if isinstance(x, Tensor):
        return True
    t = type(x)
    return t.__module__.startswith("torch") and hasattr(x, "grad_fn")


def fmt(value) -> str:
    """A value as the panel shows it: small tensors printed, big ones summarised."""
    if value is None:
        return "None"
    if is_tensor(value):
        if value.numel() <= SHOW_VALUES:
            return repr(value)
        dtype = str(value.dtype).removeprefix("torch.")
        return f"tensor of shape ({', '.join(map(str, value.shape))}), {dtype}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def as_array(t) -> np.ndarray:
    """The values of a gradlab or torch tensor as a NumPy array."""
    from ..tensor import Tensor
    if isinstance(t, Tensor):
        return np.asarray(t._array)
    return t.detach().cpu().double().numpy()


def type_name(node) -> str:
    """``MulBackward0``, ``AccumulateGrad``, ``CopySlices``: the class name, as drawn."""
    return type(node).__name__


# ---- formulas -------------------------------------------------------------------------------------

def formula_class(node):
    """The gradlab class declaring ``node``'s formulas (for torch nodes: the same name)."""
    if getattr(type(node), "_formulas", None) is not None:
        return type(node)
    from ..ops._core import GRAD_FNS
    return GRAD_FNS.get(type_name(node))


def formula_values(node) -> dict:
    """The saved values ``node``'s formulas use, by parameter name (read before release)."""
    cls = formula_class(node)
    if cls is None:
        return {}
    out = {}
    for fn, idx, _ in cls._formulas:
        for p in _params(fn)[1:]:
            if p not in out:
                out[p] = _saved_value(node, cls, p)
    return out


def _params(fn):
    code = fn.__code__
    return code.co_varnames[:code.co_argcount]


_MISSING = object()


def _saved_value(node, cls, name):
    """``node._saved_<name>``, or a hidden attr of a gradlab node; _MISSING if unreadable."""
    try:
        return getattr(node, "_saved_" + name)
    except AttributeError:
        pass
    except RuntimeError:  # freed, or modified in place
        return _MISSING
    names = getattr(type(node), "_slot_names", ())
    attrs = getattr(node, "_attrs", None)
    if name in names and attrs is not None:
        j = names.index(name) - cls._n_saves
        if 0 <= j < len(attrs):
            return attrs[j]
    return _MISSING


def formula_sections(node, grad_outputs, grad_inputs, values, targets) -> list:
    """One panel section per input: ``grad_<input> = <text>``, the numbers, the result.

    The numbers are said plainly: a Python number PyTorch wrapped into a tensor shows as the
    number, ``self_sym_numel``/``self_sym_sizes`` as "self has 2 elements, shape (2,)", a saved
    value that is absent with the reason (the only input that needed it needs no gradient).
    The formula of an input that needs no gradient is not computed, so its numbers are not shown.
    """
    cls = formula_class(node)
    nexts = list(getattr(node, "next_functions", ()))
    names = [cls._inputs[i] if cls is not None and i < len(cls._inputs) else f"input {i}"
             for i in range(len(grad_inputs))]
    no_grad = [i >= len(nexts) or nexts[i][0] is None for i in range(len(grad_inputs))]
    sections = []
    for i, grad in enumerate(grad_inputs):
        target = targets[i] if i < len(targets) else "nothing"
        if cls is not None and i < len(cls._formulas):
            fn, _, text = cls._formulas[i]
            head = f"grad_{names[i]} = {text}"
            params = _params(fn)
        else:
            head, params = f"grad of {names[i]}", ()
        if no_grad[i]:
            absent = [f"{p} was not saved: {_need_none(cls, p, names, no_grad)}"
                      for p in params if values.get(p, _MISSING) is None
                      and _need_none(cls, p, names, no_grad)]
            end = "→ not computed" + ("" if absent else f": {names[i]} needs no gradient")
            sections.append([head, "\n".join(absent + [end]), "formula"])
            continue
        body = _value_lines(params, values, grad_outputs)
        if grad is None:
            body.append("→ no gradient flows here")
        else:
            body.append(hang("→ ", fmt(grad)))
            body.append(f"  sent to {target}")
        sections.append([head, "\n".join(body), "formula"])
    return sections


def _value_lines(params, values, grad_outputs) -> list:
    """``name = value`` lines, aligned, then plain facts: "self has 2 elements, shape (2,)"."""
    pairs, facts = [], {}
    for p in params:
        if p in ("grad", "grads"):
            v = grad_outputs[0] if p == "grad" and len(grad_outputs) == 1 else tuple(grad_outputs)
            pairs.append((p, fmt(v)))
            continue
        v = values.get(p, _MISSING)
        if v is _MISSING:
            continue
        base, _, what = p.partition("_sym_")
        if what:
            if what in ("numel", "sizes"):  # strides only say how memory is laid out
                facts.setdefault(base, {})[what] = v
        else:
            pairs.append((p, fmt_saved(p, v)))
    width = max([len(p) for p, _ in pairs] + [0])
    lines = [hang(f"{p:<{width}} = ", v) for p, v in pairs]
    for base, fact in facts.items():
        parts = []
        if "numel" in fact:
            n = fact["numel"]
            parts.append(f"{n} element{'' if n == 1 else 's'}")
        if "sizes" in fact:
            parts.append(f"shape {fmt(tuple(fact['sizes']))}")
        lines.append(f"{base} has {', '.join(parts)}")
    return lines


def _need_none(cls, name, names, no_grad) -> str:
    """Why saved value ``name`` is absent: "other needs no gradient" ("" if not that)."""
    if cls is None:
        return ""
    users = [i for i, (fn, _, _) in enumerate(cls._formulas) if name in _params(fn)]
    if not users or not all(i < len(no_grad) and no_grad[i] for i in users):
        return ""
    who = " and ".join(names[i] for i in users)
    return f"{who} need{'s' if len(users) == 1 else ''} no gradient"


REDUCTIONS = ("none", "mean", "sum")  # PyTorch's Reduction enum, as a loss saves it


def fmt_saved(name, value) -> str:
    """A saved value as the panel shows it: a wrapped Python number as the number."""
    if is_tensor(value) and value.dim() == 0 and not value.requires_grad and \
            str(value.dtype).removeprefix("torch.") in ("int64", "float64"):
        return repr(value.item())  # PyTorch wraps 3 as an int64 tensor, 2.5 as a float64 one
    if name == "reduction" and isinstance(value, int) and 0 <= value < len(REDUCTIONS):
        return repr(REDUCTIONS[value])
    if isinstance(value, int) and value >= 2 ** 63:  # a negative index read back unsigned
        return repr(value - 2 ** 64)
    return fmt(value)


def hang(prefix, text):
    """``prefix + text``, the text's further lines indented to line up under its first."""
    return prefix + text.replace("\n", "\n" + " " * len(prefix))


# ---- frames -------------------------------------------------------------------------------------

class FrameMaker:
    """Turns the events of one backward pass over ``graph`` into frames.

    ``values`` maps a node to the saved values its formulas used, for events replayed after
    the fact (PyTorch); otherwise they are read from the live node at its GradsComputed.
    """

    def __init__(self, graph: m.Graph, values: dict | None = None, retain_graph=False):
        self.graph = graph
        self.values = values
        self.retain_graph = retain_graph
        self.incoming = {}     # node -> grad_outputs it entered with
        self.marked = {"carried": set(), "freed": set(), "done": set()}  # ids already marked
        self.entered = None    # the last node entered (the culprit of an error)
        self.results, self.variable_edge = {}, {}
        for e in graph.edges:
            if e.kind == m.EDGE_RESULT:
                self.results.setdefault(e.src, []).append(e)
            elif e.kind == m.EDGE_VARIABLE:
                self.variable_edge[e.dst] = e.id

    def _frame(self, kind, node, title, event="", **fields):
        nid = self.graph.id_of(node) if node is not None else None
        frame = {"step": 0, "kind": kind, "event": event, "node": nid,
                 "name": type_name(node) if node is not None else "", "title": title,
                 "carried": [], "freed": [], "done": [], "needed": [], "panel": []}
        frame.update(fields)
        for key, seen in self.marked.items():  # only what is new at this step
            new = [i for i in dict.fromkeys(frame[key]) if i is not None and i not in seen]
            seen.update(new)
            frame[key] = new
        if node is not None and nid is None:
            frame["panel"].append(["not drawn", "This node is beyond the drawn part of the graph "
                                   "(max_nodes); the engine still runs it.", "note"])
        return frame

    def leaf_label(self, variable) -> str:
        nid = self.graph.id_of(variable)
        name = self.graph.node(nid).name if nid is not None else ""
        return name or f"leaf of shape ({', '.join(map(str, variable.shape))})"

    def target_label(self, fn) -> str:
        if fn is None:
            return "nothing"
        var = getattr(fn, "variable", None)
        if var is not None:
            return f"AccumulateGrad → {self.leaf_label(var)}"
        return type_name(fn)

    def start(self, outputs, seeds) -> dict:
        """Frame 0: the output and the gradient it is seeded with."""
        ids = [self.graph.id_of(t) for t in outputs]
        panel = [["seed gradient", "\n".join(fmt(s) for s in seeds), ""],
                 ["next", "Step runs the engine one event at a time: each node receives its "
                  "incoming gradient, applies its local derivative rule and sends the results "
                  "along its input edges; AccumulateGrad adds them into the leaves' .grad.",
                  "note"]]
        frame = self._frame("start", None, "Ready: backward from the output", panel=panel)
        frame["node"] = ids[0] if ids else None
        return frame

    def frame(self, event) -> dict:
        """The frame of one engine event."""
        kind = _KINDS[type(event)]
        return getattr(self, "_" + kind)(event, kind)

    def _incoming_section(self, node):
        grads = self.incoming.get(node, ())
        head = "incoming grad" if len(grads) == 1 else "incoming grads (one per output)"
        return [head, "\n".join(fmt(g) for g in grads) or "None", ""]

    def _enter(self, ev, kind):
        node = ev.node
        self.incoming[node] = ev.grad_outputs
        self.entered = node
        nid = self.graph.id_of(node)
        grads = ev.grad_outputs  # a tensor's edge carried its gradient only if there was one
        carried = [e.id for e in self.results.get(nid, ())
                   if (e.output_nr or 0) < len(grads) and grads[e.output_nr or 0] is not None]
        if getattr(node, "variable", None) is not None:
            what = f"will add it into {self.leaf_label(node.variable)}.grad"
        else:
            what = "will apply its local derivative rule for each input"
        title = f"{type_name(node)} receives its gradient"
        return self._frame(kind, node, title, "NodeEntered", carried=carried,
                           panel=[self._incoming_section(node), ["next", what, "note"]])

    def _hook(self, ev, kind):
        title = f"{type_name(ev.node)}: a {ev.kind} hook ran"
        text = "\n".join(fmt(g) for g in ev.grads) or "(no gradients)"
        return self._frame(kind, ev.node, title, "HookFired",
                           panel=[["gradients after the hook", text, ""]])

    def _grads(self, ev, kind):
        node = ev.node
        values = self.values.get(node, {}) if self.values is not None else formula_values(node)
        nexts = list(getattr(node, "next_functions", ()))
        targets = [self.target_label(fn) for fn, _ in nexts]
        sections = formula_sections(node, self.incoming.get(node, ()), ev.grad_inputs, values,
                                    targets)
        nid = self.graph.id_of(node)
        edges = [self.graph.edge_id(node, i) if g is not None and i < len(nexts) and
                 nexts[i][0] is not None else None for i, g in enumerate(ev.grad_inputs)]
        carried = edges if nid is not None else []
        if type_name(node) == "CopySlices":
            inner = getattr(node, "fn", None)  # gradlab's; torch does not expose it
            op = f" ({type_name(inner)})" if inner is not None else ""
            sections.insert(0, ["CopySlices", "An in-place op changed a view of this tensor: "
                                f"the view's part of the gradient goes through that op's "
                                f"backward{op}, the rest passes through unchanged.", "note"])
        title = f"{type_name(node)} computes the gradients of its inputs"
        return self._frame(kind, node, title, "GradsComputed", carried=carried,
                           done=[nid] if nid is not None else [],
                           panel=[self._incoming_section(node)] + sections)

    def _release(self, ev, kind):
        node = ev.node
        names = sorted(ev.names)
        saved = self.graph.saved_ids(node)
        freed = [sid for slot, sid in saved.items() if slot.split("[")[0] in names]
        text = ", ".join(names) or "(none)"
        note = ("Saved tensors are freed once the node has run (retain_graph=False): a second "
                "backward through this node will fail.")
        return self._frame(kind, node, f"{type_name(node)} frees its saved tensors",
                           "SavedReleased", freed=sorted(freed, key=_id_key),
                           panel=[["freed", text, ""], ["why", note, "note"]])

    def _accumulate(self, ev, kind):
        node, leaf = ev.node, self.leaf_label(ev.variable)
        lid = self.graph.id_of(ev.variable)
        nid = self.graph.id_of(node)
        done = [i for i in (nid, lid) if i is not None]
        text = hang("before: ", fmt(ev.before)) + "\n" + hang("after:  ", fmt(ev.after))
        return self._frame(kind, node, f"AccumulateGrad adds the gradient into {leaf}.grad",
                           "GradAccumulated", done=done, carried=[self.variable_edge.get(nid)],
                           panel=[self._incoming_section(node), [f"{leaf}.grad", text, "result"]])

    def _capture(self, ev, kind):
        return self._frame(kind, ev.node, f"autograd.grad captures input {ev.index}",
                           "GradCaptured", panel=[["captured", fmt(ev.grad), "result"]])

    def done(self, leaves) -> dict:
        """The frame after the last event: the leaves' gradients, as backward() leaves them."""
        rows = "\n".join(hang(f"{self.leaf_label(v)}.grad = ", fmt(v.grad)) for v in leaves)
        after = ("retain_graph=True: the saved tensors are still alive, so backward can run "
                 "again (and add into .grad again)." if self.retain_graph else
                 "The saved tensors were freed: a second backward fails. Try it with "
                 "'Backward again'.")
        panel = [["leaves", rows or "(no leaves)", "result"], ["next", after, "note"]]
        return self._frame("done", None, "Backward pass complete", panel=panel)

    def again(self, leaves) -> dict:
        rows = "\n".join(hang(f"{self.leaf_label(v)}.grad = ", fmt(v.grad)) for v in leaves)
        return self._frame("again", None, "A second backward ran: gradients accumulated again",
                           panel=[["leaves", rows or "(no leaves)", "result"]])

    def error(self, node, exc) -> dict:
        """A backward that failed at ``node`` (the last one entered) with ``exc``."""
        saved = self.graph.saved_ids(node) if node is not None else {}
        needed = sorted((sid for sid in saved.values()
                         if self.graph.node(sid).kind == m.SAVED), key=_id_key)
        where = type_name(node) if node is not None else "the engine"
        panel = [[f"{type(exc).__name__} at {where}", str(exc), "error"]]
        if node is not None and getattr(node, "variable", None) is None:
            panel.append(["why", f"{where} needs its saved tensors to compute its gradients, "
                          "and the first backward freed them.", "note"])
        return self._frame("error", node, f"Backward failed at {where}", needed=needed,
                           panel=panel)


def _id_key(node_id):
    return int(node_id[1:]) if node_id[1:].isdigit() else 0


def state_at(frames, index) -> dict:
    """The cumulative state shown at ``index``: current node and the sets marked so far."""
    state = {"current": None, "carried": set(), "freed": set(), "done": set(), "needed": set()}
    for f in frames[:index + 1]:
        for key in ("carried", "freed", "done"):
            state[key].update(f[key])
    if frames:
        state["current"] = frames[index]["node"]
        state["needed"] = set(frames[index]["needed"])
    return state


# ---- PyTorch: record a real backward with hooks, replay it -------------------------------------

def graph_nodes(outputs):
    """Every grad_fn node reachable from the outputs (iteratively, each once)."""
    order = [t.grad_fn for t in outputs if t.grad_fn is not None]
    seen = set(order)
    for fn in order:  # breadth first, inputs in index order
        for n, _ in getattr(fn, "next_functions", ()):
            if n is not None and n not in seen:
                seen.add(n)
                order.append(n)
    return order


def record_torch(outputs, gradients, retain_graph=False):
    """Run torch's backward with hooks on every node; return (events, formula values).

    The events are gradlab's event classes holding torch nodes, in the order torch ran them;
    ``SavedReleased`` follows the GradsComputed of each node whose saved tensors the pass freed.
    """
    import torch
    events, values, before, handles = [], {}, {}, []

    def pre(fn):
        def hook(grad_outputs):
            events.append(NodeEntered(fn, grad_outputs))
            var = getattr(fn, "variable", None)
            if var is not None:
                before[fn] = None if var.grad is None else var.grad.detach().clone()
        return hook

    def post(fn):
        def hook(grad_inputs, grad_outputs):
            var = getattr(fn, "variable", None)
            if var is not None:
                after = None if var.grad is None else var.grad.detach().clone()
                events.append(GradAccumulated(fn, var, before.pop(fn), after))
            else:
                values[fn] = formula_values(fn)
                events.append(GradsComputed(fn, grad_inputs))
        return hook

    nodes = graph_nodes(outputs)
    try:
        for fn in nodes:
            handles.append(fn.register_prehook(pre(fn)))
            handles.append(fn.register_hook(post(fn)))
        torch.autograd.backward(list(outputs), gradients, retain_graph=retain_graph)
    finally:
        for h in handles:
            h.remove()
    if retain_graph:
        return events, values
    adapter = m._TorchAdapter(torch)
    out = []
    for ev in events:
        out.append(ev)
        if type(ev) is GradsComputed:
            freed = [name for name, state, _ in adapter.saved(ev.node) if state == m.FREED]
            if freed:
                out.append(SavedReleased(ev.node, freed))
    return out, values


def torch_backward_again(outputs, gradients, retain_graph=False):
    """Run torch's backward again; return (the node entered last, the error or None)."""
    import torch
    last, handles = [None], []
    for fn in graph_nodes(outputs):
        handles.append(fn.register_prehook(lambda go, fn=fn: last.__setitem__(0, fn)))
    try:
        torch.autograd.backward(list(outputs), gradients, retain_graph=retain_graph)
    except RuntimeError as e:
        return last[0], e
    finally:
        for h in handles:
            h.remove()
    return None, None
