"""Thread-local grad mode: no_grad, enable_grad, set_grad_enabled, as PyTorch has them."""
import functools
import inspect
import threading

_local = threading.local()


def is_grad_enabled():
    return getattr(_local, "enabled", True)


def _set_enabled(mode):
    _local.enabled = mode


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
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except BaseException as exc:
                        with self.clone():
                            response = gen.throw(exc)
                    else:
                        with self.clone():
                            response = gen.send(request)
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


class inference_mode(_GradMode):
    """Treated as no_grad: gradlab has no separate inference tensors."""

    def __new__(cls, mode=True):
        if callable(mode):
            return cls()(mode)
        self = object.__new__(cls)
        self.mode = not mode
        return self

    def clone(self):
        return type(self)(not self.mode)


class set_grad_enabled(_GradMode):
    """Set grad mode now; as a context manager, restore the previous mode on exit."""

    def __new__(cls, mode):
        self = object.__new__(cls)
        self._prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(self.mode)
        return self

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set_enabled(self._prev)

    def clone(self):
        return set_grad_enabled(self.mode)
