"""The backward pass, as a generator of events.

``backward_events`` is the only traversal in gradlab: ``Tensor.backward`` and ``autograd.grad``
drain it, and the widgets step through it. Nodes run in PyTorch's order: a node is ready when
every consumer has sent its gradient; among ready nodes AccumulateGrad runs first, then the most
recently created node. The order is computed iteratively, so graph depth is not limited by
Python's recursion limit.

A ready node goes through these steps; the events each yields are public API (each has a
``node`` attribute):

1. Enter: ``NodeEntered(node, grad_outputs)``, the gradients of its outputs.
2. Hooks and captures (``_hooks_and_captures``): its tensor hooks, retain_grad, then its
   pre-hooks, each followed by ``HookFired(node, kind, grads)`` (``kind`` is ``"tensor"``,
   ``"retain_grad"`` or ``"prehook"``; ``grads`` are the gradients after it). For
   ``autograd.grad``, ``GradCaptured(node, index, grad)``: it took the gradient of its
   ``index``-th input, before the hooks of a node that runs, after the tensor hooks of one that
   does not (only nodes that lead to another input run on).
3. Run. A leaf's AccumulateGrad (``_accumulate_leaf``): ``GradAccumulated(node, variable,
   before, after)``, its ``.grad`` went from ``before`` (None, or a copy of the old value) to
   ``after``; then ``HookFired`` for its post-accumulate-grad hooks (``"post_accumulate"``) and
   its own hooks (``"hook"``); a leaf stops there. Any other node computes its inputs'
   gradients (``_run``; ``_run_traced`` when tracing), then yields what its saved tensors did:
   - ``SavedTensorUnpacked(node, name, value)``: it read its saved tensor ``name`` through an
     unpack hook (saved_tensors_hooks), which returned ``value``; in the order the reads happened.
   - ``SavedTensorPacked(node, name, packed)``: ``node``, recorded while this one ran
     (create_graph under saved_tensors_hooks), packed ``name``; ``packed`` is what the pack hook
     returned. Packs made in the forward pass are on the graph already:
     ``node.saved_slots()[name].value``.
4. Post hooks (``_post_hooks``): ``HookFired(node, "hook", grad_inputs)``.
5. ``GradsComputed(node, grad_inputs)``: one gradient per entry of ``next_functions`` (None
   where no gradient flows).
6. Release: ``SavedReleased(node, names)``, its saved tensors were freed (no ``retain_graph``);
   then, in anomaly mode, the check for NaN in its gradients.
7. Send: each gradient is added into its next node's buffer, whose node is ready when the last
   of its consumers has sent.

Events are yielded only when tracing, with the consumer's grad mode back (the engine runs in its
own between them); the consumer may resume the pass on another thread. The common case (no
hooks, no inputs, no trace) takes only steps 1, 3, 6 and 7, written inline in the loop: a
function call per node would cost it a few percent.
"""
import sys
from heapq import heappop, heappush

import numpy as np

from .. import _batching
from ..ops._core import _FP_IGNORE, _fp_errors, sum_to
from ..tensor import Tensor
from .anomaly_mode import _state as _anomaly, enter_node, raise_if_nan, warn_failed
from .graph import AccumulateGrad, Node
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


class SavedTensorPacked(Event):
    __slots__ = ("name", "packed")

    def __init__(self, node, name, packed):
        self.node, self.name, self.packed = node, name, packed


class SavedTensorUnpacked(Event):
    __slots__ = ("name", "value")

    def __init__(self, node, name, value):
        self.node, self.name, self.value = node, name, value


