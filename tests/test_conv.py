"""Convolution, pooling and padding against PyTorch: values, grad_fn graphs and saved attributes,
first to third derivatives, forward mode, modules (init, reprs), error texts; Hypothesis over
shapes, strides, padding, dilation and groups."""
import subprocess
import sys
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


# ---- errors -------------------------------------------------------------------------------------

X, WT = (1, 2, 6, 6), (3, 2, 2, 4)
ERRORS = {
    "same_strided": lambda T, x, w: F(T).conv2d(x, w, padding="same", stride=2),
    "bad_padding_string": lambda T, x, w: F(T).conv2d(x, w, padding="foo"),
    "2d_input": lambda T, x, w: F(T).conv2d(x[0, 0], w),
    "channels": lambda T, x, w: F(T).conv2d(x, w[:, :1]),
    "weight_dtype": lambda T, x, w: F(T).conv2d(x, w.double()),
    "input_dtype": lambda T, x, w: F(T).conv2d(x.double(), w),
    "bias_dtype": lambda T, x, w: F(T).conv2d(x, w, T.zeros(3).double()),
    "kernel_too_big": lambda T, x, w: F(T).conv2d(x, T.zeros(3, 2, 7, 7)),
    "groups_divisible": lambda T, x, w: F(T).conv2d(x, w, groups=2),
    "groups_at_least": lambda T, x, w: F(T).conv2d(x, T.zeros(1, 1, 2, 2), groups=2),
    "bias_size": lambda T, x, w: F(T).conv2d(x, w, T.zeros(4)),
    "bias_2d": lambda T, x, w: F(T).conv2d(x, w, T.zeros(1, 3)),
    "stride_0": lambda T, x, w: F(T).conv2d(x, w, stride=0),
    "padding_negative": lambda T, x, w: F(T).conv2d(x, w, padding=-1),
    "dilation_0": lambda T, x, w: F(T).conv2d(x, w, dilation=0),
    "stride_3": lambda T, x, w: F(T).conv2d(x, w, stride=(1, 2, 3)),
    "weight_3d": lambda T, x, w: F(T).conv2d(x, w[0]),
    "groups_0": lambda T, x, w: F(T).conv2d(x, w, groups=0),
    "conv1d_4d": lambda T, x, w: F(T).conv1d(x, w),
    "empty_plane": lambda T, x, w: F(T).conv2d(T.zeros(1, 2, 0, 5), w),
    "empty_plane_padded": lambda T, x, w: F(T).conv2d(T.zeros(1, 2, 0, 5), w, padding=2),
    "kernel_0": lambda T, x, w: F(T).conv2d(x, T.zeros(3, 2, 3, 0)),
    "empty_batch": lambda T, x, w: F(T).conv2d(T.zeros(0, 2, 5, 5), w).shape,
    "max_pad": lambda T, x, w: F(T).max_pool2d(x, 3, padding=2),
    "max_too_small": lambda T, x, w: F(T).max_pool2d(x, 7),
    "max_1d_input": lambda T, x, w: F(T).max_pool2d(x[0, 0, 0], 2),
    "max_kernel_0": lambda T, x, w: F(T).max_pool2d(x, 0),
    "max_stride_0": lambda T, x, w: F(T).max_pool2d(x, 2, stride=0),
    "max_dilation_0": lambda T, x, w: F(T).max_pool2d(x, 2, dilation=0),
    "max_kernel_3": lambda T, x, w: F(T).max_pool2d(x, (2, 2, 2)),
    "max_stride_3": lambda T, x, w: F(T).max_pool2d(x, 2, stride=(1, 1, 1)),
    "max_padding_3": lambda T, x, w: F(T).max_pool2d(x, 2, padding=(1, 0, 0)),
    "max_dilation_3": lambda T, x, w: F(T).max_pool2d(x, 2, dilation=(1, 1, 1)),
    "max_pad_negative": lambda T, x, w: F(T).max_pool2d(x, 2, padding=-1),
    "max_no_channels": lambda T, x, w: F(T).max_pool2d(T.zeros(2, 0, 4, 4), 2),
    "avg_pad": lambda T, x, w: F(T).avg_pool2d(x, 3, padding=2),
    "avg_too_small": lambda T, x, w: F(T).avg_pool2d(x, 7),
    "avg_2d_input": lambda T, x, w: F(T).avg_pool2d(x[0, 0], 2),
    "avg_kernel_3": lambda T, x, w: F(T).avg_pool2d(x, (2, 2, 2)),
    "avg_divisor_0": lambda T, x, w: F(T).avg_pool2d(x, 3, 2, 1, True, False, 0),
    "adaptive_1d": lambda T, x, w: F(T).adaptive_avg_pool2d(x[0, 0, 0], 2),
    "adaptive_size_3": lambda T, x, w: F(T).adaptive_avg_pool2d(x, (2, 2, 2)),
    "adaptive_negative": lambda T, x, w: F(T).adaptive_avg_pool2d(x, -1),
    "adaptive_empty": lambda T, x, w: F(T).adaptive_avg_pool2d(T.zeros(1, 2, 0, 3), 2),
    "pad_odd": lambda T, x, w: F(T).pad(x, (1,)),
    "pad_too_long": lambda T, x, w: F(T).pad(x, (1, 1) * 5),
    "pad_crop_too_much": lambda T, x, w: F(T).pad(x, (-4, -4)),
    "max1d_4d": lambda T, x, w: F(T).max_pool1d(x, 2),
    "max1d_kernel_0": lambda T, x, w: F(T).max_pool1d(x[0], 0),
    "max1d_pad": lambda T, x, w: F(T).max_pool1d(x[0], 3, padding=2),
    "max1d_too_small_with_grad": lambda T, x, w: F(T).max_pool1d(x[0].requires_grad_(), 8),
    "avg1d_4d": lambda T, x, w: F(T).avg_pool1d(x, 2),
    "avg1d_pad": lambda T, x, w: F(T).avg_pool1d(x[0], 3, padding=2),
    "avg1d_too_small": lambda T, x, w: F(T).avg_pool1d(x[0], 8),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_texts(name):
    results = []
    for T in (gradlab, torch):
        x, w = T.ones(X), T.ones(WT)
        results.append(outcome(lambda: ERRORS[name](T, x, w)))
    assert results[0] == results[1]


def test_a_failed_conv_leaves_the_graph_and_grads_unchanged():
    x = gradlab.ones(1, 2, 5, 5, requires_grad=True)
    w = gradlab.ones(3, 2, 7, 7, requires_grad=True)
    with pytest.raises(RuntimeError):
        gradlab.conv2d(x, w)
    assert x.grad is None and w.grad is None and x._version == 0


def test_same_padding_with_an_even_kernel_warns_as_pytorch():
    """PyTorch warns once per process, so its text comes from a fresh one."""
    code = ("import warnings, torch\nwarnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2), "
            "padding='same')\nprint(w[0].message)")
    expected = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip()
    with pytest.warns(UserWarning) as record:
        F(gradlab).conv2d(gradlab.ones(1, 1, 4, 4), gradlab.ones(1, 1, 2, 2), padding="same")
    got = str(record[0].message)
    assert expected.startswith(got + " (Triggered internally at")


# ---- modules ------------------------------------------------------------------------------------

MODULES = [
    lambda nn: nn.Conv2d(1, 6, 5),
    lambda nn: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(2, 1), groups=2,
                         bias=False),
    lambda nn: nn.Conv2d(2, 3, 3, padding="same"),
    lambda nn: nn.Conv2d(2, 3, 3, padding="valid"),
    lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1),
    lambda nn: nn.Conv1d(4, 4, 2, groups=4, bias=False),
    lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, ceil_mode=True),
    lambda nn: nn.MaxPool1d(3, 2, return_indices=True),
    lambda nn: nn.AvgPool2d(2),
    lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda nn: nn.AvgPool1d(2),
    lambda nn: nn.AdaptiveAvgPool2d((5, 7)),
    lambda nn: nn.AdaptiveAvgPool2d(1),
    lambda nn: nn.Unflatten(1, (2, 5)),
]


