"""Adam and AdamW: per-parameter step sizes from running moments of the gradient.

PyTorch's update at step ``t`` (``m``, ``v`` start at zero)::

    g = -g                                   if maximize
    p = p * (1 - lr * weight_decay)          AdamW (decoupled weight decay)
    g = g + weight_decay * p                 Adam with weight_decay != 0 (L2 penalty)
    m = lerp(m, g, 1 - beta1)                = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = max(v_max, v)                    if amsgrad (and v_max replaces v below)
    denom = sqrt(v) / sqrt(1 - beta2 ** t) + eps
    p = p - lr / (1 - beta1 ** t) * m / denom
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dendrite.backend import xp
from dendrite.optim.blocks import blocks
from dendrite.optim.optimizer import Optimizer, check_option, new_step_counter
from dendrite.tensor import wrap

__all__ = ["Adam", "AdamW", "lerp_"]


def lerp_(start, end, weight: float) -> None:
    """``start += weight * (end - start)`` in place, rounded as PyTorch's ``lerp_`` rounds.

    PyTorch uses ``start + w * (end - start)`` for ``|w| < 0.5`` and
    ``end - (end - start) * (1 - w)`` otherwise; matching it keeps float32
    trajectories within rounding of PyTorch's. ``start`` and ``end`` are NumPy arrays of one shape.

    Example:
        >>> import numpy
        >>> start = numpy.array([0.0, 10.0])
        >>> lerp_(start, numpy.array([10.0, 10.0]), 0.25)
        >>> start.tolist()
        [2.5, 10.0]
    """
    difference = end - start
    if abs(weight) < 0.5:
        difference *= weight
        start += difference
    else:
        difference *= 1 - weight
        xp.subtract(end, difference, out=start)


class Adam(Optimizer):
    """Adam (Kingma & Ba), as ``torch.optim.Adam``, with optional AMSGrad.

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates of the running mean and the running squared mean of the gradient.
        eps: added to the denominator for numerical stability (after the square root).
        weight_decay: L2 penalty added to the gradient (default 0).
        amsgrad: use the maximum of all second moments so far (AMSGrad).
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: decay the weights directly, as AdamW does.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
        >>> opt = dendrite.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(value, 4) for value in w.tolist()]
        [0.9, -1.9]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        name = type(self).__name__
        check_option(name, lr >= 0.0, "learning rate", lr, "lr >= 0")
        check_option(name, eps >= 0.0, "epsilon value", eps, "eps >= 0")
        check_option(name, len(betas) == 2, "betas", betas, "a pair (beta1, beta2)")
        check_option(name, 0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0], "0 <= beta1 < 1")
        check_option(name, 0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1], "0 <= beta2 < 1")
        check_option(name, weight_decay >= 0.0, "weight_decay value", weight_decay, "weight_decay >= 0")
        if differentiable:
            raise NotImplementedError(f"{name}: differentiable=True is not supported by dendrite")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; returns the closure's loss if one is given."""
        loss = self._evaluate(closure) if closure is not None else None
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(beta) for beta in group["betas"])
            eps = group["eps"]
            amsgrad = group["amsgrad"]
            for param, grad, state in self.regularized_gradients(group, _init_state):
                step = float(state["step"].array)
                max_exp_avg_sq = None
                if amsgrad:
                    if "max_exp_avg_sq" not in state:  # amsgrad switched on after the first step
                        state["max_exp_avg_sq"] = wrap(xp.zeros_like(param))
                    max_exp_avg_sq = state["max_exp_avg_sq"].array
                bias_correction1 = 1 - beta1**step
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                step_size = lr / bias_correction1
                # a block at a time: temporaries of one block, not of the parameter's size
                for views in blocks(param, grad, state["exp_avg"].array, state["exp_avg_sq"].array,
                                    max_exp_avg_sq):
                    _update(*views, beta1=beta1, beta2=beta2, eps=eps, step_size=step_size,
                            bias_correction2_sqrt=bias_correction2_sqrt)
        return loss


def _update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, beta1: float, beta2: float, eps: float,
            step_size: float, bias_correction2_sqrt: float) -> None:
    """One Adam update of matching arrays (or blocks of them), in place."""
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    scratch = grad * grad
    scratch *= 1 - beta2
    exp_avg_sq += scratch
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        xp.sqrt(max_exp_avg_sq, out=scratch)
    else:
        xp.sqrt(exp_avg_sq, out=scratch)
    # denom = sqrt(v) / sqrt(bias_correction2) + eps; p -= step_size * m / denom
    scratch /= bias_correction2_sqrt
    scratch += eps
    xp.divide(exp_avg, scratch, out=scratch)
    scratch *= step_size
    param -= scratch


def _init_state(state: dict, param, group: dict) -> None:
    state["step"] = new_step_counter()
    state["exp_avg"] = wrap(xp.zeros_like(param))
    state["exp_avg_sq"] = wrap(xp.zeros_like(param))
    if group["amsgrad"]:
        state["max_exp_avg_sq"] = wrap(xp.zeros_like(param))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    The weights shrink by ``lr * weight_decay`` each step on their own, instead of
    the decay being added to the gradient (where Adam's scaling would distort it).

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
        >>> opt = dendrite.optim.AdamW([w], lr=0.1, weight_decay=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(value, 4) for value in w.tolist()]
        [0.89, -1.88]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def _after_load(self) -> None:
        # An AdamW always decays decoupled, whatever the loaded state dict says.
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
