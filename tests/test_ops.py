"""Every differentiable op against PyTorch: values, grad_fn graphs, saved attributes, and
first to third derivatives; then non-differentiable ops and the error texts of bad calls."""
import math
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import assert_graph_same, assert_same, check_op, pair  # noqa: E402

INF = float("inf")


def pos(*shape):
    """Positive values away from 0 (for log, sqrt, pow with a tensor exponent)."""
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def distinct(*shape):
    """Values with no ties and none near 0 (for max/min/relu/abs/clamp)."""
    def make(rng):
        n = int(np.prod(shape))
        v = (rng.permutation(n) - n / 2 + 0.5) * 0.37
        return v.reshape(shape)
    return make


def ints(values):
    return lambda rng: np.array(values, dtype=np.int64)


def well_conditioned(*shape):
    """Matrices (the last two dims of ``shape``, square) far from singular."""
    return lambda rng: rng.standard_normal(shape + shape[-1:]) + 3 * np.eye(shape[-1])


def mask(*shape):
    return lambda rng: rng.standard_normal(shape) > 0


class Case:
    def __init__(self, id, fn, *inputs, marks=(), **options):
        self.id, self.fn, self.inputs, self.marks, self.options = id, fn, inputs, marks, options

    def arrays(self):
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        return [np.asarray(i(rng)) if callable(i) else
                rng.standard_normal(i) if isinstance(i, tuple) else np.asarray(i)
                for i in self.inputs]


C = Case
S = (2, 3)