def backward_events(roots, grads, *, keep_graph=False, create_graph=False, inputs=None,
                    captured=None, accumulate=True, trace=True):
    """Run backward from ``roots`` (edges ``(node, output_nr)``) seeded with ``grads``.

    Leaves accumulate into ``.grad`` (with ``inputs``, only those leaves) unless ``accumulate``
    is false, as for ``autograd.grad``. With ``inputs`` (edges too) only the nodes leading to
    them run (and get gradients). With ``captured`` (autograd.grad), it receives the gradient
    arriving at each input, which is then not run unless it leads to another input; as in
    PyTorch, a node that runs is captured before its hooks, one that does not after its tensor
    hooks. Events are yielded only when ``trace`` is true; the traversal is the same either way.
    """
    if _batching.LEVELS:
        keep_graph = keep_graph or _batching.graph_needed_again()
    dependencies = _dependencies(root for root, _ in roots)
    needed = execute = None
    captures = {}
    if inputs is not None:
        targets = {n for n, _ in inputs}
        needed = _needed([r for r, _ in roots], targets, captured is None)
        execute = needed | targets  # the nodes that receive gradients (PyTorch's should_execute)
        for i, (node, nr) in enumerate(inputs):
            captures.setdefault(node, []).append((nr, i))

    buffers = {}
    ready, waiting = [], {}  # the ready queue: keys in a heap, and id(key) -> node (_ready_key)
    for (node, nr), grad in zip(roots, grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.num_outputs
        buf[nr] = grad if buf[nr] is None else buf[nr] + grad
    for node in buffers:
        if not dependencies.get(node):
            key = _ready_key(node)
            waiting[id(key)] = node
            heappush(ready, key)

    task = _Pass(dependencies, buffers, execute, captures if captured is not None else ())
    task.needed, task.captured = needed, captured
    task.create_graph, task.trace = create_graph, trace
    # gradients someone else may hold (given by the caller, seen by a hook, already kept by a
    # leaf, or recorded in an event): a leaf's .grad gets a copy of those, never the tensor itself
    task.shared = {id(g) for g in grads}
    # between events the consumer's grad mode is back and the pass is off the (thread's) stack
    # of running passes; the engine runs in its own mode (in inference mode, no graph)
    task.consumer_mode, task.engine_mode = _local.enabled, create_graph and not _local.inference
    _local.enabled = task.engine_mode
    _final_callbacks().append(task)
    node = None
    outer = enter_node(None)  # the node of a backward this pass runs inside (anomaly mode)
    try:
        while ready:
            node = waiting.pop(id(heappop(ready)))
            grad_outputs = buffers.pop(node)  # 1. enter
            if _anomaly[0]:
                enter_node(node)  # the parent of the nodes it records
            if trace:
                yield from _emit(task, NodeEntered(node, grad_outputs))
            hooks = node._hooks
            if hooks is not None or needed is not None:  # 2. (else nothing comes before 3)
                runs = yield from _hooks_and_captures(task, node, hooks, grad_outputs)
                if not runs:
                    continue
            if type(node) is AccumulateGrad:  # 3. run
                if accumulate and grad_outputs[0] is not None:
                    yield from _accumulate_leaf(task, node, hooks, grad_outputs)
                continue
            if trace:
                grad_inputs = yield from _run_traced(task, node, grad_outputs)
            elif execute is None:  # _run's common case, inline
                grad_inputs = _validate(node, node.apply(grad_outputs))
            else:
                grad_inputs = _run(node, grad_outputs, execute)
            if hooks is not None and hooks.post:  # 4.
                grad_inputs = yield from _post_hooks(task, node, hooks, grad_inputs, grad_outputs)
            if trace:  # 5.
                yield from _emit(task, GradsComputed(node, grad_inputs))
            if not keep_graph and node._store:  # 6. release
                node.release_saved()
                if trace and node._saved:
                    yield from _emit(task, SavedReleased(node, node.saved_slots()))
            if _anomaly[0]:
                raise_if_nan(node, grad_inputs)
            # 7. send
            for next_node, nr, grad in zip((node._next0, node._next1, *node._next_more),
                                           node._nrs, grad_inputs):  # _next, inline
                if next_node is None or (execute is not None and next_node not in execute):
                    continue
                buf = buffers.get(next_node)
                if buf is None:
                    buf = buffers[next_node] = [None] * next_node.num_outputs
                if grad is not None:
                    old = buf[nr]
                    if old is None:
                        buf[nr] = grad
                    elif task.engine_mode or (added := _buffer_sum(old, grad)) is None:
                        buf[nr] = old + grad
                    else:
                        buf[nr] = added
                left = dependencies[next_node] = dependencies[next_node] - 1
                if left == 0:
                    key = -(next_node._seq_nr + 0.0)  # _ready_key, inline
                    waiting[id(key)] = next_node
                    heappush(ready, key)
            grad_outputs = grad_inputs = grad = old = added = None  # arrays go as soon as unneeded
        node = None
        for callback in _drain(task):
            callback()
    except Exception:
        if _anomaly[0] and node is not None and not task.consumer_threw:
            warn_failed(node)  # the failing node's forward traceback
        raise
    finally:
        enter_node(outer)
        running = _final_callbacks()
        if running and running[-1] is task:
            running.pop()
        _local.enabled = task.consumer_mode
        if trace:
            _local.saved_log = None


def _hooks_and_captures(task, node, hooks, grads):
    """What comes before a node's run; returns whether it runs at all.

    A node that runs is captured (autograd.grad's input) before its hooks, as in PyTorch; one
    that does not run gets only its tensor hooks, then its captures.
    """
    runs = task.needed is None or node in task.needed
    if hooks is not None:
        task.shared.update(id(g) for g in grads)  # a hook may have kept them
        if not runs:
            yield from _fired(task, node, _pre_hooks(node, hooks, grads, task.create_graph, True),
                              grads)
    if node in task.captures:
        for nr, i in task.captures[node]:
            task.captured[i] = grads[nr]
            if task.trace:
                yield from _emit(task, GradCaptured(node, i, grads[nr]))
    if runs and hooks is not None:
        yield from _fired(task, node, _pre_hooks(node, hooks, grads, task.create_graph), grads)
    return runs


def _fired(task, node, kinds, grads):
    """Run the hooks ``kinds`` iterates over: a HookFired event after each."""
    for kind in kinds:
        if task.trace:
            yield from _emit(task, HookFired(node, kind, grads))


def _accumulate_leaf(task, node, hooks, grad_outputs):
    """AccumulateGrad's run: the leaf's ``.grad``, its post-accumulate hooks, its own hooks."""
    grad = grad_outputs[0]
    before = node.variable._grad
    if task.trace and before is not None:
        before = before.detach().clone()
    after = _accumulate(node, grad, task.create_graph, task.trace or id(grad) in task.shared)
    task.shared.add(id(after))
    if task.trace:
        yield from _emit(task, GradAccumulated(node, node.variable, before, after))
    if hooks is not None and hooks.post_accumulate:
        for hook in tuple(hooks.post_accumulate.values()):
            hook(node.variable)
        if task.trace:
            yield from _emit(task, HookFired(node, "post_accumulate", ()))
    if hooks is not None and hooks.post:
        yield from _post_hooks(task, node, hooks, (), grad_outputs)


def _run(node, grads, execute):
    """The node's backward, each gradient conformed to its input; with ``execute``, None for
    an input that leads to no target (PyTorch computes none)."""
    if execute is None:
        return _validate(node, node.apply(grads))
    return [g if n in execute else None for g, n in
            zip(_validate(node, node.apply(grads, execute)), node._next)]


def _run_traced(task, node, grads):
    """``_run``, then the events for the saved tensors packed and unpacked while it ran."""
    _local.saved_log = log = []
    grad_inputs = _run(node, grads, task.execute)
    _local.saved_log = None
    for kind, owner, name, value in log:
        if kind == "unpacked":
            yield from _emit(task, SavedTensorUnpacked(node, name, value))
        else:
            yield from _emit(task, SavedTensorPacked(owner, name, value))
    return grad_inputs


def _post_hooks(task, node, hooks, grad_inputs, grad_outputs):
    """The node's hooks, after its run; they may replace ``grad_inputs``, which it returns."""
    for hook in tuple(hooks.post.values()):
        result = hook(tuple(grad_inputs), tuple(grad_outputs))
        if result is not None:
            grad_inputs = _check_tuple(hook, grad_inputs, result)
    if task.trace:
        yield from _emit(task, HookFired(node, "hook", grad_inputs))
    return grad_inputs


class _Pass(list):
    """A running pass: its final callbacks (the list), what tells which nodes it runs, and what
    its steps share."""

    __slots__ = ("dependencies", "roots", "execute", "captures", "hook_state", "needed",
                 "captured", "create_graph", "trace", "shared", "consumer_mode", "engine_mode",
                 "consumer_threw")

    def __init__(self, dependencies, roots, execute, captures):
        super().__init__()
        self.dependencies, self.roots, self.execute = dependencies, set(roots), execute
        self.captures = captures
        self.hook_state = {}  # what multi-grad hooks keep during this pass
        self.consumer_threw = False  # the consumer threw an exception into the pass

    def will_execute(self, node):
        """PyTorch's _will_engine_execute_node: ``node`` is in the graph and runs."""
        if node not in self.dependencies and node not in self.roots:
            return False
        if self.execute is None:
            return True
        if node in self.captures and not node._next:
            raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are "
                               "currently running autograd.grad(). This is currently not "
                               "supported.")
        return node in self.execute


