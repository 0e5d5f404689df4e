"""What the activation files share: ``inplace=True`` (``finish_inplace``) and float inputs (``_unary``).

``inplace=True`` overwrites the input when no graph is being recorded through
it; while recording, the result is computed out of place (same values, and
the graph stays correct) — a leaf that requires grad is refused, as in PyTorch.
Used by :mod:`dendrite.nn.functional.activation`, ``activation_smooth`` and ``activation_leaky``.
"""

from __future__ import annotations

from dendrite.autograd.grad_mode import state
from dendrite.backend import xp
from dendrite.ops.operands import to_float
from dendrite.tensor import Tensor


def finish_inplace(input: Tensor, output: Tensor, inplace: bool, name: str) -> Tensor:
    """Honour ``inplace=True`` where that is safe (see the module docstring)."""
    if not inplace:
        return output
    if state.grad_enabled and input.requires_grad:
        if input._ctx is None:
            raise RuntimeError(
                f"{name}(inplace=True): a leaf tensor that requires grad cannot be modified in place; "
                "pass inplace=False"
            )
        return output
    xp.copyto(input.array, output.array, casting="unsafe")
    return input


def _unary(function, input: Tensor, **options) -> Tensor:
    return function.apply(to_float(input), **options)
