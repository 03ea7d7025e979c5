"""nn.Parameter: a leaf Tensor that a Module registers as one of its parameters."""
import numpy as np

from .. import _dtype
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor sharing ``data``'s storage and version counter, a leaf that requires grad.

    Ops on a Parameter give plain Tensors, as PyTorch's (its __torch_function__ is disabled).
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(np.empty(0, _dtype.get_default_dtype().np),
                                _dtype.get_default_dtype())
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        p = object.__new__(cls)
        p._array = data._storage()
        p.dtype = data.dtype
        p._requires_grad = bool(requires_grad)
        p._grad_fn = None
        p._output_nr = 0
        p._grad = None
        p._version_counter = data._version_counter
        p._base = None
        p._accumulator_ref = None
        p._retains_grad = False
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.data, self.requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
