"""gradlab.exercises: right answers pass on both backends, wrong ones get a hint, never the answer.

The solutions live in the instructors' answer key, docs/answer_key.md (the notebooks ship with
``answer = None``): one ``### <id>`` section per exercise with the filled-in exercise cell and
the answer it states. Each cell runs with the name ``torch`` bound to gradlab and to real PyTorch.
"""
import ast
import contextlib
import io
import json
import math
import re
from pathlib import Path

import pytest

import gradlab
from gradlab.exercises import EXERCISES, Exercise, check, grade

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ANSWER_KEY = ROOT / "docs" / "answer_key.md"
CORRECT = "Exercise {}: correct, well done!"


def answer_key() -> dict:
    """Exercise id -> (solution cell, stated answer), in the order of docs/answer_key.md."""
    key = {}
    text = ANSWER_KEY.read_text(encoding="utf-8")
    for exercise_id, section in re.findall(r"^### (\S+)\n(.*?)(?=^##|\Z)", text, re.M | re.S):
        assert exercise_id not in key, f"two solutions for {exercise_id}"
        [code] = re.findall(r"^```python\n(.*?)^```$", section, re.M | re.S)
        [stated] = re.findall(r"^\*\*Answer:\*\* `([^`]*)`", section, re.M)
        key[exercise_id] = code, stated
    return key


KEY = answer_key()


