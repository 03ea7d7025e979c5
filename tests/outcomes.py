"""Run one scenario with torch and with gradlab and compare what a user would observe.

A scenario is a function of the library module (``torch`` or ``gradlab``). Its outcome is its
return value made comparable (tensors become values, dtype, requires_grad, grad_fn name and
version), or the exception it raised (type and text), plus the warnings it emitted.

Floats are compared exactly, so scenarios keep to values PyTorch computes the same way on every
x86-64 CPU: the ops with AVX-512 kernels of their own whose vector and scalar code differ (sigmoid,
pow, gelu, softplus, elu, silu, sinh, cosh, ...) on fewer than 16 elements (PyTorch's vectorised
loops leave those to the scalar code on AVX2 and AVX-512 alike), softmax over fewer than 8 classes
(summed in order on both), products of at most 4 terms (the same under every MKL and OpenBLAS code
path we could run), and bit-for-bit fused multiply-adds only under ``helpers.avx2_kernels``.
gradlab's own values do not depend on the CPU.
"""
import warnings

import numpy as np
import torch

import gradlab

TENSORS = (torch.Tensor, gradlab.Tensor)
# warnings both libraries give once per process: compared by tests of their own (torch's
# jit.script warning comes from the module it imports at the first backward in a dual level)
ONCE_PER_PROCESS = ("Using backward() with create_graph=True",
                    "The given NumPy array is not writable",
                    "`torch.jit.script` is deprecated")


def observe(x):
    """A comparable description of a scenario's result."""
    if isinstance(x, TENSORS):
        fn = x.grad_fn
        return ("tensor", _nan_safe(np.asarray(x.detach().numpy()).tolist()), str(x.dtype),
                x.requires_grad,
                None if fn is None else type(fn).__name__)
    if isinstance(x, (tuple, list)):
        return type(x).__name__, [observe(i) for i in x]
    if isinstance(x, dict):
        return {k: observe(v) for k, v in x.items()}
    if hasattr(x, "next_functions") and hasattr(x, "name"):
        return "node", type(x).__name__
    if isinstance(x, (torch.dtype, gradlab.dtype)):
        return str(x)
    if isinstance(x, float) and x != x:
        return "nan"
    return x


def _nan_safe(values):
    if isinstance(values, list):
        return [_nan_safe(v) for v in values]
    return "nan" if isinstance(values, float) and values != values else values


def graph(fn, depth=12):
    """A grad_fn's graph as nested (name, [(child, output_nr), ...]); leaves by their values."""
    if fn is None:
        return None
    var = getattr(fn, "variable", None)
    if var is not None:
        return "AccumulateGrad", np.asarray(var.detach().numpy()).tolist()
    if depth == 0:
        return type(fn).__name__
    return type(fn).__name__, [(graph(f, depth - 1), nr) for f, nr in fn.next_functions]


def outcome(L, scenario):
    """(result or error, warnings) of ``scenario(L)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", observe(scenario(L)))
        except Exception as e:  # noqa: BLE001 - the error is the observation
            result = ("error", type(e).__name__, str(e))
    seen = [(w.category.__name__, str(w.message)) for w in caught
            if not str(w.message).startswith(ONCE_PER_PROCESS)]
    return result, seen


def assert_same_outcome(scenario, digits=None):
    """``scenario`` behaves the same with torch and with gradlab (floats to ``digits``
    significant digits if given: for values computed by different but exact formulas)."""
    expected = outcome(torch, scenario)
    got = outcome(gradlab, scenario)
    if digits is not None:
        expected, got = _rounded(expected, digits), _rounded(got, digits)
    assert got == expected
    return got


def _rounded(x, digits):
    if isinstance(x, float):
        return float(f"{x:.{digits}g}") if x == x else x
    if isinstance(x, (list, tuple)):
        return type(x)(_rounded(v, digits) for v in x)
    return x


def scenarios():
    """(table, decorator): the decorator registers a scenario in the table by its name."""
    table = {}

    def add(fn):
        table[fn.__name__] = fn
        return fn
    return table, add


def err(fn, view=lambda value: value):
    """('ok', view(fn())) or the (exception type name, message) it raised."""
    try:
        return "ok", view(fn())
    except Exception as e:  # noqa: BLE001 - the error is the behaviour compared
        return type(e).__name__, str(e)
