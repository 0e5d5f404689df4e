"""The simple schedules: a factor per epoch, steps, milestones, warm-up ramps, cosine.

Each ``get_lr`` follows PyTorch's recursive (chainable) formula, so the
sequences match PyTorch's exactly; ``_get_closed_form_lr`` is used when an
explicit epoch is passed to ``step(epoch)``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from dendrite.optim.lr_scheduler.base import LRScheduler, group_values, lambdas_state
from dendrite.optim.optimizer import Optimizer

__all__ = [
    "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
]


def _lambdas(scheduler: str, optimizer: Optimizer, lr_lambda) -> list:
    groups = len(optimizer.param_groups)
    if not isinstance(lr_lambda, (list, tuple)):
        lambdas = [lr_lambda] * groups
    elif len(lr_lambda) != groups:
        raise ValueError(f"{scheduler}: Expected {groups} lr_lambdas (one per parameter group), "
                         f"but got {len(lr_lambda)}")
    else:
        lambdas = list(lr_lambda)
    for function in lambdas:
        if not callable(function):
            raise TypeError(f"{scheduler}: lr_lambda should be a function, but got {type(function).__name__}")
    return lambdas


class _LambdaStateMixin:
    """State dicts keep the attributes of callable-object lambdas (functions cannot be saved)."""

    def state_dict(self) -> dict[str, Any]:
        state = {key: value for key, value in LRScheduler.state_dict(self).items() if key != "lr_lambdas"}
        state["lr_lambdas"] = lambdas_state(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        LRScheduler.load_state_dict(self, state)
        for function, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                function.__dict__.update(attributes)


class LambdaLR(_LambdaStateMixin, LRScheduler):
    """Learning rate = initial lr * ``lr_lambda(epoch)`` (one function, or one per group).

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
        >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
        [0.05]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list, last_epoch: int = -1):
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaStateMixin, LRScheduler):
    """Multiply the current learning rate by ``lr_lambda(epoch)`` every epoch.

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.5)
        >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
        [0.05]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list, last_epoch: int = -1):
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * fn(self.last_epoch)
                for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
        [0.05]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``.

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
        >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
        [0.05]
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self.last_epoch not in self.milestones:
            return group_values(self.optimizer, "lr")
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiply the learning rate by ``factor`` for the first ``total_iters`` epochs (a warm-up).

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=1)
        >>> before = scheduler.get_last_lr(); opt.step(); scheduler.step()
        >>> before, scheduler.get_last_lr()
        ([0.05], [0.1])
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1):
        if factor > 1.0 or factor < 0:
            raise ValueError(f"ConstantLR: Constant multiplicative factor expected to be between 0 and 1, "
                             f"got factor={factor}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Ramp the factor on the learning rate linearly from ``start_factor`` to ``end_factor``.

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> opt.step(); scheduler.step(); round(scheduler.get_last_lr()[0], 6)
        0.075
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("LinearLR: Starting multiplicative factor expected to be greater than 0 and "
                             f"less or equal to 1, got start_factor={start_factor}")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(f"LinearLR: Ending multiplicative factor expected to be between 0 and 1, "
                             f"got end_factor={end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_values(self.optimizer, "lr")
        change = self.end_factor - self.start_factor
        factor = 1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        change = self.end_factor - self.start_factor
        progress = min(self.total_iters, self.last_epoch)
        return [base_lr * (self.start_factor + change * progress / self.total_iters)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
        [0.05]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the learning rate as ``(1 - epoch / total_iters) ** power`` down to zero.

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.PolynomialLR(opt, total_iters=2)
        >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
        [0.05]
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_values(self.optimizer, "lr")
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [group["lr"] * decay for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate along a cosine from the initial lr to ``eta_min`` over ``T_max`` epochs.

    Uses PyTorch's recursive form, so it composes with other schedulers and
    continues as a cosine wave past ``T_max``.

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
        >>> opt.step(); scheduler.step(); round(scheduler.get_last_lr()[0], 6)
        0.05
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        groups = self.optimizer.param_groups
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        if self._step_count == 1 and self.last_epoch > 0:
            cosine = 1 + math.cos(self.last_epoch * math.pi / self.T_max)
            return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min for group in groups]

    def _get_closed_form_lr(self) -> list:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]
