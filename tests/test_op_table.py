"""Every op in gradlab's op table is run by a differential test against PyTorch.

The op table is every Tensor method and every ``gradlab.<name>`` function defined in
``gradlab/ops``. The differential tables of tests/test_ops.py (values, grad_fn graphs and
derivatives of ops applied to inputs that require grad), its ops without gradients, and the
in-place scenarios of tests/test_inplace.py are run here under a profiler: each op's function
must be called by at least one of them, so an op added without a test (or one that silently
records no node, as ``remainder`` once did) cannot go unnoticed.
"""
import inspect
import sys
import types

import numpy as np
import pytest

pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
import test_conv  # noqa: E402
import test_indexing_more  # noqa: E402
import test_inplace  # noqa: E402
import test_ops  # noqa: E402
import test_ops_math  # noqa: E402
import test_random  # noqa: E402
from helpers import pair  # noqa: E402


def op_table() -> dict:
    """code object -> the names it is reachable by (Tensor methods and gradlab functions)."""
    table = {}
    candidates = [(n, getattr(gradlab.Tensor, n)) for n in dir(gradlab.Tensor)
                  if hasattr(gradlab.Tensor, n)]  # (not the names gradlab lacks)
    candidates += [(f"gradlab.{n}", getattr(gradlab, n)) for n in dir(gradlab)]
    candidates += [(f"gradlab.linalg.{n}", getattr(gradlab.linalg, n)) for n in dir(gradlab.linalg)
                   if not n.startswith("_")]
    for name, fn in candidates:
        fn = inspect.unwrap(getattr(fn, "fget", fn))  # an op's own code, not a decorator's
        if isinstance(fn, types.FunctionType) and fn.__module__.startswith(
                ("gradlab.ops", "gradlab.linalg")):
            table.setdefault(fn.__code__, set()).add(name)
    return table


def run_the_differential_tables():
    for case in test_ops.ALL + test_ops_math.ALL:
        arrays = [np.asarray(a) for a in case.arrays()]
        inputs = [pair(a, a.dtype.name, requires_grad=a.dtype.kind == "f")[0] for a in arrays]
        case.fn(gradlab, *inputs)
    for case in test_conv.CASES:
        case.fn(gradlab, *(gradlab.tensor(a, requires_grad=True) for a in case.arrays()))
    a, b = gradlab.randn(3, 4, requires_grad=True), gradlab.randn(4)
    for _, fn in test_ops.NO_GRAD + test_ops.NO_DERIVATIVE:
        fn(gradlab, a, b)
    for _, fn in test_random.RANDOM_OPS:
        fn(gradlab, None)
    for scenario in test_inplace.SC.values():
        try:
            scenario(gradlab)
        except Exception:  # some end in PyTorch's errors, compared in tests/test_inplace.py
            pass
    test_indexing_more.run_for_the_op_table(gradlab)


def test_every_op_is_run_by_a_differential_test():
    called = set()

    def profile(frame, event, arg):
        if event == "call":
            called.add(frame.f_code)

    sys.setprofile(profile)
    try:
        run_the_differential_tables()
    finally:
        sys.setprofile(None)
    untested = sorted(min(names) for code, names in op_table().items() if code not in called)
    assert untested == []
