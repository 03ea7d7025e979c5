"""gradlab.exercises: right answers pass on both backends, wrong ones get a hint, never the answer.

The solutions live here only (the notebooks ship with ``answer = None``); each is a program run
with the name ``torch`` bound to gradlab and to real PyTorch, leaving its answer in ``answer``.
"""
import json
import re
from pathlib import Path

import pytest

import gradlab
from gradlab.exercises import EXERCISES, check, grade

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

solutions = {
    "1.1": """
x = torch.tensor(3.0, requires_grad=True)
(x**3 - 2 * x).backward()
answer = x.grad""",
    "1.2": """
x = torch.tensor(1.5, requires_grad=True)
((x + 1) ** 2).backward()
answer = x.grad""",
    "2.1": """
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
(x[0] * x[1] + x[2] ** 2).backward()
answer = x.grad""",
    "2.2": """
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = torch.tensor([3.0, 4.0], requires_grad=True)
(a * b).sum().backward()
answer = [a.grad, b.grad]""",
    "3.1": """
x = torch.tensor(1.0, requires_grad=True)
u = (x * 2).exp()
answer = u.grad_fn.name()""",
    "3.2": """
x = torch.tensor(1.0, requires_grad=True)
u = (x * 2).exp()
answer = u.grad_fn.next_functions[0][0].name()""",
    "3.3": """
x = torch.tensor(1.0, requires_grad=True)
answer = (x.detach() * 2).is_leaf""",
    "4.1": """
x = torch.tensor([0.0, 1.0, -1.0], requires_grad=True)
(2 * (3 * x + 2) ** 2).mean().backward()
answer = x.grad""",
    "5.1": """
x = torch.tensor(2.0, requires_grad=True)
for _ in range(3):
    (x * x).backward()
answer = x.grad""",
    "5.2": """
w = torch.tensor(1.0, requires_grad=True)
for step in range(3):
    w.grad = None
    loss = w * 3 + w * 3
    loss.backward()
answer = w.grad""",
    "6.1": """
x = torch.tensor(1.0, requires_grad=True)
y = x.exp()
y.backward()
try:
    y.backward()
    answer = False
except RuntimeError:
    answer = True""",
    "6.2": """
x = torch.tensor(1.0, requires_grad=True)
y = x + x
y.backward()
try:
    y.backward()
    answer = False
except RuntimeError:
    answer = True""",
    "6.3": """
x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
y.backward(retain_graph=True)
y.backward()
answer = x.grad""",
    "7.1": """
x = torch.tensor(3.0, requires_grad=True)
y = x * 2
y.retain_grad()
(y ** 2).backward()
answer = y.grad""",
    "8.1": """
x = torch.tensor(3.0, requires_grad=True)
(x * x.detach()).backward()
answer = x.grad""",
    "8.2": """
x = torch.tensor(1.0, requires_grad=True)
with torch.no_grad():
    y = x * 2
z = y * x
answer = [y.requires_grad, z.requires_grad]""",
    "9.1": """
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
(x ** 2).backward(torch.tensor([1.0, 0.1, 0.01]))
answer = x.grad""",
    "10.1": """
x = torch.tensor(3.0, requires_grad=True)
(d,) = torch.autograd.grad(x ** 3, x, create_graph=True)
(answer,) = torch.autograd.grad(d, x)""",
    "10.2": """
x = torch.tensor(3.0, requires_grad=True)
(d,) = torch.autograd.grad(x ** 3, x, create_graph=True)
(d,) = torch.autograd.grad(d, x, create_graph=True)
(answer,) = torch.autograd.grad(d, x)""",
    "11.1": """
x = torch.tensor(0.5, requires_grad=True)
y = x
while y < 3:
    y = y * 2
y.backward()
answer = x.grad""",
    "11.2": """
def g(x):
    if x > 0:
        return x**2
    return -x
x = torch.tensor(-2.0, requires_grad=True)
g(x).backward()
answer = x.grad""",
    "12.1": """
w = torch.tensor(1.0, requires_grad=True)
optimizer = torch.optim.SGD([w], lr=0.1)
((w * 2 - 1) ** 2).backward()
optimizer.step()
answer = w""",
    "12.2": """
torch.manual_seed(0)
x = torch.linspace(0, 1, 20).unsqueeze(1)
y = 3 * x + 0.5 + 0.05 * torch.randn(20, 1)
model = torch.nn.Linear(1, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(50):
    optimizer.zero_grad()
    loss = torch.nn.MSELoss()(model(x), y)
    loss.backward()
    optimizer.step()
answer = loss.item()""",
}

