"""Convolution, pooling and padding against PyTorch: values, grad_fn graphs and saved attributes,
first to third derivatives, forward mode, modules (init, reprs), error texts; Hypothesis over
shapes, strides, padding, dilation and groups."""
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import assert_same, both, check_op, outcome, pair  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402


def F(lib):
    return lib.nn.functional


class Case:
    def __init__(self, id, fn, *shapes, **options):
        self.id, self.fn, self.shapes, self.options = id, fn, shapes, options

    def arrays(self):
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        return [rng.permutation(np.prod(s)).reshape(s) * 0.37 - np.prod(s) * 0.17
                if self.options.get("distinct") else rng.standard_normal(s) for s in self.shapes]


C = Case
X4, W = (2, 4, 7, 6), (6, 2, 3, 2)
CASES = [
    C("conv2d", lambda T, x, w, b: F(T).conv2d(x, w, b), (2, 3, 6, 5), (4, 3, 3, 2), (4,)),
    C("conv2d_nobias", lambda T, x, w: T.conv2d(x, w), (1, 2, 5, 5), (3, 2, 2, 2)),
    C("conv2d_stride_pad_dil_groups", lambda T, x, w, b: F(T).conv2d(
        x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2), X4, W, (6,)),
    C("conv2d_groups3", lambda T, x, w: F(T).conv2d(x, w, groups=3, stride=2, padding=1),
      (1, 3, 6, 6), (3, 1, 3, 3)),
    C("conv2d_same_even", lambda T, x, w: F(T).conv2d(x, w, padding="same", dilation=(1, 2)),
      (1, 2, 6, 6), (3, 2, 2, 4)),
    C("conv2d_same_odd", lambda T, x, w, b: F(T).conv2d(x, w, b, padding="same"),
      (2, 2, 5, 4), (3, 2, 3, 3), (3,)),
    C("conv2d_valid", lambda T, x, w: F(T).conv2d(x, w, padding="valid"), (1, 2, 5, 4),
      (3, 2, 3, 3)),
    C("conv2d_unbatched", lambda T, x, w, b: F(T).conv2d(x, w, b, stride=2), (2, 6, 6),
      (3, 2, 3, 3), (3,)),
    C("conv1d", lambda T, x, w, b: F(T).conv1d(x, w, b, stride=2, padding=1, dilation=2),
      (2, 3, 9), (4, 3, 3), (4,)),
    C("conv1d_groups", lambda T, x, w: T.conv1d(x, w, groups=2), (2, 4, 6), (4, 2, 2)),
    C("conv1d_unbatched", lambda T, x, w: F(T).conv1d(x, w, padding="same"), (3, 7), (2, 3, 4)),
    C("max_pool2d", lambda T, x: F(T).max_pool2d(x, 2), (2, 3, 6, 7), distinct=True),
    C("max_pool2d_all", lambda T, x: F(T).max_pool2d(x, (3, 2), (2, 1), 1, (1, 2), True),
      (2, 2, 7, 8), distinct=True),
    C("max_pool2d_ceil", lambda T, x: T.max_pool2d(x, 3, 2, 1, ceil_mode=True), (1, 2, 6, 6),
      distinct=True),
    C("max_pool2d_indices", lambda T, x: F(T).max_pool2d(x, 2, 1, return_indices=True),
      (3, 5, 4), distinct=True),
    C("max_pool1d", lambda T, x: F(T).max_pool1d(x, 3, 2, 1), (2, 3, 8), distinct=True),
    C("max_pool1d_indices", lambda T, x: T.max_pool1d_with_indices(x, 2, ceil_mode=True),
      (3, 7), distinct=True),
    C("avg_pool2d", lambda T, x: F(T).avg_pool2d(x, 2), (2, 3, 6, 7)),
    C("avg_pool2d_all", lambda T, x: F(T).avg_pool2d(x, (3, 2), (2, 1), 1, True, False),
      (2, 2, 7, 8)),
    C("avg_pool2d_ceil_pad", lambda T, x: F(T).avg_pool2d(x, 3, 2, 1, ceil_mode=True),
      (1, 2, 6, 6)),
    C("avg_pool2d_divisor", lambda T, x: F(T).avg_pool2d(x, 2, divisor_override=3), (3, 4, 4)),
    C("avg_pool1d", lambda T, x: T.avg_pool1d(x, 3, 2, 1, count_include_pad=False), (2, 3, 8)),
    C("adaptive_avg_pool2d", lambda T, x: F(T).adaptive_avg_pool2d(x, (3, 2)), (2, 3, 7, 5)),
    C("adaptive_avg_pool2d_none", lambda T, x: F(T).adaptive_avg_pool2d(x, (None, 4)),
      (3, 5, 9)),
    C("adaptive_avg_pool2d_1", lambda T, x: F(T).adaptive_avg_pool2d(x, 1), (2, 3, 4, 4)),
    C("pad", lambda T, x: F(T).pad(x, (1, 2, 0, 1)), (2, 3, 4)),
    C("pad_value_crop", lambda T, x: F(T).pad(x, (-1, 2), value=1.5), (2, 5)),
    C("constant_pad_nd", lambda T, x: T.constant_pad_nd(x, (1, 1, -1, 0, 2, 0)), (2, 3, 4)),
    C("lenet_block", lambda T, x, w, b: F(T).max_pool2d(F(T).conv2d(x, w, b).relu(), 2),
      (2, 1, 10, 10), (3, 1, 3, 3), (3,)),
]


def _params():
    return [pytest.param(c, dt, id=f"{c.id}-{dt}") for c in CASES for dt in ("float32", "float64")]


@pytest.mark.parametrize("case,dtype", _params())
def test_op(case, dtype):
    """Values, graphs with saved attributes, and up to third derivatives with their names."""
    check_op(case.fn, case.arrays(), dtype, graph_order=2)
