"""Why the loss became NaN: the first operation (or optimizer step) that made a NaN/Inf, and the fix.

:func:`trace_nan` runs one training step of yours under
:class:`dendrite.autograd.detect_anomaly` and turns the first NaN/Inf into a
:class:`~dendrite.doctor.Finding`: which operation made it, what kind of
accident it was (log of 0, exp overflow, 0/0, NaN already in the data...),
your line, and the fix. :func:`check_optimizer_step` does the same for an
optimizer step: finite weights before ``step()``, NaN/Inf after.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dendrite.autograd import AnomalyError, AnomalyOrigin, detect_anomaly
from dendrite.autograd.anomaly import user_frame
from dendrite.autograd.anomaly_origin import fix_for
from dendrite.doctor.report import Finding

__all__ = ["trace_nan", "check_optimizer_step", "finding_from_origin", "StepSnapshot"]

PROBE = "nan-origin"


def finding_from_origin(origin: AnomalyOrigin, step: int | None = None, probe: str = PROBE) -> Finding:
    """The :class:`Finding` for one NaN origin (code ``"nan-loss"``; ``"nan-in-data"`` when the data held it).

    Example:
        >>> from dendrite.autograd import AnomalyOrigin
        >>> f = finding_from_origin(AnomalyOrigin("Exp", "exp-overflow", "train.py:3", "max input 120"))
        >>> f.code, f.title
        ('nan-loss', 'Exp made the first NaN/Inf (forward): exp overflow (= inf)')
    """
    code = "nan-in-data" if origin.kind == "nan-in-data" else "nan-loss"
    evidence: dict[str, Any] = {"op": origin.op, "kind": origin.kind, "phase": origin.phase,
                                "where": origin.where, "detail": origin.detail}
    if step is not None:
        evidence = {"step": step, **evidence}
    if origin.inputs:
        evidence["inputs"] = list(origin.inputs)
    title = f"{origin.op} made the first NaN/Inf ({origin.phase}): {origin.title}"
    return Finding(code, "error", title, evidence, origin.fix, probe)


def _as_float(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    array = getattr(value, "array", value)
    if getattr(array, "size", 0) == 1 and getattr(getattr(array, "dtype", None), "kind", "") == "f":
        return float(np.asarray(array).reshape(()))
    return None


def trace_nan(step: Callable[..., Any], *args: Any, **kwargs: Any) -> Finding | None:
    """Run ``step(*args, **kwargs)`` under anomaly detection; a Finding for the first NaN/Inf, else ``None``.

    ``step`` is one training step of yours (forward, loss, ``backward()``, even
    ``optimizer.step()``); it runs once, for real. The finding's evidence names
    the operation (``op``), the ``kind`` of accident, the ``phase`` (forward or
    backward), your source line (``where``) and a summary of the operation's
    inputs (shape, size, min, max, NaN/Inf/zero counts); its ``fix`` is the
    fix for that kind. Code ``"nan-loss"``, or ``"nan-in-data"`` when the NaN
    was already in the data. Any other exception propagates.

    Example:
        >>> import dendrite
        >>> import dendrite.nn.functional as F
        >>> logits = dendrite.tensor([[0.0, 200.0]], requires_grad=True)
        >>> def step():
        ...     loss = -F.softmax(logits, dim=1).log()[0, 0]
        ...     loss.backward()
        >>> finding = trace_nan(step)
        >>> finding.evidence["op"], finding.evidence["kind"]
        ('Log', 'log-of-zero')
        >>> "F.log_softmax" in finding.fix
        True
    """
    if not callable(step):
        raise TypeError(f"trace_nan: step must be a function that runs one training step, "
                        f"got {type(step).__name__}; e.g. trace_nan(lambda: loss_fn(model(x), y).backward())")
    try:
        with np.errstate(all="ignore"), detect_anomaly():
            result = step(*args, **kwargs)
    except AnomalyError as error:
        if error.origin is None:
            return Finding("nan-loss", "error", "A NaN/Inf appeared", {"message": str(error)},
                           "Inspect the operation named in the message.", PROBE)
        return finding_from_origin(error.origin)
    value = _as_float(result)
    if value is not None and not math.isfinite(value):
        # Only possible when the NaN was made outside dendrite's operations (NumPy, Python floats).
        return Finding("nan-loss", "error", "The step returned a non-finite value that no dendrite "
                       "operation made", {"value": value, "where": user_frame()},
                       "Look for NaN/Inf made outside dendrite (NumPy or Python arithmetic on the loss).",
                       PROBE)
    return None


@dataclass
class StepSnapshot:
    """What the optimizer's parameters looked like just before ``step()``, to judge the step after.

    Shapes: ``weights[i]`` is a copy of parameter ``i`` (only when ``copy=True``),
    ``finite[i]`` whether it was finite, ``grad_max[i]`` the largest |gradient|
    (``None`` without a gradient), ``grad_finite[i]`` whether its gradient was finite.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.ones(2))
        >>> (w * 3).sum().backward()
        >>> snapshot = StepSnapshot.take(dendrite.optim.SGD([w], lr=0.1))
        >>> snapshot.finite, snapshot.grad_max
        ([True], [3.0])
    """

    params: list
    lrs: list
    finite: list
    grad_max: list
    grad_finite: list
    weights: list | None = None

    @classmethod
    def take(cls, optimizer, copy: bool = False) -> StepSnapshot:
        """Snapshot the parameters of ``optimizer`` (a ``dendrite.optim`` optimizer)."""
        params, lrs, finite, grad_max, grad_finite, weights = [], [], [], [], [], []
        for group in optimizer.param_groups:
            for param in group["params"]:
                array = param.array
                params.append(param)
                lrs.append(group.get("lr"))
                finite.append(bool(np.isfinite(array).all()))
                grad = None if param.grad is None else param.grad.array
                grad_finite.append(grad is None or bool(np.isfinite(grad).all()))
                if grad is None or grad.size == 0:
                    grad_max.append(None)
                else:
                    grad_max.append(float(np.abs(grad).max()) if grad_finite[-1] else math.nan)
                if copy:
                    weights.append(array.copy())
        return cls(params, lrs, finite, grad_max, grad_finite, weights if copy else None)

    def origin_after(self, optimizer_name: str = "optimizer", names: dict | None = None,
                     where: str = "<unknown>") -> AnomalyOrigin | None:
        """The origin when a parameter that was finite before the step is not finite now, else ``None``.

        Example:
            >>> import dendrite
            >>> w = dendrite.nn.Parameter(dendrite.tensor([1e10, 1.0]))
            >>> (w * w).sum().backward()
            >>> optimizer = dendrite.optim.SGD([w], lr=1e30)
            >>> before = StepSnapshot.take(optimizer)
            >>> before.origin_after() is None  # nothing stepped yet
            True
            >>> with np.errstate(over="ignore"):  # the step overflows: that is the point
            ...     optimizer.step()
            >>> origin = before.origin_after("SGD", {id(w): "w"})
            >>> origin.kind, origin.op
            ('optimizer-step', 'SGD.step')
        """
        for index, param in enumerate(self.params):
            if not self.finite[index]:
                continue
            array = param.array
            bad = ~np.isfinite(array)
            if not bad.any():
                continue
            name = (names or {}).get(id(param), f"param {index}")
            grad_max, lr = self.grad_max[index], self.lrs[index]
            if not self.grad_finite[index]:
                gradient = "its gradient already held NaN/Inf (the backward pass made it: use trace_nan)"
            elif grad_max is None:
                gradient = "it had no gradient (weight decay or momentum moved it)"
            else:
                gradient = f"its gradient was finite, max |grad| {grad_max:.3g}"
            detail = (f"'{name}' {tuple(array.shape)} was finite before {optimizer_name}.step() and holds "
                      f"{int(np.isnan(array).sum())} NaN and {int(np.isinf(array).sum())} Inf after; "
                      f"{gradient}; lr={lr}.")
            return AnomalyOrigin(op=f"{optimizer_name}.step", kind="optimizer-step", where=where,
                                 detail=detail, fix=fix_for("optimizer-step"), phase="step",
                                 inputs=({"param": name, "shape": tuple(array.shape), "lr": lr,
                                          "grad_max": grad_max, "grad_finite": self.grad_finite[index]},))
        return None


def _names(model) -> dict:
    if model is None:
        return {}
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"check_optimizer_step: model must be a dendrite.nn.Module (to name parameters), "
                        f"got {type(model).__name__}")
    return {id(param): name for name, param in model.named_parameters()}


def check_optimizer_step(optimizer, *step_args: Any, model=None, step: int | None = None,
                         **step_kwargs: Any) -> Finding | None:
    """Run ``optimizer.step(*step_args, **step_kwargs)`` and report if it made finite weights NaN/Inf.

    Returns a ``"nan-loss"`` :class:`Finding` (kind ``"optimizer-step"``) naming the
    parameter (by its name in ``model`` when given), its gradient's size and the
    learning rate, with the fix (lower the lr, clip gradients); ``None`` when
    the step kept every finite weight finite. The step really happens.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.tensor([1e10, 1.0]))
        >>> (w * w).sum().backward()
        >>> finding = check_optimizer_step(dendrite.optim.SGD([w], lr=1e30))
        >>> finding.evidence["kind"], "clip_grad_norm_" in finding.fix
        ('optimizer-step', True)
    """
    if not hasattr(optimizer, "param_groups") or not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"check_optimizer_step: expected a dendrite.optim optimizer (with param_groups and "
                        f"step()), got {type(optimizer).__name__}")
    names = _names(model)
    snapshot = StepSnapshot.take(optimizer)
    with np.errstate(all="ignore"):
        optimizer.step(*step_args, **step_kwargs)
    origin = snapshot.origin_after(type(optimizer).__name__, names, user_frame())
    return None if origin is None else finding_from_origin(origin, step)


def all_finite(tensors: Iterable) -> bool:
    """True when every tensor's array is finite.

    Example:
        >>> import dendrite
        >>> all_finite([dendrite.ones(2), dendrite.tensor([float("nan")])])
        False
    """
    return all(bool(np.isfinite(tensor.array).all()) for tensor in tensors)
