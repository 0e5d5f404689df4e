"""``pad``: grow the last dimensions of a tensor (or crop them, with negative amounts).

``pad`` lists (before, after) amounts from the last dimension backwards, as in PyTorch:
``(left, right)`` pads W; ``(left, right, top, bottom)`` pads W and H.

* ``constant``: fill with ``value``; the backward pass cuts the gradient back out.
* ``reflect`` / ``replicate`` / ``circular``: each output position along a padded axis reads one
  input position -- mirrored without repeating the edge, clamped to the edge, or wrapped
  around. The forward pass gathers through that index map; the backward pass adds each
  gradient back to the position it came from: the untouched middle as one slice, the few
  border positions with ``add.at`` (a position can be read several times, e.g. a replicated
  edge).
"""

from __future__ import annotations

import copy

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.window import format_shape
from dendrite.ops.graph_operands import linear_map
from dendrite.tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPad(Function):
    """out[destination] = x[source], everything else ``value``; negative amounts crop."""

    def forward(self, x, amounts, value):
        shape = tuple(size + before + after for size, (before, after) in zip(x.shape, amounts))
        self.source = tuple(slice(max(-before, 0), size - max(-after, 0))
                            for size, (before, after) in zip(x.shape, amounts))
        self.destination = tuple(slice(max(before, 0), length - max(after, 0))
                                 for length, (before, after) in zip(shape, amounts))
        self.input_shape = x.shape
        out = backend.namespace(x).full(shape, value, dtype=x.dtype)
        out[self.destination] = x[self.source]
        return out

    def backward(self, grad):
        # Y = X placed inside a constant frame:  dX = dY cropped back to the input's place
        grad_x = backend.namespace(grad).zeros(self.input_shape, dtype=grad.dtype)
        grad_x[self.source] = grad[self.destination]
        return grad_x

    def backward_graph(self, grad):
        # Linear (the frame is constant): crop back, and its transpose, place into a zero frame.
        source, destination = self.source, self.destination

        def place(h):
            out = backend.namespace(h).zeros(grad.shape, dtype=h.dtype)
            out[destination] = h[source]
            return out
        return linear_map(grad, to=copy.copy(self).backward, back=place), None, None


def _index_map(mode: str, size: int, before: int, after: int):
    """Input position read by each output position along one axis.

    Negative amounts crop first; the padding then reflects / repeats / wraps what is left (so a
    circular pad of (2, -1) wraps around the cropped end, as in PyTorch).
    """
    start, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)
    position = xp.arange(-max(before, 0), kept + max(after, 0))
    if mode == "reflect":
        position = xp.abs(position)
        position = xp.where(position >= kept, 2 * (kept - 1) - position, position)
    elif mode == "replicate":
        position = xp.clip(position, 0, kept - 1)
    else:  # circular
        position = position % kept
    return position + start


def _middle(before: int, size: int, length: int) -> tuple:
    """Output positions [low, high) along an axis that copy input positions [low - before, high - before)."""
    low = max(before, 0)
    return low, max(min(length, before + size), low)


