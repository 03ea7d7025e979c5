"""A PyTorch name gradlab lacks fails with an AttributeError that says gradlab does not
implement it; hasattr and getattr's default still work, and Python's own probes get Python's
message."""
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

MISSING = ["fft", "nn.Transformer", "nn.functional.grid_sample", "optim.LBFGS",
           "autograd.Variable", "func.linearize", "linalg.svd", "distributions.Gamma"]


@pytest.mark.parametrize("path", MISSING)
def test_a_name_gradlab_lacks_says_so(path):
    *modules, name = path.split(".")
    module, real = gradlab, torch
    for part in modules:
        module, real = getattr(module, part), getattr(real, part)
    assert hasattr(real, name)  # a name PyTorch has: else the test says nothing
    with pytest.raises(AttributeError, match=f"^gradlab does not implement torch.{path}$"):
        getattr(module, name)
    assert not hasattr(module, name) and getattr(module, name, 7) == 7


def test_pythons_own_probes_get_pythons_message():
    with pytest.raises(AttributeError, match="^module 'gradlab.nn' has no attribute '__wrapped__'$"):
        gradlab.nn.__wrapped__


def test_a_tensor_name_gradlab_lacks_says_so():
    """TENSOR_NAMES is exactly PyTorch's public Tensor names that gradlab's Tensor lacks."""
    from gradlab._missing import TENSOR_NAMES

    def public(cls):
        return {n for n in dir(cls) if not n.startswith("_") and hasattr(cls, n)}
    assert TENSOR_NAMES == public(torch.Tensor) - public(gradlab.Tensor)
    x, p = gradlab.ones(2), gradlab.nn.Parameter(gradlab.ones(2))
    for name in ("stride", "data_ptr", "erfinv", "storage_offset"):
        says = f"^gradlab does not implement torch.Tensor.{name}$"
        with pytest.raises(AttributeError, match=says):
            getattr(p, name)
        with pytest.raises(AttributeError, match=says):
            getattr(gradlab.Tensor, name)
        assert not hasattr(x, name) and getattr(x, name, 7) == 7
    assert not TENSOR_NAMES & set(dir(x)) and {"grad", "backward"} <= set(dir(x))  # completions
    for L in (torch, gradlab):  # a name PyTorch lacks too: Python's message, as PyTorch gives it
        for t, kind in ((L.ones(2), "Tensor"), (L.nn.Parameter(L.ones(2)), "Parameter")):
            with pytest.raises(AttributeError, match=f"^'{kind}' object has no attribute 'gard'$"):
                t.gard
