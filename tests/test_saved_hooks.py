"""Saved-tensor hooks (torch.autograd.graph) against PyTorch: when the hooks run, what they see,
what ``_saved_*`` and backward get back, the errors, and the engine's pack/unpack events."""
import contextlib
import io
import re

import pytest

import gradlab
from gradlab.autograd import SavedTensorPacked, SavedTensorUnpacked, backward_events

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")
LIBS = (gradlab, torch)


def printed(program, lib):
    """What ``program(lib, out)`` printed (``out`` is its print), addresses masked."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        lib.manual_seed(0)
        program(lib, print)
    return re.sub(r"0x[0-9a-f]+", "0x…", buffer.getvalue())


def assert_same_print(program):
    got, expected = printed(program, gradlab), printed(program, torch)
    assert got == expected


def outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - the type and text are compared
        return type(e).__name__, str(e).replace(hex(id(e)), "")


def logging_hooks(lib, out, tag="", pack=lambda t: t.detach(), unpack=lambda p: p):
    def pack_hook(t):
        out(f"{tag}pack", t, t.requires_grad, lib.is_grad_enabled())
        return pack(t)

    def unpack_hook(p):
        out(f"{tag}unpack", p, lib.is_grad_enabled())
        return unpack(p)
    return lib.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook)


OPS = {
    "mul": lambda x, w: x * w, "div": lambda x, w: x / w, "pow_tt": lambda x, w: x.pow(w),
    "pow_ts": lambda x, w: x ** 3, "rpow": lambda x, w: 2 ** x, "exp": lambda x, w: x.exp(),
    "tanh": lambda x, w: x.tanh(), "mm": lambda x, w: x[None] @ w[:, None],
    "maximum": lambda x, w: x.maximum(w), "where": lambda x, w: x.where(x > 1.5, w),
    "scalar": lambda x, w: x * 2.0, "chain": lambda x, w: (x * w).exp() * x,
    "mul_": lambda x, w: x.clone().mul_(w), "exp_": lambda x, w: x.clone().exp_(),
    "exp_view": lambda x, w: _exp_view(x), "sum": lambda x, w: (x * x).sum(),
}


def _exp_view(x):
    y = x.clone()
    y[:1].exp_()
    return y


@pytest.mark.parametrize("op", OPS)
def test_pack_and_unpack_calls(op):
    """The pack hook sees each saved tensor (grad_fn and all, grad mode off) in PyTorch's order;
    backward unpacks each once, in PyTorch's order, and gets PyTorch's gradients."""
    def program(lib, out):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 4.], requires_grad=True)
        with logging_hooks(lib, out):
            y = OPS[op](x, w)
        out("backward")
        y.sum().backward()
        out(x.grad, w.grad)
    assert_same_print(program)


def test_saved_attributes_and_freeing():
    """``_saved_*`` unpacks each time it is read, into a new tensor with the saved one's place in
    the graph; retain_graph unpacks again; freed tensors raise PyTorch's error."""
    def program(lib, out):
        x = lib.tensor([1., 2.], requires_grad=True)
        with logging_hooks(lib, out, pack=lambda t: ("P", t.detach()), unpack=lambda p: p[1]):
            y = x.exp()
            z = y * x
        for name in ("self", "other"):
            s = getattr(z.grad_fn, "_saved_" + name)
            out(name, s, s is x, s is y, s.is_leaf, s.requires_grad, s.grad_fn is y.grad_fn)
        r = y.grad_fn._saved_result
        out(r, r is y, r.grad_fn is y.grad_fn)
        z.sum().backward(retain_graph=True)
        z.sum().backward()
        out(x.grad)
        out(*outcome(lambda: z.grad_fn._saved_self))
        out(*outcome(lambda: z.sum().backward()))
    assert_same_print(program)


def test_nested_hooks_innermost_applies_and_numbers_are_not_packed():
    def program(lib, out):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 4.], requires_grad=True)
        with logging_hooks(lib, out, "outer "):
            with logging_hooks(lib, out, "inner "):
                y = x * w
            z = y * x * 2.0
        z.sum().backward()
        out(x.grad)
    assert_same_print(program)


