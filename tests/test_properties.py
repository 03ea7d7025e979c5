"""Hypothesis: binary ops on random broadcastable shapes, and random op chains, against PyTorch
(values and gradients) and against central differences in float64."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

from hypothesis import assume, given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import gradlab  # noqa: E402
from helpers import assert_same, pair  # noqa: E402

SETTINGS = settings(max_examples=60, deadline=None, database=None)

BINARY = {
    "add": lambda T, a, b: a + b, "sub": lambda T, a, b: a - b, "mul": lambda T, a, b: a * b,
    "div": lambda T, a, b: a / (b.abs() + 0.5), "maximum": lambda T, a, b: T.maximum(a, b),
    "minimum": lambda T, a, b: T.minimum(a, b), "pow": lambda T, a, b: (a.abs() + 0.5) ** b,
    "where": lambda T, a, b: T.where(a > b, a, b), "add_alpha": lambda T, a, b: a.add(b, alpha=-2),
    "rsub": lambda T, a, b: T.rsub(a, b), "tanh_sigmoid": lambda T, a, b: (a * b).tanh() + a.sigmoid(),
}

finite = st.floats(-3, 3, allow_nan=False, width=32)


@st.composite
def broadcast_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
    a = draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=finite))
    b = draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=finite))
    return a, b


@SETTINGS
@given(op=st.sampled_from(sorted(BINARY)), arrays=broadcast_pair(),
       dtype=st.sampled_from(["float32", "float64"]))
def test_binary_broadcasting_matches_torch(op, arrays, dtype):
    a, b = arrays
    if op in ("maximum", "minimum", "where"):
        b = b + 0.01  # no ties: PyTorch's tie rule is tested in test_ops
    fn = BINARY[op]
    (ga, ta), (gb, tb) = pair(a, dtype, True), pair(b, dtype, True)
    g_out, t_out = fn(gradlab, ga, gb), fn(torch, ta, tb)
    assert_same(g_out, t_out)
    w = np.random.default_rng(0).standard_normal(t_out.shape)
    g_out.backward(gradlab.tensor(w, dtype=g_out.dtype))
    t_out.backward(torch.tensor(w, dtype=t_out.dtype))
    assert_same(ga.grad, ta.grad, what="grad a")
    assert_same(gb.grad, tb.grad, what="grad b")


@SETTINGS
@given(op=st.sampled_from(["add", "mul", "sub"]), shape=hnp.array_shapes(max_dims=3, max_side=3),
       scalar=st.one_of(st.integers(-3, 3), st.floats(-2, 2, allow_nan=False)),
       dtype=st.sampled_from(["float32", "float64"]))
def test_tensor_scalar_ops_match_torch(op, shape, scalar, dtype):
    fn = BINARY[op]
    a = np.random.default_rng(1).standard_normal(shape)
    g, t = pair(a, dtype, True)
    for g_out, t_out in [(fn(gradlab, g, scalar), fn(torch, t, scalar)),
                         (fn(gradlab, scalar, g) if op != "sub" else scalar - g,
                          fn(torch, scalar, t) if op != "sub" else scalar - t)]:
        assert_same(g_out, t_out)
        assert sorted(n for n in dir(g_out.grad_fn) if n.startswith("_saved_")) == \
            sorted(n for n in dir(t_out.grad_fn) if n.startswith("_saved_"))


# ---- random programs --------------------------------------------------------------------------

GAPS = []  # how close the running program came to a kink (relu, abs, clamp, amax, maximum)


def kink(x, distance):
    """``x``, noting ``distance(values)``: how far its values are from the op's kink."""
    values = np.asarray(x.detach().tolist(), dtype=np.float64)
    if values.size:
        GAPS.append(float(np.min(np.abs(distance(values)))))
    return x


def _top_two_gap(v):
    return np.diff(np.sort(v, -1)[..., -2:], axis=-1) if v.ndim and v.shape[-1] > 1 else 1.0


