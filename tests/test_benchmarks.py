"""The benchmarks compare like with like: each side of a ratio computes the same gradients."""
import gc
import mmap
import os
import sys

import numpy as np
import pytest

import gradlab

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import floor  # noqa: E402
import run  # noqa: E402


def test_bare_tape_computes_gradlabs_gradients():
    data = run.mlp_data(seed=3, batch=5, sizes=(7, 4, 3))
    x, y = (floor.Value(data[k], requires_grad=False) for k in ("x", "y"))
    w1, b1, w2, b2 = tape = [floor.Value(data[k]) for k in ("w1", "b1", "w2", "b2")]
    (((x @ w1 + b1).tanh() @ w2 + b2 - y).square().mean()).backward()

    x, y = gradlab.from_numpy(data["x"]), gradlab.from_numpy(data["y"])
    w1, b1, w2, b2 = ours = [gradlab.from_numpy(data[k]).requires_grad_()
                             for k in ("w1", "b1", "w2", "b2")]
    (((x @ w1 + b1).tanh() @ w2 + b2 - y) ** 2).mean().backward()

    for v, p in zip(tape, ours):
        assert v.grad.shape == p.shape and v.grad.dtype == np.float32
        np.testing.assert_allclose(v.grad, p.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert x.grad is None and np.abs(ours[0].grad.numpy()).max() > 0


def test_lenet_step_is_the_same_step_on_both_sides():
    torch = pytest.importorskip("torch")
    import lenet
    images, labels, params = lenet.data(batch=3, seed=5)
    nets, losses = [], []
    for lib in (gradlab, torch):
        net, step = lenet.sgd_step(lib, images, labels, params, lr=0.1)
        nets.append(net)
        losses.append(step().item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-5) and losses[0] > 0
    (g_net, t_net) = nets
    t_params = dict(t_net.named_parameters())
    for name, p in g_net.named_parameters():
        t = t_params[name]
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)
        assert not np.array_equal(p.detach().numpy(), params[name]), f"{name} did not move"


def test_micrograd_demo_is_the_same_step_on_both_sides():
    """Scalar ops round alike, so the two libraries' losses agree to the bit, step after step."""
    torch = pytest.importorskip("torch")
    import lessons
    ours, theirs = lessons.micrograd_step(gradlab, 10), lessons.micrograd_step(torch, 10)
    losses = [(ours().item(), theirs().item()) for _ in range(3)]
    assert all(g == t for g, t in losses) and losses[2][0] < losses[0][0], losses


def test_elementwise_numpy_gradient_is_gradlabs():
    import lessons
    a = np.random.default_rng(1).standard_normal(1000).astype(np.float32)
    x = gradlab.from_numpy(a.copy()).requires_grad_()
    (x.exp().tanh() * x).sum().backward()
    np.testing.assert_allclose(lessons.elementwise_numpy(a)(), x.grad.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_gc_share_reports_the_collectors_time():
    import lessons
    seconds, share = lessons.gc_share(lambda: [gc_cycle() for _ in range(2000)])
    assert seconds > 0 and 0 < share <= 1


def gc_cycle():
    a = []
    a.append(a)  # a cycle: only the collector frees it
    gc.collect(0)


def test_interleaved_calls_the_programs_in_turn_and_counts_page_faults():
    import lessons
    calls = []
    fresh = []

    def touch():  # a new mapping, each page written: page faults in every call
        calls.append("touch")
        fresh.append(mmap.mmap(-1, 1 << 20))
        for page in range(0, 1 << 20, mmap.PAGESIZE):
            fresh[-1][page] = 1
    results = lessons.interleaved([touch, lambda: calls.append("other")], repeats=3)
    assert calls == ["touch", "other"] * 4  # one warm-up call each, then in turn
    (t_touch, f_touch), (t_other, f_other) = results
    assert t_touch > 0 and t_other > 0 and f_touch >= 1


def test_the_kernel_heap_share_runs_the_chain_without_pytorch():
    """In a process where importing torch fails: nothing a kernel loads brings PyTorch in."""
    import lessons
    seconds, share = lessons.gc_share_in_a_kernel_heap(repeats=1, ops=20_000)
    assert seconds > 0 and 0 <= share < 1


def test_in_a_kernel_loads_one_library_and_what_a_kernel_has():
    import lessons
    loaded = "(lib.__name__, 'ipykernel.ipkernel' in sys.modules, 'gradlab.widgets' in sys.modules)"
    assert lessons.in_a_kernel("torch", loaded) == ("torch", True, False)
    assert lessons.in_a_kernel("gradlab", loaded) == ("gradlab", True, True)
    assert lessons.in_a_kernel("gradlab", "sys.modules['torch']") is None
