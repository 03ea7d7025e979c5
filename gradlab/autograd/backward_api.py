"""backward and grad (torch.autograd.backward, torch.autograd.grad): the entry points that
drain the engine's events."""
import collections
import sys
import warnings

from .._creation import ones_like
from ..tensor import Tensor
from .engine import backward_events

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter "
    "and its gradient which can cause a memory leak. We recommend using autograd.grad when "
    "creating the graph to avoid this. If you have to use this function, make sure to reset the "
    ".grad fields of your parameters to None after use to break the cycle and avoid the leak. "
    "(Triggered internally at /__w/pytorch/pytorch/torch/csrc/autograd/engine.cpp:1307.)")


def _warn_at_user(message, category):
    """Warn with the location of the first caller outside gradlab (the user's line)."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("gradlab"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


_warned = []


def _warn_create_graph_once():
    """PyTorch warns about backward(create_graph=True) once per process (TORCH_WARN_ONCE)."""
    if not _warned:
        _warned.append(True)
        _warn_at_user(CREATE_GRAPH_WARNING, UserWarning)


def _as_tuple(x):
    if x is None:
        return None
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _edge(t):
    """The graph edge through which ``t`` receives its gradient."""
    if t._base is not None:
        t._fresh()
    return (t._grad_fn, t._output_nr) if t._grad_fn is not None else (t._accumulator(), 0)


def _given(grads, n):
    """PyTorch's _tensor_or_tensors_to_tuple."""
    return (None,) * n if grads is None else _as_tuple(grads)


def _seed_grads(outputs, grad_outputs, is_grads_batched=False):
    """PyTorch's _make_grads: default ones for scalars, shape and dtype checks."""
    grads = []
    for i, (out, grad) in enumerate(zip(outputs, grad_outputs)):
        if isinstance(grad, Tensor):
            if grad._array.shape != out._array.shape:
                from .._size import Size
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {Size(grad.shape)} and "
                    f"output[{i}] has a shape of {Size(out.shape)}.")
            # the engine casts a root's gradient to the root's dtype (validate_outputs)
            grads.append(grad if grad.dtype is out.dtype or not out._requires_grad
                         else grad.to(out.dtype))
        elif grad is None:
            if out._requires_grad:
                if out._array.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not out.dtype.is_floating_point:
                    raise RuntimeError(f"grad can be implicitly created only for real scalar "
                                       f"outputs but got {out.dtype}")
                grads.append(ones_like(out))
            else:
                grads.append(None)
        else:
            raise TypeError("gradients can be either Tensors or None, but got "
                            f"{type(grad).__name__}")
    if len(grads) < len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    return grads


def _roots(outputs, grads):
    roots = []
    for i, (out, grad) in enumerate(zip(outputs, grads)):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        roots.append(_edge(out))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into the leaves' ``.grad`` the gradient of ``tensors`` (torch.autograd.backward)."""
    events = backward_stream(tensors, grad_tensors, retain_graph, create_graph, inputs)
    collections.deque(events, maxlen=0)


def backward_stream(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
                    inputs=None, trace=False):
    """The event generator of ``backward`` (arguments checked before the first event)."""
    tensors = _as_tuple(tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    grads = _seed_grads(tensors, _given(grad_tensors, len(tensors)))
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        _warn_create_graph_once()
    roots = _roots(tensors, grads)
    if inputs is None:
        return backward_events(roots, grads, keep_graph=retain_graph, create_graph=create_graph,
                               trace=trace)
    for t in inputs:
        t.retain_grad()  # as PyTorch: a non-leaf input keeps retaining its grad afterwards
    return backward_events(roots, grads, keep_graph=retain_graph, create_graph=create_graph,
                           inputs=[_edge(t) for t in inputs], trace=trace)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned rather than accumulated."""
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    names = None
    if type(inputs) is dict:  # PyTorch returns a dict of gradients for a dict of inputs
        names, inputs = list(inputs), tuple(inputs.values())
    if is_grads_batched:
        result = _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                               allow_unused, materialize_grads)
    else:
        captured, events = grad_stream(outputs, inputs, grad_outputs, retain_graph, create_graph,
                                       allow_unused, materialize_grads)
        collections.deque(events, maxlen=0)
        result = _finish_grad(captured, inputs, allow_unused, materialize_grads, create_graph)
    return result if names is None else dict(zip(names, result))


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """grad(is_grads_batched=True): one backward per row of the grad_outputs, stacked (what
    PyTorch's vmap computes); the graph is freed after the last row unless retained."""
    from .._size import Size
    from ..ops.shape import stack
    outputs = _as_tuple(outputs)
    batched = _given(grad_outputs, len(outputs))
    for i, (out, g) in enumerate(zip(outputs, batched)):  # (PyTorch prints grad[0].shape[1:])
        if g is not None:
            g.detach()[0]  # PyTorch reads grad[0] first: its IndexError for an empty or 0-dim g
        if g is not None and g._array.shape[1:] != out._array.shape:
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output "
                "as the batch dimension. The sizes of the remaining dimensions are expected to "
                "match the shape of corresponding output, but a mismatch was detected: "
                f"grad_output[{i}] has a shape of {Size(g._array.shape[2:])} and output[{i}] has "
                f"a shape of {Size(out._array.shape)}. If you only want some tensors in "
                "`grad_output` to be considered batched, consider using vmap.")
    if retain_graph is None:
        retain_graph = create_graph
    n = next(g._array.shape[0] for g in batched if g is not None)
    rows = []
    for b in range(n):
        captured, events = grad_stream(outputs, inputs, tuple(None if g is None else g[b]
                                                              for g in batched),
                                       retain_graph if b == n - 1 else True, create_graph,
                                       allow_unused, materialize_grads)
        collections.deque(events, maxlen=0)
        rows.append(_finish_grad(captured, inputs, allow_unused or materialize_grads, False,
                                 create_graph))
    result = []
    for t, column in zip(_as_tuple(inputs), zip(*rows)):
        if column[0] is None:
            result.append(_finish_grad((None,), (t,), allow_unused, materialize_grads,
                                       create_graph)[0])
        else:
            result.append(stack(column))
    return tuple(result)


def grad_stream(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
                allow_unused=None, materialize_grads=False, trace=False):
    """(captured, events): drain ``events`` and ``captured`` holds one gradient per input."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    grads = _seed_grads(outputs, _given(grad_outputs, len(outputs)))
    for t in inputs_t:
        if not isinstance(t, Tensor):
            raise RuntimeError("all inputs have to be Tensors or GradientEdges, but got "
                               f"{type(t).__name__}")
    if not inputs_t:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _roots(outputs, grads)
    for t in inputs_t:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    captured = [None] * len(inputs_t)
    events = backward_events(roots, grads, keep_graph=retain_graph, create_graph=create_graph,
                             inputs=[_edge(t) for t in inputs_t], captured=captured,
                             accumulate=False, trace=trace)
    return captured, events


def _finish_grad(captured, inputs, allow_unused, materialize_grads, create_graph=False):
    inputs = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    result = []
    for i, (g, t) in enumerate(zip(captured, inputs)):
        if g is None:
            if materialize_grads:
                from .._creation import zeros_like
                g = zeros_like(t, requires_grad=create_graph)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
        result.append(g)
    return tuple(result)