UNARY = [
    lambda T, x: x.tanh(), lambda T, x: x.sigmoid(), lambda T, x: x.exp() * 0.1,
    lambda T, x: (x * x + 1).log(), lambda T, x: (kink(x, lambda v: v).abs() + 1).sqrt(),
    lambda T, x: x.sin(), lambda T, x: kink(x, lambda v: v).relu() + x * 0.1,
    lambda T, x: x ** 2, lambda T, x: -x, lambda T, x: x.cos(),
    lambda T, x: kink(x, lambda v: np.abs(v) - 1).clamp(-1.0, 1.0) + x * 0.5,
    lambda T, x: T.softmax(x, -1),
    lambda T, x: x.log_softmax(0) if x.dim() else x, lambda T, x: x / (x * x + 1),
]
SHAPE = [
    lambda T, x: x.t() if x.dim() == 2 else x, lambda T, x: x.reshape(-1),
    lambda T, x: x.unsqueeze(0), lambda T, x: x.transpose(0, -1) if x.dim() else x,
    lambda T, x: x[..., ::2] if x.dim() else x, lambda T, x: x[0] if x.dim() and x.shape[0] else x,
    lambda T, x: T.cat([x, x * 2], 0) if x.dim() else x, lambda T, x: T.stack([x, x.exp()], -1),
    lambda T, x: x.expand(2, *x.shape), lambda T, x: x.squeeze() + 0 * x.sum(),
]
REDUCE = [
    lambda T, x: x.sum(-1, keepdim=True) if x.dim() else x, lambda T, x: x.mean(0) if x.dim() else x,
    lambda T, x: kink(x, _top_two_gap).amax(-1) if x.dim() else x,
    lambda T, x: x.norm() + x * 0,
    lambda T, x: x.logsumexp(0) if x.dim() else x, lambda T, x: x.prod(-1) if x.dim() else x,
    lambda T, x: x.var(0) if x.dim() and x.shape[0] > 1 else x,
]
BINARY_SELF = [
    lambda T, x, y: x + y, lambda T, x, y: x * y, lambda T, x, y: x - y * 0.5,
    lambda T, x, y: T.maximum(kink(x, lambda v: v - np.asarray(y.detach().tolist()) - 0.001),
                              y + 0.001),
]
GROUPS = [UNARY, SHAPE, REDUCE]


@st.composite
def program(draw):
    """A list of steps: ("u", group, index) applies a one-input op, ("b", index, back) combines
    the current value with an earlier one of the same shape, if any."""
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            group = draw(st.integers(0, len(GROUPS) - 1))
            steps.append(("u", group, draw(st.integers(0, len(GROUPS[group]) - 1))))
        else:
            steps.append(("b", draw(st.integers(0, len(BINARY_SELF) - 1)), draw(st.integers(0, 5))))
    return steps


def run(lib, steps, x):
    values = [x]
    cur = x
    for kind, a, b in steps:
        if kind == "u":
            cur = GROUPS[a][b](lib, cur)
        else:
            same = [v for v in values if tuple(v.shape) == tuple(cur.shape)]
            cur = BINARY_SELF[a](lib, cur, same[b % len(same)])
        values.append(cur)
    return cur.sum() if cur.dim() else cur


@st.composite
def start(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2, allow_nan=False,
                                                                 width=32)))


def _no_ties(a):
    """Spread the values so that max/abs/relu kinks are not hit by chance."""
    flat = a.reshape(-1).copy()
    flat += np.arange(flat.size) * 1e-3 + 1e-3
    return flat.reshape(a.shape)


@SETTINGS
@given(steps=program(), a=start(), dtype=st.sampled_from(["float32", "float64"]))
def test_random_programs_match_torch(steps, a, dtype):
    a = _no_ties(a)
    g, t = pair(a, dtype, True)
    g_out, t_out = run(gradlab, steps, g), run(torch, steps, t)
    assert_same(g_out, t_out, rtol=1e-3 if dtype == "float32" else None,
                atol=1e-4 if dtype == "float32" else None)
    g_out.backward()
    t_out.backward()
    assert_same(g.grad, t.grad, rtol=1e-3 if dtype == "float32" else None,
                atol=1e-4 if dtype == "float32" else None, what="grad")


@SETTINGS
@given(steps=program(), a=start())
def test_random_programs_match_numerical_gradients(steps, a):
    """Away from kinks: finite differences 1e-6 wide are meaningless within 1e-6 of one (the
    program x + x, tanh three times, maximum(., x + 0.001) at x = 0.001 comes 1e-9 close)."""
    a = _no_ties(a)
    x = gradlab.tensor(a, dtype=gradlab.float64, requires_grad=True)
    GAPS.clear()
    out = run(gradlab, steps, x)
    assume(min(GAPS, default=1.0) > 1e-4)
    (grad,) = gradlab.autograd.grad(out, x, allow_unused=True)
    analytical = np.zeros_like(a) if grad is None else np.array(grad._array)
    numerical = np.zeros_like(a).reshape(-1)
    eps = 1e-6
    for i in range(a.size):
        d = np.zeros(a.size)
        d[i] = eps
        hi = run(gradlab, steps, gradlab.tensor(a + d.reshape(a.shape), dtype=gradlab.float64))
        lo = run(gradlab, steps, gradlab.tensor(a - d.reshape(a.shape), dtype=gradlab.float64))
        numerical[i] = (hi.item() - lo.item()) / (2 * eps)
    np.testing.assert_allclose(analytical.reshape(-1), numerical, rtol=1e-4, atol=1e-5)


def test_program_generator_covers_every_op():
    ops = {(g, i) for g in range(len(GROUPS)) for i in range(len(GROUPS[g]))}
    x = gradlab.tensor(_no_ties(np.zeros((2, 3))), requires_grad=True)
    for g, i in sorted(ops):
        out = run(gradlab, [("u", g, i)], x)
        assert out.requires_grad
