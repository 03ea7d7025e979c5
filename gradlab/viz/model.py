"""The backward graph as plain data, read from gradlab or from PyTorch tensors.

``build(outputs, params=None, max_nodes=500)`` returns a :class:`Graph`: frozen dataclasses
(:class:`GraphNode`, :class:`GraphEdge`) that say what the graph is, with no reference to how it
will be drawn. ``from_gradlab`` and ``from_torch`` are the same traversal over two adapters; the
same program gives equal graphs on both backends (``from_gradlab(...) == from_torch(...)``).

Ids. Nodes are ``"n0", "n1", ...`` and edges ``"e0", "e1", ...`` in traversal order: the
outputs first (in the order given), then breadth first from their ``grad_fn`` along
``next_functions`` (in index order); a ``grad_fn`` is followed by its saved tensors (sorted by
name, as ``dir()`` lists ``_saved_*``), its leaf variable (AccumulateGrad) and the named tensors
it produced. The same program always gives the same ids, and the ids are those of the SVG
elements drawn by :mod:`gradlab.viz.dot`.

Names. ``params`` names tensors, as torchviz's does. Given ``params``, an output it does not
name takes the name the code that asked for the graph gives it (the first caller outside gradlab:
its locals, then globals; Python names not starting with "_"), so ``make_dot(loss,
dict(model.named_parameters()))`` labels the output ``loss`` where torchviz shows only its
shape. Without ``params`` nothing is named, as in torchviz.

Node kinds: ``LEAF`` (a leaf that requires grad, the ``variable`` of an AccumulateGrad),
``OTHER_LEAF`` (a leaf that does not, reached only as the base of a view), ``INTERMEDIATE``
(a non-leaf tensor named in ``params``, or the base of an output view), ``OUTPUT``,
``GRAD_FN``, ``ACCUMULATE_GRAD``, ``SAVED`` (one saved tensor; ``state`` is ``ALIVE``,
``FREED`` after a backward without ``retain_graph``, ``MODIFIED`` after an in-place change, or
``PACKED`` when a saved-tensor pack hook kept it as something holding no tensor; otherwise a
packed one is drawn as the first tensor its pack hook returned, with no unpack hook called),
``SUMMARY`` (stands for the nodes beyond ``max_nodes``).

Edges point the way data flows forward, as torchviz draws them; gradients flow from ``dst`` to
``src``. Kinds: ``EDGE_NEXT`` (``src`` is ``dst.next_functions[input_nr]``, whose output
``output_nr`` feeds it), ``EDGE_VARIABLE`` (leaf -> its AccumulateGrad), ``EDGE_RESULT``
(grad_fn -> the tensor it produced, ``output_nr``), ``EDGE_SAVED`` (grad_fn -> a saved tensor),
``EDGE_VIEW`` (base -> a view of it).

Size. With more than ``max_nodes`` nodes, the nodes nearest the outputs are kept and one
``SUMMARY`` node ("… N more nodes") replaces the rest; edges from dropped nodes into kept ones
come from the summary node, and each kept node has one edge into it. ``Graph.omitted`` is N:
the grad_fn and tensor nodes not kept (their saved tensors aside).

Mapping engine events to ids. The graph keeps the live backend objects it read (grad_fn nodes
and tensors, which it holds strongly): ``graph.id_of(event.node)`` is the node entered;
``graph.edge_id(event.node, i)`` the edge carrying ``GradsComputed.grad_inputs[i]``;
``graph.saved_ids(event.node)[name]`` a saved tensor named in ``SavedReleased.names``;
``graph.id_of(event.variable)`` the leaf of a ``GradAccumulated``. Each returns None (or {})
for what the graph does not show.
"""
from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

LEAF = "leaf"
OTHER_LEAF = "other_leaf"
INTERMEDIATE = "intermediate"
OUTPUT = "output"
GRAD_FN = "grad_fn"
ACCUMULATE_GRAD = "accumulate_grad"
SAVED = "saved"
SUMMARY = "summary"

EDGE_NEXT = "next"
EDGE_VARIABLE = "variable"
EDGE_RESULT = "result"
EDGE_SAVED = "saved"
EDGE_VIEW = "view"

