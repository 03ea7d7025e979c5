"""torch.nn: modules, parameters, initialisation and the functional interface."""
from . import functional, init  # noqa: F401
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh  # noqa: F401
from .activation import (CELU, ELU, GELU, SELU, Hardtanh, LeakyReLU, Mish, ReLU6,  # noqa: F401
                         SiLU, Softplus)
from .container import (ModuleDict, ModuleList, ParameterDict, ParameterList,  # noqa: F401
                        Sequential)
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d  # noqa: F401
from .linear import Flatten, Identity, Linear  # noqa: F401
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,  # noqa: F401
                   NLLLoss)
from .loss import HuberLoss, SmoothL1Loss  # noqa: F401
from .loss import KLDivLoss  # noqa: F401
from .activation import LogSigmoid  # noqa: F401
from .module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm  # noqa: F401
from .sparse import Embedding  # noqa: F401
from . import utils  # noqa: F401,E402
from .conv import Conv1d, Conv2d  # noqa: F401
from .pooling import (AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,  # noqa: F401
                      Unflatten)

from .._missing import missing_names  # noqa: E402
__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
