"""torch.nn.functional's activations beyond relu, tanh, sigmoid and the softmaxes, and their
in-place forms (``inplace=True`` or the ``_`` names)."""
from ..ops import activation as _act


def gelu(input, approximate="none"):
    return _act.gelu(input, approximate)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return (_act.leaky_relu_ if inplace else _act.leaky_relu)(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return _act.leaky_relu_(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return (_act.elu_ if inplace else _act.elu)(input, alpha)


def elu_(input, alpha=1):
    return _act.elu_(input, alpha)


def selu(input, inplace=False):
    return (_act.selu_ if inplace else _act.selu)(input)


def selu_(input):
    return _act.selu_(input)


def celu(input, alpha=1.0, inplace=False):
    return (_act.celu_ if inplace else _act.celu)(input, alpha)


def celu_(input, alpha=1.0):
    return _act.celu_(input, alpha)


def silu(input, inplace=False):
    return (_act.silu_ if inplace else _act.silu)(input)


def mish(input, inplace=False):
    return (_act.mish_ if inplace else _act.mish)(input)


def softplus(input, beta=1, threshold=20):
    return _act.softplus(input, beta, threshold)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return (_act.hardtanh_ if inplace else _act.hardtanh)(input, min_val, max_val)


def hardtanh_(input, min_val=-1, max_val=1):
    return _act.hardtanh_(input, min_val, max_val)


def relu6(input, inplace=False):
    return (_act.hardtanh_ if inplace else _act.hardtanh)(input, 0, 6)
