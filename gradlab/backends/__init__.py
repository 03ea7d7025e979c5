"""torch.backends as a CPU-only build of PyTorch answers: no CUDA, cuDNN or MPS."""
from . import cuda, cudnn, mps  # noqa: F401
from .._missing import missing_names  # noqa: E402

__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
