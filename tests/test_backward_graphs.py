"""The graphs create_graph=True builds, compared in full with PyTorch's, for every op case.

For each case of tests/test_ops.py, the output's gradient is taken with ``grad_outputs`` that
require grad themselves, so every formula's nodes, those applied to ``grad`` included, are
recorded; the graphs of these first derivatives and of the second derivatives are walked
recursively (names, next_functions with their indices, ``_saved_*`` values, leaves; the second
derivatives' only for cases whose ``graph_order`` in tests/test_ops.py allows it). A formula
multiplying by a Python number with a Tensor op where PyTorch's C++ uses the Scalar overload
(MulBackward0 for MulBackward1), or adding a node PyTorch does not, fails here.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import assert_graph_same, assert_same, pair  # noqa: E402
from test_ops import ALL, C, distinct, pos  # noqa: E402

def _graphs_match(case, saved):
    rng = np.random.default_rng(1)
    leaves, g_in, t_in = [], [], []
    for i, a in enumerate(case.arrays()):
        a = np.asarray(a)
        floating = a.dtype.kind == "f"
        needs = (i in case.options["grad"]) if case.options.get("grad") else floating
        g, t = pair(a, "float64" if floating else a.dtype.name, requires_grad=needs)
        leaves.append((g, t))
        g_in.append(g)
        t_in.append(t)
    g_out, t_out = case.fn(gradlab, *g_in), case.fn(torch, *t_in)
    g_out = g_out if isinstance(g_out, (tuple, list)) else (g_out,)
    t_out = t_out if isinstance(t_out, (tuple, list)) else (t_out,)
    pairs = [(g, t) for g, t in zip(g_out, t_out) if t.requires_grad]
    g_req = [g for g, _ in leaves if g.requires_grad]
    t_req = [t for _, t in leaves if t.requires_grad]
    if not pairs or not t_req:
        return
    vs = [pair(rng.standard_normal(t.shape), "float64", requires_grad=True) for _, t in pairs]
    leaves += vs
    g_first = gradlab.autograd.grad([g for g, _ in pairs], g_req, [v for v, _ in vs],
                                    create_graph=True, allow_unused=True)
    t_first = torch.autograd.grad([t for _, t in pairs], t_req, [v for _, v in vs],
                                  create_graph=True, allow_unused=True)
    g_wrt, t_wrt = g_req + [v for v, _ in vs], t_req + [v for _, v in vs]
    g_root = t_root = None
    for i, (gg, tg) in enumerate(zip(g_first, t_first)):
        if tg is None:
            continue
        assert_same(gg, tg, what=f"first derivative {i}")
        if tg.grad_fn is not None:
            if case.options.get("graph_order", 3) >= 2:
                assert_graph_same(gg.grad_fn, tg.grad_fn, leaves, saved, f"first derivative {i}")
            w = rng.standard_normal(tg.shape)
            gs = (gg * gradlab.tensor(w)).sum()
            ts = (tg * torch.tensor(w)).sum()
            g_root = gs if g_root is None else g_root + gs
            t_root = ts if t_root is None else t_root + ts
    if t_root is None:
        return
    g_second = gradlab.autograd.grad(g_root, g_wrt, create_graph=True, allow_unused=True)
    t_second = torch.autograd.grad(t_root, t_wrt, create_graph=True, allow_unused=True)
    for i, (gg, tg) in enumerate(zip(g_second, t_second)):
        if tg is None:
            assert gg is None or not gg.detach().numpy().any(), f"second derivative {i}"
            continue
        if case.options.get("graph_order", 3) < 3:  # the values only
            assert_same(gg.detach(), tg.detach(), what=f"second derivative {i}")
            continue
        assert_same(gg, tg, what=f"second derivative {i}")
        if tg.grad_fn is not None:
            assert_graph_same(gg.grad_fn, tg.grad_fn, leaves, saved, f"second derivative {i}")


def probs(*shape):
    return lambda rng: rng.uniform(0.1, 0.9, shape)


F = "nn.functional"
EXTRA = [  # the ops of gradlab.nn.functional and ops/loss.py, in-place ops, masked_fill(Tensor)
    C("linear", lambda T, x, w, b: T.nn.functional.linear(x, w, b), (4, 3), (2, 3), (2,)),
    C("linear_nobias", lambda T, x, w: T.nn.functional.linear(x, w), (4, 3), (2, 3)),
    C("linear_1d", lambda T, x, w, b: T.nn.functional.linear(x, w, b), (3,), (2, 3), (2,)),
    C("mse", lambda T, a, b: T.nn.functional.mse_loss(a, b), (2, 3), (2, 3)),
    C("mse_sum", lambda T, a, b: T.nn.functional.mse_loss(a, b, reduction="sum"), (3,), (3,)),
    C("mse_none", lambda T, a, b: T.nn.functional.mse_loss(a, b, reduction="none"), (3,), (3,)),
    C("l1", lambda T, a, b: T.nn.functional.l1_loss(a, b), distinct(2, 3), (2, 3)),
    C("bce", lambda T, p, y: T.nn.functional.binary_cross_entropy(p, y), probs(2, 3),
      probs(2, 3)),
    C("bce_weight_sum", lambda T, p, y, w: T.nn.functional.binary_cross_entropy(
        p, y, weight=w, reduction="sum"), probs(4,), probs(4,), pos(4), grad=(0, 1)),
    C("bce_logits", lambda T, x, y: T.nn.functional.binary_cross_entropy_with_logits(x, y),
      (2, 3), probs(2, 3)),
    C("bce_logits_weight_none", lambda T, x, y, w: T.nn.functional.binary_cross_entropy_with_logits(
        x, y, weight=w, reduction="none"), (3,), probs(3,), pos(3), grad=(0, 1)),
    C("bce_none", lambda T, p, y: T.nn.functional.binary_cross_entropy(p, y, reduction="none"),
      probs(3,), probs(3,)),
    C("logit", lambda T, p: p.logit(), probs(2, 3)),
    C("logit_eps", lambda T, p: T.logit(p, eps=0.2), probs(2, 3)),
    C("cross_entropy_probs", lambda T, x, y: T.nn.functional.cross_entropy(x, y), (2, 3),
      probs(2, 3)),
    C("cross_entropy_smoothing", lambda T, x, t: T.nn.functional.cross_entropy(
        x, t, label_smoothing=0.2), (3, 4), [0, 3, 1]),
    C("relu_fn", lambda T, x: T.nn.functional.relu(x), distinct(2, 3)),
    C("softmax_F", lambda T, x: T.nn.functional.softmax(x, dim=0), (2, 3)),
    C("log_softmax_F", lambda T, x: T.nn.functional.log_softmax(x, -1), (2, 3)),
    C("masked_fill_tensor", lambda T, a, v: a.masked_fill(a > 0, v), distinct(2, 3), ()),
    C("add_", lambda T, a, b: a.clone().add_(b, alpha=2), (2, 3), (3,)),
    C("mul_", lambda T, a, b: a.clone().mul_(b), (2, 3), (2, 3)),
    C("div_", lambda T, a, b: a.clone().div_(b), (2, 3), pos(3)),
    C("pow_", lambda T, a: a.clone().pow_(3), (2, 3)),
    C("exp_", lambda T, a: a.clone().exp_(), (2, 3)),
    C("tanh_", lambda T, a: a.clone().tanh_(), (2, 3)),
    C("sigmoid_", lambda T, a: a.clone().sigmoid_(), (2, 3)),
    C("sqrt_", lambda T, a: a.clone().sqrt_(), pos(2, 3)),
    C("setitem", lambda T, a, v: _setitem(a.clone(), v), (3, 4), (4,)),
    C("setitem_column", lambda T, a, v: _setitem_column(a.clone(), v), (3, 4), (3,)),
    C("view_mul_", lambda T, a, v: _view_mul_(a.clone(), v), (3, 4), (2, 2)),
]


def _setitem(a, v):
    a[1] = v * 2
    return a


def _setitem_column(a, v):
    a[:, 1] = v.exp()
    return a


def _view_mul_(a, v):
    a[1:, ::2].mul_(v)
    return a


CASES = [pytest.param(c, id=c.id, marks=c.marks) for c in ALL + EXTRA]


@pytest.mark.parametrize("case", CASES)
def test_derivative_graphs_match_torch(case):
    _graphs_match(case, saved=True)


def test_formulas_run_in_torchs_order():
    """The nodes a create_graph backward records are numbered in the order PyTorch's generated
    code runs the formulas: by input name (mm's mat2 before self), a list's (cat's) in order."""
    def order(T, make, n):
        xs = [T.ones(1, 2, dtype=T.float64, requires_grad=True) for _ in range(n)]
        out = make(T, xs)
        v = T.ones(out.shape, dtype=T.float64, requires_grad=True)
        grads = T.autograd.grad(out, xs, v, create_graph=True)
        seq = [g.grad_fn._sequence_nr() for g in grads]
        return sorted(range(n), key=seq.__getitem__)
    for make, n in ((lambda T, xs: T.cat(xs), 12), (lambda T, xs: xs[0] * xs[1], 2)):
        assert order(gradlab, make, n) == order(torch, make, n)
