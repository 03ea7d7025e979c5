"""The math ops lessons use beyond the basics, against PyTorch: pointwise logs, exponentials,
rounding, trigonometry; triangular and diagonal matrices, traces, batched products, einsum;
with their in-place forms, integer dtypes and error texts."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import assert_same, check_op, pair  # noqa: E402
from test_ops import Case as C, distinct, pos  # noqa: E402

S = (2, 3)


def unit(*shape):
    """Values inside (-1, 1), away from its ends (asin, acos)."""
    return lambda rng: rng.uniform(-0.9, 0.9, shape)


def halves(*shape):
    """Values away from integers and from halves (rounding ops, whose derivative is 0)."""
    return lambda rng: (rng.integers(-20, 20, shape) + rng.choice([0.2, 0.35, 0.65, 0.8], shape))


POINTWISE = [
    C("log2", lambda T, a: a.log2(), pos(2, 3)),
    C("log2_fn", lambda T, a: T.log2(a), pos(4)),
    C("log10", lambda T, a: T.log10(a), pos(2, 3)),
    C("exp2", lambda T, a: a.exp2(), S),
    C("exp2_fn", lambda T, a: T.exp2(a), S),
    C("expm1", lambda T, a: T.expm1(a), S),
    C("floor", lambda T, a: a.floor() * a, halves(2, 3)),
    C("ceil", lambda T, a: T.ceil(a) * a, halves(2, 3)),
    C("round", lambda T, a: a.round() * a, halves(2, 3)),
    C("round_decimals", lambda T, a: T.round(a, decimals=1) * a, halves(2, 3)),
    C("round_decimals_neg", lambda T, a: a.round(decimals=-1), halves(2, 3)),
    C("trunc", lambda T, a: a.trunc() * a, halves(2, 3)),
    C("fix", lambda T, a: T.fix(a), halves(2, 3)),
    C("frac", lambda T, a: a.frac() * a, halves(2, 3)),
    C("frac_fn", lambda T, a: T.frac(a), halves(2, 3)),
    C("cosh", lambda T, a: a.cosh(), S),
    C("sinh", lambda T, a: T.sinh(a), S),
    C("tan", lambda T, a: a.tan(), unit(2, 3)),
    C("asin", lambda T, a: a.asin(), unit(2, 3)),
    C("arcsin", lambda T, a: T.arcsin(a), unit(3)),
    C("acos", lambda T, a: T.acos(a), unit(2, 3)),
    C("arccos", lambda T, a: a.arccos(), unit(3)),
    C("atan", lambda T, a: a.atan(), S),
    C("arctan", lambda T, a: T.arctan(a), S),
    C("rsqrt", lambda T, a: a.rsqrt(), pos(2, 3)),
    C("rsqrt_fn", lambda T, a: T.rsqrt(a), pos(3)),
    C("atan2", lambda T, a, b: T.atan2(a, b), (2, 3), (3,)),
    C("atan2_method", lambda T, a, b: a.atan2(b), (3, 1), (2,)),
    C("arctan2", lambda T, a, b: T.arctan2(a, b), S, S),
    C("arctan2_method", lambda T, a, b: a.arctan2(b), S, S),
    C("hypot", lambda T, a, b: T.hypot(a, b), (2, 3), (3,)),
    C("hypot_method", lambda T, a, b: a.hypot(b), S, S),
    C("atan2_nograd_other", lambda T, a, b: T.atan2(a, b), S, S, grad=(0,)),
]

INPLACE = [
    C(name + "_", lambda T, a, name=name: getattr(a * 1, name + "_")(), make)
    for name, make in [("log2", pos(2, 3)), ("log10", pos(2, 3)), ("exp2", S), ("expm1", S),
                       ("floor", halves(2, 3)), ("ceil", halves(2, 3)), ("round", halves(2, 3)),
                       ("trunc", halves(2, 3)), ("fix", halves(2, 3)), ("frac", halves(2, 3)),
                       ("cosh", S), ("sinh", S), ("tan", unit(2, 3)), ("asin", unit(2, 3)),
                       ("arcsin", unit(2, 3)), ("acos", unit(2, 3)), ("arccos", unit(2, 3)),
                       ("atan", S), ("arctan", S), ("rsqrt", pos(2, 3))]
] + [
    C("round_decimals_", lambda T, a: (a * 1).round_(decimals=2), halves(2, 3)),
    C("atan2_", lambda T, a, b: (a * 1).atan2_(b), S, (3,)),
    C("arctan2_", lambda T, a, b: (a * 1).arctan2_(b), S, S),
    C("hypot_", lambda T, a, b: (a * 1).hypot_(b), S, (3,)),
]

ALL = POINTWISE + INPLACE
assert len({c.id for c in ALL}) == len(ALL)


def _params(cases):
    return [pytest.param(c, dt, id=f"{c.id}-{dt}", marks=c.marks)
            for c in cases for dt in ("float32", "float64")]


@pytest.mark.parametrize("case,dtype", _params(ALL))
def test_op(case, dtype):
    check_op(case.fn, case.arrays(), dtype, **case.options)
