"""torch.nn vs gradlab.nn for the layers after Linear: BatchNorm, LayerNorm, Embedding, the
activations and the losses (values to a few ulps, first to third derivatives, grad_fn graphs and
saved values, running statistics over several steps, reprs, error texts)."""
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from helpers import assert_same, both, check_op, outcome  # noqa: E402

RNG = np.random.default_rng(12)
X = RNG.standard_normal((5, 3, 2))
W3, B3 = RNG.standard_normal(3), RNG.standard_normal(3)
RUNNING_MEAN, RUNNING_VAR = RNG.standard_normal(3), RNG.random(3) + 0.5


def close(g, t):
    """Printed or returned values from both libraries: tensors to a few ulps, the rest exact."""
    if isinstance(t, torch.Tensor):
        assert_same(g, t, grad_fn=False)
    elif isinstance(t, (list, tuple)):
        assert len(g) == len(t)
        for a, b in zip(g, t):
            close(a, b)
    else:
        assert g == t


# ---- batch norm --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_values_graphs_and_derivatives(training, dtype):
    check_op(lambda T, x, w, b, rm, rv: T.nn.functional.batch_norm(
        x, rm, rv, w, b, training=training, momentum=0.3, eps=1e-3),
        [X, W3, B3, RUNNING_MEAN, RUNNING_VAR], dtype, grad=(0, 1, 2), graph_order=2,
        names_order=1)
    check_op(lambda T, x, rm, rv: T.nn.functional.batch_norm(x, rm, rv, training=training),
             [X[..., 0], RUNNING_MEAN, RUNNING_VAR], dtype, grad=(0,), names_order=1)


def test_batch_norm_without_running_statistics_and_4d():
    check_op(lambda T, x, w: T.nn.functional.batch_norm(x, None, None, w, training=True),
             [X[:, :, :, None] * np.arange(1, 4), W3], names_order=1)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False},
                                    {"track_running_stats": False}, {"bias": False},
                                    {"momentum": 0.5, "eps": 0.1}])
def test_batch_norm_module_running_statistics_over_steps(kwargs):
    def build(lib):
        m = lib.nn.BatchNorm1d(3, **kwargs)
        x = lib.tensor(X, dtype=lib.float32, requires_grad=True)
        seen = [repr(m), [n for n, _ in m.named_buffers()], [n for n, _ in m.named_parameters()]]
        for step in range(4):
            y = m(x * (step + 1) + step)
            (y * y).sum().backward()
            seen += [y, y.grad_fn.name(), x.grad, m.running_mean, m.running_var,
                     m.num_batches_tracked]
        m.eval()
        seen += [m(x), m.running_mean, m.running_var]
        return seen
    g, t = both(build)
    close(g, t)


def test_batch_norm2d_module_and_version_counters():
    def build(lib):
        m = lib.nn.BatchNorm2d(3)
        x = lib.tensor(X[:, :, :, None].repeat(2, 3), dtype=lib.float32)
        y = m(x)
        return [repr(m), y, m.running_mean, m.running_var, m.running_mean._version,
                m.num_batches_tracked._version, list(m.state_dict())]
    g, t = both(build)
    close(g, t)


def test_batch_norm_errors():
    def build(lib):
        F, nn = lib.nn.functional, lib.nn
        x = lib.tensor(X[..., 0], dtype=lib.float32)
        return [outcome(lambda: nn.BatchNorm1d(3)(x[:1])),
                outcome(lambda: nn.BatchNorm1d(3)(x[0])),
                outcome(lambda: nn.BatchNorm2d(3)(x)),
                outcome(lambda: F.batch_norm(x, None, None, training=False)),
                outcome(lambda: F.batch_norm(x, lib.zeros(3), None)),
                outcome(lambda: F.batch_norm(x, lib.zeros(4), lib.ones(4))),
                outcome(lambda: F.batch_norm(x, None, None, lib.ones(2), training=True)),
                outcome(lambda: F.batch_norm(x, None, None, None, lib.ones(2), training=True)),
                outcome(lambda: F.batch_norm(x, None, None, training=True, eps=0)),
                outcome(lambda: F.batch_norm(x, lib.zeros(3), lib.ones(3), eps=-1.0)),
                outcome(lambda: F.batch_norm(x, lib.zeros(3, dtype=lib.float64), lib.ones(3))),
                outcome(lambda: F.batch_norm(x.double(), lib.zeros(3), lib.ones(3)))]
    g, t = both(build)
    assert g == t


