"""torch.autograd.graph's hooks over several tensors, and increment_version."""


def running_pass():
    from .engine import running_pass  # the engine imports the ops, which import graph.py
    return running_pass()


class _MultiHandle:
    """Removes the hook from every tensor at once."""

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for handle in self.handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _grad_fn_or_accumulator(t):
    return t._accumulator() if t.requires_grad and t.grad_fn is None else t.grad_fn


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """``fn`` runs once per backward: with mode "all" after the gradients of all of ``tensors``
    the pass computes (a list, None for the others), with "any" on the first one."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    if mode == "any":
        fired = set()

        def first(grad):
            task = id(running_pass())
            if task not in fired:
                fired.add(task)
                fn(grad)
        return _MultiHandle(tuple(t.register_hook(first) for t in tensors if t.requires_grad))
    nodes = [_grad_fn_or_accumulator(t) for t in tensors]
    counts, buffers = {}, {}

    def hook_for(i):
        def hook(grad):
            task = running_pass()
            key = id(task)
            count = counts.get(key, 0)
            buffer = buffers.setdefault(key, [None] * len(tensors))
            counts[key] = count + 1
            buffer[i] = grad
            if count + 1 == sum(task.will_execute(n) for n in nodes):
                del counts[key], buffers[key]
                fn(buffer)
        return hook
    return _MultiHandle(tuple(t.register_hook(hook_for(i)) for i, t in enumerate(tensors)))


def increment_version(tensor):
    """Mark ``tensor`` (or each of an iterable of them) as modified in place."""
    from ..tensor import Tensor
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        if not t.is_inference():
            t._bump_version()
