"""Learning-rate schedules (``torch.optim.lr_scheduler``): the same names, arguments and sequences.

Example:
    >>> import dendrite
    >>> from dendrite.optim.lr_scheduler import StepLR
    >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
    >>> scheduler = StepLR(opt, step_size=10, gamma=0.1)
"""

from dendrite.optim.lr_scheduler.base import LRScheduler
from dendrite.optim.lr_scheduler.combined import ChainedScheduler, SequentialLR
from dendrite.optim.lr_scheduler.cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from dendrite.optim.lr_scheduler.plateau import ReduceLROnPlateau
from dendrite.optim.lr_scheduler.schedules import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

_LRScheduler = LRScheduler  # PyTorch's older name

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR", "ChainedScheduler",
    "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
]
