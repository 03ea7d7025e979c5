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
    key = object()  # this registration's entry in each pass's hook_state (gone with the pass)
    if mode == "any":
        def first(grad):
            state = running_pass().hook_state
            if key not in state:
                state[key] = True
                fn(grad)
        return _MultiHandle(tuple(t.register_hook(first) for t in tensors if t.requires_grad))
    nodes = [_grad_fn_or_accumulator(t) for t in tensors]

    def hook_for(i):
        def hook(grad):
            task = running_pass()
            buffer = task.hook_state.setdefault(key, [0, [None] * len(tensors)])
            buffer[0] += 1
            buffer[1][i] = grad
            if buffer[0] == sum(task.will_execute(n) for n in nodes):
                del task.hook_state[key]
                fn(buffer[1])
        return hook
    return _MultiHandle(tuple(t.register_hook(hook_for(i)) for i, t in enumerate(tensors)))


def increment_version(tensor):
    """Mark ``tensor`` (or each of an iterable of them) as modified in place."""
    from ..tensor import Tensor
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        if not t.is_inference():
            t._bump_version()
