"""The lessons' exercises: ``check("1.1", answer)`` prints a friendly verdict with a hint.

Answers may be gradlab tensors, PyTorch tensors, NumPy arrays, numbers, lists, strings or
booleans, so a lesson checks the same way after ``import torch``. Some exercises are about what
the student's code did rather than a value: their answer is the object itself (a tensor, an
optimizer), which the exercise's judge examines. A wrong answer gets a hint, never the
solution; ``None`` (the starter answer in every exercise cell) gets "not answered yet", so a
notebook still runs top to bottom.
"""
from __future__ import annotations

import contextlib
import importlib
import warnings
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Exercise:
    """The expected answer (a number, a nested list of numbers, a string or a bool) and a hint.

    ``task`` says what the answer is (the notebook cell has the full text); ``mistakes`` pairs
    likely wrong answers with a hint aimed at each. A number is right when it is within
    ``tolerance`` of the expected one relative to it (element by element in a list), or within
    ``tolerance`` of 0 when 0 is expected. An exercise with a ``judge`` has no ``expected``
    value: the judge gets the answer as the student gave it (a tensor, an optimizer, ...) and
    returns what is wrong with it, as a hint aimed at that, or None when it is right.
    """
    task: str
    expected: object
    hint: str
    mistakes: tuple = field(default=())
    tolerance: float = 1e-4
    judge: Callable[[object], str | None] | None = None


# ---- judges: exercises checked by what the student's objects did ---------------------------------

def _library(tensor):
    """The module whose tensor ``tensor`` is: gradlab or torch (after ``import torch``)."""
    return importlib.import_module(type(tensor).__module__.partition(".")[0])


def _is_tensor(obj) -> bool:
    return hasattr(obj, "grad_fn") and hasattr(obj, "retains_grad")


def _kept_intermediate_grad(y):
    """11.1: ``y`` is the intermediate ``x * 2`` at x = 3, which kept dz/dy in ``y.grad``."""
    if not _is_tensor(y):
        return ("Put the tensor y itself in answer (answer = y): the check reads y.grad and "
                "how it got there.")
    if y.grad_fn is None:
        return ("This tensor is a leaf (it has no grad_fn): put the intermediate y = x * 2 in "
                "answer, not y.grad or a tensor made anew.")
    if not y.retains_grad:  # checked first: reading a non-leaf's .grad would warn
        return ("y.retains_grad is False: backward() fills in .grad only for leaves, unless an "
                "intermediate was asked, before the backward, to keep its gradient.")
    if y.grad is None:
        return ("y will keep its gradient, but y.grad is still None: compute z from y and call "
                "z.backward().")
    if y.grad.numel() != 1 or not _close(y.grad.item(), 12.0, 1e-4):
        return ("y kept a gradient, but not dz/dy of the exercise: build x = 3.0, y = x * 2 "
                "and z = y ** 2 as written, then call z.backward().")
    return None


LESSON_17_STEPS = 50
LESSON_17_HINT = ("Only the learning rate: try larger values, ten times larger at a time; too "
                  "large and the loss grows instead of shrinking.")