def running_pass():
    """The innermost backward pass running on this thread."""
    stack = _final_callbacks()
    if not stack:
        raise RuntimeError("_get_should_execute_nodes should only be called during the "
                           "backward pass")
    return stack[-1]


def _final_callbacks():
    """This thread's stack of callback lists, one per backward pass running."""
    stack = _local.final_callbacks
    if stack is None:
        stack = _local.final_callbacks = []
    return stack


def _drain(queue):
    while queue:
        yield queue.pop(0)


def queue_callback(callback):
    """Run ``callback()`` when the running backward pass ends (PyTorch's queue_callback)."""
    stack = _final_callbacks()
    if not stack:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    stack[-1].append(callback)


def _ready_key(node):
    """The node's key in the ready queue, a heap of keys (``heapq``) that pops nodes in exactly
    the order of PyTorch's std::priority_queue by sequence number, largest first.

    heapq's push and pop are libstdc++'s push_heap and pop_heap (the hole sifted down to a leaf,
    the last item sifted up; ties go the same way), so on negated sequence numbers the heap's
    layout is PyTorch's and equal numbers (every AccumulateGrad's is UINT64_MAX) pop in its
    order. Each key is a float object of its own: the engine finds its node by the key's id.
    """
    return -(node._seq_nr + 0.0)  # exact below 2**53; UINT64_MAX rounds to 2**64, still largest