NON_FINITE = [[1.5, np.nan, np.inf], [-np.inf, -0.0, -2.5]]
NAN_SOME = [[1.5, np.nan, 2.0], [-0.5, 3.0, np.nan]]
ELEMENTWISE = [
    C("add", lambda T, a, b: T.add(a, b), (2, 3), (3,)),
    C("add_scalar", lambda T, a: a + 2, S),
    C("radd_scalar", lambda T, a: 2.5 + a, S),
    C("add_alpha", lambda T, a, b: T.add(a, b, alpha=2), (2, 3), (2, 1)),
    C("add_same", lambda T, a: a + a, S),
    C("add_0dim", lambda T, a, b: a + b, (4,), ()),
    C("sub", lambda T, a, b: T.sub(a, b), (3, 1), (1, 4)),
    C("sub_alpha", lambda T, a, b: a.sub(b, alpha=-1.5), S, S),
    C("sub_scalar", lambda T, a: a - 2, S),
    C("rsub_scalar", lambda T, a: 2 - a, S),
    C("rsub_tensor", lambda T, a, b: T.rsub(a, b), S, S),
    C("mul", lambda T, a, b: a * b, (4, 1, 3), (2, 1)),
    C("mul_scalar", lambda T, a: a * 3, S),
    C("rmul_scalar", lambda T, a: 3.5 * a, S),
    C("mul_same", lambda T, a: a * a, S),
    C("mul_nograd_other", lambda T, a, b: a * b, S, S, grad=(0,)),
    C("div", lambda T, a, b: a / b, (2, 3), pos(3)),
    C("div_scalar", lambda T, a: a / 4, S),
    C("rdiv_scalar", lambda T, a: 2 / a, pos(2, 3)),
    C("div_fn", lambda T, a, b: T.div(a, b), pos(3, 1), pos(3, 2)),
    C("div_floor", lambda T, a, b: a.div(b, rounding_mode="floor"), (2, 3), pos(3)),
    C("div_trunc_scalar", lambda T, a: T.div(a, 1.5, rounding_mode="trunc"), S),
    C("rdiv_floor", lambda T, a: T.div(2.5, a, rounding_mode="floor"), pos(2, 3)),
    C("remainder", lambda T, a, b: T.remainder(a, b), (2, 3), pos(3)),
    C("remainder_scalar", lambda T, a: a % 1.5, S),
    C("fmod", lambda T, a, b: a.fmod(b), (2, 3), (2, 1)),
    C("fmod_scalar", lambda T, a: T.fmod(a, -1.25), S),
    C("pow_2", lambda T, a: a ** 2, S),
    C("pow_3", lambda T, a: a.pow(3), S),
    C("pow_float", lambda T, a: a ** 2.5, pos(2, 3)),
    C("pow_0", lambda T, a: a ** 0, S),
    C("pow_neg", lambda T, a: a ** -1, pos(2, 3)),
    C("pow_tensor", lambda T, a, b: a ** b, pos(2, 3), (3,)),
    C("pow_tensor_fn", lambda T, a, b: T.pow(a, b), pos(3), pos(2, 3)),
    C("rpow", lambda T, a: 2 ** a, S),
    C("pow_scalar_base_fn", lambda T, a: T.pow(1.5, a), S),
    C("neg", lambda T, a: -a, S),
    C("neg_fn", lambda T, a: T.neg(a), S),
    C("abs", lambda T, a: a.abs(), distinct(2, 3)),
    C("exp", lambda T, a: a.exp(), S),
    C("log", lambda T, a: a.log(), pos(2, 3)),
    C("log1p", lambda T, a: T.log1p(a), pos(2, 3)),
    C("sqrt", lambda T, a: a.sqrt(), pos(2, 3)),
    C("sin", lambda T, a: a.sin(), S),
    C("cos", lambda T, a: T.cos(a), S),
    C("tanh", lambda T, a: a.tanh(), S),
    C("sigmoid", lambda T, a: T.sigmoid(a), S),
    C("relu", lambda T, a: a.relu(), distinct(2, 3)),
    C("relu_fn", lambda T, a: T.relu(a), distinct(4)),
    C("reciprocal", lambda T, a: a.reciprocal(), pos(2, 3)),
    C("square", lambda T, a: a.square(), S),
    C("clamp", lambda T, a: a.clamp(-0.5, 0.5), distinct(3, 4)),
    C("clamp_min", lambda T, a: a.clamp(min=0.1), distinct(3, 4)),
    C("clamp_max", lambda T, a: T.clamp(a, max=0.1), distinct(3, 4)),
    C("clamp_min_fn", lambda T, a: T.clamp_min(a, 0.2), distinct(3, 4)),
    C("clamp_max_fn", lambda T, a: T.clamp_max(a, 0.2), distinct(3, 4)),
    C("clip", lambda T, a: a.clip(-1, 1), distinct(3, 4)),
    C("clamp_tensor", lambda T, a, lo, hi: a.clamp(lo, hi), distinct(3, 4),
      lambda rng: np.full(4, -0.6), lambda rng: np.full((3, 1), 0.6)),
    C("clamp_tensor_min", lambda T, a, lo: a.clamp(min=lo), distinct(3, 4), (4,)),
    C("clamp_tensor_max", lambda T, a, hi: T.clamp(a, max=hi), distinct(3, 4), (3, 4)),
    C("maximum", lambda T, a, b: T.maximum(a, b), distinct(2, 3), distinct(3)),
    C("lerp_scalar", lambda T, a, b: T.lerp(a, b, 0.3), (2, 3), (3,)),
    C("lerp_scalar_big", lambda T, a, b: a.lerp(b, 0.75), S, S),
    C("lerp_tensor", lambda T, a, b, w: T.lerp(a, b, w), (2, 3), S, (3,)),
    C("addcmul", lambda T, a, b, c: T.addcmul(a, b, c, value=0.5), (3,), (2, 3), (2, 1)),
    C("addcmul_method", lambda T, a, b, c: a.addcmul(b, c), S, S, S),
    C("addcdiv", lambda T, a, b, c: T.addcdiv(a, b, c, value=-2), (2, 3), (3,), pos(2, 3)),
    C("addcdiv_method", lambda T, a, b, c: a.addcdiv(b, c), S, S, pos(2, 3)),
    C("minimum", lambda T, a, b: a.minimum(b), distinct(2, 3), distinct(2, 3)),
    C("maximum_ties", lambda T, a, b: T.maximum(a, b), [1.0, 2.0, 3.0], [1.0, 0.0, 3.0]),
    C("minimum_ties", lambda T, a, b: T.minimum(a, b), [1.0, 2.0, 3.0], [1.0, 0.0, 3.0]),
    C("max_binary", lambda T, a, b: T.max(a, b), distinct(2, 3), distinct(2, 3)),
    C("where", lambda T, c, a, b: T.where(c, a, b), mask(2, 3), (2, 3), (3,)),
    C("where_scalar", lambda T, c, a: T.where(c, a, 0.0), mask(2, 3), (2, 3)),
    C("where_method", lambda T, a, b: a.where(a > 0, b), distinct(2, 3), (2, 3)),
    C("masked_fill", lambda T, a, m: a.masked_fill(m, 1.5), (2, 3), mask(2, 3)),
    C("masked_fill_bcast", lambda T, a, m: a.masked_fill(m, -2.0), (2, 3), mask(3)),
    C("masked_scatter", lambda T, a, m, s: a.masked_scatter(m, s), (2, 3), mask(2, 3), (6,)),
    C("positive", lambda T, a: +T.positive(a), S),
    C("sgn", lambda T, a: T.sgn(a) * a, distinct(2, 3)),
    C("logit", lambda T, a: T.logit(a), lambda rng: rng.uniform(0.1, 0.9, S)),
    C("logit_eps", lambda T, a: a.logit(eps=0.2), lambda rng: rng.uniform(0.05, 0.95, S)),
    C("diff", lambda T, a: a.diff(), (2, 4)),
    C("diff_n_dim", lambda T, a: T.diff(a, n=2, dim=0), (4, 3)),
    C("diff_n_past_size", lambda T, a: a.diff(n=5), (3,)),
    C("diff_n_0", lambda T, a: a.diff(n=0), (3,)),
    C("diff_prepend_append", lambda T, a, b, c: a.diff(prepend=b, append=c), (2, 3), (2, 1),
      (2, 2)),
    C("fliplr", lambda T, a: a.fliplr(), (2, 3, 2)),
    C("flipud", lambda T, a: T.flipud(a), (3, 2)),
    C("nansum", lambda T, a: a.nansum(), NAN_SOME),
    C("nansum_dim", lambda T, a: T.nansum(a, 1), NAN_SOME),
    C("nansum_dims_keepdim", lambda T, a: a.nansum((0, 1), keepdim=True), NAN_SOME),
    C("nanmean", lambda T, a: a.nanmean(), NAN_SOME),
    C("nanmean_dim", lambda T, a: T.nanmean(a, dim=0, keepdim=True), NAN_SOME),
    C("logaddexp", lambda T, a, b: T.logaddexp(a, b), (2, 3), (3,)),
    C("logaddexp_method", lambda T, a, b: a.logaddexp(b * 30), S, S),
    C("erf", lambda T, a: T.erf(a), S),
    C("erfc", lambda T, a: a.erfc(), S),
    C("erf_", lambda T, a: a.clone().erf_(), S),
    C("erfc_", lambda T, a: a.clone().erfc_(), S),
    C("nan_to_num", lambda T, a: T.nan_to_num(a), NON_FINITE),
    C("nan_to_num_args", lambda T, a: a.nan_to_num(1.5, posinf=2, neginf=-3.0), NON_FINITE),
    # in-place spellings (the op on a clone: the leaf stays a leaf)
    C("nan_to_num_", lambda T, a: a.clone().nan_to_num_(-1.0), NON_FINITE),
    C("abs_", lambda T, a: a.clone().abs_(), distinct(2, 3)),
    C("absolute_", lambda T, a: a.clone().absolute_(), distinct(2, 3)),
    C("negative_", lambda T, a: a.clone().negative_(), S),
    C("square_", lambda T, a: a.clone().square_(), S),
    C("sign_", lambda T, a: a.clone().sign_(), distinct(2, 3)),
    C("sgn_", lambda T, a: a.clone().sgn_() * a, distinct(2, 3)),
    C("reciprocal_", lambda T, a: a.clone().reciprocal_(), pos(2, 3)),
    C("log_", lambda T, a: a.clone().log_(), pos(2, 3)),
    C("log1p_", lambda T, a: a.clone().log1p_(), pos(2, 3)),
    C("sin_", lambda T, a: a.clone().sin_(), S),
    C("cos_", lambda T, a: a.clone().cos_(), S),
    C("logit_", lambda T, a: a.clone().logit_(), lambda rng: rng.uniform(0.1, 0.9, S)),
    C("logit_eps_", lambda T, a: a.clone().logit_(eps=0.2), lambda rng: rng.uniform(0.05, 0.95, S)),
    C("clamp_min_", lambda T, a: a.clone().clamp_min_(0.1), distinct(2, 3)),
    C("clamp_max_", lambda T, a: a.clone().clamp_max_(0.1), distinct(2, 3)),
    C("remainder_", lambda T, a: a.clone().remainder_(0.7), distinct(2, 3)),
    C("fmod_", lambda T, a: a.clone().fmod_(0.7), distinct(2, 3)),
    C("cumsum_", lambda T, a: a.clone().cumsum_(1), S),
    C("cumprod_", lambda T, a: a.clone().cumprod_(0), S),
    C("subtract_", lambda T, a, b: a.clone().subtract_(b, alpha=2), (2, 3), (3,)),
    C("multiply_", lambda T, a, b: a.clone().multiply_(b), S, S),
    C("divide_", lambda T, a, b: a.clone().divide_(b), (2, 3), pos(3)),
    C("true_divide_", lambda T, a, b: a.clone().true_divide_(b), (2, 3), pos(3)),
    C("swapaxes", lambda T, a: a.swapaxes(0, 1) * a.swapdims(1, 0), (2, 3)),
    C("subtract", lambda T, a, b: a.subtract(b, alpha=3), (2, 3), (3,)),
    C("clone", lambda T, a: a.clone(), S),
    C("clone_fn", lambda T, a: T.clone(a) * 2, S),
    C("to_double", lambda T, a: a.to(T.float64) * 1, S),
    C("to_float", lambda T, a: a.to(T.float32), S),
    C("double", lambda T, a: a.double(), S),
    C("float", lambda T, a: a.float(), S),
    C("to_same", lambda T, a: a.to(a.dtype) * 2, S),
    C("sum_mixed_dtype", lambda T, a, b: a + b.double(), S, S),
    C("int_plus_float", lambda T, i, a: i + a, ints([1, 2, 3]), (3,)),
    C("int_times_scalar_float", lambda T, i, a: (i * 1.5) * a, ints([1, 2, 3]), (3,)),
]