def test_hooks_do_not_check_versions_and_see_pack_results():
    """No version check under hooks: a pack hook that keeps the tensor sees its later change; one
    that clones does not."""
    def program(lib, out):
        x = lib.tensor([1., 2.], requires_grad=True)
        for pack in (lambda t: t, lambda t: t.clone()):
            a = x.clone()
            with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                b = a.pow(2)
            a.mul_(10)
            out(lib.autograd.grad(b.sum(), x))
    assert_same_print(program)


def test_unpack_results_of_another_kind():
    def program(lib, out):
        x = lib.tensor([1., 2.], requires_grad=True)
        for unpack in (lambda p: 3, lambda p: lib.ones(3), lambda p: lib.ones(2, dtype=lib.float64),
                       lambda p: lib.ones(1)):
            with lib.autograd.graph.saved_tensors_hooks(lambda t: t, unpack):
                y = x.pow(2)
            out(*outcome(lambda: y.grad_fn._saved_self))
            out(*outcome(lambda: lib.autograd.grad(y.sum(), x)))
    assert_same_print(program)


def test_double_backward_through_unpacked_tensors():
    """The tensor unpacked takes the saved one's place: a create_graph backward differentiates
    through it to the leaf, and ops it records under the hooks pack too."""
    def program(lib, out):
        x = lib.tensor([1., 2.], requires_grad=True)
        with logging_hooks(lib, out):
            y = x.pow(3)
            (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        out(g)
        g.sum().backward()
        out(x.grad)
        with logging_hooks(lib, out):
            s = x.pow(2).grad_fn._saved_self
        (s * 1).sum().backward()
        out(x.grad, s.grad)
    assert_same_print(program)


def test_errors_of_the_context_managers():
    def program(lib, out):
        g = lib.autograd.graph
        x = lib.tensor([1., 2.], requires_grad=True)

        def enter(cm):
            with cm:
                return x.pow(2).grad_fn.name()
        out(*outcome(lambda: enter(g.saved_tensors_hooks(lambda t: t, lambda t: t))))
        with g.disable_saved_tensors_hooks("no hooks here"):
            out(*outcome(lambda: enter(g.saved_tensors_hooks(lambda t: t, lambda t: t))))
            out(*outcome(lambda: enter(g.save_on_cpu())))
            with g.disable_saved_tensors_hooks("inner message"):
                out(*outcome(lambda: enter(g.save_on_cpu())))
            out(*outcome(lambda: enter(g.save_on_cpu())))
        out(*outcome(lambda: enter(g.save_on_cpu())))
        with g.saved_tensors_hooks(lambda t: t, lambda t: t):
            out(*outcome(lambda: enter(g.disable_saved_tensors_hooks("hooks are on"))))
        out(*outcome(lambda: enter(g.disable_saved_tensors_hooks("fine"))))

        def modifies(t):
            t.add_(1)
            return t
        with g.saved_tensors_hooks(modifies, lambda t: t):
            out(*outcome(lambda: x.clone().pow(2)))
        out(*outcome(lambda: enter(g.saved_tensors_hooks(1, 2))))
    assert_same_print(program)


def test_register_hooks_on_one_saved_tensor():
    def program(lib, out):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x.pow(2)
        raw = y.grad_fn._raw_saved_self
        out(repr(raw).split(" object")[0], raw.data, raw.unpack_hook, raw.unpack())
        out(*outcome(lambda: raw.register_hooks(lambda t: t)))
        out(*outcome(lambda: raw.register_hooks(lambda t: t, 2)))

        def pack(t):
            out("pack", t, t.requires_grad)
            return ("packed", t * 1)
        raw.register_hooks(pack, lambda p: out("unpack", p) or p[1])
        out(raw.data, raw.unpack_hook is not None)
        out(*outcome(lambda: raw.register_hooks(lambda t: t, lambda t: t)))
        out(y.grad_fn._saved_self)
        y.sum().backward()
        out(x.grad, raw.data, raw.unpack_hook)
        out(*outcome(lambda: raw.register_hooks(lambda t: t, lambda t: t)))
        out(*outcome(raw.unpack))
        e = x.exp()
        r = e.grad_fn._raw_saved_result
        out(r.data, r.data is e)
        r.register_hooks(lambda t: out("pack result", t) or t, lambda t: t)
        e.sum().backward()
        out(x.grad)
        out(*outcome(lambda: (x * 2.0).grad_fn._raw_saved_self.register_hooks(
            lambda t: t, lambda t: t)))
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            z = x.pow(2)
        out(*outcome(lambda: z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)))
    assert_same_print(program)


