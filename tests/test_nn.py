"""torch.nn vs gradlab.nn: Parameter, Module bookkeeping and reprs, seeded initialisation (bit for
bit), Linear's graphs, activations, dropout and losses (values, gradients, graphs, saved values,
errors and warnings).

Initialisation is bit for bit where PyTorch runs its AVX2 kernels (AVX2 and AVX-512 CPUs; skipped
on its DEFAULT kernels, whose uniform fill does not fuse the multiply-add). The reprs compared
exactly print values that PyTorch computes the same way on every x86-64 CPU: tensors of fewer than
16 elements (its vectorised loops leave them to the scalar code on AVX2 and AVX-512 alike), softmax
over fewer than 8 classes (summed in order), products of at most 4 terms; gradlab's own values do
not depend on the CPU.
"""
import copy
import pickle
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from helpers import assert_graph_same, assert_same, avx2_kernels, both, outcome  # noqa: E402

def assert_params_identical(gm, tm):
    gp, tp = list(gm.named_parameters()), list(tm.named_parameters())
    assert [n for n, _ in gp] == [n for n, _ in tp]
    for (name, g), (_, t) in zip(gp, tp):
        assert isinstance(g, gradlab.nn.Parameter) and g.requires_grad == t.requires_grad
        assert g.dtype.name == str(t.dtype)[6:], name
        np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy(), err_msg=name)


# ---- Parameter ---------------------------------------------------------------------------------

def test_parameter_repr_and_identity():
    def build(lib):
        data = lib.tensor([[1.5, -2.0], [0.25, 3.0]])
        p = lib.nn.Parameter(data)
        data.add_(1)  # the parameter shares the storage and the version counter
        q = lib.nn.Parameter(lib.tensor([1, 2]), requires_grad=False)
        r = lib.nn.Parameter(lib.zeros(2, 3, dtype=lib.float64))
        return [repr(p), str(p), p._version, p.is_leaf, repr(q), repr(r), repr(lib.nn.Parameter()),
                type(p * 2).__name__, type(p.detach()).__name__, type(p.data).__name__,
                isinstance(p, lib.Tensor), repr(copy.deepcopy(p)),
                repr(pickle.loads(pickle.dumps(p))), outcome(lambda: lib.nn.Parameter(
                    lib.tensor([1, 2])))]
    g, t = both(build)
    assert g == t


def test_parameter_gets_gradients():
    def build(lib):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
        (w * w).sum().backward()
        return repr(w.grad), type(w.grad).__name__
    g, t = both(build)
    assert g == t


# ---- Module bookkeeping ------------------------------------------------------------------------

def _net(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = nn.Linear(n, n)
            self.act = nn.Tanh()
            self.register_buffer("scale", lib.ones(n))

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(3, 4)
            self.blocks = nn.ModuleList([Block(4), Block(4)])
            self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2, bias=False), nn.LogSoftmax(dim=1))
            self.alpha = nn.Parameter(lib.tensor(0.5))
            self.note = "plain attribute"

        def forward(self, x):
            x = self.inp(x)
            for b in self.blocks:
                x = b(x)
            return self.head(x) * self.alpha

        def extra_repr(self):
            return "custom=1\nsecond line"

    return Net()


def test_module_registration_names_and_repr():
    def build(lib):
        net = _net(lib)
        return [repr(net), [n for n, _ in net.named_parameters()],
                [n for n, _ in net.named_buffers()], list(net.state_dict()),
                [n for n, _ in net.named_modules()], [type(m).__name__ for m in net.children()],
                [n for n, _ in net.named_children()], [n for n, _ in net.blocks[1].named_parameters(
                    prefix="b1")], len(list(net.parameters(recurse=False))), net.note,
                type(net.state_dict()).__name__, repr(net.head[1:]), len(net.head),
                repr(net.head[-1]), outcome(lambda: net.head[3]), outcome(lambda: net.blocks[2]),
                outcome(lambda: net.missing), repr(net.get_submodule("blocks.0.fc"))]
    g, t = both(build)
    assert g == t


@avx2_kernels
def test_module_parameters_are_bit_identical():
    gnet, tnet = both(_net)
    assert_params_identical(gnet, tnet)


def test_module_forward_backward_matches():
    gnet, tnet = both(_net)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    gy, ty = gnet(gradlab.tensor(x)), tnet(torch.tensor(x))
    assert_same(gy, ty)
    assert_graph_same(gy.grad_fn, ty.grad_fn)
    gy.sum().backward()
    ty.sum().backward()
    for (name, g), (_, t) in zip(gnet.named_parameters(), tnet.named_parameters()):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


