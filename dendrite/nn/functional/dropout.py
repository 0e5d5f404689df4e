"""Dropout: zero random elements (or whole channels) while training (``torch.nn.functional``).

Inverted dropout: kept elements are scaled by ``1 / (1 - p)`` during training,
so nothing changes at evaluation time (``training=False`` returns the input).
The random mask comes from dendrite's global generator, so
``dendrite.manual_seed`` makes it repeat. The backward multiplies by the same
(scaled) mask.

Channel-wise variants (``dropout1d/2d/3d``, ``feature_alpha_dropout``) draw one
mask value per (sample, channel) and broadcast it over the spatial positions.

Data-parallel training (:func:`global_batch_masks`, which ``DistributedDataParallel`` enters
around each training forward): rank r of K holds rows r, r + K, r + 2K, ... of the global
batch (the ``DistributedSampler``'s split). Each rank then draws the mask of the whole global
batch, exactly as one process with that batch would, from the global generator (in the same
state on every rank: same seed, same draws), and keeps its own rows. So the ranks' masks
together are the single process's mask, and every rank's generator stays in step.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import state
from dendrite.backend import xp
from dendrite.ops.graph_operands import constant
from dendrite.tensor import Tensor

# global_batch_masks is for DistributedDataParallel, not a torch.nn.functional name: imported from here.
__all__ = ["alpha_dropout", "dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"]

# SELU's negative saturation value, -scale * alpha: alpha dropout sets dropped units to it.
_ALPHA_PRIME = 1.7580993408473766


class MaskedScale(Function):
    """``x * mask + shift``, the mask drawn here from the global generator (``mask_shape`` broadcasts
    against ``x``). Drawing it in ``forward`` rather than before ``apply`` keeps the random stream's
    use inside the operation, so a replayed step (``dendrite.compile``) draws exactly as eager does."""

    replayable = True

    def forward(self, x, *, p, mask_shape, alpha):
        if p == 1:  # PyTorch returns zeros for p = 1 in every variant
            mask, shift = backend.namespace(x).zeros(mask_shape, x.dtype), None
        else:
            # drawn on the host from the one generator (the same masks on every device), moved as bools
            shard = _shard[0]
            if shard is not None and mask_shape[0] == shard.local_size:  # a data-parallel batch (below)
                keep = shard.uniform(mask_shape) < (1.0 - p)
            else:
                keep = backend.generator().random(mask_shape) < (1.0 - p)
            keep = backend.move_like(x, keep)
            if alpha:
                a = 1.0 / ((_ALPHA_PRIME ** 2 * p + 1) * (1 - p)) ** 0.5
                shift = ((keep - 1.0) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p).astype(x.dtype)
                mask = (keep * a).astype(x.dtype)
            else:
                mask, shift = (keep * (1.0 / (1.0 - p))).astype(x.dtype), None
        self.mask = mask
        out = x * mask
        return out if shift is None else out + shift

    def backward(self, grad):
        # Y = X ⊙ mask + shift:  dX = dY ⊙ mask  (mask already holds the 1 / (1 - p) scale)
        return grad * self.mask

    def backward_graph(self, grad):
        return grad * constant(self.mask, grad)


class _BatchShard:
    """This rank's place in the global batch: rows ``rank, rank + world_size, ...`` of ``total`` rows."""

    def __init__(self, rank: int, world_size: int, local_size: int, total_size) -> None:
        self.rank, self.world_size, self.local_size = rank, world_size, local_size
        self._total = total_size  # an int, or a function that returns it (asked once, when first needed)

    def uniform(self, mask_shape: tuple):
        """Uniform numbers for this rank's rows, cut from one draw for the whole global batch."""
        if callable(self._total):
            self._total = int(self._total())
        drawn = backend.generator().random((self._total, *mask_shape[1:]))
        mine = drawn[self.rank::self.world_size][:self.local_size]
        if len(mine) < self.local_size:  # rows past the global batch (a weight-0 repeat): kept, never used
            mine = xp.concatenate([mine, xp.zeros((self.local_size - len(mine), *mask_shape[1:]))])
        return mine


_shard: list = [None]  # the _BatchShard of the data-parallel forward in progress, or None


@contextlib.contextmanager
def global_batch_masks(rank: int, world_size: int, local_size: int,
                       total_size: int | Callable[[], int]) -> Iterator[None]:
    """Inside: dropout masks are cut from the mask of the whole data-parallel batch (rows r::K of it).

    For a dropout input whose first dimension is ``local_size`` (this rank's batch), the mask
    of ``total_size`` rows (the global batch; or a function returning it, called at the first
    dropout) is drawn from the global generator and rows ``rank, rank + world_size, ...`` are
    kept; other inputs draw their own mask as usual. ``DistributedDataParallel`` enters it
    around each training forward on K > 1 ranks (``docs/distributed.md``).
    Shapes: as the dropout functions'.

    Example:
        >>> import dendrite
        >>> _ = dendrite.manual_seed(0); whole = dropout(dendrite.ones(4, 3))      # one process, 4 rows
        >>> _ = dendrite.manual_seed(0)
        >>> with global_batch_masks(rank=1, world_size=2, local_size=2, total_size=4):
        ...     mine = dropout(dendrite.ones(2, 3))                                # rank 1 of 2: rows 1, 3
        >>> bool((mine == whole[1::2]).all())
        True
    """
    previous, _shard[0] = _shard[0], _BatchShard(rank, world_size, local_size, total_size)
    try:
        yield
    finally:
        _shard[0] = previous


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
    result = MaskedScale.apply(input, p=p, mask_shape=mask_shape, alpha=alpha)
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

