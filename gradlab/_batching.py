"""What a running vmap must know: which tensors are batched, and PyTorch's errors for what vmap
refuses (``.item()``, data-dependent control flow, in-place writes of batched values into
unbatched tensors, random ops in randomness="error" mode).

gradlab's vmap runs its function once per batch element (gradlab.func.vmap). A tensor computed
from a per-element input is marked with the vmap levels it is batched over, so these checks can
tell it from a captured tensor. The ops call in here only while ``LEVELS`` is not empty.
"""
import itertools

LEVELS = []  # the running vmaps, innermost last
_ids = itertools.count(1)

ITEM_ERROR = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling "
    ".item() on a Tensor, please try to rewrite what you're doing with other operations. If error "
    "is occurring somewhere inside PyTorch internals, please file a bug report.")
CONTROL_FLOW_ERROR = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. "
    "We don't support that yet, please file an issue at "
    "https://github.com/pytorch/pytorch/issues .")
RANDOM_ERROR = (
    "vmap: called random operation while in randomness error mode. Please either use the 'same' "
    "or 'different' randomness flags on vmap or perform the randomness operation out of vmap")
NO_LEVELS = frozenset()


def inplace_error(op):
    return RuntimeError(
        f"vmap: {op}(self, *extra_args) is not possible because there exists a Tensor `other` in "
        "extra_args that has more elements than `self`. This happened due to `other` being "
        "vmapped over but `self` not being vmapped over in a vmap. Please try to use out-of-place "
        f"operators instead of {op}. If said operator is being called inside the PyTorch "
        "framework, please file a bug report instead.")


class Level:
    """One running vmap: its batch size and randomness mode."""

    __slots__ = ("id", "size", "randomness", "last")

    def __init__(self, size, randomness):
        self.id, self.size, self.randomness = next(_ids), size, randomness
        self.last = True  # whether func runs on the last batch element

    def __enter__(self):
        LEVELS.append(self)
        return self

    def __exit__(self, *exc):
        LEVELS.remove(self)


def levels(x):
    """The running vmap levels ``x`` is batched over (as a set of ids)."""
    marked = getattr(x, "_vmap_levels", NO_LEVELS)
    return marked & {level.id for level in LEVELS} if marked else NO_LEVELS


def mark(t, ids):
    """Mark tensor ``t`` as batched over the levels ``ids``."""
    if ids:
        t.__dict__["_vmap_levels"] = getattr(t, "_vmap_levels", NO_LEVELS) | ids
    return t


def taint(outputs, inputs):
    """An op's outputs are batched over every level one of its inputs is batched over."""
    ids = NO_LEVELS.union(*(levels(x) for x in inputs))
    if ids:
        for out in outputs if type(outputs) is tuple else (outputs,):
            if out is not None:
                mark(out, ids)
    return outputs


def check_item(t, control_flow=False):
    if levels(t):
        raise RuntimeError(CONTROL_FLOW_ERROR if control_flow else ITEM_ERROR)


def check_inplace(self, value, op="inplace arithmetic"):
    """PyTorch's error for writing a value batched over a level into a tensor that is not."""
    extra = levels(value) - levels(self)
    if not extra:
        return
    if op == "add_":  # PyTorch's add_ reaches the shape check first
        size = next(level.size for level in LEVELS if level.id in extra)
        shape = list(self.shape)
        raise RuntimeError(f"output with shape {shape} doesn't match the broadcast shape "
                           f"{[size] + list(_broadcast(self.shape, value.shape))}")
    raise inplace_error(op)


def _broadcast(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def graph_needed_again():
    """A backward inside a vmap keeps the graph until func has run on the last element: PyTorch
    runs func once, so autograd.grad of a graph made outside vmap must work for each element."""
    return not all(level.last for level in LEVELS)


def check_random():
    if any(level.randomness == "error" for level in LEVELS):
        raise RuntimeError(RANDOM_ERROR)
