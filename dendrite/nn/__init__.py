"""``dendrite.nn``: Modules, layers, losses, initialisation (PyTorch's ``torch.nn``)."""

from dendrite.nn import functional, init, utils
from dendrite.nn.modules import *  # noqa: F403
from dendrite.nn.parameter import Parameter
