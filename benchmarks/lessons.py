"""Speed where lessons spend it, side by side with PyTorch and hand-written NumPy in one run.

Run: `python benchmarks/lessons.py`. One thread each, medians, ratios within this run; the
garbage collector stays on, as it is for a student.

1. Karpathy's micrograd demo with 0-d tensors: a 2-16-16-1 MLP whose every weight is a scalar
   tensor, one training step (forward over the points, max-margin loss, backward, SGD update);
   in this process, and each library in a process of its own with what a Jupyter kernel loads.
2. A 150,000-op scalar chain, forward and backward, with the share of the time spent in the
   garbage collector (gc.callbacks), here and in a process with what a Jupyter kernel loads.
3. ``(a.exp().tanh() * a).sum()`` and its backward on 10**6 float32 elements, against NumPy by hand.
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import ast  # noqa: E402
import gc  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import gradlab  # noqa: E402
from run import interleaved, timed, torch  # noqa: E402


# ---- 1. the micrograd demo -----------------------------------------------------------------------

def moons(n=100, noise=0.1, seed=0):
    """Two interleaving half circles (scikit-learn's make_moons), labels -1 and 1."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, np.pi, n // 2)
    x = np.concatenate([np.stack([np.cos(t), np.sin(t)], 1),
                        np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)])
    x += rng.normal(scale=noise, size=x.shape)
    return x.tolist(), [-1.0] * (n // 2) + [1.0] * (n // 2)


class Neuron:
    def __init__(self, lib, n_in, nonlin=True):
        self.w = [lib.tensor(random.uniform(-1, 1), requires_grad=True) for _ in range(n_in)]
        self.b = lib.tensor(0.0, requires_grad=True)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class MLP:
    def __init__(self, lib, n_in, sizes):
        dims = [n_in] + sizes
        self.layers = [[Neuron(lib, dims[i], nonlin=i != len(sizes) - 1)
                        for _ in range(dims[i + 1])] for i in range(len(sizes))]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]