def test_shared_modules_and_parameters_are_listed_once():
    def build(lib):
        shared = lib.nn.Linear(2, 2)
        seq = lib.nn.Sequential(shared, lib.nn.ReLU(), shared)
        seq.extra = lib.nn.Linear(2, 2)
        seq.extra.weight = shared.weight
        return [repr(seq), [n for n, _ in seq.named_parameters()],
                [n for n, _ in seq.named_modules()], list(seq.state_dict()),
                [n for n, _ in seq.named_parameters(remove_duplicate=False)],
                len(list(seq.modules(remove_duplicate=False)))]
    g, t = both(build)
    assert g == t


def test_setattr_rules_and_errors():
    def build(lib):
        nn = lib.nn
        m = nn.Linear(2, 2)
        out = [outcome(lambda: setattr(m, "weight", lib.ones(2, 2))),
               outcome(lambda: setattr(m, "bias", None)), list(dict(m.named_parameters())),
               outcome(lambda: m.register_parameter("a.b", None)),
               outcome(lambda: m.register_parameter("", None)),
               outcome(lambda: m.register_parameter("in_features", None)),
               outcome(lambda: m.register_parameter("w2", lib.ones(2))),
               outcome(lambda: m.register_parameter("w3", nn.Parameter(lib.ones(2)) * 2)),
               outcome(lambda: m.register_buffer("buf", [1, 2])),
               outcome(lambda: m.add_module("x", 3)),
               outcome(lambda: m.add_module("a.b", nn.ReLU()))]
        seq = nn.Sequential(nn.ReLU())
        out.append(outcome(lambda: setattr(seq, "0", 5)))
        m.weight = nn.Parameter(lib.zeros(1))  # a parameter replaces a parameter
        m.sub = nn.Tanh()
        m.sub = None
        out += [list(dict(m.named_parameters())), repr(m), list(m._modules)]
        del m.weight
        out.append(list(dict(m.named_parameters())))

        class Early(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(lib.ones(1))
        out.append(outcome(Early))

        class NoForward(nn.Module):
            pass
        out.append(outcome(lambda: NoForward()(1)))
        out.append(outcome(lambda: nn.Module(3)))
        return out
    g, t = both(build)
    assert g == t


def test_train_eval_zero_grad_requires_grad_apply():
    def build(lib):
        net = _net(lib)
        out = [net.training, net.eval() is net, [m.training for m in net.modules()],
               [m.training for m in net.train().modules()], outcome(lambda: net.train(1))]
        net(lib.randn(2, 3)).sum().backward()
        net.zero_grad(set_to_none=False)
        out.append([repr(p.grad) for p in net.parameters()])
        net.zero_grad()
        out.append([p.grad for p in net.parameters()])
        net.requires_grad_(False)
        out.append([p.requires_grad for p in net.parameters()])
        names = []
        net.apply(lambda m: names.append(type(m).__name__))
        out.append(names)
        return out
    g, t = both(build)
    assert g == t


def test_forward_hooks():
    def build(lib):
        m = lib.nn.Linear(2, 1)
        calls = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
        x = lib.ones(1, 2)
        first = m(x)
        h1.remove()
        h2.remove()
        return repr(first), repr(m(x)), calls
    g, t = both(build)
    assert g == t


def test_dtype_conversions_keep_parameter_identity():
    def build(lib):
        m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Tanh())
        m(lib.ones(1, 2)).sum().backward()
        w = m[0].weight
        m.double()
        out = [w is m[0].weight, repr(w), repr(w.grad.dtype), repr(m(lib.ones(1, 2,
                                                                            dtype=lib.float64)))]
        m.to(lib.float32)
        out += [repr(w.dtype), m.float() is m, outcome(lambda: m.to(lib.int64))]
        return out
    g, t = both(build)
    assert g == t


# ---- state_dict --------------------------------------------------------------------------------

