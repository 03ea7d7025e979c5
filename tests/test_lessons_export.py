"""The lessons outside JupyterLab: every drawing, stepper and grad history is stored as a picture
(SVG and PNG), so GitHub, nbviewer and `jupyter nbconvert --to html` show pictures, offline."""
import base64
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbconvert = pytest.importorskip("nbconvert")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
IMAGE = re.compile(r'<img[^>]+src="data:image/(svg\+xml|png);base64,([^"]+)"')


def pictures(nb):
    """The stored outputs that are drawings or widgets."""
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
            if "image/svg+xml" in out.get("data", {}) or WIDGET in out.get("data", {})]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name[:2])
def test_every_picture_is_stored_as_svg_and_png(lesson):
    nb = nbformat.read(str(lesson), as_version=4)
    outputs = pictures(nb)
    assert outputs, "every lesson draws something"
    for out in outputs:
        assert {"image/svg+xml", "image/png", "text/plain"} <= set(out.data), out.data.keys()
        png = base64.b64decode(out.data["image/png"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert out.metadata["image/png"]["width"] > 0
    # saved as JupyterLab saves by default, without widget state: with one, nbconvert and
    # nbviewer would try to draw the live widget (from a CDN) instead of the pictures
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name[:2])
def test_nbconvert_html_shows_the_pictures(lesson):
    nb = nbformat.read(str(lesson), as_version=4)
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    images = IMAGE.findall(html)
    stored = [out.data["image/svg+xml"] for out in pictures(nb)]
    svgs = [base64.b64decode(data).decode() for kind, data in images if kind == "svg+xml"]
    assert all(svg in svgs for svg in stored)
    assert "&lt;gradlab graph:" not in html and WIDGET not in html


def test_a_lesson_executed_for_export_shows_its_pictures(tmp_path, monkeypatch):
    """`jupyter nbconvert --to html --execute --ExecutePreprocessor.store_widget_state=False`
    (as the README tells instructors): the steppers of lesson 4 as their pictures at each step:
    the chain's four outputs, the fork's two, the matrix product's and the predict stepper's."""
    monkeypatch.setenv("PYTHONPATH", str(NOTEBOOKS.parent))
    nb = nbformat.read(str(NOTEBOOKS / "04_chain_rule_stepper.ipynb"), as_version=4)
    execute = nbconvert.preprocessors.ExecutePreprocessor(timeout=300, store_widget_state=False)
    execute.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    shown = [base64.b64decode(data).decode() for kind, data in IMAGE.findall(html)
             if kind == "svg+xml"]
    assert all(out.data["image/svg+xml"] in shown for out in pictures(nb))
    assert WIDGET not in html and "widgets" not in nb.metadata
    steps = [re.search(r"\): (step \d+ of \d+)", out.data["text/plain"])[1] for out in pictures(nb)]
    assert steps == ["step 0 of 0", "step 2 of 2", "step 7 of 7", "step 16 of 16",
                     "step 2 of 2", "step 6 of 6", "step 4 of 4", "step 0 of 0"]
