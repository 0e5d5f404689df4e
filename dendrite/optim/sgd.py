"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay.

PyTorch's update, step by step (``g`` is the gradient, ``b`` the momentum buffer)::

    g = -g                       if maximize
    g = g + weight_decay * p     if weight_decay != 0
    b = g                        on the first step with momentum (no dampening)
    b = momentum * b + (1 - dampening) * g     afterwards
    g = g + momentum * b         if nesterov, else g = b
    p = p - lr * g
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dendrite.optim.blocks import add_scaled_, blocks, subtract_scaled_
from dendrite.optim.flat import FlatGroup
from dendrite.optim.optimizer import Optimizer, check_option
from dendrite.tensor import wrap

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (default 1e-3, as in PyTorch 2.x).
        momentum: momentum factor (default 0: plain SGD).
        dampening: dampening for momentum (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead of descending it.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
        >>> opt = dendrite.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(value, 4) for value in w.tolist()]
        [0.8, -1.6]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_option("SGD", lr >= 0.0, "learning rate", lr, "lr >= 0")
        check_option("SGD", momentum >= 0.0, "momentum value", momentum, "momentum >= 0")
        check_option("SGD", weight_decay >= 0.0, "weight_decay value", weight_decay, "weight_decay >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        if differentiable:
            raise NotImplementedError("SGD: differentiable=True is not supported by dendrite")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        self._flat_groups: list[FlatGroup] = []  # per parameter group, by position (optim/flat.py)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; returns the closure's loss if one is given."""
        loss = self._evaluate(closure) if closure is not None else None
        flat_groups = self._flat_groups
        for index, group in enumerate(self.param_groups):
            lr = float(group["lr"])
            momentum = group["momentum"]
            weight_decay = group["weight_decay"]
            maximize = group["maximize"]
            if momentum == 0 and weight_decay == 0:
                # The common plain-SGD case: p -= lr * g, a block at a time (no parameter-sized temporary).
                if maximize:
                    lr = -lr
                params = group["params"]
                while len(flat_groups) <= index:
                    flat_groups.append(FlatGroup())
                # A small group's parameters as views of one array: two NumPy calls for all of them.
                if flat_groups[index].subtract_scaled_(params, lr):
                    continue
                for p in params:
                    grad = p.grad
                    if grad is not None:
                        subtract_scaled_(p.array, lr, grad.array)
                continue
            self._momentum_step(group, lr, momentum)
        return loss

    def _momentum_step(self, group: dict, lr: float, momentum: float) -> None:
        dampening = group["dampening"]
        nesterov = group["nesterov"]
        # Momentum needs per-parameter state; PyTorch keeps none (not even an empty dict) without it.
        init_state = _no_initial_state if momentum != 0 else None
        for param, d_p, state in self.regularized_gradients(group, init_state):
            if momentum != 0:
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    # PyTorch starts the buffer at the first (decayed) gradient, not at zero.
                    buf = d_p.copy()
                    state["momentum_buffer"] = wrap(buf)
                else:
                    buf = buffer.array
                    buf *= momentum
                    if dampening != 0:
                        add_scaled_(buf, 1 - dampening, d_p)
                    else:
                        buf += d_p
                if nesterov:  # p -= lr * (g + momentum * b), a block at a time
                    for p, g, b in blocks(param, d_p, buf):
                        p -= lr * (g + momentum * b)
                    continue
                d_p = buf
            subtract_scaled_(param, lr, d_p)


def _no_initial_state(state: dict, param, group: dict) -> None:
    """SGD's momentum buffer starts at the first gradient, inside ``step``; nothing to create."""
