"""gradlab.widgets.GradHistory: one row per backward, zero_() and grad = None marked, both backends."""
import html
import re

import pytest

import gradlab
from gradlab.viz.raster import png_bundle
from gradlab.widgets import GradHistory
from gradlab.widgets.history import CHANGED, CHAR_W, NONE, SET, ZERO

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

BACKENDS = pytest.mark.parametrize("T", [gradlab, torch], ids=["gradlab", "torch"])


def table(h):
    """(label, [(events, text or None if not reached), ...]) per row."""
    return [(r["label"], [(c["events"], c["text"] if c["reached"] else None) for c in r["cells"]])
            for r in h.rows]


def lesson(T):
    w = T.tensor(2.0, requires_grad=True)
    b = T.tensor([1.0, 2.0], requires_grad=True)
    h = GradHistory(w, b)
    for _ in range(2):
        (w * 3 + b.sum()).backward()
    w.grad.zero_()
    (w * 3 + b.sum()).backward()
    b.grad = None
    (w * 3 + b.sum()).backward()
    return h, w, b


@BACKENDS
def test_rows_accumulate_and_mark_zero_and_none(T):
    h, w, b = lesson(T)
    assert h.names == ["w", "b"] and h.backward_calls == 4
    assert table(h) == [
        ("backward #1", [([], "tensor(3.)"), ([], "tensor([1., 1.])")]),
        ("backward #2", [([], "tensor(6.)"), ([], "tensor([2., 2.])")]),
        ("backward #3", [([ZERO], "tensor(3.)"), ([], "tensor([3., 3.])")]),
        ("backward #4", [([], "tensor(6.)"), ([NONE], "tensor([1., 1.])")]),
    ]
    assert [r["cells"][0]["value"] for r in h.rows] == [3.0, 6.0, 3.0, 6.0]
    assert h.rows[1]["cells"][1]["value"] == pytest.approx(8 ** 0.5)  # the norm of [2, 2]


def test_both_backends_give_the_same_rows():
    assert table(lesson(gradlab)[0]) == table(lesson(torch)[0])


@BACKENDS
def test_a_row_per_backward_even_when_leaves_differ(T):
    w = T.tensor(2.0, requires_grad=True)
    b = T.tensor([1.0, 2.0], requires_grad=True)
    h = GradHistory(w, b, names=["weight", "bias"])
    (w * 3).backward()
    b.sum().backward()
    (w * b).sum().backward()
    assert table(h) == [
        ("backward #1", [([], "tensor(3.)"), ([], None)]),
        ("backward #2", [([], None), ([], "tensor([1., 1.])")]),
        ("backward #3", [([], "tensor(6.)"), ([], "tensor([3., 3.])")]),
    ]
    w.grad.zero_()
    w.grad = T.tensor(5.0)
    row = h.record()
    assert row["kind"] == "record" and row["cells"][0]["events"] == [CHANGED]
    b.grad = None
    h.record()
    b.grad = T.tensor([7.0, 7.0])
    assert h.record()["cells"][1]["events"] == [SET]
    assert h.text().splitlines()[0] == "GradHistory(weight, bias): 3 backward calls, 6 rows"


@BACKENDS
def test_record_shows_a_zero_right_away_and_close_stops_watching(T):
    w = T.tensor([1.0, -1.0], requires_grad=True)
    h = GradHistory(w)
    (w * w).sum().backward()
    w.grad.zero_()
    h.record()
    assert table(h)[-1] == ("record()", [([ZERO], None)])
    assert h.rows[-1]["cells"][0]["text"] == "tensor([0., 0.])"
    w.grad = None
    h.record()
    assert h.rows[-1]["cells"][0]["events"] == [NONE]
    h.close()
    (w * w).sum().backward()
    assert len(h.rows) == 3


def test_stepper_passes_are_rows_too():
    from gradlab.widgets import BackwardStepper
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    h = GradHistory(x)
    s = BackwardStepper((x * x).sum(), params={})
    (x * 3).sum().backward()  # a whole backward while the stepper's pass is suspended
    s.run()
    assert [c for _, c in table(h)] == [[([], "tensor([3., 3.])")], [([], "tensor([5., 7.])")]]


