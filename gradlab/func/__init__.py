"""torch.func: composable function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap)
and functional_call."""
from ._call import functional_call  # noqa: F401
from ._transforms import (grad, grad_and_value, hessian, jacfwd, jacrev, jvp,  # noqa: F401
                          vjp)
from ._vmap import vmap  # noqa: F401

from .._missing import missing_names  # noqa: E402
__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