class IndexPad(Function):
    """Gather through one index map per padded axis (reflect, replicate, circular)."""

    def forward(self, x, maps):
        maps = [(axis, backend.move_like(x, index), before) for axis, index, before in maps]
        self.maps, self.input_shape = maps, x.shape
        for axis, index, before in maps:
            low, high = _middle(before, x.shape[axis], len(index))
            lead = (slice(None),) * axis
            # the middle is a plain copy; only the thin borders go through the index map
            pieces = (xp.take(x, index[:low], axis=axis), x[lead + (slice(low - before, high - before),)],
                      xp.take(x, index[high:], axis=axis))
            x = xp.concatenate(pieces, axis=axis)
        return x

    def backward(self, grad):
        # Y[i] = X[map(i)]:  dX[k] = Σ_{i with map(i) = k} dY[i]  (reflected / repeated borders add back)
        for axis, index, before in reversed(self.maps):
            size, length = self.input_shape[axis], grad.shape[axis]
            low, high = _middle(before, size, length)
            shape = list(grad.shape)
            shape[axis] = size
            folded = backend.namespace(grad).zeros(shape, dtype=grad.dtype)
            lead = (slice(None),) * axis
            folded[lead + (slice(low - before, high - before),)] = grad[lead + (slice(low, high),)]
            for border in (slice(0, low), slice(high, length)):
                if border.stop > border.start:  # add.at: a replicated edge is read many times
                    xp.add.at(folded, lead + (index[border],), grad[lead + (border,)])
            grad = folded
        return grad

    def backward_graph(self, grad):
        # Linear: backward folds the borders back, its transpose is the forward gather itself.
        maps = self.maps
        return linear_map(grad, to=copy.copy(self).backward, back=lambda h: IndexPad().forward(h, maps)), None


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative amounts, crop) the last ``len(pad) // 2`` dimensions of ``input``.

    ``pad``: (before, after) pairs from the last dimension backwards, e.g. (left, right, top,
    bottom) for the last two. ``mode``: 'constant' (fill with ``value``, default 0), 'reflect',
    'replicate' or 'circular'; the last three pad 1-3 trailing dimensions of a batched or
    unbatched input, e.g. (N, C, H, W) or (C, H, W) for 2-D padding.

    Example:
        >>> import dendrite
        >>> pad(dendrite.ones(1, 2, 3), (1, 2)).shape
        (1, 2, 6)
        >>> pad(dendrite.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode='reflect')
        tensor([[3., 2., 1., 2., 3., 2.]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a Tensor, got {type(input).__name__}")
    amounts_flat = tuple(pad) if isinstance(pad, (list, tuple)) else None
    if amounts_flat is None or not all(isinstance(a, int) and not isinstance(a, bool) for a in amounts_flat):
        raise TypeError(f"pad: pad must be a tuple of ints (left, right, top, bottom, ...), got {pad!r}")
    if len(amounts_flat) % 2:
        raise ValueError(f"pad: pad needs (before, after) pairs, so an even length; "
                         f"got {len(amounts_flat)} values")
    padded_dims = len(amounts_flat) // 2
    if padded_dims > input.ndim:
        raise ValueError(f"pad: {padded_dims} (before, after) pairs for an input of shape "
                         f"{format_shape(input.shape)} with only {input.ndim} dimensions")
    if mode not in _MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; expected one of {', '.join(_MODES)}")
    # pairs for every dimension of the input, first dimension first
    pairs = [(0, 0)] * (input.ndim - padded_dims) + [
        (amounts_flat[2 * i], amounts_flat[2 * i + 1]) for i in reversed(range(padded_dims))]
    for axis, (before, after) in enumerate(pairs):
        if input.shape[axis] + before + after < 0:
            raise ValueError(f"pad: dimension {axis} of size {input.shape[axis]} padded by "
                             f"({before}, {after}) would have a negative size")
    if mode == "constant":
        fill = 0 if value is None else value
        return ConstantPad.apply(input, amounts=tuple(pairs), value=fill)
    if value is not None and value != 0:
        raise ValueError(f"pad: mode {mode!r} does not take a value (got value={value})")
    if padded_dims > 3 or input.ndim not in (padded_dims + 1, padded_dims + 2):
        raise ValueError(f"pad: mode {mode!r} pads the last 1, 2 or 3 dimensions of a batched or unbatched "
                         f"input (e.g. pad of length 4 for (N, C, H, W) or (C, H, W)); got pad of length "
                         f"{len(amounts_flat)} for input {format_shape(input.shape)}")
    maps = []
    for axis in range(input.ndim - padded_dims, input.ndim):
        size, (before, after) = input.shape[axis], pairs[axis]
        limit = {"reflect": size - 1, "replicate": None, "circular": size}[mode]
        if size == 0 or (limit is not None and max(before, after) > limit):
            rule = {"reflect": "smaller than", "replicate": "at most", "circular": "at most"}[mode]
            raise ValueError(f"pad: mode {mode!r} needs padding {rule} the size of the dimension; got "
                             f"({before}, {after}) for dimension {axis} of size {size} "
                             f"(input {format_shape(input.shape)})")
        if before or after:
            maps.append((axis, _index_map(mode, size, before, after), before))
    return IndexPad.apply(input, maps=tuple(maps))