def test_register_hooks_type_error_names_the_arguments():
    for lib in LIBS:
        raw = lib.tensor([1.], requires_grad=True).pow(2).grad_fn._raw_saved_self
        kind, text = outcome(lambda: raw.register_hooks(1, 2))
        assert kind == "TypeError"
        assert text.endswith(f"Invoked with: {raw!r}, 1, 2")
        assert text.startswith("register_hooks(): incompatible function arguments. The following "
                               "argument types are supported:\n    1. (self: torch._C._autograd."
                               "SavedTensor, arg0: collections.abc.Callable, arg1: collections."
                               "abc.Callable) -> None\n\n")


def test_save_on_cpu():
    """On a CPU build the CPU copy is the tensor itself (pin_memory: a copy)."""
    def program(lib, out):
        x = lib.tensor([1., 2.], requires_grad=True)
        for pin in (False, True):
            with lib.autograd.graph.save_on_cpu(pin_memory=pin):
                y = x * x
            packed = y.grad_fn._raw_saved_self.data
            out(packed, packed[1] is x, y.grad_fn._saved_self is x)
            y.sum().backward()
        out(x.grad)
    assert_same_print(program)


# ---- PyTorch's tutorial "Hooks for autograd saved tensors" --------------------------------------
# (pytorch/tutorials, intermediate_source/autograd_saved_tensors_hooks_tutorial.py), step by step.
# Left out: saving to disk (torch.save / torch.load, which gradlab does not implement) and
# nn.DataParallel (not in gradlab); every other program of the tutorial is here.

def tutorial(lib, out):
    nn = lib.nn
    a = lib.randn(5, requires_grad=True)
    b = lib.ones(5, requires_grad=True)
    y = a * b
    out(y.grad_fn._saved_self)
    out(y.grad_fn._saved_other)
    out(y.grad_fn._saved_self is a, y.grad_fn._saved_other is b)

    x = lib.randn(5, requires_grad=True)
    y = x * x * x * x * x * x * x * x  # the tutorial's f(f(f(x))) saves every product
    y = lib.exp(a)
    out(y.grad_fn._saved_result.equal(y), y.grad_fn._saved_result is y)

    def pack_hook(t):
        out("Packing", t)
        return t

    def unpack_hook(t):
        out("Unpacking", t)
        return t
    a = lib.ones(5, requires_grad=True)
    b = lib.ones(5, requires_grad=True) * 2
    with lib.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
        y = a * b
    y.sum().backward()

    x = lib.randn(5, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 4, lambda t: t / 4):
        y = lib.pow(x, 2)
    y.sum().backward()
    out(x.grad.equal(2 * x))

    storage = []

    def pack_index(t):
        storage.append(t)
        return len(storage) - 1
    x = lib.randn(5, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack_index, lambda i: storage[i]):
        y = x * x
    y.sum().backward()
    out(x.grad.equal(2 * x), len(storage))

    def pack_tuple(t):
        delta = lib.randn(*t.size())
        return t - delta, lambda u: u + delta
    x = lib.randn(5, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack_tuple, lambda p: p[1](p[0])):
        y = x * x
    y.sum().backward()
    out(lib.allclose(x.grad, 2 * x))

    x = lib.randn(5, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(repr, lambda s: eval(s, {"tensor": lib.tensor})):
        y = x * x
    y.sum().backward()
    out(lib.all(x.grad - 2 * x <= 1e-4))

    x = lib.randn(5, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: (t.device, t.cpu()),
                                                lambda p: p[1].to(p[0])):
        y = x * x
    y.sum().backward()
    out(lib.allclose(x.grad, 2 * x))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.randn(5))

        def forward(self, x):
            with lib.autograd.graph.save_on_cpu(pin_memory=True):
                return self.w * x

    model = Model()
    model(lib.randn(5)).sum().backward()
    out(model.w.grad)

    class SaveToCpu(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, *args, **kwargs):
            with lib.autograd.graph.save_on_cpu(pin_memory=True):
                return self.module(*args, **kwargs)

    model = nn.Sequential(nn.Linear(10, 100), SaveToCpu(nn.Linear(100, 100)), nn.Linear(100, 10))
    model(lib.randn(10)).sum().backward()
    out(model[1].module.weight.grad.sum())

    calls = []
    x = lib.ones(5, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: [t], lambda box: box.pop()):
        y = x.pow(2)  # an unpack hook that can run once (the tutorial's file removed on unpack)
    out(y.grad_fn._saved_self)
    try:
        out(y.grad_fn._saved_self)
        calls.append("Double access succeeded!")
    except Exception:  # noqa: BLE001 - as the tutorial: it fails, whatever the error
        calls.append("Double access failed!")
    out(*calls)


