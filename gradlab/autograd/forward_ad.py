"""torch.autograd.forward_ad: dual tensors, whose tangents the ops carry forward as they run.

A dual tensor keeps its tangent in ``_fw_grad``; ``gradlab.ops._core.record`` computes each
output's tangent from the op's forward-derivative formula (its ``result`` in the op table)
while a dual level is open. Exiting the level deletes every tangent made in it, as in PyTorch.
"""
import weakref

import numpy as np
from typing import NamedTuple, Optional

from .grad_mode import _GradMode

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]


class _Levels:
    """The open dual level (-1: none) and the tensors given a tangent in it."""

    __slots__ = ("current", "duals", "watch")

    def __init__(self):
        self.current = -1
        self.duals = []
        self.watch = None  # called with each op's forward-derivative step (ForwardStepper)


_levels = _Levels()


def enter_dual_level():
    """Enter a new forward grad level (PyTorch supports only one at a time)."""
    if _levels.current >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.current = 0
    return 0


def exit_dual_level(*, level=None):
    """Exit the forward grad level, deleting every tangent made in it."""
    if level is None:
        level = _levels.current
    if level != _levels.current:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    for ref in _levels.duals:
        tensor = ref()
        if tensor is not None:
            tensor.__dict__.pop("_fw_grad", None)
    _levels.duals = []
    _levels.current = level - 1


def set_tangent(tensor, tangent):
    """Give ``tensor`` the tangent ``tangent`` at the current level."""
    if "_fw_grad" not in tensor.__dict__:
        _levels.duals.append(weakref.ref(tensor))
    tensor.__dict__["_fw_grad"] = tangent


def update_tangent(tensor, tangent):
    """After an in-place op: write the result's ``tangent`` into ``tensor``'s own tangent (which
    its views and base share), or into a new one aliased to its base's (zeros elsewhere)."""
    own = tensor._fw_grad
    if own is None and tensor._base is not None:
        base = tensor._base
        if base._fw_grad is None:
            set_tangent(base, base._make(np.zeros(base._array.shape, base.dtype.np), base.dtype))
        own = _alias(base._fw_grad, base._storage(), tensor._storage())
        set_tangent(tensor, own)
    if own is None:
        set_tangent(tensor, tangent)
        return
    level, _levels.current = _levels.current, -1
    try:
        own.copy_(tangent)
    finally:
        _levels.current = level


def _alias(base_tangent, base, view):
    """The part of ``base_tangent`` that ``view`` is of ``base``, as a view of it."""
    t = base_tangent._storage()
    offset = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0])
    scale = t.itemsize / base.itemsize
    owner = t if t.base is None else t.base
    start = t.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    a = np.ndarray(view.shape, t.dtype, buffer=owner, offset=start + int(offset * scale),
                   strides=tuple(int(s * scale) for s in view.strides))
    return base_tangent._make(a, base_tangent.dtype, counter=base_tangent._version_counter,
                              base=base_tangent)


def make_dual(tensor, tangent, *, level=None):
    """A new tensor aliased to ``tensor`` with ``tangent`` (as is) as its forward gradient."""
    if level is None:
        level = _levels.current
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not tensor.is_floating_point():
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not tangent.is_floating_point():
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if level != _levels.current:
        raise RuntimeError("Invalid level given to _make_dual")
    if tensor._fw_grad is not None:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported.")
    if tangent.shape != tensor.shape:
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    _levels.current = -1  # the alias is a plain view: nothing to carry forward
    try:
        dual = tensor.view(tensor.shape)
    finally:
        _levels.current = level
    set_tangent(dual, tangent if _same_layout(tangent, tensor) else _copy_like(tangent, tensor))
    return dual


def _same_layout(a, b):
    x, y = np.asarray(a._array), np.asarray(b._array)
    return x.strides == y.strides or x.size <= 1 or \
        [s // x.itemsize for s in x.strides] == [s // y.itemsize for s in y.strides]


def _copy_like(tangent, primal):
    """The tangent's values in a new tensor laid out as the primal (PyTorch copies them)."""
    a = np.empty_like(np.asarray(primal._array), dtype=tangent.dtype.np)
    np.copyto(a, tangent._array)
    return tangent._make(a, tangent.dtype)


class UnpackedDualTensor(NamedTuple):
    """Namedtuple returned by :func:`unpack_dual`: the primal and the tangent of a dual tensor."""

    primal: "object"
    tangent: Optional["object"]


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of a dual tensor: its value as a view, and its tangent as is."""
    if level is None:
        level = _levels.current
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    tangent = tensor._fw_grad
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    _levels.current = -1
    try:
        primal = tensor.view(tensor.shape)
    finally:
        _levels.current = level
    return UnpackedDualTensor(primal, tangent)


class dual_level(_GradMode):
    """Context manager (and decorator) for forward AD: tangents live within it."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
