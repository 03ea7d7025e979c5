"""gradlab speed and memory, side by side with PyTorch and hand-written NumPy, in one run.

Run: `make bench` (or `python benchmarks/run.py`). One thread each; every figure is the median of
several repeats, and ratios are taken within this run, so a noisy machine shifts all sides alike
(the MLP's gradlab and NumPy steps are called in turn, see ``interleaved``).
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import gradlab  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # the NumPy and memory figures still mean something without it
    torch = None


def timed(fn, repeats=15, warmup=3):
    """Median seconds per call."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(fns, repeats):
    """(median seconds, median minor page faults) per call of each fn, the fns called in turn,
    so that each meets the memory allocator as the others leave it (whether the C library gave
    freed memory back to the system decides how many fresh pages, each a fault, a call touches).
    """
    for fn in fns:
        fn()
    times, faults = [[] for _ in fns], [[] for _ in fns]
    for _ in range(repeats):
        for fn, t, f in zip(fns, times, faults):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
            f.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return [(statistics.median(t), statistics.median(f)) for t, f in zip(times, faults)]


# ---- 1. a chain of 1,000 scalar steps ------------------------------------------------------------

def chain(lib, steps=1000):
    x = lib.tensor(2.0, requires_grad=True)

    def run():
        y = x
        for _ in range(steps):
            y = y * 1.0001 + 0.001
        y.backward()
        x.grad = None
    return run


# ---- 2. one SGD step of a 784-256-10 tanh MLP ---------------------------------------------------

def mlp_data(seed=0, batch=128, sizes=(784, 256, 10)):
    rng = np.random.default_rng(seed)
    f = np.float32
    n_in, n_hidden, n_out = sizes
    return dict(x=rng.standard_normal((batch, n_in)).astype(f),
                y=rng.standard_normal((batch, n_out)).astype(f),
                w1=(rng.standard_normal((n_in, n_hidden)) * 0.05).astype(f), b1=np.zeros(n_hidden, f),
                w2=(rng.standard_normal((n_hidden, n_out)) * 0.05).astype(f), b2=np.zeros(n_out, f))


def mlp_step(lib, data, lr=0.01):
    """The same source runs on gradlab and on PyTorch."""
    x, y = lib.from_numpy(data["x"]), lib.from_numpy(data["y"])
    params = [lib.from_numpy(data[k].copy()).requires_grad_() for k in ("w1", "b1", "w2", "b2")]
    w1, b1, w2, b2 = params

    def step():
        h = (x @ w1 + b1).tanh()
        loss = ((h @ w2 + b2 - y) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    return step


def numpy_step(data, lr=0.01):
    """The same step written by hand in NumPy: forward, backward, update."""
    x, y = data["x"], data["y"]
    w1, b1, w2, b2 = (data[k].copy() for k in ("w1", "b1", "w2", "b2"))

    def step():
        h = np.tanh(x @ w1 + b1)
        diff = h @ w2 + b2 - y
        g_out = diff * np.float32(2 / diff.size)
        g_pre = (g_out @ w2.T) * (1 - h * h)
        for p, g in ((w2, h.T @ g_out), (b2, g_out.sum(0)), (w1, x.T @ g_pre), (b1, g_pre.sum(0))):
            p -= lr * g
    return step


# ---- 3. saved arrays released after backward ----------------------------------------------------

def saved_bytes_after_backward(retain_graph):
    """Bytes still allocated by a graph's forward once backward has run (the loss kept alive)."""
    data = mlp_data(1)
    x = gradlab.from_numpy(data["x"])
    w1 = gradlab.from_numpy(data["w1"]).requires_grad_()
    w2 = gradlab.from_numpy(data["w2"]).requires_grad_()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    loss = ((x @ w1).tanh() @ w2).tanh().sum()
    forward = tracemalloc.get_traced_memory()[0] - base
    loss.backward(retain_graph=retain_graph)
    w1.grad = w2.grad = None
    left = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return forward, left


def main():
    rows = []
    t_gl = timed(chain(gradlab))
    line = f"chain of 1,000 scalar steps, forward+backward: gradlab {t_gl * 1e3:.2f} ms"
    if torch:
        t_pt = timed(chain(torch))
        line += f", PyTorch {t_pt * 1e3:.2f} ms, ratio gradlab/PyTorch {t_gl / t_pt:.2f}x (target <= 1.0x)"
    rows.append(line)

    data = mlp_data()
    # gradlab and NumPy in turn; PyTorch's step between them would evict gradlab's Python from
    # the CPU's caches (1.8 ms a step instead of 1.6), which no student's loop does
    (t_gl, _), (t_np, _) = interleaved([mlp_step(gradlab, data), numpy_step(data)], 40)
    line = (f"784-256-10 tanh MLP SGD step, batch 128: gradlab {t_gl * 1e3:.2f} ms, NumPy by hand "
            f"{t_np * 1e3:.2f} ms, ratio gradlab/NumPy {t_gl / t_np:.2f}x (target <= 1.1x)")
    if torch:
        t_pt = timed(mlp_step(torch, data), repeats=40)
        line += f", PyTorch {t_pt * 1e3:.2f} ms, ratio gradlab/PyTorch {t_gl / t_pt:.2f}x (target <= 1.0x)"
    rows.append(line)

    # the same step at tiny sizes is pure Python overhead, which is what separates the ratios above
    tiny = mlp_data(batch=2, sizes=(3, 4, 2))
    t_gl = timed(mlp_step(gradlab, tiny), repeats=300)
    t_np = timed(numpy_step(tiny), repeats=300)
    rows.append(f"per-step overhead (the same step with batch 2 and 3-4-2 layers): gradlab "
                f"{t_gl * 1e6:.0f} us, NumPy by hand {t_np * 1e6:.0f} us")

    forward, left = saved_bytes_after_backward(False)
    _, kept = saved_bytes_after_backward(True)
    rows.append(f"saved arrays after backward (tracemalloc): forward allocated {forward / 1e6:.2f} MB; "
                f"after backward {left / 1e6:.3f} MB remain (retain_graph=True keeps {kept / 1e6:.2f} MB)")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