def test_tutorial_prints_what_pytorch_prints():
    assert_same_print(tutorial)



def _custom_function(lib):
    class Exp2(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            a, b = x.exp(), y * 2
            ctx.save_for_backward(b, x, a)
            return a, b

        @staticmethod
        def backward(ctx, ga, gb):
            b, x, a = ctx.saved_tensors
            return ga * a, gb * b
    return Exp2


def test_custom_function_saves_through_the_hooks():
    def program(lib, out):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0], requires_grad=True)
        with logging_hooks(lib, out, pack=lambda t: ("p", t), unpack=lambda p: p[1]):
            a, b = _custom_function(lib).apply(x, y)
        saved = b.grad_fn.saved_tensors
        out([t.grad_fn is b.grad_fn for t in saved], saved[0]._version, saved[2].requires_grad)
        (a.sum() + b.sum()).backward()
        out(x.grad, y.grad)
        out(outcome(lambda: b.grad_fn.saved_tensors))
    assert_same_print(program)


# ---- engine events -------------------------------------------------------------------------------

def test_unpack_events_follow_the_node_that_read_them():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    with gradlab.autograd.graph.saved_tensors_hooks(lambda t: ("p", t.detach()), lambda p: p[1]):
        y = (x.exp() * x).sum()
    events = list(backward_events([(y.grad_fn, 0)], [gradlab.ones(())]))
    names = [(type(e).__name__, e.node.name(), getattr(e, "name", "")) for e in events
             if type(e).__name__ in ("GradsComputed", "SavedTensorUnpacked")]
    assert names == [
        ("GradsComputed", "SumBackward0", ""),
        ("SavedTensorUnpacked", "MulBackward0", "other"),
        ("SavedTensorUnpacked", "MulBackward0", "self"),
        ("GradsComputed", "MulBackward0", ""),
        ("SavedTensorUnpacked", "ExpBackward0", "result"),
        ("GradsComputed", "ExpBackward0", "")]
    unpacked = [e for e in events if isinstance(e, SavedTensorUnpacked)]
    assert unpacked[0].value.tolist() == [1., 2.]
    assert unpacked[2].value.tolist() == pytest.approx([2.7182817, 7.389056])
    assert "SavedTensorUnpacked(node=MulBackward0, name='other', value=tensor([1., 2.]))" in \
        repr(unpacked[0])


def test_pack_events_for_nodes_recorded_by_the_pass():
    x = gradlab.tensor([1., 2.], requires_grad=True)
    y = x.pow(3).sum()
    with gradlab.autograd.graph.saved_tensors_hooks(lambda t: ("p", t), lambda p: p[1]):
        events = list(backward_events([(y.grad_fn, 0)], [gradlab.ones(())], create_graph=True))
    packed = [e for e in events if isinstance(e, SavedTensorPacked)]
    assert packed and all(e.packed[0] == "p" for e in packed)
    assert not [e for e in events if isinstance(e, SavedTensorUnpacked)]  # saved without hooks


def test_untraced_pass_keeps_no_log():
    from gradlab.autograd.grad_mode import _local
    x = gradlab.tensor([1., 2.], requires_grad=True)
    with gradlab.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (x * x).sum()
    y.backward()
    assert _local.saved_log is None and x.grad.tolist() == [2., 4.]