ALIVE = "alive"
FREED = "freed"
MODIFIED = "modified"
PACKED = "packed"  # kept by a saved-tensor pack hook as something that holds no tensor

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SMALL = 6  # tensors with at most this many elements show their values
_FREED_TEXT = "backward through the graph a second time"


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One node: a tensor, a grad_fn, a saved tensor or the summary of collapsed nodes.

    ``label`` is the full text (lines joined by newlines); ``name`` the variable name of a
    tensor ("" if unnamed), the class name of a grad_fn, or the slot name of a saved tensor
    (``"self"``, ``"result"``, ``"tensors[0]"``). ``shape``, ``dtype`` (``"float32"``) and
    ``values`` (text, only for at most ``SMALL`` elements) describe tensors; ``attrs`` holds a
    grad_fn's non-tensor saved values as ``(name, str(value))`` pairs, sorted by name.
    """

    id: str
    kind: str
    label: str
    name: str = ""
    shape: tuple | None = None
    dtype: str | None = None
    values: str | None = None
    attrs: tuple = ()
    state: str = ALIVE

    @property
    def freed(self) -> bool:
        return self.state == FREED


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """An edge ``src -> dst`` (forward direction); see the module docstring for the kinds."""

    id: str
    src: str
    dst: str
    kind: str
    input_nr: int | None = None
    output_nr: int | None = None


@dataclass(frozen=True, slots=True)
class Graph:
    """Nodes and edges in traversal order, with lookups by id and by live backend object.

    Two graphs are equal when their nodes, edges and ``omitted`` are: the backend is not
    compared, so a gradlab graph equals the torch graph of the same program.
    """

    nodes: tuple
    edges: tuple
    omitted: int = 0
    backend: str = field(default="gradlab", compare=False)
    objects: Mapping = field(default_factory=dict, compare=False, repr=False)
    _by_id: dict = field(init=False, compare=False, repr=False)
    _next: dict = field(init=False, compare=False, repr=False)
    _saved: dict = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        by_id = {n.id: n for n in self.nodes}
        nxt, saved = {}, {}
        for e in self.edges:
            if e.kind == EDGE_NEXT:
                nxt[e.dst, e.input_nr] = e.id
            elif e.kind == EDGE_SAVED:
                saved.setdefault(e.src, {})[by_id[e.dst].name] = e.dst
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_next", nxt)
        object.__setattr__(self, "_saved", saved)

    def node(self, node_id: str) -> GraphNode:
        """The node with this id (KeyError if none)."""
        return self._by_id[node_id]

    def of_kind(self, *kinds: str) -> list:
        return [n for n in self.nodes if n.kind in kinds]

    def edges_from(self, node_id: str) -> list:
        return [e for e in self.edges if e.src == node_id]

    def edges_to(self, node_id: str) -> list:
        return [e for e in self.edges if e.dst == node_id]

    def id_of(self, obj) -> str | None:
        """The id of a live grad_fn node or tensor of the backend, or None if not drawn."""
        entry = self.objects.get(id(obj))
        return entry[1] if entry is not None and entry[0] is obj else None

    def object_of(self, node_id: str):
        """The live grad_fn node or tensor behind a node id (None for saved and summary)."""
        for obj, nid in self.objects.values():
            if nid == node_id:
                return obj
        return None

    def edge_id(self, fn, input_nr: int) -> str | None:
        """The EDGE_NEXT edge carrying the gradient of ``fn``'s input ``input_nr``."""
        return self._next.get((self._resolve(fn), input_nr))

    def saved_ids(self, fn) -> dict:
        """``{slot name: node id}`` of the saved tensors of ``fn`` (a node object or id)."""
        return dict(self._saved.get(self._resolve(fn), {}))

    def _resolve(self, fn):
        return fn if isinstance(fn, str) else self.id_of(fn)


# ---- adapters: the only backend-specific code ---------------------------------------------------

class _GradlabAdapter:
    backend = "gradlab"

    def __init__(self):
        from ..autograd.graph import AccumulateGrad
        from ..tensor import Tensor
        self._tensor, self._accumulate = Tensor, AccumulateGrad
        self._names = {}

    def is_tensor(self, obj):
        return isinstance(obj, self._tensor)

    def grad_fn(self, t):
        return t._grad_fn

    def output_nr(self, t):
        return t._output_nr

    def base(self, t):
        return t._base

    def requires_grad(self, t):
        return t._requires_grad

    def next_functions(self, fn):
        return fn.next_functions

    def variable(self, fn):
        return fn.variable if type(fn) is self._accumulate else None

    def saved(self, fn):
        """(name, state, value) for each ``_saved_*`` property, sorted by name."""
        cls = type(fn)
        names = self._names.get(cls)
        if names is None:
            names = self._names[cls] = sorted(
                n for n in cls._slot_names if hasattr(cls, "_saved_" + n))
        slots = fn.saved_slots() if names else {}
        out = []
        for name in names:
            s = slots.get(name)
            if s is not None and s.freed:
                out.append((name, FREED, None))
            elif s is not None and s.counter is not None and s.counter[0] != s.version:
                out.append((name, MODIFIED, None))
            elif s is not None and s.packed:  # drawn without calling the unpack hook
                t = _first_tensor(s.value)
                out.append((name, PACKED, None) if t is None else (name, ALIVE, t))
            else:
                out.append((name, ALIVE, getattr(fn, "_saved_" + name)))
        return out

    def shape(self, t):
        return tuple(t._array.shape)

    def dtype(self, t):
        return t.dtype.name

    def array(self, t):
        return t._array


