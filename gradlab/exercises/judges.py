"""The judges of the exercises checked by what the student's objects did, lesson by lesson.

A judge gets the answer as the student gave it (a tensor, an optimizer, a function, on gradlab
or, after ``import torch``, on PyTorch) and returns a hint aimed at what is wrong with it, or
None when it is right. Judges that rerun an exercise's loop leave the student's random numbers
as they were.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import math
import warnings

from .values import close, is_number, plain


# ---- shared by the judges -----------------------------------------------------------------------

def _library(tensor):
    """The module whose tensor ``tensor`` is: gradlab or torch (after ``import torch``)."""
    return importlib.import_module(type(tensor).__module__.partition(".")[0])


def _library_of_function(fn):
    """The module a function calls ``torch``: gradlab, or torch after ``import torch``."""
    module = getattr(fn, "__globals__", {}).get("torch")
    if getattr(module, "__name__", None) in ("gradlab", "torch"):
        return module
    return importlib.import_module("gradlab")


def _is_tensor(obj) -> bool:
    return hasattr(obj, "grad_fn") and hasattr(obj, "retains_grad")


def _all_close(values, expected) -> bool:
    return len(values) == len(expected) and all(
        close(v, e, 1e-4) for v, e in zip(values, expected))


def _count_nodes(node, name) -> int:
    """How many nodes called ``name`` the graph from ``node`` holds (each counted once)."""
    seen, stack = set(), [node]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack += [child for child, _ in node.next_functions]
    return sum(node.name() == name for node in seen)


@contextlib.contextmanager
def _random_state_kept(torch):
    """Put ``torch``'s (or gradlab's) random number generator back as it was, on leaving."""
    if hasattr(torch, "get_rng_state"):
        generator = torch
    else:
        from .. import _random as generator
    state = generator.get_rng_state()
    try:
        yield
    finally:
        generator.set_rng_state(state)


# ---- lesson 1 -----------------------------------------------------------------------------------

def tracked_float_leaf(w):
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


# ---- lesson 6 -----------------------------------------------------------------------------------

LESSON_6_X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [0.0, 1.0, 0.0]]

LESSON_6_T = [[2.0, 2.0, 2.0], [5.0, 5.0, 5.0], [8.0, 8.0, 8.0], [1.0, 1.0, 1.0]]

LESSON_6_HINT = ("b.grad has b's shape (3,): each b[j] is added to every row, so its gradient "
                 "gathers what every row's use of it receives. Which dim of grad_Y holds the "
                 "examples?")


def bias_step_taken(b):
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
    if all(close(g, 0.0, 1e-4) for g in got):
        return "b is still all zeros: run the whole cell, with the step's last line."
    if all(close(g, s / 4, 1e-4) for g, s in zip(got, step)):
        return ("b moved the right way, but a quarter as far as gradient descent takes it: "
                "the loss adds up the errors of the 4 examples, so what do the rows' parts "
                "of b's gradient add up to?")
    if not all(close(g, s, 1e-4) for g, s in zip(got, step)):
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


# ---- lesson 8 -----------------------------------------------------------------------------------

EXERCISE_8_2_GRADS = [2.0, 8.0, 18.0]  # d/dw (w * k) ** 2 = 2 * k**2 * w at w = 1, k = 1, 2, 3

EXERCISE_8_2_HINT = ("Put the list grads itself in answer (answer = grads), after the fixed "
                     "loop has run: one gradient per pass, three in all.")


def kept_each_pass_gradient(grads):
    """8.2: ``grads`` holds the gradient of each of the loop's three passes, each a value of its
    own (not one tensor that backward() and zero_() kept changing)."""
    if not isinstance(grads, list) or len(grads) != 3:
        return EXERCISE_8_2_HINT
    tensors = [g for g in grads if _is_tensor(g)]
    if any(a is b for i, a in enumerate(tensors) for b in tensors[i + 1:]):
        return ("Some entries of grads are one and the same tensor (try grads[0] is grads[1]). "
                "What do backward() and zero_() do to the tensor that is already in w.grad?")
    values = [plain(g) for g in grads]
    if not all(is_number(v) for v in values):
        return EXERCISE_8_2_HINT
    if all(close(v, e, 1e-4) for v, e in zip(values, EXERCISE_8_2_GRADS)):
        return None
    if all(close(v, e, 1e-4) for v, e in zip(values, [2.0, 10.0, 28.0])):
        return ("Each entry holds the passes so far added up: between one pass's backward and "
                "the next, the old gradient has to go.")
    return ("These are not the gradients of the loop's three passes: keep loss = "
            "(w * (step + 1)) ** 2 from w = 1.0, and change only how each gradient is stored "
            "or reset.")


# ---- lesson 9 -----------------------------------------------------------------------------------

LESSON_9_STEPS = 5


def rebuilt_every_step(x):
    """9.1: ``x`` is where the five steps of exercise 9.1's loop take it once the loop builds
    its graph again in every step."""
    if not _is_tensor(x) or not x.is_leaf or not x.requires_grad or x.numel() != 1:
        return ("Put the tensor x itself in answer (answer = x): the check reads where the loop "
                "took it.")
    torch, value = _library(x), x.item()
    if close(value, _exercise_9_loop(torch, rebuild=True, steps=1), 1e-4):
        return ("x took the first step only: the loop still stops at its second backward. "
                "Run the whole cell again after your fix.")
    if close(value, _exercise_9_loop(torch, rebuild=False), 1e-4):
        return ("The loop runs now, but the loss it prints never changes and x moves by the "
                "same amount at every step: every backward went through the graph built before "
                "the loop, from the starting x. What has to be computed anew in every step?")
    if not close(value, _exercise_9_loop(torch, rebuild=True), 1e-4):
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


# ---- lesson 10 ----------------------------------------------------------------------------------

LESSON_10_STEPS = 20

LESSON_10_HINT = ("Keep the loop as it is, but add to total_loss each step's loss as a value "
                  "with no graph: a Python number, or a tensor cut from the graph (lesson 13).")


def sums_losses_without_graph(total):
    """10.2: ``total`` is the sum of the losses of exercise 10.2's loop, and holds no graph."""
    if _is_tensor(total):
        if total.grad_fn is not None:
            return ("total_loss still has a grad_fn: adding loss itself links every step's "
                    "graph to total_loss, which keeps them all alive.")
        if total.requires_grad or total.numel() != 1:
            return ("total_loss should be a single number that requires no grad, like the "
                    "loss's value at each step.")
        library, value = _library(total), total.item()
    elif is_number(total):
        library, value = importlib.import_module(__name__.partition(".")[0]), total
    else:
        return ("Put total_loss itself in answer (answer = total_loss): the check runs the "
                "exercise's loop again and compares the sums.")
    if not close(value, _exercise_10_loop(library), 1e-4):
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


