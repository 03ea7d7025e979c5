"""torch.autograd's public names: backward, grad, grad modes, the graph and its events."""
from . import anomaly_mode, engine, forward_ad, function, graph  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401
from .engine import (GradAccumulated, GradCaptured, GradsComputed, HookFired,  # noqa: F401
                     NodeEntered, SavedReleased, SavedTensorPacked, SavedTensorUnpacked,
                     backward_events)
from .backward_api import backward, backward_stream, grad, grad_stream  # noqa: F401
from . import functional  # noqa: F401,E402  (jacobian, hessian, vjp, jvp, hvp, vhp)
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                        is_inference_mode_enabled, no_grad, set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from .function import Function  # noqa: F401
from .graph import Node  # noqa: F401
from . import profiler  # noqa: F401,E402  (torch.autograd.profiler)

from .._missing import missing_names  # noqa: E402
__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