# a wrong answer per exercise, of the right type, that no listed mistake matches
WRONG = {"1.1": 7.0, "1.2": -1.0, "2.1": [2.0, 1.0, 3.0], "2.2": [[3.0, 4.0], [0.0, 0.0]],
         "3.1": "MulBackward0", "3.2": "ExpBackward0", "3.3": False, "4.1": [8.0, 20.0, 4.0],
         "5.1": 6.0, "5.2": 3.0, "6.1": False, "6.2": True, "6.3": 36.0, "7.1": 6.0,
         "8.1": 9.0, "8.2": [True, True], "9.1": [2.0, 0.4, 0.6], "10.1": 9.0, "10.2": 0.0,
         "11.1": 4.0, "11.2": 1.0, "12.1": 0.9, "12.2": 0.5}


def solve(exercise_id, module):
    namespace = {"torch": module}
    exec(solutions[exercise_id], namespace)
    return namespace["answer"]


def exercise_ids_in_notebooks():
    ids = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                ids += re.findall(r'check\("([0-9.]+)", answer\)', "".join(cell["source"]))
    return ids


def test_every_exercise_has_a_solution_and_a_notebook_cell():
    assert set(solutions) == set(EXERCISES) == set(WRONG)
    assert sorted(exercise_ids_in_notebooks(), key=lambda k: tuple(map(int, k.split(".")))) \
        == list(EXERCISES)


@pytest.mark.parametrize("module", [gradlab, torch], ids=["gradlab", "torch"])
@pytest.mark.parametrize("exercise_id", list(solutions))
def test_solution_is_correct(exercise_id, module):
    status, message = grade(exercise_id, solve(exercise_id, module))
    assert status == "correct", message
    assert message == f"✅ Exercise {exercise_id}: correct, well done!"


@pytest.mark.parametrize("exercise_id", list(solutions))
def test_wrong_answer_gets_a_hint_not_the_solution(exercise_id):
    status, message = grade(exercise_id, WRONG[exercise_id])
    assert status == "wrong"
    assert message.startswith(f"❌ Exercise {exercise_id}: not quite. Hint: ")
    assert message.endswith(EXERCISES[exercise_id].hint)


@pytest.mark.parametrize("exercise_id", [k for k, ex in EXERCISES.items() if ex.mistakes])
def test_listed_mistakes_get_their_own_hint(exercise_id):
    for wrong, hint in EXERCISES[exercise_id].mistakes:
        status, message = grade(exercise_id, wrong)
        assert (status, message) == ("wrong", f"❌ Exercise {exercise_id}: not quite. {hint}")


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
    assert capsys.readouterr().out == ("⏳ Exercise 1.1: not answered yet. Replace None with "
                                       "your answer and run the cell again.\n")
    assert grade("2.1", gradlab.tensor([2.0, 1.0])) == (
        "wrong", "❌ Exercise 2.1: the answer should hold 3 values, got 2. Hint: "
        + EXERCISES["2.1"].hint)
    assert grade("2.1", 5.0)[1].startswith("❌ Exercise 2.1: the answer should hold 3 values, "
                                           "got a single value.")
    assert grade("1.1", [25.0])[1].startswith("❌ Exercise 1.1: the answer should be a single "
                                              "number")
    assert grade("3.1", 3.0)[1].startswith("❌ Exercise 3.1: the answer should be a string")
    assert grade("3.3", 1)[1].startswith("❌ Exercise 3.3: the answer should be True or False")
    assert grade("1.1", object())[1].startswith("❌ Exercise 1.1: could not read this answer "
                                                "(expected a tensor")
    assert grade("12.2", float("nan"))[0] == "wrong"
    assert grade("12.2", [0.001])[1].startswith("❌ Exercise 12.2: the answer should be a "
                                                "single number.")
    assert grade("99", 1)[1].startswith("❓ There is no exercise '99'. The exercises are: 1.1, ")


def test_answers_as_torch_numpy_and_plain_values():
    import numpy as np
    assert grade("2.1", torch.tensor([2.0, 1.0, 6.0], requires_grad=True))[0] == "correct"
    assert grade("2.1", np.array([2.0, 1.0, 6.0]))[0] == "correct"
    assert grade("2.1", (2, 1, 6))[0] == "correct"
    assert grade("1.1", np.float32(25.0))[0] == "correct"
    assert grade("1.1", 25)[0] == "correct"
    assert grade("1.1", 25.001)[0] == "correct"   # within the relative tolerance of 1e-4
    assert grade("1.1", 25.01)[0] == "wrong"
    assert grade("3.1", " ExpBackward0 ")[0] == "correct"
    assert grade("8.2", torch.tensor([False, True]))[0] == "correct"
