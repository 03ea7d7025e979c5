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
import math
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


LESSON_9_STEPS = 5


def _rebuilt_every_step(x):
    """9.1: ``x`` is where the five steps of exercise 9.1's loop take it once the loop builds
    its graph again in every step."""
    if not _is_tensor(x) or not x.is_leaf or not x.requires_grad or x.numel() != 1:
        return ("Put the tensor x itself in answer (answer = x): the check reads where the loop "
                "took it.")
    torch, value = _library(x), x.item()
    if _close(value, _exercise_9_loop(torch, rebuild=True, steps=1), 1e-4):
        return ("x took the first step only: the loop still stops at its second backward. "
                "Run the whole cell again after your fix.")
    if _close(value, _exercise_9_loop(torch, rebuild=False), 1e-4):
        return ("The loop runs now, but the loss it prints never changes and x moves by the "
                "same amount at every step: every backward went through the graph built before "
                "the loop, from the starting x. What has to be computed anew in every step?")
    if not _close(value, _exercise_9_loop(torch, rebuild=True), 1e-4):
        return (f"x is not where {LESSON_9_STEPS} steps of the fixed loop take it: keep its "
                "numbers (x = 1.0, the target 5, the factor 0.02), then run the whole cell "
                "again.")
    return None


def _exercise_9_loop(torch, rebuild, steps=LESSON_9_STEPS):
    """Exercise 9.1's loop in ``torch`` (torch or gradlab): where x ends, with eˣ computed again
    in every step (``rebuild``) or once before the loop and its graph kept."""
    with torch.enable_grad():
        x = torch.tensor(1.0, requires_grad=True)
        grown = x.exp()
        for _ in range(steps):
            x.grad = None
            if rebuild:
                grown = x.exp()
            loss = (grown - 5) ** 2
            loss.backward(retain_graph=not rebuild)
            with torch.no_grad():
                x -= 0.02 * x.grad
    return x.item()


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


LESSON_12_X = (-1.0, 0.5, 2.0)  # exercise 12.1's x
LESSON_12_W = (1.0, -2.0)  # exercise 12.3's w, before its three steps


def _fixed_inplace_error(x):
    """12.1: ``x`` is the exercise's leaf, and ``x.grad`` the gradient of its intended loss,
    sum(exp(x)) + sum(min(exp(x), 3) ** 2), once the in-place error is fixed."""
    if not _is_tensor(x):
        return "Put the tensor x itself in answer (answer = x): the check reads x.grad."
    if x.grad_fn is not None or not x.requires_grad:
        return ("This is not the leaf x of the exercise: put x itself in answer, not a result "
                "computed from it.")
    if not _all_close(x.detach().tolist(), LESSON_12_X):
        return ("x does not hold the exercise's values [-1.0, 0.5, 2.0] any more: fix the code "
                "after x, and leave x itself as it is.")
    if x.grad is None:
        return ("x.grad is None: loss.backward() has not run yet (or it failed). Fix the cell "
                "so that it runs without the error, then run it again.")
    grad = x.grad.tolist()
    exps = [math.exp(v) for v in LESSON_12_X]
    if _all_close(grad, [e + (2 * e * e if e < 3 else 0.0) for e in exps]):
        return None
    capped = [min(e, 3.0) for e in exps]
    if _all_close(grad, [c + 2 * c * c for c in capped]):
        return ("The error is gone, but x.grad is wrong: exp's node computed its gradient "
                "from the capped values. Hiding an in-place change from autograd (.data) "
                "silences the error without fixing it: leave the tensor exp saved unchanged.")
    return ("x.grad is not the gradient of the intended loss. Start again from a fresh x (run "
            "the whole cell once: gradients add up), and leave the tensor exp saved unchanged.")


