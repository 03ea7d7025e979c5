"""torch.cuda as a CPU-only build of PyTorch answers: no device, and PyTorch's error for what
needs one."""
from ._missing import missing_names

NOT_COMPILED = "Torch not compiled with CUDA enabled"


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def manual_seed(seed):
    """Nothing to seed: PyTorch too accepts it (lazily) without CUDA."""


def manual_seed_all(seed):
    """Nothing to seed: PyTorch too accepts it (lazily) without CUDA."""


def empty_cache():
    """Nothing cached."""


def memory_allocated(device=None):
    return 0


def _needs_cuda(*args, **kwargs):
    raise AssertionError(NOT_COMPILED)


current_device = get_device_name = get_device_properties = synchronize = set_device = _needs_cuda

__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
