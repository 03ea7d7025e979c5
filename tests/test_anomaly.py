"""Anomaly mode (detect_anomaly, set_detect_anomaly), compared with PyTorch.

Each scenario runs with torch and with gradlab from the same line, so the forward tracebacks
PyTorch records (the whole Python stack of the op's call) are the same text in both libraries
when the op is one PyTorch runs in C++: the warnings are compared whole. Where PyTorch's op is
Python code (nn.Module, nn.functional) only the frames of this file are compared.
"""
import linecache
import threading
import warnings

import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from outcomes import outcome, scenarios  # noqa: E402

SCENARIOS, scenario = scenarios()


@pytest.fixture(autouse=True)
def anomaly_off():
    """Anomaly mode is global to the process: every test ends with it off, as it began."""
    yield
    for L in (torch, gradlab):
        L.set_anomaly_enabled(False)


@scenario
def sqrt_of_minus_one(L):
    x = L.tensor([-1., 4.], requires_grad=True)
    with L.autograd.detect_anomaly():
        y = x.sqrt()
        y.sum().backward()
@scenario
def zero_over_zero(L):
    a = L.tensor([0., 1.], requires_grad=True)
    b = L.tensor([0., 2.], requires_grad=True)
    with L.autograd.detect_anomaly():
        (a / b).sum().backward()
@scenario
def log_zero_times_zero(L):
    x = L.tensor([0.], requires_grad=True)
    with L.autograd.detect_anomaly():
        y = x.log() * 0
        y.backward()
@scenario
def check_nan_false(L):
    x = L.tensor([-1.], requires_grad=True)
    with L.autograd.detect_anomaly(check_nan=False):
        r = [L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()]
        x.sqrt().backward()
    return r, x.grad, L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()
@scenario
def set_detect_anomaly_call(L):
    x = L.tensor([-1.], requires_grad=True)
    L.autograd.set_detect_anomaly(True)
    y = x.sqrt()
    L.autograd.set_detect_anomaly(False)
    r = [L.is_anomaly_enabled(), y.grad_fn.metadata["traceback_"][-1]]
    y.backward()  # anomaly mode is off now: no check, no warning
    return r, x.grad
@scenario
def set_detect_anomaly_context(L):
    x = L.tensor([-1.], requires_grad=True)
    with L.autograd.set_detect_anomaly(True, check_nan=True):
        y = x.sqrt()
        with L.autograd.set_detect_anomaly(False):
            r = [L.is_anomaly_enabled()]
            y.backward(retain_graph=True)
        r.append(L.is_anomaly_enabled())
        y.backward()
@scenario
def nested(L):
    r = []
    with L.autograd.detect_anomaly():
        r.append((L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()))
        with L.autograd.detect_anomaly(check_nan=False):
            r.append((L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()))
            with L.autograd.set_detect_anomaly(False):
                r.append((L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()))
            r.append((L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()))
        r.append((L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()))
    r.append((L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()))
    return r
@scenario
def exit_after_error(L):
    try:
        with L.autograd.detect_anomaly(check_nan=False):
            raise ValueError("inside")
    except ValueError:
        pass
    return L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()
@scenario
def detect_anomaly_as_decorator(L):
    @L.autograd.detect_anomaly()
    def f(x):
        return x
@scenario
def set_detect_anomaly_as_decorator(L):
    try:
        @L.autograd.set_detect_anomaly(True)
        def f(x):
            return x
    except TypeError as e:
        return str(e), L.is_anomaly_enabled()  # the call itself turned it on, as in PyTorch
@scenario
def bad_mode(L):
    return L.autograd.set_detect_anomaly(1)
@scenario
def bad_check_nan(L):
    return L.autograd.set_detect_anomaly(True, check_nan="yes")
@scenario
def bad_check_nan_on_enter(L):
    with L.autograd.detect_anomaly(check_nan=2):
        pass
@scenario
def set_anomaly_enabled(L):
    L.set_anomaly_enabled(True, False)
    r = [L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()]
    L.set_anomaly_enabled(False)
    return r, L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()
@scenario
def set_anomaly_enabled_missing(L):
    L.set_anomaly_enabled()
@scenario
def global_not_per_thread(L):
    r = []
    with L.autograd.set_detect_anomaly(True):
        t = threading.Thread(target=lambda: r.append(L.is_anomaly_enabled()))
        t.start()
        t.join()
    return r
@scenario
def made_outside(L):
    x = L.tensor([-1.], requires_grad=True)
    y = x.sqrt()
    with L.autograd.detect_anomaly():
        y.backward()
@scenario
def metadata(L):
    x = L.tensor([1.], requires_grad=True)
    a = x * 2
    with L.autograd.detect_anomaly():
        b = a.exp()
    return dict(a.grad_fn.metadata), sorted(b.grad_fn.metadata), b.grad_fn.metadata["traceback_"]
