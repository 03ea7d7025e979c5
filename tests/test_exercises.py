"""gradlab.exercises: right answers pass on both backends, wrong ones get a hint, never the answer.

The solutions live in the instructors' answer key, docs/answer_key.md (the notebooks ship with
``answer = None``): one ``### <id>`` section per exercise with the filled-in exercise cell and
the answer it states. Each cell runs with the name ``torch`` bound to gradlab and to real PyTorch.
Exercises with a judge take the student's objects and are tried here with the ways of getting
them wrong that the judge names.
"""
import ast
import contextlib
import io
import json
import math
import re
import warnings
from pathlib import Path
from types import SimpleNamespace

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
JUDGED = [k for k, ex in EXERCISES.items() if ex.judge is not None]
VALUED = [k for k in EXERCISES if k not in JUDGED]


def run_solution(exercise_id, module) -> str:
    """What the key's cell for ``exercise_id`` prints with ``torch`` bound to ``module``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(KEY[exercise_id][0], {"torch": module, "check": check, "__name__": "__main__"})
    return out.getvalue()


# a wrong answer per exercise, of the right type, that no listed mistake matches (for a judged
# exercise, a number where it wants an object)
WRONG = {
    "1.1": 7.0,
    "1.2": 0.0,
    "2.1": [4, 4],
    "2.2": [4.5, 0.5, 1.0, 1.0],
    "3.1": [4, 2],
    "3.2": ["SumBackward0", "MulBackward0", "ExpBackward0"],
    "4.1": [3, 20.0],
    "4.2": [[3.0, 7.0, 11.0], [3.0, 7.0, 10.0]],
    "4.3": [[1.25, 1.25], [1.75, 1.75], [2.25, 2.0]],
    "5.1": [2.0, 0.4, 0.6],
    "5.2": [1.0, 1.0, 1.0],
    "5.3": [[2, 3], [3, 5]],
    "6.1": [[6.0], [16.0]],
    "6.2": 0.0,
    "6.3": 13.0,
    "7.1": 3.0,
    "7.2": [3, 3],
    "7.3": [0.1, 0.2, 0.3],
    "8.1": 20.0,
    "8.2": 0.0,
    "9.1": 1.6094,
    "9.2": "AddBackward0",
    "10.1": 100.0,
    "10.2": 0.0,
    "11.1": 12.0,
    "11.2": [24.0, 12.0],
    "12.1": [0.6386, 7.0853, 7.3891],
    "12.2": 2,
    "12.3": [0.756, -0.78],
    "13.1": 9.0,
    "13.2": 3.0,
    "13.3": 0.0,
    "14.1": 6.0,
    "14.2": [39.0, -33.0, 300.0],
    "15.1": 4.0,
    "15.2": [6.0, 0.0, 0.0],
    "15.3": 0.0,
    "16.1": [32.0, 2.0, 1.0],
    "16.2": 10.03125,
    "17.1": 0.1342,
    "17.2": 0.0,
    "18.1": [2, 1],
    "18.2": 0.0,
    "19.1": 4.0,
    "19.2": [3.0, -1.0],
    "19.3": 0.0,
    "20.1": [2, 6],
    "20.2": 0.0,
    "20.3": 0.0,
}


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


@pytest.mark.parametrize("exercise_id", VALUED)
def test_answer_key_states_a_correct_answer(exercise_id):
    stated = ast.literal_eval(KEY[exercise_id][1])
    assert grade(exercise_id, stated) == ("correct", CORRECT.format(exercise_id))


@pytest.mark.parametrize("exercise_id", VALUED)
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


def test_unanswered_and_malformed_answers(capsys, exercise):
    check("1.1", None)
    assert capsys.readouterr().out == ("Exercise 1.1: not answered yet. Replace None with "
                                       "your answer and run the cell again.\n")
    assert grade("5.1", gradlab.tensor([2.0, 0.4])) == (
        "wrong", "Exercise 5.1: the answer should hold 3 values, got 2. Hint: "
        + EXERCISES["5.1"].hint)
    assert grade("5.1", 5.0)[1].startswith("Exercise 5.1: the answer should hold 3 values, "
                                           "got a single value.")
    assert grade("1.1", [6.0])[1].startswith("Exercise 1.1: the answer should be a single "
                                             "number")
    assert grade("3.2", [1, 2, 3])[1].startswith("Exercise 3.2: the answer should be a string")
    exercise(True)
    assert grade("t", 1)[1].startswith("Exercise t: the answer should be True or False")
    assert grade("1.1", object())[1].startswith("Exercise 1.1: could not read this answer "
                                                "(expected a tensor")
    assert grade("17.2", [0.001])[1].startswith("Exercise 17.2: not quite. Put the optimizer "
                                                "itself in answer")
    assert grade("99", 1)[1].startswith("There is no exercise '99'. The exercises are: 1.1, ")


def test_answers_as_torch_numpy_and_plain_values(exercise):
    import numpy as np
    assert grade("5.1", torch.tensor([2.0, 0.4, 0.06], requires_grad=True))[0] == "correct"
    assert grade("5.1", np.array([2.0, 0.4, 0.06]))[0] == "correct"
    assert grade("2.1", (4, 3))[0] == "correct"
    assert grade("2.1", torch.ones(4, 3).shape)[0] == "correct"
    assert grade("2.1", gradlab.ones(4, 3).shape)[0] == "correct"
    assert grade("1.1", np.float32(6.0))[0] == "correct"
    assert grade("1.1", 6)[0] == "correct"
    assert grade("1.1", 6.0005)[0] == "correct"   # within 1e-4 of 6, relative
    assert grade("1.1", 6.0007)[0] == "wrong"
    assert grade("3.2", [" SumBackward0", "ExpBackward0 ", "MulBackward0"])[0] == "correct"
    assert exercise([False, True])(torch.tensor([False, True])) == "correct"


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


def not_quite(exercise_id, message):
    return "wrong", f"Exercise {exercise_id}: not quite. {message}"


def bias_step(module, reduce, in_place=True):
    """Exercise 6.2's cell with ``grad_b = reduce(grad_Y)``: b after the step."""
    X = module.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [0.0, 1.0, 0.0]])
    T = module.tensor([[2.0, 2.0, 2.0], [5.0, 5.0, 5.0], [8.0, 8.0, 8.0], [1.0, 1.0, 1.0]])
    b = module.zeros(3)
    grad_Y = 2 * (X + b - T)
    grad_b = reduce(grad_Y)
    if in_place:
        b -= 0.1 * grad_b
        return b
    return b - 0.1 * grad_b


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_6_2_judges_b_by_its_shape_and_the_step_autograd_takes(module):
    hint = EXERCISES["6.2"].hint
    assert grade("6.2", bias_step(module, lambda g: g.sum(0))) == ("correct", CORRECT.format("6.2"))
    assert grade("6.2", bias_step(module, lambda g: g, in_place=False)) == not_quite("6.2", (
        "b now has shape (4, 3), one row per example: the step broadcast b to grad_b's shape "
        "instead of failing. grad_b must have b's shape (3,)."))
    keepdim = bias_step(module, lambda g: g.sum(0, keepdim=True), in_place=False)
    assert grade("6.2", keepdim) == not_quite("6.2", f"b has shape (1, 3), not b's shape (3,): "
                                                     f"{hint}")
    assert grade("6.2", bias_step(module, lambda g: g.mean(0))) == not_quite("6.2", (
        "b moved the right way, but a quarter as far as gradient descent takes it: the loss "
        "adds up the errors of the 4 examples, so what do the rows' parts of b's gradient add "
        "up to?"))
    assert grade("6.2", module.zeros(3)) == not_quite("6.2", (
        "b is still all zeros: run the whole cell, with the step's last line."))
    for wrong in (lambda g: -g.sum(0), lambda g: g[0]):
        assert grade("6.2", bias_step(module, wrong)) == not_quite("6.2", (
            "b has the right shape but is not where one step of gradient descent takes it: "
            f"grad_b must be what b.grad would hold after loss.backward(). {hint}"))
    for answer in (0.0, [0.8, 0.0, -0.4], "b"):
        assert grade("6.2", answer) == not_quite("6.2", (
            "Put the tensor b itself in answer (answer = b) after the step: the check reads its "
            "shape and values."))


