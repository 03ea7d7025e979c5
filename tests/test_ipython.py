"""``%load_ext gradlab``: %graph, %stepper and %grads in a real IPython shell, on both backends."""
import subprocess
import sys

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import gradlab
from gradlab.viz.dot import Drawing
from gradlab.widgets import BackwardStepper, GradHistory

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

BACKENDS = pytest.mark.parametrize("module", ["gradlab", "torch"])
SETUP = """\
import {module} as torch
x = torch.tensor(2.0, requires_grad=True)
w = torch.tensor([1.0, 2.0], requires_grad=True)
c = torch.tensor([3.0, 4.0])
"""


@pytest.fixture(scope="module")
def ipython():
    """One shell for this module, dropped afterwards so later tests see no running IPython."""
    yield InteractiveShell.instance()
    InteractiveShell.clear_instance()


@pytest.fixture
def shell(ipython):
    ipython.reset(new_session=False)
    ipython.run_line_magic("load_ext", "gradlab")
    yield ipython
    ipython.reset(new_session=False)


def run(sh, code):
    """Run a cell like a notebook does; its value (the magic's result when it is last)."""
    result = sh.run_cell(code)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


def graph_source(module, sh, line):
    run(sh, SETUP.format(module=module))
    drawing = run(sh, line)
    assert isinstance(drawing, Drawing)
    return drawing.source