def test_state_dict_and_load_state_dict():
    def build(lib):
        nn = lib.nn
        a, b = _net(lib), _net(lib)
        sd = a.state_dict()
        out = [list(sd), repr(sd["inp.bias"]), sd["inp.weight"].requires_grad,
               list(a.state_dict(keep_vars=True))]
        v = b.inp.weight._version
        out.append(repr(b.load_state_dict(sd)))
        out += [b.inp.weight._version - v, repr(b.inp.weight), repr(b(lib.ones(1, 3)))]
        bad = dict(sd)
        del bad["inp.bias"]
        bad["extra.w"] = lib.ones(1)
        bad["inp.weight"] = lib.ones(3, 3)
        out.append(outcome(lambda: b.load_state_dict(bad)))
        out.append(outcome(lambda: b.load_state_dict({"inp.weight": lib.ones(4, 3)},
                                                     strict=False)))
        out.append(outcome(lambda: b.load_state_dict({"inp.weight": 3}, strict=False)))
        lin = nn.Linear(2, 1)
        out.append(outcome(lambda: lin.load_state_dict({"weight": lib.zeros(1, 2)})))
        return out
    g, t = both(build)
    assert g == t


# ---- initialisation ----------------------------------------------------------------------------

@avx2_kernels
@pytest.mark.parametrize("sizes", [(2, 1), (1, 1), (3, 5), (20, 7), (64, 32)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_initialisation_is_bit_identical(sizes, bias, dtype):
    g, t = both(lambda lib: lib.nn.Linear(*sizes, bias=bias, dtype=getattr(lib, dtype)))
    assert_params_identical(g, t)
    assert repr(g) == repr(t) and repr(g.weight) == repr(t.weight)
    # and the generator continues identically after it
    np.testing.assert_array_equal(gradlab.rand(5).numpy(), torch.rand(5).numpy())


@avx2_kernels
@pytest.mark.parametrize("name, args", [
    ("kaiming_uniform_", ()), ("kaiming_uniform_", (0.5, "fan_out", "relu")),
    ("kaiming_normal_", ()), ("xavier_uniform_", ()), ("xavier_uniform_", (2.0,)),
    ("xavier_normal_", ()), ("uniform_", (-2, 3)), ("normal_", (1.0, 0.5)), ("zeros_", ()),
    ("ones_", ()), ("constant_", (0.25,))])
def test_init_functions_are_bit_identical(name, args):
    def build(lib):
        w = lib.nn.Parameter(lib.empty(6, 5))
        v = w._version
        r = getattr(lib.nn.init, name)(w, *args)
        return r is w, w._version - v, w.detach().numpy().copy(), w.requires_grad
    g, t = both(build)
    assert g[:2] == t[:2] and g[3] == t[3]
    np.testing.assert_array_equal(g[2], t[2])


def test_init_errors():
    def build(lib):
        init = lib.nn.init
        return [outcome(lambda: init.xavier_uniform_(lib.ones(3))),
                outcome(lambda: init.kaiming_uniform_(lib.ones(2, 2), mode="fan")),
                outcome(lambda: init.calculate_gain("swish")),
                init.calculate_gain("leaky_relu", 0.2), init.calculate_gain("tanh")]
    g, t = both(build)
    assert g == t


# ---- Linear ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, transpose", [((4, 2), False), ((2,), False), ((3, 4, 2), False),
                                              ((2, 3, 4, 2), False), ((4, 3, 2), True)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_graph_values_and_grads(shape, transpose, bias):
    gl, tl = both(lambda lib: lib.nn.Linear(2, 3, bias=bias))
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    gx, tx = gradlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gi, ti = (gx.transpose(0, 1), tx.transpose(0, 1)) if transpose else (gx, tx)
    gy, ty = gl(gi), tl(ti)
    assert_same(gy, ty)
    assert gy._version == ty._version
    leaves = [(gx, tx), (gl.weight, tl.weight)] + ([(gl.bias, tl.bias)] if bias else [])
    assert_graph_same(gy.grad_fn, ty.grad_fn, leaves)
    w = np.random.default_rng(2).standard_normal(tuple(ty.shape)).astype(np.float32)
    gy.backward(gradlab.tensor(w))
    ty.backward(torch.tensor(w))
    for g, t in leaves:
        assert_same(g.grad, t.grad, what="grad")


def test_linear_forward_is_one_addmm():
    m = gradlab.nn.Linear(2, 5)
    y = m(gradlab.ones(4, 2))
    assert y.grad_fn.name() == "AddmmBackward0"
    assert [type(n).__name__ for n, _ in y.grad_fn.next_functions] == [
        "AccumulateGrad", "NoneType", "TBackward0"]


def test_linear_errors():
    def build(lib):
        m = lib.nn.Linear(2, 5)
        return [outcome(lambda: m(lib.ones(4, 3))), outcome(lambda: m(lib.ones(3))),
                outcome(lambda: m(lib.ones(4, 2, dtype=lib.float64))),
                outcome(lambda: m(lib.ones(2, 4, 3))),
                outcome(lambda: lib.nn.functional.linear(lib.ones(4, 2), m.weight,
                                                         m.bias.double()))]
    g, t = both(build)
    assert g == t


# ---- activations -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.ReLU(), lambda lib: lib.nn.Tanh(), lambda lib: lib.nn.Sigmoid(),
    lambda lib: lib.nn.Softmax(dim=1), lambda lib: lib.nn.LogSoftmax(dim=0),
    lambda lib: lib.nn.Identity(), lambda lib: lib.nn.Flatten(), lambda lib: lib.nn.Flatten(0),
    lambda lib: lib.nn.functional.relu, lambda lib: lib.nn.functional.tanh,
    lambda lib: lib.nn.functional.sigmoid,
    lambda lib: (lambda x: lib.nn.functional.softmax(x, dim=-1)),
    lambda lib: (lambda x: lib.nn.functional.log_softmax(x, 1))])
