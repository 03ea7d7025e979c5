"""torch.nn: modules, parameters, initialisation and the functional interface."""
from . import functional, init  # noqa: F401
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh  # noqa: F401
from .container import (ModuleDict, ModuleList, ParameterDict, ParameterList,  # noqa: F401
                        Sequential)
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d  # noqa: F401
from .linear import Flatten, Identity, Linear  # noqa: F401
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,  # noqa: F401
                   NLLLoss)
from .module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from . import utils  # noqa: F401,E402

from .._missing import missing_names  # noqa: E402
__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