# ---- the rest of torch.autograd.graph ------------------------------------------------------------

def test_register_multi_grad_hook():
    def program(lib, out):
        g = lib.autograd.graph
        a = lib.tensor([1., 2.], requires_grad=True)
        b = lib.tensor([3., 4.], requires_grad=True)
        c, d = a * b, a * b
        handle = g.register_multi_grad_hook((a, b, c, d),
                                            lambda gs: out([x is not None for x in gs]))
        c.sum().backward(retain_graph=True)
        c.sum().backward(inputs=(a,), retain_graph=True)
        (c.sum() + d.sum()).backward(retain_graph=True)
        out(*outcome(lambda: lib.autograd.grad(d.sum(), (b,), retain_graph=True)))
        out(lib.autograd.grad(d.sum(), (d,), retain_graph=True))
        handle.remove()
        c.sum().backward(retain_graph=True)
        handle = g.register_multi_grad_hook((a, b, c), lambda grad: out("any", grad), mode="any")
        (c.sum() + d.sum()).backward(retain_graph=True)
        c.sum().backward(retain_graph=True)
        handle.remove()
        d.sum().backward()
        out(*outcome(lambda: g.register_multi_grad_hook((a,), out, mode="some")))
    assert_same_print(program)


def test_increment_version_and_node_basics():
    def program(lib, out):
        g = lib.autograd.graph
        x = lib.tensor([1.], requires_grad=True)
        c = x.clone()
        y = c.pow(2)
        g.increment_version(c)
        g.increment_version([c, c])
        out(c._version, *outcome(lambda: y.backward()))
        with lib.inference_mode():
            i = lib.ones(1)
        g.increment_version(i)
        y = (x * 2).exp()
        fn = y.grad_fn
        out(fn.name(), fn.metadata, isinstance(fn, g.Node))
        fn.metadata["k"] = 1
        out(y.grad_fn.metadata)
        fn.register_prehook(lambda go: out("pre", go))
        fn.register_hook(lambda gi, go: out("post", gi, go))
        y.sum().backward()
    assert_same_print(program)


def test_allow_mutation_on_saved_tensors():
    """In-place changes of saved tensors (and of their views, in no_grad too) clone them first;
    backward must run inside the context; contexts do not nest."""
    def program(lib, out):
        g = lib.autograd.graph
        a = lib.ones(2, 3, requires_grad=True)
        with g.allow_mutation_on_saved_tensors() as ctx:
            b = a.clone()
            loss = (b ** 2).sum()
            b.exp_()
            loss.backward()
            out(a.grad, b, type(ctx).__name__)
            c = a.clone()
            loss = (c * c).sum()
            c[0].mul_(3)
            with lib.no_grad():
                c.add_(1)
            loss.backward()
            out(a.grad, c)

            def nested():
                with g.allow_mutation_on_saved_tensors():
                    pass
            out(*outcome(nested))
            d = a.clone()
            loss = d.exp().sum()
            d.zero_()
            out(*outcome(loss.backward))  # the failed nesting left the context off, as in PyTorch
        with g.allow_mutation_on_saved_tensors():
            e = a.clone()
            loss = (e * e).sum()
        out(*outcome(loss.backward))
        e = a.clone()
        loss = (e * e).sum()
        e.add_(1)
        out(*outcome(loss.backward))
    assert_same_print(program)


