"""Acceptance test: lesson-style programs print the same under PyTorch and gradlab.

Each program of tests/lesson_corpus.py runs twice, with the name ``torch`` bound to real PyTorch
and to gradlab; the captured stdout (plus any uncaught exception) must be identical once memory
addresses are replaced by a placeholder, except where PyTorch's own float32 results depend on the
CPU: when the outputs differ, both programs run again printing floats to 12 digits, and a number
may differ in its last printed digit only if the two values are at most 64 float32 ulps apart
(tests/printed.py says exactly what is tolerated and why; everything else stays exact). Programs
print values that are not knife-edge by construction where they can (see lesson_corpus.py).
"""
import contextlib
import io
import re
import sys
import warnings

import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from lesson_corpus import LESSONS  # noqa: E402
from printed import assert_prints_alike, precise  # noqa: E402

ADDRESS = re.compile(r"0x[0-9a-f]+")

# Programs gradlab cannot match yet: name -> precise reason (xfail strict).
XFAIL = {}


def run(program, module, precisely=False):
    """The program's stdout (and uncaught exception) with ``torch`` bound to ``module``, its
    floats to 12 digits if ``precisely``."""
    out = io.StringIO()
    namespace = {"torch": module, "__name__": "__lesson__"}
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings(), \
                precise(module) if precisely else contextlib.nullcontext():
            warnings.simplefilter("ignore")
            exec(compile(program, "<lesson>", "exec"), namespace)
    except Exception as e:  # an uncaught error is part of the behaviour compared
        out.write(f"!! uncaught {type(e).__name__}: {e}\n")
    finally:
        module.set_printoptions(profile="default")
        module.set_grad_enabled(True)
    return ADDRESS.sub("0x<address>", out.getvalue())


def _params():
    for name, program in LESSONS.items():
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[name])] if name in XFAIL else []
        yield pytest.param(program, id=name, marks=marks)


def test_corpus_is_large_enough():
    assert len(LESSONS) >= 120


@pytest.mark.parametrize("program", list(_params()))
def test_lesson_prints_like_pytorch(program):
    expected = run(program, torch)
    assert "!! uncaught" not in expected, "the lesson itself must run under PyTorch"
    got = run(program, gradlab)
    if got != expected:
        assert_prints_alike(expected, got, run(program, torch, True), run(program, gradlab, True))
