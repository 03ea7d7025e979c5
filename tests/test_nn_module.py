"""torch.nn.Module's machinery vs gradlab's: hooks (their order, arguments and the graph they
leave), state_dict / load_state_dict, traversal, conversions, containers and reprs; nn.init's
draws and nn.utils' clipping and flattening.

Each scenario runs on both libraries and logs what a user would see (reprs of small tensors whose
values are exact on every CPU, names, error and warning texts); values from PyTorch's vectorised
kernels (norms, QR) are compared to a tolerance, seeded draws bit for bit under ``avx2_kernels``.
"""
import sys
import warnings
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from helpers import avx2_kernels, both  # noqa: E402
from outcomes import graph  # noqa: E402


def logged(build):
    """build(lib, log) on both libraries; log(x) records x, a call's error or its warnings."""
    def run(lib):
        out = []

        def log(*items):
            out.append(tuple(_plain(i) for i in items))

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            build(lib, log)
        out.append([(w.category.__name__, str(w.message)) for w in caught])
        return out
    return both(run)


def _plain(x):
    if isinstance(x, (tuple, list)):
        return type(x).__name__, [_plain(i) for i in x]
    if isinstance(x, (torch.Tensor, gradlab.Tensor, torch.dtype, gradlab.dtype)):
        return repr(x)
    if isinstance(x, (torch.nn.Module, gradlab.nn.Module)):
        return repr(x)
    return x


def attempt(log, fn):
    try:
        log("ok", fn())
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        log(type(e).__name__, _torch_paths(str(e)))


def _torch_paths(text):
    """A text naming a class by its module path, with gradlab's paths as PyTorch's."""
    for ours, theirs in (("gradlab.nn.container", "torch.nn.modules.container"),
                         ("gradlab.nn.module", "torch.nn.modules.module")):
        text = text.replace(ours, theirs)
    return text


def assert_same(build):
    g, t = logged(build)
    assert g == t


# ---- forward hooks -----------------------------------------------------------------------------

class _Scale:
    """A module that multiplies by k (keyword) and counts its calls."""

    @staticmethod
    def make(lib):
        class Scale(lib.nn.Module):
            def forward(self, x, k=1):
                if k == 0:
                    raise ValueError("k must not be 0")
                return x * k
        return Scale()


def test_forward_pre_hooks_order_kwargs_and_results():
    def build(lib, log):
        m = _Scale.make(lib)
        x = lib.ones(2)
        m.register_forward_pre_hook(lambda mod, args: log("pre1", args))
        m.register_forward_pre_hook(lambda mod, args: log("pre0", args), prepend=True)
        h = m.register_forward_pre_hook(lambda mod, args, kw: ((args[0] * 3,), {"k": 2}),
                                        with_kwargs=True)
        m.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # one value: wrapped
        log(m(x, k=5))
        h.remove()
        log(m(x, k=5), len(m._forward_pre_hooks), len(m._forward_pre_hooks_with_kwargs))
        m.register_forward_pre_hook(lambda mod, args, kw: 7, with_kwargs=True)
        attempt(log, lambda: m(x))
    assert_same(build)


def test_forward_hooks_order_kwargs_always_call_and_handles():
    def build(lib, log):
        m = _Scale.make(lib)
        x = lib.ones(2)
        m.register_forward_hook(lambda mod, args, out: log("h1", args, out))
        m.register_forward_hook(lambda mod, args, out: out * 10, prepend=True)
        m.register_forward_hook(lambda mod, args, kw, out: log("kw", args, kw, out),
                                with_kwargs=True)
        always = m.register_forward_hook(lambda mod, args, kw, out: log("always", args, kw, out),
                                         with_kwargs=True, always_call=True)
        log(m(x, k=2))
        attempt(log, lambda: m(x, k=0))  # forward raises: only the always-called hook runs
        always.remove()
        log(len(m._forward_hooks_always_called), len(m._forward_hooks_with_kwargs))
        bad = m.register_forward_hook(lambda mod, args, out: 1 / 0, always_call=True)
        attempt(log, lambda: m(x, k=0))  # its own error is silenced with a warning
        bad.remove()
        with m.register_forward_hook(lambda mod, args, out: out + 1) as h:
            log(m(x), type(h).__name__)
        log(m(x))
    assert_same(build)


