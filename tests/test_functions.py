"""torch.<op>(...) as PyTorch's functions take their arguments: input=, out= (written in place,
resized, refused with PyTorch's texts), and the names type(x) shows, against PyTorch."""
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402


def both(program):
    """program(lib) on gradlab and torch: (result or error type and text, warnings) each."""
    out = []
    for lib in (gradlab, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                result = repr(program(lib))
            except Exception as e:  # noqa: BLE001 - the error is what is compared
                result = f"{type(e).__name__}: {e}"
        out.append((result, [str(m.message).split(" (Triggered internally")[0] for m in w]))
    return out


PROGRAMS = {
    "input_keyword": lambda T: T.matmul(input=T.ones(2, 3), other=T.ones(3, 2)),
    "input_and_dim": lambda T: T.sum(input=T.arange(6.).reshape(2, 3), dim=0),
    "out_same_shape": lambda T: (lambda o: (T.mul(T.ones(2, 3) * 3, T.ones(2, 3), out=o) is o,
                                            o, o._version))(T.zeros(2, 3)),
    "out_empty_resized": lambda T: (lambda o: (T.add(T.ones(2), T.ones(2), out=o), o.shape))(
        T.empty(0)),
    "out_resized_warns": lambda T: T.add(T.ones(2, 3), 1, out=T.zeros(5)),
    "out_int_from_float": lambda T: T.add(T.ones(2), T.ones(2), out=T.zeros(2, dtype=T.long)),
    "out_float_from_int": lambda T: T.add(T.ones(2, dtype=T.long), 1, out=T.zeros(2)),
    "out_requires_grad_input": lambda T: T.exp(T.ones(2, requires_grad=True), out=T.zeros(2)),
    "out_requires_grad_out": lambda T: T.exp(T.ones(2), out=T.zeros(2, requires_grad=True)),
    "out_no_grad": lambda T: (lambda x: (T.no_grad().__enter__(), T.exp(x, out=T.zeros(2)),
                                         T.enable_grad().__enter__())[1])(
        T.ones(2, requires_grad=True)),
    "out_values_indices": lambda T: T.max(T.tensor([[1., 5.], [7., 2.]]), 1,
                                          out=(T.empty(0), T.empty(0, dtype=T.long))),
    "method_takes_no_out": lambda T: T.ones(2).add(T.ones(2), out=T.zeros(2)),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_functions_take_input_and_out_as_torch(name):
    g, t = both(PROGRAMS[name])
    assert g == t


def test_a_failed_out_leaves_it_as_it_was():
    out = gradlab.zeros(2, dtype=gradlab.long)
    with pytest.raises(RuntimeError):
        gradlab.add(gradlab.ones(2), gradlab.ones(2), out=out)
    assert out.tolist() == [0, 0] and out._version == 0


def show(setup):
    code = setup + ("\nfrom IPython.lib.pretty import pretty\n"
                    "print(type(torch.ones(1)), torch.nn.Parameter)\n"
                    "print(pretty((type(torch.ones(1)), torch.nn.Parameter)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_type_names_as_torch_shows_them():
    assert show("import gradlab; gradlab.as_torch(); import torch") == show("import torch")
    assert show("import gradlab as torch") == (
        "<class 'gradlab.Tensor'> <class 'gradlab.nn.parameter.Parameter'>\n"
        "(gradlab.Tensor, gradlab.nn.parameter.Parameter)\n")
    undone = "import gradlab\nwith gradlab.as_torch(): pass\ntorch = gradlab"
    assert show(undone) == show("import gradlab as torch")
