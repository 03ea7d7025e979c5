"""parameters_to_vector and vector_to_parameters."""
from ...ops.shape import cat
from ...tensor import Tensor
from ..module import _typename


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated into one vector (differentiable)."""
    return cat([param.view(-1) for param in parameters])


def vector_to_parameters(vec, parameters):
    """Slice ``vec`` into the parameters' shapes and make those slices their data."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