REDUCTION = [
    C("sum", lambda T, a: a.sum(), (2, 3)),
    C("sum_fn", lambda T, a: T.sum(a), (4,)),
    C("sum_dim", lambda T, a: a.sum(1), (2, 3, 4)),
    C("sum_neg_dim", lambda T, a: a.sum(-1), (2, 3, 4)),
    C("sum_dims", lambda T, a: a.sum((0, -1)), (2, 3, 4)),
    C("sum_keepdim", lambda T, a: a.sum(1, keepdim=True), (2, 3, 4)),
    C("sum_dims_keepdim", lambda T, a: T.sum(a, dim=[0, 2], keepdim=True), (2, 3, 4)),
    C("sum_0dim", lambda T, a: a.sum(), ()),
    C("mean", lambda T, a: a.mean(), (2, 3)),
    C("mean_dim", lambda T, a: a.mean(0), (2, 3)),
    C("mean_neg_keepdim", lambda T, a: T.mean(a, -1, keepdim=True), (2, 3, 4)),
    C("mean_dims", lambda T, a: a.mean((1, 2)), (2, 3, 4)),
    C("prod", lambda T, a: a.prod(), pos(2, 3)),
    C("prod_dim", lambda T, a: a.prod(1), (2, 3)),
    C("prod_neg_keepdim", lambda T, a: a.prod(-1, keepdim=True), (2, 3)),
    C("prod_zero", lambda T, a: a.prod(), [[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]], graph_order=3),
    C("prod_two_zeros", lambda T, a: a.prod(), [[1.0, 0.0, 2.0], [3.0, 0.0, 5.0]], graph_order=3),
    C("prod_no_zero_graph", lambda T, a: a.prod(), pos(2, 3), graph_order=3),
    C("prod_dim_zero", lambda T, a: a.prod(1), [[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]], graph_order=3),
    C("prod_dim0_zeros_keepdim", lambda T, a: a.prod(0, keepdim=True),
      [[0.0, 0.0, 2.0], [3.0, 4.0, 0.0]], graph_order=3),
    C("prod_0dim", lambda T, a: a.prod(0), (), graph_order=3),
    C("prod_dim_size1_zero", lambda T, a: a.prod(1), [[0.0], [3.0]], graph_order=3),
    C("cumsum", lambda T, a: a.cumsum(1), (2, 3), graph_order=3),
    C("cumsum_fn_dtype", lambda T, a: T.cumsum(a, dim=-2, dtype=T.float64), (3, 2)),
    C("cumsum_0dim", lambda T, a: a.cumsum(0), ()),
    C("cumprod", lambda T, a: a.cumprod(1), pos(2, 3), graph_order=3),
    C("cumprod_zero", lambda T, a: T.cumprod(a, -1), [[1.0, 0.0, 2.0, 3.0], [3.0, 4.0, 5.0, 0.5]],
      graph_order=3),
    C("cumprod_zeros_dim0", lambda T, a: a.cumprod(0), [[0.0, 2.0], [0.0, 3.0], [4.0, 0.5]],
      graph_order=3),
    C("max", lambda T, a: a.max(), distinct(2, 3)),
    C("min", lambda T, a: T.min(a), distinct(2, 3)),
    C("max_ties", lambda T, a: a.max(), [1.0, 3.0, 3.0, 0.0]),
    C("cummax", lambda T, a: a.cummax(1), [[1.0, 3.0, 2.5, 2.0, 5.0], [0.0, -1.0, 0.5, 4.0, 3.0]]),
    C("cummax_ties", lambda T, a: a.cummax(1), [[1.0, 3.0, 3.0, 2.0], [0.0, -1.0, 0.0, 0.0]]),
    C("cummin_fn", lambda T, a: T.cummin(a, dim=0), [[1.0, 3.0], [1.5, -1.0], [0.5, 2.0]]),
    C("cummax_nan", lambda T, a: a.cummax(-1).values, [[1.0, np.nan, 2.0, np.nan, 0.0]]),
    C("cummin_0dim", lambda T, a: a.cummin(0), ()),
    C("max_dim", lambda T, a: a.max(1), distinct(2, 3, 4)),
    C("max_neg_dim_keepdim", lambda T, a: T.max(a, -1, keepdim=True), distinct(2, 3)),
    C("min_dim", lambda T, a: a.min(0), distinct(3, 2)),
    C("min_dim_values", lambda T, a: a.min(dim=-1).values * 2, distinct(3, 2)),
    C("amax", lambda T, a: a.amax(), distinct(2, 3)),
    C("amax_dim", lambda T, a: a.amax(-1), distinct(2, 3)),
    C("amax_dims_keepdim", lambda T, a: T.amax(a, (0, 2), keepdim=True), distinct(2, 3, 2)),
    C("amax_ties", lambda T, a: a.amax(1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
    C("amin", lambda T, a: a.amin(0), distinct(2, 3)),
    C("amin_fn", lambda T, a: T.amin(a, dim=1, keepdim=True), distinct(2, 3)),
    C("norm", lambda T, a: a.norm(), (2, 3)),
    C("norm_fn", lambda T, a: T.norm(a), (4,)),
    C("norm_1", lambda T, a: a.norm(1), distinct(2, 3)),
    C("norm_inf", lambda T, a: a.norm(INF), distinct(2, 3)),
    C("norm_3", lambda T, a: a.norm(3), distinct(2, 3)),
    C("norm_dim", lambda T, a: a.norm(dim=-1), (2, 3)),
    C("norm_p_dim_keepdim", lambda T, a: a.norm(2, 0, True), (2, 3)),
    C("var", lambda T, a: a.var(), (2, 3)),
    C("var_dim", lambda T, a: a.var(1), (2, 3)),
    C("var_neg_keepdim", lambda T, a: T.var(a, -1, keepdim=True), (2, 3)),
    C("var_correction0", lambda T, a: a.var(correction=0), (2, 3)),
    C("var_unbiased_false", lambda T, a: a.var(unbiased=False), (2, 3)),
    C("var_dim_correction", lambda T, a: a.var(dim=(0, 1), correction=2), (2, 3)),
    C("std", lambda T, a: a.std(), (2, 3)),
    C("std_dim", lambda T, a: a.std(0), (2, 3)),
    C("std_fn_keepdim", lambda T, a: T.std(a, dim=1, keepdim=True), (2, 3)),
    C("std_correction0", lambda T, a: a.std(correction=0), (2, 3)),
    C("softmax", lambda T, a: a.softmax(-1), (2, 3)),
    C("softmax_fn", lambda T, a: T.softmax(a, dim=0), (2, 3)),
    C("log_softmax", lambda T, a: a.log_softmax(1), (2, 3)),
    C("log_softmax_fn", lambda T, a: T.log_softmax(a, dim=-1), (4,)),
    C("logsumexp", lambda T, a: a.logsumexp(1), (2, 3)),
    C("logsumexp_fn_keepdim", lambda T, a: T.logsumexp(a, (0, 1), keepdim=True), (2, 3)),
    C("logsumexp_neg", lambda T, a: a.logsumexp(-1), (2, 3, 2)),
]

LINALG = [
    C("mm", lambda T, a, b: a.mm(b), (2, 3), (3, 4)),
    C("mm_fn", lambda T, a, b: T.mm(a, b), (2, 3), (3, 4)),
    C("mm_one_grad", lambda T, a, b: T.mm(a, b), (2, 3), (3, 4), grad=(1,)),
    C("mm_transposed", lambda T, a, b: a.t().mm(b), (3, 2), (3, 4)),
    C("mv", lambda T, a, b: a.mv(b), (2, 3), (3,)),
    C("mv_fn", lambda T, a, b: T.mv(a, b), (2, 3), (3,)),
    C("dot", lambda T, a, b: a.dot(b), (3,), (3,)),
    C("dot_fn", lambda T, a, b: T.dot(a, b), (3,), (3,)),
    C("matmul_1_1", lambda T, a, b: a @ b, (3,), (3,)),
    C("matmul_2_1", lambda T, a, b: a @ b, (2, 3), (3,)),
    C("matmul_1_2", lambda T, a, b: a @ b, (3,), (3, 4)),
    C("matmul_2_2", lambda T, a, b: T.matmul(a, b), (2, 3), (3, 4)),
    C("matmul_3_1", lambda T, a, b: a @ b, (2, 2, 3), (3,)),
    C("matmul_3_2", lambda T, a, b: a.matmul(b), (2, 2, 3), (3, 4)),
    C("matmul_1_3", lambda T, a, b: a @ b, (3,), (2, 3, 4)),
    C("matmul_2_3", lambda T, a, b: a @ b, (2, 3), (5, 3, 4)),
    C("matmul_3_3", lambda T, a, b: a @ b, (2, 2, 3), (2, 3, 4)),
    C("matmul_bcast", lambda T, a, b: a @ b, (2, 1, 2, 3), (5, 3, 4)),
    C("matmul_4_1", lambda T, a, b: a @ b, (2, 1, 2, 3), (3,)),
    C("bmm", lambda T, a, b: a.bmm(b), (2, 2, 3), (2, 3, 4)),
    C("bmm_fn", lambda T, a, b: T.bmm(a, b), (2, 2, 3), (2, 3, 4)),
    C("addmm", lambda T, c, a, b: T.addmm(c, a, b), (2, 4), (2, 3), (3, 4)),
    C("addmm_bcast", lambda T, c, a, b: T.addmm(c, a, b), (4,), (2, 3), (3, 4)),
    C("addmm_alpha_beta", lambda T, c, a, b: c.addmm(a, b, beta=0.5, alpha=-2),
      (2, 4), (2, 3), (3, 4)),
    C("addmm_one_grad", lambda T, c, a, b: T.addmm(c, a, b), (2, 4), (2, 3), (3, 4), grad=(1,)),
    C("outer", lambda T, a, b: T.outer(a, b), (3,), (4,)),
    C("outer_method", lambda T, a, b: a.outer(b), (3,), (4,)),
    C("linalg_matmul", lambda T, a, b: T.linalg.matmul(a, b), (2, 3), (3, 4)),
    C("linalg_vector_norm", lambda T, a: T.linalg.vector_norm(a), (2, 3)),
    C("linalg_vector_norm_ord_dim", lambda T, a: T.linalg.vector_norm(a, 3, (0, -1), True),
      distinct(2, 3, 2)),
    C("linalg_vector_norm_1", lambda T, a: T.linalg.vector_norm(a, ord=1, dim=1), distinct(2, 3)),
    C("linalg_vector_norm_inf", lambda T, a: T.linalg.vector_norm(a, INF), distinct(2, 3)),
    C("linalg_vector_norm_neg_inf", lambda T, a: T.linalg.vector_norm(a, -INF, 0), distinct(2, 3)),
    C("linalg_vector_norm_0", lambda T, a: T.linalg.vector_norm(a, 0) * a.sum(), distinct(2, 3)),
    C("linalg_norm", lambda T, a: T.linalg.norm(a), (2, 3)),
    C("linalg_norm_vector_ord", lambda T, a: T.linalg.norm(a, 3), distinct(4)),
    C("linalg_norm_dim", lambda T, a: T.linalg.norm(a, dim=1, keepdim=True), (2, 3)),
    C("linalg_norm_fro", lambda T, a: T.linalg.norm(a, "fro"), (2, 3)),
    C("linalg_matrix_norm", lambda T, a: T.linalg.matrix_norm(a), (2, 3, 4)),
    C("linalg_inv", lambda T, a: T.linalg.inv(a), lambda rng: rng.standard_normal((3, 3))
      + 3 * np.eye(3), graph_order=3),
    C("linalg_inv_batched", lambda T, a: T.linalg.inv(a), lambda rng: rng.standard_normal(
        (2, 2, 2)) + 2 * np.eye(2), graph_order=3),
    C("linalg_det", lambda T, a: T.linalg.det(a), well_conditioned(3), graph_order=3),
    C("det_noncontiguous", lambda T, a: T.det(a.t()), well_conditioned(3), graph_order=3),
    C("det_method_batched", lambda T, a: a.det(), well_conditioned(2, 3), graph_order=3),
    C("linalg_slogdet", lambda T, a: tuple(T.linalg.slogdet(a)), well_conditioned(3),
      graph_order=3),
    C("slogdet_logabsdet", lambda T, a: T.slogdet(a).logabsdet, well_conditioned(2, 2),
      graph_order=3),
    C("linalg_solve", lambda T, a, b: T.linalg.solve(a, b), well_conditioned(3), (3, 2),
      graph_order=3),
    C("linalg_solve_vector", lambda T, a, b: T.linalg.solve(a, b), well_conditioned(3), (3,),
      graph_order=3),
    C("linalg_solve_right", lambda T, a, b: T.linalg.solve(a, b, left=False),
      well_conditioned(3), (2, 3), graph_order=3),
    C("linalg_solve_broadcast", lambda T, a, b: T.linalg.solve(a, b), well_conditioned(3),
      (4, 3, 2), graph_order=3),
    C("linalg_solve_B_only", lambda T, a, b: T.linalg.solve(a, b), well_conditioned(2, 2),
      (2, 2, 1), grad=(1,), graph_order=3),
    C("diagonal", lambda T, a: a.diagonal(), (3, 4), graph_order=3),
    C("diagonal_offset_dims", lambda T, a: T.diagonal(a, 1, -1, 0), (2, 3, 4), graph_order=3),
    C("diag_embed", lambda T, a: T.diag_embed(a), (2, 3), graph_order=3),
    C("diag_embed_offset_dims", lambda T, a: a.diag_embed(-1, 0, 2), (2, 3), graph_order=3),
]

SHAPE = [
    C("reshape", lambda T, a: a.reshape(3, 2), S),
    C("reshape_infer", lambda T, a: T.reshape(a, (-1,)), S),
    C("reshape_copy", lambda T, a: a.t().reshape(6), S),
    C("view", lambda T, a: a.view(3, 2), S),
    C("view_infer", lambda T, a: a.view(-1, 1, 2), S),
    C("view_as", lambda T, a, b: a.view_as(b), S, (3, 2), grad=(0,)),
    C("flatten", lambda T, a: a.flatten(), (2, 3, 2)),
    C("flatten_range", lambda T, a: T.flatten(a, 1), (2, 3, 2)),
    C("flatten_noop", lambda T, a: a.flatten(1, 1) * 1, (2, 3)),
    C("unflatten", lambda T, a: a.unflatten(1, (2, 3)), (2, 6)),
    C("unflatten_neg", lambda T, a: a.unflatten(-1, (3, -1)), (2, 6)),
    C("squeeze", lambda T, a: a.squeeze(), (1, 3, 1)),
    C("squeeze_dim", lambda T, a: a.squeeze(0), (1, 3, 1)),
    C("squeeze_neg_dim", lambda T, a: T.squeeze(a, -1), (1, 3, 1)),
    C("squeeze_noop_dim", lambda T, a: a.squeeze(1), (1, 3, 1)),
    C("squeeze_dims", lambda T, a: a.squeeze((0, -1)), (1, 3, 1)),
    C("unsqueeze", lambda T, a: a.unsqueeze(0), S),
    C("unsqueeze_neg", lambda T, a: T.unsqueeze(a, -1), S),
    C("transpose", lambda T, a: a.transpose(0, 2), (2, 3, 4)),
    C("transpose_neg", lambda T, a: T.transpose(a, -1, -2), (2, 3, 4)),
    C("t", lambda T, a: a.t(), S),
    C("t_fn_1d", lambda T, a: T.t(a), (3,)),
    C("T", lambda T, a: a.T, S),
    C("mT", lambda T, a: a.mT, (2, 3, 4)),
    C("permute", lambda T, a: a.permute(2, 0, 1), (2, 3, 4)),
    C("permute_neg", lambda T, a: T.permute(a, (-1, 0, 1)), (2, 3, 4)),
    C("expand", lambda T, a: a.expand(2, 3, 4), (3, 1)),
    C("expand_minus1", lambda T, a: a.expand(2, -1, -1), (3, 1)),
    C("expand_as", lambda T, a, b: a.expand_as(b), (1, 4), (3, 4), grad=(0,)),
    C("cat", lambda T, a, b: T.cat([a, b]), (2, 3), (1, 3)),
    C("cat_dim", lambda T, a, b, c: T.cat((a, b, c), dim=-1), (2, 3), (2, 1), (2, 2)),
    C("cat_one_grad", lambda T, a, b: T.cat([a, b], 1), (2, 3), (2, 2), grad=(1,)),
    C("stack", lambda T, a, b: T.stack([a, b]), S, S),
    C("stack_dim", lambda T, a, b, c: T.stack((a, b, c), dim=-1), S, S, S),
    C("stack_dim1", lambda T, a, b: T.stack([a, b], 1), S, S),
    # NumPy's spellings, which PyTorch's argument parser takes for dim and keepdim
    C("sum_axis", lambda T, a: a.sum(axis=0), S),
    C("sum_keepdims", lambda T, a: T.sum(a, 1, keepdims=True), S),
    C("mean_axis_keepdims", lambda T, a: a.mean(axis=-1, keepdims=True), S),
    C("softmax_axis", lambda T, a: T.softmax(a, axis=1), S),
    C("cat_axis", lambda T, a, b: T.cat([a, b], axis=1), (2, 3), (2, 1)),
    C("flip", lambda T, a: T.flip(a, (0,)), S),
    C("flip_dims", lambda T, a: a.flip(-1, 0), (2, 3, 2)),
    C("repeat", lambda T, a: a.repeat(2, 1), S),
    C("repeat_new_dims", lambda T, a: a.repeat(2, 1, 3), S),
    C("repeat_ones", lambda T, a: a.repeat(1, 1), S),
    C("repeat_zero", lambda T, a: a.repeat(0, 2), S),
    C("tile", lambda T, a: T.tile(a, (2,)), S),
    C("tile_method", lambda T, a: a.tile(2, 1, 1), S),
    C("roll_flat", lambda T, a: a.roll(1), S),
    C("roll", lambda T, a: T.roll(a, (1, -1), (0, 1)), S),
    C("type_as", lambda T, a, b: a.type_as(b), S, (1,), grad=(0,)),
    C("broadcast_tensors", lambda T, a, b: T.broadcast_tensors(a, b), (2, 1), (3,)),
    C("broadcast_to", lambda T, a: T.broadcast_to(a, (2, 2, 3)), (2, 1)),
    C("ravel", lambda T, a: T.ravel(a.t()), S),
    C("reshape_as", lambda T, a, b: a.reshape_as(b), S, (3, 2), grad=(0,)),
    C("contiguous", lambda T, a: a.t().contiguous(), S),
]

INDEXING = [
    C("index_int", lambda T, a: a[1], (3, 4)),
    C("index_neg_int", lambda T, a: a[-1], (3, 4)),
    C("index_int_int", lambda T, a: a[1, -2], (3, 4)),
    C("index_slice", lambda T, a: a[1:], (3, 4)),
    C("index_slice_step", lambda T, a: a[::2], (5, 2)),
    C("index_slice_neg", lambda T, a: a[-2:], (5, 2)),
    C("index_slice_neg_step", lambda T, a: a[-4:-1:2], (5, 2)),
    C("index_slice_dim1", lambda T, a: a[:, 1:3], (3, 4)),
    C("index_none", lambda T, a: a[None], (3, 4)),
    C("index_none_mid", lambda T, a: a[:, None], (3, 4)),
    C("index_ellipsis", lambda T, a: a[..., 1], (2, 3, 4)),
    C("index_ellipsis_only", lambda T, a: a[...], (2, 3)),
    C("index_mixed_basic", lambda T, a: a[0, None, 1:, ::2], (2, 3, 4)),
    C("index_list", lambda T, a: a[[0, 2, 0]], (3, 4)),
    C("index_tensor", lambda T, a, i: a[i], (3, 4), ints([2, 0])),
    C("index_tensor_2d", lambda T, a, i: a[i], (3, 4), ints([[2, 0], [1, 1]])),
    C("index_two_lists", lambda T, a: a[[0, 1], [1, 3]], (3, 4)),
    C("index_slice_list", lambda T, a: a[:, [0, 3]], (3, 4)),
    C("index_int_list", lambda T, a: a[1, [0, 3]], (3, 4)),
    C("index_list_none", lambda T, a: a[[0, 1], None], (3, 4)),
    C("index_list_slice_list", lambda T, a: a[[0, 1], :, [1, 0]], (2, 3, 2)),
    C("index_mask", lambda T, a, m: a[m], (3, 4), mask(3, 4)),
    C("index_mask_rows", lambda T, a, m: a[m], (3, 4), mask(3)),
    C("index_mask_cmp", lambda T, a: a[a > 0], (3, 4)),
    C("index_mask_cols", lambda T, a, m: a[:, m], (3, 4), mask(4)),
    C("index_ellipsis_list", lambda T, a: a[..., [0, 0]], (2, 3)),
    C("select", lambda T, a: a.select(1, 2), (3, 4)),
    C("select_neg", lambda T, a: T.select(a, -1, -1), (3, 4)),
    C("narrow", lambda T, a: a.narrow(1, 1, 2), (3, 4)),
    C("narrow_neg", lambda T, a: T.narrow(a, -1, -2, 1), (3, 4)),
    C("index_select", lambda T, a, i: a.index_select(0, i), (3, 4), ints([2, 0, 2])),
    C("index_select_neg", lambda T, a, i: T.index_select(a, -1, i), (3, 4), ints([1])),
    C("gather", lambda T, a, i: a.gather(1, i), (3, 4), ints([[0, 0], [3, 1], [2, 2]])),
    C("gather_neg", lambda T, a, i: T.gather(a, -2, i), (3, 4), ints([[0, 1, 2, 0]])),
    C("repeat_interleave", lambda T, a: a.repeat_interleave(2), (2, 3)),
    C("repeat_interleave_dim", lambda T, a: T.repeat_interleave(a, 3, dim=-1), (2, 3)),
    C("repeat_interleave_0_dim", lambda T, a: a.repeat_interleave(2), ()),
    C("repeat_interleave_tensor", lambda T, a, r: a.repeat_interleave(r, dim=0), (3, 2),
      ints([2, 0, 1])),
    C("repeat_interleave_tensor_flat", lambda T, a, r: T.repeat_interleave(a, r), (2, 2),
      ints([1, 3, 0, 2])),
    C("gather_0_dim", lambda T, a, i: a.gather(0, i), (), ints([0, 0])),
    C("scatter_add_0_dim", lambda T, a, s, i: a.scatter_add(0, i, s), (), (2,), ints([0, 0])),
    C("take_along_dim", lambda T, a, i: T.take_along_dim(a, i, 1), (3, 4), ints([[0], [3], [2]])),
    C("take_along_dim_broadcast", lambda T, a, i: a.take_along_dim(i, dim=0), (3, 4),
      ints([[2, 0, 1, 1]])),
    C("take_along_dim_flat", lambda T, a, i: a.take_along_dim(i), (3, 4), ints([11, 0, 5])),
    C("scatter", lambda T, a, i, s: a.scatter(0, i, s), (3, 4), ints([[0, 1, 2, 0]]), (1, 4)),
    C("scatter_value", lambda T, a, i: a.scatter(1, i, 2.0), (3, 4), ints([[0], [1], [3]])),
    C("scatter_fn", lambda T, a, i, s: T.scatter(a, -1, i, s), (3, 4), ints([[0], [1], [3]]),
      (3, 1)),
    C("scatter_add", lambda T, a, i, s: a.scatter_add(0, i, s), (3, 4),
      ints([[0, 1, 2, 0], [0, 0, 0, 0]]), (2, 4)),
    C("scatter_add_fn", lambda T, a, i, s: T.scatter_add(a, 1, i, s), (3, 4),
      ints([[0, 0], [1, 3], [2, 2]]), (3, 2)),
    C("index_put", lambda T, a, i, v: a.index_put((i,), v), (3, 4), ints([2, 0]), (4,)),
    C("index_put_acc", lambda T, a, i, v: a.index_put((i,), v, accumulate=True), (3, 4),
      ints([2, 0, 2]), (3, 4)),
    C("index_put_2", lambda T, a, i, j, v: a.index_put((i, j), v), (3, 4), ints([2, 0]),
      ints([1, 3]), (2,)),
    C("unbind", lambda T, a: a.unbind(), (3, 2)),
    C("unbind_fn_dim", lambda T, a: T.unbind(a, -1), (3, 2)),
    C("unbind_partial", lambda T, a: a.unbind(1)[0] * 2, (3, 2)),
    C("split", lambda T, a: a.split(2), (5, 2)),
    C("split_fn_dim", lambda T, a: T.split(a, 1, dim=-1), (5, 2)),
    C("split_sizes", lambda T, a: a.split([1, 3], 1), (2, 4)),
    C("split_partial", lambda T, a: a.split(2)[1].exp(), (5, 2)),
    C("chunk", lambda T, a: a.chunk(2), (5, 2)),
    C("chunk_fn_dim", lambda T, a: T.chunk(a, 3, -1), (2, 6)),
    C("masked_select", lambda T, a, m: a.masked_select(m), (3, 4), mask(3, 4)),
    C("masked_select_fn_bcast", lambda T, a, m: T.masked_select(a, m), (3, 4), mask(4)),
]

ALL = ELEMENTWISE + REDUCTION + LINALG + SHAPE + INDEXING
assert len({c.id for c in ALL}) == len(ALL)


def _params(cases):
    return [pytest.param(c, dt, id=f"{c.id}-{dt}", marks=c.marks)
            for c in cases for dt in ("float32", "float64")]


@pytest.mark.parametrize("case,dtype", _params(ALL))
def test_op(case, dtype):
    options = dict(case.options)
    check_op(case.fn, case.arrays(), dtype, **options)


# ---- float32 values that must not depend on the CPU ---------------------------------------------

def _f32(values):
    return np.array(values, dtype=np.float64).astype(np.float32)


def test_float32_pow_and_log_softmax_backward_are_correctly_rounded():
    """NumPy picks its float32 exp/pow loops per CPU (AVX2, AVX-512 with SVML, plain C), so these
    take gradlab's float64 detour: the correctly rounded value on every machine (checked against
    Python's float64 math, rounded once). log_softmax's backward at [[1, 5], [3, 2]] is the case
    that showed it: 1 - exp(y) cancels, so one ulp of exp(y) is 16 ulps of the gradient."""
    x = np.array([0.3, 1.5, 2.0, 2.7, 3.1, 5.5], np.float32)
    g = gradlab.tensor(x)
    for got, want in [(g ** 2.5, [v ** 2.5 for v in x.tolist()]),
                      (g ** g, [v ** v for v in x.tolist()]),
                      (1.7 ** g, [float(np.float32(1.7)) ** v for v in x.tolist()])]:
        np.testing.assert_array_equal(got.numpy(), _f32(want))
    gx = gradlab.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    y = gx.log_softmax(0)
    y[0, 1].backward()
    e = _f32([math.exp(v) for v in y.detach().numpy()[:, 1].tolist()])
    np.testing.assert_array_equal(gx.grad.numpy()[:, 1], np.float32([1, 0]) - e)
    tx = torch.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    tx.log_softmax(0)[0, 1].backward()
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_det_of_a_singular_matrix_has_pytorchs_gradient(dtype):
    """PyTorch nudges the LU's zero pivots to eps; its double backward there needs an SVD,
    which gradlab lacks and says so."""
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]], [[2.0, 1.0], [1.0, 3.0]]])
    (g, t) = pair(a, dtype, requires_grad=True)
    gd, td = gradlab.linalg.det(g), torch.linalg.det(t)
    assert_same(gd, td)
    gd.sum().backward()
    td.sum().backward()
    assert_same(g.grad, t.grad)
    with pytest.raises(NotImplementedError, match="gradlab does not implement torch.linalg.svd"):
        gradlab.autograd.grad(gradlab.linalg.det(g).sum(), g, create_graph=True)


