"""The backward pass, as a generator of events.

``backward_events`` is the only traversal in gradlab: ``Tensor.backward`` and ``autograd.grad``
drain it, and the widgets step through it. Nodes run in PyTorch's order: a node is ready when
every consumer has sent its gradient; among ready nodes AccumulateGrad runs first, then the most
recently created node. The order is computed iteratively, so graph depth is not limited by
Python's recursion limit.

Events (public API; each has a ``node`` attribute):

- ``NodeEntered(node, grad_outputs)``: ``node`` starts with the gradients of its outputs.
- ``HookFired(node, kind, grads)``: a hook ran; ``kind`` is ``"tensor"`` (a tensor's hook),
  ``"retain_grad"``, ``"prehook"`` or ``"hook"``; ``grads`` are the gradients after it.
- ``GradsComputed(node, grad_inputs)``: one gradient per entry of ``next_functions``
  (None where no gradient flows).
- ``SavedReleased(node, names)``: the node's saved tensors were freed (no ``retain_graph``).
- ``GradAccumulated(node, variable, before, after)``: an AccumulateGrad updated a leaf's
  ``.grad`` from ``before`` (None, or a copy of the old value) to ``after``.
- ``GradCaptured(node, index, grad)``: ``autograd.grad`` took the gradient of its ``index``-th input.
"""
import heapq
import itertools
import sys

import numpy as np

from .graph import AccumulateGrad
from .grad_mode import _local


class Event:
    __slots__ = ("node",)

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}(node={self.node.name()}{', ' if fields else ''}{fields})"


class NodeEntered(Event):
    __slots__ = ("grad_outputs",)

    def __init__(self, node, grad_outputs):
        self.node, self.grad_outputs = node, tuple(grad_outputs)


class HookFired(Event):
    __slots__ = ("kind", "grads")

    def __init__(self, node, kind, grads):
        self.node, self.kind, self.grads = node, kind, tuple(grads)


class GradsComputed(Event):
    __slots__ = ("grad_inputs",)

    def __init__(self, node, grad_inputs):
        self.node, self.grad_inputs = node, tuple(grad_inputs)


class SavedReleased(Event):
    __slots__ = ("names",)

    def __init__(self, node, names):
        self.node, self.names = node, tuple(names)


class GradAccumulated(Event):
    __slots__ = ("variable", "before", "after")

    def __init__(self, node, variable, before, after):
        self.node, self.variable, self.before, self.after = node, variable, before, after


class GradCaptured(Event):
    __slots__ = ("index", "grad")

    def __init__(self, node, index, grad):
        self.node, self.index, self.grad = node, index, grad


