"""Optimizers and learning-rate schedules (PyTorch's ``torch.optim``).

Example:
    >>> import dendrite
    >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
    >>> opt = dendrite.optim.Adam([w], lr=0.1)
    >>> scheduler = dendrite.optim.lr_scheduler.StepLR(opt, step_size=10)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...     scheduler.step()
"""

from dendrite.optim import lr_scheduler
from dendrite.optim.adadelta import Adadelta
from dendrite.optim.adagrad import Adagrad
from dendrite.optim.adam import Adam, AdamW
from dendrite.optim.lbfgs import LBFGS
from dendrite.optim.optimizer import Optimizer
from dendrite.optim.rmsprop import RMSprop
from dendrite.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "LBFGS", "lr_scheduler"]