def lesson_10_loop(module, add, seed=1, steps=20):
    """Exercise 10.2's loop, adding ``add(loss)`` to total_loss at each step: its total_loss."""
    module.manual_seed(seed)
    net = module.nn.Linear(3, 1)
    optimizer = module.optim.SGD(net.parameters(), lr=0.1)
    total_loss = 0
    for _ in range(steps):
        batch = module.randn(16, 3)
        target = (batch ** 2).sum(dim=1, keepdim=True)
        optimizer.zero_grad()
        loss = ((net(batch) - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        total_loss += add(loss)
    return total_loss


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_10_2_wants_the_sum_of_the_losses_with_no_graph(module):
    for add in (lambda loss: loss.item(), lambda loss: loss.detach()):
        assert grade("10.2", lesson_10_loop(module, add)) == ("correct", CORRECT.format("10.2"))
    leaky = lesson_10_loop(module, lambda loss: loss)
    assert f"{leaky.item():.4f}" == "172.5736"  # what the lesson's cell prints
    assert grade("10.2", leaky) == not_quite("10.2", (
        "total_loss still has a grad_fn: adding loss itself links every step's graph to "
        "total_loss, which keeps them all alive."))
    for changed in (lesson_10_loop(module, lambda loss: loss.item(), seed=0),
                    lesson_10_loop(module, lambda loss: loss.item(), steps=19),
                    lesson_10_loop(module, lambda loss: loss.detach(), steps=19)):
        value = float(changed)
        assert grade("10.2", changed) == not_quite("10.2", (
            f"total_loss holds no graph, but {value:.4g} is not the sum of the 20 losses of the "
            "loop from torch.manual_seed(1): add every step's loss, then run the whole cell "
            "again."))
    for bad in (module.tensor(172.5736, requires_grad=True), module.tensor([172.5736, 0.0])):
        assert grade("10.2", bad) == not_quite("10.2", (
            "total_loss should be a single number that requires no grad, like the loss's value "
            "at each step."))
    for answer in ("total_loss", [172.5736], True):
        assert grade("10.2", answer) == not_quite("10.2", (
            "Put total_loss itself in answer (answer = total_loss): the check runs the "
            "exercise's loop again and compares the sums."))


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_10_2_leaves_the_students_random_numbers_and_grad_mode_alone(module):
    total_loss = lesson_10_loop(module, lambda loss: loss.detach())
    module.manual_seed(7)
    expected = module.randn(3)
    module.manual_seed(7)
    with module.no_grad():
        assert grade("10.2", total_loss)[0] == "correct"
        assert not module.is_grad_enabled()
    assert module.equal(module.randn(3), expected)


def made_y(module, retain=True, backward=True, x=3.0, power=2):
    """Exercise 11.1's y = x * 2 (z = y ** power), kept with retain_grad() and backwarded or not."""
    y = module.tensor(x, requires_grad=True) * 2
    if retain:
        y.retain_grad()
    z = y**power
    if backward:
        z.backward()
    return y


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_11_1_judges_y_itself_by_how_it_kept_its_gradient(module):
    seen = []
    hooked = module.tensor(3.0, requires_grad=True) * 2
    hooked.register_hook(seen.append)  # dz/dy read without retain_grad()
    (hooked**2).backward()
    assert seen[0].item() == 12.0
    leaf = module.tensor(6.0, requires_grad=True)  # y made as a leaf: its .grad needs no retain
    (leaf**2).backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the judge never reads .grad of a non-leaf that
        # does not retain it (PyTorch warns there)
        assert grade("11.1", made_y(module)) == ("correct", CORRECT.format("11.1"))
        for y in (made_y(module, retain=False), hooked):
            assert grade("11.1", y) == not_quite("11.1", (
                "y.retains_grad is False: backward() fills in .grad only for leaves, unless an "
                "intermediate was asked, before the backward, to keep its gradient."))
        assert grade("11.1", made_y(module, backward=False)) == not_quite("11.1", (
            "y will keep its gradient, but y.grad is still None: compute z from y and call "
            "z.backward()."))
        for y in (made_y(module, x=2.0), made_y(module, power=3)):
            assert grade("11.1", y) == not_quite("11.1", (
                "y kept a gradient, but not dz/dy of the exercise: build x = 3.0, y = x * 2 and "
                "z = y ** 2 as written, then call z.backward()."))
        for y in (made_y(module).grad, leaf):
            assert grade("11.1", y) == not_quite("11.1", (
                "This tensor is a leaf (it has no grad_fn): put the intermediate y = x * 2 in "
                "answer, not y.grad or a tensor made anew."))
        for answer in (12.0, seen[0].item(), [12.0], "y"):
            assert grade("11.1", answer) == not_quite("11.1", (
                "Put the tensor y itself in answer (answer = y): the check reads y.grad and how "
                "it got there."))


def made_w(module, values=(1.0, 2.0, 3.0), requires_grad=True, backward=1, scale=None):
    """Exercise 1.2's w, made from ``values``, and ``backward`` passes of (w ** 2).sum()."""
    w = module.tensor(list(values), requires_grad=requires_grad)
    if scale is not None:
        w = w * scale
    for _ in range(backward):
        (w**2).sum().backward()
    return w


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_1_2_judges_w_by_how_it_was_made_and_what_backward_left_in_it(module):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the judge never reads .grad of a non-leaf
        assert grade("1.2", made_w(module)) == ("correct", CORRECT.format("1.2"))
        as_float64 = module.tensor([1, 2, 3], dtype=module.float64).requires_grad_()
        (as_float64**2).sum().backward()
        assert grade("1.2", as_float64) == ("correct", CORRECT.format("1.2"))
        assert grade("1.2", made_w(module, scale=1.0)) == not_quite("1.2", (
            "This w was computed from another tensor (it has a grad_fn), and backward() fills "
            "in .grad only for the tensors you create: make w itself the tracked one."))
        for w in (module.tensor([1, 2, 3]), module.tensor([1.0, 2.0, 3.0])):
            assert grade("1.2", w) == not_quite("1.2", (
                "w does not require grad, so backward() has nothing to fill in for it. Read the "
                "first error message again."))
        assert grade("1.2", made_w(module, values=(1.0, 2.0))) == not_quite("1.2", (
            "Keep w's values 1, 2, 3 as written: change only how w is created."))
        assert grade("1.2", made_w(module, backward=0)) == not_quite("1.2", (
            "w is tracked, but w.grad is still None: compute loss from this w and call "
            "loss.backward()."))
        assert grade("1.2", made_w(module, backward=2)) == not_quite("1.2", (
            "w.grad is not the gradient of one backward pass through loss: create w again, "
            "then compute loss and call loss.backward() once."))
        for answer in (0.0, made_w(module).grad.tolist(), "w"):
            assert grade("1.2", answer) == not_quite("1.2", (
                "Put the tensor w itself in answer (answer = w): the check reads w.grad and how "
                "w was made."))


def lesson_8_grads(module, reset="zero_", clone=False, scale=1):
    """Exercise 8.2's loop: the list grads, with w.grad reset by ``reset`` after each append."""
    w = module.tensor(1.0, requires_grad=True)
    grads = []
    for step in range(3):
        loss = (w * (step + 1) * scale) ** 2
        loss.backward()
        grads.append(w.grad.clone() if clone else w.grad)
        if reset == "zero_":
            w.grad.zero_()
        elif reset == "None":
            w.grad = None
    return grads


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_8_2_judges_grads_by_whether_each_entry_kept_its_own_pass(module):
    for grads in (lesson_8_grads(module, "None"), lesson_8_grads(module, clone=True),
                  [g.item() for g in lesson_8_grads(module, "None")]):
        assert grade("8.2", grads) == ("correct", CORRECT.format("8.2"))
    for grads in (lesson_8_grads(module), lesson_8_grads(module, reset=None)):
        assert grade("8.2", grads) == not_quite("8.2", (
            "Some entries of grads are one and the same tensor (try grads[0] is grads[1]). What "
            "do backward() and zero_() do to the tensor that is already in w.grad?"))
    assert grade("8.2", lesson_8_grads(module, reset=None, clone=True)) == not_quite("8.2", (
        "Each entry holds the passes so far added up: between one pass's backward and the "
        "next, the old gradient has to go."))
    assert grade("8.2", lesson_8_grads(module, "None", scale=2)) == not_quite("8.2", (
        "These are not the gradients of the loop's three passes: keep loss = "
        "(w * (step + 1)) ** 2 from w = 1.0, and change only how each gradient is stored or "
        "reset."))
    hint = EXERCISES["8.2"].hint
    for answer in (0.0, lesson_8_grads(module, "None")[:2], module.tensor([2.0, 8.0, 18.0]),
                   ["2", "8", "18"], "grads"):
        assert grade("8.2", answer) == not_quite("8.2", hint)


def exercise_12_1(module, fix):
    """Exercise 12.1's cell with the capping done by ``fix``: its x after loss.backward()."""
    x = module.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    h = x.exp()
    total = h.sum()
    capped = fix(h)
    (total + (capped * capped).sum()).backward()
    return x


def capped_data(h):
    h.data.clamp_(max=3.0)  # silences the error, and makes ExpBackward0 use the capped values
    return h


def not_run(module):
    x = module.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    h = x.exp()
    total = h.sum()
    h.clamp_(max=3.0)
    with pytest.raises(RuntimeError, match="output 0 of Exp, is at version 1"):
        (total + (h * h).sum()).backward()
    return x


def lesson_9_loop(module, fix="rebuild", steps=5, lr=0.02):
    """Exercise 9.1's cell: x after the loop, fixed by building the graph again in every step
    (``fix="rebuild"``), by ``retain_graph=True``, or not at all (the loop stops)."""
    x = module.tensor(1.0, requires_grad=True)
    grown = x.exp()
    try:
        for _ in range(steps):
            x.grad = None
            if fix == "rebuild":
                grown = x.exp()
            loss = (grown - 5) ** 2
            loss.backward(retain_graph=fix == "retain")
            with module.no_grad():
                x -= lr * x.grad
    except RuntimeError:
        pass
    return x


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_9_1_runs_the_loop_again_and_tells_which_way_x_went(module):
    assert grade("9.1", lesson_9_loop(module)) == ("correct", CORRECT.format("9.1"))
    assert round(lesson_9_loop(module).item(), 4) == 1.6094  # ln 5, as the key says
    assert grade("9.1", lesson_9_loop(module, fix=None)) == not_quite("9.1", (
        "x took the first step only: the loop still stops at its second backward. Run the whole "
        "cell again after your fix."))
    stale = lesson_9_loop(module, fix="retain")
    assert round(stale.item(), 4) == 2.2405
    assert grade("9.1", stale) == not_quite("9.1", (
        "The loop runs now, but the loss it prints never changes and x moves by the same amount "
        "at every step: every backward went through the graph built before the loop, from the "
        "starting x. What has to be computed anew in every step?"))
    for x in (lesson_9_loop(module, steps=4), lesson_9_loop(module, lr=0.01)):
        assert grade("9.1", x) == not_quite("9.1", (
            "x is not where 5 steps of the fixed loop take it: keep its numbers (x = 1.0, the "
            "target 5, the factor 0.02), then run the whole cell again."))
    for answer in (1.6094, lesson_9_loop(module).exp(), lesson_9_loop(module).detach(),
                   module.ones(2, requires_grad=True), "x"):
        assert grade("9.1", answer) == not_quite("9.1", (
            "Put the tensor x itself in answer (answer = x): the check reads where the loop took "
            "it."))


def lesson_14_x(module, create_graph=True, values=(1.0, -1.0, 2.0), penalty=True, f_too=True):
    """Exercise 14.2's cell: x after loss.backward(), g made with create_graph or not."""
    x = module.tensor(list(values), requires_grad=True)
    f = (x**3).sum()
    (g,) = module.autograd.grad(f, x, create_graph=create_graph, retain_graph=True)
    loss = (f if f_too else 0) + ((g**2).sum() if penalty else 0)
    loss.backward()
    return x


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_12_1_judges_x_grad_against_the_intended_program(module):
    for fix in (lambda h: h.clamp(max=3.0), lambda h: h.clone().clamp_(max=3.0),
                lambda h: module.minimum(h, module.tensor(3.0))):
        assert grade("12.1", exercise_12_1(module, fix)) == ("correct", CORRECT.format("12.1"))
    assert grade("12.1", exercise_12_1(module, capped_data)) == not_quite("12.1", (
        "The error is gone, but x.grad is wrong: exp's node computed its gradient from the "
        "capped values. Hiding an in-place change from autograd (.data) silences the error "
        "without fixing it: leave the tensor exp saved unchanged."))
    twice = exercise_12_1(module, lambda h: h.clamp(max=3.0))
    twice.grad = twice.grad * 2  # as after the cell's backward ran twice on the same x
    uncapped = exercise_12_1(module, lambda h: h)
    for x in (twice, uncapped):
        assert grade("12.1", x) == not_quite("12.1", (
            "x.grad is not the gradient of the intended loss. Start again from a fresh x (run "
            "the whole cell once: gradients add up), and leave the tensor exp saved unchanged."))
    assert grade("12.1", not_run(module)) == not_quite("12.1", (
        "x.grad is None: loss.backward() has not run yet (or it failed). Fix the cell so that "
        "it runs without the error, then run it again."))
    moved = exercise_12_1(module, lambda h: h.clamp(max=3.0))
    with module.no_grad():
        moved.add_(1)
    assert grade("12.1", moved) == not_quite("12.1", (
        "x does not hold the exercise's values [-1.0, 0.5, 2.0] any more: fix the code after "
        "x, and leave x itself as it is."))
    x = exercise_12_1(module, lambda h: h.clamp(max=3.0))
    for answer in (x * 1, x.detach()):
        assert grade("12.1", answer) == not_quite("12.1", (
            "This is not the leaf x of the exercise: put x itself in answer, not a result "
            "computed from it."))
    for answer in (x.grad.tolist(), 1.0, "x"):
        assert grade("12.1", answer) == not_quite("12.1", (
            "Put the tensor x itself in answer (answer = x): the check reads x.grad."))


def exercise_12_3(module, update, steps=3, reset=True):
    """Exercise 12.3's loop with the update ``update(w)`` (which returns the new w)."""
    w = module.tensor([1.0, -2.0], requires_grad=True)
    for _ in range(steps):
        ((w - 0.5) ** 2).sum().backward()
        w = update(w)
        if reset:
            w.grad = None
    return w


def in_place(module):
    def update(w):
        with module.no_grad():
            w -= 0.1 * w.grad
        return w
    return update


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_12_3_judges_w_by_whether_it_is_still_the_stepped_leaf(module):
    def with_data(w):
        w.data -= 0.1 * w.grad
        return w
    for w in (exercise_12_3(module, in_place(module)), exercise_12_3(module, with_data)):
        assert grade("12.3", w) == ("correct", CORRECT.format("12.3"))
    new_tensor = exercise_12_3(module, lambda w: w - 0.1 * w.grad, steps=1)
    assert grade("12.3", new_tensor) == not_quite("12.3", (
        "w is no longer a leaf (it has a grad_fn): the update made a new tensor that the next "
        "backward would not give a .grad. Update the leaf w in place, with the update not "
        "recorded."))
    detached = exercise_12_3(module, lambda w: (w - 0.1 * w.grad).detach(), steps=1)
    assert grade("12.3", detached) == not_quite("12.3", (
        "w no longer requires grad: a training loop needs its next backward to give w a "
        "gradient. Keep w the leaf made with requires_grad=True."))
    for w in (exercise_12_3(module, in_place(module), reset=False),
              exercise_12_3(module, in_place(module), steps=2)):
        assert grade("12.3", w) == not_quite("12.3", (
            "w is a leaf that requires grad, but not where three steps of the loop take it: "
            "reset w.grad in every step (gradients add up), and run the whole cell once from "
            "the w it makes."))
    for answer in ([0.756, -0.78], 0.756):
        assert grade("12.3", answer) == not_quite("12.3", "Put the tensor w itself in answer "
                                                  "(answer = w).")


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_14_2_reads_whether_the_penalty_reached_x_grad(module):
    assert grade("14.2", lesson_14_x(module)) == ("correct", CORRECT.format("14.2"))
    assert lesson_14_x(module).grad.tolist() == [39.0, -33.0, 300.0]
    for x in (lesson_14_x(module, create_graph=False), lesson_14_x(module, penalty=False)):
        assert grade("14.2", x) == not_quite("14.2", (
            "x.grad is still the gradient of f alone: the penalty passes no gradient to x. To "
            "this backward, g is a constant: was the pass that made g recorded?"))
    assert grade("14.2", lesson_14_x(module, f_too=False)) == not_quite("14.2", (
        "x.grad holds the penalty's gradient only: the loss is f plus the penalty."))
    twice = lesson_14_x(module)
    (twice**2).sum().backward()
    assert grade("14.2", twice) == not_quite("14.2", (
        "x.grad is not the gradient of the exercise's loss: build x, f, g and loss as written "
        "and call loss.backward() once, then run the whole cell again."))
    assert grade("14.2", lesson_14_x(module, values=(1.0, 1.0, 2.0))) == not_quite("14.2", (
        "Build x = torch.tensor([1.0, -1.0, 2.0], requires_grad=True) as written."))
    assert grade("14.2", module.tensor([1.0, -1.0, 2.0], requires_grad=True)) == not_quite(
        "14.2", "x.grad is None: call loss.backward() after building the loss.")
    for answer in (lesson_14_x(module).grad, lesson_14_x(module) * 1, [39.0, -33.0, 300.0]):
        assert grade("14.2", answer) == not_quite("14.2", (
            "Put the tensor x itself in answer (answer = x): the check reads x.grad."))


def lesson_16_h(module, fix="detach", chunks=((1.0, 2.0), (3.0, 4.0), (5.0, 6.0))):
    """Exercise 16.2's cell: the final h, the state cut with detach(), kept with retain_graph,
    started again from 0 in each chunk, cut after the chunk, or not fixed (the loop stops)."""
    w = module.tensor(0.5, requires_grad=True)
    h = module.tensor(0.0)
    try:
        for chunk in chunks:
            w.grad = None
            if fix in ("detach", "restart"):
                h = h.detach() if fix == "detach" else module.tensor(0.0)
            for u in chunk:
                h = w * h + u
            h.backward(retain_graph=fix == "retain")
            if fix == "detach after":
                h = h.detach()
    except RuntimeError:
        pass
    return h


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_16_2_reads_the_states_value_and_counts_its_graphs_steps(module):
    for fix in ("detach", "detach after"):  # cut before each chunk, or after each backward
        assert grade("16.2", lesson_16_h(module, fix)) == ("correct", CORRECT.format("16.2"))
    assert grade("16.2", lesson_16_h(module, fix=None)) == not_quite("16.2", (
        "h is the state after two chunks: the loop still stops at the second chunk's backward. "
        "Run the whole cell again after your fix."))
    assert grade("16.2", lesson_16_h(module, fix="retain")) == not_quite("16.2", (
        "h's value is right, but its graph holds 6 multiplications by w, one per step since the "
        "start: every backward goes through the whole history, and the graph grows with every "
        "chunk. What of h should the next chunk not carry?"))
    assert grade("16.2", lesson_16_h(module, fix="restart")) == not_quite("16.2", (
        "h starts every chunk from 0 again: each chunk should start from the state the chunk "
        "before it reached."))
    other_inputs = lesson_16_h(module, chunks=((1.0, 2.0), (3.0, 4.0), (5.0, 7.0)))
    assert grade("16.2", other_inputs) == not_quite("16.2", (
        "h is not the state after all three chunks: keep w = 0.5, h = 0.0 and the chunks as "
        "written, then run the whole cell again."))
    for answer in (10.03125, module.ones(2), "h"):
        assert grade("16.2", answer) == not_quite("16.2", (
            "Put the tensor h itself in answer (answer = h): the check reads its value and its "
            "graph."))


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_15_3_runs_gradcheck_on_the_students_normalize(module):
    namespace = {"torch": module}  # as in a notebook cell: the function's torch is the module's
    exec("def fixed(x):\n    return x / (x**2).sum().sqrt()\n"
         "def by_norm(x):\n    return x / x.norm()\n"
         "def lesson(x):\n    return x / (x**2).sum().sqrt().detach()\n"
         "def all_detached(x):\n    return (x / (x**2).sum().sqrt()).detach()\n"
         "def hooked(x):\n    y = x / (x**2).sum().sqrt()\n"
         "    y.register_hook(lambda g: 2 * g)\n    return y\n"
         "def unnormalized(x):\n    return x * 1\n"
         "def through_torch(x):\n    return torch.div(x, torch.sqrt((x**2).sum()))\n",
         namespace)
    for name in ("fixed", "by_norm", "through_torch"):
        assert grade("15.3", namespace[name]) == ("correct", CORRECT.format("15.3")), name
    for name in ("lesson", "all_detached", "hooked"):
        assert grade("15.3", namespace[name]) == not_quite("15.3", (
            "gradcheck still returns False on it. Its values are right, so look at what backward "
            "sees: which tensor does it treat as a constant, though it depends on x (lesson "
            "13)?")), name
    for answer in (namespace["unnormalized"], lambda x: x.sum()):
        assert grade("15.3", answer) == not_quite("15.3", (
            "normalize(x) must still return x / ||x|| (for x = [3, 4]: [0.6, 0.8]): fix its "
            "gradient without changing its values."))
    for answer in (0.0, module.tensor([0.6, 0.8]), [0.6, 0.8], "normalize"):
        assert grade("15.3", answer) == not_quite("15.3", (
            "Put the function itself in answer (answer = normalize, no parentheses): the check "
            "calls it and runs gradcheck on it."))



LESSON_19_FUNCTIONS = """
fwAD = torch.autograd.forward_ad


def columns_of(f, x, fresh=True):
    columns, u = [], torch.zeros_like(x)
    for j in range(x.numel()):
        if fresh:
            u = torch.zeros_like(x)
        u[j] = 1.0
        with fwAD.dual_level():
            columns.append(fwAD.unpack_dual(f(fwAD.make_dual(x, u))).tangent)
    return columns


def fixed(f, x):
    return torch.stack(columns_of(f, x), dim=1)


def by_transpose(f, x):
    return torch.stack(columns_of(f, x)).T


def lesson(f, x):
    return torch.stack(columns_of(f, x, fresh=False))


def added_up(f, x):
    return torch.stack(columns_of(f, x, fresh=False), dim=1)


def transposed(f, x):
    return torch.stack(columns_of(f, x))


def reverse(f, x):
    return torch.autograd.functional.jacobian(f, x)


def twice(f, x):
    columns_of(f, x)
    return fixed(f, x)


def as_list(f, x):
    return fixed(f, x).tolist()


def zeros(f, x):
    return 0 * fixed(f, x)
"""


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_19_3_checks_the_jacobian_and_counts_the_passes_with_a_tangent(module):
    namespace = {"torch": module}  # as in a notebook cell: the function's torch is the module's
    exec(LESSON_19_FUNCTIONS, namespace)
    for name in ("fixed", "by_transpose"):
        assert grade("19.3", namespace[name]) == ("correct", CORRECT.format("19.3")), name
    for name in ("lesson", "added_up"):
        assert grade("19.3", namespace[name]) == not_quite("19.3", (
            "Each column adds up the ones before it: print u in every pass. Which entries of u "
            "are 1 in pass j?")), name
    assert grade("19.3", namespace["transposed"]) == not_quite("19.3", (
        "Its values are right but transposed: it has one row per input. A pass gives a column, "
        "so the columns go side by side, along which dim?"))
    assert grade("19.3", namespace["reverse"]) == not_quite("19.3", (
        "f never received a tangent, so this is not forward mode: give each pass its x as a "
        "dual tensor, made with make_dual inside dual_level."))
    assert grade("19.3", namespace["twice"]) == not_quite("19.3", (
        "The Jacobian is right, but f got a tangent in 6 calls for 3 inputs: make one forward "
        "pass per element of x."))
    assert grade("19.3", namespace["as_list"]) == not_quite("19.3", (
        "jacobian_fwd must return a tensor, the Jacobian: stack the columns."))
    assert grade("19.3", namespace["zeros"]) == not_quite("19.3", EXERCISES["19.3"].hint)
    for answer in (0.0, module.tensor([[6.0, 3.0, 2.0], [2.0, 4.0, 6.0]]), "jacobian_fwd"):
        assert grade("19.3", answer) == not_quite("19.3", (
            "Put the function itself in answer (answer = jacobian_fwd, no parentheses): the "
            "check calls it on functions of its own."))


def lesson_17_loop(module, lr, steps=50, momentum=0.0, seed=0, reset="start"):
    """Exercise 17.1's and 17.2's cell on lesson 17's data: its optimizer and final loss, the
    gradients reset at the start of every step, at its end, never (``reset=None``, exercise
    17.1's bug) or between backward() and step()."""
    nn = module.nn
    module.manual_seed(0)
    x = module.linspace(0, 1, 20).unsqueeze(1)
    y = 3 * x + 0.5 + 0.05 * module.randn(20, 1)
    module.manual_seed(seed)
    model = nn.Linear(1, 1)
    optimizer = module.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            if reset == "start":
                optimizer.zero_grad()
            loss = nn.MSELoss()(model(x), y)
            loss.backward()
            if reset == "before step":
                optimizer.zero_grad()
            optimizer.step()
            if reset == "end":
                optimizer.zero_grad()
    return optimizer, loss.item()


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_17_1_compares_the_model_with_the_fixed_loops(module):
    for reset in ("start", "end"):
        fixed, loss = lesson_17_loop(module, 0.1, reset=reset)
        assert grade("17.1", fixed) == ("correct", CORRECT.format("17.1"))
    assert f"{loss:.4f}" == "0.1342"  # as the key says
    broken, loss = lesson_17_loop(module, 0.1, reset=None)
    assert f"{loss:.4f}" == "3.1954"  # the loss the lesson's cell prints
    assert grade("17.1", broken) == not_quite("17.1", (
        "The model is where the loop as given takes it: each step still moves the parameters by "
        "the sum of all the gradients so far, since backward() adds into .grad (lesson 8). What "
        "has to happen to .grad in every step?"))
    assert grade("17.1", lesson_17_loop(module, 0.1, reset="before step")[0]) == not_quite(
        "17.1", ("The model has not moved from its initial weights: step() found no gradients. "
                 "They were reset after backward() made them and before step() used them."))
    for optimizer in (lesson_17_loop(module, 0.1, steps=40)[0],
                      lesson_17_loop(module, 0.1, seed=1)[0],
                      lesson_17_loop(module, 0.1, momentum=0.5)[0]):
        assert grade("17.1", optimizer) == not_quite("17.1", (
            "The model is not where the fixed loop takes it in 50 steps from "
            "torch.manual_seed(0): fix only the bug, then run the whole cell again."))
    assert grade("17.1", lesson_17_loop(module, 0.5)[0]) == not_quite("17.1", (
        "This optimizer has lr=0.5: the loop's learning rate is right as it is. Fix the bug "
        "without changing it, then run the whole cell again."))
    other = module.optim.SGD(module.nn.Linear(2, 1).parameters(), lr=0.1)
    assert grade("17.1", other) == not_quite("17.1", (
        "This optimizer does not train the exercise's model: keep "
        "torch.optim.SGD(model.parameters(), lr=...) with model = nn.Linear(1, 1)."))
    for answer in (0.1342, fixed.param_groups[0]["params"][0], "optimizer"):
        assert grade("17.1", answer) == not_quite("17.1", (
            "Put the optimizer itself in answer (answer = optimizer): the check reads its "
            "learning rate and runs the exercise's loop again with it."))


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_17_2_runs_the_loop_again_with_the_optimizers_learning_rate(module):
    for lr in (0.3, 0.5, 0.7):
        assert grade("17.2", lesson_17_loop(module, lr)[0]) == ("correct", CORRECT.format("17.2"))
    hint = EXERCISES["17.2"].hint
    slow, loss = lesson_17_loop(module, 0.01)
    assert f"{loss:.4f}" == "0.6868"  # the loss the lesson's cell prints, as the key says
    assert grade("17.2", slow) == not_quite("17.2", (
        f"With lr=0.01 the loop ends at a loss of 0.6868, not below 0.01. Hint: {hint}"))
    assert grade("17.2", lesson_17_loop(module, 1.0)[0]) == not_quite("17.2", (
        f"With lr=1 the loop ends at a loss of 5.713e+18, not below 0.01. Hint: {hint}"))
    assert grade("17.2", lesson_17_loop(module, 10.0)[0]) == not_quite("17.2", (
        f"With lr=10 the loop ends at a loss of nan, not below 0.01. Hint: {hint}"))
    # the learning rate alone is set right: the check asks that the loop really ran with it
    slow.param_groups[0]["lr"] = 0.5
    changed_more = [slow, lesson_17_loop(module, 0.5, steps=20)[0],
                    lesson_17_loop(module, 0.5, seed=1)[0],
                    lesson_17_loop(module, 0.5, momentum=0.5)[0]]
    for optimizer in changed_more:
        assert grade("17.2", optimizer) == not_quite("17.2", (
            "lr=0.5 gets below 0.01, but this optimizer's model is not where the loop takes it "
            "in 50 steps from torch.manual_seed(0): change only the learning rate, then run the "
            "whole cell again."))
    other = module.optim.SGD(module.nn.Linear(2, 1).parameters(), lr=0.5)
    assert grade("17.2", other) == not_quite("17.2", (
        "This optimizer does not train the exercise's model: keep "
        "torch.optim.SGD(model.parameters(), lr=...) with model = nn.Linear(1, 1)."))
    assert grade("17.2", SimpleNamespace(param_groups=[{"lr": 0.5}])) == (
        "wrong", f"Exercise 17.2: could not check this answer ('params'). Hint: {hint}")
    for answer in (0, 0.0022, loss, module.tensor(0.001), "optimizer"):
        assert grade("17.2", answer) == not_quite("17.2", (
            "Put the optimizer itself in answer (answer = optimizer): the check reads its "
            "learning rate and runs the exercise's loop again with it."))


def lesson_13_loop(module, fix=None, train=False, seed=0):
    """Exercise 13.3's cell, with the loop as written or fixed (``"no_grad"``,
    ``"inference_mode"``, ``"item"``): its total."""
    module.manual_seed(seed)
    nn = module.nn
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(p=0.5), nn.Linear(8, 1))
    batches = [module.ones(4, 3) * k for k in range(3)]
    model.train(train)
    total = 0
    mode = getattr(module, fix)() if fix in ("no_grad", "inference_mode") else \
        contextlib.nullcontext()
    with mode:
        for batch in batches:
            loss = model(batch).pow(2).mean()
            total = total + (loss.item() if fix == "item" else loss)
    return total


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_13_3_judges_whether_total_holds_a_graph_and_the_evaluations_loss(module):
    for fix in ("no_grad", "inference_mode", "item"):
        assert grade("13.3", lesson_13_loop(module, fix)) == ("correct", CORRECT.format("13.3"))
    assert grade("13.3", lesson_13_loop(module)) == not_quite("13.3", (
        "total records a graph (total.requires_grad is True): model.eval() changes what layers "
        "such as Dropout do, not whether autograd records operations. Which tool of this lesson "
        "stops the recording for a block of code?"))
    assert grade("13.3", lesson_13_loop(module, "no_grad", train=True)) == not_quite("13.3", (
        "total holds no graph now, but dropout was on: model.eval() is still needed, to switch "
        "dropout off."))
    for total in (lesson_13_loop(module, "no_grad", seed=1), 0.0, module.tensor(1.0)):
        assert grade("13.3", total) == not_quite("13.3", (
            "total holds no graph, but not the evaluation's loss: keep torch.manual_seed(0), the "
            "model, the batches and model.eval() as written, and run the whole cell again."))
    assert grade("13.3", module.zeros(2)) == not_quite("13.3", (
        "total should be one number, the sum of the batches' losses."))
    for answer in ("total", [1.0], module.nn.Linear(1, 1)):
        assert grade("13.3", answer) == not_quite("13.3", (
            "Put total itself in answer (answer = total): the check reads whether it holds a "
            "graph, and its value."))
    total = lesson_13_loop(module, "no_grad")
    module.manual_seed(7)
    expected = module.randn(3)
    module.manual_seed(7)
    assert grade("13.3", total)[0] == "correct"  # the judge leaves the random numbers alone
    assert module.equal(module.randn(3), expected)


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_17_1_and_17_2_leave_the_students_random_numbers_alone(module):
    for key, optimizer in [("17.1", lesson_17_loop(module, 0.1)[0]),
                           ("17.2", lesson_17_loop(module, 0.5)[0])]:
        module.manual_seed(7)
        expected = module.randn(3)
        module.manual_seed(7)
        assert grade(key, optimizer)[0] == "correct"
        assert module.equal(module.randn(3), expected)


# emoji need an emoji font, which many classroom and CI machines lack: nothing from the blocks
# Miscellaneous Technical (⏳), Miscellaneous Symbols, Dingbats (✅ ❌ ❓) and the emoji planes;
# arrows, middle dots and mathematical signs are fine
EMOJI = re.compile("[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")


def test_messages_and_lessons_use_no_emoji():
    messages = [grade(k, a)[1] for k in EXERCISES for a in (None, WRONG[k], object())]
    messages += [grade(k, ast.literal_eval(KEY[k][1]))[1] for k in VALUED]
    messages += [run_solution(k, gradlab) for k in JUDGED]
    messages += [hint for ex in EXERCISES.values() for _, hint in ex.mistakes]
    messages += [ex.hint for ex in EXERCISES.values()] + [grade("99", 1)[1]]
    assert not [m for m in messages if EMOJI.search(m)]
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            text = "".join(cell["source"]) + "".join(
                "".join(out.get("text", "")) for out in cell.get("outputs", []))
            assert not EMOJI.search(text), (path.name, text)


MUL_SQUARES = '''
class Fixed(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w**2

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return grad_output * w**2, grad_output * 2 * x * w

class Swapped(Fixed):
    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return grad_output * 2 * x * w, grad_output * w**2

class NoGradOutput(Fixed):
    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return w**2, 2 * x * w

class ChangedForward(Fixed):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return grad_output * w, grad_output * x
'''


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_18_2_runs_gradcheck_on_the_students_function(module):
    namespace = {"torch": module}  # as in a notebook cell: the class subclasses the module's
    exec(MUL_SQUARES, namespace)
    assert grade("18.2", namespace["Fixed"]) == ("correct", CORRECT.format("18.2"))
    for name in ("Swapped", "NoGradOutput"):
        assert grade("18.2", namespace[name]) == not_quite("18.2", (
            "gradcheck still returns False on it. Hint: backward returns one gradient per "
            "input of forward, in forward's order: gradcheck's message names the input whose "
            "gradient is wrong.")), name
    assert grade("18.2", namespace["ChangedForward"]) == not_quite("18.2", (
        "MulSquare.apply(x, w) must still return x * w**2: fix its backward, not its forward."))
    for answer in (0.0, namespace["Fixed"].apply, module.tensor([1.0]), "MulSquare", int):
        assert grade("18.2", answer) == not_quite("18.2", (
            "Put the class itself in answer (answer = MulSquare, no parentheses, no .apply): "
            "the check runs gradcheck on it.")), answer


def bigram_table(module, normalize):
    """Exercise 20.2's cell on the name list's counts, dividing by ``normalize(P)``."""
    from gradlab.data import names
    counts = [[0] * 27 for _ in range(27)]
    for w in names():
        chs = [0] + [ord(ch) - ord("a") + 1 for ch in w] + [0]
        for ch1, ch2 in zip(chs, chs[1:]):
            counts[ch1][ch2] += 1
    P = (module.tensor(counts, dtype=module.int32) + 1).float()
    return P / normalize(P)


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_20_2_judges_P_by_what_each_row_is_divided_by(module):
    right = bigram_table(module, lambda P: P.sum(1, keepdims=True))
    assert grade("20.2", right) == ("correct", CORRECT.format("20.2"))
    assert grade("20.2", right.double()) == ("correct", CORRECT.format("20.2"))
    for wrong in (lambda P: P.sum(1), lambda P: P.sum(0, keepdims=True)):  # the same table
        assert grade("20.2", bigram_table(module, wrong)) == not_quite("20.2", (
            "P's columns sum to 1, not its rows. P.sum(1) has shape (27,): against P's (27, 27) "
            "it broadcasts as a row, so column j is divided by row j's total. What shape would "
            "divide each row by its own total?"))
    unsmoothed = bigram_table(module, lambda P: P.sum(1, keepdims=True)) * 0
    unsmoothed[:, 0] = 1.0  # rows that sum to 1, but not the counts' probabilities
    assert grade("20.2", unsmoothed) == not_quite("20.2", (
        "P's rows sum to 1, but they are not the counts plus 1 divided by their totals: change "
        "only the division, keep P = (N + 1).float()."))
    assert grade("20.2", bigram_table(module, lambda P: P.sum())) == not_quite("20.2", (
        "P's rows do not sum to 1: print P.sum(1, keepdims=True).shape and P.sum(1).shape, and "
        "think of how each broadcasts against P's (27, 27)."))
    assert grade("20.2", right[:26]) == not_quite("20.2", (
        "P has shape (26, 27): it should stay (27, 27), one row per character, one probability "
        "per next character."))
    for answer in (0.0, right.tolist(), "P"):
        assert grade("20.2", answer) == not_quite("20.2", (
            "Put the tensor P itself in answer (answer = P): the check compares it with the "
            "counts."))


NLLS = '''
def fixed(logits, ys):
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    return -probs[torch.arange(logits.shape[0]), ys].log().mean()

def as_given(logits, ys):
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    return -probs[:, ys].log().mean()

def positive(logits, ys):
    return -fixed(logits, ys)

def summed(logits, ys):
    return fixed(logits, ys) * ys.shape[0]

def columns(logits, ys):
    counts = logits.exp()
    probs = counts / counts.sum(0, keepdims=True)
    return -probs[torch.arange(logits.shape[0]), ys].log().mean()

def detached(logits, ys):
    return torch.tensor(fixed(logits, ys).item(), requires_grad=True)

def wrong_gradient(logits, ys):
    value = fixed(logits, ys)
    return value.detach() + 0 * logits.sum()

def per_example(logits, ys):
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    return -probs[torch.arange(logits.shape[0]), ys].log()
'''


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_20_3_compares_nll_and_its_gradient_with_cross_entropy(module):
    namespace = {"torch": module}  # as in a notebook cell: the function calls the module's ops
    exec(NLLS, namespace)
    hint = EXERCISES["20.3"].hint
    assert grade("20.3", namespace["fixed"]) == ("correct", CORRECT.format("20.3"))
    assert grade("20.3", module.nn.functional.cross_entropy) == ("correct",
                                                                 CORRECT.format("20.3"))
    assert grade("20.3", namespace["as_given"]) == not_quite("20.3", (
        "nll still averages every example's probability of every label: probs[:, ys] has "
        f"shape (5, 5). {hint}"))
    assert grade("20.3", namespace["positive"]) == not_quite("20.3", (
        "nll has the wrong sign: the log of a probability is negative."))
    assert grade("20.3", namespace["summed"]) == not_quite("20.3", (
        "nll adds the examples' terms up: the loss is their mean."))
    assert grade("20.3", namespace["columns"]) == not_quite("20.3", (
        f"nll((5, 27) logits) is not F.cross_entropy's. {hint}"))
    assert grade("20.3", namespace["detached"]) == not_quite("20.3", (
        "nll's value is right but holds no graph: compute it from logits with tensor "
        "operations only (no .item(), .tolist() or new tensors), so backward reaches the "
        "logits."))
    assert grade("20.3", namespace["wrong_gradient"]) == not_quite("20.3", (
        "nll's value is right, but its gradient is not F.cross_entropy's."))
    assert grade("20.3", namespace["per_example"]) == not_quite("20.3", (
        "nll must return one number, a 0-d tensor: the mean over the examples."))
    for answer in (0.0, module.tensor(2.3), "nll"):
        assert grade("20.3", answer) == not_quite("20.3", (
            "Put the function itself in answer (answer = nll, no parentheses): the check calls "
            "it on logits of its own."))


# ---- lesson 21 ----------------------------------------------------------------------------------

WRONG.update({"21.1": [[0.0] * 4] * 4, "21.2": 0.0, "21.3": 4.0})

LESSON_21_FUNCTIONS = '''
F = torch.nn.functional


def correlate(image, kernel):
    kh, kw = kernel.shape
    out = torch.zeros(image.shape[0] - kh + 1, image.shape[1] - kw + 1)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    return out


def fixed(G, kernel):
    kh, kw = kernel.shape
    return correlate(F.pad(G, (kw - 1, kw - 1, kh - 1, kh - 1)), kernel.flip(0, 1))


def by_conv(G, kernel):  # the same with conv2d: any right function passes
    kh, kw = kernel.shape
    return F.conv2d(G[None, None], kernel.flip(0, 1)[None, None], padding=(kh - 1, kw - 1))[0, 0]


def lesson(G, kernel):  # the exercise's cell: pads by 1, no flip
    return correlate(F.pad(G, (1, 1, 1, 1)), kernel)


def flipped_only(G, kernel):  # right for 2x2 kernels only
    return correlate(F.pad(G, (1, 1, 1, 1)), kernel.flip(0, 1))


def padded_only(G, kernel):
    kh, kw = kernel.shape
    return correlate(F.pad(G, (kw - 1, kw - 1, kh - 1, kh - 1)), kernel)


def height_first(G, kernel):  # right for square kernels only
    kh, kw = kernel.shape
    return correlate(F.pad(G, (kh - 1, kh - 1, kw - 1, kw - 1)), kernel.flip(0, 1))


def flipped_once(G, kernel):  # flipped along rows only
    kh, kw = kernel.shape
    return correlate(F.pad(G, (kw - 1, kw - 1, kh - 1, kh - 1)), kernel.flip(0))


def as_list(G, kernel):
    return fixed(G, kernel).tolist()
'''


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
def test_21_2_compares_input_grad_full_with_autograd_on_kernels_of_three_shapes(module):
    namespace = {"torch": module}  # as in a notebook cell: the function's torch is the module's
    exec(LESSON_21_FUNCTIONS, namespace)
    for name in ("fixed", "by_conv"):
        assert grade("21.2", namespace[name]) == ("correct", CORRECT.format("21.2")), name
    assert grade("21.2", namespace["flipped_only"]) == not_quite("21.2", (
        "For a 3×3 kernel on a 4×4 image it returns shape (2, 2), not the image's (4, 4): how "
        "many zeros must G get on each side so that the kernel fits wherever it covered the "
        "image?"))
    unflipped = not_quite("21.2", (
        "The shape is right, but the values are those of the kernel slid over G as in the "
        "forward. Which kernel entry does x[p, q] meet in the window at (i, j), and which way "
        "does it move as i grows?"))
    for name in ("lesson", "padded_only"):  # the 2×2 case shows the flip first
        assert grade("21.2", namespace[name]) == unflipped, name
    assert grade("21.2", namespace["height_first"]) == not_quite("21.2", (
        "It is right for square kernels, not for a 3×2 one: which dim does each of F.pad's "
        "numbers pad? For a 3×2 kernel on a 5×4 image it returns shape (3, 6), not the image's "
        "(5, 4): how many zeros must G get on each side so that the kernel fits wherever it "
        "covered the image?"))
    assert grade("21.2", namespace["flipped_once"]) == not_quite("21.2",
                                                                 EXERCISES["21.2"].hint)
    assert grade("21.2", namespace["as_list"]) == not_quite("21.2", (
        "input_grad_full must return a tensor: the gradient of the image."))
    for answer in (0.0, module.zeros(4, 4), "input_grad_full"):
        assert grade("21.2", answer) == not_quite("21.2", (
            "Put the function itself in answer (answer = input_grad_full, no parentheses): the "
            "check calls it on kernels of its own."))