def _first_tensor(value):
    """The first gradlab tensor in what a pack hook returned (a tensor, tuple or list)."""
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        return value
    for v in value if isinstance(value, (tuple, list)) else ():
        t = _first_tensor(v)
        if t is not None:
            return t
    return None


class _TorchAdapter:
    backend = "torch"

    def __init__(self, torch):
        self._tensor = torch.Tensor
        self._names = {}

    def is_tensor(self, obj):
        return isinstance(obj, self._tensor)

    def grad_fn(self, t):
        return t.grad_fn

    def output_nr(self, t):
        return t.output_nr

    def base(self, t):
        return t._base if t._is_view() else None

    def requires_grad(self, t):
        return t.requires_grad

    def next_functions(self, fn):
        return getattr(fn, "next_functions", ())

    def variable(self, fn):
        return getattr(fn, "variable", None)

    def saved(self, fn):
        """(name, state, value) for each ``_saved_*`` attribute; a freed one raises in torch."""
        cls = type(fn)
        names = self._names.get(cls)
        if names is None:
            names = self._names[cls] = [a[7:] for a in dir(cls) if a.startswith("_saved_")]
        out = []
        for name in names:
            try:
                out.append((name, ALIVE, getattr(fn, "_saved_" + name)))
            except RuntimeError as e:
                out.append((name, FREED if _FREED_TEXT in str(e) else MODIFIED, None))
        return out

    def shape(self, t):
        return tuple(t.shape)

    def dtype(self, t):
        return str(t.dtype).removeprefix("torch.")

    def array(self, t):
        if t.numel() > SMALL:
            return None
        try:
            return t.detach().cpu().numpy()
        except (TypeError, RuntimeError):  # dtypes NumPy lacks (bfloat16), meta tensors
            return None


# ---- builders ---------------------------------------------------------------------------------

def build(outputs, params=None, max_nodes: int | None = 500) -> Graph:
    """The graph behind ``outputs`` (a tensor or a tuple/list of tensors), gradlab or torch.

    ``params`` (a mapping such as ``locals()``, or (name, value) pairs) names tensors; given
    ``params``, an output it does not name takes the name the caller's code gives it.
    """
    first = outputs[0] if isinstance(outputs, (tuple, list)) and outputs else outputs
    if is_torch_tensor(first):
        return from_torch(outputs, params, max_nodes)
    return from_gradlab(outputs, params, max_nodes)


def is_torch_tensor(x) -> bool:
    """A PyTorch tensor, told by its type (a course may have put gradlab in sys.modules["torch"],
    so that name proves nothing)."""
    return any(c.__name__ == "TensorBase" and c.__module__ == "torch._C"
               for c in type(x).__mro__)


def from_gradlab(outputs, params=None, max_nodes: int | None = 500) -> Graph:
    """The graph behind gradlab tensors; ``params`` (e.g. ``locals()``) names tensors."""
    return _Builder(_GradlabAdapter(), params, max_nodes).run(outputs)


def from_torch(outputs, params=None, max_nodes: int | None = 500) -> Graph:
    """The graph behind PyTorch tensors (torch must be installed)."""
    import torch
    return _Builder(_TorchAdapter(torch), params, max_nodes).run(outputs)


