"""PyTorch's CPU dropout (ATen's _dropout_impl): the input times a noise tensor, a Bernoulli(1 - p)
mask divided by 1 - p, one MulBackward0 that saves the noise. Feature dropout (dropout1d/2d/3d)
draws one mask value per (sample, channel) and broadcasts it over the rest."""
import warnings

import numpy as np

from .. import _random
from ..tensor import Tensor


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout_impl(input, p, training, inplace, feature=False):
    """The input itself when not training (or p = 0, or empty), else input · noise."""
    if p == 0 or not training or input.numel() == 0:
        return input
    dt = input._array.dtype
    if p == 1:
        noise = Tensor._make(np.zeros((), dt), input.dtype)
    else:
        shape = input._array.shape   # the noise: empty_like(input), filled in its memory order
        noise = np.empty_like(input._array)
        if feature:                  # or a new contiguous (N, C, 1, ...) tensor
            if input.dim() < 2:
                raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
            noise = np.empty(shape[:2] + (1,) * (len(shape) - 2), dt)
        mask = _random.bernoulli_(noise, 1 - p)
        noise = Tensor._make(mask / dt.type(1 - p), input.dtype)
    return input.mul_(noise) if inplace else input * noise


def _feature(input, p, training, inplace, batched):
    """Feature dropout of ``input``, given a batch dimension first if it has none (in place:
    through an unsqueezed view, where PyTorch uses unsqueeze_ and squeeze_, which gradlab lacks,
    so the grad_fn differs: CopySlices rather than SqueezeBackward4)."""
    if batched:
        return dropout_impl(input, p, training, inplace, feature=True)
    result = dropout_impl(input.unsqueeze(0), p, training, inplace, feature=True)
    return input if inplace and result is not input else result.squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, L) or (C, L) input, each with probability p."""
    _check_p(p)
    ndim = input.dim()
    if ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
            "a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature(input, p, training, inplace, ndim == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, H, W) input, each with probability p."""
    _check_p(p)
    ndim = input.dim()
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _feature(input, p, training, inplace, True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input, each with probability p."""
    _check_p(p)
    ndim = input.dim()
    if ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _feature(input, p, training, inplace, ndim == 5)