# ---- lesson 11 ----------------------------------------------------------------------------------

def kept_intermediate_grad(y):
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
    if y.grad.numel() != 1 or not close(y.grad.item(), 12.0, 1e-4):
        return ("y kept a gradient, but not dz/dy of the exercise: build x = 3.0, y = x * 2 "
                "and z = y ** 2 as written, then call z.backward().")
    return None


# ---- lesson 12 ----------------------------------------------------------------------------------

LESSON_12_X = (-1.0, 0.5, 2.0)  # exercise 12.1's x

LESSON_12_W = (1.0, -2.0)  # exercise 12.3's w, before its three steps


def fixed_inplace_error(x):
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


def stepped_leaf(w):
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


# ---- lesson 13 ----------------------------------------------------------------------------------

LESSON_13_HINT = ("Keep the cell as written, and make its loop record no graph: model.eval() "
                  "alone does not.")


def evaluated_without_graph(total):
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
    elif is_number(total):
        torch, value = importlib.import_module("gradlab"), float(total)
    else:
        return ("Put total itself in answer (answer = total): the check reads whether it "
                "holds a graph, and its value.")
    if close(value, _exercise_13_loop(torch, train=False), 1e-4):
        return None
    if close(value, _exercise_13_loop(torch, train=True), 1e-4):
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


# ---- lesson 14 ----------------------------------------------------------------------------------

LESSON_14_X = [1.0, -1.0, 2.0]


def penalty_reaches_x(x):
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


# ---- lesson 15 ----------------------------------------------------------------------------------

LESSON_15_HINT = ("Its values are right, so look at what backward sees: which tensor does it "
                  "treat as a constant, though it depends on x (lesson 13)?")


def normalizes_with_its_gradient(normalize):
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
                    close(got, v / length, 1e-9) for got, v in zip(out.tolist(), values)):
                return ("normalize(x) must still return x / ||x|| (for x = [3, 4]: [0.6, "
                        "0.8]): fix its gradient without changing its values.")
            if not torch.autograd.gradcheck(normalize, (x,), raise_exception=False):
                return f"gradcheck still returns False on it. {LESSON_15_HINT}"
    return None


# ---- lesson 16 ----------------------------------------------------------------------------------

LESSON_16_CHUNKS = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