def backward_events(roots, grads, *, keep_graph=False, create_graph=False, inputs=None,
                    captured=None, accumulate=True, trace=True):
    """Run backward from ``roots`` (edges ``(node, output_nr)``) seeded with ``grads``.

    Leaves accumulate into ``.grad`` (with ``inputs``, only those leaves) unless ``accumulate``
    is false, as for ``autograd.grad``. With ``inputs`` (edges too) only the nodes leading to
    them run, and ``captured`` receives the gradient arriving at each. Events are yielded only
    when ``trace`` is true; the traversal is the same either way.
    """
    dependencies = _dependencies(root for root, _ in roots)
    needed = None if inputs is None else _needed((r for r, _ in roots), {n for n, _ in inputs})
    captures = {}
    if inputs is not None:
        for i, (node, nr) in enumerate(inputs):
            captures.setdefault(node, []).append((nr, i))

    buffers = {}
    ready = []
    order = itertools.count()
    for (node, nr), grad in zip(roots, grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.num_outputs
        buf[nr] = grad if buf[nr] is None else buf[nr] + grad
    for node in buffers:
        if not dependencies.get(node):
            heapq.heappush(ready, (-node._sequence_nr, next(order), node))

    while ready:
        node = heapq.heappop(ready)[2]
        grad_outputs = buffers.pop(node)
        if trace:
            yield NodeEntered(node, grad_outputs)
        hooks = node._hooks
        if hooks is not None:
            for kind in _pre_hooks(node, hooks, grad_outputs, create_graph):
                if trace:
                    yield HookFired(node, kind, grad_outputs)
        if node in captures:
            for nr, i in captures[node]:
                captured[i] = grad_outputs[nr]
                if trace:
                    yield GradCaptured(node, i, grad_outputs[nr])
        if needed is not None and node not in needed:
            continue
        if type(node) is AccumulateGrad:
            if accumulate and grad_outputs[0] is not None:
                before, after = _accumulate(node, grad_outputs[0], create_graph, trace)
                if trace:
                    yield GradAccumulated(node, node.variable, before, after)
                if hooks is not None and hooks.post:
                    for hook in tuple(hooks.post.values()):
                        hook((), grad_outputs)
                    if trace:
                        yield HookFired(node, "hook", ())
            continue
        grad_inputs = _evaluate(node, grad_outputs, create_graph)
        if hooks is not None and hooks.post:
            for hook in tuple(hooks.post.values()):
                result = _in_mode(create_graph, hook, tuple(grad_inputs), tuple(grad_outputs))
                if result is not None:
                    grad_inputs = list(result)
            if trace:
                yield HookFired(node, "hook", grad_inputs)
        if trace:
            yield GradsComputed(node, grad_inputs)
        if not keep_graph:
            node.release_saved()
            if trace and node._saved:
                yield SavedReleased(node, node.saved_tensors())
        for (next_node, nr), grad in zip(node.next_functions, grad_inputs):
            if next_node is None or (needed is not None and next_node not in needed):
                continue
            buf = buffers.get(next_node)
            if buf is None:
                buf = buffers[next_node] = [None] * next_node.num_outputs
            if grad is not None:
                old = buf[nr]
                buf[nr] = grad if old is None else _in_mode(create_graph, old.__add__, grad)
            left = dependencies[next_node] = dependencies[next_node] - 1
            if left == 0:
                heapq.heappush(ready, (-next_node._sequence_nr, next(order), next_node))


def _in_mode(create_graph, fn, *args):
    """Call fn with grad mode set to ``create_graph``, as every backward computation runs."""
    prev = getattr(_local, "enabled", True)
    _local.enabled = create_graph
    try:
        return fn(*args)
    finally:
        _local.enabled = prev


def _evaluate(node, grads, create_graph):
    """The node's gradients for its inputs, checked against the inputs' shapes and dtypes."""
    prev = getattr(_local, "enabled", True)
    _local.enabled = create_graph
    try:
        return _validate(node, node.apply(grads))
    finally:
        _local.enabled = prev


def _dependencies(roots):
    """How many edges reach each node from the roots (PyTorch's compute_dependencies)."""
    counts = {}
    seen = set()
    stack = []
    for root in roots:
        if root not in seen:
            seen.add(root)
            stack.append(root)
    while stack:
        for next_node, _ in stack.pop().next_functions:
            if next_node is not None:
                counts[next_node] = counts.get(next_node, 0) + 1
                if next_node not in seen:
                    seen.add(next_node)
                    stack.append(next_node)
    return counts


def _needed(roots, targets):
    """The nodes from which a target can be reached (they must run); iterative post-order."""
    needed = set()
    done = set()
    stack = [(root, False) for root in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if node in targets or any(n in needed for n, _ in node.next_functions):
                needed.add(node)
            continue
        if node in done:
            continue
        done.add(node)
        stack.append((node, True))
        stack.extend((n, False) for n, _ in node.next_functions if n is not None and n not in done)
    return needed


def _pre_hooks(node, hooks, grads, create_graph):
    """Tensor hooks, then retain_grad, then the node's pre-hooks; they may replace ``grads``."""
    for nr, table in hooks.tensor_pre.items():
        for hook in tuple(table.values()):
            if grads[nr] is not None:
                result = _in_mode(create_graph, hook, grads[nr])
                if result is not None:
                    grads[nr] = result
                yield "tensor"
    for nr, ref in hooks.retains_grad.items():
        tensor = ref()
        if tensor is not None and grads[nr] is not None:
            grad = grads[nr]
            old = tensor._grad
            tensor._grad = _in_mode(create_graph, grad.clone) if old is None else \
                _in_mode(create_graph, old.__add__, grad)
            yield "retain_grad"
    for hook in tuple(hooks.pre.values()):
        result = _in_mode(create_graph, hook, tuple(grads))
        if result is not None:
            grads[:] = result
        yield "prehook"


def _validate(node, grads):
    """Bring each gradient to its input's shape (summing broadcast dims) and dtype."""
    meta = node._input_meta
    for i, grad in enumerate(grads):
        if grad is None:
            continue
        shape, dtype = meta[i]
        if grad._array.shape != shape:
            if not _expandable(shape, grad._array.shape):
                raise RuntimeError(
                    f"Function {node.name()} returned an invalid gradient at index {i} - got "
                    f"{list(grad._array.shape)} but expected shape compatible with {list(shape)}")
            from ..ops._core import sum_to
            grad = grads[i] = sum_to(grad, shape)
        if grad.dtype is not dtype:
            grads[i] = grad.to(dtype)
    return grads


def _expandable(shape, target):
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


def _accumulate(node, grad, create_graph, trace):
    """AccumulateGrad: set or add ``grad`` into the leaf's ``.grad``; returns (before, after)."""
    return _in_mode(create_graph, _accumulate_in_mode, node, grad, create_graph, trace)


def _accumulate_in_mode(node, grad, create_graph, trace):
    variable = node.variable
    old = variable._grad
    if old is None:
        if create_graph:
            from ..ops.elementwise import copy_graph
            variable._grad = copy_graph(grad)
        elif _exclusive(grad):
            variable._grad = grad
        else:
            variable._grad = grad.detach().clone()
        return None, variable._grad
    before = old.detach().clone() if trace else None
    if create_graph or old._requires_grad or grad._requires_grad:
        variable._grad = old + grad
    else:
        storage = old._storage()
        np.add(storage, grad._array, out=storage, casting="unsafe")
        old._bump_version()
    return before, variable._grad


def _exclusive(grad):
    """True when nothing outside the engine can see ``grad``, so the leaf may keep it as is."""
    a = grad._array
    return (grad._grad_fn is None and sys.getrefcount(grad) <= 5
            and (type(a) is not np.ndarray or (a.base is None and sys.getrefcount(a) <= 2)))