@pytest.mark.parametrize("build", MODULES)
def test_module_repr_and_parameters_as_pytorch(build):
    g, t = both(lambda lib: build(lib.nn))
    assert repr(g) == repr(t)
    for (gn, gp), (tn, tp) in zip(g.named_parameters(), t.named_parameters(), strict=True):
        assert gn == tn
        np.testing.assert_array_equal(gp.detach().numpy(), tp.detach().numpy())


@pytest.mark.parametrize("build, shape", [
    (MODULES[0], (2, 1, 8, 8)), (MODULES[1], (2, 4, 7, 6)), (MODULES[2], (3, 2, 4, 5)),
    (MODULES[4], (2, 3, 9)), (MODULES[5], (4, 7)), (MODULES[7], (2, 3, 7, 6)),
    (MODULES[8], (2, 3, 9)), (MODULES[10], (1, 2, 6, 6)), (MODULES[11], (2, 6)),
    (MODULES[12], (2, 3, 9, 9)), (MODULES[13], (2, 3, 4, 4)), (MODULES[14], (3, 10, 2)),
])
def test_module_forward_and_backward_as_pytorch(build, shape):
    def run(lib):
        m = build(lib.nn)
        x = lib.randn(shape, requires_grad=True)
        out = m(x)
        out = out[0] if isinstance(out, tuple) else out
        out.pow(2).sum().backward()
        return out, x.grad, [p.grad for p in m.parameters()]
    (go, gx, gps), (to, tx, tps) = both(run)
    assert_same(go, to)
    assert_same(gx, tx, grad_fn=False)
    for a, b in zip(gps, tps, strict=True):
        assert_same(a, b, grad_fn=False)


