"""torch.<op>(...) as PyTorch's argument parser takes it: the tensor also as ``input=``, and a
tensor to write the result into as ``out=``.

gradlab writes each op once, as a method (``self`` first); ``export`` turns the ops that
``gradlab`` exposes into these functions, so methods and operators keep their direct path.
"""
import functools
import inspect
import types
import warnings

import numpy as np

from . import _dtype
from .autograd.grad_mode import is_grad_enabled


def torch_function(op):
    """``op`` (written as a method) as the function ``torch.<name>``."""
    @functools.wraps(op)
    def function(*args, out=None, **kwargs):
        if "input" in kwargs:
            args = (kwargs.pop("input"),) + args
        result = op(*args, **kwargs)
        return result if out is None else write_out(op.__name__, result, out)
    return function


def export(namespace):
    """Replace the ops in a module's ``namespace`` (those written as methods) by functions."""
    for name, value in list(namespace.items()):
        if (isinstance(value, types.FunctionType) and value.__module__.startswith("gradlab.ops")
                and next(iter(inspect.signature(value).parameters), None) == "self"):
            namespace[name] = torch_function(value)


def write_out(name, result, out):
    """Write ``result`` into ``out`` (resized if it must be) and return ``out``."""
    if isinstance(result, tuple):
        written = tuple(write_out(name, r, o) for r, o in zip(result, out))
        if hasattr(result, "_name"):  # torch.return_types.max -> max_out
            return type(result)(result._name + "_out", *written)
        return written
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if not _can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {result.dtype._legacy[:-6]} can't be cast to the desired "
                           f"output type {out.dtype._legacy[:-6]}")
    if out.shape != result.shape:
        _resize(out, result.shape)
    out._storage()[...] = result._array
    out._bump_version()
    return out


def _can_cast(src, dst):
    """PyTorch's canCast: no float to an integer, nothing but bool to bool."""
    if src.is_floating_point and not dst.is_floating_point:
        return False
    return dst is not _dtype.bool_ or src is _dtype.bool_


def _resize(out, shape):
    if out._base is not None:
        raise NotImplementedError("gradlab does not implement out= resizing a view")
    if out.numel():
        warnings.warn(
            f"An output with one or more elements was resized since it had shape "
            f"{list(out.shape)}, which does not match the required output shape {list(shape)}. "
            "This behavior is deprecated, and in a future PyTorch release outputs will not be "
            "resized unless they have zero elements. You can explicitly reuse an out tensor t by "
            "resizing it, inplace, to zero elements with t.resize_(0).", UserWarning,
            stacklevel=4)
    out._array = np.zeros(tuple(shape), out.dtype.np)
