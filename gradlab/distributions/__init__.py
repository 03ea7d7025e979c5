"""torch.distributions: the distributions lessons sample from, drawing from gradlab's generator
as PyTorch's draw from its own, so ``manual_seed(s)`` gives the same samples."""
from . import constraints  # noqa: F401
from .bernoulli import Bernoulli  # noqa: F401
from .categorical import Categorical  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .multinomial import Multinomial  # noqa: F401
from .normal import Normal  # noqa: F401
from .uniform import Uniform  # noqa: F401
from .._missing import missing_names

__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
