"""The compiled Graphviz cached on disk, and graphs too large for Graphviz's stacks."""
import hashlib
import json
import os
import subprocess
import sys

import pytest
import wasmtime

import gradlab
from gradlab.viz import dot, graphviz_wasm as gw

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CHILD = """
import json, gradlab
from gradlab.viz import graphviz_wasm
x = gradlab.tensor(2.0, requires_grad=True)
svg = gradlab.make_dot((x * x).tanh()).svg
print(json.dumps(dict(loaded_from=graphviz_wasm.loaded_from, drew="TanhBackward0" in svg)))
"""


def fresh_process(cache_home):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home), PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def cache_files(cache_home):
    folder = cache_home / "gradlab"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_first_process_compiles_and_caches_the_next_loads(tmp_path):
    assert fresh_process(tmp_path) == dict(loaded_from="compiled", drew=True)
    [path] = cache_files(tmp_path)
    data = path.read_bytes()
    assert hashlib.sha256(data[32:]).digest() == data[:32]
    assert fresh_process(tmp_path) == dict(loaded_from="cache", drew=True)
    assert cache_files(tmp_path) == [path]  # no temporary file left behind

    data = bytearray(data)
    data[len(data) // 2] ^= 0xFF  # corrupt: the hash no longer matches
    path.write_bytes(bytes(data))
    assert fresh_process(tmp_path) == dict(loaded_from="compiled", drew=True)
    assert fresh_process(tmp_path) == dict(loaded_from="cache", drew=True)


# A tiny module stands in for graphviz.wasm where only the cache's logic is under test.
TINY = wasmtime.wat2wasm('(module (func (export "two") (result i32) i32.const 2))')


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def deserialized(monkeypatch):
    """The byte strings given to wasmtime's Module.deserialize."""
    calls = []
    real = wasmtime.Module.deserialize

    def spy(engine, data):
        calls.append(bytes(data))
        return real(engine, data)
    monkeypatch.setattr(wasmtime.Module, "deserialize", staticmethod(spy))
    return calls


def two(engine, module):
    store = wasmtime.Store(engine)
    return wasmtime.Instance(store, module, []).exports(store)["two"](store)


@pytest.mark.parametrize("damage", [
    lambda data: data[:len(data) // 3],  # truncated
    lambda data: data[:40] + bytes([data[40] ^ 1]) + data[41:],  # one bit flipped
    lambda data: b"",  # empty
    lambda data: hashlib.sha256(b"other").digest() + data[32:],  # another file's hash
])
def test_damaged_cache_file_is_never_deserialized_and_is_replaced(cache_home, deserialized,
                                                                  damage):
    engine = wasmtime.Engine()
    gw.load_module(engine, TINY)
    assert gw.loaded_from == "compiled" and not deserialized
    path = gw.cache_path(TINY)
    good = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(damage(good))
    module = gw.load_module(engine, TINY)
    assert gw.loaded_from == "compiled" and not deserialized
    assert two(engine, module) == 2
    assert open(path, "rb").read()[:32] == hashlib.sha256(open(path, "rb").read()[32:]).digest()
    module = gw.load_module(engine, TINY)
    assert gw.loaded_from == "cache" and deserialized == [good[32:]]
    assert two(engine, module) == 2


def test_cache_file_refused_by_wasmtime_is_replaced(cache_home, deserialized):
    config = wasmtime.Config()
    config.consume_fuel = True  # compiled for another engine configuration: wasmtime refuses it
    foreign = wasmtime.Module(wasmtime.Engine(config), TINY).serialize()
    path = gw.cache_path(TINY)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(hashlib.sha256(foreign).digest() + foreign)
    engine = wasmtime.Engine()
    assert two(engine, gw.load_module(engine, TINY)) == 2
    assert gw.loaded_from == "compiled" and deserialized == [foreign]
    assert two(engine, gw.load_module(engine, TINY)) == 2
    assert gw.loaded_from == "cache"


def test_cache_key_names_wasm_wasmtime_and_machine(cache_home):
    path = gw.cache_path(TINY)
    assert os.path.dirname(path) == os.path.join(str(cache_home), "gradlab")
    assert gw.cache_path(TINY) == path
    assert gw.cache_path(TINY + b"\0") != path


def test_cache_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert gw.cache_dir() == str(tmp_path / "home" / ".cache" / "gradlab")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as XDG says
    assert gw.cache_dir() == str(tmp_path / "home" / ".cache" / "gradlab")
    monkeypatch.setenv("HOME", "relative-home")
    monkeypatch.chdir(tmp_path)
    assert gw.cache_dir() is None and gw.cache_path(TINY) is None
    engine = wasmtime.Engine()
    assert two(engine, gw.load_module(engine, TINY)) == 2
    assert gw.loaded_from == "compiled"
    assert os.listdir(tmp_path) == []  # nothing written in the working directory


def test_unwritable_cache_directory_means_no_cache(tmp_path, monkeypatch, deserialized):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # gradlab/ cannot be made in a file
    engine = wasmtime.Engine()
    for _ in range(2):
        assert two(engine, gw.load_module(engine, TINY)) == 2
        assert gw.loaded_from == "compiled"
    assert not deserialized

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(os, "replace", refuse)  # read-only, as root cannot make it
    assert two(engine, gw.load_module(engine, TINY)) == 2
    assert os.listdir(tmp_path / "gradlab") == []  # the temporary file is removed
    assert fresh_process(blocker) == dict(loaded_from="compiled", drew=True)


# ---- large graphs ------------------------------------------------------------------------------

def chain(ops):
    x = gradlab.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(ops):
        y = y * 1.0001
    return y


def drawn_nodes(svg):
    return svg.count('class="node ')


def test_10000_op_chain_draws_in_full():
    drawing = gradlab.make_dot(chain(10_000), max_nodes=None)
    assert drawn_nodes(drawing.svg) == 10_003  # output, 10,000 ops, AccumulateGrad, leaf


def test_wide_graph_of_10000_nodes_draws_in_full():
    leaves = [gradlab.tensor(float(i), requires_grad=True) for i in range(4_999)]
    drawing = gradlab.make_dot(gradlab.stack(leaves).sum(), max_nodes=None)
    assert drawn_nodes(drawing.svg) == 10_001  # output, Sum, Stack, 4,999 x (AccumulateGrad, leaf)


def test_graph_past_the_limit_fails_naming_max_nodes():
    y = chain(dot.MAX_DRAWN)
    text = rf"{dot.MAX_DRAWN + 3:,} nodes .* at most {dot.MAX_DRAWN:,}: .*max_nodes=500"
    with pytest.raises(gw.LayoutError, match=text):
        gradlab.make_dot(y, max_nodes=None).svg
    assert issubclass(gw.LayoutError, RuntimeError)
    collapsed = gradlab.make_dot(y)  # the default max_nodes draws
    assert f"… {collapsed.graph.omitted} more nodes" in collapsed.svg


def test_trap_becomes_layout_error_and_next_drawing_reuses_the_module():
    gradlab.make_dot(chain(3)).svg
    module, loaded_from = gw._backend._module, gw.loaded_from
    too_deep = "digraph {" + "".join(f"n{i} -> n{i + 1};" for i in range(100_000)) + "}"
    with pytest.raises(gw.LayoutError, match=r"call stack exhausted.*max_nodes") as e:
        dot.render_svg(too_deep)
    assert e.value.__cause__ is None and e.value.__suppress_context__
    assert gw._backend._module is module and gw.loaded_from == loaded_from  # not recompiled
    assert drawn_nodes(gradlab.make_dot(chain(3)).svg) == 6


def reused(ops):
    """y = y * x, ops times: x's AccumulateGrad feeds every step, a long edge to each."""
    x = gradlab.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(ops):
        y = y * x
    return y


def crossed(y):
    graph = gradlab.make_dot(y, max_nodes=None).graph
    edges = [e for e in graph.edges if e.kind != "saved"]
    return dot.crossed_ranks([n.id for n in graph.nodes if n.kind != "saved"], edges)


def test_crossed_ranks_counts_the_ranks_long_edges_cross():
    assert crossed(chain(50)) == 0
    assert crossed(gradlab.stack([chain(1), chain(2)]).sum()) == 0  # AccumulateGrad by its user
    # step k (k = 1..n, from the bottom) is n - k + 1 ranks below x's AccumulateGrad, which sits
    # just above the first step: its edges cross 0 + 1 + ... + (n - 1) ranks
    assert crossed(reused(40)) == 40 * 39 // 2


def test_graph_whose_edges_cross_too_many_ranks_is_refused_before_graphviz(monkeypatch):
    ops = 3
    while ops * (ops - 1) // 2 <= dot.MAX_CROSSED:
        ops *= 2
    monkeypatch.setattr(dot, "render_svg", lambda source: pytest.fail("Graphviz ran"))
    with pytest.raises(gw.LayoutError, match=r"long edges .* cross [\d,]+ ranks.*max_nodes=500"):
        gradlab.make_dot(reused(ops), max_nodes=None).svg
