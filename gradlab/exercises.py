"""The lessons' exercises: ``check("1.1", answer)`` prints a friendly verdict with a hint.

Answers may be gradlab tensors, PyTorch tensors, NumPy arrays, numbers, lists, strings or
booleans, so a lesson checks the same way after ``import torch``. A wrong answer gets a hint,
never the solution; ``None`` (the starter answer in every exercise cell) gets "not answered yet",
so a notebook still runs top to bottom.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Exercise:
    """The expected answer (a number, a nested list of numbers, a string or a bool) and a hint.

    ``task`` says what the answer is (the notebook cell has the full text); ``mistakes`` pairs
    likely wrong answers with a hint aimed at each. A number is right when it is within
    ``tolerance`` of the expected one relative to it (element by element in a list), or within
    ``tolerance`` of 0 when 0 is expected. ``between=(low, high)`` replaces ``expected`` when
    every number with ``low <= answer < high`` is right.
    """
    task: str
    expected: object
    hint: str
    mistakes: tuple = field(default=())
    tolerance: float = 1e-4
    between: tuple[float, float] | None = None


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
                    "next_functions holds (node, input number) pairs: the node that made the "
                    "input of exp is the backward of the multiplication."),
    "3.3": Exercise("is v = x.detach() * 2 a leaf? (True or False)", True,
                    "A tensor is a leaf when it has no grad_fn: print v.grad_fn and "
                    "v.requires_grad."),
    "4.1": Exercise("x.grad for y = 3x + 2, z = 2y², out = z.mean() at x = [0, 1, -1]",
                    [8.0, 20.0, -4.0],
                    "Chain rule: d out/dz = 1/3 for each of 3 elements, dz/dy = 4y, dy/dx = 3. "
                    "Multiply them element by element.",
                    mistakes=(([24.0, 60.0, -12.0], "Close: you forgot the mean's 1/3."),)),
    "5.1": Exercise("x.grad after three backward() calls on freshly built y = x * x at x = 2, "
                    "with no zeroing", 12.0,
                    "Each backward ADDS dy/dx = 2*x into x.grad; nothing resets it.",
                    mistakes=((4.0, "That is the gradient of one backward pass: gradients "
                                    "accumulate across calls."),)),
    "5.2": Exercise("w.grad after the loop of the exercise, reset in every pass", 6.0,
                    "Reset w.grad (w.grad = None, or w.grad.zero_() once it exists) at the "
                    "start of each pass, before backward(), so only the last pass counts.",
                    mistakes=((18.0, "That is three passes added up: reset w.grad in every "
                                     "pass of the loop."),)),
    "6.1": Exercise("does a second backward through y = x.exp() fail without retain_graph? "
                    "(True or False)", True,
                    "What does ExpBackward0 need to compute its gradient? Look at "
                    "y.grad_fn._saved_result, or simply try it in a try/except."),
    "6.2": Exercise("does a second backward through y = x + x fail without retain_graph? "
                    "(True or False)", False,
                    "An addition's gradient is just the incoming gradient: does AddBackward0 "
                    "save any tensor that could be freed?"),
    "6.3": Exercise("x.grad after backward(retain_graph=True) then backward() on "
                    "y = x ** 3 at x = 2", 24.0,
                    "retain_graph keeps the saved tensors, so both passes run, and their "
                    "gradients accumulate (dy/dx = 3*x**2 each time).",
                    mistakes=((12.0, "Both passes ran: gradients accumulate into x.grad."),)),
    "7.1": Exercise("y.grad for y = x * 2, z = y ** 2 at x = 3 (after y.retain_grad())", 12.0,
                    "By hand dz/dy = 2*y. Call y.retain_grad() BEFORE z.backward(), then read "
                    "y.grad.",
                    mistakes=((24.0, "That is x.grad (dz/dx); the exercise asks for dz/dy."),)),
    "8.1": Exercise("x.grad for z = x * x.detach() at x = 3", 3.0,
                    "x.detach() has x's value but no graph: to backward it is a constant, and only "
                    "the other factor passes a gradient to x.",
                    mistakes=((6.0, "That would be the gradient of x * x: the detached "
                                    "factor is a constant and gets no gradient."),)),
    "8.2": Exercise("[y.requires_grad, z.requires_grad] in the exercise", [False, True],
                    "Results computed inside torch.no_grad() do not require grad; results "
                    "computed outside it do, if an input does."),
    "9.1": Exercise("x.grad for y = x**2 at x = [1, 2, 3] after "
                    "y.backward(torch.tensor([1., 0.1, 0.01]))", [2.0, 0.4, 0.06],
                    "backward(v) computes the vector-Jacobian product: each element's "
                    "derivative 2*x[i] is multiplied by v[i].",
                    mistakes=(([2.0, 4.0, 6.0], "That is y.sum().backward(): the gradient "
                                                "argument weights each element."),)),
    "10.1": Exercise("the second derivative of x**3 at x = 3", 18.0,
                     "Take dy/dx with autograd.grad(y, x, create_graph=True), then the "
                     "gradient of that. By hand: d²/dx² x**3 = 6*x.",
                     mistakes=((27.0, "That is the first derivative 3*x**2: differentiate "
                                      "dy/dx once more."),)),
    "10.2": Exercise("the third derivative of x**3 at x = 3", 6.0,
                     "Keep create_graph=True on every grad call except the last."),
    "11.1": Exercise("x.grad for the while loop of the exercise at x = 0.5", 8.0,
                     "Count how many times the loop doubled y: each doubling multiplies "
                     "the gradient by 2."),
    "11.2": Exercise("x.grad for the branch function of the exercise at x = -2", -1.0,
                     "Only the branch that ran is in the graph. Which one runs for x = -2?"),
    "12.1": Exercise("w after one SGD step (lr = 0.1) on loss = (w * 2 - 1) ** 2 from w = 1",
                     0.6,
                     "SGD does w = w - lr * w.grad; the gradient is 2*(2w - 1)*2 at w = 1.",
                     mistakes=((1.4, "The step goes AGAINST the gradient: w - lr * grad."),)),
    "12.2": Exercise("the final training loss of your network (below 0.01)", None,
                     "Only the learning rate: try larger values, ten times larger at a time; "
                     "too large and the loss grows instead of shrinking.",
                     between=(0.0, 0.01)),  # a mean squared error is never negative
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
    try:
        value = plain(answer)
    except (TypeError, ValueError) as e:
        return "wrong", f"{head}: could not read this answer ({e}). Hint: {ex.hint}"
    if ex.between is not None:
        if not _is_number(value):
            return "wrong", f"{head}: the answer should be a single number. Hint: {ex.hint}"
        low, high = ex.between
        ok = low <= value < high  # False for NaN
    else:
        problem = _mismatch(value, ex.expected, ex.tolerance)
        if problem is not None and problem != "value":
            return "wrong", f"{head}: {problem}. Hint: {ex.hint}"
        ok = problem is None
    if ok:
        return "correct", f"{head}: correct, well done!"
    for wrong, hint in ex.mistakes:
        if _mismatch(value, wrong, ex.tolerance) is None:
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


def _mismatch(value, expected, tol):
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
        problems = [_mismatch(v, e, tol) for v, e in zip(value, expected)]
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
