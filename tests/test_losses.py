"""torch.nn's losses against PyTorch 2.13: the options lessons use (class weights with label
smoothing, class-probability targets, pos_weight, log_target, >2-D and unbatched inputs), the
backward ops PyTorch differentiates again (<Loss>BackwardBackward0), error and warning texts."""
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from helpers import both, check_op, outcome  # noqa: E402

RNG = np.random.default_rng(1212)
X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal((4, 3)) * 2
X3 = RNG.standard_normal((2, 3, 4))  # (N, C, d1)


# ---- the backward ops: what a gradient's gradient records ---------------------------------------

BACKWARD_OPS = {
    "mse": lambda F, x, y, r: F.mse_loss(x, y, reduction=r),
    "smooth_l1": lambda F, x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.7),
    "huber": lambda F, x, y, r: F.huber_loss(x, y, reduction=r, delta=1.3),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(BACKWARD_OPS))
def test_backward_of_the_loss_is_an_op_of_its_own(name, reduction, dtype):
    """The gradient taken with a grad_output that requires grad: its node (saved values and
    all) and its own derivatives for grad_output, input and target."""
    def first_gradient(T, x, y, v):
        loss = BACKWARD_OPS[name](T.nn.functional, x, y, reduction)
        v = v if reduction == "none" else v.sum()
        return T.autograd.grad(loss, (x, y), v, create_graph=True)
    check_op(first_gradient, [X, Y, RNG.standard_normal((4, 3))], dtype, order=2,
             graph_order=2)


# ---- cross_entropy, nll_loss --------------------------------------------------------------------

W = np.array([0.5, 2.0, 1.5])
CLASSES = np.array([0, 2, 1, 2])
CLASSES_3D = np.array([[0, 1, 2, 1], [2, 2, -100, 0]])  # for (2, 3, 4) inputs, one ignored
PROBS = RNG.dirichlet(np.ones(3), 4)
PROBS_3D = RNG.dirichlet(np.ones(3), (2, 4)).transpose(0, 2, 1)


def _w(T, x):
    return T.tensor(W, dtype=x.dtype)


CROSS_ENTROPY = {
    "weight_smoothing": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(CLASSES), weight=_w(T, x), label_smoothing=0.1, reduction=r),
    "weight_smoothing_ignore": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(CLASSES), weight=_w(T, x), label_smoothing=0.25, ignore_index=2, reduction=r),
    "smoothing_ignore": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(CLASSES), label_smoothing=0.25, ignore_index=0, reduction=r),
    "smoothing_one": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(CLASSES), label_smoothing=1.0, reduction=r),
    "unbatched_weight_smoothing": lambda T, F, x, r: F.cross_entropy(
        x[1], T.tensor(2), weight=_w(T, x), label_smoothing=0.3, reduction=r),
    "unbatched": lambda T, F, x, r: F.cross_entropy(x[2], T.tensor(0), reduction=r),
    "probs": lambda T, F, x, r: F.cross_entropy(x, T.tensor(PROBS, dtype=x.dtype), reduction=r),
    "probs_weight": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(PROBS, dtype=x.dtype), weight=_w(T, x), reduction=r),
    "probs_weight_smoothing": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(PROBS, dtype=x.dtype), weight=_w(T, x), label_smoothing=0.2, reduction=r),
    "probs_unbatched_weight": lambda T, F, x, r: F.cross_entropy(
        x[0], T.tensor(PROBS[0], dtype=x.dtype), weight=_w(T, x), reduction=r),
    "nd_weight_smoothing": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(CLASSES_3D), weight=_w(T, x),
        label_smoothing=0.3, reduction=r),
    "nd_probs_weight": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(PROBS_3D, dtype=x.dtype), weight=_w(T, x),
        reduction=r),
    "nd_weight_ignore": lambda T, F, x, r: F.cross_entropy(
        x, T.tensor(CLASSES_3D), weight=_w(T, x), reduction=r),
    "nll_unbatched_weight": lambda T, F, x, r: F.nll_loss(
        x[3].log_softmax(0), T.tensor(1), weight=_w(T, x), reduction=r),
    "nll_nd_weight_ignore": lambda T, F, x, r: F.nll_loss(
        x, T.tensor(CLASSES_3D), weight=_w(T, x), reduction=r),
    "module": lambda T, F, x, r: T.nn.CrossEntropyLoss(
        weight=_w(T, x), ignore_index=1, reduction=r, label_smoothing=0.15)(x, T.tensor(CLASSES)),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(CROSS_ENTROPY))
def test_cross_entropy(name, reduction, dtype):
    x = X3 if "nd_" in name else X
    check_op(lambda T, x: CROSS_ENTROPY[name](T, T.nn.functional, x, reduction), [x], dtype,
             order=3, graph_order=2)


def test_cross_entropy_of_empty_batches_is_nan():
    def build(T):
        F = T.nn.functional
        x = T.zeros(0, 3, requires_grad=True)
        out = [F.cross_entropy(x, T.zeros(0, 3), weight=T.ones(3)), F.cross_entropy(x, T.zeros(0, 3)),
               F.cross_entropy(x, T.zeros(0, dtype=T.int64), label_smoothing=0.2)]
        return [(repr(o), o.grad_fn.name()) for o in out]
    g, t = both(build)
    assert g == t