def run_solution(exercise_id, module) -> str:
    """What the key's cell for ``exercise_id`` prints with ``torch`` bound to ``module``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(KEY[exercise_id][0], {"torch": module, "check": check, "__name__": "__main__"})
    return out.getvalue()


# a wrong answer per exercise, of the right type, that no listed mistake matches
WRONG = {"1.1": 7.0, "1.2": -1.0, "2.1": [2.0, 1.0, 3.0], "2.2": [[3.0, 4.0], [0.0, 0.0]],
         "3.1": "MulBackward0", "3.2": "ExpBackward0", "3.3": False, "4.1": [8.0, 20.0, 4.0],
         "5.1": 6.0, "5.2": 3.0, "6.1": False, "6.2": True, "6.3": 36.0, "7.1": 6.0,
         "8.1": 9.0, "8.2": [True, True], "9.1": [2.0, 0.4, 0.6], "10.1": 9.0, "10.2": 0.0,
         "11.1": 4.0, "11.2": 1.0, "12.1": 0.9, "12.2": 0.5}


def exercise_ids_in_notebooks():
    ids = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                ids += re.findall(r'check\("([0-9.]+)", answer\)', "".join(cell["source"]))
    return ids


def test_every_exercise_has_a_solution_and_a_notebook_cell():
    assert list(KEY) == list(EXERCISES)
    assert set(WRONG) == set(EXERCISES)
    assert sorted(exercise_ids_in_notebooks(), key=lambda k: tuple(map(int, k.split(".")))) \
        == list(EXERCISES)


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
@pytest.mark.parametrize("exercise_id", list(KEY))
def test_answer_key_solution_is_judged_correct(exercise_id, module):
    code, _ = KEY[exercise_id]
    assert code.rstrip().splitlines()[-1] == f'check("{exercise_id}", answer)'
    assert run_solution(exercise_id, module).splitlines()[-1] == CORRECT.format(exercise_id)


@pytest.mark.parametrize("exercise_id", list(KEY))
def test_answer_key_states_a_correct_answer(exercise_id):
    stated = ast.literal_eval(KEY[exercise_id][1])
    assert grade(exercise_id, stated) == ("correct", CORRECT.format(exercise_id))


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_wrong_answer_gets_a_hint_not_the_solution(exercise_id):
    status, message = grade(exercise_id, WRONG[exercise_id])
    assert status == "wrong"
    assert message.startswith(f"Exercise {exercise_id}: not quite. Hint: ")
    assert message.endswith(EXERCISES[exercise_id].hint)


@pytest.mark.parametrize("exercise_id", [k for k, ex in EXERCISES.items() if ex.mistakes])
def test_listed_mistakes_get_their_own_hint(exercise_id):
    for wrong, hint in EXERCISES[exercise_id].mistakes:
        status, message = grade(exercise_id, wrong)
        assert (status, message) == ("wrong", f"Exercise {exercise_id}: not quite. {hint}")


def test_hints_never_state_the_expected_answer():
    for key, ex in EXERCISES.items():
        texts = [ex.hint] + [hint for _, hint in ex.mistakes]
        if isinstance(ex.expected, (int, float)) and not isinstance(ex.expected, bool):
            number = f"{ex.expected:g}"
            for text in texts:
                assert not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.])", text), (key, text)
        if isinstance(ex.expected, str):
            assert all(ex.expected not in text for text in texts), key


def test_unanswered_and_malformed_answers(capsys):
    check("1.1", None)
    assert capsys.readouterr().out == ("Exercise 1.1: not answered yet. Replace None with "
                                       "your answer and run the cell again.\n")
    assert grade("2.1", gradlab.tensor([2.0, 1.0])) == (
        "wrong", "Exercise 2.1: the answer should hold 3 values, got 2. Hint: "
        + EXERCISES["2.1"].hint)
    assert grade("2.1", 5.0)[1].startswith("Exercise 2.1: the answer should hold 3 values, "
                                           "got a single value.")
    assert grade("1.1", [25.0])[1].startswith("Exercise 1.1: the answer should be a single "
                                              "number")
    assert grade("3.1", 3.0)[1].startswith("Exercise 3.1: the answer should be a string")
    assert grade("3.3", 1)[1].startswith("Exercise 3.3: the answer should be True or False")
    assert grade("1.1", object())[1].startswith("Exercise 1.1: could not read this answer "
                                                "(expected a tensor")
    assert grade("12.2", [0.001])[1].startswith("Exercise 12.2: the answer should be a "
                                                "single number.")
    assert grade("99", 1)[1].startswith("There is no exercise '99'. The exercises are: 1.1, ")


def test_answers_as_torch_numpy_and_plain_values():
    import numpy as np
    assert grade("2.1", torch.tensor([2.0, 1.0, 6.0], requires_grad=True))[0] == "correct"
    assert grade("2.1", np.array([2.0, 1.0, 6.0]))[0] == "correct"
    assert grade("2.1", (2, 1, 6))[0] == "correct"
    assert grade("1.1", np.float32(25.0))[0] == "correct"
    assert grade("1.1", 25)[0] == "correct"
    assert grade("1.1", 25.002)[0] == "correct"   # within 1e-4 of 25, relative
    assert grade("1.1", 25.003)[0] == "wrong"
    assert grade("3.1", " ExpBackward0 ")[0] == "correct"
    assert grade("8.2", torch.tensor([False, True]))[0] == "correct"


@pytest.fixture
def exercise(monkeypatch):
    """Register a throwaway exercise "t" expecting the given value; returns its grader."""
    def make(expected, **options):
        monkeypatch.setitem(EXERCISES, "t", Exercise("a test value", expected, "hint", **options))
        return lambda answer: grade("t", answer)[0]
    return make


EDGE_CASES = [123456.7, 25.0, -4.0, 0.06, 3e-7, -2.5e-9]


@pytest.mark.parametrize("expected", EDGE_CASES)
def test_numbers_match_within_the_tolerance_relative_to_the_expected_value(exercise, expected):
    judge = exercise(expected)
    for off in (0.99e-4, -0.99e-4):
        assert judge(expected * (1 + off)) == "correct", off
    for off in (1.01e-4, -1.01e-4):
        assert judge(expected * (1 + off)) == "wrong", off
    assert judge(0.0) == "wrong"
    for bad in (math.nan, math.inf, -math.inf):
        assert judge(bad) == "wrong"


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
@pytest.mark.parametrize("expected", EDGE_CASES)
def test_float32_tensors_match_at_every_magnitude(exercise, module, expected):
    judge = exercise(expected)
    assert judge(module.tensor(expected)) == "correct"  # float32 rounds it, far within 1e-4
    assert judge(module.tensor(expected * (1 + 0.9e-4))) == "correct"
    assert judge(module.tensor(expected * (1 - 1.1e-4))) == "wrong"
    assert judge(module.tensor(expected, dtype=module.float64, requires_grad=True)) == "correct"


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_lists_match_element_by_element_and_zero_within_the_tolerance(exercise, module):
    judge = exercise([1000.0, 0.06, 0.0])
    assert judge(module.tensor([1000.0, 0.06, 0.0])) == "correct"
    assert judge([1000.0, 0.06, 0.99e-4]) == "correct"   # an expected 0: absolute
    assert judge([1000.0, 0.06, -1.01e-4]) == "wrong"
    assert judge(module.tensor([1000.09, 0.060005, 0.0])) == "correct"
    assert judge([1000.0, 0.06 * 1.0002, 0.0]) == "wrong"  # 1000's scale does not help 0.06
    assert judge(module.tensor([1000.2, 0.06, 0.0])) == "wrong"


def test_mistakes_match_with_the_same_relative_tolerance(exercise):
    judge = exercise(2.0, mistakes=((0.05, "mistake"),))
    assert grade("t", 0.05 * (1 + 0.99e-4))[1] == "Exercise t: not quite. mistake"
    assert grade("t", 0.0501)[1] == "Exercise t: not quite. Hint: hint"
    assert judge(0.0501) == "wrong"


def test_a_range_accepts_exactly_the_numbers_in_it():
    """12.2 asks for a loss below 0.01: a mean squared error, so never below 0."""
    for loss in (0.0, 0.002197, 0.00999, torch.tensor(0.005), gradlab.tensor(0.005)):
        assert grade("12.2", loss) == ("correct", CORRECT.format("12.2")), loss
    for loss in (0.01, 0.5, -1e-9, -1.0, -math.inf, math.inf, math.nan, torch.tensor(-3.0)):
        assert grade("12.2", loss) == (
            "wrong", "Exercise 12.2: not quite. Hint: " + EXERCISES["12.2"].hint), loss


# emoji need an emoji font, which many classroom and CI machines lack: nothing from the blocks
# Miscellaneous Technical (⏳), Miscellaneous Symbols, Dingbats (✅ ❌ ❓) and the emoji planes;
# arrows, middle dots and mathematical signs are fine
EMOJI = re.compile("[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")


def test_messages_and_lessons_use_no_emoji():
    messages = [grade(k, a)[1] for k in EXERCISES for a in (None, WRONG[k], object())]
    messages += [grade(k, ast.literal_eval(stated))[1] for k, (_, stated) in KEY.items()]
    messages += [hint for ex in EXERCISES.values() for _, hint in ex.mistakes]
    messages += [ex.hint for ex in EXERCISES.values()] + [grade("99", 1)[1]]
    assert not [m for m in messages if EMOJI.search(m)]
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            text = "".join(cell["source"]) + "".join(
                "".join(out.get("text", "")) for out in cell.get("outputs", []))
            assert not EMOJI.search(text), (path.name, text)