# ---- ops without gradients --------------------------------------------------------------------

NO_GRAD = [
    ("eq", lambda T, a, b: a == b), ("ne", lambda T, a, b: T.ne(a, b)),
    ("lt", lambda T, a, b: a < b), ("le", lambda T, a, b: a.le(b)),
    ("gt", lambda T, a, b: T.gt(a, b)), ("ge", lambda T, a, b: a >= b),
    ("eq_scalar", lambda T, a, b: a == 0.5), ("gt_scalar", lambda T, a, b: a > 0),
    ("argmax", lambda T, a, b: a.argmax()), ("argmax_dim", lambda T, a, b: T.argmax(a, 1)),
    ("argmax_keepdim", lambda T, a, b: a.argmax(-1, keepdim=True)),
    ("argmin", lambda T, a, b: T.argmin(a)), ("argmin_dim", lambda T, a, b: a.argmin(dim=0)),
    ("max_indices", lambda T, a, b: a.max(1).indices), ("min_indices", lambda T, a, b: a.min(0)[1]),
    ("sign", lambda T, a, b: a.sign()), ("isnan", lambda T, a, b: (a / 0 * 0).isnan()),
    ("nonzero", lambda T, a, b: (a > 0).nonzero()), ("any", lambda T, a, b: (a > 0).any()),
    ("all_dim", lambda T, a, b: (a > -5).all(1)),
    ("bitwise", lambda T, a, b: ((a > 0) & (b > 0)) | ((a < 0) ^ T.bitwise_not(b > 1))),
    ("bitwise_fn", lambda T, a, b: T.bitwise_xor(T.bitwise_or(a > 0, b > 0), T.bitwise_and(
        ~(a > 0), b > 0))),
    ("rbitwise", lambda T, a, b: (True & (a > 0)) | (False ^ (b > 0)) | (False | (a > 1))),
    ("logical_not", lambda T, a, b: T.logical_not(a > 0)),
    ("logical_and", lambda T, a, b: (a.logical_and(b), T.logical_and(a > 0, b))),
    ("logical_or", lambda T, a, b: (a.logical_or(b > 0), T.logical_or(a, b.int()))),
    ("logical_xor", lambda T, a, b: (a.logical_xor(b), T.logical_xor(a > 0, b < 0))),
    ("diff_bool", lambda T, a, b: ((a > 0).diff(), T.diff(b > 0, n=2))),
    ("repeat_interleave_counts", lambda T, a, b: T.repeat_interleave(T.tensor([2, 0, 1]))),
    ("cummax_integers", lambda T, a, b: (a > 0).long().cummax(1)),
    ("isinf", lambda T, a, b: (T.isinf(a / 0), (a / 0).isposinf(), T.isneginf(a / 0))),
    ("isfinite", lambda T, a, b: (T.isfinite(a / b), (a / 0).isfinite(), T.isinf(b.int()))),
    ("signbit", lambda T, a, b: (T.signbit(a * 0), a.signbit(), (b > 0).signbit(),
                                 b.int().signbit())),
    ("isclose", lambda T, a, b: T.isclose(a, b, atol=0.5)), ("allclose", lambda T, a, b: (
        T.allclose(a, a + 1e-9), a.allclose(b))),
    ("equal", lambda T, a, b: (T.equal(a, a), a.equal(b))),
    ("count_nonzero", lambda T, a, b: (T.count_nonzero(a > 0), (a > 0).count_nonzero(1))),
    ("is_contiguous", lambda T, a, b: (a.is_contiguous(), a.t().is_contiguous())),
]


