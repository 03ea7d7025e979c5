"""Frames of a backward pass: what the stepper shows at each engine event.

A frame is plain JSON data, made from one engine event (see :mod:`gradlab.autograd.engine`)
and the graph model that drew the SVG (:mod:`gradlab.viz.model`)::

    {"step": 3, "kind": "grads", "event": "GradsComputed", "node": "n2",
     "name": "MulBackward0", "title": "MulBackward0 computes the gradients of its inputs",
     "carried": ["e4", "e5"], "freed": [], "done": ["n2"], "needed": [],
     "parts": [["n4", 2, 3]], "saved_bytes": 16,
     "panel": [["incoming grad", "tensor([1., 1.])", ""],
               ["grad_self = grad · other", "grad  = tensor([1., 1.])\\n...", "formula"], ...]}

``kind`` is ``start``, ``enter``, ``hook``, ``unpack``, ``pack``, ``grads``, ``release``,
``accumulate``, ``capture``, ``done``, ``again`` (a second backward that succeeded) or ``error``. ``node`` is
the model id of the node the event happened at (None when that node is not drawn, e.g. beyond
``max_nodes``). ``carried`` (edges a gradient went along: an input's edge when its gradient is
not None, a tensor's edge into its grad_fn when that tensor's gradient is not None, a leaf's
edge when AccumulateGrad adds into its ``.grad``), ``freed`` (saved tensors released) and
``done`` (nodes finished) list only what is NEW at this step: the state at step k is the
union over frames 0..k, so a frame stays small on any graph (see :func:`state_at`).
``needed`` (error frames) lists the freed saved tensors the failing node needed. ``panel`` is
a list of ``[heading, text, style]`` sections, all plain text.

Where gradients meet. A node with several consumers (edges into it: its dependency count, as
the engine counts it) receives its gradient in parts, one per edge, and runs only when the
last has arrived; the engine adds the parts in its buffer as they come. ``parts`` lists
``[node id, parts that arrived at this step, parts in all]`` for drawn nodes with two or more;
like the marks, the count at step k is the sum over frames 0..k, and a node with some but not
all of its parts is "waiting". The consumer's panel says which part it sent, the node's panel
shows its incoming gradient as the sum of its parts, each with its source.

Saved memory. ``saved_bytes`` is what the saved tensors of the graph being stepped hold at
this step: the bytes of each storage they keep, counted once however many saved tensors (or
views) share it. PyTorch saves an input tensor itself, not a copy, and an output saved by its
own node as another tensor on the same storage (to avoid a reference cycle), so a saved tensor
usually shares its storage with a tensor of the forward pass, which is counted even when your
code holds it too: the number is what the graph keeps, not what freeing it would give back. A
Python number PyTorch wraps into a tensor counts as that tensor's 8 bytes; a saved tensor
modified in place is not counted (PyTorch lets nobody read it). It falls as nodes free their
saved tensors, stays with ``retain_graph=True``, and with ``create_graph=True`` grows by the
saved tensors of the nodes the backward records.

Saved-tensor hooks. Under ``saved_tensors_hooks`` a saved tensor is kept as what the pack hook
returned: frame 0 lists those packed values node by node; an ``unpack`` frame shows what the
unpack hook returned when the node read the tensor (the node's panel then shows that value, and
the hook is not called again for it); a ``pack`` frame, a tensor packed while the pass records
a graph (create_graph); the ``release`` frame says the packed values were dropped.

Predict mode (``FrameMaker(..., predict=True)``): a ``grads`` frame shows ``→ ?`` for each
gradient sent along an edge and asks for it in ``quiz``: a list of ``{"input", "ask", "kind"
("value", or "shape" for a tensor too big to print), "state" ("open", "correct" or
"revealed"), "answer", "verdict"}``. The maker puts what is hidden under ``"answers"`` (the
full panel and the expected values), which the stepper takes out before anyone sees the frame.

PyTorch outputs: :func:`record_torch` runs torch's backward once with hooks on every node and
returns the same event objects gradlab's engine yields, for the same frames.
"""
from __future__ import annotations

import ast
import inspect
import os
import textwrap

import numpy as np

from ..autograd.engine import (GradAccumulated, GradCaptured, GradsComputed, HookFired,
                               NodeEntered, SavedReleased, SavedTensorPacked,
                               SavedTensorUnpacked, _dependencies)
from ..exercises import mismatch, plain
from ..viz import model as m

SHOW_VALUES = 16  # tensors with at most this many elements are printed in full

_KINDS = {NodeEntered: "enter", HookFired: "hook", GradsComputed: "grads",
          SavedReleased: "release", GradAccumulated: "accumulate", GradCaptured: "capture",
          SavedTensorUnpacked: "unpack", SavedTensorPacked: "pack"}


# ---- formatting ---------------------------------------------------------------------------------

def is_tensor(x) -> bool:
    """A gradlab or torch tensor."""
    from ..tensor import Tensor
    if isinstance(x, Tensor):
        return True
    return m.is_torch_tensor(x)


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
    from ..ops._core import GRAD_FNS, GRAD_FNS_BY_INPUTS
    name = type_name(node)
    return GRAD_FNS_BY_INPUTS.get((name, len(node.next_functions))) or GRAD_FNS.get(name)