def test_activations(make):
    x = np.random.default_rng(3).standard_normal((3, 4, 2)).astype(np.float32)
    gx, tx = gradlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gf, tf = make(gradlab), make(torch)
    assert repr(gf).split(" at ")[0] == repr(tf).split(" at ")[0]
    gy, ty = gf(gx * 1), tf(tx * 1)
    assert_same(gy, ty)
    assert_graph_same(gy.grad_fn, ty.grad_fn, [(gx, tx)])
    gy.sum().backward()
    ty.sum().backward()
    assert_same(gx.grad, tx.grad)


def test_activation_reprs_and_implicit_softmax_dim():
    def build(lib):
        nn = lib.nn
        mods = [nn.ReLU(), nn.ReLU(inplace=True), nn.Tanh(), nn.Sigmoid(), nn.Softmax(dim=1),
                nn.LogSoftmax(1), nn.Softmax(), nn.Identity(54, unused="x"), nn.Flatten(),
                nn.Flatten(0, 1)]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            y = nn.Softmax()(lib.tensor([[1.0, 2.0], [3.0, 5.0]]))
            z = lib.nn.functional.log_softmax(lib.tensor([1.0, 2.0]))
        x = lib.tensor([-1.0, 2.0])
        r = nn.ReLU(inplace=True)(x)
        return [repr(m) for m in mods], repr(y), repr(z), [str(m.message) for m in w], \
            r is x, repr(x)
    g, t = both(build)
    assert g == t


# ---- losses ------------------------------------------------------------------------------------

RNG = np.random.default_rng(4)
LOGITS = RNG.standard_normal((5, 3)).astype(np.float32)
CLASSES = np.array([0, 2, 1, 2, 2])
PROBS = (np.exp(LOGITS.T) / np.exp(LOGITS).sum(1)).T.astype(np.float32)[::-1].copy()
REGRESS = RNG.standard_normal((5, 3)).astype(np.float32)
BINARY = (RNG.random(5) > 0.5).astype(np.float32)
WEIGHTS = np.array([0.5, 2.0, 1.5], np.float32)

