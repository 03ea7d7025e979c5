"""What tests/test_pyodide.py runs under Pyodide in Node: ``shared()`` runs in CPython too, and
the two results must be equal; ``pyodide_only()`` is what only Pyodide has to show."""
import importlib.util
import json
import sys
import warnings


def shared() -> dict:
    """A forward and backward, its drawing, the stepper's steps and GradHistory's rows."""
    import gradlab as torch
    from gradlab.widgets import BackwardStepper, GradHistory

    w = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    x = torch.tensor([0.3, -1.2, 0.8], requires_grad=True)
    history = GradHistory(w, x, names=["w", "x"])
    loss = (w @ x.tanh()).sigmoid().pow(2).sum()
    loss.backward(retain_graph=True)
    printed = "\n".join(str(t) for t in (loss, w.grad, x.grad))
    drawing = torch.make_dot(loss, params={"w": w, "x": x}, show_saved=True)
    stepper = BackwardStepper(loss, params={"w": w, "x": x, "loss": loss})
    stepper.run()
    return {"printed": printed, "svg": drawing.svg,
            "steps": [stepper.text(i) for i in range(len(stepper.frames))],
            "stepper_svg": stepper.static_svg(),
            "history": json.loads(json.dumps(history.rows)), "history_svg": history.static_svg()}


def pyodide_only() -> dict:
    """Where it runs, what Jupyter is given to show, and a graph Graphviz cannot lay out."""
    import numpy
    import gradlab as torch
    from gradlab.viz import dot, graphviz_wasm
    from gradlab.widgets import BackwardStepper

    y = torch.tensor(2.0, requires_grad=True).exp() * 3
    deep = "digraph {" + "".join(f"n{i} -> n{i + 1};" for i in range(20_000)) + "}"
    try:
        dot.render_svg(deep)
        error = None
    except graphviz_wasm.LayoutError as e:
        error = str(e)
    return {"platform": sys.platform, "numpy": numpy.__version__,
            "present": [name for name in ("wasmtime", "resvg_py")
                       if importlib.util.find_spec(name) is not None],
            "drawing_bundle": sorted(torch.make_dot(y)._repr_mimebundle_()[0]),
            "stepper_bundle": sorted(BackwardStepper(y)._repr_mimebundle_()[0]),
            "layout_error": error, "after_error": torch.make_dot(y).svg.count('class="node ')}


def magics() -> dict:
    """gradlab's magics in an IPython shell: for each line, the error it raised (if any), what
    it printed and the kinds of output it displayed."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    lines = ["%load_ext gradlab",
             "import gradlab\nx = gradlab.tensor(2.0, requires_grad=True)\ny = (x * x).exp()",
             "%graph y", "%stepper y", "%grads x", "%as_torch",
             "import torch\nprint(torch.tensor(1.5) * 2, type(torch.tensor(1.0)).__module__)"]
    shown = {}
    for line in lines:
        with capture_output() as out:
            result = shell.run_cell(line)
        error = result.error_before_exec or result.error_in_exec
        kinds = {k for o in out.outputs for k in o.data}  # display()ed, and the cell's value:
        if hasattr(result.result, "_repr_mimebundle_"):
            kinds.update(result.result._repr_mimebundle_()[0])
        shown[line] = {"error": repr(error) if error else None, "displayed": sorted(kinds),
                       "printed": "" if result.result is not None else out.stdout}
    return shown


def run(path):
    """Both, with the warnings they raised, written to ``path`` as JSON (under Pyodide)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = {**shared(), **pyodide_only(), "magics": magics()}
    results["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    with open(path, "w") as f:
        json.dump(results, f)


async def lessons(folder, path):
    """Run every lesson in ``folder`` in an IPython shell; write to ``path``, per lesson, the
    cells whose printed text and text/plain outputs differ from the stored ones (as nbval
    compares them, whitespace aside), with what they should show and what they showed."""
    import glob
    import os
    import pyodide_js
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    await pyodide_js.loadPackage("matplotlib")  # lesson 17 plots, shown as JupyterLite does:
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    with capture_output():
        import matplotlib.pyplot  # noqa: F401  (it says once that it builds its font cache)
    report = {}
    for lesson in sorted(glob.glob(os.path.join(folder, "[0-9][0-9]_*.ipynb"))):
        InteractiveShell.clear_instance()
        shell = InteractiveShell.instance()
        os.chdir(folder)
        report[os.path.basename(lesson)] = differ = []
        for cell in json.load(open(lesson))["cells"]:
            if cell["cell_type"] == "code":
                with capture_output() as shown:
                    result = shell.run_cell("".join(cell["source"]))
                error = result.error_before_exec or result.error_in_exec
                got = [shown.stdout, shown.stderr, *(o.data.get("text/plain", "")
                                                    for o in shown.outputs),
                       type(error).__name__ if error else ""]
                want = [_stored(output) for output in cell["outputs"]]
                if _text(got) != _text(want):
                    differ.append({"cell": cell["source"], "want": want, "got": got})
    with open(path, "w") as f:
        json.dump(report, f)


def _stored(output):
    if output["output_type"] == "stream":
        return "".join(output["text"])
    if output["output_type"] == "error":
        return output["ename"]
    return "".join(output["data"].get("text/plain", ""))


def _text(parts):
    """Outputs as compared: no colours, tracebacks, Out[n] prompts, addresses or spacing."""
    import re
    text = " ".join(re.sub(r"-{20,}\n\w+ +Traceback.*", "", re.sub(r"\x1b\[[0-9;]*m", "", part),
                           flags=re.S) for part in parts)
    text = re.sub(r"Out\[\d+\]: ", "", text)
    text = re.sub(r"\b0x[0-9a-fA-F]+", "0xADDRESS", text)  # as tests/nbval_sanitize.cfg
    return " ".join(text.split())