def formula_values(node, unpacked=None) -> dict:
    """The saved values ``node``'s formulas use, by parameter name (read before release);
    ``unpacked`` holds those its unpack hooks already returned (not to call the hooks again).
    For a custom Function's node: what its backward reads from ``ctx.saved_tensors``."""
    if is_custom(node):
        return _custom_values(node, unpacked or {})
    cls = formula_class(node)
    if cls is None:
        return {}
    out = dict(unpacked or ())
    for fn, idx, _ in cls._formulas:
        for p in _params(fn)[1:]:
            if p not in out:
                out[p] = _saved_value(node, cls, p)
    return out


def _custom_values(node, unpacked) -> dict:
    """What a custom backward read from ``ctx.saved_tensors``: the unpack hooks' results when
    they ran for every saved tensor (not to call them again), else read now."""
    slots = getattr(node, "_saved", None)
    if slots is not None and len(unpacked) == sum(s is not None for s in slots):
        names = iter(unpacked.values())
        return {"saved_tensors": tuple(s and next(names) for s in slots)}
    try:
        return {"saved_tensors": node.saved_tensors}
    except RuntimeError:  # freed, or modified in place
        return {}


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


def is_custom(node) -> bool:
    """True for the node of a custom autograd.Function (gradlab's or torch's)."""
    return hasattr(type(node), "_forward_cls")


RULE_LINES = 12  # the most lines of a custom backward's source the panel shows


def custom_rule(node) -> list:
    """A custom Function's rule: its backward's source (decorators, docstring, comments and
    blank lines left out), as a panel section."""
    cls = node._forward_cls
    user_fn = getattr(node, "_get_user_fn", None) or node._user_backward  # torch's, gradlab's
    fn = inspect.unwrap(user_fn())
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return [f"{cls.__name__}.{fn.__name__}", "(its source is not available)", "formula"]
    tree = ast.parse(source).body[0]
    body = getattr(tree, "body", [])
    doc = body[0] if body and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str) \
        else None
    lines = [line for n, line in enumerate(source.splitlines(), 1)
             if n >= tree.lineno and line.strip() and not line.strip().startswith("#") and
             (doc is None or not doc.lineno <= n <= doc.end_lineno)]
    if len(lines) > RULE_LINES:
        lines = lines[:RULE_LINES - 1] + ["    ..."]
    return [f"{cls.__name__}.backward (your code)", "\n".join(lines), "formula"]


def custom_reads(values) -> list:
    """What a custom backward reads from ``ctx.saved_tensors``, as a panel section."""
    saved = values.get("saved_tensors")
    if saved is None:
        return ["ctx.saved_tensors", "(not readable: freed or modified in place)", ""]
    lines = [hang(f"saved_tensors[{i}] = ", fmt(v)) for i, v in enumerate(saved)]
    return ["ctx.saved_tensors", "\n".join(lines) or "() (nothing saved)", ""]


def input_names(node, n) -> list:
    """The names of ``node``'s first ``n`` inputs as its formulas call them ("self", "other")."""
    cls = formula_class(node)
    return [cls._inputs[i] if cls is not None and i < len(cls._inputs) else f"input {i}"
            for i in range(n)]


def formula_sections(node, grad_outputs, grad_inputs, values, targets, hidden=()) -> list:
    """One panel section per input: ``grad_<input> = <text>``, the numbers, the result.

    The numbers are said plainly: a Python number PyTorch wrapped into a tensor shows as the
    number, ``self_sym_numel``/``self_sym_sizes`` as "self has 2 elements, shape (2,)", a saved
    value that is absent with the reason (the only input that needed it needs no gradient).
    The formula of an input that needs no gradient is not computed, so its numbers are not shown.
    An input broadcast in the forward says how its gradient was summed back to its shape.
    The results of the inputs in ``hidden`` show as "→ ?" (predict mode), without that sum.
    """
    cls = formula_class(node)
    nexts = list(getattr(node, "next_functions", ()))
    names = input_names(node, len(grad_inputs))
    no_grad = [i >= len(nexts) or nexts[i][0] is None for i in range(len(grad_inputs))]
    sections = []
    for i, grad in enumerate(grad_inputs):
        target = targets[i] if i < len(targets) else "nothing"
        if cls is not None and i < len(cls._formulas):
            fn, _, text = cls._formulas[i]
            head = f"grad_{names[i]} = {text}"
            params = getattr(fn, "shows", None) or _params(fn)  # a joint formula's share
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
            if i in hidden:
                body.append("→ ?")
            else:
                body += summed_lines(cls, i, names[i], head, grad_outputs, grad)
                body.append(hang("→ ", fmt(grad)))
            body.append(f"  sent to {target}")
        sections.append([head, "\n".join(body), "formula"])
    return sections