# ---- backward hooks ----------------------------------------------------------------------------

def _two_way(lib):
    class TwoWay(lib.nn.Module):
        def forward(self, x, y, k=1):
            return x * y * k, y + 1
    return TwoWay()


def test_full_backward_hooks_arguments_order_and_graph():
    def build(lib, log):
        m = _two_way(lib)
        m.register_full_backward_pre_hook(lambda mod, go: log("pre", go))
        m.register_full_backward_hook(lambda mod, gi, go: log("full", gi, go))
        m.register_full_backward_hook(lambda mod, gi, go: log("first", gi, go), prepend=True)
        x = lib.ones(2, requires_grad=True)
        a, b = m(x, lib.full((2,), 2.0), k=3)
        log(graph(a.grad_fn), b.grad_fn, a._base is not None)
        a.sum().backward()
        log(x.grad)
        y = lib.full((2,), 2.0, requires_grad=True)
        a, b = m(lib.ones(2), y)
        (a + b).sum().backward()
        log(y.grad, m(lib.ones(2), lib.ones(2))[0].requires_grad)
        with lib.no_grad():
            log(m(x, y)[0].grad_fn)
    assert_same(build)


def test_full_backward_hooks_replace_gradients_and_check_lengths():
    def build(lib, log):
        lin = lib.nn.Linear(2, 2)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
        pre = lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
        full = lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] + 100,))
        x = lib.ones(1, 2, requires_grad=True)
        out = lin(x)
        log(graph(out.grad_fn, 3))
        out.sum().backward()
        log(x.grad, lin.weight.grad)
        pre.remove()
        full.remove()
        lin.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        attempt(log, lambda: lin(x).sum().backward())
        lin2 = lib.nn.Linear(2, 1)
        lin2.register_full_backward_pre_hook(lambda mod, go: ())
        attempt(log, lambda: lin2(x).sum().backward())
    assert_same(build)


def test_full_backward_hook_without_inputs_needing_grad():
    def build(lib, log):
        lin = lib.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda mod, gi, go: log("hook", gi, go))
        out = lin(lib.ones(1, 2))
        out.sum().backward()
        lin2 = lib.nn.Linear(2, 2)
        lin2.register_full_backward_hook(lambda mod, gi, go: (lib.ones(1, 2),))
        attempt(log, lambda: lin2(lib.ones(1, 2)).sum().backward())
        m = lib.nn.Identity()
        m.register_full_backward_hook(lambda mod, gi, go: None)
        log(m(3))
    assert_same(build)


def test_regular_backward_hooks_and_mixing_errors():
    def build(lib, log):
        lin = lib.nn.Linear(2, 1)
        lin.register_backward_hook(lambda mod, gi, go: log("old", [g is None for g in gi], go))
        attempt(log, lambda: lin.register_full_backward_hook(lambda *a: None))
        lin(lib.ones(1, 2, requires_grad=True)).sum().backward()
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh())
        seq.register_backward_hook(lambda mod, gi, go: log("seq", len(gi)))
        seq(lib.ones(1, 2)).sum().backward()
        full = lib.nn.Tanh()
        full.register_full_backward_hook(lambda *a: None)
        attempt(log, lambda: full.register_backward_hook(lambda *a: None))
    assert_same(build)


# ---- state_dict --------------------------------------------------------------------------------

