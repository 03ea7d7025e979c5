"""torch.nn.functional's convolution, pooling and padding: PyTorch's Python-level argument
handling around the ops of ``gradlab.ops.conv`` and ``gradlab.ops.pooling``."""
from ..ops.conv import constant_pad_nd, conv1d, conv2d  # noqa: F401
from ..ops.pooling import (adaptive_avg_pool2d as _adaptive_avg_pool2d, avg_pool1d,  # noqa: F401
                           avg_pool2d, max_pool1d as _max_pool1d, max_pool1d_with_indices,
                           max_pool2d as _max_pool2d, max_pool2d_with_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    stride = () if stride is None else stride
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    stride = () if stride is None else stride
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def adaptive_avg_pool2d(input, output_size):
    """``None`` in ``output_size`` keeps that dim's input size (PyTorch's _list_with_default)."""
    if not isinstance(output_size, int):
        output_size = tuple(input.shape[i - len(output_size)] if v is None else v
                            for i, v in enumerate(output_size))
    return _adaptive_avg_pool2d(input, output_size)


def pad(input, pad, mode="constant", value=None):
    """Only mode="constant" (zeros by default): the other modes say gradlab lacks them."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.dim()}")
    if mode != "constant":
        raise NotImplementedError(f"gradlab does not implement torch.nn.functional.pad with "
                                  f"mode={mode!r}")
    return constant_pad_nd(input, tuple(pad), 0 if value is None else value)
