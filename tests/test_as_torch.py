"""``gradlab.as_torch()``, ``%as_torch`` and the kernel "Python 3 (gradlab as torch)".

as_torch changes how the process imports, so every case runs in an interpreter of its own.
"""
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "gradlab-as-torch"
KERNEL_JSON = f"share/jupyter/kernels/{KERNEL}/kernel.json"


def env(**extra):
    """This process's environment, with the checkout's gradlab first on the path."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return dict(os.environ, PYTHONPATH=path, **extra)


def python(code, check=True):
    """Run ``code`` in a fresh interpreter; its stdout (stderr shown if it fails)."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=env(), cwd=ROOT)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_torch_and_its_modules_are_gradlabs():
    python("""
        import importlib, pkgutil, sys
        import gradlab
        gradlab.as_torch()
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.autograd import grad
        import torch.func
        import torch.optim
        from torch import nn as nn_, optim
        from torchviz import make_dot
        assert torch is gradlab and nn is nn_ is gradlab.nn and F is gradlab.nn.functional
        assert grad is gradlab.autograd.grad and torch.func is gradlab.func
        assert optim is torch.optim is gradlab.optim and make_dot is gradlab.make_dot
        assert sys.modules["torch.nn.functional"] is gradlab.nn.functional
        assert sys.modules["torchviz"] is gradlab.viz
        assert (gradlab.__spec__.name, gradlab.nn.__spec__.name) == ("gradlab", "gradlab.nn")

        # every module gradlab has (torch.utils.data once gradlab has it) is torch's namesake
        for info in pkgutil.walk_packages(gradlab.__path__, "gradlab."):
            if "._" not in info.name and not info.name.startswith("gradlab.viz"):
                alias = "torch" + info.name[len("gradlab"):]
                assert importlib.import_module(alias) is importlib.import_module(info.name), alias

        # importing a module never rebinds its parent's attribute of the same name
        assert torch.tensor is gradlab._creation.tensor
        assert torch.autograd.gradcheck is gradlab.autograd.gradcheck.__globals__["gradcheck"]
        assert callable(torch.autograd.gradcheck)
        hooks = list(sys.meta_path)
        assert gradlab.as_torch().installed is False and sys.meta_path == hooks  # idempotent
        x = torch.tensor([1.0, -2.0], requires_grad=True)
        F.relu(x * 3).sum().backward()
        print(x.grad)
    """)


MISSING = [  # (statement, the torch module gradlab lacks)
    ("import torch.cuda.amp", "torch.cuda.amp"),
    ("from torch.cuda.amp import autocast", "torch.cuda.amp"),
    ("from torch.cuda import amp", "torch.cuda.amp"),
    ("import torch.fft", "torch.fft"),
    ("from torch import fft", "torch.fft"),
    ("from torch.distributions import Gamma", "torch.distributions.Gamma"),
    ("import torch.distributions.gamma", "torch.distributions.gamma"),
    ("import torch.distributed as dist", "torch.distributed"),
    ("from torch.nn import Transformer", "torch.nn.Transformer"),
    ("from torch.nn.functional import grid_sample", "torch.nn.functional.grid_sample"),
    ("from torchviz import make_dot_from_trace", "torchviz.make_dot_from_trace"),
]


def test_what_gradlab_lacks_says_so_and_torch_has_it():
    program = """
        {setup}
        for statement in {statements!r}:
            try:
                exec(statement, {{}})
                print("ok")
            except ImportError as e:
                print(type(e).__name__, e.name, e, sep=" | ")
    """
    in_torch = [statement for statement, _ in MISSING if "torchviz" not in statement]
    # torchviz (not installed here) has make_dot and make_dot_from_trace: its __init__.py is
    # "from .dot import make_dot, make_dot_from_trace"
    torch_says = python(program.format(setup="", statements=in_torch)).stdout
    assert torch_says.splitlines() == ["ok"] * len(in_torch)
    statements = [statement for statement, _ in MISSING]
    setup = "import gradlab; gradlab.as_torch()"
    gradlab_says = python(program.format(setup=setup, statements=statements)).stdout
    assert gradlab_says.splitlines() == [
        f"ModuleNotFoundError | {name} | gradlab does not implement {name}"
        for _, name in MISSING]