def one_chunk_deep(h):
    """16.2: ``h`` is the recurrence's state after every chunk (its value carried along), whose
    graph holds the last chunk's steps only, or none (when detached after the backward)."""
    if not _is_tensor(h) or h.numel() != 1:
        return ("Put the tensor h itself in answer (answer = h): the check reads its value and "
                "its graph.")
    states = _exercise_16_states()
    value = h.item()
    if close(value, states[1], 1e-4):
        return ("h is the state after two chunks: the loop still stops at the second chunk's "
                "backward. Run the whole cell again after your fix.")
    if close(value, _exercise_16_states(carry=False)[-1], 1e-4):
        return ("h starts every chunk from 0 again: each chunk should start from the state "
                "the chunk before it reached.")
    if not close(value, states[-1], 1e-4):
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


# ---- lesson 17 ----------------------------------------------------------------------------------

LESSON_17_STEPS = 50

LESSON_17_HINT = ("Only the learning rate: try larger values, ten times larger at a time; too "
                  "large and the loss grows instead of shrinking.")


def resets_every_step(optimizer):
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


def trains_below_001(optimizer):
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
    return all(close(a, b, 1e-4) for a, b in zip(trained, run[:2]))


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


# ---- lesson 18 ----------------------------------------------------------------------------------

LESSON_18_HINT = ("backward returns one gradient per input of forward, in forward's order: "
                  "gradcheck's message names the input whose gradient is wrong.")


def _library_of_class(cls):
    """gradlab or torch: whose autograd.Function ``cls`` subclasses (None when it is none)."""
    for base in getattr(cls, "__mro__", ())[1:]:
        top = base.__module__.partition(".")[0]
        if base.__name__ == "Function" and top in ("gradlab", "torch"):
            return importlib.import_module(top)
    return None


def differentiates_mul_square(cls):
    """18.2: ``cls`` is a custom Function computing x * w**2 whose backward passes gradcheck."""
    torch = _library_of_class(cls)
    if torch is None:
        return ("Put the class itself in answer (answer = MulSquare, no parentheses, no "
                ".apply): the check runs gradcheck on it.")
    with torch.enable_grad():
        for xs, ws in (([0.5, 1.0, 2.0], [3.0, -1.0, 0.5]), ([-2.0, 0.25], [1.5, 2.0])):
            x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
            w = torch.tensor(ws, dtype=torch.float64, requires_grad=True)
            out = cls.apply(x, w)
            if not _is_tensor(out) or not _all_close(out.tolist(),
                                                     [a * b * b for a, b in zip(xs, ws)]):
                return ("MulSquare.apply(x, w) must still return x * w**2: fix its backward, "
                        "not its forward.")
            if not torch.autograd.gradcheck(cls.apply, (x, w), raise_exception=False):
                return f"gradcheck still returns False on it. Hint: {LESSON_18_HINT}"
    return None


# ---- lesson 19 ----------------------------------------------------------------------------------

LESSON_19_HINT = ("Each forward pass gives one column of the Jacobian: which direction u does pass "
                  "j need, and how are the columns put side by side?")

LESSON_19_CASES = (  # (f, x, f's Jacobian at x): 3 inputs to 2 outputs, and 2 inputs to 4
    (lambda torch, x: torch.stack([x[0] * x[1], x[1] * x[2]]), [1.0, 2.0, 3.0],
     [[2.0, 1.0, 0.0], [0.0, 3.0, 2.0]]),
    (lambda torch, x: torch.stack([x.sum(), x[0] ** 2, 3 * x[1], x.prod()]), [2.0, -1.0],
     [[1.0, 1.0], [4.0, 0.0], [0.0, 3.0], [-1.0, 2.0]]),
)


def builds_jacobian_by_columns(jacobian_fwd):
    """19.3: ``jacobian_fwd(f, x)`` returns f's Jacobian at a 1-D ``x``, with one forward pass
    (a call of f on a dual tensor) per element of x."""
    if not callable(jacobian_fwd) or _is_tensor(jacobian_fwd):
        return ("Put the function itself in answer (answer = jacobian_fwd, no parentheses): the "
                "check calls it on functions of its own.")
    torch = _library_of_function(jacobian_fwd)
    for fn, values, expected in LESSON_19_CASES:
        dual_calls = []

        def counted(x, fn=fn, dual_calls=dual_calls):
            dual_calls.append(torch.autograd.forward_ad.unpack_dual(x).tangent is not None)
            return fn(torch, x)

        got = jacobian_fwd(counted, torch.tensor(values, dtype=torch.float64))
        if not any(dual_calls):
            return ("f never received a tangent, so this is not forward mode: give each pass "
                    "its x as a dual tensor, made with make_dual inside dual_level.")
        problem = _jacobian_problem(got, expected)
        if problem is not None:
            return problem
        if sum(dual_calls) != len(values):
            return (f"The Jacobian is right, but f got a tangent in {sum(dual_calls)} calls for "
                    f"{len(values)} inputs: make one forward pass per element of x.")
    return None