def test_padding_modes_other_than_zeros_say_gradlab_lacks_them():
    conv = gradlab.nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")
    assert repr(conv) == repr(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(NotImplementedError, match="gradlab does not implement"):
        conv(gradlab.ones(1, 1, 4, 4))
    with pytest.raises(NotImplementedError, match="gradlab does not implement"):
        gradlab.nn.functional.pad(gradlab.ones(1, 1, 4, 4), (1, 1), mode="reflect")


class LeNet:
    """PyTorch's "Neural Networks" blitz LeNet, built with either library."""

    def __init__(self, lib):
        nn = lib.nn
        self.lib, self.F = lib, nn.functional
        self.layers = [nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5), nn.Linear(16 * 4 * 4, 120),
                       nn.Linear(120, 84), nn.Linear(84, 10)]

    def parameters(self):
        return [p for m in self.layers for p in m.parameters()]

    def __call__(self, x):
        c1, c2, f1, f2, f3 = self.layers
        x = self.F.max_pool2d(self.F.relu(c1(x)), (2, 2))
        x = self.F.max_pool2d(self.F.relu(c2(x)), 2)
        x = self.lib.flatten(x, 1)
        return f3(self.F.relu(f2(self.F.relu(f1(x)))))


def test_lenet_sgd_steps_as_pytorch():
    def train(lib):
        net = LeNet(lib)
        opt = lib.optim.SGD(net.parameters(), lr=0.05)
        x, y = lib.randn(8, 1, 28, 28), lib.randint(0, 10, (8,))
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, net.parameters()
    (gl, gp), (tl, tp) = both(train)
    np.testing.assert_allclose(gl, tl, rtol=1e-5)
    for a, b in zip(gp, tp, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-6)


# ---- forward mode -------------------------------------------------------------------------------

JVP_CASES = [
    (lambda T, x, w, b: F(T).conv2d(x, w, b, stride=2, padding=1, groups=2), X4, (6, 2, 3, 3),
     (6,)),
    (lambda T, x: F(T).max_pool2d(x, 3, 2, 1), X4),
    (lambda T, x: F(T).avg_pool2d(x, 3, 2, 1, ceil_mode=True), X4),
    (lambda T, x: F(T).adaptive_avg_pool2d(x, (3, 4)), X4),
    (lambda T, x: F(T).pad(x, (1, 2, -1, 0)), X4),
]


