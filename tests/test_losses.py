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
        out = [F.cross_entropy(x, T.zeros(0, 3), weight=T.ones(3)),
               F.cross_entropy(x, T.zeros(0, 3)),
               F.cross_entropy(x, T.zeros(0, dtype=T.int64), label_smoothing=0.2)]
        return [(repr(o), o.grad_fn.name()) for o in out]
    g, t = both(build)
    assert g == t


# ---- binary cross entropy with logits, kl_div, logsigmoid --------------------------------------

PROB_TARGET = RNG.random((4, 3))
POS_WEIGHT = np.array([1.0, 2.5, 0.3])
ROW_WEIGHT = np.array([[0.5], [1.0], [2.0], [1.5]])

PAIRED = {  # losses of (input, target), both differentiated
    "bce_logits": lambda T, F, x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
    "bce_logits_pos_weight": lambda T, F, x, y, r: F.binary_cross_entropy_with_logits(
        x, y, pos_weight=T.tensor(POS_WEIGHT, dtype=x.dtype), reduction=r),
    "bce_logits_both_weights": lambda T, F, x, y, r: F.binary_cross_entropy_with_logits(
        x, y, weight=T.tensor(ROW_WEIGHT, dtype=x.dtype),
        pos_weight=T.tensor(POS_WEIGHT, dtype=x.dtype), reduction=r),
    "bce_logits_module": lambda T, F, x, y, r: T.nn.BCEWithLogitsLoss(
        weight=T.tensor(POS_WEIGHT, dtype=x.dtype), reduction=r,
        pos_weight=T.tensor(ROW_WEIGHT, dtype=x.dtype))(x, y),
    "bce_weight": lambda T, F, x, y, r: F.binary_cross_entropy(
        x.sigmoid(), y, weight=T.tensor(ROW_WEIGHT, dtype=x.dtype), reduction=r),
    "kl_div": lambda T, F, x, y, r: F.kl_div(x.log_softmax(1), y, reduction=r),
    "kl_div_log_target": lambda T, F, x, y, r: F.kl_div(
        x.log_softmax(1), y.log(), reduction=r, log_target=True),
    "kl_div_module": lambda T, F, x, y, r: T.nn.KLDivLoss(reduction=r, log_target=True)(
        x, y.log()),
    "kl_div_zero_target": lambda T, F, x, y, r: F.kl_div(
        x, y * (y > 0.5), reduction=r),
}
REDUCTIONS = {"bce": ["mean", "sum", "none"], "kl_": ["mean", "sum", "none", "batchmean"]}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, reduction", [(n, r) for n in PAIRED for r in REDUCTIONS[n[:3]]])
def test_paired_losses(name, reduction, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warning: compared below
        check_op(lambda T, x, y: PAIRED[name](T, T.nn.functional, x, y, reduction),
                 [X, PROB_TARGET], dtype, order=3, graph_order=2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_logsigmoid(dtype):
    check_op(lambda T, x: T.nn.functional.logsigmoid(x * 8), [X], dtype, order=3,
             graph_order=2)
    check_op(lambda T, x, v: T.autograd.grad(T.nn.LogSigmoid()(x), x, v, create_graph=True),
             [X, Y], dtype, order=2, graph_order=2)


def test_weights_that_require_grad_and_shapes_that_do_not_fit():
    def build(T):
        F = T.nn.functional
        x, y = T.tensor(X, requires_grad=True), T.tensor(PROB_TARGET)
        w = T.ones(3, dtype=x.dtype, requires_grad=True)
        cases = [lambda: F.binary_cross_entropy_with_logits(x, y, weight=w),
                 lambda: F.binary_cross_entropy_with_logits(x, y, pos_weight=w),
                 lambda: F.binary_cross_entropy(x.sigmoid(), y, weight=w),
                 lambda: F.nll_loss(x, T.tensor(CLASSES), weight=w),
                 lambda: F.cross_entropy(x, T.tensor(CLASSES), weight=w),
                 lambda: F.nll_loss(x.view(1, 4, 3, 1), T.tensor(CLASSES[:3]).view(1, 3, 1),
                                    weight=T.ones(4, dtype=x.dtype, requires_grad=True)),
                 lambda: F.binary_cross_entropy_with_logits(x, y, weight=T.ones(2)),
                 lambda: F.binary_cross_entropy_with_logits(x, y, weight=T.ones(5, 4, 3)),
                 lambda: F.binary_cross_entropy_with_logits(x, y, pos_weight=T.ones(2)),
                 lambda: F.binary_cross_entropy_with_logits(x, y, pos_weight=T.ones(5, 4, 3)),
                 lambda: F.kl_div(x, T.ones(4, 3, dtype=T.int64), reduction="sum"),
                 lambda: F.cross_entropy(x, y, weight=T.ones(2)),
                 lambda: F.cross_entropy(x, T.tensor(CLASSES), weight=T.ones(2),
                                         label_smoothing=0.1),
                 lambda: F.cross_entropy(x, T.tensor(CLASSES), label_smoothing=1.5),
                 lambda: F.cross_entropy(x, y, label_smoothing=1.5),
                 lambda: F.cross_entropy(x, T.tensor(CLASSES), label_smoothing=-0.5),
                 lambda: F.cross_entropy(x, y, label_smoothing=-0.5)]
        out = [outcome(c) for c in cases]
        with T.no_grad():
            out.append(outcome(lambda: F.nll_loss(x, T.tensor(CLASSES), weight=w)))
        return out
    g, t = both(build)
    assert g == t


def test_kl_div_warnings_and_reprs():
    def build(T):
        F, nn = T.nn.functional, T.nn
        x, y = T.tensor(X).log_softmax(1), T.tensor(PROB_TARGET)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = [F.kl_div(x, y), F.kl_div(x, y, reduction="batchmean"),
                   F.kl_div(x, y, size_average=False),
                   F.kl_div(x[0, 0], y[0, 0], reduction="batchmean")]
        mods = [nn.KLDivLoss(), nn.KLDivLoss(reduction="batchmean", log_target=True),
                nn.LogSigmoid(), nn.BCEWithLogitsLoss(pos_weight=T.ones(3))]
        return ([repr(o) for o in out] + [(m.category.__name__, str(m.message)) for m in w]
                + [w[0].filename == __file__]
                + [repr(m) for m in mods] + [mods[1].log_target, list(mods[3].state_dict())])
    g, t = both(build)
    assert g == t


def test_targets_of_other_shapes_and_dtypes():
    """PyTorch's texts for targets that do not fit, and its broadcasting warnings."""
    def build(T):
        F = T.nn.functional
        x = T.tensor(RNG.standard_normal((2, 3, 4, 5)), dtype=T.float32)
        long = {"dtype": T.int64}
        cases = [lambda: F.cross_entropy(x, T.tensor([0, 1])),
                 lambda: F.cross_entropy(x, T.zeros(2, 4, 5, **long) + 5),
                 lambda: F.cross_entropy(x, T.zeros(2, 4, 6, **long)),
                 lambda: F.cross_entropy(x, T.zeros(2, 4, 5)),
                 lambda: F.cross_entropy(x[0, :, 0], T.tensor(7)),
                 lambda: F.cross_entropy(x[0, :, 0, 0], T.tensor([1, 2])),
                 lambda: F.cross_entropy(x[0, :, 0], T.tensor([[1]])),
                 lambda: F.cross_entropy(x, T.zeros(2, 4, 5, **long),
                                         weight=T.ones(3, dtype=T.float64)),
                 lambda: F.nll_loss(x, T.zeros(2, 4, 5, dtype=T.int32)),
                 lambda: F.mse_loss(x, T.zeros(4, 5)), lambda: F.l1_loss(x, T.zeros(4, 5)),
                 lambda: F.smooth_l1_loss(x, T.zeros(4, 5)),
                 lambda: F.huber_loss(x, T.zeros(4, 5)),
                 lambda: F.kl_div(x, T.zeros(4, 5), reduction="sum"),
                 lambda: F.binary_cross_entropy(x.sigmoid(), T.zeros(4, 5)),
                 lambda: F.binary_cross_entropy_with_logits(x, T.zeros(4, 5)),
                 lambda: F.cross_entropy(x, x, reduction="mean2"),
                 lambda: F.binary_cross_entropy(x.sigmoid(), x.sigmoid().double()),
                 lambda: F.binary_cross_entropy(x.sigmoid(), x.long())]
        out = []
        for case in cases:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                kind, text = outcome(lambda: tuple(case().shape))
            out.append((kind, text, [str(m.message) for m in w]))
        return out
    g, t = both(build)
    assert g == t


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_binary_cross_entropy_clamps_its_logs_at_minus_100(dtype):
    """Probabilities of exactly 0 and 1: the loss's log terms floored at -100, the gradient's
    denominator at 1e-12, as PyTorch's kernels."""
    def fn(T, p):
        q = p.clamp(0, 1)
        return T.nn.functional.binary_cross_entropy(
            q, T.tensor([[1.0, 0.0, 1.0], [0.0, 0.5, 1.0]], dtype=p.dtype),
            weight=T.tensor([2.0, 1.0, 0.5], dtype=p.dtype), reduction="sum")
    check_op(fn, [np.array([[0.0, 1.0, 1.0], [0.0, 0.3, -2.0]])], dtype, order=1)