# ---- layer norm --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape,affine", [((3, 2), "both"), ((2,), "weight"), ((5, 3, 2), None)])
def test_layer_norm_values_graphs_and_derivatives(shape, affine, dtype):
    w, b = RNG.standard_normal(shape), RNG.standard_normal(shape)
    if affine == "both":
        check_op(lambda T, x, w, b: T.nn.functional.layer_norm(x, shape, w, b), [X, w, b], dtype,
                 graph_order=2, names_order=1)
    elif affine == "weight":
        check_op(lambda T, x, w: T.nn.functional.layer_norm(x, list(shape), w, eps=0.1), [X, w],
                 dtype, graph_order=2, names_order=1)
    else:
        check_op(lambda T, x: T.nn.functional.layer_norm(x, shape), [X], dtype, graph_order=2,
                 names_order=1)


def test_layer_norm_module_and_errors():
    def build(lib):
        F, nn = lib.nn.functional, lib.nn
        x = lib.tensor(X.reshape(3, 2, 5), dtype=lib.float32, requires_grad=True)
        mods = [nn.LayerNorm(5), nn.LayerNorm([2, 5], bias=False),
                nn.LayerNorm((5,), eps=0.5, elementwise_affine=False)]
        out = [repr(m) for m in mods] + [[n for n, _ in m.named_parameters()] for m in mods]
        for m in mods:
            y = m(x)
            y.pow(3).sum().backward()
            out += [y, y.grad_fn.name(), x.grad]
        y = x[0]
        return out + [outcome(lambda: F.layer_norm(y, (2,))),
                      outcome(lambda: F.layer_norm(y, (3,), lib.ones(2))),
                      outcome(lambda: F.layer_norm(y, (5,), None, lib.ones(3))),
                      outcome(lambda: F.layer_norm(y, (4, 2, 5))),
                      outcome(lambda: F.layer_norm(y, ())),
                      outcome(lambda: F.layer_norm(y, 5)),
                      outcome(lambda: F.layer_norm(y, (5,), lib.ones(5, dtype=lib.float64)))]
    g, t = both(build)
    close(g, t)


# ---- embedding ---------------------------------------------------------------------------------

INDICES = np.array([[1, 2, 4], [4, 1, 0]])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 1}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True}])
def test_embedding_values_graphs_and_derivatives(kwargs, dtype):
    check_op(lambda T, w, i: T.nn.functional.embedding(i, w, **kwargs),
             [RNG.standard_normal((5, 3)), INDICES], dtype, graph_order=2)
    check_op(lambda T, w, i: T.nn.functional.embedding(i, w, **kwargs),
             [RNG.standard_normal((5, 3)), INDICES.astype(np.int32)[0]], dtype)