def _net(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.register_buffer("running", lib.zeros(2))
            self.register_buffer("scratch", lib.ones(1), persistent=False)
            self.register_buffer("empty", None)
            self.seq = nn.Sequential(nn.Linear(2, 1), nn.Tanh())

        def forward(self, x):
            return self.seq(self.fc(x))
    return Net()


def test_state_dict_keys_values_and_metadata():
    def build(lib, log):
        n = _net(lib)
        sd = n.state_dict()
        log(type(sd).__name__, list(sd), dict(sd._metadata), sd["seq.0.bias"].requires_grad)
        log(list(n.state_dict(prefix="p.", keep_vars=True)),
            n.state_dict(keep_vars=True)["fc.weight"] is n.fc.weight)
        log(list(n.state_dict(None, "q.")))  # positional: FutureWarning
        dest = {}
        log(n.state_dict(destination=dest) is dest, list(dest))
        log(n.seq.state_dict()["0.weight"].shape)
    assert_same(build)


def test_load_state_dict_errors_and_results():
    def build(lib, log):
        n = _net(lib)
        sd = {k: v + 1 for k, v in n.state_dict().items()}
        v = n.fc.weight._version
        log(repr(n.load_state_dict(sd)), n.fc.weight._version - v, n.running)
        bad = dict(sd)
        bad["fc._extra_state"] = 1
        bad["seq.2.weight"] = lib.ones(1)
        bad["nothing"] = lib.ones(1)
        del bad["running"]
        bad["seq.0.weight"] = lib.ones(3)
        attempt(log, lambda: n.load_state_dict(bad))
        attempt(log, lambda: repr(n.load_state_dict(bad, strict=False)))
        attempt(log, lambda: n.load_state_dict({"fc.weight": 3}, strict=False))
        attempt(log, lambda: n.load_state_dict([1]))
        keys = n.load_state_dict({"fc.weight": lib.ones(2, 2)}, strict=False)
        log(keys.missing_keys, keys.unexpected_keys, type(keys).__name__, repr(keys))
        scalar = lib.nn.Module()
        scalar.register_buffer("s", lib.tensor(1.0))
        log(repr(scalar.load_state_dict({"s": lib.tensor([5.0])})), scalar.s)
    assert_same(build)


def test_load_state_dict_assign_and_extra_state():
    def build(lib, log):
        n = _net(lib)
        new = {k: v.clone() for k, v in n.state_dict().items()}
        log(repr(n.load_state_dict(new, assign=True)), n.fc.weight.requires_grad,
            type(n.fc.weight).__name__, n.running is new["running"])
        new["fc.weight"].fill_(7.0)  # the parameter shares its storage
        log(n.fc.weight)

        class WithState(lib.nn.Linear):
            def get_extra_state(self):
                return {"step": 3}

            def set_extra_state(self, state):
                log("set", state)
        e = WithState(1, 1)
        sd = e.state_dict()
        log(list(sd), sd["_extra_state"], repr(e.load_state_dict(sd)))
        attempt(log, lambda: e.load_state_dict({"weight": lib.ones(1, 1), "bias": lib.ones(1)}))
    assert_same(build)


# ---- registration, traversal, modes ------------------------------------------------------------

def test_registration_errors():
    def build(lib, log):
        nn = lib.nn
        m = nn.Linear(1, 1)
        attempt(log, lambda: m.register_buffer("a.b", lib.ones(1)))
        attempt(log, lambda: m.register_buffer("", lib.ones(1)))
        attempt(log, lambda: m.register_buffer(3, lib.ones(1)))
        attempt(log, lambda: m.register_buffer("weight", lib.ones(1)))
        attempt(log, lambda: m.register_buffer("b", [1]))
        attempt(log, lambda: m.register_parameter("p", lib.ones(1)))
        attempt(log, lambda: m.register_parameter("p", nn.Parameter(lib.ones(1)) * 2))
        attempt(log, lambda: m.add_module("a.b", nn.Tanh()))
        attempt(log, lambda: m.add_module("x", 5))
        attempt(log, lambda: m.add_module("weight", nn.Tanh()))
        m.register_parameter("p", None)
        m.add_module("sub", None)
        log(list(dict(m.named_parameters())), list(m._modules), m.p, repr(m))
        attempt(log, lambda: setattr(m, "weight", lib.ones(1)))
        attempt(log, lambda: nn.Module(3))
        attempt(log, lambda: nn.Module().forward(1))
    assert_same(build)


def test_traversal_with_and_without_duplicates():
    def build(lib, log):
        nn = lib.nn
        shared = nn.Linear(2, 2)
        m = nn.Sequential(shared, nn.Tanh(), shared, nn.Sequential(shared))
        m.register_buffer("b", lib.zeros(1))
        m[1].register_buffer("t", m.b)
        log([n for n, _ in m.named_modules()])
        log([n for n, _ in m.named_modules(remove_duplicate=False)])
        log([n for n, _ in m.named_modules(prefix="root")])
        log([n for n, _ in m.named_parameters()])
        log([n for n, _ in m.named_parameters(remove_duplicate=False)])
        log([n for n, _ in m.named_parameters(prefix="x", recurse=False)])
        log([n for n, _ in m.named_buffers()], [n for n, _ in m.named_buffers(
            remove_duplicate=False)], len(list(m.buffers())), len(list(m.parameters())))
        log([n for n, _ in m.named_children()], len(list(m.children())), len(list(m.modules())))
        order = []
        m.apply(lambda mod: order.append(type(mod).__name__))
        log(order, m.get_submodule("3.0") is shared, m.get_submodule("") is m)
        log(m.get_parameter("0.bias").shape, m.get_buffer("1.t").shape)
        for target in ("5", "0.weight.x", "0.nope"):
            attempt(log, lambda: m.get_submodule(target))
        for target in ("b", "0.nope", "0"):
            attempt(log, lambda: m.get_parameter(target))
            attempt(log, lambda: m.get_buffer(target))
    assert_same(build)


def test_modes_gradients_and_apply():
    def build(lib, log):
        n = _net(lib)
        log(n.training, n.eval() is n, [m.training for m in n.modules()])
        log([m.training for m in n.train().modules()])
        attempt(log, lambda: n.train(1))
        n(lib.ones(1, 2)).sum().backward()
        n.zero_grad(set_to_none=False)
        log([p.grad for p in n.parameters()])
        n.zero_grad()
        log([p.grad for p in n.parameters()])
        log(n.requires_grad_(False) is n, [p.requires_grad for p in n.parameters()])
        n.seq.requires_grad_()
        log([p.requires_grad for p in n.parameters()])
    assert_same(build)


def test_dtype_and_device_conversions():
    def build(lib, log):
        n = _net(lib)
        n.register_buffer("steps", lib.tensor([1, 2]))
        w = n.fc.weight
        n(lib.ones(1, 2)).sum().backward()

        def dtypes():
            return [t.dtype for t in (n.fc.weight, n.fc.weight.grad, n.running, n.scratch,
                                      n.steps)]
        log(n.double() is n, dtypes(), n.fc.weight is w)
        log(n.half() is n, dtypes())
        log(n.float() is n, dtypes())
        log(n.to(lib.float64) is n, dtypes())
        log(n.to("cpu", lib.float32) is n, dtypes())
        log(n.to(lib.ones(1, dtype=lib.float16)) is n, dtypes())
        log(n.to(device="cpu", dtype=lib.float64) is n, dtypes())
        log(n.type(lib.float32) is n, dtypes())
        log(n.cpu() is n, n.to("cpu") is n)
        attempt(log, lambda: n.to(lib.int64))
        attempt(log, lambda: n.to("cuda"))
        attempt(log, lambda: n.cuda())
        log(repr(lib.nn.Module().cuda()))
    assert_same(build)


# ---- reprs and containers ----------------------------------------------------------------------

def test_nested_reprs_and_extra_repr():
    def build(lib, log):
        nn = lib.nn

        class Block(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.n = n
                self.layers = nn.ModuleList([nn.Linear(n, n) for _ in range(3)] + [nn.Tanh()])
                self.heads = nn.ModuleDict({"a": nn.Linear(n, 1), "b": nn.Sequential()})
                self.ps = nn.ParameterList([lib.ones(2, 3), nn.Parameter(lib.zeros(1)), 5])
                self.pd = nn.ParameterDict({"w": lib.ones(2, dtype=lib.float64)})

            def extra_repr(self):
                return f"n={self.n}\nsecond line"
        log(repr(Block(2)))
        log(repr(nn.Sequential(OrderedDict(first=Block(1), act=nn.ReLU()))))
        log(repr(nn.ModuleList()), repr(nn.Sequential()), repr(nn.ParameterList()))
    assert_same(build)


def test_sequential_operations():
    def build(lib, log):
        nn = lib.nn
        s = nn.Sequential(OrderedDict([("a", nn.Linear(2, 3)), ("act", nn.Tanh()),
                                       ("b", nn.Linear(3, 1))]))
        log(s[1:], s[-1], s[::2])
        attempt(log, lambda: s[3])
        s2 = nn.Sequential(nn.ReLU(), nn.ReLU())
        log(s + s2, s2 * 2, 2 * s2)
        attempt(log, lambda: s + 1)
        attempt(log, lambda: s2 * 0)  # names the class: torch.nn.modules.container.Sequential
        s3 = nn.Sequential(nn.Tanh())
        s3 *= 3
        s3 += s2
        log(s3, len(s3))
        log(s3.insert(1, nn.Linear(1, 1)), s3.pop(0), s3.insert(-1, nn.Sigmoid()))
        attempt(log, lambda: s3.insert(10, nn.ReLU()))
        s3.extend([nn.Sigmoid()])
        del s3[1:3]
        s3[0] = nn.ReLU()
        del s3[-1]
        log(s3, [k for k in dir(s3) if k.isdigit()])
        log(nn.Sequential(nn.Linear(2, 2), nn.ReLU()).append(nn.Tanh()))
    assert_same(build)


def test_modulelist_and_moduledict():
    def build(lib, log):
        nn = lib.nn
        ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
        ml.append(nn.ReLU())
        ml.insert(0, nn.Tanh())
        log(ml, ml[1:3], ml[-1], ml.pop(1))
        del ml[0]
        ml += [nn.Sigmoid()]
        log(ml + [nn.Tanh()], len(ml))
        attempt(log, lambda: ml.extend(5))
        attempt(log, lambda: ml[9])
        md = nn.ModuleDict({"x": nn.Linear(1, 2), "y": nn.ReLU()})
        md["z"] = nn.Tanh()
        md.update([("w", nn.Sigmoid())])
        log(md, list(md), "x" in md, md.pop("y"), list(md.keys()), len(md),
            [type(v).__name__ for v in md.values()], [k for k, _ in md.items()])
        attempt(log, lambda: md.update([("a",)]))
        attempt(log, lambda: md.update(3))
        attempt(log, lambda: md.update([5]))
        md.clear()
        log(md)
    assert_same(build)


def test_parameterlist_and_parameterdict():
    def build(lib, log):
        nn = lib.nn
        pl = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(2), "s"])
        log(pl, len(pl), [type(p).__name__ for p in pl], list(dict(pl.named_parameters())))
        log(pl[0:2], pl[-1])
        attempt(log, lambda: pl())
        attempt(log, lambda: pl.extend(lib.ones(2)))
        pd = nn.ParameterDict({"b": lib.ones(2), "a": nn.Parameter(lib.zeros(1, 2,
                                                                             dtype=lib.float64))})
        pd["c"] = "s"
        log(pd, list(pd), list(dict(pd.named_parameters())), pd.get("q", 1), "a" in pd)
        log(pd.popitem()[0], list(pd.keys()), list(pd.copy()),
            list(pd | nn.ParameterDict({"z": lib.ones(1)})), pd.setdefault("d", lib.ones(1)))
        attempt(log, lambda: pd[1])
        attempt(log, lambda: pd(1))
        attempt(log, lambda: pd.update([("a", lib.ones(1), 3)]))
        del pd["b"]
        log(list(reversed(pd)), list(pd.fromkeys(["u", "v"])))
    assert_same(build)