def _trains_below_001(optimizer):
    """17.2: ``optimizer``'s learning rate brings exercise 17.2's loop below a loss of 0.01,
    and ``optimizer`` ran that loop with it."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups:
        return ("Put the optimizer itself in answer (answer = optimizer): the check reads its "
                "learning rate and runs the exercise's loop again with it.")
    params = [p for group in groups for p in group["params"]]
    if len(groups) != 1 or [tuple(p.shape) for p in params] != [(1, 1), (1,)]:
        return ("This optimizer does not train the exercise's model: keep "
                "torch.optim.SGD(model.parameters(), lr=...) with model = nn.Linear(1, 1).")
    lr = float(groups[0]["lr"])
    weight, bias, loss = _exercise_12_loop(_library(params[0]), lr)
    if not loss < 0.01:  # NaN too
        return (f"With lr={lr:g} the loop ends at a loss of {loss:.4g}, not below 0.01. "
                f"Hint: {LESSON_17_HINT}")
    trained = [p.detach().reshape(-1).tolist() for p in params]
    if not all(_close(a, b, 1e-4) for a, b in zip(trained[0] + trained[1], [weight, bias])):
        return (f"lr={lr:g} gets below 0.01, but this optimizer's model is not where the loop "
                f"takes it in {LESSON_17_STEPS} steps from torch.manual_seed(0): change only "
                "the learning rate, then run the whole cell again.")
    return None


def _exercise_12_loop(torch, lr):
    """Exercise 17.2's loop on lesson 17's data with learning rate ``lr``, in ``torch`` (torch
    or gradlab): the final weight, bias and loss. The caller's random numbers are left as they
    were."""
    with _random_state_kept(torch), torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's overflow warnings when lr is far too large
        torch.manual_seed(0)
        x = torch.linspace(0, 1, 20).unsqueeze(1)
        y = 3 * x + 0.5 + 0.05 * torch.randn(20, 1)
        torch.manual_seed(0)
        model = torch.nn.Linear(1, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        for _ in range(LESSON_17_STEPS):
            optimizer.zero_grad()
            loss = torch.nn.MSELoss()(model(x), y)
            loss.backward()
            optimizer.step()
    return model.weight.item(), model.bias.item(), loss.item()


@contextlib.contextmanager
def _random_state_kept(torch):
    """Put ``torch``'s (or gradlab's) random number generator back as it was, on leaving."""
    if hasattr(torch, "get_rng_state"):
        generator = torch
    else:
        from . import _random as generator
    state = generator.get_rng_state()
    try:
        yield
    finally:
        generator.set_rng_state(state)


LESSON_6_X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [0.0, 1.0, 0.0]]
LESSON_6_T = [[2.0, 2.0, 2.0], [5.0, 5.0, 5.0], [8.0, 8.0, 8.0], [1.0, 1.0, 1.0]]
LESSON_6_HINT = ("b.grad has b's shape (3,): each b[j] is added to every row, so its gradient "
                 "gathers what every row's use of it receives. Which dim of grad_Y holds the "
                 "examples?")


def _bias_step_taken(b):
    """6.2: ``b`` after the exercise's hand-written step, whose gradient must have b's shape."""
    if not _is_tensor(b):
        return ("Put the tensor b itself in answer (answer = b) after the step: the check reads "
                "its shape and values.")
    shape = tuple(b.shape)
    if shape == (4, 3):
        return ("b now has shape (4, 3), one row per example: the step broadcast b to grad_b's "
                "shape instead of failing. grad_b must have b's shape (3,).")
    if shape != (3,):
        return f"b has shape {shape}, not b's shape (3,): {LESSON_6_HINT}"
    got, step = b.detach().tolist(), _exercise_6_step(_library(b))
    if all(_close(g, 0.0, 1e-4) for g in got):
        return "b is still all zeros: run the whole cell, with the step's last line."
    if all(_close(g, s / 4, 1e-4) for g, s in zip(got, step)):
        return ("b moved the right way, but a quarter as far as gradient descent takes it: "
                "the loss adds up the errors of the 4 examples, so what do the rows' parts "
                "of b's gradient add up to?")
    if not all(_close(g, s, 1e-4) for g, s in zip(got, step)):
        return ("b has the right shape but is not where one step of gradient descent takes it: "
                f"grad_b must be what b.grad would hold after loss.backward(). {LESSON_6_HINT}")
    return None


def _exercise_6_step(torch):
    """Exercise 6.2's step done with autograd in ``torch`` (torch or gradlab): b's new values."""
    with torch.enable_grad():
        X, T = torch.tensor(LESSON_6_X), torch.tensor(LESSON_6_T)
        b = torch.zeros(3, requires_grad=True)
        ((X + b - T) ** 2).sum().backward()
        return (b - 0.1 * b.grad).detach().tolist()


LESSON_15_HINT = ("Its values are right, so look at what backward sees: which tensor does it "
                  "treat as a constant, though it depends on x (lesson 13)?")


def _normalizes_with_its_gradient(normalize):
    """15.3: ``normalize`` returns x / ||x|| and passes gradcheck on float64 inputs."""
    if not callable(normalize) or _is_tensor(normalize):
        return ("Put the function itself in answer (answer = normalize, no parentheses): the "
                "check calls it and runs gradcheck on it.")
    torch = _library_of_function(normalize)
    with torch.enable_grad():
        for values in ([3.0, 4.0], [1.0, -2.0, 0.5]):
            x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
            out = normalize(x)
            length = sum(v * v for v in values) ** 0.5
            if not _is_tensor(out) or out.shape != x.shape or not all(
                    _close(got, v / length, 1e-9) for got, v in zip(out.tolist(), values)):
                return ("normalize(x) must still return x / ||x|| (for x = [3, 4]: [0.6, "
                        "0.8]): fix its gradient without changing its values.")
            if not torch.autograd.gradcheck(normalize, (x,), raise_exception=False):
                return f"gradcheck still returns False on it. {LESSON_15_HINT}"
    return None


def _library_of_function(fn):
    """The module a function calls ``torch``: gradlab, or torch after ``import torch``."""
    module = getattr(fn, "__globals__", {}).get("torch")
    if getattr(module, "__name__", None) in ("gradlab", "torch"):
        return module
    return importlib.import_module("gradlab")


NOT_REACHED = ("That node needs a freed tensor too, but the pass fails before it gets there: "
               "which node does backward run first?")


EXERCISES = {
    "1.1": Exercise("x.grad for f(x) = x**3 - 2*x at x = 3", 25.0,
                    "Build f from x with requires_grad=True, call f.backward(), then read x.grad. "
                    "By hand: the derivative of x**3 is 3*x**2.",
                    mistakes=((21.0, "You computed f(3) itself; the exercise asks for the "
                                     "gradient x.grad after f.backward()."),)),
    "1.2": Exercise("x.grad for g(x) = (x + 1)**2 at x = 1.5", 5.0,
                    "The derivative of (x + 1)**2 is 2*(x + 1). Did you make x with "
                    "requires_grad=True and call backward() on g?",
                    mistakes=((6.25, "That is g(1.5); read x.grad after g.backward()."),)),
    "2.1": Exercise("x.grad for f = x[0]*x[1] + x[2]**2 at x = [1, 2, 3]", [2.0, 1.0, 6.0],
                    "One partial derivative per element: df/dx0 = x[1], df/dx1 = x[0], "
                    "df/dx2 = 2*x[2]."),
    "2.2": Exercise("[a.grad, b.grad] for f = (a * b).sum() with a = [1, 2], b = [3, 4]",
                    [[3.0, 4.0], [1.0, 2.0]],
                    "Each a[i] is multiplied by b[i], so df/da[i] = b[i]; and the other way round.",
                    mistakes=(([[1.0, 2.0], [3.0, 4.0]], "Swapped: a's gradient is made of b's "
                                                         "values, and b's of a's."),)),
    "3.1": Exercise("the name of (x * 2).exp().grad_fn", "ExpBackward0",
                    "The grad_fn of a result is the backward of the LAST operation that made "
                    "it; name() gives its class name."),
    "3.2": Exercise("the name of the node after it: (x * 2).exp().grad_fn.next_functions[0][0]",
                    "MulBackward0",
                    "next_functions holds one (node, number) pair per input of the node: the "
                    "node that made that input, and which of its outputs it is. Which "
                    "operation made the input of exp?"),
    "3.3": Exercise("is v = x.detach() * 2 a leaf? (True or False)", True,
                    "A tensor is a leaf when it has no grad_fn: print v.grad_fn and "
                    "v.requires_grad."),
    "4.1": Exercise("x.grad for y = 3x + 2, z = 2y², out = z.mean() at x = [0, 1, -1]",
                    [8.0, 20.0, -4.0],
                    "Chain rule: d out/dz = 1/3 for each of 3 elements, dz/dy = 4y, dy/dx = 3. "
                    "Multiply them element by element.",
                    mistakes=(([24.0, 60.0, -12.0], "Close: you forgot the mean's 1/3."),)),
    "5.1": Exercise("x.grad for y = x**2 at x = [1, 2, 3] after "
                    "y.backward(torch.tensor([1., 0.1, 0.01]))", [2.0, 0.4, 0.06],
                    "backward(v) computes the vector-Jacobian product: each element's "
                    "derivative 2*x[i] is multiplied by v[i].",
                    mistakes=(([2.0, 4.0, 6.0], "That is y.sum().backward(): the gradient "
                                                "argument weights each element."),)),
    "6.1": Exercise("s.grad for (X * s).sum() with X = [[1, 2, 3], [4, 5, 6]] and s of shape "
                    "(2, 1)", [[6.0], [15.0]],
                    "Each s[i] multiplies every element of row i of X, so its gradient sums "
                    "what those uses receive; and s.grad has s's shape (2, 1), a list of 2 "
                    "one-element lists.",
                    mistakes=(([[3.0], [3.0]], "You counted the uses of each s[i]: each use "
                                               "also passes on its local derivative, the "
                                               "element of X it multiplies."),)),
    "6.2": Exercise("b after the exercise's hand-written gradient step, fixed", None,
                    LESSON_6_HINT, judge=_bias_step_taken),
    "6.3": Exercise("s.grad for (s * x + s).sum() with s = 3 (0-d) and x = [1, 2, 3, 4]", 14.0,
                    "s is used by every element twice, once in the product and once in the "
                    "sum: its gradient adds up the parts of all these uses.",
                    mistakes=((11.0, "You counted the `+ s` once: it is broadcast to all "
                                     "4 elements of s * x, like the product."),
                              (10.0, "That is the product's part alone: s is also added "
                                     "to every element."),
                              (2.0, "That is one element's part: s is used by every "
                                    "element of x."))),
    "7.1": Exercise("how many times the hook on w fires when two sequences' losses are added "
                    "and backward runs once", 1,
                    "A hook on a leaf runs with what the leaf's input buffer has added up, "
                    "once per backward pass. How many backward passes does the program run?",
                    mistakes=((8.0, "That counts the uses of w: the engine adds their parts "
                                    "in w's input buffer before the hook sees anything."),
                              (2.0, "The hook fires once per backward pass, not once per "
                                    "sequence: how many times does the program call "
                                    "backward()?"))),
    "7.2": Exercise("[parts h1.grad_fn waits for, parts w's AccumulateGrad waits for] with "
                    "loss = h1 + h2 + h3", [2, 3],
                    "A node waits for one part per edge into it: count the nodes whose "
                    "next_functions hold it (consumers(loss.grad_fn) does).",
                    mistakes=(([1, 3], "h1 now has a second consumer: the addition that "
                                       "makes the loss."),
                              ([2, 6], "That counts paths from w to the loss; the engine counts "
                                       "the edges into a node, one per consumer."))),
    "7.3": Exercise("the parts of w.grad from time steps 1, 2 and 3 at w = 0.8, h0 = 1, "
                    "inputs [0.4, -0.2, 0.1], loss = h3",
                    [0.1301588, 0.4446737, 0.3585868],
                    "A hook on w only sees their sum. Give each time step a copy of w of its "
                    "own (three leaves with the same value): each copy's .grad is its part.",
                    mistakes=(([0.3585868, 0.4446737, 0.1301588],
                               "Those are in the order the parts arrive (the last time step "
                               "first): put time step 1 first."),)),
    "8.1": Exercise("x.grad after three backward() calls on freshly built y = x * x at x = 2, "
                    "with no zeroing", 12.0,
                    "Each backward ADDS dy/dx = 2*x into x.grad; nothing resets it.",
                    mistakes=((4.0, "That is the gradient of one backward pass: gradients "
                                    "accumulate across calls."),)),
    "8.2": Exercise("w.grad after the loop of the exercise, reset in every pass", 6.0,
                    "Reset w.grad (w.grad = None, or w.grad.zero_() once it exists) at the "
                    "start of each pass, before backward(), so only the last pass counts.",
                    mistakes=((18.0, "That is three passes added up: reset w.grad in every "
                                     "pass of the loop."),)),
    "9.1": Exercise("does a second backward through y = x.exp() fail without retain_graph? "
                    "(True or False)", True,
                    "What does ExpBackward0 need to compute its gradient? Look at "
                    "y.grad_fn._saved_result, or simply try it in a try/except."),
    "9.2": Exercise("the node at which a second backward through y = x.exp() * x**2 fails",
                    "MulBackward0",
                    "A second backward starts where the first one did, at the output's node. "
                    "What does that node need to compute the gradients of its inputs?",
                    mistakes=(("ExpBackward0", NOT_REACHED), ("PowBackward0", NOT_REACHED))),
    "9.3": Exercise("x.grad after backward(retain_graph=True) then backward() on "
                    "y = x ** 3 at x = 2", 24.0,
                    "retain_graph keeps the saved tensors, so both passes run, and their "
                    "gradients accumulate (dy/dx = 3*x**2 each time).",
                    mistakes=((12.0, "Both passes ran: gradients accumulate into x.grad."),)),
    "11.1": Exercise("y itself, whose y.grad holds dz/dy for y = x * 2, z = y ** 2 at x = 3",
                    None, "Put y in answer once y.grad holds dz/dy.",
                    judge=_kept_intermediate_grad),
    "13.1": Exercise("x.grad for z = x * x.detach() at x = 3", 3.0,
                    "x.detach() has x's value but no graph: to backward it is a constant, and only "
                    "the other factor passes a gradient to x.",
                    mistakes=((6.0, "That would be the gradient of x * x: the detached "
                                    "factor is a constant and gets no gradient."),)),
    "13.2": Exercise("[y.requires_grad, z.requires_grad] in the exercise", [False, True],
                    "Results computed inside torch.no_grad() do not require grad; results "
                    "computed outside it do, if an input does."),
    "14.1": Exercise("the second derivative of x**3 at x = 3", 18.0,
                     "Take dy/dx with autograd.grad(y, x, create_graph=True), then the "
                     "gradient of that. By hand: d²/dx² x**3 = 6*x.",
                     mistakes=((27.0, "That is the first derivative 3*x**2: differentiate "
                                      "dy/dx once more."),)),
    "14.2": Exercise("the third derivative of x**3 at x = 3", 6.0,
                     "Keep create_graph=True on every grad call except the last."),
    "15.1": Exercise("backward passes reverse mode needs for the whole Jacobian of a function "
                     "from 5 inputs to 3 outputs", 3.0,
                     "One backward pass with a one-hot v gives the gradient of one output with "
                     "respect to every input: one row of the Jacobian.",
                     mistakes=((5.0, "That is forward mode's count, one pass per input. A "
                                     "backward pass gives one output's gradient with respect "
                                     "to all the inputs at once."),
                               (15.0, "A backward pass gives more than one entry of the "
                                      "Jacobian: a whole row."),
                               (1.0, "One pass gives one vector-Jacobian product v·J: the whole "
                                     "Jacobian only when there is a single output."))),
    "15.2": Exercise("row 1 of the Jacobian of y = (x0, x0 + x1, x0 + x1 + x2)**2 at "
                     "x = [1, 2, 3]", [6.0, 6.0, 0.0],
                     "Row i of the Jacobian is the gradient of y[i] alone: a backward pass "
                     "with v one-hot at position i (counting from 0, as y's elements).",
                     mistakes=(([0.0, 6.0, 12.0], "That is a column: how every output depends "
                                                  "on x[1]. A row is how one output, y[1], "
                                                  "depends on every input."),
                               ([20.0, 18.0, 12.0], "That is v·J with v all ones, the sum of "
                                                    "the rows: make v one-hot."),
                               ([2.0, 0.0, 0.0], "That is row 0, the gradient of y[0]: rows "
                                                 "count from 0, like y's elements."))),
    "15.3": Exercise("normalize, fixed so that gradcheck passes", None, LESSON_15_HINT,
                     judge=_normalizes_with_its_gradient),
    "16.1": Exercise("x.grad for the while loop of the exercise at x = 0.5", 8.0,
                     "Count how many times the loop doubled y: each doubling multiplies "
                     "the gradient by 2."),
    "16.2": Exercise("x.grad for the branch function of the exercise at x = -2", -1.0,
                     "Only the branch that ran is in the graph. Which one runs for x = -2?"),
    "17.1": Exercise("w after one SGD step (lr = 0.1) on loss = (w * 2 - 1) ** 2 from w = 1",
                     0.6,
                     "SGD does w = w - lr * w.grad; the gradient is 2*(2w - 1)*2 at w = 1.",
                     mistakes=((1.4, "The step goes AGAINST the gradient: w - lr * grad."),)),
    "17.2": Exercise("the optimizer of the exercise's loop, with a learning rate that brings "
                     "the final loss below 0.01", None, LESSON_17_HINT,
                     judge=_trains_below_001),
}


def check(exercise_id: str, answer) -> None:
    """Print a friendly verdict on ``answer`` for exercise ``exercise_id``."""
    print(grade(exercise_id, answer)[1])


def grade(exercise_id: str, answer) -> tuple[str, str]:
    """("correct" | "wrong" | "unanswered", message) for ``answer`` to ``exercise_id``."""
    key = str(exercise_id)
    if key not in EXERCISES:
        known = ", ".join(EXERCISES)
        return "wrong", f"There is no exercise {key!r}. The exercises are: {known}."
    ex = EXERCISES[key]
    head = f"Exercise {key}"
    if answer is None or answer is Ellipsis:
        return "unanswered", (f"{head}: not answered yet. Replace None with your answer "
                              "and run the cell again.")
    if ex.judge is not None:
        try:
            problem = ex.judge(answer)
        except (TypeError, ValueError, RuntimeError, LookupError, AttributeError) as e:
            return "wrong", f"{head}: could not check this answer ({e}). Hint: {ex.hint}"
        if problem is None:
            return "correct", f"{head}: correct, well done!"
        return "wrong", f"{head}: not quite. {problem}"
    try:
        value = plain(answer)
    except (TypeError, ValueError) as e:
        return "wrong", f"{head}: could not read this answer ({e}). Hint: {ex.hint}"
    problem = mismatch(value, ex.expected, ex.tolerance)
    if problem is not None and problem != "value":
        return "wrong", f"{head}: {problem}. Hint: {ex.hint}"
    if problem is None:
        return "correct", f"{head}: correct, well done!"
    for wrong, hint in ex.mistakes:
        if mismatch(value, wrong, ex.tolerance) is None:
            return "wrong", f"{head}: not quite. {hint}"
    return "wrong", f"{head}: not quite. Hint: {ex.hint}"


def plain(answer):
    """A tensor, array, number, string or bool as plain Python (nested lists for tensors)."""
    if isinstance(answer, (str, bool)):
        return answer
    if hasattr(answer, "detach"):  # a gradlab or torch tensor
        return answer.detach().tolist()
    if hasattr(answer, "tolist"):  # numpy arrays and scalars
        return answer.tolist()
    if isinstance(answer, (list, tuple)):
        return [plain(a) for a in answer]
    if _is_number(answer):
        return answer
    raise TypeError(f"expected a tensor, a number, a list, a string or True/False, "
                    f"got {type(answer).__name__}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def mismatch(value, expected, tol):
    """None when ``value`` matches; "value" for wrong numbers; otherwise what is wrong."""
    if isinstance(expected, bool):
        if not isinstance(value, bool):
            return "the answer should be True or False"
        return None if value == expected else "value"
    if isinstance(expected, str):
        if not isinstance(value, str):
            return "the answer should be a string, e.g. \"AddBackward0\""
        return None if value.strip() == expected else "value"
    if isinstance(expected, list):
        if not isinstance(value, list):
            return f"the answer should hold {len(expected)} values, got a single value"
        if len(value) != len(expected):
            return f"the answer should hold {len(expected)} values, got {len(value)}"
        problems = [mismatch(v, e, tol) for v, e in zip(value, expected)]
        shape = next((p for p in problems if p not in (None, "value")), None)
        if shape is not None:
            return shape
        return "value" if any(problems) else None
    if isinstance(value, bool) or not _is_number(value):
        return "the answer should be a number" if not isinstance(value, list) else \
            "the answer should be a single number (a 0-d tensor or a float)"
    return None if _close(value, expected, tol) else "value"


def _close(value, expected, tol) -> bool:
    """``value`` within ``tol`` of ``expected``, relative to it (absolute when it is 0)."""
    return abs(value - expected) <= tol * (abs(expected) or 1.0)  # False for NaN and infinity