@scenario
def error_in_hook(L):
    def hook(grad):
        raise ValueError("bad gradient")
    x = L.tensor([1., 2.], requires_grad=True)
    with L.autograd.detect_anomaly():
        y = x.exp()
        z = y * 3
        y.register_hook(hook)
        z.sum().backward()
@scenario
def error_in_node_hook(L):
    x = L.tensor([1., 2.], requires_grad=True)
    with L.autograd.detect_anomaly():
        y = x.exp()
        y.grad_fn.register_hook(lambda gi, go: 1 / 0)
        y.sum().backward()
@scenario
def inplace_hint(L):
    a = L.tensor([1., 2.], requires_grad=True)
    b = a.exp()
    b.add_(1)
    b.sum().backward()
@scenario
def inplace_hint_anomaly(L):
    a = L.tensor([1., 2.], requires_grad=True)
    with L.autograd.detect_anomaly():
        b = a.exp()
        b.add_(1)
        b.sum().backward()
@scenario
def freed_twice(L):
    x = L.tensor([-1.], requires_grad=True)
    with L.autograd.detect_anomaly():
        z = x.sqrt()
        for _ in range(2):
            try:
                z.backward()
            except RuntimeError as e:
                r = str(e)
    return r
@scenario
def autograd_grad(L):
    x = L.tensor([0., 1.], requires_grad=True)
    with L.autograd.detect_anomaly():
        y = x.log() * x
        return L.autograd.grad(y.sum(), x)
@scenario
def double_backward_parent(L):
    def boom(grads):
        raise ValueError("boom")
    x = L.tensor([1.], requires_grad=True)
    with L.autograd.detect_anomaly():
        y = x.sqrt()
        (g,) = L.autograd.grad(y, x, create_graph=True)
        r = [sorted(g.grad_fn.metadata), g.grad_fn.metadata["parent_"].name()]
        g.grad_fn.register_prehook(boom)
        try:
            g.backward()
        except ValueError as e:
            r.append(str(e))
    return r
@scenario
def double_backward_parent_made_outside(L):
    def boom(grads):
        raise ValueError("boom")
    x = L.tensor([1.], requires_grad=True)
    y = x.sqrt()
    with L.autograd.detect_anomaly():
        (g,) = L.autograd.grad(y, x, create_graph=True)
        g.grad_fn.register_prehook(boom)
        g.backward()
@scenario
def double_backward_nan(L):
    x = L.tensor([0.], requires_grad=True)
    y = x ** 3
    with L.autograd.detect_anomaly():
        (g,) = L.autograd.grad(y, x, create_graph=True)
        (g.sqrt() * 0).backward()
@scenario
def accumulate_grad(L):
    x = L.tensor([1.], requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: 1 / 0)
    with L.autograd.detect_anomaly():
        (x * 2).backward()
@scenario
def copy_slices(L):
    a = L.tensor([4., -1.], requires_grad=True)
    with L.autograd.detect_anomaly():
        b = a * 1
        b[1:].sqrt_()
        b.sum().backward()
@scenario
def no_nan_no_error(L):
    x = L.tensor([0.], requires_grad=True)
    with L.autograd.detect_anomaly():
        x.sqrt().backward()  # inf, not nan
    return x.grad
@scenario
def integer_and_half(L):
    x = L.tensor([-1., 4.], dtype=L.float16, requires_grad=True)
    with L.autograd.detect_anomaly():
        x.sqrt().sum().backward()