def _stepped_leaf(w):
    """12.3: ``w`` is the exercise's leaf after its three gradient steps, done in place."""
    if not _is_tensor(w):
        return "Put the tensor w itself in answer (answer = w)."
    if not w.requires_grad:
        return ("w no longer requires grad: a training loop needs its next backward to give "
                "w a gradient. Keep w the leaf made with requires_grad=True.")
    if w.grad_fn is not None:
        return ("w is no longer a leaf (it has a grad_fn): the update made a new tensor that "
                "the next backward would not give a .grad. Update the leaf w in place, with "
                "the update not recorded.")
    expected = list(LESSON_12_W)
    for _ in range(3):
        expected = [v - 0.1 * 2 * (v - 0.5) for v in expected]
    if not _all_close(w.detach().tolist(), expected):
        return ("w is a leaf that requires grad, but not where three steps of the loop take "
                "it: reset w.grad in every step (gradients add up), and run the whole cell "
                "once from the w it makes.")
LESSON_14_X = [1.0, -1.0, 2.0]


def _penalty_reaches_x(x):
    """14.2: ``x`` = [1, -1, 2], whose ``.grad`` holds the gradient of f + (g**2).sum(), with
    f = (x**3).sum() and g its gradient: 3x² + 36x³."""
    if not _is_tensor(x) or not x.is_leaf or not x.requires_grad:
        return ("Put the tensor x itself in answer (answer = x): the check reads x.grad.")
    if x.detach().reshape(-1).tolist() != LESSON_14_X:
        return "Build x = torch.tensor([1.0, -1.0, 2.0], requires_grad=True) as written."
    if x.grad is None:
        return "x.grad is None: call loss.backward() after building the loss."
    grad = x.grad.reshape(-1).tolist()
    f_part = [3 * v**2 for v in LESSON_14_X]
    penalty_part = [36 * v**3 for v in LESSON_14_X]
    if _all_close(grad, f_part):
        return ("x.grad is still the gradient of f alone: the penalty passes no gradient to x. "
                "To this backward, g is a constant: was the pass that made g recorded?")
    if _all_close(grad, penalty_part):
        return "x.grad holds the penalty's gradient only: the loss is f plus the penalty."
    if not _all_close(grad, [a + b for a, b in zip(f_part, penalty_part)]):
        return ("x.grad is not the gradient of the exercise's loss: build x, f, g and loss as "
                "written and call loss.backward() once, then run the whole cell again.")
    return None


def _all_close(values, expected) -> bool:
    return len(values) == len(expected) and all(
        _close(v, e, 1e-4) for v, e in zip(values, expected))


LESSON_16_CHUNKS = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


def _one_chunk_deep(h):
    """16.2: ``h`` is the recurrence's state after every chunk (its value carried along), whose
    graph holds the last chunk's steps only, or none (when detached after the backward)."""
    if not _is_tensor(h) or h.numel() != 1:
        return ("Put the tensor h itself in answer (answer = h): the check reads its value and "
                "its graph.")
    states = _exercise_16_states()
    value = h.item()
    if _close(value, states[1], 1e-4):
        return ("h is the state after two chunks: the loop still stops at the second chunk's "
                "backward. Run the whole cell again after your fix.")
    if _close(value, _exercise_16_states(carry=False)[-1], 1e-4):
        return ("h starts every chunk from 0 again: each chunk should start from the state "
                "the chunk before it reached.")
    if not _close(value, states[-1], 1e-4):
        return ("h is not the state after all three chunks: keep w = 0.5, h = 0.0 and the "
                "chunks as written, then run the whole cell again.")
    steps = 0 if h.grad_fn is None else _count_nodes(h.grad_fn, "MulBackward0")
    if steps > len(LESSON_16_CHUNKS[-1]):
        return (f"h's value is right, but its graph holds {steps} multiplications by w, one "
                "per step since the start: every backward goes through the whole history, and "
                "the graph grows with every chunk. What of h should the next chunk not carry?")
    return None


def _exercise_16_states(carry=True):
    """The recurrence h = 0.5 * h + u's state after each chunk of exercise 16.2 (plain floats),
    carried from chunk to chunk or started again from 0."""
    h, states = 0.0, []
    for chunk in LESSON_16_CHUNKS:
        h = h if carry else 0.0
        for u in chunk:
            h = 0.5 * h + u
        states.append(h)
    return states


def _count_nodes(node, name) -> int:
    """How many nodes called ``name`` the graph from ``node`` holds (each counted once)."""
    seen, stack = set(), [node]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack += [child for child, _ in node.next_functions]
    return sum(node.name() == name for node in seen)
