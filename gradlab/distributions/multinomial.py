"""torch.distributions.Multinomial: counts of total_count Categorical draws, drawn as PyTorch
draws them (one Categorical sample of total_count per draw, then counted by scatter_add)."""
import math

import numpy as np

from .. import Size, ones_like, tensor, zeros
from .._distributions import _lgamma
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .utils import broadcast_all


class Multinomial(Distribution):
    """Counts over K categories (probs or logits as Categorical's) of total_count trials;
    sample() needs one shared total_count, log_prob() reads the total off the value."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        sample_shape = Size(sample_shape)
        samples = self._categorical.sample(Size((self.total_count,)) + sample_shape)
        samples = samples.permute(*range(1, samples.dim()), 0)  # the trials last
        counts = zeros(self._extended_shape(sample_shape), dtype=samples.dtype)
        return counts.scatter_add(-1, samples, ones_like(samples)).to(self.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.clone()
        log_factorial_n = _lgamma_of(value.sum(-1) + 1)
        log_factorial_xs = _lgamma_of(value + 1).sum(-1)
        logits[(value == 0) & (logits == -math.inf)] = 0
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers


def _lgamma_of(counts):
    """lgamma of counts (libm's, in double, then counts' dtype): a constant, as counts are
    data (gradlab has no torch.lgamma op yet)."""
    values = np.vectorize(_lgamma, otypes=[np.float64])(counts._array)
    return tensor(values.astype(counts._array.dtype), dtype=counts.dtype)
