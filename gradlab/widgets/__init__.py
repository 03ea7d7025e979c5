"""Jupyter widgets that watch autograd work: :class:`BackwardStepper`, :class:`ForwardStepper`
and :class:`GradHistory`.

Their front-end (plain ES modules and CSS, no build step, nothing fetched at run time) lives in
the repository's top-level ``widgets/`` and ships inside the wheel as ``gradlab/_frontend``.
"""
from pathlib import Path

from ..viz.raster import png_bundle

_PACKAGE = Path(__file__).resolve().parent.parent


def frontend(name: str) -> Path:
    """The path of a front-end file: ``gradlab/_frontend`` when installed, ``widgets/`` in a checkout."""
    for folder in (_PACKAGE / "_frontend", _PACKAGE.parent / "widgets"):
        path = folder / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"gradlab's widget front-end file {name!r} is missing (looked in "
                            f"{_PACKAGE / '_frontend'} and {_PACKAGE.parent / 'widgets'})")


def styles(name: str) -> str:
    """A widget's CSS: the theme colours both widgets share (``theme.css``), then its own file."""
    return "\n".join(frontend(n).read_text(encoding="utf-8") for n in ("theme.css", name))


def with_pictures(bundle: tuple[dict, dict], text: str, svg: str) -> tuple[dict, dict]:
    """A widget's mimebundle plus what shows where the live widget cannot: text, SVG, PNG."""
    data, metadata = bundle
    png, png_metadata = png_bundle(svg)
    data.update({"text/plain": text, "image/svg+xml": svg, **png})
    metadata.update(png_metadata)
    return data, metadata


from .history import GradHistory  # noqa: E402
from .stepper import BackwardStepper  # noqa: E402
from .forward import ForwardStepper  # noqa: E402

__all__ = ["BackwardStepper", "ForwardStepper", "GradHistory", "frontend", "styles", "with_pictures"]