# ---- nn.init -----------------------------------------------------------------------------------

def _generator(lib):
    """torch.Generator, and gradlab's (exported as gradlab.Generator by the random module)."""
    if lib is torch:
        return torch.Generator()
    from gradlab._random import Generator
    return Generator()


def _drawn(lib, name, args, shape=(6, 5), generator=False):
    w = lib.nn.Parameter(lib.empty(*shape))
    v = w._version
    kwargs = {"generator": _generator(lib).manual_seed(3)} if generator else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = getattr(lib.nn.init, name)(w, *args, **kwargs)
    return (r is w, w._version - v, w.requires_grad, [str(c.message) for c in caught],
            w.detach().numpy().copy(), lib.rand(3).numpy())


@avx2_kernels
@pytest.mark.parametrize("name, args", [
    ("uniform_", (-2, 3)), ("normal_", (1.0, 0.5)), ("kaiming_uniform_", ()),
    ("kaiming_uniform_", (0.5, "fan_out", "relu")), ("kaiming_normal_", (0, "fan_in", "tanh")),
    ("xavier_uniform_", (2.0,)), ("xavier_normal_", ()), ("trunc_normal_", ()),
    ("trunc_normal_", (0.0, 1.0, -0.1, 0.1)), ("trunc_normal_", (0.0, 1.0, 0.0, 3.0)),
    ("trunc_normal_", (5.0, 1.0, -1.0, 1.0)), ("sparse_", (0.5,))])
