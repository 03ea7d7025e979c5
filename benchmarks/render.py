"""Time of ``make_dot(...).svg`` (model, DOT, in-process Graphviz layout) on 200-node drawings.

Run: `python benchmarks/render.py [NODES]`. The first call of the process loads the compiled
WebAssembly Graphviz from the disk cache (or compiles it: see benchmarks/first_drawing.py): it
is reported as "cold" and not judged. The target is the warm median,
100 ms, for each graph: an MLP (distinct parameters per layer), an unrolled RNN (the same
parameters feed every step: many long edges, the hard case for Graphviz) and an RNN with inputs
(W_ih x_t, x_t without grad, has the shared W_ih as its only input), with and without saved
tensors. Beside it, not judged, the time of the PNG that Jupyter shows beside the SVG
(``raster.svg_to_png``, uncached) and its size in pixels.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import gradlab  # noqa: E402
from gradlab.viz import model, raster  # noqa: E402

TARGET = 0.100  # seconds, warm
NODES = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def mlp(layers):
    h = gradlab.ones(4, 3)
    for _ in range(layers):
        w = gradlab.ones(3, 3, requires_grad=True)
        b = gradlab.zeros(3, requires_grad=True)
        h = (h.matmul(w) + b).tanh()
    return h.pow(2).mean()


def rnn(steps):
    w = gradlab.tensor([[0.5, -0.2], [0.1, 0.3]], requires_grad=True)
    b = gradlab.tensor([0.1, -0.1], requires_grad=True)
    h = gradlab.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(steps):
        h = (w.mv(h) + b).tanh()
    return h.sum()


def rnn_x(steps):
    w_ih = gradlab.ones(2, 3, requires_grad=True)
    w_hh = gradlab.tensor([[0.5, -0.2], [0.1, 0.3]], requires_grad=True)
    b = gradlab.tensor([0.1, -0.1], requires_grad=True)
    h = gradlab.zeros(2)
    for t in range(steps):
        h = (w_ih.mv(gradlab.ones(3) * t) + w_hh.mv(h) + b).tanh()
    return h.sum()


def drawn(y, show_saved):
    g = model.from_gradlab(y, max_nodes=None)
    return sum(1 for n in g.nodes if show_saved or n.kind != model.SAVED)


def sized(make, show_saved):
    """The smallest graph ``make(n)`` that draws at least NODES nodes."""
    n = 1
    while drawn(make(n), show_saved) < NODES:
        n += 1
    return make(n)


def main():
    cases = [(f"{make.__name__}{' + saved' if saved else ''}", sized(make, saved), saved)
             for make in (mlp, rnn, rnn_x) for saved in (False, True)]
    start = time.perf_counter()
    gradlab.make_dot(cases[0][1], show_saved=cases[0][2]).svg
    print(f"cold (first call, loads or compiles the WebAssembly Graphviz): "
          f"{(time.perf_counter() - start) * 1000:.0f} ms")
    worst = 0.0
    for name, y, saved in cases:
        times = []
        for _ in range(15):
            start = time.perf_counter()
            gradlab.make_dot(y, show_saved=saved).svg
            times.append(time.perf_counter() - start)
        warm = statistics.median(times)
        worst = max(worst, warm)
        svg = gradlab.make_dot(y, show_saved=saved).svg
        start = time.perf_counter()
        png = raster.svg_to_png.__wrapped__(svg)  # not the cached one
        png_time = time.perf_counter() - start
        size = "x".join(str(int.from_bytes(png[i:i + 4], "big")) for i in (16, 20))
        print(f"{name:13} {drawn(y, saved):4} nodes drawn   warm median {warm * 1000:6.1f} ms   "
              f"ratio to {TARGET * 1000:.0f} ms: {warm / TARGET:.2f}   "
              f"png {png_time * 1000:5.0f} ms ({size} px)")
    print(f"worst ratio {worst / TARGET:.2f}: {'ok' if worst <= TARGET else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
