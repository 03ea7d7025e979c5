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


FACTORIES = ["T.zeros(2, {})", "T.ones(2, 3, {})", "T.empty(2, {})", "T.full((2,), 1.5, {})",
             "T.tensor([1.0], {})", "T.as_tensor([1.0], {})", "T.arange(3, {})",
             "T.linspace(0, 1, 3, {})", "T.eye(2, {})", "T.rand(2, {})", "T.randn(2, {})",
             "T.randint(0, 5, (2,), {})", "T.randperm(3, {})", "T.zeros_like(T.ones(2), {})",
             "T.ones_like(T.ones(2), {})", "T.empty_like(T.ones(2), {})",
             "T.full_like(T.ones(2), 7, {})", "T.rand_like(T.ones(2), {})",
             "T.randn_like(T.ones(2), {})", "T.ones(2).to({})", "T.nn.Linear(2, 3, {}).weight",
             "T.nn.Linear(2, 3).to({}).weight", "T.nn.ReLU().to({})"]
DEVICES = ["device='cpu'", "device=T.device('cpu')", "device='cuda'", "device='cuda:1'",
           "device=T.device('cuda', 0)", "device='mps'", "device=0", "device='xyz'",
           "dtype=T.float64, device='cpu'"]


def result(T, call):
    try:
        value = eval(call, {"T": T})
        return "value", str(value.shape) if hasattr(value, "shape") else type(value).__name__
    except Exception as e:
        return type(e).__name__, str(e).split("possible resolutions.")[0]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("factory", FACTORIES)
def test_device_argument_as_a_cpu_only_pytorch(factory, device):
    if factory.startswith(("T.ones(2).to", "T.nn.Linear(2, 3).to", "T.nn.ReLU().to")):
        device = device.replace("device=", "")
    call = factory.format(device)
    gradlab.manual_seed(0)
    torch.manual_seed(0)
    assert result(gradlab, call) == result(torch, call)


@pytest.mark.parametrize("default", ["cpu", "cuda", "mps", None])
def test_set_default_device(default):
    calls = ["str(T.get_default_device())", "T.zeros(1)", "T.tensor([1.0])", "T.arange(2)",
             "T.zeros(1, device='cpu')", "T.nn.Linear(1, 1).weight", "T.ones(1).cuda()",
             "T.nn.ReLU().cuda()", "T.nn.Linear(1, 1).cuda()"]
    try:
        outcomes = {}
        for T in (gradlab, torch):
            T.set_default_device(default)
            outcomes[T.__name__] = [result(T, call) for call in calls]
    finally:
        torch.set_default_device(None)
        gradlab.set_default_device(None)
    assert outcomes["gradlab"] == outcomes["torch"]
    assert gradlab.zeros(1).shape == (1,)