def _jacobian_problem(got, expected):
    """What is wrong with ``got`` as the Jacobian ``expected`` (a list of rows), or None."""
    if not _is_tensor(got):
        return "jacobian_fwd must return a tensor, the Jacobian: stack the columns."
    got = plain(got)
    if _matrix_close(got, expected):
        return None
    added_up = [[sum(row[:j + 1]) for j in range(len(row))] for row in expected]
    if _matrix_close(got, added_up) or _matrix_close(got, _transposed(added_up)):
        return ("Each column adds up the ones before it: print u in every pass. Which entries "
                "of u are 1 in pass j?")
    if _matrix_close(got, _transposed(expected)):
        return ("Its values are right but transposed: it has one row per input. A pass gives a "
                "column, so the columns go side by side, along which dim?")
    return LESSON_19_HINT


def _transposed(rows):
    return [list(column) for column in zip(*rows)]


def _matrix_close(got, expected) -> bool:
    return isinstance(got, list) and len(got) == len(expected) and all(
        isinstance(row, list) and _all_close(row, want) for row, want in zip(got, expected))


# ---- lesson 20 ----------------------------------------------------------------------------------

LESSON_20_HINT = ("The loss averages one probability per example, the one its label gets: row k "
                  "of probs, column ys[k]. Print the shape of what is averaged.")


@functools.cache
def _bigram_counts() -> tuple:
    """Lesson 20's counts N (27 rows of 27), from gradlab's name list, '.' being 0."""
    from ..data import names
    counts = [[0] * 27 for _ in range(27)]
    for name in names():
        chars = [0] + [ord(ch) - ord("a") + 1 for ch in name] + [0]
        for a, b in zip(chars, chars[1:]):
            counts[a][b] += 1
    return tuple(map(tuple, counts))


def normalizes_rows(P):
    """20.2: ``P`` is lesson 20's bigram table: the counts plus 1, each row divided by its
    total."""
    if not _is_tensor(P):
        return ("Put the tensor P itself in answer (answer = P): the check compares it with the "
                "counts.")
    if tuple(P.shape) != (27, 27):
        return (f"P has shape {tuple(P.shape)}: it should stay (27, 27), one row per character, "
                "one probability per next character.")
    got = plain(P)
    smoothed = [[c + 1 for c in row] for row in _bigram_counts()]
    # the row totals are the column totals too: each character ends one bigram, starts the next
    totals = [sum(row) for row in smoothed]
    if _matrix_close(got, [[c / t for c in row] for row, t in zip(smoothed, totals)]):
        return None
    if _matrix_close(got, [[c / t for c, t in zip(row, totals)] for row in smoothed]):
        return ("P's columns sum to 1, not its rows. P.sum(1) has shape (27,): against P's "
                "(27, 27) it broadcasts as a row, so column j is divided by row j's total. "
                "What shape would divide each row by its own total?")
    if all(close(sum(row), 1.0, 1e-4) for row in got):
        return ("P's rows sum to 1, but they are not the counts plus 1 divided by their totals: "
                "change only the division, keep P = (N + 1).float().")
    return ("P's rows do not sum to 1: print P.sum(1, keepdims=True).shape and P.sum(1).shape, "
            "and think of how each broadcasts against P's (27, 27).")


def picks_one_probability_per_example(nll):
    """20.3: ``nll(logits, ys)`` computes F.cross_entropy(logits, ys), with its gradient."""
    if not callable(nll) or _is_tensor(nll):
        return ("Put the function itself in answer (answer = nll, no parentheses): the check "
                "calls it on logits of its own.")
    torch = _library_of_function(nll)
    with torch.enable_grad():
        for rows, columns, labels in ((5, 27, [5, 13, 13, 1, 0]), (3, 4, [2, 0, 2])):
            generator = torch.Generator().manual_seed(rows)
            logits = torch.randn((rows, columns), generator=generator, dtype=torch.float64,
                                 requires_grad=True)
            ys = torch.tensor(labels)
            loss = nll(logits, ys)
            if not _is_tensor(loss) or loss.dim() != 0:
                return "nll must return one number, a 0-d tensor: the mean over the examples."
            problem = _nll_problem(torch, logits, ys, loss)
            if problem is not None:
                return problem
    return None


