"""``LRScheduler``: the base class of the learning-rate schedules.

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups each
time ``scheduler.step()`` is called (once per epoch or per batch, after
``optimizer.step()``). Most schedules are *chainable*: they compute the next
rate from the current ``group["lr"]`` (PyTorch's recursive formulas), so two
schedulers on one optimizer compose, and the sequences equal PyTorch's to the
last bit. ``step(epoch)`` uses the closed form instead, as PyTorch does.
"""

from __future__ import annotations

import types
import warnings
from typing import Any

from dendrite.optim.optimizer import Optimizer
from dendrite.tensor import Tensor, wrap

__all__ = ["LRScheduler"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch "
    "is different from None, the closed form is used instead of the new chainable form, where available."
)


def _copy(value):
    """A copy that does not alias a tensor learning rate (plain numbers are immutable already)."""
    return wrap(value.array.copy()) if isinstance(value, Tensor) else value


def format_param(name: str, optimizer: Optimizer, param) -> list:
    """One value per parameter group: a list of the right length, or a single value repeated."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. {name} has {len(param)} "
                f"values, param_groups has {len(optimizer.param_groups)}."
            )
    else:
        param = [param] * len(optimizer.param_groups)
    return [_copy(value) for value in param]


def group_values(optimizer: Optimizer, key: str) -> list:
    """``group[key]`` for each parameter group (tensors copied, so callers cannot alias them)."""
    return [_copy(group[key]) for group in optimizer.param_groups]


def set_group_value(group: dict, key: str, value) -> None:
    """Set ``group[key]``; a tensor learning rate is filled in place instead of replaced."""
    current = group[key]
    if isinstance(current, Tensor):
        current.array.fill(float(value))
    else:
        group[key] = value


def check_optimizer(scheduler: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{scheduler}: {type(optimizer).__name__} is not an Optimizer; "
                        "expected e.g. dendrite.optim.SGD(model.parameters(), lr=0.1)")


class LRScheduler:
    """Base class of the learning-rate schedulers (``torch.optim.lr_scheduler.LRScheduler``).

    Subclasses implement ``get_lr()``: the next learning rate of each group,
    called with ``last_epoch`` already advanced. Creating a scheduler sets
    ``group["initial_lr"]`` (once) and takes one step to epoch 0.

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        last_epoch: index of the last epoch; -1 (default) starts a new schedule.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.ones(2))
        >>> opt = dendrite.optim.SGD([w], lr=0.1)
        >>> scheduler = dendrite.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> for epoch in range(4):
        ...     opt.step()
        ...     scheduler.step()
        >>> scheduler.get_last_lr()
        [0.025]
    """

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy(group["lr"]))
        else:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{index}] when resuming "
                        f"{type(self).__name__} with last_epoch={last_epoch}; load the optimizer's "
                        "state_dict first, or use last_epoch=-1 for a fresh schedule"
                    )
        self.base_lrs: list = group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and take the step to epoch 0."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (restore it with :meth:`load_state_dict`).

        Example:
            >>> import dendrite
            >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
            >>> dendrite.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9).state_dict()["last_epoch"]
            0
        """
        return {key: _shallow_copy(value) for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by :meth:`state_dict` (e.g. when resuming training).

        Example:
            >>> import dendrite
            >>> from dendrite.optim.lr_scheduler import StepLR
            >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
            >>> first = StepLR(opt, step_size=1, gamma=0.5)
            >>> opt.step(); first.step()
            >>> second = StepLR(dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1), 1)
            >>> second.load_state_dict(first.state_dict())
            >>> second.last_epoch, second.gamma, second.get_last_lr()
            (1, 0.5, [0.05])
        """
        self.__dict__.update({key: _shallow_copy(value) for key, value in state_dict.items()})

    def get_last_lr(self) -> list:
        """The learning rates of the groups as last set by this scheduler."""
        return self._last_lr

    def get_lr(self) -> list:
        """The next learning rate of each group (implemented by each schedule)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def _warn_if_called_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (call after ``optimizer.step()``) and set the groups' learning rates."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call them in the "
                "order `optimizer.step()` then `lr_scheduler.step()`, or the first value of the "
                "learning rate schedule is skipped.", UserWarning, stacklevel=2,
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            set_group_value(group, "lr", lr)
        self._last_lr = group_values(self.optimizer, "lr")


def _shallow_copy(value):
    # Lists and dicts are copied so a saved state is a snapshot, not a live view.
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return value.copy()
    return value


def lambdas_state(lr_lambdas: list) -> list:
    """What a state dict keeps of the lambdas: the attributes of callable objects, None for functions."""
    return [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in lr_lambdas]