@scenario
def custom_function_returns_nan(L):
    class Log(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.log()

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / x * 0
    x = L.tensor([0., 2.], requires_grad=True)
    with L.autograd.detect_anomaly():
        y = Log.apply(x)
        y.sum().backward()
@scenario
def custom_function_backward_raises(L):
    class Fails(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError("no gradient here")
    x = L.tensor([1., 2.], requires_grad=True)
    with L.autograd.detect_anomaly():
        y = Fails.apply(x).exp()
        y.sum().backward()


@pytest.mark.parametrize("name", SCENARIOS)
def test_like_torch(name):
    # one line runs both, so the stacks the two libraries record are the same frames
    expected, got = [outcome(L, SCENARIOS[name]) for L in (torch, gradlab)]
    assert got[0] == expected[0]
    assert [(c, _users(w)) for c, w in got[1]] == [(c, _users(w)) for c, w in expected[1]]


LIBRARIES = (torch.__file__.rsplit("/", 1)[0], gradlab.__file__.rsplit("/", 1)[0])


def _users(text):
    """A warning's text without the frames of torch's or gradlab's own files (torch has Python
    frames where gradlab has others: nn.Module, autograd.grad calling the C++ engine)."""
    lines = text.split("\n")
    out, skip = [], False
    for line in lines:
        if skip and line.startswith("    "):
            skip = False
            continue
        skip = line.startswith(tuple(f'  File "{lib}/' for lib in LIBRARIES))
        if not skip:
            out.append(line)
    return "\n".join(out)


def _warned(L, run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run(L)
        except RuntimeError as e:
            error = str(e)
    return error, [str(w.message) for w in caught]


def test_the_texts():
    """The texts themselves (the scenarios compare gradlab with torch, this pins them down)."""
    def run(L):
        x = L.tensor([-1.], requires_grad=True)
        with L.autograd.detect_anomaly():
            y = x.sqrt()
            y.backward()
    error, (entered, detected) = _warned(gradlab, run)
    assert error == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert entered == ("Anomaly Detection has been enabled. This mode will increase the runtime "
                       "and should only be enabled for debugging.")
    head, *frames = detected.split("\n")
    assert head == ("Error detected in SqrtBackward0. Traceback of forward call that caused the "
                    "error:")
    assert frames[-3:] == [f'  File "{__file__}", line {run.__code__.co_firstlineno + 3}, in run',
                           "    y = x.sqrt()",
                           " (Triggered internally at /__w/pytorch/pytorch/torch/csrc/autograd/"
                           "python_anomaly_mode.cpp:122.)"]


def test_warning_points_at_the_users_line():
    x = gradlab.tensor([-1.], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with gradlab.autograd.detect_anomaly():
            y = x.sqrt()
            with pytest.raises(RuntimeError):
                line = _line() + 1
                y.backward()
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line - 4), (__file__, line)]


def _line():
    import sys
    return sys._getframe(1).f_lineno


def _own_frames(warning):
    """The lines of a traceback warning that name this file, with their code lines."""
    lines = warning.split("\n")
    return [(a, b) for a, b in zip(lines, lines[1:]) if a.startswith(f'  File "{__file__}"')]


def test_module_forward_user_frames():
    """nn.Module and nn.functional are Python in PyTorch: compare this file's frames."""
    class Net:
        def __init__(self, L):
            self.fc = L.nn.Linear(2, 1)

        def __call__(self, x):
            return (self.fc(x) * 0).sqrt()

    def run(L):
        L.manual_seed(0)
        net = Net(L)
        with L.autograd.detect_anomaly():
            loss = L.nn.functional.mse_loss(net(L.tensor([[-1., -2.]])), L.tensor([[0.]]))
            loss.backward()
    (t_err, t_warn), (g_err, g_warn) = [_warned(L, run) for L in (torch, gradlab)]
    assert g_err == t_err == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert len(t_warn) == len(g_warn) == 2
    assert _own_frames(g_warn[1]) == _own_frames(t_warn[1])
    assert [code for _, code in _own_frames(g_warn[1])][-2:] == [
        "    loss = L.nn.functional.mse_loss(net(L.tensor([[-1., -2.]])), L.tensor([[0.]]))",
        "    return (self.fc(x) * 0).sqrt()"]
    assert _users(g_warn[1]) == _users(t_warn[1])


@pytest.mark.parametrize("filename", ["<string>", "/tmp/ipykernel_7/2851.py"])
def test_code_without_a_file(filename):
    """Code exec'd from a string (no source lines), and a notebook cell (lines in linecache)."""
    source = ("x = L.tensor([-1.], requires_grad=True)\n"
              "with L.autograd.detect_anomaly():\n"
              "    y = x.sqrt()\n"
              "    y.backward()\n")
    if filename != "<string>":
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec")
        (t_err, t_warn), (g_err, g_warn) = (_warned(L, lambda L: exec(code, {"L": L}))
                                            for L in (torch, gradlab))
    finally:
        linecache.cache.pop(filename, None)
    assert g_err == t_err and g_warn == t_warn
    cell = f'  File "{filename}", line 3, in <module>\n'
    assert cell + ("    y = x.sqrt()\n" if filename != "<string>" else "") + " (Triggered" in \
        g_warn[1]


def test_recorded_only_in_anomaly_mode():
    x = gradlab.tensor([1.], requires_grad=True)
    assert x.exp().grad_fn.metadata == {}
    gradlab.set_anomaly_enabled(True)
    assert list(x.exp().grad_fn.metadata) == ["traceback_"]


def test_exception_thrown_into_the_pass_is_not_the_nodes():
    """An exception a consumer throws into the event stream warns of no node."""
    from gradlab.autograd import backward_stream
    x = gradlab.tensor([1.], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with gradlab.autograd.set_detect_anomaly(True):
            events = backward_stream(x.exp(), trace=True)
            next(events)
            with pytest.raises(KeyError):
                events.throw(KeyError("consumer"))
    assert caught == []


def test_no_parent_left_behind():
    """The pass after anomaly mode: no parent recorded, nothing left running."""
    from gradlab.autograd import anomaly_mode
    x = gradlab.tensor([2.], requires_grad=True)
    with gradlab.autograd.set_detect_anomaly(True):
        (g,) = gradlab.autograd.grad(x.sqrt(), x, create_graph=True)
    assert getattr(anomaly_mode._running, "node", None) is None
    h = g * 2
    assert list(h.grad_fn.metadata) == []
