"""PyTorch's own tutorial programs print the same on gradlab (through ``as_torch()``) as on PyTorch.

Each program in tests/tutorials/ (its header names its source and any change) runs unchanged, with
its own ``import torch`` lines, in a fresh interpreter: once with real PyTorch, once after
``gradlab.as_torch()``. Before it runs, the runner seeds ``torch.manual_seed(0)`` and
``random.seed(0)`` (the tutorials draw unseeded; gradlab's generator is PyTorch's bit for bit). A
program split into ``# %%`` cells (d2l's chapters) runs cell by cell and shows each cell's last
expression as IPython does. Memory addresses and ``id()``s are masked.

The printed outputs must be equal, except for float32 values that depend on PyTorch's CPU
kernels (the polynomial fits sum 2,000 products per step, 2,000 steps): where a number differs,
both programs run again printing floats to 12 digits, and the two values may be at most 64
float32 ulps apart (tests/printed.py); a number printed in scientific notation below 1e-6 in
magnitude counts as 0 (the Legendre fit's c is 0 by symmetry, and what it prints, about 1e-9, is the
rounding of sums of 2,000 terms up to 31 in size, which differs in sign between kernels). Left out of d2l's Preliminaries: "Data Preprocessing"
(pandas is not installed) and "Calculus" (NumPy and d2l's plotting only, no torch); "Probability"
runs without its d2l plotting lines.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")
pytest.importorskip("IPython", reason="d2l's cells are displayed as IPython displays them")

from printed import NUMBER, assert_prints_alike  # noqa: E402

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PROGRAMS = sorted((TESTS / "tutorials").glob("*.py"))
MASKS = (re.compile(r"\b0x[0-9a-fA-F]+"), re.compile(r"(?<=id\(Z\): )\d+"))

RUNNER = r"""
import ast, contextlib, random, sys
lib, mode, path = sys.argv[1:]
sys.path.insert(0, {tests!r})
if lib == "gradlab":
    import gradlab
    gradlab.as_torch()
import torch
from IPython.lib.pretty import pretty
from printed import precise
torch.manual_seed(0)
random.seed(0)
source = open(path).read()
cells = source.split("\n# %%\n")
namespace = {{"__name__": "__main__"}}
with precise(torch) if mode == "precise" else contextlib.nullcontext():
    for cell in cells:
        tree = ast.parse(cell)
        last = tree.body[-1] if len(cells) > 1 and tree.body else None
        if isinstance(last, ast.Expr):
            tree.body.pop()
        exec(compile(tree, path, "exec"), namespace)
        if isinstance(last, ast.Expr):
            value = eval(compile(ast.Expression(last.value), path, "eval"), namespace)
            if value is not None:
                print(pretty(value))
"""


def run(lib, path, mode="normal"):
    """What ``path`` prints (stdout) on ``lib``, in a fresh interpreter, addresses masked."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER.format(tests=str(TESTS)), lib, mode, str(path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, f"{path.name} failed on {lib}:\n{done.stderr}"
    out = done.stdout
    for mask in MASKS:
        out = mask.sub("<masked>", out)
    return out


def _tiny_as_zero(text):
    return NUMBER.sub(lambda m: "0" if "e" in m[0] and abs(float(m[0])) < 1e-6 else m[0], text)


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_tutorial_prints_as_on_pytorch(path):
    expected, got = run("torch", path), run("gradlab", path)
    assert expected.strip(), f"{path.name} printed nothing"
    if got != expected:
        texts = (expected, got, run("torch", path, "precise"), run("gradlab", path, "precise"))
        assert_prints_alike(*map(_tiny_as_zero, texts), what=path.name)