def test_a_name_not_a_module_still_says_so_after_import():
    out = python("""
        import gradlab
        gradlab.as_torch()
        import torch.nn
        try:
            torch.nn.Transformer
        except AttributeError as e:
            print(e)
    """)
    assert out.stdout == "gradlab does not implement torch.nn.Transformer\n"


def test_the_context_manager_undoes_it():
    python("""
        import sys
        import gradlab
        hooks, modules = list(sys.meta_path), set(sys.modules)
        with gradlab.as_torch() as torch:
            assert torch is gradlab
            import torch
            import torch.cuda
            import torch.nn.functional as F
            from torchviz import make_dot
            assert torch is gradlab and F is gradlab.nn.functional
            assert repr(gradlab.as_torch()) == "<gradlab.as_torch: import torch gives gradlab>"
            with gradlab.as_torch():  # already on: leaving this one keeps it on
                pass
            assert gradlab.as_torch.active()
        assert sys.meta_path == hooks and not gradlab.as_torch.active()
        assert not any(n == "torch" or n.startswith(("torch.", "torchviz")) for n in sys.modules)
        assert not hasattr(gradlab.cuda, "__path__")  # it was a package only for the aliases
        import torch
        assert torch is not gradlab and torch.__version__.startswith("2.13.")
        assert torch.nn is not gradlab.nn
    """)


def test_after_pytorch_is_imported_it_refuses_and_says_restart():
    out = python("""
        import sys
        import torch
        import gradlab
        hooks = list(sys.meta_path)
        try:
            gradlab.as_torch()
        except RuntimeError as e:
            print(e)
        assert sys.meta_path == hooks and sys.modules["torch"] is torch
    """)
    assert out.stdout == (
        "gradlab.as_torch() must come before PyTorch is imported, and PyTorch ('torch') is "
        "already imported in this process, so 'import torch' can no longer give gradlab. "
        "Restart the kernel (or the Python interpreter) and call gradlab.as_torch() before "
        "anything imports torch.\n")


def test_after_a_course_put_gradlab_in_sys_modules_it_goes_on():
    python("""
        import sys
        import gradlab
        sys.modules["torch"] = gradlab
        gradlab.as_torch()
        import torch.nn.functional as F
        assert F is gradlab.nn.functional
    """)


def test_the_magic():
    out = python("""
        from IPython.core.error import UsageError
        from IPython.core.interactiveshell import InteractiveShell
        import gradlab
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "gradlab")
        for line in ("now", ""):
            try:
                shell.run_line_magic("as_torch", line)
            except UsageError as e:
                print(e)
        result = shell.run_cell("import torch.nn.functional as F\\nimport torch")
        assert result.success
        assert shell.user_ns["torch"] is gradlab and shell.user_ns["F"] is gradlab.nn.functional
    """)
    assert out.stdout == "%as_torch takes no arguments (got 'now')\n"


def test_the_magic_after_pytorch_is_imported():
    out = python("""
        import torch
        from IPython.core.error import UsageError
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "gradlab")
        try:
            shell.run_line_magic("as_torch", "")
        except UsageError as e:
            print(e)
    """)
    assert out.stdout.startswith("gradlab.as_torch() must come before PyTorch is imported")
    assert "Restart the kernel" in out.stdout


VIZ = """
    {setup}
    from gradlab.widgets import BackwardStepper, GradHistory
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([0.5, -1.5], requires_grad=True)
    history = GradHistory(w, names=["w"])
    loss = torch.tanh(x * w).sum()
    drawing = make_dot(loss, params={{"x": x, "w": w}}, show_saved=True)
    print(type(loss) is __import__("gradlab").Tensor, drawing.source, sep="\\n")
    stepper = BackwardStepper(loss, params={{"x": x, "w": w, "loss": loss}})
    print(stepper.backend)
    while stepper.step():
        print(stepper.text())
    print(history.text())
"""


