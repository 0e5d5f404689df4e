"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

PyTorch's update (``v`` is ``square_avg``, ``a`` is ``grad_avg``, ``b`` the momentum buffer)::

    g = -g                                   if maximize
    g = g + weight_decay * p                 if weight_decay != 0
    v = alpha * v + (1 - alpha) * g * g
    a = lerp(a, g, 1 - alpha)                if centered
    avg = sqrt(v - a * a) + eps              if centered, else sqrt(v) + eps
    b = momentum * b + g / avg;  p = p - lr * b      if momentum > 0
    p = p - lr * g / avg                             otherwise
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dendrite.backend import xp
from dendrite.optim.adam import lerp_
from dendrite.optim.blocks import blocks
from dendrite.optim.optimizer import Optimizer, check_option, new_step_counter
from dendrite.tensor import wrap

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), as ``torch.optim.RMSprop``, optionally centered and with momentum.

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the running squared average (default 0.99).
        eps: added to the denominator after the square root (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by the estimated variance instead of the raw second moment.
        maximize: ascend the objective instead of descending it.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
        >>> opt = dendrite.optim.RMSprop([w], lr=0.01)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(value, 4) for value in w.tolist()]
        [0.9, -1.9]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_option("RMSprop", lr >= 0.0, "learning rate", lr, "lr >= 0")
        check_option("RMSprop", eps >= 0.0, "epsilon value", eps, "eps >= 0")
        check_option("RMSprop", momentum >= 0.0, "momentum value", momentum, "momentum >= 0")
        check_option("RMSprop", weight_decay >= 0.0, "weight_decay value", weight_decay, "weight_decay >= 0")
        check_option("RMSprop", alpha >= 0.0, "alpha value", alpha, "alpha >= 0")
        if differentiable:
            raise NotImplementedError("RMSprop: differentiable=True is not supported by dendrite")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; returns the closure's loss if one is given."""
        loss = self._evaluate(closure) if closure is not None else None
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            momentum = group["momentum"]
            centered = group["centered"]
            for param, grad, state in self.regularized_gradients(group, _init_state):
                grad_avg = _buffer(state, "grad_avg", param) if centered else None
                buf = _buffer(state, "momentum_buffer", param) if momentum > 0 else None
                # a block at a time: temporaries of one block, not of the parameter's size
                for views in blocks(param, grad, state["square_avg"].array, grad_avg, buf):
                    _update(*views, lr=lr, alpha=alpha, eps=eps, momentum=momentum)
        return loss


def _update(param, grad, square_avg, grad_avg, buf, *, lr: float, alpha: float, eps: float,
            momentum: float) -> None:
    """One RMSprop update of matching arrays (or blocks of them), in place; ``grad_avg`` when
    centered, ``buf`` with momentum, else None."""
    square_avg *= alpha
    avg = grad * grad
    avg *= 1 - alpha
    square_avg += avg
    if grad_avg is not None:
        lerp_(grad_avg, grad, 1 - alpha)
        xp.multiply(grad_avg, grad_avg, out=avg)
        xp.subtract(square_avg, avg, out=avg)
        xp.sqrt(avg, out=avg)
    else:
        xp.sqrt(square_avg, out=avg)
    avg += eps
    if buf is not None:
        buf *= momentum
        xp.divide(grad, avg, out=avg)
        buf += avg
        xp.multiply(buf, lr, out=avg)
    else:
        xp.divide(grad, avg, out=avg)
        avg *= lr
    param -= avg


def _init_state(state: dict, param, group: dict) -> None:
    state["step"] = new_step_counter()
    state["square_avg"] = wrap(xp.zeros_like(param))
    if group["momentum"] > 0:
        state["momentum_buffer"] = wrap(xp.zeros_like(param))
    if group["centered"]:
        state["grad_avg"] = wrap(xp.zeros_like(param))


def _buffer(state: dict, key: str, param):
    """The state array ``key``, created as zeros if an option was switched on after the first step."""
    if key not in state:
        state[key] = wrap(xp.zeros_like(param))
    return state[key].array