@pytest.mark.parametrize("generator", [False, True])
def test_init_draws_are_pytorchs(name, args, generator):
    g, t = both(lambda lib: _drawn(lib, name, args, generator=generator))
    assert g[:4] == t[:4]
    np.testing.assert_array_equal(g[4], t[4])
    np.testing.assert_array_equal(g[5], t[5])  # the default generator went as far


@pytest.mark.parametrize("shape", [(6, 5), (3, 8), (4, 2, 3)])
@pytest.mark.parametrize("generator", [False, True])
def test_orthogonal_is_pytorchs_to_rounding(shape, generator):
    g, t = both(lambda lib: _drawn(lib, "orthogonal_", (2.0,), shape, generator))
    assert g[:4] == t[:4]
    np.testing.assert_allclose(g[4], t[4], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(g[5], t[5])


@pytest.mark.parametrize("name, args, shape", [
    ("eye_", (), (3, 4)), ("dirac_", (), (4, 2, 3)), ("dirac_", (2,), (4, 2, 3, 3)),
    ("dirac_", (), (2, 3, 3, 3, 3)), ("zeros_", (), (2, 2)), ("ones_", (), (2, 2)),
    ("constant_", (0.25,), (2, 2)), ("kaiming_uniform_", (), (0, 3)), ("eye_", (), (3,)),
    ("dirac_", (), (2, 2)), ("dirac_", (3,), (4, 2, 3)), ("orthogonal_", (), (3,)),
    ("xavier_uniform_", (), (3,)), ("kaiming_normal_", (0, "fan"), (2, 2)),
    ("sparse_", (0.1,), (2, 2, 2))])
def test_deterministic_inits_and_errors(name, args, shape):
    def build(lib):
        try:
            return _drawn(lib, name, args, shape)[:5]
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            return type(e).__name__, str(e)
    g, t = both(build)
    assert str(g) == str(t)


def test_calculate_gain_and_deprecated_aliases():
    def build(lib, log):
        init = lib.nn.init
        for args in [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("selu",),
                     ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 1), ("swish",),
                     ("leaky_relu", True), ("leaky_relu", "x")]:
            attempt(log, lambda: init.calculate_gain(*args))
        log(init.constant(lib.empty(2), 3.0), init.eye(lib.empty(2, 2)), init.uniform.__name__)
    assert_same(build)