def test_embedding_module_init_from_pretrained_max_norm_and_errors():
    def build(lib):
        e = lib.nn.Embedding(6, 4, padding_idx=2)
        f = lib.nn.Embedding.from_pretrained(lib.ones(2, 3), freeze=False, padding_idx=0)
        y = e(lib.tensor([2, 3, 3]))
        y.sum().backward()
        m = lib.nn.Embedding(4, 2, max_norm=1.0)
        z = m(lib.tensor([0, 1]))
        return [repr(e), repr(e.weight), repr(f), repr(y), repr(e.weight.grad), repr(m.weight),
                repr(z), m.weight._version, f.weight.requires_grad,
                lib.nn.Embedding.from_pretrained(lib.ones(2, 3)).weight.requires_grad,
                outcome(lambda: lib.nn.functional.embedding(lib.tensor([1, 6]), e.weight)),
                outcome(lambda: lib.nn.functional.embedding(lib.tensor([1., 5]), e.weight)),
                outcome(lambda: lib.nn.functional.embedding(lib.tensor([1]), e.weight,
                                                            padding_idx=6)),
                outcome(lambda: lib.nn.Embedding(3, 2, padding_idx=3)),
                outcome(lambda: lib.nn.Embedding(3, 2, _weight=lib.ones(2, 2))),
                outcome(lambda: lib.nn.Embedding.from_pretrained(lib.ones(3))),
                repr(lib.nn.Embedding(3, 2, max_norm=2., norm_type=1., scale_grad_by_freq=True))]
    g, t = both(build)
    assert g == t


# ---- activations -------------------------------------------------------------------------------

ACTIVATIONS = {
    "gelu": lambda F, x: F.gelu(x), "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "leaky_relu": lambda F, x: F.leaky_relu(x), "leaky_relu_slope": lambda F, x: F.leaky_relu(
        x, 0.2), "elu": lambda F, x: F.elu(x), "elu_alpha": lambda F, x: F.elu(x, 0.5),
    "selu": lambda F, x: F.selu(x), "celu": lambda F, x: F.celu(x, 0.7),
    "silu": lambda F, x: F.silu(x), "mish": lambda F, x: F.mish(x),
    "softplus": lambda F, x: F.softplus(x), "softplus_options": lambda F, x: F.softplus(
        x, beta=2, threshold=1.5), "hardtanh": lambda F, x: F.hardtanh(x),
    "hardtanh_ints": lambda F, x: F.hardtanh(x, -2, 1), "relu6": lambda F, x: F.relu6(x * 4),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_functions(name, dtype):
    x = RNG.standard_normal((3, 5)) * 2
    # the second derivatives of elu and softplus are right in value; their nodes' names are
    # gradlab's own composition, not PyTorch's (elu_double_backward, softplus_double_backward)
    own = name.startswith(("elu", "selu", "celu", "softplus"))
    check_op(lambda T, x: ACTIVATIONS[name](T.nn.functional, x), [x], dtype, graph_order=2,
             names_order=1 if own else 2)


