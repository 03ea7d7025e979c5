"""torch.nn.functional: activations, linear and losses, with PyTorch's Python-level checks,
warnings and the graphs its C++ compositions record."""
import warnings

import numpy as np

from ..ops import loss as _loss
from ..ops._core import broadcast_error
from ..ops.elementwise import div_scalar, mul_scalar, relu as _relu, sigmoid, tanh  # noqa: F401
from ..ops.counting import one_hot  # noqa: F401
from ..ops.linalg import addmm
from ..tensor import Tensor
from ._dropout import _check_p, dropout1d, dropout2d, dropout3d, dropout_impl  # noqa: F401

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _reduction_enum(reduction):
    """PyTorch's _Reduction.get_enum."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return 1
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


def _legacy_reduction(size_average, reduce):
    """PyTorch's _Reduction.legacy_get_string, with its deprecation warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _size_warning(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _broadcast_tensors(a, b):
    """torch.broadcast_tensors for two tensors: an expand only where a shape changes."""
    try:
        shape = np.broadcast_shapes(a._array.shape, b._array.shape)
    except ValueError:
        raise broadcast_error(a._array.shape, b._array.shape) from None
    return tuple(t if t._array.shape == shape else t.expand(shape) for t in (a, b))


# ---- activations ------------------------------------------------------------------------------

def relu(input, inplace=False):
    return input.relu_() if inplace else _relu(input)


def relu_(input):
    return input.relu_()


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return input.log_softmax(dim, dtype=dtype)


# ---- dropout ----------------------------------------------------------------------------------

def dropout(input, p=0.5, training=True, inplace=False):
    """PyTorch's CPU dropout: the input itself when not training (or p = 0, or empty), else the
    input times a noise tensor, a Bernoulli(1 - p) mask divided by 1 - p (one MulBackward0,
    which saves the noise). The mask is drawn as ``_random.bernoulli_`` says."""
    _check_p(p)
    return dropout_impl(input, p, training, inplace)