class _Builder:
    """One breadth-first traversal from the outputs; iterative, so depth is unlimited."""

    def __init__(self, adapter, params, max_nodes):
        self.ad = adapter
        self.names = _param_names(adapter, params)
        self.named = params is not None
        self.max_nodes = max_nodes
        self.nodes, self.raw_edges = [], []
        self.objects = {}    # id(obj) -> (obj, node id) for kept grad_fns and tensors
        self.seen = {}       # id(obj) -> obj for every object met (keeps ids from being reused)
        self.placed = set()  # ids of objects already kept or dropped
        self.linked = set()  # ids of tensors whose grad_fn and base were followed
        self.queue = deque()
        self.omitted = 0
        self.produced = {}   # id(grad_fn) -> (grad_fn, [named non-output tensors it produced])

    def run(self, outputs):
        outs = tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)
        for t in outs:
            if not self.ad.is_tensor(t):
                raise TypeError(f"expected {self.ad.backend} tensors, got {type(t).__name__}")
        if self.named:
            self._name_outputs(outs)
        for t in outs:
            self._add_tensor(t, OUTPUT)
        self._index_named(outs)
        for t in outs:
            self._link_tensor(t)
        while self.queue:
            kind, obj = self.queue.popleft()
            if kind is None:
                self._visit_fn(obj)
            else:
                self._add_tensor(obj, kind)
                self._link_tensor(obj)
        return self._finish()

    def _name_outputs(self, outs):
        """Outputs that ``params`` does not name take the name the caller's code gives them."""
        unnamed = {id(t) for t in outs if id(t) not in self.names}
        if not unnamed:
            return
        for name, value in caller_variables().items():
            if id(value) in unnamed and name.isidentifier() and not name.startswith("_"):
                self.names[id(value)] = (value, name)  # not "_", "_3", nor tools' "@py_assert1"
                unnamed.discard(id(value))

    def _index_named(self, outs):
        out_ids = {id(t) for t in outs}
        for key, (t, _) in self.names.items():
            fn = self.ad.grad_fn(t)
            if fn is not None and key not in out_ids:
                self.produced.setdefault(id(fn), (fn, []))[1].append(t)

    def _keep(self):
        return self.max_nodes is None or len(self.nodes) < self.max_nodes

    def _place(self, obj):
        """Mark ``obj`` placed; True if it is to be drawn, False if dropped (over the limit)."""
        self.seen[id(obj)] = obj
        self.placed.add(id(obj))
        if self._keep():
            return True
        self.omitted += 1
        return False

    def _add_tensor(self, t, kind):
        """Place a tensor node once; True if this call placed it."""
        if id(t) in self.placed:
            return False
        if self._place(t):
            name = self._name_of(t)
            node = _tensor_node(self.ad, f"n{len(self.nodes)}", kind, t, name, name)
            self.nodes.append(node)
            self.objects[id(t)] = (t, node.id)
        return True

    def _link_tensor(self, t):
        """Follow a tensor to its grad_fn and, for outputs and their bases, to its view base."""
        if id(t) in self.linked:
            return
        self.linked.add(id(t))
        ad = self.ad
        fn = ad.grad_fn(t)
        if fn is not None:
            self.raw_edges.append((id(fn), id(t), EDGE_RESULT, None, ad.output_nr(t)))
            self._enqueue(None, fn)
        base = ad.base(t)
        if base is not None:
            self.raw_edges.append((id(base), id(t), EDGE_VIEW, None, None))
            self._enqueue(_tensor_kind(ad, base), base)

    def _enqueue(self, kind, obj):
        if id(obj) not in self.seen:
            self.seen[id(obj)] = obj
            self.queue.append((kind, obj))

    def _visit_fn(self, fn):
        ad = self.ad
        key = id(fn)
        var = ad.variable(fn)
        if self._place(fn):
            saved = ad.saved(fn)
            attrs = tuple((name, str(v)) for name, state, v in saved
                          if state == ALIVE and not _holds_tensor(ad, v))
            fname = type(fn).__name__
            node = GraphNode(f"n{len(self.nodes)}", GRAD_FN if var is None else ACCUMULATE_GRAD,
                             fname, fname, attrs=attrs)
            self.nodes.append(node)
            self.objects[key] = (fn, node.id)
            self._add_saved(node.id, saved)
        if var is not None:
            self._add_tensor(var, _tensor_kind(ad, var))
            self.linked.add(id(var))
            self.raw_edges.append((id(var), key, EDGE_VARIABLE, None, None))
        for t in self.produced.get(key, (None, ()))[1]:
            if self._add_tensor(t, INTERMEDIATE):
                self.linked.add(id(t))
                self.raw_edges.append((key, id(t), EDGE_RESULT, None, ad.output_nr(t)))
        for i, (nf, nr) in enumerate(ad.next_functions(fn)):
            if nf is not None:
                self.raw_edges.append((id(nf), key, EDGE_NEXT, i, nr))
                self._enqueue(None, nf)

    def _add_saved(self, fn_id, saved):
        ad = self.ad
        for name, state, value in saved:
            if state != ALIVE:
                items = [(name, None)]
            elif ad.is_tensor(value):
                items = [(name, value)]
            elif isinstance(value, (tuple, list)) and _holds_tensor(ad, value):
                items = [(f"{name}[{i}]", v) for i, v in enumerate(value) if ad.is_tensor(v)]
            else:
                continue
            for slot, t in items:
                if not self._keep():
                    return
                alias = self._name_of(t) if t is not None else ""
                text = f"{slot} ({alias})" if alias else slot
                nid = f"n{len(self.nodes)}"
                if t is None:
                    note = {FREED: "(freed)", MODIFIED: "(modified in place)",
                            PACKED: "(packed)"}[state]
                    node = GraphNode(nid, SAVED, f"{text}\n{note}", slot, state=state)
                else:
                    node = _tensor_node(ad, nid, SAVED, t, slot, text)
                self.nodes.append(node)
                self.raw_edges.append((fn_id, nid, EDGE_SAVED, None, None))

    def _name_of(self, t):
        """The name ``params`` gives ``t``, on one line (control characters shown escaped)."""
        entry = self.names.get(id(t))
        if entry is None or entry[0] is not t:
            return ""
        return _CONTROL.sub(lambda c: repr(c.group())[1:-1], entry[1])

    def _finish(self):
        summary = None
        if self.omitted:
            summary = f"n{len(self.nodes)}"
            self.nodes.append(GraphNode(summary, SUMMARY, f"… {self.omitted} more nodes"))
        ids = {key: nid for key, (_, nid) in self.objects.items()}
        edges = []
        into_summary = set()  # one edge per kept node: a shared leaf feeds many dropped steps
        for src, dst, kind, input_nr, output_nr in self.raw_edges:
            s = src if isinstance(src, str) else ids.get(src)
            d = dst if isinstance(dst, str) else ids.get(dst)
            if s is None and d is None or d is None and (s, kind) in into_summary:
                continue
            if d is None:
                into_summary.add((s, kind))
            edges.append(GraphEdge(f"e{len(edges)}", s or summary, d or summary, kind,
                                   input_nr, output_nr))
        return Graph(tuple(self.nodes), tuple(edges), self.omitted, self.ad.backend,
                     self.objects)


