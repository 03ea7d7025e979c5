"""torch.nn.functional's activations beyond relu, tanh, sigmoid and the softmaxes."""
from ..ops import activation as _act


def _out_of_place(name, inplace):
    if inplace:
        raise NotImplementedError(f"gradlab does not implement {name}(inplace=True)")


def gelu(input, approximate="none"):
    return _act.gelu(input, approximate)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _out_of_place("leaky_relu", inplace)
    return _act.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    _out_of_place("elu", inplace)
    return _act.elu(input, alpha)


def selu(input, inplace=False):
    _out_of_place("selu", inplace)
    return _act.selu(input)


def celu(input, alpha=1.0, inplace=False):
    _out_of_place("celu", inplace)
    return _act.celu(input, alpha)


def silu(input, inplace=False):
    _out_of_place("silu", inplace)
    return _act.silu(input)


def mish(input, inplace=False):
    _out_of_place("mish", inplace)
    return _act.mish(input)


def softplus(input, beta=1, threshold=20):
    return _act.softplus(input, beta, threshold)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    _out_of_place("hardtanh", inplace)
    return _act.hardtanh(input, min_val, max_val)


def relu6(input, inplace=False):
    _out_of_place("relu6", inplace)
    return _act.hardtanh(input, 0, 6)
