"""A lesson's device boilerplate gets a CPU-only PyTorch's answers: no CUDA, MPS or accelerator,
the flags lessons set for reproducibility, and PyTorch's error for what needs a GPU."""
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

CALLS = [
    "T.cuda.is_available()", "T.cuda.device_count()", "T.cuda.is_initialized()",
    "T.cuda.manual_seed(0)", "T.cuda.manual_seed_all(0)", "T.cuda.empty_cache()",
    "T.cuda.memory_allocated()", "T.cuda.current_device()", "T.cuda.get_device_name(0)",
    "T.cuda.synchronize()", "T.backends.mps.is_available()", "T.backends.mps.is_built()",
    "T.backends.cuda.is_built()", "T.backends.cudnn.is_available()",
    "T.backends.cudnn.deterministic", "T.backends.cudnn.benchmark", "T.backends.cudnn.enabled",
    "T.accelerator.is_available()", "T.accelerator.current_accelerator()",
    "T.accelerator.device_count()", "str(T.get_default_device())",
    "'cuda' if T.cuda.is_available() else 'cpu'",
]


def outcome(T, call):
    try:
        return "value", eval(call, {"T": T})
    except Exception as e:
        return type(e).__name__, str(e)


@pytest.mark.parametrize("call", CALLS)
def test_answers_as_a_cpu_only_pytorch(call):
    assert outcome(gradlab, call) == outcome(torch, call)


def test_import_forms_and_settable_flags():
    import gradlab.backends.cudnn as cudnn
    cudnn.deterministic = True
    assert gradlab.backends.cudnn.deterministic is True
    cudnn.deterministic = False
    with pytest.raises(AttributeError, match="^gradlab does not implement torch.cuda.amp$"):
        gradlab.cuda.amp