def _nll_problem(torch, logits, ys, loss):
    """What is wrong with ``loss`` as F.cross_entropy(logits, ys) and its gradient, or None."""
    expected = torch.nn.functional.cross_entropy(logits, ys)
    value, want = loss.item(), expected.item()
    if not close(value, want, 1e-6):
        probs = torch.nn.functional.softmax(logits.detach(), dim=1)
        if close(value, -probs[:, ys].log().mean().item(), 1e-6):
            return (f"nll still averages every example's probability of every label: "
                    f"probs[:, ys] has shape {tuple(probs[:, ys].shape)}. {LESSON_20_HINT}")
        if close(value, -want, 1e-6):
            return "nll has the wrong sign: the log of a probability is negative."
        if close(value, want * len(ys), 1e-6):
            return "nll adds the examples' terms up: the loss is their mean."
        return f"nll({tuple(logits.shape)} logits) is not F.cross_entropy's. {LESSON_20_HINT}"
    if loss.grad_fn is None:
        return ("nll's value is right but holds no graph: compute it from logits with tensor "
                "operations only (no .item(), .tolist() or new tensors), so backward reaches "
                "the logits.")
    [grad] = torch.autograd.grad(loss, logits)
    [want_grad] = torch.autograd.grad(expected, logits)
    if not _matrix_close(plain(grad), plain(want_grad)):
        return "nll's value is right, but its gradient is not F.cross_entropy's."
    return None


# ---- lesson 21 ----------------------------------------------------------------------------------

LESSON_21_HINT = ("x[p, q] receives G[i, j] times the kernel entry at (p - i, q - j) from each "
                  "window (i, j) that covers it. As a sliding sum over G padded with zeros, "
                  "which way does that run through the kernel, and how many zeros does G need "
                  "on each side so that every window counts?")

# (image size, kernel size): square kernels first, then one that is not
LESSON_21_CASES = [((4, 4), (2, 2)), ((4, 4), (3, 3)), ((5, 4), (3, 2))]


def _integers(torch, shape, step, modulus):
    """A tensor of small integers (as floats) with no symmetry: (k · step) mod modulus - 1."""
    n = shape[0] * shape[1]
    return (torch.arange(n, dtype=torch.float32) * step % modulus - 1).reshape(shape)


def convolves_back_in_full(input_grad_full):
    """21.2: ``input_grad_full(G, kernel)`` is the gradient of a stride-1 unpadded conv2d's 2-D
    input, from its output's gradient ``G``, for kernels of any shape."""
    if not callable(input_grad_full) or _is_tensor(input_grad_full):
        return ("Put the function itself in answer (answer = input_grad_full, no parentheses): "
                "the check calls it on kernels of its own.")
    torch = _library_of_function(input_grad_full)
    conv2d = torch.nn.functional.conv2d
    for k, ((h, w), (kh, kw)) in enumerate(LESSON_21_CASES):
        image = _integers(torch, (h, w), 7, 5).reshape(1, 1, h, w).requires_grad_()
        kernel = _integers(torch, (kh, kw), 3, 4)
        G = _integers(torch, (h - kh + 1, w - kw + 1), 5, 3)
        conv2d(image, kernel.reshape(1, 1, kh, kw)).backward(G.reshape((1, 1) + G.shape))
        got = input_grad_full(G.clone(), kernel.clone())
        if not _is_tensor(got):
            return "input_grad_full must return a tensor: the gradient of the image."
        square = "" if kh == kw else (
            f"It is right for square kernels, not for a {kh}×{kw} one: which dim does each of "
            "F.pad's numbers pad? ")
        if tuple(got.shape) != (h, w):
            return (f"{square}For a {kh}×{kw} kernel on a {h}×{w} image it returns shape "
                    f"{tuple(got.shape)}, not the image's ({h}, {w}): how many zeros must G get "
                    "on each side so that the kernel fits wherever it covered the image?")
        if _matrix_close(plain(got), plain(image.grad[0, 0])):
            continue
        unflipped = conv2d(G.reshape((1, 1) + G.shape), kernel.reshape(1, 1, kh, kw),
                           padding=(kh - 1, kw - 1))
        if _matrix_close(plain(got), plain(unflipped[0, 0])):
            return ("The shape is right, but the values are those of the kernel slid over G as "
                    "in the forward. Which kernel entry does x[p, q] meet in the window at "
                    "(i, j), and which way does it move as i grows?")
        return square + LESSON_21_HINT if k else LESSON_21_HINT
    return None