LESSON_13_HINT = ("Keep the cell as written, and make its loop record no graph: model.eval() "
                  "alone does not.")


def _evaluated_without_graph(total):
    """13.3: ``total`` is the loss of exercise 13.3's evaluation loop with dropout off (a tensor
    or a number), and holds no graph."""
    if _is_tensor(total):
        if total.requires_grad or total.grad_fn is not None:
            return ("total records a graph (total.requires_grad is True): model.eval() changes "
                    "what layers such as Dropout do, not whether autograd records operations. "
                    "Which tool of this lesson stops the recording for a block of code?")
        if total.numel() != 1:
            return "total should be one number, the sum of the batches' losses."
        torch, value = _library(total), total.item()
    elif _is_number(total):
        torch, value = importlib.import_module("gradlab"), float(total)
    else:
        return ("Put total itself in answer (answer = total): the check reads whether it "
                "holds a graph, and its value.")
    if _close(value, _exercise_13_loop(torch, train=False), 1e-4):
        return None
    if _close(value, _exercise_13_loop(torch, train=True), 1e-4):
        return ("total holds no graph now, but dropout was on: model.eval() is still needed, "
                "to switch dropout off.")
    return ("total holds no graph, but not the evaluation's loss: keep torch.manual_seed(0), "
            "the model, the batches and model.eval() as written, and run the whole cell again.")


def _exercise_13_loop(torch, train):
    """Exercise 13.3's loop in ``torch`` (torch or gradlab), in training mode or not: its total.
    The caller's random numbers are left as they were."""
    with _random_state_kept(torch), torch.no_grad():
        torch.manual_seed(0)
        nn = torch.nn
        model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(p=0.5), nn.Linear(8, 1))
        model.train(train)
        total = 0
        for k in range(3):
            total = total + model(torch.ones(4, 3) * k).pow(2).mean()
    return total.item()


LESSON_17_STEPS = 50
LESSON_17_HINT = ("Only the learning rate: try larger values, ten times larger at a time; too "
                  "large and the loss grows instead of shrinking.")


def _resets_every_step(optimizer):
    """17.1: ``optimizer`` ran exercise 17.1's loop, fixed: its model is where the loop that
    resets the gradients in every step takes it."""
    params, problem = _exercise_17_params(optimizer)
    if problem is not None:
        return problem
    lr = float(optimizer.param_groups[0]["lr"])
    if lr != 0.1:
        return (f"This optimizer has lr={lr:g}: the loop's learning rate is right as it is. Fix "
                "the bug without changing it, then run the whole cell again.")
    torch = _library(params[0])
    if _ended_at(params, _exercise_17_loop(torch, lr)):
        return None
    if _ended_at(params, _exercise_17_loop(torch, lr, reset=None)):
        return ("The model is where the loop as given takes it: each step still moves the "
                "parameters by the sum of all the gradients so far, since backward() adds into "
                ".grad (lesson 8). What has to happen to .grad in every step?")
    if _ended_at(params, _exercise_17_loop(torch, lr, reset="before step")):
        return ("The model has not moved from its initial weights: step() found no gradients. "
                "They were reset after backward() made them and before step() used them.")
    return (f"The model is not where the fixed loop takes it in {LESSON_17_STEPS} steps from "
            "torch.manual_seed(0): fix only the bug, then run the whole cell again.")


def _trains_below_001(optimizer):
    """17.2: ``optimizer``'s learning rate brings exercise 17.2's loop below a loss of 0.01,
    and ``optimizer`` ran that loop with it."""
    params, problem = _exercise_17_params(optimizer)
    if problem is not None:
        return problem
    lr = float(optimizer.param_groups[0]["lr"])
    weight, bias, loss = _exercise_17_loop(_library(params[0]), lr)
    if not loss < 0.01:  # NaN too
        return (f"With lr={lr:g} the loop ends at a loss of {loss:.4g}, not below 0.01. "
                f"Hint: {LESSON_17_HINT}")
    if not _ended_at(params, (weight, bias, loss)):
        return (f"lr={lr:g} gets below 0.01, but this optimizer's model is not where the loop "
                f"takes it in {LESSON_17_STEPS} steps from torch.manual_seed(0): change only "
                "the learning rate, then run the whole cell again.")
    return None