def summed_lines(cls, i, name, head, grad_outputs, grad) -> list:
    """How the engine summed input ``i``'s gradient back to its shape, as lines; [] if it did not.

    An input that broadcast in the forward (``b`` of shape (3,) added to rows of shape (4, 3))
    gets from its formula a gradient of the output's shape; the engine sums it over the dims
    the input was broadcast along: "summed over dim 0 to other's shape (3,)".
    """
    if i not in getattr(cls, "_broadcasts", ()) or len(grad_outputs) != 1 or \
            grad_outputs[0] is None:
        return []
    out, shape = tuple(grad_outputs[0].shape), tuple(grad.shape)
    if out == shape:
        return []
    lead = len(out) - len(shape)
    kept = [lead + k for k, n in enumerate(shape) if n == 1 and out[lead + k] != 1]
    if not shape:
        how = "over all its elements"
    elif not lead:
        how = f"over {_dims(kept)} with keepdim"
    else:
        how = f"over {_dims(range(lead))}" + (f", and over {_dims(kept)} with keepdim,"
                                              if kept else "")
    formula = head.partition(" = ")[2]
    return [f"{name} has shape {fmt(shape)}, broadcast to the output's {fmt(out)}:",
            f"{formula} is summed {how} to {name}'s shape {fmt(shape)}"]


def _dims(dims) -> str:
    """``"dim 0"``, ``"dims 0 and 2"``, ``"dims 0, 1 and 2"``."""
    dims = [str(d) for d in dims]
    if len(dims) == 1:
        return f"dim {dims[0]}"
    return f"dims {', '.join(dims[:-1])} and {dims[-1]}"


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


def fmt_packed(value) -> str:
    """What a pack hook returned, as text: tensors as printed, tuples and lists item by item."""
    if isinstance(value, (tuple, list)):
        items = ", ".join(fmt_packed(v) for v in value)
        return f"({items}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) \
            else f"[{items}]"
    return fmt(value) if is_tensor(value) else repr(value)


def packed_slots(node) -> dict:
    """``{name: packed value}`` of a gradlab node's saved tensors kept by saved-tensor hooks."""
    slots = getattr(node, "saved_slots", None)
    if slots is None or not hasattr(node, "_saved"):  # torch nodes: not shown
        return {}
    return {name: slot.value for name, slot in slots().items()
            if slot.packed and not slot.freed}


def _seq(node) -> int:
    return getattr(node, "_seq_nr", 0)


def hang(prefix, text):
    """``prefix + text``, the text's further lines indented to line up under its first."""
    return prefix + text.replace("\n", "\n" + " " * len(prefix))


# ---- frames -------------------------------------------------------------------------------------

