"""gradlab.distributions against torch.distributions: samples after manual_seed (the same
draws, bit for bit), log_prob/entropy/moments and their gradients, shapes, reprs and errors."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

P2 = [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]
MAKERS = {  # name -> (lib, tensor) -> distribution
    "categorical": lambda lib, t: lib.distributions.Categorical(t(P2)),
    "categorical_logits": lambda lib, t: lib.distributions.Categorical(logits=t([1.0, -2.0, 0.5])),
    "multinomial": lambda lib, t: lib.distributions.Multinomial(10, t([1.0, 1.0, 2.0])),
    "multinomial_batch": lambda lib, t: lib.distributions.Multinomial(3, t(P2)),
    "bernoulli": lambda lib, t: lib.distributions.Bernoulli(t([0.3, 0.9, 0.5])),
    "bernoulli_logits": lambda lib, t: lib.distributions.Bernoulli(logits=t([-1.0, 2.0])),
    "normal": lambda lib, t: lib.distributions.Normal(t([0.0, 1.5]), t([1.0, 0.25])),
    "normal_scalar": lambda lib, t: lib.distributions.Normal(0.5, 2.0),
    "uniform": lambda lib, t: lib.distributions.Uniform(t([0.0, -1.0]), t([1.0, 3.0])),
}


def both(name, requires_grad=False, dtype="float32"):
    """The distribution ``name`` on PyTorch and on gradlab, and their parameter leaves."""
    made = []
    for lib in (torch, gradlab):
        leaves = []

        def t(values, lib=lib):
            leaf = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=requires_grad)
            leaves.append(leaf)
            return leaf
        made.append((MAKERS[name](lib, t), leaves))
    return made


def same(expected, got, exact=False):
    assert type(got).__name__ == "Tensor" and got.dtype.__repr__() == expected.dtype.__repr__()
    assert tuple(got.shape) == tuple(expected.shape)
    e, g = expected.detach().numpy(), got.detach().numpy()
    if exact:
        np.testing.assert_array_equal(g, e)
    else:
        np.testing.assert_allclose(g, e, rtol=4e-7, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
def test_samples_are_pytorchs_after_manual_seed(name, sample_shape):
    (expected, _), (got, _) = both(name)
    for seed in (0, 2147483647):
        torch.manual_seed(seed)
        gradlab.manual_seed(seed)
        for _ in range(2):
            same(expected.sample(sample_shape), got.sample(sample_shape),
                 exact=not name.startswith(("normal", "uniform")))


@pytest.mark.parametrize("name", ["normal", "uniform"])
def test_rsample_draws_as_pytorch_with_gradients(name):
    (expected, e_leaves), (got, g_leaves) = both(name, requires_grad=True)
    torch.manual_seed(3)
    gradlab.manual_seed(3)
    e, g = expected.rsample((4,)), got.rsample((4,))
    same(e, g)
    assert type(g.grad_fn).__name__ == type(e.grad_fn).__name__
    e.sum().backward()
    g.sum().backward()
    for e_leaf, g_leaf in zip(e_leaves, g_leaves):
        same(e_leaf.grad, g_leaf.grad)


@pytest.mark.parametrize("name", MAKERS)
def test_sample_is_not_differentiable(name):
    (expected, _), (got, _) = both(name, requires_grad=True)
    assert got.sample().requires_grad is expected.sample().requires_grad is False


VALUES = {
    "categorical": [[2, 0], [1, 1]],
    "categorical_logits": [0, 2, 1],
    "multinomial": [[3.0, 3.0, 4.0], [0.0, 0.0, 10.0]],
    "multinomial_batch": [[1.0, 1.0, 1.0], [0.0, 3.0, 0.0]],
    "bernoulli": [[1.0, 0.0, 1.0]],
    "bernoulli_logits": [0.0, 1.0],
    "normal": [[0.3, -2.0], [1.0, 1.5]],
    "normal_scalar": [0.0, 7.0],
    "uniform": [[0.5, 2.9], [0.0, -0.5]],
}


@pytest.mark.parametrize("name", MAKERS)
def test_log_prob_entropy_and_moments_and_their_gradients(name):
    (expected, e_leaves), (got, g_leaves) = both(name, requires_grad=True)
    value_dtype = "int64" if name.startswith("categorical") else "float32"
    e_value = torch.tensor(VALUES[name], dtype=getattr(torch, value_dtype))
    g_value = gradlab.tensor(VALUES[name], dtype=getattr(gradlab, value_dtype))
    results = [("log_prob", expected.log_prob(e_value), got.log_prob(g_value))]
    for what in ("entropy", "mean", "variance", "stddev", "mode"):
        if what in ("entropy", "mode") and name.startswith("multinomial"):
            continue  # PyTorch's Multinomial has no mode; gradlab's has no entropy yet
        e = getattr(expected, what)
        g = getattr(got, what)
        results.append((what, e() if callable(e) else e, g() if callable(g) else g))
    for what, e, g in results:
        same(e, g)
        if e.requires_grad:
            e_grads = torch.autograd.grad(e.sum(), e_leaves, retain_graph=True,
                                          allow_unused=True)
            g_grads = gradlab.autograd.grad(g.sum(), g_leaves, retain_graph=True,
                                            allow_unused=True)
            for e_grad, g_grad in zip(e_grads, g_grads):
                assert (e_grad is None) == (g_grad is None), what
                if e_grad is not None:
                    same(e_grad, g_grad)


@pytest.mark.parametrize("name", MAKERS)
def test_shapes_support_and_reprs(name):
    (expected, _), (got, _) = both(name)
    assert repr(got) == repr(expected)
    assert got.batch_shape == expected.batch_shape and got.event_shape == expected.event_shape
    assert repr(got.support) == repr(expected.support)
    assert {k: repr(c) for k, c in got.arg_constraints.items()} == {
        k: repr(c) for k, c in expected.arg_constraints.items()}
    if expected.has_enumerate_support:
        for expand in (True, False):
            same(expected.enumerate_support(expand), got.enumerate_support(expand), exact=True)
    for _ in ("probs", "logits"):  # lazy attributes, once computed, show in the repr
        if hasattr(expected, _):
            getattr(expected, _), getattr(got, _)
    assert repr(got) == repr(expected)


def test_d2l_cells_give_pytorchs_counts():
    for lib in (torch, gradlab):
        lib.manual_seed(42)
    fair = [torch.ones([6]) / 6, gradlab.ones([6]) / 6]
    e = torch.distributions.multinomial.Multinomial(1000, fair[0]).sample((3,))
    g = gradlab.distributions.multinomial.Multinomial(1000, fair[1]).sample((3,))
    same(e, g, exact=True)
    assert g.sum().item() == 3000


ERRORS = [
    lambda lib: lib.distributions.Categorical(lib.tensor([0.5, -0.5])),
    lambda lib: lib.distributions.Categorical(lib.tensor([[0.5, math.nan], [1.0, 1.0]])),
    lambda lib: lib.distributions.Categorical(lib.tensor(0.5)),
    lambda lib: lib.distributions.Categorical(),
    lambda lib: lib.distributions.Categorical(lib.ones(2), logits=lib.zeros(2)),
    lambda lib: lib.distributions.Categorical(logits=lib.tensor([0.0, math.nan])),
    lambda lib: lib.distributions.Categorical(lib.ones(2)).log_prob(lib.tensor([2])),
    lambda lib: lib.distributions.Categorical(lib.ones(2)).log_prob([1]),
    lambda lib: lib.distributions.Categorical(lib.ones(2, 3)).log_prob(lib.tensor([0, 1, 1])),
    lambda lib: lib.distributions.Multinomial(10.0, lib.ones(2)),
    lambda lib: lib.distributions.Multinomial(2, lib.ones(2)).log_prob(lib.tensor([1.0, 2.0])),
    lambda lib: lib.distributions.Multinomial(2, lib.ones(2)).log_prob(lib.ones(3)),
    lambda lib: lib.distributions.Bernoulli(1.5),
    lambda lib: lib.distributions.Bernoulli(0.5).log_prob(lib.tensor(0.5)),
    lambda lib: lib.distributions.Normal(0.0, -1.0),
    lambda lib: lib.distributions.Normal(lib.zeros(2), lib.tensor([1.0, 0.0])),
    lambda lib: lib.distributions.Uniform(1.0, 0.0),
    lambda lib: lib.distributions.Uniform(0.0, 1.0).log_prob(lib.tensor(2.0)),
    lambda lib: lib.distributions.Normal("a", 1.0),
]


@pytest.mark.parametrize("make", ERRORS, ids=range(len(ERRORS)))
def test_bad_input_fails_as_pytorch(make):
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(type(expected.value)) as got:
        make(gradlab)
    assert str(got.value) == str(expected.value)


def test_validation_can_be_turned_off():
    for lib in (torch, gradlab):
        d = lib.distributions.Normal(0.0, -1.0, validate_args=False)
        assert repr(d) == "Normal(loc: 0.0, scale: -1.0)"


def test_a_distribution_gradlab_lacks_says_so():
    with pytest.raises(AttributeError,
                       match="^gradlab does not implement torch.distributions.Gamma$"):
        gradlab.distributions.Gamma
    assert hasattr(torch.distributions, "Gamma")
