"""torch.autograd's public names: backward, grad, grad modes, the graph and its events."""
from . import engine, forward_ad, graph  # noqa: F401
from .engine import (GradAccumulated, GradCaptured, GradsComputed, HookFired,  # noqa: F401
                     NodeEntered, SavedReleased, backward_events)
from .functional import backward, backward_stream, grad, grad_stream  # noqa: F401
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                        is_inference_mode_enabled, no_grad, set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from .graph import Node  # noqa: F401