class FrameMaker:
    """Turns the events of one backward pass over ``graph`` into frames.

    ``values`` maps a node to the saved values its formulas used, for events replayed after
    the fact (PyTorch); otherwise they are read from the live node at its GradsComputed. Make
    the maker before the pass runs: it counts the saved tensors the graph holds then.
    ``create_graph`` says the pass records a graph of its own (whose saved tensors it counts
    too); ``predict`` hides each computed gradient behind a question (see the module docstring).
    """

    def __init__(self, graph: m.Graph, values: dict | None = None, retain_graph=False, *,
                 create_graph=False, predict=False):
        self.graph = graph
        self.values = values
        self.retain_graph = retain_graph
        self.create_graph = create_graph
        self.predict = predict
        self.incoming = {}     # node -> grad_outputs it entered with, until it has run
        self.marked = {"carried": set(), "freed": set(), "done": set()}  # ids already marked
        self.entered = None    # the last node entered (the culprit of an error)
        self.unpacked = {}     # node -> {saved name: what its unpack hook returned}
        self.results, self.variable_edge = {}, {}
        for e in graph.edges:
            if e.kind == m.EDGE_RESULT:
                self.results.setdefault(e.src, []).append(e)
            elif e.kind == m.EDGE_VARIABLE:
                self.variable_edge[e.dst] = e.id
        roots = [t.grad_fn for t in graph_outputs(graph) if t.grad_fn is not None]
        self.needs = _dependencies(roots)  # node -> edges into it: the parts it waits for
        self.arrived = {}      # node -> parts received so far
        self.parts = {}        # node -> {output_nr: [(source, gradient)]}, until it has run
        self.memory = SavedMemory(graph.backend)
        self.known = set(roots) | set(self.needs)  # nodes not recorded by this pass
        for node in self.known:
            self.memory.add(node)
        if create_graph:  # a graph hanging off a leaf's .grad is an earlier pass's
            self._record_new([getattr(n, "variable", None) for n in self.needs], count=False,
                             grads=True)

    def fan_in(self) -> dict:
        """``{node id: parts}`` for the drawn nodes that receive their gradient in 2+ parts."""
        out = {}
        for node, total in self.needs.items():
            nid = self.graph.id_of(node)
            if total > 1 and nid is not None:
                out[nid] = total
        return out

    def _frame(self, kind, node, title, event="", **fields):
        nid = self.graph.id_of(node) if node is not None else None
        frame = {"step": 0, "kind": kind, "event": event, "node": nid,
                 "name": type_name(node) if node is not None else "", "title": title,
                 "carried": [], "freed": [], "done": [], "needed": [], "parts": [],
                 "saved_bytes": self.memory.bytes, "panel": []}
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
        for t, seed in zip(outputs, seeds):  # the first part of an output's gradient
            if t.grad_fn is not None and seed is not None:
                nr = t.output_nr if hasattr(type(t), "output_nr") else t._output_nr
                self.parts.setdefault(t.grad_fn, {}).setdefault(nr, []).append(
                    ("the seed gradient", seed))
        if self.create_graph:  # a seed's own graph is not this pass's either
            self._record_new(seeds, count=False)
        packed = [hang(f"{type_name(n)}.{name}: ", fmt_packed(v))
                  for n in sorted(self.known, key=_seq) for name, v in packed_slots(n).items()]
        panel = [["seed gradient", "\n".join(fmt(s) for s in seeds), ""]]
        if packed:
            panel.append(["packed by saved-tensor hooks", "\n".join(packed), ""])
        panel += [
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
        """The gradients ``node`` entered with; one received in parts, as their sum."""
        grads = self.incoming.get(node, ())
        parts = self.parts.get(node, {})
        if len(grads) == 1:
            got = parts.get(0, ())
            if not _adds_up(got, grads[0]):
                return ["incoming grad, as a hook changed it", fmt(grads[0]), ""]
            if len(got) > 1:
                return [f"incoming grad = sum of {len(got)} parts", _sum_text(got, grads[0]), ""]
            return ["incoming grad", fmt(grads[0]), ""]
        lines = []
        for nr, grad in enumerate(grads):
            got = parts.get(nr, ())
            if not _adds_up(got, grad):
                lines.append(hang(f"output {nr}, as a hook changed it: ", fmt(grad)))
            elif len(got) > 1:
                lines += [f"output {nr} = sum of {len(got)} parts:", _sum_text(got, grad)]
            else:
                lines.append(hang(f"output {nr}: ", fmt(grad)))
        return ["incoming grads (one per output)", "\n".join(lines) or "None", ""]

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
        total = self.needs.get(node, 0)
        if total > 1:
            what = (f"It waited until all {total} parts had arrived (its dependency count "
                    f"reached 0): now it {what}.")
        if self.create_graph:
            self._record_new(grads)
        title = f"{type_name(node)} receives its gradient"
        return self._frame(kind, node, title, "NodeEntered", carried=carried,
                           panel=[self._incoming_section(node), ["next", what, "note"]])

    def _unpack(self, ev, kind):
        self.unpacked.setdefault(ev.node, {})[ev.name] = ev.value
        packed = packed_slots(getattr(ev.node, "fn", ev.node)).get(ev.name, _MISSING)
        panel = [["unpack_hook returned", fmt(ev.value), "result"]]
        if packed is not _MISSING:
            panel.insert(0, ["packed", fmt_packed(packed), ""])
        what = ev.name if ev.name.startswith("saved_tensors") else f"its saved {ev.name}"
        return self._frame(kind, ev.node, f"{type_name(ev.node)} unpacks {what}",
                           "SavedTensorUnpacked", panel=panel)

    def _pack(self, ev, kind):
        return self._frame(kind, ev.node, f"{type_name(ev.node)} (recorded by this pass) packs "
                           f"its saved {ev.name}", "SavedTensorPacked",
                           panel=[["pack_hook returned", fmt_packed(ev.packed), "result"]])

    def _hook(self, ev, kind):
        if ev.kind in ("tensor", "prehook") and ev.node in self.incoming:
            self.incoming[ev.node] = ev.grads  # the node runs on what its hooks returned
        title = f"{type_name(ev.node)}: a {ev.kind} hook ran"
        text = "\n".join(fmt(g) for g in ev.grads) or "(no gradients)"
        return self._frame(kind, ev.node, title, "HookFired",
                           panel=[["gradients after the hook", text, ""]])

    def _send(self, node, grad_inputs, names):
        """Count the parts ``node`` sends along its edges: (target labels, ``parts`` entries)."""
        labels, arrivals = [], {}
        for i, (fn, nr) in enumerate(getattr(node, "next_functions", ())):
            label = self.target_label(fn)
            if fn is not None and i < len(grad_inputs):
                got = self.arrived[fn] = self.arrived.get(fn, 0) + 1
                total = self.needs.get(fn, 1)
                if grad_inputs[i] is not None:
                    self.parts.setdefault(fn, {}).setdefault(nr, []).append(
                        (f"{type_name(node)} (grad_{names[i]})", grad_inputs[i]))
                if total > 1:
                    label += f" (part {got} of {total}: " + (
                        f"it waits for {total - got} more)" if got < total else
                        "all in, it can run)")
                    tid = self.graph.id_of(fn)
                    if tid is not None:
                        arrivals.setdefault(tid, [tid, 0, total])[1] += 1
            labels.append(label)
        return labels, list(arrivals.values())

    def _grads(self, ev, kind):
        node, grads = ev.node, ev.grad_inputs
        values = self.values.get(node, {}) if self.values is not None else formula_values(
            node, self.unpacked.pop(node, None))
        nexts = list(getattr(node, "next_functions", ()))
        names = input_names(node, len(grads))
        targets, parts = self._send(node, grads, names)
        incoming = self.incoming.get(node, ())
        sections = formula_sections(node, incoming, grads, values, targets)
        nid = self.graph.id_of(node)
        edges = [self.graph.edge_id(node, i) if g is not None and i < len(nexts) and
                 nexts[i][0] is not None else None for i, g in enumerate(grads)]
        carried = edges if nid is not None else []
        head = [self._incoming_section(node)]
        if is_custom(node):
            head += [custom_rule(node), custom_reads(values)]
        if type_name(node) == "CopySlices":
            inner = getattr(node, "fn", None)  # gradlab's; torch does not expose it
            op = f" ({type_name(inner)})" if inner is not None else ""
            head.append(["CopySlices", "An in-place op changed a view of this tensor: "
                         f"the view's part of the gradient goes through that op's "
                         f"backward{op}, the rest passes through unchanged.", "note"])
        tail = []
        if self.create_graph:
            before, new = self.memory.bytes, self._record_new(grads)
            if new:
                tail.append(["saved memory", f"create_graph=True: this step recorded {new} new "
                             f"node{'s' if new > 1 else ''}. " + _memory_change(
                                 before, self.memory, "they save nothing new (nothing, or "
                                 "storages already counted)"), "note"])
        title = f"{type_name(node)} computes the gradients of its inputs"
        frame = self._frame(kind, node, title, "GradsComputed", carried=carried,
                            done=[nid] if nid is not None else [], parts=parts,
                            panel=head + sections + tail)
        asked = [i for i, g in enumerate(grads) if g is not None and i < len(nexts)
                 and nexts[i][0] is not None] if self.predict else []
        if asked:
            hidden = formula_sections(node, incoming, grads, values, targets, hidden=asked)
            frame["answers"] = {"panel": frame["panel"],
                                "expected": [_expected(grads[i]) for i in asked],
                                "sections": [len(head) + i for i in asked]}
            frame["panel"] = head + hidden + tail
            frame["quiz"] = [_question(names[i], grads[i]) for i in asked]
        self.incoming.pop(node, None)
        self.parts.pop(node, None)
        return frame

    def _release(self, ev, kind):
        node = ev.node
        names = sorted(ev.names)
        saved = self.graph.saved_ids(node)
        freed = [sid for slot, sid in saved.items() if slot.split("[")[0] in names]
        text = ", ".join(names) or "(none)"
        note = ("Saved tensors are freed once the node has run (retain_graph=False): a second "
                "backward through this node will fail.")
        slots = node.saved_slots() if hasattr(node, "_saved") else {}
        if any(slot.packed for slot in slots.values()):
            note += " What the pack hooks returned is dropped with them."
        before = self.memory.bytes
        self.memory.release(node, names)
        return self._frame(kind, node, f"{type_name(node)} frees its saved tensors",
                           "SavedReleased", freed=sorted(freed, key=_id_key),
                           panel=[["freed", text, ""], ["why", note, "note"],
                                  ["saved memory", _memory_change(
                                      before, self.memory, "another saved tensor shares this "
                                      "storage, which counts once"), "note"]])

    def _accumulate(self, ev, kind):
        node, leaf = ev.node, self.leaf_label(ev.variable)
        lid = self.graph.id_of(ev.variable)
        nid = self.graph.id_of(node)
        done = [i for i in (nid, lid) if i is not None]
        if self.create_graph:
            self._record_new([ev.after])
        text = hang("before: ", fmt(ev.before)) + "\n" + hang("after:  ", fmt(ev.after))
        frame = self._frame(kind, node, f"AccumulateGrad adds the gradient into {leaf}.grad",
                            "GradAccumulated", done=done, carried=[self.variable_edge.get(nid)],
                            panel=[self._incoming_section(node),
                                   [f"{leaf}.grad", text, "result"]])
        self.incoming.pop(node, None)
        self.parts.pop(node, None)
        return frame

    def _capture(self, ev, kind):
        return self._frame(kind, ev.node, f"autograd.grad captures input {ev.index}",
                           "GradCaptured", panel=[["captured", fmt(ev.grad), "result"]])

    def _record_new(self, tensors, count=True, grads=False) -> int:
        """create_graph: count the saved tensors of the nodes this pass recorded, reached from
        ``tensors`` (or their ``.grad`` with ``grads``); returns how many nodes were new."""
        stack = []
        for t in tensors:
            if t is not None and grads:
                t = t.grad
            if t is not None and t.grad_fn is not None:
                stack.append(t.grad_fn)
        new = 0
        while stack:
            fn = stack.pop()
            if fn in self.known:
                continue
            self.known.add(fn)
            if count:
                new += 1
                self.memory.add(fn)
            stack.extend(n for n, _ in getattr(fn, "next_functions", ()) if n is not None)
        return new

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
        """A backward that failed at ``node`` (the last one entered) with ``exc``: the saved
        tensors it needed are marked (those changed in place, for the in-place error), and
        the forward line that made the node is shown if anomaly mode recorded it."""
        saved = self.graph.saved_ids(node) if node is not None and NAN_TEXT not in str(exc) \
            else {}  # a NaN is no saved tensor's fault
        if node is not None and MODIFIED_TEXT in str(exc):
            changed = _modified_slots(self.graph.backend, node)
            saved = {name: sid for name, sid in saved.items() if name in changed} or saved
        needed = sorted((sid for sid in saved.values()
                         if self.graph.node(sid).kind == m.SAVED), key=_id_key)
        where = type_name(node) if node is not None else "the engine"
        panel = [[f"{type(exc).__name__} at {where}", str(exc), "error"]]
        why = _why(where, str(exc))
        if why is not None and node is not None and getattr(node, "variable", None) is None:
            panel.append(["why", why, "note"])
        line = forward_line(node, self.graph.backend)
        if line is not None:
            panel.append(["made by this forward line (anomaly mode)", line, ""])
        return self._frame("error", node, f"Backward failed at {where}", needed=needed,
                           panel=panel)


def forward_line(node, backend="gradlab") -> str | None:
    """The user's line whose op made ``node``: the last frame of the forward traceback that
    anomaly mode recorded (``metadata["traceback_"]``, gradlab's or torch's) outside the
    library, without its indentation; None when no traceback was recorded."""
    metadata = getattr(node, "metadata", None)
    stack = metadata.get("traceback_") if isinstance(metadata, dict) else None
    if not stack:
        return None
    library = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # gradlab's
    if backend == "torch":  # torch's frames (nn.Module, nn.functional) are not the user's
        import torch
        library = os.path.dirname(torch.__file__)
    inside = f'  File "{library}{os.sep}'
    frame = next((f for f in reversed(stack) if not f.startswith(inside)), stack[-1])
    return "\n".join(line.strip() for line in frame.rstrip("\n").split("\n"))


FREED_TEXT = "backward through the graph a second time"
MODIFIED_TEXT = "has been modified by an inplace operation"
NAN_TEXT = "returned nan values in its"


def _why(where, message) -> str | None:
    """Why a node failed, for PyTorch's errors about saved tensors and NaN (else None)."""
    if NAN_TEXT in message:
        return (f"Anomaly mode checks the gradients each node computes: {where} is the first "
                "whose gradients hold NaN, so the pass stops here. The nodes before it gave "
                "numbers; its own rule turned them into NaN for these inputs.")
    if FREED_TEXT in message:
        return (f"{where} needs its saved tensors to compute its gradients, and the first "
                "backward freed them.")
    if MODIFIED_TEXT in message:
        return (f"{where} saved a tensor for its backward, and an in-place operation changed "
                "it since (its version counter went up): a gradient computed from it would be "
                "wrong, so the pass stops here.")
    return None


def _modified_slots(backend, node) -> set:
    """The names of ``node``'s saved tensors changed in place since they were saved."""
    if backend == "torch":
        import torch
        adapter = m._TorchAdapter(torch)
    else:
        adapter = m._GradlabAdapter()
    return {name for name, state, _ in adapter.saved(node) if state == m.MODIFIED}


def graph_outputs(graph) -> list:
    """The output tensors ``graph`` was built from, in order."""
    return [obj for obj, nid in graph.objects.values() if graph.node(nid).kind == m.OUTPUT]


SHOW_PARTS = 8  # a sum of more parts shows its first ones and its last


def _adds_up(parts, total) -> bool:
    """Whether the ``(source, gradient)`` parts a node received add up to the gradient it runs
    on (True when none are known); a hook may have changed it on the way in."""
    if not parts or total is None:
        return True
    arrays = [np.asarray(as_array(g), np.float64) for _, g in parts]
    total = np.asarray(as_array(total), np.float64)
    got = sum(arrays)
    if got.shape != total.shape:  # nothing to compare: no claim about a hook
        return True
    scale = sum(np.abs(a) for a in arrays)  # the parts' rounding, even where they cancel
    return bool(np.all(np.abs(got - total) <= 1e-5 * scale + 1e-12))


def _sum_text(parts, total) -> str:
    """``part + part + ... = total``, one line per part with where it came from."""
    shown = list(enumerate(parts))
    if len(shown) > SHOW_PARTS:
        shown = shown[:SHOW_PARTS - 2] + [(None, None)] + shown[-1:]
    values = [fmt(part[1]) if part is not None else "" for _, part in shown]
    width = max((len(v) for v in values if "\n" not in v), default=0)
    lines = []
    for (k, part), value in zip(shown, values):
        sign = "+ " if k else "  "
        if part is None:
            lines.append(f"+ … {len(parts) - SHOW_PARTS + 1} more parts …")
        elif "\n" in value:
            lines += [f"{sign}from {part[0]}:", hang("  ", value)]
        else:
            lines.append(f"{sign}{value:<{width}}  from {part[0]}")
    lines.append(hang("= ", fmt(total)))
    return "\n".join(lines)


# ---- predict mode ------------------------------------------------------------------------------

def _question(name, grad) -> dict:
    """What predict mode asks about a gradient: its values, or its shape if too big to print."""
    kind = "value" if grad.numel() <= SHOW_VALUES else "shape"
    ask = f"grad_{name} = ?" if kind == "value" else f"grad_{name}.shape = ?"
    return {"input": name, "ask": ask, "kind": kind, "state": "open", "answer": "",
            "verdict": ""}


def _expected(grad):
    """(the value as plain Python, its shape as a list, its text) of a hidden gradient."""
    return plain(grad), list(grad.shape), fmt(grad)


def read_answer(answer):
    """A typed answer as plain Python: "7.39", "[1, 2.5]", "(2, 3)", "tensor([1., 2.])".

    Anything that is not a string (a number, a list, a tensor, a torch.Size) is taken as is.
    ValueError when the text is not a number, a list or a tuple of them.
    """
    if not isinstance(answer, str):
        return plain(list(answer) if isinstance(answer, tuple) else answer)
    text = answer.strip()
    for wrapper in ("tensor(", "torch.Size(", "Size("):
        if text.startswith(wrapper) and text.endswith(")"):
            text = text[len(wrapper):-1]
    try:
        value = ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if not _numbers(value):
        raise ValueError(f"could not read {answer.strip()!r}: type a number (7.39), a list "
                         "([1, 2.5]) or, for a shape, a tuple ((2, 3))")
    return plain(list(value) if isinstance(value, tuple) else value)


def _numbers(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def answer_text(question, expected) -> str:
    """``"grad_self = tensor(7.3891)"``, ``"grad_self.shape = (40, 3)"``: what was hidden."""
    value, shape, text = expected
    head = question["ask"].removesuffix(" = ?")
    return hang(f"{head} = ", fmt(tuple(shape)) if question["kind"] == "shape" else text)


def check_prediction(answer, question, expected, tolerance) -> tuple[bool, str]:
    """(right?, what to tell the student) for ``answer`` to a quiz ``question``.

    Values are compared as :mod:`gradlab.exercises` compares answers (relative ``tolerance``,
    element by element); a shape must be exact. A wrong answer is told what is wrong, never
    the expected value.
    """
    value, shape, _ = expected
    try:
        given = read_answer(answer)
    except (ValueError, TypeError) as e:
        return False, f"Could not check this: {e}."
    if question["kind"] == "shape":
        problem = mismatch(given, shape, 0)
    else:
        problem = mismatch(given, value, tolerance)
    head = question["ask"].removesuffix(" = ?")
    if problem is None:
        return True, hang("Correct: ", answer_text(question, expected))
    if problem == "value":
        return False, (f"Not quite: that is not within {tolerance * 100:g}% of {head}. Try again, "
                       "or Reveal.") if question["kind"] == "value" else \
            f"Not quite: {head} is another shape. Try again, or Reveal."
    return False, f"Not quite: {problem}. Try again, or Reveal."


# ---- saved memory ------------------------------------------------------------------------------

class SavedMemory:
    """The bytes the saved tensors of a graph hold, each storage once (see the module docstring)."""

    def __init__(self, backend: str):
        if backend == "torch":
            import torch
            adapter = m._TorchAdapter(torch)  # one, for its cache of each class's slot names
            self.storages_of = lambda node: _torch_storages(adapter, node)
        else:
            self.storages_of = _gradlab_storages
        self.held = {}   # storage key -> [bytes, saved tensors holding it]
        self.slots = {}  # node -> {slot name: [storage keys]}
        self.bytes = 0

    def add(self, node):
        """Count the saved tensors ``node`` holds now."""
        slots = self.storages_of(node)
        if not slots:
            return
        self.slots[node] = {name: [key for key, _ in storages] for name, storages in slots.items()}
        for storages in slots.values():
            for key, nbytes in storages:
                entry = self.held.get(key)
                if entry is None:
                    self.held[key] = [nbytes, 1]
                    self.bytes += nbytes
                else:
                    entry[1] += 1

    def release(self, node, names):
        """``node`` freed its saved tensors ``names``."""
        slots = self.slots.get(node, {})
        for name in names:
            for key in slots.pop(name, ()):
                entry = self.held[key]
                entry[1] -= 1
                if not entry[1]:
                    del self.held[key]
                    self.bytes -= entry[0]


def _gradlab_storages(node) -> dict:
    """``{slot name: [(storage key, bytes)]}`` of the saved tensors a gradlab node holds."""
    from ..tensor import Tensor
    out = {}
    for name, slot in node.saved_slots().items():
        value = slot.value
        if slot.freed or slot.counter is not None and slot.counter[0] != slot.version:
            continue
        if slot.packed:  # the tensors in what the pack hook returned
            arrays = [t._array for t in _tensors_in(value)]
        elif slot.is_output:
            arrays = [value]
        elif slot.counter is not None:
            arrays = [value._array]
        elif isinstance(value, tuple):
            arrays = [t._array for t in value if isinstance(t, Tensor)]
        else:  # a Python number: PyTorch saves it as an 8-byte tensor of its own
            out[name] = [((id(node), name), 8)]
            continue
        if arrays:
            out[name] = [_array_storage(a) for a in arrays]
    return out


def _tensors_in(value):
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors_in(v)


def _array_storage(array):
    """(key, bytes) of the memory a NumPy array (or scalar) is a view of."""
    while isinstance(array, np.ndarray) and isinstance(array.base, np.ndarray):
        array = array.base
    return id(array), int(array.nbytes)


def _torch_storages(adapter, node) -> dict:
    """``{slot name: [(storage key, bytes)]}`` of the saved tensors a torch node holds."""
    import torch
    out = {}
    for name, state, value in adapter.saved(node) + _custom_saved(node):
        if state != m.ALIVE:
            continue
        tensors = [value] if isinstance(value, torch.Tensor) else \
            [v for v in value if isinstance(v, torch.Tensor)] \
            if isinstance(value, (tuple, list)) else []
        if tensors:
            out[name] = [(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
                         for t in tensors]
    return out


def _custom_saved(node) -> list:
    """(name, state, value) for each tensor a torch custom Function's node saved, as
    ``adapter.saved`` gives them for its other nodes (whose saved tensors are ``_saved_*``)."""
    if not is_custom(node):
        return []
    try:
        saved = node.saved_tensors
    except RuntimeError:
        return []
    return [(f"saved_tensors[{i}]", m.ALIVE, t) for i, t in enumerate(saved) if t is not None]


def fmt_bytes(n: int) -> str:
    """``"48 bytes"``, ``"12,288 bytes"``, ``"1.5 MiB"``."""
    if n < 100_000:
        return f"{n:,} byte{'' if n == 1 else 's'}"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024:
            break
    return f"{n:.1f} {unit}"


def memory_text(memory) -> str:
    """``"16 bytes in 2 storages"``: what the saved tensors hold."""
    n = len(memory.held)
    return f"{fmt_bytes(memory.bytes)} in {n} storage{'' if n == 1 else 's'}" if n else "nothing"


def _memory_change(before, memory, same) -> str:
    """The saved tensors' bytes after a step that held ``before``; ``same`` says why unchanged."""
    if memory.bytes == before:
        return f"The saved tensors still hold {memory_text(memory)}: {same}."
    way = "up from" if memory.bytes > before else "down from"
    return f"The saved tensors now hold {memory_text(memory)}, {way} {fmt_bytes(before)}."


def _id_key(node_id):
    return int(node_id[1:]) if node_id[1:].isdigit() else 0


def state_at(frames, index) -> dict:
    """The cumulative state shown at ``index``: current node, the sets marked so far, the
    nodes waiting for more parts (``{id: (received, total)}``) and the saved bytes."""
    state = {"current": None, "carried": set(), "freed": set(), "done": set(), "needed": set(),
             "waiting": {}, "saved_bytes": 0}
    parts = {}
    for f in frames[:index + 1]:
        for key, ids in f.get("cleared", {}).items():  # a forward stepper's new pass
            state[key].difference_update(ids)
        for key in ("carried", "freed", "done"):
            state[key].update(f[key])
        for nid, n, total in f["parts"]:
            parts[nid] = (parts.get(nid, (0,))[0] + n, total)
    state["waiting"] = {nid: p for nid, p in parts.items() if 0 < p[0] < p[1]}
    if frames:
        state["current"] = frames[index]["node"]
        state["needed"] = set(frames[index]["needed"])
        state["saved_bytes"] = frames[index]["saved_bytes"]
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


def record_torch(outputs, gradients, retain_graph=False, create_graph=False):
    """Run torch's backward with hooks on every node; return (events, formula values, error).

    The events are gradlab's event classes holding torch nodes, in the order torch ran them;
    ``SavedReleased`` follows the GradsComputed of each node whose saved tensors the pass freed.
    ``error`` is the RuntimeError that stopped the pass (after the events before it), or None.
    """
    import torch
    events, values, before, handles, error = [], {}, {}, [], None

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
        torch.autograd.backward(list(outputs), gradients, retain_graph=retain_graph,
                                create_graph=create_graph)
    except RuntimeError as e:  # e.g. a saved tensor modified in place: the replay ends with it
        error = e
    finally:
        for h in handles:
            h.remove()
    if retain_graph:
        return events, values, error
    adapter = m._TorchAdapter(torch)
    out = []
    for ev in events:
        out.append(ev)
        if type(ev) is GradsComputed:
            freed = [name for name, state, _ in adapter.saved(ev.node) if state == m.FREED]
            if is_custom(ev.node):
                freed = _custom_freed(ev.node, values.get(ev.node, {}))
            if freed:
                out.append(SavedReleased(ev.node, freed))
    return out, values, error


def _custom_freed(fn, values) -> list:
    """The names gradlab's engine gives the saved tensors a torch custom node freed (``values``:
    what its backward read)."""
    try:
        fn.saved_tensors
    except RuntimeError as e:
        if FREED_TEXT in str(e):
            return [f"saved_tensors[{i}]" for i in range(len(values.get("saved_tensors", ())))]
    return []


def torch_backward_again(outputs, gradients, retain_graph=False, create_graph=False):
    """Run torch's backward again; return (the node entered last, the error or None)."""
    import torch
    last, handles = [None], []
    for fn in graph_nodes(outputs):
        handles.append(fn.register_prehook(lambda go, fn=fn: last.__setitem__(0, fn)))
    try:
        torch.autograd.backward(list(outputs), gradients, retain_graph=retain_graph,
                                create_graph=create_graph)
    except RuntimeError as e:
        return last[0], e
    finally:
        for h in handles:
            h.remove()
    return None, None
