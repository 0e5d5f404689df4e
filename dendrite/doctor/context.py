"""The doctor's laboratory: a copy of the user's model, an optimizer like theirs, seeded batches, short runs.

Every probe works through one :class:`Context`. It holds a deep copy of the
model (taken once; :meth:`Context.fresh` gives each experiment its own copy of
that copy), a recipe for an optimizer equivalent to the user's
(:class:`OptimizerRecipe`: same class, same per-group hyper-parameters, bound
to the copied parameters), the loss, the task and host copies of the data.
Nothing here touches the user's objects after the copy is made.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import dendrite.nn.functional as F
from dendrite import nn, optim
from dendrite.autograd.grad_mode import no_grad
from dendrite.backend import to_host
from dendrite.creation import tensor
from dendrite.doctor.inputs import DataSample

__all__ = ["Context", "OptimizerRecipe", "loss_kind", "host"]

_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout)


def host(value) -> np.ndarray:
    """A tensor's values as a NumPy array on the host (read-only use)."""
    return np.asarray(to_host(value.array))


def loss_kind(loss_fn: Callable) -> str:
    """What the loss expects: ``"cross_entropy"`` (logits, class ids), ``"nll"`` (log-probabilities),
    ``"bce_logits"``, ``"bce"`` (probabilities), ``"mse"``, ``"l1"`` (pointwise regression) or ``"other"``.

    Example:
        >>> loss_kind(F.cross_entropy), loss_kind(nn.MSELoss()), loss_kind(lambda out, y: out.sum())
        ('cross_entropy', 'mse', 'other')
    """
    table = [
        ("cross_entropy", F.cross_entropy, nn.CrossEntropyLoss),
        ("nll", F.nll_loss, nn.NLLLoss),
        ("bce_logits", F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss),
        ("bce", F.binary_cross_entropy, nn.BCELoss),
        ("mse", F.mse_loss, nn.MSELoss),
        ("l1", F.l1_loss, nn.L1Loss),
        ("l1", F.smooth_l1_loss, nn.SmoothL1Loss),
        ("l1", F.huber_loss, nn.HuberLoss),
    ]
    for kind, function, module in table:
        if loss_fn is function or isinstance(loss_fn, module):
            return kind
    return "other"


@dataclass
class OptimizerRecipe:
    """How to build an optimizer like the user's for a copy of the model.

    ``groups`` holds, per parameter group, the hyper-parameters (everything but
    ``params``) and the positions of its parameters in ``list(model.parameters())``.
    A callable ``factory`` (``params -> optimizer``) is used as given instead.
    """

    cls: type | None
    groups: list[dict[str, Any]] = field(default_factory=list)
    positions: list[list[int]] = field(default_factory=list)
    factory: Callable | None = None
    template: Any = None  # the user's optimizer, for the deep-copy fallback

    @property
    def name(self) -> str:
        return self.cls.__name__ if self.cls is not None else "optimizer"

    @property
    def lr(self) -> float | None:
        return float(self.groups[0]["lr"]) if self.groups and "lr" in self.groups[0] else None

    @property
    def weight_decay(self) -> float:
        return float(self.groups[0].get("weight_decay", 0.0) or 0.0) if self.groups else 0.0

    def build(self, model: nn.Module, lr: float | None = None, weight_decay: float | None = None):
        """An optimizer for ``model`` (a copy of the user's): same class and groups; ``lr`` scales every
        group's rate so the first group's equals ``lr``; ``weight_decay`` replaces every group's."""
        params = list(model.parameters())
        if self.factory is not None and lr is None and weight_decay is None:
            return self.factory(params)
        groups = []
        scale = 1.0 if lr is None or not self.lr else lr / self.lr
        for hyper, where in zip(self.groups, self.positions):
            group = {key: value for key, value in hyper.items() if key not in ("params", "param_names")}
            if "lr" in group:
                group["lr"] = float(group["lr"]) * scale
            if weight_decay is not None and "weight_decay" in group:
                group["weight_decay"] = weight_decay
            group["params"] = [params[i] for i in where]
            if group["params"]:
                groups.append(group)
        if not groups:  # the user's optimizer was built for another model's parameters
            raise ValueError("the optimizer holds none of this model's parameters (see the "
                             "params-not-in-optimizer finding); the probes that train need one built from "
                             "model.parameters()")
        try:
            return self.cls(groups)
        except TypeError:  # a constructor with required arguments: copy the user's and rebind
            built = copy.copy(self.template)
            built.param_groups, built.state = groups, type(self.template.state)(dict)
            return built

    @staticmethod
    def of(optimizer, model: nn.Module) -> tuple[OptimizerRecipe, dict[str, Any]]:
        """The recipe of ``optimizer`` (an instance, a callable ``params -> optimizer`` or ``None``
        for Adam(lr=1e-3)) and facts for the ``params-not-in-optimizer`` probe."""
        params = list(model.parameters())
        if optimizer is None:
            return OptimizerRecipe(optim.Adam, [{"lr": 1e-3}], [list(range(len(params)))]), {"given": False}
        if isinstance(optimizer, optim.Optimizer):
            instance, facts = optimizer, {"given": True}
        elif callable(optimizer):
            probe_model = copy.deepcopy(model)
            instance = optimizer(list(probe_model.parameters()))
            if not isinstance(instance, optim.Optimizer):
                raise TypeError(f"examine: optimizer(params) returned a {type(instance).__name__}; expected "
                                "a dendrite.optim optimizer such as optim.Adam(params, lr=1e-3)")
            params, facts = list(probe_model.parameters()), {"given": True}
        else:
            raise TypeError(f"examine: optimizer must be a dendrite.optim optimizer, a callable params -> "
                            f"optimizer, or None (Adam, lr=1e-3); got {type(optimizer).__name__}")
        index = {id(p): i for i, p in enumerate(params)}
        groups, positions, foreign = [], [], 0
        for group in instance.param_groups:
            groups.append({k: v for k, v in group.items() if k not in ("params", "param_names")})
            positions.append([index[id(p)] for p in group["params"] if id(p) in index])
            foreign += sum(id(p) not in index for p in group["params"])
        covered = {i for where in positions for i in where}
        facts["missing"] = [i for i, p in enumerate(params) if p.requires_grad and i not in covered]
        facts["foreign"] = foreign
        factory = optimizer if callable(optimizer) and not isinstance(optimizer, optim.Optimizer) else None
        return OptimizerRecipe(type(instance), groups, positions, factory, instance), facts