IN_PLACE = {
    "relu": lambda F, x: F.relu(x, inplace=True), "relu_": lambda F, x: F.relu_(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2, inplace=True),
    "leaky_relu_": lambda F, x: F.leaky_relu_(x), "elu": lambda F, x: F.elu(x, 0.5, True),
    "elu_": lambda F, x: F.elu_(x), "selu": lambda F, x: F.selu(x, True),
    "selu_": lambda F, x: F.selu_(x), "celu": lambda F, x: F.celu(x, 0.7, True),
    "celu_": lambda F, x: F.celu_(x, 1.5), "hardtanh": lambda F, x: F.hardtanh(x, -2, 1, True),
    "hardtanh_": lambda F, x: F.hardtanh_(x), "relu6": lambda F, x: F.relu6(x, True),
    "silu": lambda F, x: F.silu(x, True), "mish": lambda F, x: F.mish(x, True),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_activations(name, dtype):
    """The in-place forms on a non-leaf: PyTorch's nodes (LeakyReluBackward1, EluBackward1, ...
    saving the result; HardtanhBackward0, SiluBackward0, ... saving a clone of the input), the
    derivatives through them, the version counter."""
    def fn(T, x):
        y = x * 3
        before = y._version
        out = IN_PLACE[name](T.nn.functional, y)
        assert out is y and y._version == before + 1
        return out
    x = RNG.standard_normal((3, 5))
    check_op(fn, [x], dtype, graph_order=2, names_order=2 if name.startswith(
        ("elu", "selu", "celu")) else 3)


def test_in_place_activation_errors():
    def build(lib):
        F = lib.nn.functional
        leaf = lib.tensor([1.0, -1.0], requires_grad=True)
        y = F.leaky_relu(leaf * 1, -0.2, inplace=True)
        return [outcome(lambda: F.elu(leaf, inplace=True)),
                outcome(lambda: F.hardtanh_(leaf * 1, 2.0, 1.0)),
                outcome(lambda: y.sum().backward())]
    g, t = both(build)
    assert g == t


@pytest.mark.parametrize("make", [
    lambda nn: nn.GELU(), lambda nn: nn.GELU("tanh"), lambda nn: nn.LeakyReLU(),
    lambda nn: nn.LeakyReLU(0.2, True), lambda nn: nn.ELU(), lambda nn: nn.ELU(0.5, True),
    lambda nn: nn.SELU(), lambda nn: nn.CELU(0.5), lambda nn: nn.SiLU(), lambda nn: nn.SiLU(True),
    lambda nn: nn.Mish(), lambda nn: nn.Softplus(), lambda nn: nn.Softplus(2, 10),
    lambda nn: nn.Hardtanh(), lambda nn: nn.Hardtanh(-2, 2.), lambda nn: nn.ReLU6(),
    lambda nn: nn.ReLU6(True), lambda nn: nn.Tanh(), lambda nn: nn.Sigmoid()])
def test_activation_modules(make):
    def build(lib):
        m = make(lib.nn)
        x = lib.tensor(X[..., 0] * 3, dtype=lib.float32, requires_grad=True)
        y = m(x * 1)
        y.sum().backward()
        return [repr(m), y, y.grad_fn.name(), x.grad]
    g, t = both(build)
    close(g, t)


def test_activation_errors():
    def build(lib):
        F, nn = lib.nn.functional, lib.nn
        x = lib.tensor([1.0, -1.0])
        return [outcome(lambda: F.gelu(x, approximate="tan")),
                outcome(lambda: F.hardtanh(x, 2.0, 1.0)), outcome(lambda: nn.Hardtanh(1, 1))]
    g, t = both(build)
    assert g == t


# ---- losses ------------------------------------------------------------------------------------

TARGET = RNG.standard_normal((5, 3)) * 2

LOSSES = {
    "smooth_l1": lambda F, x, y, r: F.smooth_l1_loss(x, y, reduction=r),
    "smooth_l1_beta": lambda F, x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.5),
    "smooth_l1_beta0": lambda F, x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.0),
    "huber": lambda F, x, y, r: F.huber_loss(x, y, reduction=r),
    "huber_delta": lambda F, x, y, r: F.huber_loss(x, y, reduction=r, delta=2.5),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_regression_losses(name, reduction, dtype):
    # their backward is an op of its own: <Loss>BackwardBackward0 under create_graph
    check_op(lambda T, x, y: LOSSES[name](T.nn.functional, x, y, reduction),
             [RNG.standard_normal((5, 3)), TARGET], dtype, order=3, graph_order=2)