def test_text_repr_and_static_svg():
    h, w, b = lesson(gradlab)
    data, metadata = h._repr_mimebundle_()
    assert set(data) == {"text/plain", "image/svg+xml", "image/png",
                         "application/vnd.jupyter.widget-view+json"}
    assert ({"image/png": data["image/png"]}, metadata) == png_bundle(data["image/svg+xml"])
    assert data["text/plain"] == "\n".join([
        "GradHistory(w, b): 4 backward calls, 4 rows",
        "  #  w                     b",
        "  1  tensor(3.)            tensor([1., 1.])",
        "  2  tensor(6.)            tensor([2., 2.])",
        "  3  [zero_()] tensor(3.)  tensor([3., 3.])",
        "  4  tensor(6.)            [grad = None] tensor([1., 1.])"])
    svg = data["image/svg+xml"]
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    for text in (repr(h), data["text/plain"], svg):
        assert not re.search(r"0x[0-9a-f]{6,}", text)


def test_names_are_escaped_in_the_static_svg():
    x = gradlab.tensor(1.0, requires_grad=True)
    h = GradHistory(x, names=["<b onclick=alert(1)>"])
    (x * 2).backward()
    assert "<b " not in h.static_svg() and "&lt;b onclick=alert(1)&gt;" in h.static_svg()


def test_rejects_non_leaves():
    x = gradlab.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="leaf tensors that require grad"):
        GradHistory(x * 2)
    with pytest.raises(TypeError):
        GradHistory()


def test_static_svg_uses_the_light_colours_of_the_css():
    from gradlab.widgets import styles
    from gradlab.widgets.history import LIGHT
    css = styles("history.css")
    for colour in LIGHT.values():
        assert colour in css, colour
    h, w, b = lesson(gradlab)
    svg = h.static_svg()
    assert svg.count(f'fill="{LIGHT["event"]}"') == 2  # the zero_() of w, the grad = None of b
    assert "<text x=\"4\" y=\"44\">w.grad</text>" in svg


def test_the_view_knows_which_leaves_are_plotted_as_a_norm():
    h, w, b = lesson(gradlab)
    assert h.scalars == [True, False]


def test_static_svg_columns_fit_their_text():
    """Long names and values: each text ends before the next column starts, inside the SVG."""
    a_long_parameter_name = gradlab.arange(1.0, 13.0, requires_grad=True)
    b = gradlab.tensor(2.0, requires_grad=True)
    h = GradHistory(a_long_parameter_name, b)
    (a_long_parameter_name * 1.2345678 + b).sum().backward()
    assert repr(h) == "GradHistory(a_long_parameter_name, b): 1 backward call, 1 row"
    svg = h.static_svg()
    width = float(re.search(r'<svg[^>]* width="([\d.]+)"', svg)[1])
    texts = [(float(x), float(y), html.unescape(t))
             for x, y, t in re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)<', svg)]
    left, spark_w = map(float, re.search(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
                        .groups())
    assert texts[1][2] == "a_long_parameter_name.grad" and texts[2][2].endswith("…")
    for x, _, text in texts:
        end = x + CHAR_W * len(text)
        assert end <= width, text
        if x < left:  # the title runs above the sparklines; a name ends before them
            assert text == repr(h) or end <= left, text
        else:
            assert x >= left + spark_w, text


def test_the_static_chart_of_hundreds_of_rows_is_a_line_without_dots():
    """A dot per row while rows are at least DOT_SPACING px apart; past that, the line alone
    (400 training steps drew a blob of red dots)."""
    from gradlab.widgets.history import sparkline
    few = sparkline([1.0, 2.0, 1.5], 0, 0, 200, 40, events={1})
    many = sparkline([float(i % 7) for i in range(400)], 0, 0, 200, 40, events=set(range(400)))
    assert few.count("<circle") == 3 and "<polyline" in few
    assert many.count("<circle") == 0 and "<polyline" in many
