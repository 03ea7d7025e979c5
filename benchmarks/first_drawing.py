"""The first drawing in a new process, with and without the compiled Graphviz cached on disk,
and drawings of 10,000 nodes in full.

Run: `python benchmarks/first_drawing.py [RUNS]`. Each run starts a fresh Python that imports
gradlab (timed apart: a restarted kernel pays it with or without drawings) and times its first
``make_dot(y).svg`` of a lesson's small graph, with an empty cache directory ("cold": Graphviz is
compiled, target 1.5 s) and then with the cache that run left ("cached", target 0.3 s); medians
over RUNS runs, and the CPU time of all the process's threads (compiling uses them all), which
other processes on the machine do not inflate. Then, in this process,
``make_dot(..., max_nodes=None).svg`` on a 10,000-op chain and on a wide graph of 10,000 nodes
(not judged), a graph past the limit (it must fail with an error naming max_nodes), a DOT chain
of 100,000 nodes that exhausts Graphviz's stack (it must fail with that error, not a wasm trap)
and the small drawing after them (target: as fast as before them).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
import gradlab  # noqa: E402
from gradlab.viz import dot, graphviz_wasm, model  # noqa: E402

COLD_TARGET, CACHED_TARGET = 1.5, 0.3  # seconds
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5

CHILD = """
import json, time
start = time.perf_counter()
import gradlab
from gradlab.viz import graphviz_wasm
imported, cpu = time.perf_counter(), time.process_time()
x = gradlab.tensor([1.0, 2.0], requires_grad=True)
w = gradlab.tensor([0.5, -0.5], requires_grad=True)
y = (x * w).sum().tanh()
gradlab.make_dot(y, locals()).svg
print(json.dumps(dict(imported=imported - start, drawing=time.perf_counter() - imported,
                      cpu=time.process_time() - cpu, loaded_from=graphviz_wasm.loaded_from)))
"""


def first_drawing(cache_home):
    env = dict(os.environ, XDG_CACHE_HOME=cache_home, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def chain(ops):
    x = gradlab.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(ops):
        y = y * 1.0001
    return y


def wide(inputs):
    return gradlab.stack([gradlab.tensor(float(i), requires_grad=True).tanh()
                          for i in range(inputs)]).sum()


def timed(y, **kwargs):
    drawing = gradlab.make_dot(y, **kwargs)
    start = time.perf_counter()
    drawing.svg
    return time.perf_counter() - start, drawing


def main():
    cold, cached, imports, cpu = [], [], [], {"cold": [], "cached": []}
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as home:
            run = first_drawing(home)
            assert run["loaded_from"] == "compiled", run
            cold.append(run["drawing"])
            cpu["cold"].append(run["cpu"])
            run = first_drawing(home)
            assert run["loaded_from"] == "cache", run
            cached.append(run["drawing"])
            cpu["cached"].append(run["cpu"])
            imports.append(run["imported"])
    for name, times, target in (("cold", cold, COLD_TARGET), ("cached", cached, CACHED_TARGET)):
        median = statistics.median(times)
        print(f"first drawing, {name:6} median {median:6.3f} s  (min {min(times):.3f}, "
              f"max {max(times):.3f}; CPU {statistics.median(cpu[name]):.3f} s)   "
              f"target {target} s: {median / target:.2f}  "
              f"{'ok' if median <= target else 'TOO SLOW'}")
    print(f"(import gradlab before it, not counted: median {statistics.median(imports):.3f} s)")

    small = chain(20)
    before = statistics.median(timed(small)[0] for _ in range(21))
    for name, y in (("10,000-op chain", chain(10_000)), ("wide graph", wide(3_333))):
        seconds, drawing = timed(y, max_nodes=None)
        drawn = sum(n.kind != model.SAVED for n in drawing.graph.nodes)
        print(f"{name:16} {drawn:6} nodes drawn in full: {seconds:6.2f} s")
    too_big = gradlab.make_dot(wide(dot.MAX_DRAWN), max_nodes=None)
    try:
        too_big.svg
        print("past the limit: drawn (expected an error naming max_nodes)")
    except RuntimeError as e:
        print(f"past the limit: {type(e).__name__}: {str(e)[:90]}...")
    too_deep = "digraph {" + "".join(f"n{i} -> n{i + 1};" for i in range(100_000)) + "}"
    try:  # past the limit, laid out all the same: Graphviz's stack runs out
        dot.render_svg(too_deep)
        print("100,000-node DOT chain: drawn (expected a LayoutError)")
    except graphviz_wasm.LayoutError as e:
        print(f"100,000-node DOT chain: LayoutError: {str(e)[:90]}...")
    after = statistics.median(timed(small)[0] for _ in range(21))
    print(f"small drawing before {before * 1000:.1f} ms, after {after * 1000:.1f} ms: "
          f"{'ok' if after <= 1.5 * before + 0.002 else 'SLOWER'}")


if __name__ == "__main__":
    main()
