"""gradlab.viz.raster: a PNG of the SVG, the size it shows at, its colours and its text."""
import re
import struct
import sys
import zlib

import numpy as np
import pytest

import gradlab
from gradlab.viz import raster

NAMES = {"a_long_parameter_name_from_user_code": [1.0, 4.0, 9.0], "w": [[1.0] * 3] * 3}
FILLS = {"lightgrey": (211, 211, 211), "lightblue": (173, 216, 230), "#caff70": (202, 255, 112),
         "orange": (255, 165, 0)}


def drawing():
    x, w = (gradlab.tensor(v, requires_grad=True) for v in NAMES.values())
    y = (w.mm(x.unsqueeze(1)).squeeze() * x).sum()
    return gradlab.make_dot(y, {**dict(zip(NAMES, (x, w))), "y": y}, show_attrs=True,
                            show_saved=True)


def pixels(png):
    """The pixels of an 8-bit RGBA PNG as an (h, w, 4) array.

    PNG's row filters predict a byte from the pixel on its left (a), above (b) and above left
    (c), so the pixels are undone one anti-diagonal at a time, all of a diagonal at once.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunks[kind] = chunks.get(kind, b"") + png[pos + 8:pos + 8 + length]
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour, interlace) == (8, 6, 0)
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + 4 * w)
    filters, data = rows[:, :1].astype(np.int32), rows[:, 1:].reshape(h, w, 4).astype(np.int32)
    out = np.zeros((h + 1, w + 1, 4), np.int32)  # a zero row above and a zero column on the left
    for d in range(h + w - 1):
        r = np.arange(max(0, d - w + 1), min(h, d + 1))
        i = d - r
        a, b, c = out[r + 1, i], out[r, i + 1], out[r, i]
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        predicted = np.choose(filters[r], [0 * a, a, b, (a + b) // 2, paeth])
        out[r + 1, i + 1] = (data[r, i] + predicted) & 255
    return out[1:, 1:].astype(np.uint8)


def node_boxes_in_pixels(svg, png_width):
    """{node id: (fill, x0, y0, x1, y1)} of each node's box, in PNG pixels."""
    view_w = float(re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+)', svg).group(1))
    s, _, tx, ty = map(float, re.search(
        r'transform="scale\(([\d.]+) [\d.]+\) rotate\(0\) translate\(([\d.]+) ([\d.]+)\)"',
        svg).groups()[:1] * 2 + re.search(r'translate\(([\d.]+) ([\d.]+)\)', svg).groups())
    k = png_width / view_w
    boxes = {}
    for nid, fill, points in re.findall(r'<g id="(n\d+)" class="node[^"]*">\s*<title>[^<]*'
                                        r'</title>\s*<polygon fill="([^"]*)" stroke="black" '
                                        r'points="([^"]*)"', svg):
        xy = [tuple(map(float, p.split(","))) for p in points.split()]
        xs = [(x + tx) * s * k for x, _ in xy]
        ys = [(y + ty) * s * k for _, y in xy]
        boxes[nid] = (fill, min(xs), min(ys), max(xs), max(ys))
    return boxes


@pytest.fixture(scope="module")
def drawn():
    d = drawing()
    return d.svg, raster.svg_to_png(d.svg)


def test_png_is_the_svg_at_twice_its_css_size(drawn):
    svg, png = drawn
    width, height = struct.unpack(">II", png[16:24])
    css_w, css_h = (float(v) * 4 / 3 for v in
                    re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    assert raster.css_size(svg) == pytest.approx((css_w, css_h))
    assert abs(width - 2 * css_w) <= 1 and abs(height - 2 * css_h) <= 1


def test_boxes_have_the_svgs_colours_and_dark_text_inside(drawn):
    svg, png = drawn
    image = pixels(png)
    assert (image[..., 3] == 255).all()  # opaque: drawn on white
    bare = pixels(raster.svg_to_png(re.sub(r"<text[^>]*>[^<]*</text>", "", svg)))
    boxes = node_boxes_in_pixels(svg, image.shape[1])
    assert len(boxes) == len(drawing().graph.nodes)
    for nid, (fill, x0, y0, x1, y1) in boxes.items():
        inside = image[round(y0) + 3:round(y1) - 3, round(x0) + 3:round(x1) - 3, :3]
        assert tuple(inside[0, 0]) == FILLS[fill], nid  # a corner, away from the text
        dark = (inside.astype(int).sum(axis=2) < 200).sum()
        assert dark > 20 * len(re.findall(r"<text", svg.split(f'<g id="{nid}"')[1]
                                          .split("</g>")[0])), nid  # every line drawn
        empty = bare[round(y0) + 3:round(y1) - 3, round(x0) + 3:round(x1) - 3, :3]
        assert (empty.astype(int).sum(axis=2) < 200).sum() == 0, nid  # dark = the text


def test_text_is_drawn_with_the_shipped_font_never_the_systems():
    def text_png(family):
        return raster.svg_to_png('<svg xmlns="http://www.w3.org/2000/svg" width="200" '
                                 f'height="30"><text x="4" y="20" font-family="{family}" '
                                 'font-size="14">grad_fn Wx + b</text></svg>')
    shipped = text_png("JetBrains Mono")
    assert (pixels(shipped)[..., :3].sum(axis=2) < 200).sum() > 100
    # a family every machine has (DejaVu Sans is installed here), a generic one, one nobody has
    for family in ("DejaVu Sans", "serif", "sans-serif", "Nonexistent Font"):
        assert text_png(family) == shipped, family


def test_large_drawings_are_scaled_down_to_max_pixels(monkeypatch):
    monkeypatch.setattr(raster, "MAX_PIXELS", 40_000)
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="600pt" height="150pt" '
           'viewBox="0 0 600 150"><rect width="600" height="150" fill="orange"/></svg>')
    width, height = struct.unpack(">II", raster.svg_to_png(svg)[16:24])
    assert width * height <= 40_000 * 1.01 and width == pytest.approx(4 * height, abs=1)
    data, metadata = raster.png_bundle(svg)
    assert metadata == {"image/png": {"width": 800}}  # shown at the SVG's size all the same


@pytest.mark.parametrize("attrs, size", [
    ('width="248pt" height="60pt"', (248 * 4 / 3, 80)),
    ('width="640" height="100"', (640, 100)),
    ("width='2in' height='1in'", (192, 96)),
    ('width="100%" viewBox="0 0 320 50"', (320, 50)),
])
def test_css_size(attrs, size):
    svg = (f'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
           f' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg {attrs}><g/></svg>')
    assert raster.css_size(svg) == pytest.approx(size)


def test_css_size_needs_a_size():
    with pytest.raises(ValueError, match="no size"):
        raster.css_size('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    with pytest.raises(ValueError, match="not an SVG"):
        raster.css_size("<html></html>")


def test_missing_rasteriser_or_font_fails_only_the_png(monkeypatch):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    monkeypatch.setitem(sys.modules, "resvg_py", None)
    with pytest.raises(raster.MissingRasteriser, match="'resvg-py' and 'fontpkg-jetbrains-mono'"):
        raster.svg_to_png(svg)
    with pytest.warns(RuntimeWarning, match="making a PNG needs"):
        assert raster.png_bundle(svg) == ({}, {})
    monkeypatch.undo()
    monkeypatch.setattr(raster, "FONT_PACKAGE", "no_such_font_package")
    with pytest.raises(raster.MissingRasteriser, match="no_such_font_package"):
        raster.svg_to_png(svg.replace("10", "11"))  # not the cached one