def test_make_dot_and_the_widgets_under_as_torch():
    """Under as_torch they draw and step gradlab's graph exactly as with ``import gradlab``."""
    plain = python(VIZ.format(setup="import gradlab as torch; from gradlab import make_dot"))
    aliased = python(VIZ.format(setup="import gradlab; gradlab.as_torch(); import torch; "
                                      "from torchviz import make_dot"))
    assert aliased.stdout == plain.stdout
    lines = aliased.stdout.splitlines()
    assert lines[0] == "True" and "TanhBackward0" in aliased.stdout
    assert "gradlab" in lines and "torch" not in lines  # the stepper ran gradlab's engine
    assert "AccumulateGrad" in aliased.stdout and "cannot be paused" not in aliased.stdout


# ---- the kernel ----------------------------------------------------------------------------

PROGRAM = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.autograd import grad

x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = (x ** 2).sum()
(g,) = grad(y, x, create_graph=True)
print(y, g, sep="\\n")
g.sum().backward()
print(x.grad, x.grad.dtype, x.shape, g.grad_fn.name())
w = nn.Parameter(torch.tensor([0.5, -0.25]))
opt = optim.SGD([w], lr=0.125)
for step in range(3):
    opt.zero_grad()
    loss = (2 * w ** 2).sum() + F.relu(w).sum()
    loss.backward()
    opt.step()
    print(step, loss.item(), w)
print(type(nn.Linear(2, 1)).__name__, F.mse_loss(torch.ones(3), torch.zeros(3)))
"""


def wheel(tmp_path, version="standard"):
    pytest.importorskip("hatchling", reason="builds the wheel")
    if version == "editable":
        pytest.importorskip("editables", reason="hatchling builds editable wheels with it")
    from hatchling.builders.wheel import WheelBuilder
    [path] = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=[version])
    return zipfile.ZipFile(path)


@pytest.mark.parametrize("version", ["standard", "editable"])  # pip install . / pip install -e .
def test_the_wheel_ships_the_kernel_spec(tmp_path, version):
    with wheel(tmp_path, version) as archive:
        shipped = json.loads(archive.read(f"gradlab-0.1.0.data/data/{KERNEL_JSON}"))
    assert shipped["argv"] == ["python", "-m", "gradlab.kernel", "-f", "{connection_file}"]
    assert shipped["display_name"] == "Python 3 (gradlab as torch)"


def install_the_wheels_kernel(tmp_path):
    """The wheel's share/jupyter, unpacked where JUPYTER_PATH will point."""
    with wheel(tmp_path) as archive:
        spec = tmp_path / KERNEL_JSON
        spec.parent.mkdir(parents=True)
        spec.write_bytes(archive.read(f"gradlab-0.1.0.data/data/{KERNEL_JSON}"))
    return tmp_path / "share" / "jupyter"


def test_the_wheel_installs_the_kernel_and_a_pytorch_notebook_runs_unchanged(tmp_path,
                                                                            monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.kernelspec import KernelSpecManager
    for name in ("CONFIG_DIR", "DATA_DIR", "RUNTIME_DIR"):
        monkeypatch.setenv(f"JUPYTER_{name}", str(tmp_path / name.lower()))
    monkeypatch.setenv("JUPYTER_PATH", str(install_the_wheels_kernel(tmp_path)))
    monkeypatch.setenv("PYTHONPATH", env()["PYTHONPATH"])

    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    assert spec.display_name == "Python 3 (gradlab as torch)"
    assert spec.argv[1:3] == ["-m", "gradlab.kernel"]

    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": KERNEL, "display_name": spec.display_name, "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell(PROGRAM),
                      nbformat.v4.new_code_cell("from torchviz import make_dot\nmake_dot(y)"),
                      nbformat.v4.new_code_cell("from gradlab.widgets import BackwardStepper\n"
                                                "BackwardStepper((x * 3).sum())")]
    nbclient.NotebookClient(notebook, timeout=120).execute()  # the kernel named in the metadata

    program, drawing, stepper = (cell.outputs for cell in notebook.cells)
    printed = "".join(o.text for o in program if o.output_type == "stream")
    assert printed == python(PROGRAM).stdout  # what PyTorch prints
    assert "<svg" in drawing[0].data["image/svg+xml"]
    assert "application/vnd.jupyter.widget-view+json" in stepper[0].data
    assert stepper[0].data["text/plain"].startswith("BackwardStepper(")