def micrograd_step(lib, n_points=100):
    """One step of the demo's training loop, as the lecture writes it."""
    random.seed(1337)
    xs, ys = moons(n_points)
    model = MLP(lib, 2, [16, 16, 1])
    params = model.parameters()

    def step():
        scores = [model(x) for x in xs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        total = data_loss + 1e-4 * sum(p * p for p in params)
        for p in params:
            p.grad = None
        total.backward()
        with lib.no_grad():
            for p in params:
                p -= 0.5 * p.grad
        return total
    return step


# ---- 2. a long scalar chain, and the garbage collector's share ---------------------------------

def chain(lib, ops=150_000):
    x = lib.tensor(2.0, requires_grad=True)

    def run():
        y = x
        for _ in range(ops // 2):
            y = y * 1.0001 + 0.001
        y.backward()
        x.grad = None
    return run


def gc_share(fn):
    """(seconds, share of them inside the garbage collector) of one call of fn."""
    spent, started = [0.0], [0.0]

    def note(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]
    gc.collect()
    gc.callbacks.append(note)
    try:
        start = time.perf_counter()
        fn()
        total = time.perf_counter() - start
    finally:
        gc.callbacks.remove(note)
    return total, spent[0] / total


# What a student's Jupyter kernel has loaded besides the library it teaches with.
KERNEL_MODULES = ("IPython", "ipykernel.ipkernel", "ipywidgets")


def in_a_kernel(library, expression):
    """The value of ``expression`` (a literal; lessons' names in scope, ``lib`` the library)
    in a fresh process that has loaded what a student's kernel has: KERNEL_MODULES and
    ``library``, "gradlab" (with its widgets, and importing torch fails) or "torch" (gradlab's
    core is loaded too: these scripts import it). A full collection walks every object of the
    process: about 190,000 in the benchmark's own, which has both libraries; 63,000 in a gradlab
    kernel's; 198,000 in a PyTorch kernel's."""
    here = os.path.dirname(os.path.abspath(__file__))
    modules = KERNEL_MODULES + (("gradlab.widgets",) if library == "gradlab" else ())
    code = (f"import sys; sys.path[:0] = {[here, os.path.dirname(here)]!r}\n"
            + ("sys.modules['torch'] = None\n" if library == "gradlab" else "") +
            f"import importlib, statistics\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            f"from lessons import *\n"
            f"lib = importlib.import_module({library!r})\n"
            f"print(repr({expression}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout)


def micrograd_in_kernels(rounds=3):
    """Median seconds of the micrograd step in a gradlab kernel and in a PyTorch kernel
    (in_a_kernel), the two processes started in turn ``rounds`` times."""
    times = {"gradlab": [], "torch": []}
    for _ in range(rounds):
        for library, found in times.items():
            found.append(in_a_kernel(library, "timed(micrograd_step(lib), 5, 1)"))
    return statistics.median(times["gradlab"]), statistics.median(times["torch"])


def gc_share_in_a_kernel_heap(repeats=3, ops=150_000):
    """gc_share of the chain (median of ``repeats``) in a gradlab kernel's heap (in_a_kernel)."""
    return in_a_kernel("gradlab", f"tuple(statistics.median(r) for r in zip(*("
                                  f"gc_share(chain(lib, {ops})) for _ in range({repeats}))))")


# ---- 3. a large elementwise program --------------------------------------------------------------

def elementwise(lib, a):
    x = lib.from_numpy(a.copy()).requires_grad_()

    def run():
        (x.exp().tanh() * x).sum().backward()
        x.grad = None
    return run


def elementwise_numpy(a):
    def run():
        e = np.exp(a)
        t = np.tanh(e)
        (t * a).sum()
        return t + a * (1 - t * t) * e  # d/da of sum(tanh(exp(a)) · a)
    return run


def main():
    rows = []
    steps = [micrograd_step(gradlab)] + ([micrograd_step(torch)] if torch else [])
    (t_gl, _), *rest = interleaved(steps, 7)  # in turn: this machine's speed drifts
    line = f"micrograd demo (2-16-16-1, 100 points, 0-d tensors), one step: gradlab {t_gl * 1e3:.0f} ms"
    if rest:
        t_pt = rest[0][0]
        line += f", PyTorch {t_pt * 1e3:.0f} ms, ratio {t_gl / t_pt:.2f}x (target <= 1.0x)"
        t_gl, t_pt = micrograd_in_kernels()
        line += (f"; each in a kernel's process of its own: gradlab {t_gl * 1e3:.0f} ms, PyTorch "
                 f"{t_pt * 1e3:.0f} ms, ratio {t_gl / t_pt:.2f}x")
    rows.append(line)

    t_gl, share = gc_share(chain(gradlab))
    _, kernel_share = gc_share_in_a_kernel_heap()
    line = (f"150,000-op scalar chain, forward+backward: gradlab {t_gl:.2f} s ({share:.0%} in the "
            f"garbage collector here, {kernel_share:.0%} in a kernel's heap without PyTorch, "
            f"target < 10%)")
    if torch:
        t_pt, _ = gc_share(chain(torch))
        line += f", PyTorch {t_pt:.2f} s, ratio {t_gl / t_pt:.2f}x (target <= 1.0x)"
    rows.append(line)

    a = np.random.default_rng(0).standard_normal(10 ** 6).astype(np.float32)
    (t_gl, f_gl), (t_np, f_np) = interleaved([elementwise(gradlab, a), elementwise_numpy(a)], 21)
    rows.append(f"(a.exp().tanh() * a).sum() and backward, 10**6 float32: gradlab "
                f"{t_gl * 1e3:.1f} ms ({f_gl:.0f} page faults), NumPy by hand {t_np * 1e3:.1f} ms "
                f"({f_np:.0f}), ratio {t_gl / t_np:.2f}x (target <= 1.2x)")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
