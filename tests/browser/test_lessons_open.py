"""The lessons as a student meets them: opened fresh in JupyterLab or Notebook 7 (untrusted,
nothing run) every drawing, stepper and grad history is a picture (the PNG stored beside each
SVG: untrusted outputs show no SVG); after Run All each stepper output keeps its own step."""
import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def picture_cells(path):
    """Indices of the cells whose stored output is a drawing or a widget."""
    cells = json.loads(path.read_text())["cells"]
    return [i for i, c in enumerate(cells)
            if any("image/svg+xml" in o.get("data", {}) for o in c.get("outputs", ()))]


def cell(page, i):
    """Cell ``i`` of the open notebook, scrolled to (JupyterLab only renders what is in view)."""
    page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.scrollToItem(i, 'start')",
                  i)
    return page.locator(f".jp-NotebookPanel:not(.lm-mod-hidden) "
                        f".jp-Cell[data-windowed-list-index='{i}']")


def open_lesson(page, lab, name, ui="lab/tree"):
    """Open a fresh copy of lesson ``name`` in JupyterLab (``lab/tree``) or Notebook 7
    (``notebooks``)."""
    root, url = lab
    shutil.copy(NOTEBOOKS / name, root / name)
    reset = "reset&" if ui.startswith("lab") else ""  # a fresh workspace: this lesson alone
    page.goto(f"{url}{ui}/{name}?{reset}token={lab.token}")
    page.wait_for_function("window.jupyterapp?.shell.currentWidget?.content?.widgets?.length",
                           timeout=60_000)


OPENED = [pytest.param(lesson, "lab/tree", id=f"lab-{lesson.name[:2]}") for lesson in LESSONS]
OPENED += [pytest.param(NOTEBOOKS / name, "notebooks", id=f"notebook7-{name[:2]}")
           for name in ("04_chain_rule_stepper.ipynb", "08_gradients_accumulate.ipynb")]


@pytest.mark.parametrize("lesson, ui", OPENED)
def test_a_lesson_opened_fresh_shows_pictures(lab, browser, lesson, ui, tmp_path):
    cells = picture_cells(lesson)
    assert cells, "every lesson draws something"
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    open_lesson(page, lab, lesson.name, ui)
    for i in cells:
        output = cell(page, i).locator(".jp-OutputArea-output").last
        image = output.locator("img[src^='data:image/png']")
        image.wait_for(timeout=30_000)
        width = image.evaluate("img => img.decode().then(() => img.naturalWidth)")
        assert width > 50, (lesson.name, i)
        text = output.text_content()
        assert "<gradlab graph:" not in text and "BackwardStepper(" not in text, text[:200]
    page.screenshot(path=str(tmp_path / f"{lesson.stem}.png"), full_page=True)
    page.close()


def test_lesson_4_keeps_each_outputs_step_after_run_all(lab, browser, tmp_path):
    name = "04_chain_rule_stepper.ipynb"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    open_lesson(page, lab, name)
    page.get_by_text("| Idle").first.wait_for(timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function("[...document.querySelectorAll('.gl-stepper')]"
                           ".filter((s) => s.dataset.index !== undefined).length === 8",
                           timeout=90_000)
    page.get_by_text("| Idle").first.wait_for()
    steppers = page.locator(".gl-stepper")
    # the chain's four outputs, the fork's two, the matrix product's, the predict stepper's
    indices = ["0", "2", "7", "16", "2", "6", "4", "0"]
    assert [steppers.nth(k).get_attribute("data-index") for k in range(8)] == indices
    # stepping one output moves only that one
    steppers.nth(0).locator(".gl-primary").click()
    page.wait_for_function("document.querySelectorAll('.gl-stepper')[0].dataset.index === '1'")
    assert [steppers.nth(k).get_attribute("data-index") for k in range(8)] == ["1"] + indices[1:]
    page.screenshot(path=str(tmp_path / "lesson4.png"), full_page=True)
    page.close()