@pytest.mark.parametrize("fn", [f for _, f in NO_GRAD], ids=[n for n, _ in NO_GRAD])
def test_no_grad_ops(fn):
    rng = np.random.default_rng(1)
    a = np.round(rng.standard_normal((3, 4)), 1)
    b = np.round(rng.standard_normal((4,)), 1)
    b[0] = a[0, 0]
    (ga, ta), (gb, tb) = pair(a, requires_grad=True), pair(b)
    g, t = fn(gradlab, ga, gb), fn(torch, ta, tb)
    for g_value, t_value in zip(g, t) if isinstance(t, tuple) else [(g, t)]:
        if isinstance(t_value, torch.Tensor):
            assert_same(g_value, t_value)
        else:  # a Python bool
            assert type(g_value) is type(t_value) and g_value == t_value


NO_DERIVATIVE = [
    ("floor_divide", lambda T, a, b: a // b), ("floor_divide_scalar", lambda T, a, b: a // 1.5),
    ("floor_divide_fn", lambda T, a, b: T.floor_divide(a, b)),
    ("rfloordiv", lambda T, a, b: 2.5 // a), ("rmod", lambda T, a, b: 2.5 % a),
]


@pytest.mark.parametrize("fn", [f for _, f in NO_DERIVATIVE], ids=[n for n, _ in NO_DERIVATIVE])
def test_ops_without_a_derivative_record_a_node_that_fails_in_backward(fn):
    """PyTorch's NotImplemented node: the result requires grad, backward through it fails."""
    a, b = np.array([[3.5, -2.25, 4.0]]), np.array([1.5, 2.0, -3.0])
    (ga, ta), (gb, tb) = pair(a, requires_grad=True), pair(b, requires_grad=True)
    g, t = fn(gradlab, ga, gb), fn(torch, ta, tb)
    assert_same(g, t)
    assert_graph_same(g.grad_fn, t.grad_fn, [(ga, ta), (gb, tb)])
    assert g.grad_fn.name() == t.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError) as t_error:
        t.sum().backward()
    with pytest.raises(RuntimeError, match=f"^{t_error.value}$"):
        g.sum().backward()
    assert ga.grad is None and gb.grad is None


def test_max_dim_returns_values_and_indices():
    a = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 3.0]])
    (g, t) = pair(a, requires_grad=True)
    gv, gi = g.max(1)
    tv, ti = t.max(1)
    assert_same(gv, tv)
    assert_same(gi, ti)
    assert_same(g.max(1).values, t.max(1).values)