# ---- nn.utils ----------------------------------------------------------------------------------

def _trained(lib):
    lib.manual_seed(0)
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    (m(lib.ones(2, 3)) ** 2).sum().backward()
    return m


def _values(tensors):
    return [(str(t.dtype), t.detach().numpy().copy()) for t in tensors]


@pytest.mark.parametrize("norm_type", [2, 1, float("inf"), -float("inf"), 3, "inf", 0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm):
    def build(lib):
        m = _trained(lib)
        total = lib.nn.utils.clip_grad_norm_(m.parameters(), max_norm, norm_type=norm_type)
        return _values([total] + [p.grad for p in m.parameters()]), total.requires_grad
    (g, g_rg), (t, t_rg) = both(build)
    assert g_rg == t_rg
    for (gd, gv), (td, tv) in zip(g, t):
        assert gd == td
        np.testing.assert_allclose(gv, tv, rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_edge_cases_and_value():
    def build(lib, log):
        U = lib.nn.utils
        m = _trained(lib)
        log(U.clip_grad_norm_(m[0].bias, 0.1, foreach=True).dtype)
        log(U.clip_grad_norm_([], 1.0), U.clip_grad_norm_(iter([]), 1.0))
        log(U.clip_grad_norm_((p for p in []), 1.0))
        m[0].weight.grad[0, 0] = float("nan")
        attempt(log, lambda: U.clip_grad_norm_(m.parameters(), 1.0, error_if_nonfinite=True))
        log(U.clip_grad_norm_(m.parameters(), 1.0), m[2].bias.grad)
        m = _trained(lib)
        log(U.clip_grad_norm(m[2].bias, 1e9), U.clip_grad_value_(m.parameters(), 0.1),
            m[2].weight.grad.abs().max() <= 0.1, m[0].weight.grad.max() <= 0.1)
        U.clip_grad_value_(m[2].bias, 0)
        log(m[2].bias.grad)
        p = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
        q = lib.nn.Parameter(lib.ones(2))
        p.grad, q.grad = lib.full((2,), 3.0, dtype=lib.float64), lib.full((2,), 4.0)
        log(U.clip_grad_norm_([p, q], 1.0).dtype, p.grad.dtype, q.grad.dtype)
    assert_same(build)


def test_parameters_to_vector_and_back():
    def build(lib, log):
        U = lib.nn.utils
        m = _trained(lib)
        v = U.parameters_to_vector(m.parameters())
        log(v.shape, graph(v.grad_fn, 2)[0], v.requires_grad)
        ws = [p for p in m.parameters()]
        U.vector_to_parameters(lib.arange(26.0), m.parameters())
        log(m[2].bias, m[0].weight, [a is b for a, b in zip(ws, m.parameters())],
            [p.requires_grad for p in m.parameters()])
        attempt(log, lambda: U.vector_to_parameters([1], m.parameters()))
    assert_same(build)


def test_set_submodule_and_missing_methods():
    def build(lib, log):
        nn = lib.nn
        m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Tanh()))
        m.set_submodule("1.0", nn.ReLU())
        m.set_submodule("2", nn.Sigmoid())
        log(m)
        attempt(log, lambda: m.set_submodule("", nn.ReLU()))
        attempt(log, lambda: m.set_submodule("0", 3))
        attempt(log, lambda: m.set_submodule("0.weight", nn.ReLU()))
        attempt(log, lambda: m.set_submodule("1.5", nn.ReLU(), strict=True))
        attempt(log, lambda: m.set_submodule("9.0", nn.ReLU()))
        log(hasattr(m, "nothing"), getattr(m, "nothing", 1))
    assert_same(build)


@pytest.mark.parametrize("name", ["register_state_dict_pre_hook", "bfloat16", "compile"])
def test_module_methods_gradlab_lacks_say_so(name):
    with pytest.raises(AttributeError, match=f"gradlab does not implement torch.nn.Module.{name}"):
        getattr(gradlab.nn.Linear(1, 1), name)
    assert hasattr(torch.nn.Linear(1, 1), name)