def _exercise_17_params(optimizer):
    """The parameters of lesson 17's exercise optimizer ``optimizer`` (weight, bias), and what
    is wrong with it if it is not one."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups:
        return None, ("Put the optimizer itself in answer (answer = optimizer): the check reads "
                      "its learning rate and runs the exercise's loop again with it.")
    params = [p for group in groups for p in group["params"]]
    if len(groups) != 1 or [tuple(p.shape) for p in params] != [(1, 1), (1,)]:
        return None, ("This optimizer does not train the exercise's model: keep "
                      "torch.optim.SGD(model.parameters(), lr=...) with model = nn.Linear(1, 1).")
    return params, None


def _ended_at(params, run) -> bool:
    """The weight and bias ``params`` hold the values where the loop ``run`` ended."""
    trained = [v for p in params for v in p.detach().reshape(-1).tolist()]
    return all(_close(a, b, 1e-4) for a, b in zip(trained, run[:2]))


def _exercise_17_loop(torch, lr, reset="start"):
    """Lesson 17's exercise loop on the lesson's data with learning rate ``lr``, in ``torch``
    (torch or gradlab), resetting the gradients at the start of every step, or never
    (``reset=None``), or between backward() and step(): the final weight, bias and loss. The
    caller's random numbers are left as they were."""
    with _random_state_kept(torch), torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's overflow warnings when lr is far too large
        torch.manual_seed(0)
        x = torch.linspace(0, 1, 20).unsqueeze(1)
        y = 3 * x + 0.5 + 0.05 * torch.randn(20, 1)
        torch.manual_seed(0)
        model = torch.nn.Linear(1, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        for _ in range(LESSON_17_STEPS):
            if reset == "start":
                optimizer.zero_grad()
            loss = torch.nn.MSELoss()(model(x), y)
            loss.backward()
            if reset == "before step":
                optimizer.zero_grad()
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
def _tracked_float_leaf(w):
    """1.2: ``w`` is the fixed ``[1, 2, 3]`` leaf, whose ``w.grad`` holds d loss/dw for
    loss = (w ** 2).sum()."""
    if not _is_tensor(w):
        return ("Put the tensor w itself in answer (answer = w): the check reads w.grad and how "
                "w was made.")
    if w.grad_fn is not None:  # checked first: reading a non-leaf's .grad would warn
        return ("This w was computed from another tensor (it has a grad_fn), and backward() "
                "fills in .grad only for the tensors you create: make w itself the tracked one.")
    if not w.requires_grad:
        return ("w does not require grad, so backward() has nothing to fill in for it. Read the "
                "first error message again.")
    if plain(w) != [1.0, 2.0, 3.0]:
        return "Keep w's values 1, 2, 3 as written: change only how w is created."
    if w.grad is None:
        return ("w is tracked, but w.grad is still None: compute loss from this w and call "
                "loss.backward().")
    if plain(w.grad) != [2.0, 4.0, 6.0]:
        return ("w.grad is not the gradient of one backward pass through loss: create w "
                "again, then compute loss and call loss.backward() once.")
    return None


EXERCISE_8_2_GRADS = [2.0, 8.0, 18.0]  # d/dw (w * k) ** 2 = 2 * k**2 * w at w = 1, k = 1, 2, 3
EXERCISE_8_2_HINT = ("Put the list grads itself in answer (answer = grads), after the fixed "
                     "loop has run: one gradient per pass, three in all.")


def _kept_each_pass_gradient(grads):
    """8.2: ``grads`` holds the gradient of each of the loop's three passes, each a value of its
    own (not one tensor that backward() and zero_() kept changing)."""
    if not isinstance(grads, list) or len(grads) != 3:
        return EXERCISE_8_2_HINT
    tensors = [g for g in grads if _is_tensor(g)]
    if any(a is b for i, a in enumerate(tensors) for b in tensors[i + 1:]):
        return ("Some entries of grads are one and the same tensor (try grads[0] is grads[1]). "
                "What do backward() and zero_() do to the tensor that is already in w.grad?")
    values = [plain(g) for g in grads]
    if not all(_is_number(v) for v in values):
        return EXERCISE_8_2_HINT
    if all(_close(v, e, 1e-4) for v, e in zip(values, EXERCISE_8_2_GRADS)):
        return None
    if all(_close(v, e, 1e-4) for v, e in zip(values, [2.0, 10.0, 28.0])):
        return ("Each entry holds the passes so far added up: between one pass's backward and "
                "the next, the old gradient has to go.")
    return ("These are not the gradients of the loop's three passes: keep loss = "
            "(w * (step + 1)) ** 2 from w = 1.0, and change only how each gradient is stored "
            "or reset.")


LESSON_10_STEPS = 20
LESSON_10_HINT = ("Keep the loop as it is, but add to total_loss each step's loss as a value "
                  "with no graph: a Python number, or a tensor cut from the graph (lesson 13).")


def _sums_losses_without_graph(total):
    """10.2: ``total`` is the sum of the losses of exercise 10.2's loop, and holds no graph."""
    if _is_tensor(total):
        if total.grad_fn is not None:
            return ("total_loss still has a grad_fn: adding loss itself links every step's "
                    "graph to total_loss, which keeps them all alive.")
        if total.requires_grad or total.numel() != 1:
            return ("total_loss should be a single number that requires no grad, like the "
                    "loss's value at each step.")
        library, value = _library(total), total.item()
    elif _is_number(total):
        library, value = importlib.import_module(__name__.partition(".")[0]), total
    else:
        return ("Put total_loss itself in answer (answer = total_loss): the check runs the "
                "exercise's loop again and compares the sums.")
    if not _close(value, _exercise_10_loop(library), 1e-4):
        return (f"total_loss holds no graph, but {value:.4g} is not the sum of the "
                f"{LESSON_10_STEPS} losses of the loop from torch.manual_seed(1): add every "
                "step's loss, then run the whole cell again.")
    return None


def _exercise_10_loop(torch) -> float:
    """The sum of the losses of exercise 10.2's loop, run in ``torch`` (torch or gradlab). The
    caller's random numbers are left as they were."""
    with _random_state_kept(torch), torch.enable_grad():
        torch.manual_seed(1)
        net = torch.nn.Linear(3, 1)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        total = 0.0
        for _ in range(LESSON_10_STEPS):
            batch = torch.randn(16, 3)
            target = (batch ** 2).sum(dim=1, keepdim=True)
            optimizer.zero_grad()
            loss = ((net(batch) - target) ** 2).mean()
            loss.backward()
            optimizer.step()
            total += loss.item()
    return total


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
    "1.1": Exercise("x.grad after the exercise's cell, where z is made from y.item()", 6.0,
                    "Which paths lead from loss back to x? Print z.requires_grad and "
                    "z.grad_fn: is z part of x's graph?",
                    mistakes=((24.0, "That counts a path through z. z was made from a Python "
                                     "number: does it still remember x?"),
                              (36.0, "That is the value of loss itself; the exercise asks for "
                                     "x.grad after loss.backward()."))),
    "1.2": Exercise("the fixed w of the exercise, whose w.grad holds d loss/dw", None,
                    "Read the error messages: each says what is wrong with w.",
                    judge=_tracked_float_leaf),
    "2.1": Exercise("the shape of x.grad for loss = x.sum(dim=1).mean() with x of shape (4, 3)",
                    [4, 3],
                    "A .grad belongs to one tensor, whatever the shapes of the results in "
                    "between: which tensor's .grad is it, and what shape was that tensor made "
                    "with?",
                    mistakes=(([3, 4], "The right numbers, in the wrong order: print the shape "
                                       "of the tensor this .grad belongs to."),)),
    "2.2": Exercise("x.grad for f = x[0] * x[3] + x[:2].mean() at x = [1, 2, 3, 4]",
                    [4.5, 0.5, 0.0, 1.0],
                    "One partial derivative per element: for each element, add up what each "
                    "term of f contributes when only that element changes.",
                    mistakes=(([4.0, 0.5, 0.0, 1.0], "x[0] appears in two terms of f: both "
                                                     "contributions add up."),
                              ([5.0, 1.0, 0.0, 1.0], "A mean divides by the number of "
                                                     "elements it averages, and so does its "
                                                     "gradient."))),
    "3.1": Exercise("[grad_fn nodes, AccumulateGrad nodes] in the graph of the exercise's y",
                    [5, 2],
                    "List the operations in the order they ran and ask, for each, whether it "
                    "was recorded; then ask which leaves get an AccumulateGrad node, and how "
                    "many each. nodes(y) from the lesson checks your count.",
                    mistakes=(([6, 2], "One grad_fn node too many: is an operation recorded "
                                       "when none of its inputs requires grad?"),
                              ([5, 3], "One AccumulateGrad node too many: which leaves get one, "
                                       "and does a leaf used twice get a second?"),
                              ([6, 3], "One node too many of each kind: is an operation on "
                                       "tensors that do not require grad recorded, and does a "
                                       "leaf used twice get a second AccumulateGrad?"))),
    "3.2": Exercise("the node names from u.grad_fn along next_functions[0][0] down to the "
                    "AccumulateGrad node (not included), for u = (x * 2).exp().sum()",
                    ["SumBackward0", "ExpBackward0", "MulBackward0"],
                    "grad_fn is the node of the operation that made the tensor, and each "
                    "next_functions entry leads to the node that made that node's input. Write "
                    "the names as .name() prints them.",
                    mistakes=((["MulBackward0", "ExpBackward0", "SumBackward0"],
                               "That is the order in which the forward pass ran the "
                               "operations. Which operation made u itself?"),)),
    "4.1": Exercise("[parts, their sum]: the incoming gradient of ExpBackward0 for h = a.exp(), "
                    "out = h * h * h at a = 1", [3, 22.16717],
                    "Count the edges into ExpBackward0: each input of each multiplication that is "
                    "h sends one part, the gradient of out with respect to that input. Add the "
                    "parts; ExpBackward0's own derivative comes after.",
                    mistakes=(([3, 60.25661], "That is what ExpBackward0 sends on to a: its "
                                              "incoming gradient times its local derivative. "
                                              "The exercise asks for what it receives."),
                              ([2, 14.77811], "h * h * h is two multiplications, but count the "
                                              "edges into ExpBackward0: one per input of a "
                                              "multiplication that is h.")),
                    tolerance=1e-3),
    "4.2": Exercise("x.grad for out = (x @ W).sum() with x = ones(2, 3), "
                    "W = [[1, 2], [3, 4], [5, 6]]", [[3.0, 7.0, 11.0], [3.0, 7.0, 11.0]],
                    "SumBackward0 sends a (2, 2) matrix of ones to x @ W; MmBackward0 multiplies "
                    "it by W transposed, on the side that gives x's shape, (2, 3).",
                    mistakes=(([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],
                               "That is the gradient SumBackward0 sends, in x's shape: "
                               "MmBackward0 still has to multiply it by W transposed."),)),
    "4.3": Exercise("the hand-written grad_W for out = (x @ W).mean(), fixed",
                    [[1.25, 1.25], [1.75, 1.75], [2.25, 2.25]],
                    "A gradient has its input's shape: W.grad is (3, 2), so which product of x "
                    "(2, 3) and grad_y (2, 2) has that shape? And a mean of n elements gives "
                    "each 1/n of the gradient it receives.",
                    mistakes=(([[5.0, 5.0], [7.0, 7.0], [9.0, 9.0]],
                               "The matrix product is right now, the mean's rule is not: out is "
                               "the mean of every element of x @ W."),
                              ([[2.5, 2.5], [3.5, 3.5], [4.5, 4.5]],
                               "Close: count the elements of x @ W that the mean averages."))),
    "5.1": Exercise("x.grad for y = x**2 at x = [1, 2, 3] after "
                    "y.backward(torch.tensor([1., 0.1, 0.01]))", [2.0, 0.4, 0.06],
                    "backward(v) computes the vector-Jacobian product: each element's "
                    "derivative 2*x[i] is multiplied by v[i].",
                    mistakes=(([2.0, 4.0, 6.0], "That is y.sum().backward(): the gradient "
                                                "argument weights each element."),)),
    "5.2": Exercise("x.grad for y = x / x.sum() at x = [1, 2, 3] after "
                    "y.backward(torch.ones_like(y))", [0.0, 0.0, 0.0],
                    "With v all ones, backward gives the gradient of y.sum(). Every y[i] "
                    "depends on every x[j]: what is y.sum() for any x?",
                    mistakes=(([5 / 36, 4 / 36, 3 / 36],
                               "Those are only the Jacobian's diagonal entries dy[i]/dx[i]: "
                               "x[j] also changes every other y[i] through x.sum()."),
                              ([1 / 6, 1 / 6, 1 / 6],
                               "That treats x.sum() as a constant, but it depends on x "
                               "too."))),
    "5.3": Exercise("[shape of v in y.backward(v), shape of W.grad] for y = torch.ones(2, 3) "
                    "@ W with W of shape (3, 5)", [[2, 5], [3, 5]],
                    "v holds one weight per element of the tensor backward starts from; the "
                    "gradient has one entry per element of the tensor it belongs to. Work "
                    "out the shape of y first.",
                    mistakes=(([[3, 5], [3, 5]], "v weights the elements of the tensor "
                                                 "backward starts from: which one is it?"),
                              ([[2, 5], [2, 5]], "A .grad has one entry per element of its "
                                                 "own tensor: whose .grad is it?"))),
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
    "8.1": Exercise("x.grad after the exercise's loop, which drops x.grad in its second pass",
                    10.0,
                    "Follow x.grad through the loop pass by pass: what does each backward "
                    "add, and in which pass is the gradient dropped?",
                    mistakes=((15.0, "That adds up all three passes, but one of them starts "
                                     "by dropping x.grad."),
                              (5.0, "That is one pass's gradient; the reset runs in one pass "
                                    "only, and the passes after it accumulate again."))),
    "8.2": Exercise("the list grads of the fixed loop, one gradient per pass", None,
                    EXERCISE_8_2_HINT, judge=_kept_each_pass_gradient),
    "9.1": Exercise("x itself, after the five steps of the exercise's loop, fixed to build its "
                    "graph again in every step", None,
                    "Put x in answer once all five steps of the loop run and its loss falls.",
                    judge=_rebuilt_every_step),
    "9.2": Exercise("the node at which a second backward through y = x.exp() * x**2 fails",
                    "MulBackward0",
                    "A second backward starts where the first one did, at the output's node. "
                    "What does that node need to compute the gradients of its inputs?",
                    mistakes=(("ExpBackward0", NOT_REACHED), ("PowBackward0", NOT_REACHED))),
    "10.1": Exercise("the bytes the tensors saved by AddmmBackward0 take, for "
                     "torch.nn.Linear(5, 2) on a batch x = torch.randn(10, 5)", 200.0,
                     "Only what some gradient needs is saved: which tensor does the weight's "
                     "gradient need, and which does the input's? And x needs no gradient. "
                     "A float32 element takes 4 bytes.",
                     mistakes=((240.0, "That counts the weight too: it is saved only for the "
                                       "gradient of x, and x does not require grad."),
                               (40.0, "That is the weight alone: the weight's gradient is "
                                      "computed from the layer's input, so that is what is "
                                      "kept."),
                               (208.0, "The bias is not saved: its gradient is the incoming "
                                       "gradient summed over the batch, which needs no saved "
                                       "tensor."),
                               (50.0, "That counts elements: how many bytes does each float32 "
                                      "element take?"))),
    "10.2": Exercise("total_loss after exercise 10.2's loop, fixed so that it holds no graph",
                     None, LESSON_10_HINT, judge=_sums_losses_without_graph),
    "11.1": Exercise("y itself, whose y.grad holds dz/dy for y = x * 2, z = y ** 2 at x = 3",
                    None, "Put y in answer once y.grad holds dz/dy.",
                    judge=_kept_intermediate_grad),
    "11.2": Exercise("[y.grad, x.grad] after two passes of z = y ** 2, y = x * 2 at x = 3, "
                     "y retaining its gradient and x.grad = None between the passes",
                     [24.0, 24.0],
                     "Follow each .grad through the cell: what does each pass add, and which "
                     "of the two does x.grad = None reset?",
                     mistakes=(([12.0, 24.0], "x.grad was reset between the passes, but nothing "
                                              "reset y.grad: what does a second pass do to a "
                                              ".grad that is already there (lesson 8)?"),
                               ([24.0, 48.0], "x.grad = None dropped x's gradient of the first "
                                              "pass: only the second pass counts for x."),
                               ([12.0, 48.0], "x.grad = None acts on x.grad alone, and before "
                                              "the second pass: follow each .grad through the "
                                              "cell again."))),
    "12.1": Exercise("x itself, once the exercise's cell runs backward without the in-place "
                     "error and x.grad is the gradient of its intended loss", None,
                     "Which node saved the tensor that was changed in place? Leave that tensor "
                     "as it was.", judge=_fixed_inplace_error),
    "12.2": Exercise("y._version at the end of the exercise's code", 3,
                     "Each in-place operation on y, on a view of y or on y.detach() adds 1 to "
                     "the one version counter they share; a new tensor starts at 0 with a "
                     "counter of its own.",
                     mistakes=((1, "Only y += 1 counted? A view (y[1:]) and y.detach() share "
                                   "y's memory and its version counter."),
                               (4, "c = y.clone() has memory and a version counter of its "
                                   "own: c.mul_(2) does not count for y."))),
    "12.3": Exercise("w itself, after the exercise's three gradient steps done in place", None,
                     "Update the leaf w in place where gradients are not recorded, as "
                     "optimizers do.", judge=_stepped_leaf),
    "13.1": Exercise("x.grad for z = x * x.detach() at x = 3", 3.0,
                    "x.detach() has x's value but no graph: to backward it is a constant, and only "
                    "the other factor passes a gradient to x.",
                    mistakes=((6.0, "That would be the gradient of x * x: the detached "
                                    "factor is a constant and gets no gradient."),)),
    "13.2": Exercise("x.grad for z = y * x with y = x * 2 computed in no_grad, at x = 1", 2.0,
                    "y was computed inside torch.no_grad(): it holds a value but no graph, so to "
                    "z's backward it is a constant factor.",
                    mistakes=((4.0, "That would be the gradient if y were recorded as a function "
                                    "of x: y comes from no_grad(), so it is a constant."),)),
    "13.3": Exercise("total of the exercise's evaluation loop, holding no graph", None,
                     LESSON_13_HINT, judge=_evaluated_without_graph),
    "14.1": Exercise("x.grad after dy_dx.backward(), dy_dx from autograd.grad(y, x, "
                     "create_graph=True), y = x**3 at x = 3", 18.0,
                     "Which call writes into x.grad, and the derivative of what does it write?",
                     mistakes=((27.0, "That is dy/dx itself: autograd.grad returned it in dy_dx "
                                      "and wrote nothing into x.grad. What does dy_dx.backward() "
                                      "add there?"),
                               (45.0, "autograd.grad returns its gradient and leaves x.grad "
                                      "alone: only dy_dx.backward() writes into x.grad."))),
    "14.2": Exercise("x itself, whose x.grad holds the gradient of f + (g**2).sum() in the "
                     "exercise, the penalty fixed", None,
                     "Put x in answer once the penalty changes x.grad.",
                     judge=_penalty_reaches_x),
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
    "16.1": Exercise("[x.grad for x = 0.3, x.grad for x = 5.0, x.grad for x = 12.0] after "
                     "double_until_ten(x).backward()", [64.0, 2.0, 1.0],
                     "Count the multiplications each start records: the loop tests y < 10 "
                     "before each doubling, and each doubling multiplies the gradient by 2.",
                     mistakes=(([64.0, 2.0, 0.0], "For 12.0 the loop records nothing and y is "
                                                  "x itself: what is the derivative of x with "
                                                  "respect to x?"),)),
    "16.2": Exercise("the final h of the exercise's loop over chunks, fixed so that each "
                     "backward goes through its own chunk only", None,
                     "Put h in answer once every chunk's backward runs.",
                     judge=_one_chunk_deep),
    "17.1": Exercise("the optimizer of the exercise's loop, with its bug fixed", None,
                     "Put the optimizer in answer once the loop's loss falls.",
                     judge=_resets_every_step),
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