# ---- errors -----------------------------------------------------------------------------------

def _error(fn, lib, *arrays):
    args = [lib.tensor(a) for a in arrays]
    with pytest.raises(Exception) as info:
        fn(lib, *args)
    return info.value


ERRORS = [
    ("broadcast_add", lambda T, a, b: a + b, (2, 3), (4,)),
    ("broadcast_mul", lambda T, a, b: a * b, (2, 3), (2, 2)),
    ("broadcast_where", lambda T, a, b: T.where(a > 0, a, b), (2, 3), (3, 2)),
    ("mm_inner", lambda T, a, b: a.mm(b), (2, 3), (4, 5)),
    ("mm_rank", lambda T, a, b: T.mm(a, b), (2, 3, 1), (3, 5)),
    ("mm_rank2", lambda T, a, b: T.mm(a, b), (2, 3), (3,)),
    ("mv_size", lambda T, a, b: a.mv(b), (2, 3), (4,)),
    ("dot_size", lambda T, a, b: a.dot(b), (3,), (4,)),
    ("dot_rank", lambda T, a, b: T.dot(a, b), (3, 1), (3,)),
    ("bmm_rank", lambda T, a, b: a.bmm(b), (2, 3), (2, 3, 4)),
    ("bmm_size", lambda T, a, b: a.bmm(b), (2, 2, 3), (2, 4, 4)),
    ("matmul_0d", lambda T, a, b: a @ b, (), (3,)),
    ("matmul_2_2", lambda T, a, b: a @ b, (2, 3), (2, 3)),
    ("matmul_1_1", lambda T, a, b: a @ b, (3,), (4,)),
    ("matmul_3_2", lambda T, a, b: a @ b, (2, 2, 3), (4, 5)),
    ("matmul_batch", lambda T, a, b: a @ b, (2, 2, 3), (3, 3, 4)),
    ("cat_sizes", lambda T, a, b: T.cat([a, b]), (2, 3), (2, 4)),
    ("cat_dims", lambda T, a, b: T.cat([a, b]), (2, 3), (3,)),
    ("cat_0d", lambda T, a, b: T.cat([a, b]), (), ()),
    ("cat_empty", lambda T, a, b: T.cat([]), (1,), (1,)),
    ("stack_sizes", lambda T, a, b: T.stack([a, b]), (2, 3), (3, 2)),
    ("stack_empty", lambda T, a, b: T.stack([]), (1,), (1,)),
    ("view_incompatible", lambda T, a, b: a.t().view(6), (2, 3), ()),
    ("view_size", lambda T, a, b: a.view(4), (2, 3), ()),
    ("reshape_size", lambda T, a, b: a.reshape(-1, 4), (2, 3), ()),
    ("reshape_two_infer", lambda T, a, b: a.reshape(-1, -1), (2, 3), ()),
    ("expand", lambda T, a, b: a.expand(3, 4), (2, 1), ()),
    ("dim_sum", lambda T, a, b: a.sum(2), (2, 3), ()),
    ("dim_sum_neg", lambda T, a, b: a.sum(-3), (2, 3), ()),
    ("dim_softmax", lambda T, a, b: a.softmax(5), (2, 3), ()),
    ("dim_transpose", lambda T, a, b: a.transpose(0, 2), (2, 3), ()),
    ("dim_unsqueeze", lambda T, a, b: a.unsqueeze(3), (2, 3), ()),
    ("dim_cat", lambda T, a, b: T.cat([a, b], 2), (2, 3), (2, 3)),
    ("dim_max", lambda T, a, b: a.max(2), (2, 3), ()),
    ("dim_select", lambda T, a, b: a.select(2, 0), (2, 3), ()),
    ("dim_0d", lambda T, a, b: a.sum(1), (), ()),
    ("permute_len", lambda T, a, b: a.permute(0), (2, 3), ()),
    ("t_3d", lambda T, a, b: a.t(), (2, 3, 4), ()),
    ("index_oob", lambda T, a, b: a[5], (2, 3), ()),
    ("index_oob_neg", lambda T, a, b: a[0, -4], (2, 3), ()),
    ("index_list_oob", lambda T, a, b: a[[0, 2]], (2, 3), ()),
    ("index_too_many", lambda T, a, b: a[0, 0, 0], (2, 3), ()),
    ("index_mask_shape", lambda T, a, b: a[a[0] > 0], (2, 3), ()),
    ("select_oob", lambda T, a, b: a.select(1, 3), (2, 3), ()),
    ("narrow_oob", lambda T, a, b: a.narrow(1, 2, 2), (2, 3), ()),
    ("split_sizes", lambda T, a, b: a.split([1, 1]), (3, 2), ()),
    ("scatter_src_larger", lambda T, a, b: T.autograd.grad(
        a.requires_grad_().scatter(0, T.tensor([[0, 1, 2]]), b.requires_grad_()).sum(), b),
     (3, 3), (2, 3)),
    ("clamp_none", lambda T, a, b: a.clamp(), (2, 3), ()),
    ("linalg_inv_singular", lambda T, a, b: T.linalg.inv(a[:, :2] * 0 + T.tensor([[1.0, 2.0],
                                                                             [2.0, 4.0]])),
     (2, 3), ()),
    ("linalg_inv_zero_first", lambda T, a, b: T.linalg.inv(a * 0), (3, 3), ()),
    ("linalg_inv_not_square", lambda T, a, b: T.linalg.inv(a), (2, 3), ()),
    ("linalg_inv_1d", lambda T, a, b: T.linalg.inv(a), (3,), ()),
    ("linalg_inv_int", lambda T, a, b: T.linalg.inv(a.long()), (2, 2), ()),
    ("linalg_det_not_square", lambda T, a, b: T.linalg.det(a), (2, 3), ()),
    ("linalg_det_1d", lambda T, a, b: T.linalg.det(a), (3,), ()),
    ("det_int", lambda T, a, b: T.det(a.long()), (2, 2), ()),
    ("slogdet_not_square", lambda T, a, b: T.linalg.slogdet(a), (2, 3), ()),
    ("slogdet_1d", lambda T, a, b: T.slogdet(a), (3,), ()),
    ("linalg_solve_singular", lambda T, a, b: T.linalg.solve(a * 0, b), (2, 2), (2,)),
    ("linalg_solve_singular_batch", lambda T, a, b: T.linalg.solve(T.stack([a, a * 0]), b),
     (2, 2), (2,)),
    ("linalg_solve_not_square", lambda T, a, b: T.linalg.solve(a, b), (2, 3), (2,)),
    ("linalg_solve_shapes", lambda T, a, b: T.linalg.solve(a, b), (3, 3), (2,)),
    ("linalg_solve_shapes_right", lambda T, a, b: T.linalg.solve(a, b, left=False), (3, 3),
     (3, 2)),
    ("linalg_solve_dtypes", lambda T, a, b: T.linalg.solve(a.float(), b), (2, 2), (2,)),
    ("linalg_solve_int", lambda T, a, b: T.linalg.solve(a.long(), b.long()), (2, 2), (2,)),
    ("linalg_solve_0d", lambda T, a, b: T.linalg.solve(a, b), (2, 2), ()),
    ("linalg_solve_batch", lambda T, a, b: T.linalg.solve(a.expand(3, 2, 2), b), (2, 2),
     (4, 2, 1)),
    ("linalg_vector_norm_inf_empty", lambda T, a, b: T.linalg.vector_norm(a[:0], INF), (2,), ()),
    ("backward_twice", lambda T, a, b: [y.backward() for y in [a.requires_grad_().exp().sum()] * 2],
     (2,), ()),
    ("diff_0_dim", lambda T, a, b: a.diff(), (), ()),
    ("nanmean_integers", lambda T, a, b: (a > 0).long().nanmean(), (3,), ()),
    ("take_along_dim_float", lambda T, a, b: T.take_along_dim(a, b, 0), (3,), (1,)),
    ("take_along_dim_dims", lambda T, a, b: a.take_along_dim(T.tensor([0]), 1), (2, 3), ()),
    ("take_along_dim_broadcast", lambda T, a, b: a.take_along_dim(T.tensor([[0, 1]]), 0),
     (2, 3), ()),
    ("repeat_interleave_negative", lambda T, a, b: a.repeat_interleave(-1), (3,), ()),
    ("repeat_interleave_sizes", lambda T, a, b: a.repeat_interleave(T.tensor([1, 2]), 0), (3,), ()),
    ("repeat_interleave_float", lambda T, a, b: a.repeat_interleave(b, dim=0), (1,), (1,)),
    ("repeat_interleave_negative_tensor", lambda T, a, b: T.repeat_interleave(T.tensor([1, -1])),
     (), ()),
    ("logaddexp_number", lambda T, a, b: a.logaddexp(1.0), (3,), ()),
    ("logaddexp_fn_number", lambda T, a, b: T.logaddexp(a, 2), (3,), ()),
    ("logaddexp_broadcast", lambda T, a, b: T.logaddexp(a, b), (2, 3), (2,)),
    ("logaddexp_integers", lambda T, a, b: T.logaddexp(a.long(), b.long()), (3,), (3,)),
    ("diff_negative_order", lambda T, a, b: T.diff(a, n=-1), (3,), ()),
    ("diff_prepend_dims", lambda T, a, b: a.diff(prepend=b), (3,), (2, 2)),
    ("fliplr_1_dim", lambda T, a, b: a.fliplr(), (3,), ()),
    ("flipud_0_dim", lambda T, a, b: T.flipud(a), (), ()),
    ("logical_and_number", lambda T, a, b: a.logical_and(1), (3,), ()),
    ("logical_or_number", lambda T, a, b: T.logical_or(a, 1.5), (3,), ()),
    ("logical_xor_input_number", lambda T, a, b: T.logical_xor(1, a), (3,), ()),
    ("logical_and_broadcast", lambda T, a, b: T.logical_and(a, b), (2, 3), (2,)),
]


@pytest.mark.parametrize("fn,sa,sb", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(fn, sa, sb):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    g, t = _error(fn, gradlab, a, b), _error(fn, torch, a, b)
    assert type(g).__name__ == type(t).__name__ or isinstance(g, type(t)), (g, t)
    assert str(g) == str(t)