LOSS_CASES = {
    "mse": (lambda lib, x, r: lib.nn.MSELoss(reduction=r)(x, lib.tensor(REGRESS)), LOGITS),
    "l1": (lambda lib, x, r: lib.nn.L1Loss(reduction=r)(x, lib.tensor(REGRESS)), LOGITS),
    "mse_target_grad": (lambda lib, x, r: lib.nn.functional.mse_loss(
        lib.tensor(REGRESS), x, reduction=r), LOGITS),
    "cross_entropy": (lambda lib, x, r: lib.nn.CrossEntropyLoss(reduction=r)(
        x, lib.tensor(CLASSES)), LOGITS),
    "cross_entropy_weighted": (lambda lib, x, r: lib.nn.CrossEntropyLoss(
        weight=lib.tensor(WEIGHTS), reduction=r)(x, lib.tensor(CLASSES)), LOGITS),
    "cross_entropy_ignore": (lambda lib, x, r: lib.nn.functional.cross_entropy(
        x, lib.tensor(CLASSES), ignore_index=2, reduction=r), LOGITS),
    "cross_entropy_one_sample": (lambda lib, x, r: lib.nn.functional.cross_entropy(
        x[1], lib.tensor(2), reduction=r), LOGITS),
    "cross_entropy_probs": (lambda lib, x, r: lib.nn.functional.cross_entropy(
        x, lib.tensor(PROBS), reduction=r), LOGITS),
    "cross_entropy_smoothing": (lambda lib, x, r: lib.nn.functional.cross_entropy(
        x, lib.tensor(CLASSES), reduction=r, label_smoothing=0.2), LOGITS),
    "nll": (lambda lib, x, r: lib.nn.NLLLoss(reduction=r)(
        x.log_softmax(1), lib.tensor(CLASSES)), LOGITS),
    "nll_weighted_ignore": (lambda lib, x, r: lib.nn.functional.nll_loss(
        x, lib.tensor(CLASSES), weight=lib.tensor(WEIGHTS), ignore_index=0, reduction=r), LOGITS),
    "bce": (lambda lib, x, r: lib.nn.BCELoss(reduction=r)(x.sigmoid(), lib.tensor(BINARY)),
            LOGITS[:, 0].copy()),
    "bce_weighted": (lambda lib, x, r: lib.nn.functional.binary_cross_entropy(
        x.sigmoid(), lib.tensor(BINARY), weight=lib.tensor(BINARY + 1), reduction=r),
        LOGITS[:, 0].copy()),
    "bce_logits": (lambda lib, x, r: lib.nn.BCEWithLogitsLoss(reduction=r)(
        x, lib.tensor(BINARY)), LOGITS[:, 0].copy()),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_loss_values_grads_and_graphs(case, reduction):
    fn, x = LOSS_CASES[case]
    gx, tx = gradlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gl, tl = fn(gradlab, gx, reduction), fn(torch, tx, reduction)
    assert_same(gl, tl)
    assert repr(gl) == repr(tl)
    assert_graph_same(gl.grad_fn, tl.grad_fn, [(gx, tx)])
    w = np.linspace(0.5, 1.5, tl.numel(), dtype=np.float32).reshape(tuple(tl.shape))
    gl.backward(gradlab.tensor(w))
    tl.backward(torch.tensor(w))
    assert_same(gx.grad, tx.grad)


def test_bce_target_and_double_precision_grads():
    def build(lib):
        p = lib.tensor([0.2, 0.7, 0.9], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.0, 0.5, 1.0], dtype=lib.float64, requires_grad=True)
        lib.nn.functional.binary_cross_entropy(p, y).backward()
        lib.nn.functional.binary_cross_entropy_with_logits(p, y, reduction="sum").backward()
        return p.grad.numpy().copy(), y.grad.numpy().copy()
    g, t = both(build)
    for a, b in zip(g, t):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_loss_errors_and_warnings():
    def build(lib):
        F = lib.nn.functional
        x = lib.tensor(LOGITS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = _loss_errors(lib, F, x)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            a = lib.tensor([[1.0], [2.0], [4.0]], requires_grad=True)
            loss = F.mse_loss(a, lib.tensor([1.0, 2.0, 3.0]))
            loss.backward()
            F.l1_loss(a, lib.zeros(1))
            lib.nn.MSELoss(size_average=False)
        out += [repr(loss), repr(a.grad), [type(n).__name__ for n, _ in
                                           loss.grad_fn.next_functions],
                [(m.category.__name__, str(m.message)) for m in w], w[0].filename == __file__]
        return out
    g, t = both(build)
    assert g == t


def _loss_errors(lib, F, x):
    """Each error case as (type, message) or the result's repr."""
    return [outcome(lambda: F.cross_entropy(x, lib.tensor([0, 3, 1, 2, 0]))),
           outcome(lambda: F.cross_entropy(x, lib.tensor([0, 1, 1]))),
           outcome(lambda: F.cross_entropy(x, lib.tensor([0., 1, 1, 2, 0]))),
           outcome(lambda: F.cross_entropy(x, lib.tensor([0, 1, 1, 2, 0], dtype=lib.int32))),
           outcome(lambda: F.cross_entropy(x, lib.zeros(5, 3, dtype=lib.int64))),
           outcome(lambda: F.cross_entropy(x, lib.tensor(PROBS), ignore_index=1)),
           outcome(lambda: F.nll_loss(x, lib.tensor([0, -1, 1, 2, 0]))),
           outcome(lambda: F.nll_loss(x, lib.tensor(CLASSES).unsqueeze(1))),
           outcome(lambda: F.nll_loss(x[0], lib.tensor([1, 2]))),
           outcome(lambda: F.nll_loss(lib.tensor(1.), lib.tensor(0))),
           outcome(lambda: F.nll_loss(x, lib.tensor(CLASSES), weight=lib.ones(2))),
           outcome(lambda: F.nll_loss(x, lib.full((5,), -100))),
           outcome(lambda: F.nll_loss(x[0], lib.tensor([1]))),
           outcome(lambda: F.binary_cross_entropy(x[:, 0].sigmoid(), lib.ones(4))),
           outcome(lambda: F.binary_cross_entropy(x[:, 0], lib.ones(5))),
           outcome(lambda: F.binary_cross_entropy(x[:, 0].sigmoid(), lib.full((5,), 2.))),
           outcome(lambda: F.binary_cross_entropy_with_logits(x[:, 0], lib.ones(4))),
           outcome(lambda: F.mse_loss(x, lib.zeros(5, 2))),
           outcome(lambda: F.mse_loss(x, lib.zeros(5, 3), reduction="avg")),
           outcome(lambda: F.l1_loss(x, lib.zeros(5, 3), reduction="avg")),
           outcome(lambda: F.mse_loss(x, lib.zeros(5, 3, dtype=lib.float64))),
           outcome(lambda: F.mse_loss(x, lib.zeros(5, 3, dtype=lib.int64)))]


def test_loss_module_reprs():
    def build(lib):
        nn = lib.nn
        mods = [nn.MSELoss(), nn.MSELoss(reduction="sum"), nn.L1Loss(), nn.CrossEntropyLoss(),
                nn.CrossEntropyLoss(weight=lib.ones(3), label_smoothing=0.1), nn.NLLLoss(),
                nn.BCELoss(), nn.BCEWithLogitsLoss()]
        return [repr(m) for m in mods] + [list(mods[4].state_dict()), mods[4].reduction,
                                          mods[4].ignore_index]
    g, t = both(build)
    assert g == t


# ---- Dropout -----------------------------------------------------------------------------------

def _torch_draws_bernoulli_with_mkl():
    """PyTorch's CPU bernoulli_(p) draws with MKL on Intel CPUs, with its default kernel (which
    gradlab follows) elsewhere."""
    try:
        with open("/proc/cpuinfo") as f:
            intel = "GenuineIntel" in f.read()
    except OSError:
        intel = True  # unknown: do not claim the masks agree
    return intel and torch.backends.mkl.is_available()


@pytest.mark.skipif(_torch_draws_bernoulli_with_mkl(), reason="PyTorch draws dropout masks "
                    "with MKL on Intel CPUs; gradlab follows its default kernel")
@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("transpose", [False, True])
def test_dropout_masks_values_graphs_and_grads_are_pytorchs(p, dtype, transpose):
    x = np.random.default_rng(5).standard_normal((5, 7)).astype(dtype)
    gx, tx = gradlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys = []
    for lib, leaf in ((gradlab, gx), (torch, tx)):
        lib.manual_seed(0)
        inp = leaf.t() if transpose else leaf * 1
        y = lib.nn.functional.dropout(inp, p)
        ys.append((y, lib.randn(3)))  # the generator moved on as far
    (gy, g_next), (ty, t_next) = ys
    assert_same(gy, ty)
    assert_same(g_next, t_next)
    assert_graph_same(gy.grad_fn, ty.grad_fn, [(gx, tx)])
    gy.sum().backward()
    ty.sum().backward()
    assert_same(gx.grad, tx.grad)


def test_dropout_module_eval_edge_cases_and_errors():
    def build(lib):
        nn, F = lib.nn, lib.nn.functional
        x = lib.ones(4, 5, requires_grad=True)
        h = x * 1
        drop = nn.Dropout(p=0.5)
        out = [repr(drop), repr(nn.Dropout(0.2, inplace=True)), drop.training]
        train = drop(lib.ones(1000))
        out.append(sorted(set(train.tolist())))  # zeros, and survivors scaled by 1 / (1 - p)
        drop.eval()
        out += [drop(h) is h, F.dropout(h, 0.5, training=False) is h, F.dropout(h, 0.0) is h]
        ones = F.dropout(h, 1.0)
        out += [repr(ones), ones.grad_fn.name()]
        inplace = h.clone()
        out += [F.dropout(inplace, 0.5, inplace=True) is inplace, inplace.grad_fn.name(),
                sorted(set(inplace.flatten().tolist()))]
        for bad in (lambda: nn.Dropout(1.5), lambda: F.dropout(h, -0.1)):
            out.append(outcome(bad))
        return out
    g, t = both(build)
    assert g == t
