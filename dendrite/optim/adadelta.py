"""Adadelta: step sizes from the ratio of running RMS of past updates to running RMS of gradients.

PyTorch's update (``v`` is ``square_avg``, ``u`` is ``acc_delta``)::

    g = -g                                   if maximize
    g = g + weight_decay * p                 if weight_decay != 0
    v = rho * v + (1 - rho) * g * g
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u = rho * u + (1 - rho) * delta * delta
    p = p - lr * delta
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dendrite.backend import xp
from dendrite.optim.blocks import blocks
from dendrite.optim.optimizer import Optimizer, check_option, new_step_counter
from dendrite.tensor import wrap

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler), as ``torch.optim.Adadelta``.

    Args:
        params: tensors or parameter groups to optimize.
        lr: factor applied to the computed update (default 1.0).
        rho: decay rate of the running averages (default 0.9).
        eps: added inside both square roots (default 1e-6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: ascend the objective instead of descending it.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
        >>> opt = dendrite.optim.Adadelta([w])
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(value, 4) for value in w.tolist()]
        [0.9968, -1.9968]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_option("Adadelta", lr >= 0.0, "learning rate", lr, "lr >= 0")
        check_option("Adadelta", 0.0 <= rho <= 1.0, "rho value", rho, "0 <= rho <= 1")
        check_option("Adadelta", eps >= 0.0, "epsilon value", eps, "eps >= 0")
        check_option("Adadelta", weight_decay >= 0.0, "weight_decay value", weight_decay, "weight_decay >= 0")
        if differentiable:
            raise NotImplementedError("Adadelta: differentiable=True is not supported by dendrite")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; returns the closure's loss if one is given."""
        loss = self._evaluate(closure) if closure is not None else None
        for group in self.param_groups:
            lr = float(group["lr"])
            rho = group["rho"]
            eps = group["eps"]
            for param, grad, state in self.regularized_gradients(group, _init_state):
                # a block at a time: temporaries of one block, not of the parameter's size
                for p, g, square_avg, acc_delta in blocks(param, grad, state["square_avg"].array,
                                                          state["acc_delta"].array):
                    square_avg *= rho
                    std = g * g
                    std *= 1 - rho
                    square_avg += std
                    xp.add(square_avg, eps, out=std)
                    xp.sqrt(std, out=std)
                    delta = acc_delta + eps
                    xp.sqrt(delta, out=delta)
                    delta /= std
                    delta *= g
                    acc_delta *= rho
                    xp.multiply(delta, delta, out=std)
                    std *= 1 - rho
                    acc_delta += std
                    delta *= lr
                    p -= delta
        return loss


def _init_state(state: dict, param, group: dict) -> None:
    state["step"] = new_step_counter()
    state["square_avg"] = wrap(xp.zeros_like(param))
    state["acc_delta"] = wrap(xp.zeros_like(param))