class Context:
    """Everything a probe needs: model copy, optimizer recipe, loss, data sample, seeded randomness.

    Args:
        model: a deep copy of the user's model (owned by the doctor).
        recipe: how to build the user's optimizer for a copy.
        loss_fn: ``loss_fn(output, target) -> scalar tensor``.
        task: ``"classification"`` or ``"regression"``.
        train, val: host copies of the data (``val`` may be ``None``).
        seed: seed of every random choice the probes make.
    """

    def __init__(self, model: nn.Module, recipe: OptimizerRecipe, loss_fn: Callable, task: str,
                 train: DataSample, val: DataSample | None, seed: int, deadline: float,
                 optimizer_facts: dict | None = None) -> None:
        self.model, self.recipe, self.loss_fn, self.task = model, recipe, loss_fn, task
        self.kind = loss_kind(loss_fn)
        self.train, self.val, self.seed, self.deadline = train, val, seed, deadline
        self.optimizer_facts = optimizer_facts or {}
        self.order = np.random.default_rng(seed).permutation(len(train))
        self.num_outputs: int | None = None  # classes (cross-entropy) / outputs, set by the first forward
        self.forward_s = 0.0  # one forward pass on a probe batch, measured
        self.step_s = 0.0  # one training step on a training batch, measured
        self.found: dict[str, Any] = {}  # code -> finding, for probes that defer to an earlier cause
        self.notes: dict[str, Any] = {}  # measured figures shared between probes

    # ------------------------------------------------------------------ data
    def indices(self, count: int, offset: int = 0) -> np.ndarray:
        """``count`` example positions from the seeded order (fewer when the sample is smaller)."""
        return self.order[offset: offset + count]

    def batch(self, count: int, offset: int = 0, data: DataSample | None = None):
        """The tensors ``(inputs, targets)`` of ``count`` examples (a fixed, seeded choice)."""
        data = data or self.train
        where = self.indices(count, offset) if data is self.train else np.arange(min(count, len(data)))
        return tensor(data.inputs[where]), tensor(data.targets[where])

    def time_left(self) -> float:
        return self.deadline - time.perf_counter()

    # ------------------------------------------------------------------ models and runs
    def fresh(self, dropout: bool = False) -> nn.Module:
        """A new copy of the doctor's model; dropout layers switched off unless ``dropout``.

        Dropout makes the loss of a fixed batch noisy, which hides the trend a short run measures;
        everything else (BatchNorm's batch statistics included) keeps the user's train/eval mode.
        """
        model = copy.deepcopy(self.model)
        if not dropout:
            for module in model.modules():
                if isinstance(module, _DROPOUT):
                    module.eval()
        return model

    def loss(self, output, target):
        return self.loss_fn(output, target)

    def evaluate(self, model: nn.Module, x, y) -> float:
        with no_grad():
            return float(self.loss(model(x), y).item())

    def run(self, model: nn.Module, optimizer, x, y, steps: int, *, stop_below: Callable | None = None,
            watch: Callable | None = None) -> list[float]:
        """Train ``steps`` steps on the fixed batch ``(x, y)``; the losses before each step and after it.

        Stops early at a non-finite loss, when ``stop_below(model, output, loss)`` is true, or when the
        time budget runs out (then the list is shorter than ``steps + 1``).
        """
        losses: list[float] = []
        for step in range(steps):
            optimizer.zero_grad()
            output = model(x)
            loss = self.loss(output, y)
            value = float(loss.item())
            losses.append(value)
            if not math.isfinite(value) or (stop_below is not None and stop_below(model, output, value)):
                return losses
            if self.time_left() <= 0:
                return losses
            loss.backward()
            if watch is not None:
                watch(step, model)
            optimizer.step()
        losses.append(self.evaluate(model, x, y))
        return losses

    def accuracy(self, output, target) -> float | None:
        """Share of correct predictions (classification), ``None`` for regression."""
        out, y = host(output), host(target)
        if self.kind in ("bce_logits", "bce"):
            threshold = 0.0 if self.kind == "bce_logits" else 0.5
            return float(np.mean((out > threshold) == (y > 0.5)))
        if self.task != "classification" or out.ndim < 2:
            return None
        predicted = out.argmax(axis=1)
        valid = y != -100
        if predicted.shape != y.shape or not valid.any():
            return None
        return float(np.mean(predicted[valid] == y[valid]))

    def baseline_loss(self, y) -> float | None:
        """The loss of the best constant prediction for pointwise regression losses (mean or median)."""
        targets = host(y).astype(np.float64)
        if self.kind == "mse" or (self.kind == "other" and self.task == "regression"):
            return float(np.mean((targets - targets.mean(axis=0)) ** 2))
        if self.kind == "l1":
            return float(np.mean(np.abs(targets - np.median(targets, axis=0))))
        return None