def _custom_function_with_hooks(L):
    """A custom Function saving an input, its output and another input under hooks."""
    log = []

    class Mul(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            out = x * y
            ctx.save_for_backward(y, out, x)
            return out

        @staticmethod
        def backward(ctx, grad):
            y, out, x = ctx.saved_tensors
            return grad * y, grad * x + out * 0

    def pack(t):
        log.append(("pack", t.tolist(), t.grad_fn is not None))
        return t * 1

    def unpack(t):
        log.append(("unpack", t.tolist()))
        return t

    x = L.tensor([1.0, 3.0], requires_grad=True)
    y = L.tensor([2.0, -1.0], requires_grad=True)
    with L.autograd.graph.saved_tensors_hooks(pack, unpack):
        z = Mul.apply(x, y)
    raw = z.grad_fn._raw_saved_tensors
    kinds = (type(raw).__name__, len(raw), [r.data is not None for r in raw])
    z.sum().backward()
    return log, kinds, x.grad.tolist(), y.grad.tolist()


def test_custom_function_saves_through_the_hooks_as_pytorch_does():
    torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")
    assert _custom_function_with_hooks(gradlab) == _custom_function_with_hooks(torch)


def test_custom_function_raw_saved_tensors_take_hooks():
    torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

    def run(L):
        log = []

        class Square(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        x = L.tensor([1.5, -2.0], requires_grad=True)
        y = Square.apply(x)
        (raw,) = y.grad_fn._raw_saved_tensors
        raw.register_hooks(lambda t: log.append("pack") or t * 10,
                           lambda t: log.append("unpack") or t / 10)
        with pytest.raises(RuntimeError) as error:
            raw.register_hooks(lambda t: t, lambda t: t)
        y.sum().backward()
        return log, x.grad.tolist(), str(error.value)
    assert run(gradlab) == run(torch)


def test_saved_lists_of_tensors_pack_each_tensor():
    """Indexing with tensors saves its indices as a list (PyTorch's TensorList): the pack hook
    sees each index tensor itself, in order (no call for an unindexed dim), ``_saved_indices``
    unpacks each, and backward unpacks each once."""
    def program(lib, out):
        x = lib.arange(12.).reshape(3, 4).requires_grad_()
        i0, i1 = lib.tensor([0, 2]), lib.tensor([1, 3])
        mask = lib.tensor([True, False, True])
        with logging_hooks(lib, out, pack=lambda t: (t is i0, t is i1, t is mask, t),
                           unpack=lambda p: p[3]):
            y = x[i0, None, i1]
            out(y.grad_fn._saved_indices)
            z = x[:, i1] * x[mask].sum()
            w = x[[0, 1]]
            b = x.clone()
            b[i0] = lib.tensor([5.])
            out(b.grad_fn, b.grad_fn._saved_indices)
            c = x.clone().index_put((i0, i1), lib.tensor(1.), accumulate=True)
        out("backward")
        (y.sum() * 2 + z.sum() + w.sum()).backward()
        out(x.grad)
        (b.sum() + c.sum()).backward()
        out(x.grad)
        out(outcome(lambda: y.grad_fn._saved_indices))
    assert_same_print(program)


def test_saved_index_tensors_are_version_checked():
    def program(lib, out):
        x = lib.arange(12.).reshape(3, 4).requires_grad_()
        i0 = lib.tensor([0, 2])
        y = x[:, i0] * 1
        out(y.grad_fn.next_functions[0][0]._saved_indices)
        i0.add_(1)
        out(outcome(lambda: y.grad_fn.next_functions[0][0]._saved_indices))
        out(outcome(lambda: y.sum().backward()))
    assert_same_print(program)


def test_raw_saved_list_is_a_tuple_of_saved_tensors():
    """``_raw_saved_indices`` is one SavedTensor per entry (None for an unindexed dim), each
    taking hooks of its own."""
    def program(lib, out):
        x = lib.arange(12.).reshape(3, 4).requires_grad_()
        i0 = lib.tensor([0, 2])
        y = x[i0, None, i0]
        raw = y.grad_fn._raw_saved_indices
        out(type(raw).__name__, len(raw), [s.data for s in raw], [s.unpack_hook for s in raw])
        hooks = (lambda t: out("pack", t) or t, lambda t: out("unpack", t) or t)
        out(outcome(lambda: raw[1].register_hooks(*hooks)))
        raw[0].register_hooks(*hooks)
        out(outcome(lambda: raw[0].register_hooks(*hooks)))
        out(y.grad_fn._saved_indices)
        out(raw[0].unpack_hook is not None, raw[2].unpack_hook, raw[0].unpack(), raw[2].unpack(),
            raw[1].unpack())
        y.sum().backward()
        out(x.grad)
        out(type(x[:, i0].grad_fn._raw_saved_indices).__name__)
    assert_same_print(program)
