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
