"""Adagrad: per-coordinate step sizes that shrink with the sum of all squared gradients.

PyTorch's update at step ``t`` (``s`` is the running ``sum``)::

    g = -g                                   if maximize
    g = g + weight_decay * p                 if weight_decay != 0
    clr = lr / (1 + (t - 1) * lr_decay)
    s = s + g * g
    p = p - clr * g / (sqrt(s) + eps)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dendrite.backend import xp
from dendrite.optim.blocks import blocks
from dendrite.optim.optimizer import Optimizer, check_option, new_step_counter
from dendrite.tensor import wrap

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), as ``torch.optim.Adagrad``.

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        lr_decay: the learning rate at step t is ``lr / (1 + (t - 1) * lr_decay)`` (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: starting value of the sum of squared gradients (default 0).
        eps: added to the denominator after the square root (default 1e-10).
        maximize: ascend the objective instead of descending it.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
        >>> opt = dendrite.optim.Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(value, 4) for value in w.tolist()]
        [0.9, -1.9]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_option("Adagrad", lr >= 0.0, "learning rate", lr, "lr >= 0")
        check_option("Adagrad", lr_decay >= 0.0, "lr_decay value", lr_decay, "lr_decay >= 0")
        check_option("Adagrad", weight_decay >= 0.0, "weight_decay value", weight_decay, "weight_decay >= 0")
        check_option("Adagrad", initial_accumulator_value >= 0.0, "initial_accumulator_value value",
                     initial_accumulator_value, "initial_accumulator_value >= 0")
        check_option("Adagrad", eps >= 0.0, "epsilon value", eps, "eps >= 0")
        if differentiable:
            raise NotImplementedError("Adagrad: differentiable=True is not supported by dendrite")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state eagerly, so it is in state_dict() before the first step.
        for group in self.param_groups:
            for p in group["params"]:
                _init_state(self.state[p], p.array, group)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; returns the closure's loss if one is given."""
        loss = self._evaluate(closure) if closure is not None else None
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            # _init_state here serves groups added after construction.
            for param, grad, state in self.regularized_gradients(group, _init_state):
                step = float(state["step"].array)
                clr = lr / (1 + (step - 1) * lr_decay)
                # a block at a time: temporaries of one block, not of the parameter's size
                for p, g, state_sum in blocks(param, grad, state["sum"].array):
                    scratch = g * g
                    state_sum += scratch
                    xp.sqrt(state_sum, out=scratch)
                    scratch += eps
                    xp.divide(g, scratch, out=scratch)
                    scratch *= clr
                    p -= scratch
        return loss


def _init_state(state: dict, param, group: dict) -> None:
    state["step"] = new_step_counter()
    state["sum"] = wrap(xp.full_like(param, group["initial_accumulator_value"]))