@pytest.mark.parametrize("case", range(len(JVP_CASES)))
def test_forward_mode_as_pytorch(case):
    fn, *shapes = JVP_CASES[case]
    rng = np.random.default_rng(case)
    primals = [rng.standard_normal(s) for s in shapes]
    tangents = [rng.standard_normal(s) for s in shapes]
    outs = []
    for T in (gradlab, torch):
        fw = T.autograd.forward_ad
        with fw.dual_level():
            duals = [fw.make_dual(pair(p, "float64")[T is torch], pair(t, "float64")[T is torch])
                     for p, t in zip(primals, tangents)]
            outs.append(fw.unpack_dual(fn(T, *duals)).tangent)
    assert_same(outs[0], outs[1], grad_fn=False)


# ---- properties ---------------------------------------------------------------------------------

@st.composite
def conv_setups(draw):
    d = draw(st.sampled_from([1, 2]))
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(d))
    size = tuple(max(1, dl * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4))
                 for k, dl, p in zip(kernel, dilation, padding))
    batch = draw(st.integers(1, 2))
    return d, groups, (batch, c_in) + size, (c_out, c_in // groups) + kernel, stride, padding, \
        dilation, draw(st.booleans())


@settings(max_examples=40, deadline=None)
@given(conv_setups())
def test_conv_matches_pytorch_over_shapes(setup):
    d, groups, xs, ws, stride, padding, dilation, bias = setup
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)] + \
        ([rng.standard_normal(ws[0])] if bias else [])
    conv = "conv1d" if d == 1 else "conv2d"
    check_op(lambda T, x, w, *b: getattr(F(T), conv)(
        x, w, b[0] if b else None, stride, padding, dilation, groups), arrays, "float64",
        order=2)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2), st.booleans(),
       st.booleans(), st.integers(0, 4), st.integers(0, 4))
def test_pooling_matches_pytorch_over_shapes(k, s, p, dl, ceil, cip, extra_h, extra_w):
    p = min(p, k // 2)
    h, w = dl * (k - 1) + 1 + extra_h, dl * (k - 1) + 1 + extra_w
    x = np.random.default_rng(k * 7 + s).permutation(2 * 3 * h * w).reshape(2, 3, h, w) * 0.1
    check_op(lambda T, x: F(T).max_pool2d(x, k, s, p, dl, ceil), [x], "float64", order=2)
    check_op(lambda T, x: F(T).avg_pool2d(x, k, s, p, ceil, cip), [x], "float64", order=2)
    check_op(lambda T, x: F(T).adaptive_avg_pool2d(x, (k + extra_h, s)), [x], "float64",
             order=2)


def test_two_convolutions_given_one_gradient_object_keep_their_own_gradients():
    """y1 + y2 hands both ConvolutionBackward0 nodes the same gradient: same shapes, other
    padding and dilation, so each must compute its own."""
    def run(T):
        x, w = T.ones(1, 1, 6, 6, requires_grad=True), T.arange(9.).view(1, 1, 3, 3)
        w.requires_grad_()
        (F(T).conv2d(x, w) + F(T).conv2d(x, w, padding=1, dilation=2)).sum().backward()
        return x.grad, w.grad
    for a, b in zip(run(gradlab), run(torch)):
        assert_same(a, b, grad_fn=False)


def test_forward_mode_over_convolution_backward_as_pytorch():
    """The tangent of a first derivative (forward over reverse): convolution_backward's own
    forward derivative."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in (X4, (6, 2, 3, 3), (6,), (2, 6, 4, 6))]
    tangents = [rng.standard_normal(a.shape) for a in arrays[:3]]
    outs = []
    for T in (gradlab, torch):
        fw = T.autograd.forward_ad
        x, w, b, gy = (pair(a, "float64")[T is torch] for a in arrays)
        with fw.dual_level():
            duals = [fw.make_dual(p.requires_grad_(), pair(t, "float64")[T is torch])
                     for p, t in zip((x, w, b), tangents)]
            y = F(T).conv2d(*duals, stride=(2, 1), padding=1, groups=2)
            grads = T.autograd.grad(y, duals, gy, create_graph=True)
            outs.append([fw.unpack_dual(g).tangent for g in grads])
    assert outs[1][2] is None and outs[0][2] is None  # grad_bias: gy has no tangent
    for a, b in zip(outs[0][:2], outs[1][:2]):
        assert_same(a, b, grad_fn=False)
