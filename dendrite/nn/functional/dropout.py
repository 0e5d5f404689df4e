"""Dropout: zero random elements (or whole channels) while training (``torch.nn.functional``).

Inverted dropout: kept elements are scaled by ``1 / (1 - p)`` during training,
so nothing changes at evaluation time (``training=False`` returns the input).
The random mask comes from dendrite's global generator, so
``dendrite.manual_seed`` makes it repeat. The backward multiplies by the same
(scaled) mask.

Channel-wise variants (``dropout1d/2d/3d``, ``feature_alpha_dropout``) draw one
mask value per (sample, channel) and broadcast it over the spatial positions.
"""

from __future__ import annotations

import warnings

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import state
from dendrite.backend import xp
from dendrite.ops.graph_operands import constant
from dendrite.tensor import Tensor

__all__ = ["alpha_dropout", "dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"]

# SELU's negative saturation value, -scale * alpha: alpha dropout sets dropped units to it.
_ALPHA_PRIME = 1.7580993408473766


class MaskedScale(Function):
    """``x * mask + shift``; ``mask`` (already scaled) and ``shift`` broadcast against ``x``."""

    def forward(self, x, mask, shift):
        self.mask = mask
        out = x * mask
        return out if shift is None else out + shift

    def backward(self, grad):
        # Y = X ⊙ mask + shift:  dX = dY ⊙ mask  (mask already holds the 1 / (1 - p) scale)
        return grad * self.mask

    def backward_graph(self, grad):
        return grad * constant(self.mask, grad), None, None


def _check_p(name: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def _dropout(name: str, input: Tensor, p: float, training: bool, inplace: bool,
             feature: bool = False, alpha: bool = False) -> Tensor:
    _check_p(name, p)
    if p == 0 or not training or input.array.size == 0:
        return input
    data = input.array
    if data.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point input, got dtype {data.dtype}")
    if feature:
        if data.ndim < 2:
            raise RuntimeError(
                f"{name}: channel-wise dropout needs an input of at least 2 dimensions (N, C, ...), "
                f"got shape {tuple(data.shape)}"
            )
        mask_shape = data.shape[:2] + (1,) * (data.ndim - 2)
    else:
        mask_shape = data.shape
    if p == 1:  # PyTorch returns zeros for p = 1 in every variant
        mask, shift = backend.namespace(data).zeros(mask_shape, data.dtype), None
    else:
        # drawn on the host from the one generator (same masks on every device), moved as bools
        keep = backend.move_like(data, backend.generator().random(mask_shape) < (1.0 - p))
        if alpha:
            a = 1.0 / ((_ALPHA_PRIME ** 2 * p + 1) * (1 - p)) ** 0.5
            shift = ((keep - 1.0) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p).astype(data.dtype)
            mask = (keep * a).astype(data.dtype)
        else:
            mask, shift = (keep * (1.0 / (1.0 - p))).astype(data.dtype), None
    result = MaskedScale.apply(input, mask=mask, shift=shift)
    if not inplace:
        return result
    if state.grad_enabled and input.requires_grad:
        if input._ctx is None:
            raise RuntimeError(
                f"{name}(inplace=True): a leaf tensor that requires grad cannot be modified in place; "
                "pass inplace=False"
            )
        return result  # recorded out of place: same values, correct graph
    xp.copyto(data, result.array)
    return input


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``. Any shape.

    Example:
        >>> import dendrite
        >>> _ = dendrite.manual_seed(0)
        >>> y = dropout(dendrite.ones(4), p=0.5)   # entries are 0. or 2.
    """
    return _dropout("dropout", input, p, training, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or unbatched (C, L) input with probability ``p``.

    Survivors are scaled by ``1 / (1 - p)``; the output has the input's shape.

    Example:
        >>> import dendrite
        >>> y = dropout1d(dendrite.ones(2, 3, 4), p=0.5)
        >>> all(len(set(channel)) == 1 for sample in y.tolist() for channel in sample)   # all 0. or all 2.
        True
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)}"
        )
    return _channels("dropout1d", input, p, training, inplace, batched=input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input with probability ``p``; 3-D input is read as (N, C, L).

    Survivors are scaled by ``1 / (1 - p)``; the output has the input's shape.

    Example:
        >>> import dendrite
        >>> y = dropout2d(dendrite.ones(2, 3, 4, 4), p=0.5)
        >>> all(len(set(channel)) == 1 for sample in y.reshape(2, 3, 16).tolist() for channel in sample)
        True
    """
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: received a {input.ndim}-D input; dropout2d expects (N, C, H, W). It will "
            "still zero whole channels along dim 1.",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: received a 3-D input and is treating it as (N, C, L), dropping 1-D channels; "
            "use dropout1d for that, or add a batch dimension for unbatched (C, H, W) input.",
            stacklevel=2,
        )
    return _dropout("dropout2d", input, p, training, inplace, feature=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input with probability ``p``.

    Survivors are scaled by ``1 / (1 - p)``; the output has the input's shape.

    Example:
        >>> import dendrite
        >>> y = dropout3d(dendrite.ones(1, 2, 2, 2, 2), p=0.5)
        >>> all(len(set(channel)) == 1 for channel in y.reshape(2, 8).tolist())
        True
    """
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: received a {input.ndim}-D input; dropout3d expects (N, C, D, H, W) or "
            "(C, D, H, W).",
            stacklevel=2,
        )
    return _channels("dropout3d", input, p, training, inplace, batched=input.ndim != 4)


def _channels(name, input, p, training, inplace, batched):
    if batched:
        return _dropout(name, input, p, training, inplace, feature=True)
    _check_p(name, p)
    if p == 0 or not training:
        return input
    # Unbatched: add a batch dimension of one so the mask is drawn per channel.
    result = _dropout(name, input.unsqueeze(0), p, training, False, feature=True).squeeze(0)
    if inplace and not (state.grad_enabled and input.requires_grad):
        xp.copyto(input.array, result.array)
        return input
    return result


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps zero mean and unit variance. Note ``training`` defaults to False.

    Dropped elements are set to SELU's negative saturation value, then an affine map restores the
    mean and variance. Any shape; the output has the input's shape.

    Example:
        >>> import dendrite
        >>> alpha_dropout(dendrite.ones(3)).tolist()   # training=False: the identity
        [1.0, 1.0, 1.0]
        >>> alpha_dropout(dendrite.ones(2, 3), p=0.2, training=True).shape
        (2, 3)
    """
    return _dropout("alpha_dropout", input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (dim 1) of an (N, C, *) input; the output has its shape.

    Example:
        >>> import dendrite
        >>> y = feature_alpha_dropout(dendrite.ones(2, 3, 4), p=0.5, training=True)
        >>> all(len(set(channel)) == 1 for sample in y.tolist() for channel in sample)
        True
    """
    return _dropout("feature_alpha_dropout", input, p, training, inplace, feature=True, alpha=True)

