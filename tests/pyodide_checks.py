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


def run(path):
    """Both, with the warnings they raised, written to ``path`` as JSON (under Pyodide)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = {**shared(), **pyodide_only()}
    results["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    with open(path, "w") as f:
        json.dump(results, f)