def _emit(task, event):
    """Yield an event with the consumer's grad mode restored; the engine runs in its own mode.

    The consumer may resume the pass from another thread (a kernel's comm handler), so the mode
    and the running-pass stack are re-entered on whichever thread resumes it.
    """
    _final_callbacks().pop()
    _local.enabled = task.consumer_mode
    running = enter_node(None)
    try:
        yield event
    except BaseException:
        task.consumer_threw = True  # the consumer's exception, not the node's
        raise
    enter_node(running)
    task.consumer_mode = _local.enabled
    _local.enabled = task.engine_mode
    _final_callbacks().append(task)


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
        node = stack.pop()
        if isinstance(node, Node):  # (_next, inline) the widgets pass torch's nodes too
            nexts = (node._next0, node._next1, *node._next_more)[:len(node._nrs)]
        else:
            nexts = (n for n, _ in node.next_functions)
        for next_node in nexts:
            if next_node is not None:
                counts[next_node] = counts.get(next_node, 0) + 1
                if next_node not in seen:
                    seen.add(next_node)
                    stack.append(next_node)
    return counts


def _needed(roots, targets, run_targets):
    """The nodes that must run: those from which a target can be reached, and the targets
    themselves if ``run_targets`` (backward(inputs=); autograd.grad only captures at them).
    Iterative post-order."""
    needed = set()
    done = set()
    stack = [(root, False) for root in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if run_targets and node in targets or any(
                    n in needed or n in targets for n in node._next):
                needed.add(node)
            continue
        if node in done:
            continue
        done.add(node)
        stack.append((node, True))
        stack.extend((n, False) for n in node._next if n is not None and n not in done)
    return needed


def _pre_hooks(node, hooks, grads, create_graph, tensor_only=False):
    """Tensor hooks, then retain_grad, then the node's pre-hooks; they may replace ``grads``."""
    for nr, table in hooks.tensor_pre.items():
        for hook in tuple(table.values()):
            if grads[nr] is not None:
                result = hook(grads[nr])
                if result is not None:
                    _check_grad(hook, grads[nr], result)
                    grads[nr] = result
                yield "tensor"
    for nr, ref in hooks.retains_grad.items():
        tensor = ref()
        if tensor is not None and grads[nr] is not None:
            grad = grads[nr]
            old = tensor._grad
            tensor._grad = grad.clone() if old is None else old + grad
            yield "retain_grad"
    if tensor_only:
        return
    for hook in tuple(hooks.pre.values()):
        result = hook(tuple(grads))
        if result is not None:
            grads[:] = _check_tuple(hook, grads, result)
        yield "prehook"


def _hook_name(hook):
    name = getattr(hook, "__name__", None)
    return name if isinstance(name, str) else "<unknown>"


def _check_tuple(hook, grads, result):
    """A node hook's replacement gradients, checked as PyTorch checks them."""
    if type(result) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != len(grads):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of values "
                           f"(got {len(result)}, but expected {len(grads)})")
    for grad, new in zip(grads, result):
        if new is not None:
            _check_grad(hook, grad, new)
    return list(result)