def test_regression_loss_modules_and_errors():
    def build(lib):
        nn, F = lib.nn, lib.nn.functional
        x, y = lib.tensor(TARGET[0]), lib.zeros(3)
        mods = [nn.SmoothL1Loss(), nn.SmoothL1Loss(beta=0.5, reduction="sum"), nn.HuberLoss(),
                nn.HuberLoss(delta=2.0)]
        return [repr(m) for m in mods] + [m(x, y) for m in mods] + [
            mods[1].beta, mods[3].delta,
            outcome(lambda: F.smooth_l1_loss(x, y, beta=-1)),
            outcome(lambda: F.huber_loss(x, y, delta=0)),
            outcome(lambda: F.huber_loss(x, y[:2]))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g, t = both(build)
    close(g, t)


# ---- makemore part 3: an MLP with batch norm, by hand and with nn.BatchNorm1d ------------------

def test_makemore_batchnorm_mlp_trains_as_pytorch():
    def build(lib):
        lib.manual_seed(2147483647)  # (makemore's Generator is another part of gradlab)
        X = lib.randint(0, 27, (32, 3))
        Y = lib.randint(0, 27, (32,))
        C = lib.randn((27, 10))
        W1 = lib.randn((30, 64)) * (5 / 3) / 30 ** 0.5
        W2 = lib.randn((64, 27)) * 0.01
        bngain, bnbias = lib.ones((1, 64)), lib.zeros((1, 64))
        bn = lib.nn.BatchNorm1d(64)
        params = [C, W1, W2, bngain, bnbias] + list(bn.parameters())
        for p in params:
            p.requires_grad = True
        seen = []
        for step in range(5):
            emb = C[X].view(X.shape[0], -1)
            hpre = emb @ W1
            bnmean, bnstd = hpre.mean(0, keepdim=True), hpre.std(0, keepdim=True)
            h = (bngain * (hpre - bnmean) / bnstd + bnbias).tanh() + bn(hpre).tanh()
            loss = lib.nn.functional.cross_entropy(h @ W2, Y)
            for p in params:
                p.grad = None
            loss.backward()
            for p in params:
                p.data += -0.1 * p.grad
            seen += [loss, bn.running_mean[:4], bn.running_var[:4]]
        return seen
    g, t = both(build)
    close(g, t)


# ---- forward mode: batch_norm_jvp, layer_norm_jvp, embedding ------------------------------------

FORWARD = {
    "batch_norm_train": lambda T, F, x, w, b: F.batch_norm(
        x, T.tensor(RUNNING_MEAN, dtype=x.dtype), T.tensor(RUNNING_VAR, dtype=x.dtype), w, b,
        training=True),
    "batch_norm_eval": lambda T, F, x, w, b: F.batch_norm(
        x, T.tensor(RUNNING_MEAN, dtype=x.dtype), T.tensor(RUNNING_VAR, dtype=x.dtype), w, b),
    "batch_norm_plain": lambda T, F, x, w, b: F.batch_norm(x, None, None, training=True),
    "layer_norm": lambda T, F, x, w, b: F.layer_norm(x, (2,), w[:2], b[1:]),
    "layer_norm_2d": lambda T, F, x, w, b: F.layer_norm(x, (3, 2)),
    "embedding": lambda T, F, x, w, b: F.embedding(T.tensor([[0, 2], [1, 0]]), x[:, :, 0]),
    "embedding_padding": lambda T, F, x, w, b: F.embedding(
        T.tensor([[0, 2], [1, 0]]), x[:, :, 0], padding_idx=0),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_mode_and_forward_over_reverse(name, dtype):
    """The output's tangent (PyTorch's batch_norm_jvp, layer_norm_jvp, embedding's), and the
    tangents of its gradients (the backward ops' forward derivatives)."""
    rng = np.random.default_rng(5)  # (layer norm over two values is ill-conditioned when they
    arrays = [X, W3, B3] + [rng.standard_normal(s) for s in (X.shape, 3, 3)]  # are close)

    def run(T):
        fwAD = T.autograd.forward_ad
        x, w, b, tx, tw, tb = (T.tensor(a, dtype=getattr(T, dtype)) for a in arrays)
        x.requires_grad_()
        w.requires_grad_()
        with fwAD.dual_level():
            y = FORWARD[name](T, T.nn.functional, fwAD.make_dual(x, tx), fwAD.make_dual(w, tw),
                              fwAD.make_dual(b, tb))
            v = T.ones_like(y) + T.arange(y.numel(), dtype=y.dtype).view(y.shape) / 10
            grads = T.autograd.grad(y, (x, w), v, create_graph=True, allow_unused=True)
            return [fwAD.unpack_dual(y).tangent] + [
                None if g is None else fwAD.unpack_dual(g).tangent for g in grads]
    g, t = run(gradlab), run(torch)
    for a, b in zip(g, t):
        if b is None:
            assert a is None or not a.numpy().any()
        else:
            assert_same(a, b)
