"""gradlab: a NumPy autograd engine that behaves like PyTorch's, for reading and watching.

``import gradlab as torch`` runs autograd lessons written for PyTorch unchanged.
"""
from . import _dtype, autograd  # noqa: F401  (torch.autograd)
from ._creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,  # noqa: F401
                        initial_seed, is_tensor, linspace, manual_seed, numel, ones, ones_like,
                        rand, rand_like, randint, randn, randn_like, randperm, seed, tensor, zeros,
                        zeros_like)
from ._creation import randint_like  # noqa: F401
from ._random import Generator, default_generator  # noqa: F401
from ._creation import get_rng_state, set_rng_state  # noqa: F401
from ._device import device, get_default_device, set_default_device  # noqa: F401
from ._dtype import (bool_ as bool, dtype, float16, float32, float64, get_default_dtype,  # noqa: F401
                     int8, int16, int32, int64, promote_types, set_default_dtype, uint8)
from ._printing import get_printoptions, set_printoptions  # noqa: F401
from ._size import Size  # noqa: F401
from .autograd.anomaly_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,  # noqa: F401
                                   set_anomaly_enabled)
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from .ops import elementwise, indexing, inplace, pointwise, reduction, shape  # noqa: F401
from .ops import random as _random_ops  # noqa: F401
from .ops.elementwise import (  # noqa: F401
    abs, absolute, add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, clamp,
    clamp_max, clamp_min, clip, clone, cos, div, divide, eq, equal, exp, floor_divide, fmod, ge,
    gt, isclose, isfinite, isinf, isnan, isneginf, isposinf, le, log, log1p, logical_and,
    logical_not, logical_or, logical_xor, logit, lt, maximum, minimum, mul, multiply, nan_to_num,
    ne, neg, negative, positive, pow, reciprocal, relu, remainder, rsub, sgn, sigmoid, sign,
    signbit, sin, sqrt, square, sub, subtract, tanh, true_divide, where)
from .ops.indexing import (chunk, gather, index_select, masked_select, narrow, nonzero,  # noqa: F401
                           repeat_interleave, scatter, scatter_add, select, split,
                           take_along_dim, unbind)
from .ops.linalg import addmm, bmm, det, dot, ger, inner, matmul, mm, mv, outer  # noqa: F401
from .ops.linalg import _slogdet_method as slogdet  # noqa: F401
from .ops.pointwise import addcdiv, addcmul, lerp  # noqa: F401
from .ops.random import bernoulli, multinomial, normal, poisson  # noqa: F401
from .ops.reduction import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, count_nonzero, cummax, cummin, cumprod, cumsum, diff,
    log_softmax, logsumexp, max, mean, min, nanmean, nansum, norm, prod, softmax, std, sum, var)
from .ops.shape import (broadcast_to, cat, concat, concatenate, diag_embed, diagonal,  # noqa: F401
                        expand, flatten, flip, fliplr, flipud, permute, ravel, reshape, squeeze,
                        stack, swapaxes,
                        t, transpose, unflatten, unsqueeze, view)
from .ops.shape import broadcast_shapes, broadcast_tensors, roll, tile  # noqa: F401
from ._dtype import finfo, iinfo  # noqa: F401
from .ops.unary import (acos, arccos, arcsin, arctan, arctan2, asin, atan, atan2, ceil,  # noqa: F401
                        cosh, erf, erfc, exp2, expm1, fix, floor, frac, hypot, log2, log10,
                        logaddexp, round, rsqrt,
                        sinh, tan, trunc)
from .ops.matrix import (addbmm, addmv, addr, baddbmm, cartesian_prod, cross, diag, kron,  # noqa: F401
                         meshgrid, moveaxis, movedim, trace, tril, triu)
from .ops.einsum import einsum  # noqa: F401
from .ops.sorting import argsort, kthvalue, median, mode, msort, sort, topk  # noqa: F401
from .ops.counting import bincount, bucketize, histc, histogram, searchsorted, unique  # noqa: F401
from .ops.index_ops import index_add, index_copy, index_fill, take  # noqa: F401
from .ops.elementwise import masked_fill  # noqa: F401
from .tensor import Tensor  # noqa: F401
from .ops.conv import constant_pad_nd, conv1d, conv2d  # noqa: F401
from .ops.pooling import (avg_pool1d, max_pool1d, max_pool1d_with_indices,  # noqa: F401
                          max_pool2d)
is_inference = Tensor.is_inference
from .viz import make_dot  # noqa: F401
from . import linalg, nn, optim  # noqa: E402, F401  (they need the ops above)
from . import func  # noqa: E402, F401  (torch.func)
from . import accelerator, backends, cuda  # noqa: E402, F401  (a CPU-only build's answers)
from .func import vmap  # noqa: E402, F401  (torch.vmap)
from . import serialization  # noqa: E402, F401
from .serialization import load, save  # noqa: E402, F401
from . import profiler  # noqa: E402, F401

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
cpu = device("cpu")


def set_num_threads(n):
    """Accepted for compatibility: NumPy's BLAS decides its own threads."""


def get_num_threads():
    return 1


def load_ipython_extension(ipython):
    """``%load_ext gradlab``: the magics %graph, %stepper, %grads, %as_torch (gradlab.ipython)."""
    from .ipython import load_ipython_extension
    load_ipython_extension(ipython)


def unload_ipython_extension(ipython):
    """``%unload_ext gradlab``: remove those magics."""
    from .ipython import unload_ipython_extension
    unload_ipython_extension(ipython)


def _jupyter_server_extension_points():
    """The Jupyter server extension: TCP_NODELAY on kernel websockets (gradlab._jupyter)."""
    return [{"module": "gradlab._jupyter"}]


__version__ = "0.1.0"

from ._functions import export as _export  # noqa: E402
_export(globals())  # torch.add(input=x, other=y, out=z): the ops as PyTorch's functions
del _export

from ._missing import missing_names  # noqa: E402
__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
from ._as_torch import as_torch  # noqa: E402,F401  (import torch gives gradlab)
from . import distributions  # noqa: E402,F401  (torch.distributions)
