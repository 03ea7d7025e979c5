"""Every lesson in notebooks/ has the shape that /work/helpers/LESSONS.md describes.

A title ``# N. Title`` whose N is the file's number; then the objectives (exactly three, numbered)
and the time; an ``## Exercises`` cell; and at the end ``## Recap`` and ``## Common
misconceptions``, each with at least two bullets. Exercise ids in a lesson are its own (N.k).
"""
import json
import re
from pathlib import Path

import pytest

LESSONS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
OBJECTIVES = re.compile(r"\*\*Objectives\.\*\* After this lesson you can:\n"
                        r"1\. \S.*\n2\. \S.*\n3\. \S.*\n\n"
                        r"\*\*Time:\*\* about [1-9]\d* minutes\.")
EXERCISE_ID = re.compile(r'check\("(\d+)\.\d+"|\*\*(\d+)\.\d+\*\*')


def cells(path):
    return [(c["cell_type"], "".join(c["source"]).strip())
            for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]


def bullets(text):
    return [line for line in text.splitlines() if line.startswith("- ")]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_has_the_lesson_format(path):
    number = int(path.name[:2])
    nb = cells(path)
    (kind, title), (kind2, objectives) = nb[0], nb[1]
    assert kind == "markdown" and title.startswith(f"# {number}. "), title.splitlines()[0]
    assert kind2 == "markdown" and OBJECTIVES.fullmatch(objectives), objectives
    assert any(k == "markdown" and text.startswith("## Exercises") for k, text in nb)
    (kind3, recap), (kind4, misconceptions) = nb[-2], nb[-1]
    assert kind3 == "markdown" and recap.startswith("## Recap\n"), recap
    assert len(bullets(recap)) >= 2, recap
    assert kind4 == "markdown" and misconceptions.startswith("## Common misconceptions\n")
    assert len(bullets(misconceptions)) >= 2, misconceptions
    ids = {int(a or b) for _, text in nb for a, b in EXERCISE_ID.findall(text)}
    assert ids <= {number}, f"exercise ids of lessons {sorted(ids - {number})} in lesson {number}"