def _check_grad(hook, grad, new):
    """PyTorch's errors for a hook that returns something other than a like gradient."""
    if grad is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    if not isinstance(new, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
    if new.dtype is not grad.dtype:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was "
                           f"torch.{grad.dtype._legacy} got torch.{new.dtype._legacy})")
    if new._array.shape != grad._array.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")


def _validate(node, grads):
    """Bring each gradient to its input's shape (summing broadcast dims) and dtype."""
    for i, grad in enumerate(grads):
        if grad is not None:
            shape, dtype = node._input_meta[i]
            if (grad._array.shape != shape or grad.dtype is not dtype) and \
                    node._next[i] is not None:  # PyTorch skips unused edges
                grads[i] = _conform(node, i, grad, shape, dtype)
    return grads


def _conform(node, i, grad, shape, dtype):
    if grad._array.shape != shape:
        if not _expandable(shape, grad._array.shape):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(grad._array.shape)} but expected shape compatible with {list(shape)}")
        grad = sum_to(grad, shape)
    return grad if grad.dtype is dtype else grad.to(dtype)


def _expandable(shape, target):
    lead = len(target) - len(shape)
    return lead >= 0 and (target[lead:] == shape or
                          all(s == t or s == 1 for s, t in zip(shape, target[lead:])))


def _accumulate(node, grad, create_graph, shared):
    """AccumulateGrad: set or add ``grad`` into the leaf's ``.grad``, which it returns.

    A first gradient is kept as is when nobody else can see it (``shared`` false, and its array
    is its own), as PyTorch steals an unshared gradient; otherwise the leaf gets a copy.
    """
    variable = node.variable
    old = variable._grad
    if old is None:
        if create_graph:
            from ..ops.elementwise import copy_graph
            variable._grad = copy_graph(grad)
        elif not shared and grad._grad_fn is None and _owns(grad._array):
            variable._grad = grad
        else:
            variable._grad = grad.detach().clone()
        return variable._grad
    if create_graph:  # PyTorch adds out of place only in grad mode, else in place
        variable._grad = old + grad
    else:
        storage = old._storage()
        np.add(storage, grad._array, out=storage, casting="unsafe")
        old._bump_version()
    return variable._grad


def _buffer_sum(old, grad):
    """``old + grad`` as PyTorch's InputBuffer adds gradients outside grad mode, or None where
    the general add must do it: two NumPy scalars of one dtype directly (scalar lessons add
    thousands), and into ``old``'s array in place if nothing but the engine's buffer holds it,
    as InputBuffer accumulates into a gradient nobody else uses. (float16 sums round as
    gradlab's add does only out of place; tangents add out of place.)"""
    if old._fw_grad is not None or grad._fw_grad is not None:
        return None
    a, b = old._array, grad._array
    kind = type(a)
    if kind is not np.ndarray:
        if kind is type(b) and kind in _SCALAR_SUMS and old.dtype is grad.dtype:
            token = _fp_errors.set(_FP_IGNORE)  # inf and nan without NumPy's warning
            try:
                return Tensor._make(a + b, old.dtype)
            finally:
                _fp_errors.reset(token)
        return None
    if (a.dtype in _ADDS_IN_PLACE and a.base is None and a.shape == b.shape
            and a.dtype == grad.dtype.np
            and sys.getrefcount(old) <= 4 and sys.getrefcount(a) <= 3  # buffer, locals, args
            and np.add(a, b, out=a) is a):
        return old
    return None


_SCALAR_SUMS = (np.float32, np.float64)
_ADDS_IN_PLACE = (np.dtype(np.float32), np.dtype(np.float64))


def _owns(array):
    """True for a NumPy scalar, or an array that owns its memory and is held by one tensor."""
    return type(array) is not np.ndarray or (array.base is None and sys.getrefcount(array) <= 3)
