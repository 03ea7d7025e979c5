"""Thread-local grad mode: no_grad, enable_grad, set_grad_enabled, as PyTorch has them."""
import functools
import inspect
import threading


class _ThreadState(threading.local):
    """Each thread's autograd state; a new thread starts with grad mode on, as in PyTorch.

    ``enabled`` is whether ops record a graph: in inference mode never, whatever the grad mode
    (kept in ``grad_mode`` for is_grad_enabled, as PyTorch keeps the two apart).
    ``saved_hooks`` is the innermost (pack, unpack) pair of saved_tensors_hooks, or None;
    ``saved_log``, while a traced backward runs a node, collects its packs and unpacks;
    ``by_hand`` counts the nodes being called by hand (``grad_fn(grad)``), which get gradients
    of their own.
    """
    enabled = True
    grad_mode = True
    inference = False
    final_callbacks = None
    saved_hooks = None
    saved_hooks_stack = ()
    saved_hooks_disabled = None
    saved_log = None
    by_hand = 0


_local = _ThreadState()


def is_grad_enabled():
    return _local.enabled or _local.inference and _local.grad_mode


def _set_enabled(mode):
    _local.grad_mode = mode
    _local.enabled = mode and not _local.inference


class _GradMode:
    """A context manager that is also a decorator, with or without parentheses."""

    mode = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        return self(func) if callable(func) else self

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(self.mode)

    def __exit__(self, *exc):
        _set_enabled(self._prev)

    def clone(self):
        return type(self)()

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as exc:
                            with self.clone():
                                response = gen.throw(exc)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return generator

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Disable gradient recording inside a block or a decorated function."""
    mode = False


class enable_grad(_GradMode):
    """Enable gradient recording inside a block or a decorated function."""
    mode = True


def is_inference_mode_enabled():
    return _local.inference


class inference_mode(_GradMode):
    """no_grad in which the tensors made are inference tensors (see Tensor.is_inference)."""

    def __new__(cls, mode=True):
        if callable(mode):
            return cls()(mode)
        self = object.__new__(cls)
        self.mode = not mode
        return self

    def __enter__(self):
        self._prev_inference = is_inference_mode_enabled()
        self._prev = is_grad_enabled()
        _local.inference = not self.mode
        _set_enabled(self.mode)

    def __exit__(self, *exc):
        _local.inference = self._prev_inference
        _set_enabled(self._prev)

    def clone(self):
        return type(self)(not self.mode)


class set_grad_enabled(_GradMode):
    """Set grad mode now; as a context manager, restore the previous mode on exit."""

    def __new__(cls, mode):
        if type(mode) is not bool:
            raise TypeError("set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        self = object.__new__(cls)
        self._prev = is_grad_enabled()
        self.mode = mode
        _set_enabled(mode)
        return self

    def __enter__(self):
        pass

    def __call__(self, func):
        _set_enabled(self._prev)  # as a decorator it changes nothing until the call
        return super().__call__(func)

    def __exit__(self, *exc):
        _set_enabled(self._prev)

    def clone(self):
        return set_grad_enabled(self.mode)
