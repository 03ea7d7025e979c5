"""torch.optim vs gradlab.optim: SGD's updates, state, repr and errors, and seeded training loops
that print the same losses as PyTorch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("alpha", [-0.1, 0.3, 3, -1e-3])
def test_add_with_alpha_is_one_fused_multiply_add(dtype, alpha):
    """PyTorch's add kernel computes self + alpha · other with one rounding (an FMA): every
    optimizer step depends on it, in place and out of place, with and without a graph."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((7, 33)).astype(dtype) for _ in range(2))
    ta, tb = torch.tensor(a), torch.tensor(b)
    ga, gb = gradlab.tensor(a), gradlab.tensor(b)
    for op in ("add", "sub"):
        np.testing.assert_array_equal(getattr(ga, op)(gb, alpha=alpha).numpy(),
                                      getattr(ta, op)(tb, alpha=alpha).numpy())
        gc, tc = ga.clone(), ta.clone()
        getattr(gc, op + "_")(gb, alpha=alpha)
        getattr(tc, op + "_")(tb, alpha=alpha)
        np.testing.assert_array_equal(gc.numpy(), tc.numpy())
        assert gc._version == tc._version == 1
    gl, tl = ga.clone().requires_grad_(), ta.clone().requires_grad_()
    gy, ty = gl.sub(gb, alpha=alpha), tl.sub(tb, alpha=alpha)
    np.testing.assert_array_equal(gy.detach().numpy(), ty.detach().numpy())
    assert gy.grad_fn.name() == ty.grad_fn.name() and gy.grad_fn._saved_alpha == alpha
    np.testing.assert_array_equal(gradlab.rsub(gb, ga, alpha=alpha).numpy(),
                                  torch.rsub(tb, ta, alpha=alpha).numpy())


def test_add_with_alpha_of_zero_dim_tensors():
    for a, b in ((0.0, 0.0), (1.5, -2.25), (-0.0, 0.0)):
        g = gradlab.tensor(a).add(gradlab.tensor(b), alpha=-2)
        t = torch.tensor(a).add(torch.tensor(b), alpha=-2)
        assert repr(g) == repr(t) and np.signbit(g.item()) == np.signbit(t.item())
