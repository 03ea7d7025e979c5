"""torch.optim vs gradlab.optim: SGD's updates, state, repr and errors, and seeded training loops
that print the same losses as PyTorch.

Updates are bit for bit where PyTorch runs its AVX2 kernels (AVX2 and AVX-512 CPUs; skipped on its
DEFAULT kernels, which do not fuse the multiply-add). The training loops go through matrix products
(MKL's and OpenBLAS's kernels differ by CPU) for 50 steps, so their printed losses are compared as
whole printed programs: a last digit may differ within 64 float32 ulps (tests/printed.py).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import assert_prints_like_torch, avx2_kernels, both, outcome  # noqa: E402


@avx2_kernels
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


def _regression(lib, steps=50, **options):
    """A 1-16-1 tanh MLP fitted to a sine by SGD: the losses printed every 10 steps."""
    nn = lib.nn
    x = lib.linspace(-2, 2, 40).unsqueeze(1)
    y = (x * 1.5).sin() + 0.1 * lib.randn(40, 1)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = lib.optim.SGD(model.parameters(), **options)
    loss_fn = nn.MSELoss()
    lines = []
    for step in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if step % 10 == 0 or step == steps - 1:
            lines.append(f"step {step:3d} loss {loss.item():.4f}")
    return lines, model, opt


def _classification(lib, steps=50, **options):
    """Three Gaussian blobs, a 2-8-3 ReLU MLP, CrossEntropyLoss: losses and final accuracy."""
    nn = lib.nn
    centers = lib.tensor([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    labels = lib.tensor([0] * 20 + [1] * 20 + [2] * 20)
    x = centers[labels] + 0.7 * lib.randn(60, 2)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = lib.optim.SGD(model.parameters(), **options)
    loss_fn = nn.CrossEntropyLoss()
    lines = []
    for step in range(steps):
        logits = model(x)
        loss = loss_fn(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0 or step == steps - 1:
            accuracy = (logits.argmax(1) == labels).float().mean().item()
            lines.append(f"step {step:3d} loss {loss.item():.4f} accuracy {accuracy:.3f}")
    return lines, model, opt


@pytest.mark.parametrize("train", [_regression, _classification])
@pytest.mark.parametrize("options", [
    {"lr": 0.1}, {"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "weight_decay": 1e-2},
    {"lr": 0.1, "weight_decay": 0.05}])
def test_training_loop_prints_the_same_losses(train, options):
    (g_lines, g_model, g_opt), (t_lines, t_model, t_opt) = both(
        lambda lib: train(lib, **options))
    assert_prints_like_torch("\n".join(g_lines), "\n".join(t_lines),
                             lambda lib: "\n".join(train(lib, **options)[0]))
    for (name, g), (_, t) in zip(g_model.named_parameters(), t_model.named_parameters()):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)
        if options.get("momentum"):
            np.testing.assert_allclose(g_opt.state[g]["momentum_buffer"].numpy(),
                                       t_opt.state[t]["momentum_buffer"].numpy(), rtol=1e-4,
                                       atol=1e-5, err_msg=name)


@avx2_kernels
@pytest.mark.parametrize("options", [
    {"lr": 0.1}, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.2, "momentum": 0.8, "dampening": 0.5, "weight_decay": 0.1},
    {"lr": 0.1, "maximize": True, "weight_decay": 0.3}])
def test_sgd_steps_are_bit_identical(options):
    """Fixed gradients, ten steps: PyTorch's single-tensor SGD, update for update."""
    rng = np.random.default_rng(5)
    w0, g0 = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 3))

    def build(lib):
        w = lib.nn.Parameter(lib.tensor(w0.copy()))
        opt = lib.optim.SGD([w], **options)
        versions = []
        for i in range(10):
            w.grad = lib.tensor((g0 * (i + 1)).astype(np.float32))
            opt.step()
            versions.append(w._version)
        buf = opt.state[w].get("momentum_buffer")
        return w.detach().numpy().copy(), versions, None if buf is None else buf.numpy().copy()
    (gw, gv, gb), (tw, tv, tb) = both(build)
    np.testing.assert_array_equal(gw, tw)
    assert gv == tv
    if tb is None:
        assert gb is None
    else:
        np.testing.assert_array_equal(gb, tb)


def test_sgd_repr_state_dict_zero_grad_and_closure():
    def build(lib):
        model = lib.nn.Linear(2, 1)
        opt = lib.optim.SGD([{"params": [model.weight]},
                             {"params": model.bias, "lr": 0.5, "momentum": 0.9}], lr=0.1)
        out = [repr(opt), [sorted(g) for g in opt.param_groups]]
        x = lib.ones(3, 2)

        def closure():
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            return loss
        out.append(repr(opt.step(closure)))
        sd = opt.state_dict()
        out += [repr(sd), list(sd["param_groups"][1])]
        opt.zero_grad(set_to_none=False)
        out.append([repr(p.grad) for p in model.parameters()])
        opt.zero_grad()
        out.append([p.grad for p in model.parameters()])
        opt.step()  # no gradients: nothing changes
        out.append(repr(model.weight))
        out.append(lib.is_grad_enabled())
        return out
    g, t = both(build)
    assert g == t


def test_sgd_errors():
    def build(lib):
        w = lib.nn.Parameter(lib.ones(2))
        SGD = lib.optim.SGD
        return [outcome(lambda: SGD([], lr=0.1)), outcome(lambda: SGD([w], lr=-1)),
                outcome(lambda: SGD([w], lr=0.1, momentum=-0.5)),
                outcome(lambda: SGD([w], lr=0.1, weight_decay=-1)),
                outcome(lambda: SGD([w], lr=0.1, nesterov=True)),
                outcome(lambda: SGD(w, lr=0.1)), outcome(lambda: SGD([w * 2], lr=0.1)),
                outcome(lambda: SGD([1.0], lr=0.1)),
                outcome(lambda: SGD({w}, lr=0.1)),
                outcome(lambda: SGD([{"params": [w]}, {"params": [w]}], lr=0.1))]
    g, t = both(build)
    assert g == t


def test_sgd_step_is_one_numpy_write_per_parameter():
    """SGD.step without momentum updates the parameter's storage in place (same array)."""
    w = gradlab.nn.Parameter(gradlab.ones(3))
    storage = w._array
    w.grad = gradlab.ones(3)
    gradlab.optim.SGD([w], lr=0.5).step()
    assert w._array is storage and w._version == 1 and w.grad_fn is None
    np.testing.assert_array_equal(storage, [0.5, 0.5, 0.5])
