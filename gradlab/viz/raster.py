"""PNG from an SVG, made in this process: no system library, no system font.

``svg_to_png(svg, scale=2)`` draws the SVG with resvg (the ``resvg-py`` wheel, Rust, abi3) at
``scale`` PNG pixels per CSS pixel: 2 is crisp on HiDPI screens. A drawing so large that its
PNG would have more than ``MAX_PIXELS`` pixels is drawn at a smaller scale (a notebook shows it
fitted to its column anyway; at 2 a 500-node drawing would take minutes and gigabytes).

``png_bundle(svg)`` is what a ``_repr_mimebundle_`` adds beside its SVG: the PNG, and metadata
giving it the SVG's width in CSS pixels, so it shows at the size the SVG shows at. JupyterLab
renders PNG but not SVG for an untrusted notebook, and GitHub and nbconvert show PNG too.

Text is drawn with JetBrains Mono (0.6 em, as Graphviz measures; the file comes with the pip
package ``fontpkg-jetbrains-mono``) and never with the machine's fonts, so the PNG is the same on
every machine; every font family an SVG names resolves to it. Its limit: a character it lacks
(CJK, emoji, some mathematical signs such as ∇) is drawn as an empty box in the PNG; the SVG
shows it with the browser's fonts.

resvg-py has no wheel for Pyodide: it is imported only when a PNG is made, and a missing
rasteriser raises :class:`MissingRasteriser` saying what to install (``png_bundle`` then leaves
the PNG out, with a warning), so only the PNG fails. Under Pyodide ``png_bundle`` leaves it out
without a word: there the notebook is in a browser, which shows the SVG.
"""
from __future__ import annotations

import functools
import importlib.resources
import math
import re
import sys
import warnings

SCALE = 2.0  # PNG pixels per CSS pixel
MAX_PIXELS = 4_000_000  # a 2000 x 2000 image: a full notebook column at twice its resolution
FONT_PACKAGE = "fontpkg_jetbrains_mono"  # only its file is used, found by importlib.resources
FONT_FILE = "files/JetBrainsMono[wght].ttf"  # a variable font: resvg draws its default, 400
FONT_NAME = "JetBrains Mono"
CSS_PIXELS = {"": 1, "px": 1, "pt": 4 / 3, "pc": 16, "in": 96, "cm": 96 / 2.54, "mm": 96 / 25.4}


class MissingRasteriser(RuntimeError):
    """resvg-py or the font package is not installed (under Pyodide, for one): no PNG."""


@functools.lru_cache(maxsize=8)  # a drawing shown again (or saved after it is shown) is free
def svg_to_png(svg: str, scale: float = SCALE) -> bytes:
    """The PNG of ``svg`` at ``scale`` pixels per CSS pixel (less if over MAX_PIXELS)."""
    resvg, font = _rasteriser()
    width, height = css_size(svg)
    zoom = min(scale, math.sqrt(MAX_PIXELS / max(width * height, 1.0)))
    families = {f"{kind}_family": FONT_NAME for kind in
                ("font", "serif", "sans_serif", "cursive", "fantasy", "monospace")}
    return resvg.svg_to_bytes(svg_string=svg, zoom=zoom, dpi=96, background="white",
                              skip_system_fonts=True, font_files=[font], **families)


def png_bundle(svg: str) -> tuple[dict, dict]:
    """``({"image/png": png}, {"image/png": {"width": w}})`` to show beside ``svg``.

    ``w`` is the SVG's width in CSS pixels. Without a rasteriser: ``({}, {})`` and a warning
    (under Pyodide, none).
    """
    if sys.platform == "emscripten":
        return {}, {}
    try:
        png = svg_to_png(svg)
    except MissingRasteriser as e:
        warnings.warn(str(e), RuntimeWarning, stacklevel=2)
        return {}, {}
    return {"image/png": png}, {"image/png": {"width": round(css_size(svg)[0])}}


def css_size(svg: str) -> tuple[float, float]:
    """The width and height of ``svg`` in CSS pixels (from its width and height, or viewBox)."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("not an SVG: no <svg> element")
    tag = svg[start:svg.index(">", start)]
    attrs = {k: v for k, _, v in re.findall(r"([\w:-]+)\s*=\s*([\"'])(.*?)\2", tag)}
    try:
        return _length(attrs["width"]), _length(attrs["height"])
    except (KeyError, ValueError):  # no width or height, or a relative one: the viewBox's
        box = attrs.get("viewBox", "").replace(",", " ").split()
        if len(box) != 4:
            raise ValueError("the SVG gives no size (width and height, or viewBox)") from None
        return float(box[2]), float(box[3])


def _length(text):
    """An SVG length in CSS pixels; ValueError for relative ones (%, em), and for non-lengths."""
    match = re.fullmatch(r"\s*([\d.]+(?:[eE][-+]?\d+)?)\s*([a-z]*)\s*", text)
    if match is None or match[2] not in CSS_PIXELS:
        raise ValueError(f"not an absolute length: {text!r}")
    return float(match[1]) * CSS_PIXELS[match[2]]


def _rasteriser():
    """(resvg_py, the font file's path), or MissingRasteriser saying what to install."""
    try:
        import resvg_py
        font = importlib.resources.files(FONT_PACKAGE) / FONT_FILE
        if not font.is_file():
            raise FileNotFoundError(font)
    except (ImportError, FileNotFoundError) as e:
        raise MissingRasteriser(
            "making a PNG needs the packages 'resvg-py' and 'fontpkg-jetbrains-mono' (pip "
            f"install gradlab installs them; resvg-py has no wheel for Pyodide): {e}") from None
    return resvg_py, str(font)
