"""The lessons in notebooks/ print the same on real PyTorch as the outputs stored from gradlab.

Each notebook's code cells not tagged ``widget`` run in one namespace with ``import gradlab as
torch`` replaced by ``import torch``; each cell's stdout (and the text of its result, as IPython
would display it) must equal the cell's stored text output, memory addresses aside. gradlab-only
helpers (``from gradlab.exercises import check``, ``from gradlab import make_dot``) stay: they
work on torch tensors. A plot (lesson 17's loss curve) is drawn by matplotlib's non-interactive
backend, so ``plt.show()`` prints nothing, as in the notebook, where the figure is an image.

PyTorch's float32 results depend on the CPU, gradlab's do not (but for OpenBLAS's matrix products),
so where a cell prints differently, the notebook runs again on both, floats printed to 12 digits,
and a number may differ in its last printed digit only if the two values are at most 64 float32
ulps apart; everything else stays exact (tests/printed.py).
"""
import ast
import contextlib
import io
import json
import re
import sys
import warnings
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("agg")  # plt.show() opens no window
import matplotlib.pyplot as plt  # noqa: E402

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")
pretty = pytest.importorskip("IPython.lib.pretty").pretty

import gradlab  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from printed import assert_prints_alike, precise  # noqa: E402

LESSONS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
ADDRESS = re.compile(r"\b0x[0-9a-fA-F]+")  # not the 0x4 of "<Figure size 640x480 ...>"
IMPORT = "import gradlab as torch"


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def stored_text(cell) -> str:
    """What the cell printed (stdout) and its result's text/plain, as stored."""
    parts = []
    for out in cell["outputs"]:
        if out["output_type"] == "stream" and out["name"] == "stdout":
            parts.append("".join(out["text"]))
        elif out["output_type"] == "execute_result":
            parts.append("".join(out["data"]["text/plain"]) + "\n")
    return ADDRESS.sub("0x<address>", "".join(parts))


def run_cell(code: str, namespace: dict) -> str:
    """Run ``code`` as a notebook cell: its stdout, then its last expression's value if any."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
            if value is not None:
                print(pretty(value))
    return ADDRESS.sub("0x<address>", out.getvalue())


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_lessons_are_numbered_in_order_and_nothing_else_is_there():
    """notebooks/ is what students open: what only the tests need lives in tests/."""
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 22)]
    assert sorted(p for p in LESSONS.iterdir() if not p.name.startswith(".")) == NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_starts_with_gradlab_as_torch(path):
    nb = load(path)
    assert source(code_cells(nb)[0]).splitlines()[0] == IMPORT
    first_md = next(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "`import torch`" in first_md and f"`{IMPORT}`" in first_md


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_clean(path):
    """No errors, no stderr, no memory address, path or widget state in the stored notebook."""
    nb = load(path)
    assert "widgets" not in nb["metadata"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in code_cells(nb):
        assert cell["execution_count"] is not None, source(cell)
        for out in cell["outputs"]:
            assert out["output_type"] != "error", source(cell)
            assert out.get("name") != "stderr", source(cell)
        text = json.dumps(cell["outputs"])
        pictures = r'"image/(?:svg\+xml|png)": "[^"]*"'  # SVG ids and base64 may hold "0x.."
        assert not ADDRESS.search(re.sub(pictures, "", text)), source(cell)
        assert "/work/" not in text and "site-packages" not in text, source(cell)


def run_lesson(cells, module, precisely=False):
    """What each cell prints, run in one namespace with ``torch`` being ``module`` (torch or
    gradlab), floats to 12 digits if ``precisely``."""
    namespace = {"__name__": "__main__"}
    try:
        with warnings.catch_warnings(), precise(module) if precisely else contextlib.nullcontext():
            warnings.simplefilter("ignore")  # as a notebook shows warnings: on stderr, not compared
            texts = [run_cell(source(c).replace(IMPORT, f"import {module.__name__} as torch"),
                              namespace) for c in cells]
    finally:
        module.set_grad_enabled(True)
        plt.close("all")
    assert namespace["torch"] is module
    return texts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_prints_the_same_on_pytorch(path):
    cells = [c for c in code_cells(load(path)) if "widget" not in c["metadata"].get("tags", [])]
    printed, rerun = run_lesson(cells, torch), None
    for i, (cell, text) in enumerate(zip(cells, printed)):
        stored = stored_text(cell)
        what = f"{path.name} prints differently on PyTorch:\n{source(cell)}"
        if text != stored:
            rerun = rerun or [run_lesson(cells, gradlab)] + [run_lesson(cells, lib, True)
                                                            for lib in (gradlab, torch)]
            assert rerun[0][i] == stored, f"{what}\nand its stored output is not gradlab's either"
            assert_prints_alike(stored, text, rerun[1][i], rerun[2][i], what=what)