def _param_names(ad, params):
    """id(tensor) -> (tensor, name) from a mapping or (name, value) pairs; others ignored.

    A tensor known under several names takes the first one that does not start with "_"
    (so IPython's ``_``, ``_3`` lose to the user's own name).
    """
    if params is None:
        return {}
    items = params.items() if hasattr(params, "items") else params
    names = {}
    for name, value in list(items):
        if not ad.is_tensor(value):
            continue
        name = str(name)
        old = names.get(id(value))
        if old is None or (old[1].startswith("_") and not name.startswith("_")):
            names[id(value)] = (value, name)
    return names


def caller_variables() -> dict:
    """The variables of the first code outside gradlab on the stack (a notebook's, say):
    its locals, then the globals they do not hide."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "gradlab":
        frame = frame.f_back
    if frame is None:
        return {}
    names = dict(frame.f_locals)
    for name, value in frame.f_globals.items():
        names.setdefault(name, value)
    return names


def _tensor_kind(ad, t):
    if ad.grad_fn(t) is not None:
        return INTERMEDIATE
    return LEAF if ad.requires_grad(t) else OTHER_LEAF


def _holds_tensor(ad, value):
    if isinstance(value, (tuple, list)):
        return any(ad.is_tensor(v) for v in value)
    return ad.is_tensor(value)


def _tensor_node(ad, nid, kind, t, name, title):
    """A tensor's node: ``title`` line, then shape, dtype (unless float32) and small values."""
    shape, dtype = ad.shape(t), ad.dtype(t)
    values = _format_values(ad.array(t))
    lines = [title] if title else []
    lines.append("(" + ", ".join(str(n) for n in shape) + ")")
    if dtype != "float32":
        lines.append(dtype)
    if values is not None:
        lines.append(values)
    return GraphNode(nid, kind, "\n".join(lines), name, shape, dtype, values)


def _format_values(array):
    """Values as text (torch-like: ``[1., 2.5]``) when there are at most SMALL of them."""
    if array is None:
        return None
    array = np.asarray(array)
    if array.size > SMALL:
        return None
    return _format_list(array.tolist())


def _format_list(v):
    if isinstance(v, list):
        return "[" + ", ".join(_format_list(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:.0f}." if v.is_integer() and abs(v) < 1e16 else f"{v:.4g}"
    return str(v)