# ---- linear -----------------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """input · weightᵀ + bias as PyTorch's at::linear records it: one addmm for a 2-D input
    (AddmmBackward0 with TBackward0 on the weight), other contiguous inputs flattened to 2-D
    around it (ViewBackward0), else matmul followed by an in-place add of the bias."""
    weight_t = weight.t()
    if bias is None:
        return input.matmul(weight_t)
    if input.dim() == 2:
        return addmm(bias, input, weight_t)
    if input.is_contiguous():
        shape = input.shape[:-1] + (weight.shape[0],)
        return addmm(bias, input.view(-1, input.shape[-1]), weight_t).view(shape)
    return input.matmul(weight_t).add_(bias)


# ---- losses -----------------------------------------------------------------------------------

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    input, target = _broadcast_tensors(input, target)
    if weight is not None:
        return _weighted(((input - target) ** 2), weight, input, reduction)
    return _loss.mse_loss(input, target, _reduction_enum(reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    input, target = _broadcast_tensors(input, target)
    if weight is not None:
        return _weighted((input - target).abs(), weight, input, reduction)
    enum = _reduction_enum(reduction)
    errors = (input - target).abs()  # ATen's l1_loss is this composition
    return errors.mean() if enum == 1 else errors.sum() if enum == 2 else errors


def _weighted(errors, weight, input, reduction):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    errors = errors * weight
    if reduction == "none":
        return errors
    if reduction == "sum":
        return errors.sum()
    if reduction == "mean":
        return errors.sum() / weight.sum()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return _nll_loss_nd(input, target, weight, _reduction_enum(reduction), ignore_index)


def _nll_loss_nd(input, target, weight, reduction, ignore_index):
    """ATen's nll_loss_nd: the batch checks, then nll_loss, nll_loss2d for 4 dims, and for 3 or
    more than 4 nll_loss2d on views (N, C, 1, -1) and (N, 1, -1)."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    batch = target.shape[0] if target.dim() else 0  # (ATen reads 0 for a 0-dim target)
    if input.dim() != 1 and input.shape[0] != batch:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({batch}).")
    if input.dim() == 1 and target.dim() == 1 and target.shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                         f"{target.shape[0]}")
    if input.dim() <= 2:
        return _loss.nll_loss(input, target, weight, reduction, ignore_index)
    if input.dim() == 4:
        return _loss.nll_loss2d(input, target, weight, reduction, ignore_index)
    n, c = input.shape[0], input.shape[1]
    out_size = [n] + list(input.shape[2:])
    if tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {out_size}, got {list(target.shape)}")
    input, target = input.contiguous(), target.contiguous()
    input = input.view(n, c, 1, -1) if input.numel() else input.view(n, c, 0, 0)
    target = target.view(n, 1, -1) if target.numel() else target.view(n, 0, 0)
    out = _loss.nll_loss2d(input, target, weight, reduction, ignore_index)
    return out if reduction else out.view(out_size)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax then nll_loss for class indices; for class probabilities (a target shaped
    like the input) -Σ target · log_softmax, as ATen's cross_entropy_loss."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    enum = _reduction_enum(reduction)
    class_dim = 0 if input.dim() == 1 else 1
    if input.shape == target.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {target.dtype._legacy[:-6]}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _soft_cross_entropy(input, target, weight, enum, label_smoothing, class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        return _smoothed_cross_entropy(input, target, weight, enum, ignore_index,
                                       label_smoothing, class_dim)
    return _nll_loss_nd(input.log_softmax(class_dim), target, weight, enum, ignore_index)


def _check_smoothing(label_smoothing):
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")


def _class_weight(weight, log_probs, class_dim):
    """The class weights viewed to broadcast along the class dim."""
    shape = [1] * log_probs.dim()
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _soft_cross_entropy(input, target, weight, reduction, label_smoothing, class_dim):
    """ATen's cross_entropy_loss_prob_target: -Σ weight · target · log_softmax."""
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{n_classes} classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    log_probs = input.log_softmax(class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = log_probs * target
    if weight is not None:
        terms = terms * (_class_weight(weight, log_probs, 1) if input.dim() > 1 else weight)
    if reduction == 1:
        if not log_probs.numel():
            return -terms.sum().fill_(float("nan"))
        return div_scalar(-terms.sum(), log_probs.numel() // n_classes)
    if reduction == 2:
        return -terms.sum()
    return -terms.sum(class_dim)


def _smoothed_cross_entropy(input, target, weight, reduction, ignore_index, label_smoothing,
                            class_dim):
    """ATen's cross_entropy_loss_label_smoothing: (1 - ls) · nll + ls / C · the mean (or sum)
    of -Σ weight · log_softmax over the targets not ignored."""
    log_probs = input.log_softmax(class_dim)
    nll = _nll_loss_nd(log_probs, target, weight, reduction, ignore_index)
    if weight is not None:
        smooth = -(log_probs * _class_weight(weight, log_probs, class_dim)).sum(class_dim)
    else:
        smooth = -log_probs.sum(class_dim)
    ignored = target == ignore_index
    smooth.masked_fill_(ignored, 0.0)
    if reduction == 1:
        if weight is not None:
            smooth = smooth.sum() / weight.gather(0, target.masked_select(~ignored).flatten()).sum()
        else:
            smooth = smooth.sum() / (~ignored).sum()
    elif reduction == 2:
        smooth = smooth.sum()
    # PyTorch's C++ `(1 - ls) * nllloss + ret * (ls / n_classes)` evaluates (GCC) its right
    # operand first: the smoothing term's node is the older, which orders the double backward
    smoothed = mul_scalar(smooth, label_smoothing / log_probs.shape[class_dim])
    return mul_scalar(nll, 1 - label_smoothing) + smoothed


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        enum = _reduction_enum(_legacy_reduction(size_average, reduce))
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                          "the support size.'batchmean' divides only by the batch size, and "
                          "aligns with the KL div math definition.'mean' will be changed to "
                          "behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        enum = 2 if reduction == "batchmean" else _reduction_enum(reduction)
    reduced = _loss.kl_div(input, target, enum, log_target)
    if reduction == "batchmean" and input.dim() != 0:
        reduced = reduced / input.size()[0]
    return reduced


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    if size_average is not None or reduce is not None:
        enum = _reduction_enum(_legacy_reduction(size_average, reduce))
    else:
        enum = _reduction_enum(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        weight = weight.expand(np.broadcast_shapes(target.shape, weight.shape))
    return _loss.binary_cross_entropy(input, target, weight, enum)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    if size_average is not None or reduce is not None:
        enum = _reduction_enum(_legacy_reduction(size_average, reduce))
    else:
        enum = _reduction_enum(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    return _loss.binary_cross_entropy_with_logits(input, target, weight, pos_weight, enum)

from ._norm_functional import (batch_norm, embedding, huber_loss, layer_norm,  # noqa: E402,F401
                               smooth_l1_loss)
from ._activation_functional import (celu, elu, gelu, hardtanh, leaky_relu,  # noqa: E402,F401
                                     mish, relu6, selu, silu, softplus)
from ._conv_functional import (  # noqa: E402,F401
    adaptive_avg_pool2d, avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d, pad)
from ..ops.activation import log_sigmoid as logsigmoid  # noqa: E402,F401
from ._activation_functional import (celu_, elu_, hardtanh_, leaky_relu_,  # noqa: E402,F401
                                     selu_)

from .._missing import missing_names  # noqa: E402
__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
