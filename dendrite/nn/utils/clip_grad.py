"""Gradient clipping: rescale or clamp ``.grad`` in place before the optimizer step.

Clipping keeps one unlucky batch (or an exploding RNN) from throwing the
weights far away: ``clip_grad_norm_`` shrinks all gradients together so their
combined norm is at most ``max_norm`` (the direction is kept);
``clip_grad_value_`` clamps each element independently.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from dendrite import backend
from dendrite.backend import xp
from dendrite.tensor import Tensor, wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm(array, norm_type: float):
    if norm_type == 2 and array.dtype.kind == "f":  # the common case: no |x| pass needed for a sum of squares
        flat = array.astype(xp.float64, copy=False).ravel()
        return math.sqrt(float(xp.vdot(flat, flat)))
    array = xp.abs(array.astype(xp.float64, copy=False))
    if norm_type == math.inf:
        return array.max(initial=0.0)
    if norm_type == -math.inf:
        return array.min(initial=math.inf)
    if norm_type == 0:
        return float(xp.count_nonzero(array))
    if norm_type == 2:
        return math.sqrt(float(xp.vdot(array.ravel(), array.ravel())))
    return float((array**norm_type).sum() ** (1.0 / norm_type))


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """The ``norm_type``-norm of all tensors together, as if concatenated into one vector.

    Tensors of any shapes; returns a 0-d tensor (``inf`` gives the largest absolute value).

    Example:
        >>> import dendrite
        >>> float(dendrite.nn.utils.get_total_norm([dendrite.tensor([3.0]), dendrite.tensor([[4.0]])]))
        5.0
        >>> float(dendrite.nn.utils.get_total_norm([dendrite.tensor([3.0, -7.0])], norm_type=float("inf")))
        7.0
    """
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return wrap(backend.asarray(0.0, dtype=xp.float32))
    norms = backend.asarray([_norm(t.array, norm_type) for t in tensors])
    total = _norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    # the gradients' device, as PyTorch (the sum above is read back to the host once per tensor)
    return wrap(backend.move_like(tensors[0].array, backend.asarray(total, dtype=tensors[0].dtype)))


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so their total norm is at most ``max_norm``; in place.

    Gradients of any shapes. Returns the total norm *before* clipping (a 0-d tensor), handy for logging.
    As in PyTorch the scale is ``max_norm / (total_norm + 1e-6)`` capped at 1.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.ones(4))
        >>> (w * 10).sum().backward()              # grad = [10, 10, 10, 10], norm 20
        >>> float(dendrite.nn.utils.clip_grad_norm_([w], max_norm=1.0))
        20.0
        >>> round(float(w.grad.norm()), 4)
        1.0
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = _grads(list(parameters))
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total_norm
    clip_coef = float(max_norm) / (float(total_norm.array) + 1e-6)
    clip_coef_clamped = min(clip_coef, 1.0)
    for grad in grads:
        # PyTorch multiplies even when the factor is 1 (and by NaN when the norm is NaN).
        grad.array[...] *= grad.array.dtype.type(clip_coef_clamped)
    return total_norm


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``; in place (gradients of any shapes).

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.ones(2))
        >>> (w * dendrite.tensor([5.0, -0.5])).sum().backward()
        >>> dendrite.nn.utils.clip_grad_value_([w], 1.0)
        >>> w.grad.tolist()
        [1.0, -0.5]
    """
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        xp.clip(grad.array, -clip_value, clip_value, out=grad.array)
