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