def test_import_gradlab_does_not_import_ipython():
    code = ("import sys, gradlab; assert callable(gradlab.load_ipython_extension); "
            "print(sorted(m for m in ('IPython', 'anywidget', 'gradlab.ipython') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_load_ext_registers_the_line_magics(shell):
    line = shell.magics_manager.magics["line"]
    assert {"graph", "stepper", "grads"} <= set(line)
    assert line["graph"].__doc__.startswith("Draw the backward graph of an expression")


@BACKENDS
def test_graph_draws_the_expression_with_the_notebook_names(module, shell):
    source = graph_source(module, shell, "%graph (x * w).sum()")
    assert source == gradlab.make_dot((shell.user_ns["x"] * shell.user_ns["w"]).sum(),
                                      params={"x": shell.user_ns["x"],
                                              "w": shell.user_ns["w"]}).source
    assert r'label="x\n()\n2."' in source and r'label="w\n(2)\n[1., 2.]"' in source
    assert "MulBackward0" in source and "SumBackward0" in source


def test_graph_is_the_same_for_gradlab_and_torch(shell):
    for line in ["%graph (x * w).sum()", "%graph -s --attrs (x * w + c).pow(2).mean()",
                 "%graph x * w, (w * c).sum()"]:
        assert graph_source("gradlab", shell, line) == graph_source("torch", shell, line)


@BACKENDS
def test_graph_options(module, shell):
    plain = graph_source(module, shell, "%graph (x * w).sum()")
    assert "class=saved" not in plain and "[saved tensor]" not in plain
    saved = graph_source(module, shell, "%graph -s (x * w).sum()")
    assert saved.count("class=saved fillcolor=orange") == 2 and "[saved tensor]" not in saved
    assert saved == graph_source(module, shell, "%graph --saved (x * w).sum()")
    attrs = graph_source(module, shell, "%graph --attrs (x * w).sum()")
    assert "self : [saved tensor]" in attrs and "class=saved" not in attrs
    both = graph_source(module, shell, "%graph -a -s (x * w).sum()")
    assert "self : [saved tensor]" in both and both.count("class=saved fillcolor=orange") == 2


def test_graph_expression_is_plain_python(shell):
    # -x is an expression, -- ends the options, {} and $ are not expanded
    assert "NegBackward0" in graph_source("gradlab", shell, "%graph -x * w")
    assert "NegBackward0" in graph_source("gradlab", shell, "%graph -s -- -x")
    source = graph_source("gradlab", shell, "%graph {'k': x}['k'] * w")
    assert "MulBackward0" in source and r'label="x\n()\n2."' in source


def test_graph_shows_as_svg_in_the_notebook(shell):
    run(shell, SETUP.format(module="gradlab"))
    drawing = run(shell, "%graph x * w")
    data, _ = shell.display_formatter.format(drawing)
    assert "<svg" in data["image/svg+xml"] and data["image/svg+xml"].rstrip().endswith("</svg>")
    assert 'id="n0"' in data["image/svg+xml"]
    run(shell, "d = %graph x * w")  # assignable, and the same drawing again
    assert shell.user_ns["d"].svg == drawing.svg


@BACKENDS
def test_stepper_steps_the_backward_pass(module, shell):
    run(shell, SETUP.format(module=module))
    stepper = run(shell, "%stepper (x * w).sum()")
    assert isinstance(stepper, BackwardStepper) and stepper.backend == module
    x, w = shell.user_ns["x"], shell.user_ns["w"]
    stepper.run()
    assert stepper.complete
    assert (repr(x.grad), repr(w.grad)) == ("tensor(3.)", "tensor([2., 2.])")
    error = stepper.try_backward()
    assert isinstance(error, RuntimeError)
    assert str(error).startswith("Trying to backward through the graph a second time")


@BACKENDS
def test_stepper_retain_graph(module, shell):
    run(shell, SETUP.format(module=module))
    stepper = run(shell, "%stepper --retain-graph (x * w).sum()")
    assert stepper.retain_graph
    stepper.run()
    assert stepper.try_backward() is None
    assert repr(shell.user_ns["x"].grad) == "tensor(6.)"


@BACKENDS
def test_grads_watches_the_named_leaves(module, shell):
    run(shell, SETUP.format(module=module))
    history = run(shell, "%grads x w")
    assert isinstance(history, GradHistory) and history.names == ["x", "w"]
    run(shell, "(x * w).sum().backward()\n(x * w).sum().backward()")
    assert history.backward_calls == 2
    assert [[c["text"] for c in row["cells"]] for row in history.rows] == [
        ["tensor(3.)", "tensor([2., 2.])"], ["tensor(6.)", "tensor([4., 4.])"]]
    history.close()


ERRORS = [
    ("graph", "", "%graph needs an expression, e.g. %graph (x * w).sum()"),
    ("graph", "-s", "%graph needs an expression, e.g. %graph (x * w).sum()"),
    ("graph", "3", "%graph: 3 is not a tensor (its type is int)"),
    ("graph", "()", "%graph: () is empty; give a tensor or a tuple of tensors"),
    ("graph", "(x * w, 3)", "%graph: (x * w, 3) is not a tensor (its type is int)"),
    ("graph", "c * 2", ("%graph: c * 2 does not require grad, so it has no backward graph: "
                       "compute it from a leaf made with requires_grad=True")),
    ("graph", "--retain-graph x", ("%graph: unknown option --retain-graph (options: --attrs, "
                                  "--saved, -a, -s; -- ends the options)")),
    ("stepper", "x * w", ("%stepper: x * w has shape [2], and backward() without a gradient "
                         "needs a scalar: step through %stepper (x * w).sum(), or call "
                         "BackwardStepper(x * w, gradient) yourself")),
    ("stepper", "--saved x", ("%stepper: unknown option --saved (options: --retain-graph; -- "
                             "ends the options)")),
    ("stepper", "c.sum()", ("%stepper: c.sum() does not require grad, so it has no backward "
                           "graph: compute it from a leaf made with requires_grad=True")),
    ("grads", "", "%grads needs the leaves to watch, e.g. %grads w b"),
    ("grads", "x x*w", ("%grads: x*w is not a leaf that requires grad (it was made by "
                       "MulBackward0); .grad is only filled on such leaves")),
    ("grads", "c", ("%grads: c is not a leaf that requires grad (it was made by "
                   "requires_grad=False); .grad is only filled on such leaves")),
    ("grads", "x.shape", "%grads: x.shape is not a tensor (its type is Size)"),
]


@BACKENDS
@pytest.mark.parametrize("magic, line, message", ERRORS)
def test_mistakes_are_usage_errors(module, shell, magic, line, message):
    run(shell, SETUP.format(module=module))
    with pytest.raises(UsageError) as info:
        shell.run_line_magic(magic, line)
    assert str(info.value) == message


def test_mistake_in_a_cell_is_reported_not_raised(shell, capsys):
    run(shell, SETUP.format(module="gradlab"))
    result = shell.run_cell("%graph c * 2")
    assert isinstance(result.error_in_exec, UsageError)
    assert "UsageError: %graph: c * 2 does not require grad" in capsys.readouterr().err


def test_errors_of_the_expression_itself_propagate(shell):
    run(shell, SETUP.format(module="gradlab"))
    with pytest.raises(NameError):
        shell.run_line_magic("graph", "undefined_name * 2")


def test_unload_and_load_again(shell):
    run(shell, SETUP.format(module="gradlab"))
    shell.run_line_magic("unload_ext", "gradlab")
    assert not {"graph", "stepper", "grads"} & set(shell.magics_manager.magics["line"])
    assert "GradlabMagics" not in shell.magics_manager.registry
    shell.run_line_magic("load_ext", "gradlab")
    assert isinstance(run(shell, "%graph x * w"), Drawing)
