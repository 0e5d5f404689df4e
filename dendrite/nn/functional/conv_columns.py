"""im2col and col2im for the convolutions: where the kernel windows lie and how they become matrices.

A 2-D convolution is a matrix product over the **columns** of its input:
``X_cols[(c, p, q), (n, i, j)] = padded[n, c, i*sh + p*dh, j*sw + q*dw]``, one row per kernel tap
and input channel, one column per output position. Two memory layouts of the padded input give
that matrix; both are exact, they differ only in how fast the copy that builds it runs:

* **channels first**: padded (C, N, Hp, Wp), columns stored as (C·kh·kw, n·Ho·Wo). The copy moves
  runs of Wo values (one output row), so it is slow when the image is small.
* **channels last**: padded (N, Hp, Wp, C), columns stored as (n·Ho·Wo, kh·kw·C) with the rows in
  (p, q, c) order, and handed to the matrix products transposed (BLAS reads either order, no
  copy). The copy moves runs of kw·C values: long runs for a deep layer on a small image (the
  second layer of a LeNet: 160 values instead of 14, ~3x faster).

``channels_last`` picks the layout with the longer runs (groups need channels first: a group's
rows must be one block). The columns are kh·kw times larger than the input, so they are built
chunk by chunk over the batch into **one reused buffer** of at most ``COLUMNS_BUDGET`` elements:
it stays in cache, and no chunk pays for fresh pages.

``add_columns`` is col2im, the adjoint: columns added back into a padded array at their windows.
"""

from __future__ import annotations

from dataclasses import dataclass

from dendrite import backend
from dendrite.backend import xp

__all__ = ["COLUMNS_BUDGET", "Geometry", "Im2col", "add_columns", "channels_last", "chunks"]

# Elements in one chunk's columns (4 MiB of float32). On the workloads of benchmarks/bench_conv.py
# 2**18..2**20 were fastest; whole-batch columns (2**24) made the forward pass ~20% slower.
COLUMNS_BUDGET = 1 << 20


@dataclass(frozen=True)
class Geometry:
    """Where the kernel windows lie, in 2-D (a 1-D operation has height 1)."""

    kernel: tuple  # (kh, kw)
    stride: tuple
    dilation: tuple
    pads: tuple  # (top, bottom, left, right)
    grid: tuple  # (Ho, Wo): the grid of window positions (for a transposed convolution, its input)


def chunks(batch: int, per_item: int, budget: int | None = None) -> list:
    """(start, stop) ranges of nearly equal size over the batch, each with at most ``budget`` elements."""
    budget = COLUMNS_BUDGET if budget is None else budget
    step = max(1, min(batch, budget // max(per_item, 1)))
    count = -(-batch // step) if batch else 0
    step = -(-batch // count) if count else 1  # balance: 64 items in two chunks are 32 + 32, not 53 + 11
    return [(start, min(batch, start + step)) for start in range(0, batch, step)]


def channels_last(channels: int, geometry: Geometry, groups: int) -> bool:
    """True when the channels-last columns copy longer runs (kw·C values) than channels first (Wo)."""
    return groups == 1 and channels * geometry.kernel[1] > geometry.grid[1]


class Im2col:
    """The columns of an (N, C, H, W) input, chunk by chunk over the batch, built into reused buffers.

    ``im2col(start, stop)`` pads the batch items ``start:stop`` into a small buffer (its border
    zeroed once) and copies their windows into the columns buffer: the matrix (groups,
    C/groups·kh·kw, n·Ho·Wo), a view valid until the next call. No padded copy of the whole batch
    is ever made. Its rows are in (c, p, q) order (channels first) or (p, q, c) order (channels
    last; ``arrange`` orders a weight's rows the same way).
    """

    def __init__(self, x4, geometry: Geometry, groups: int, last: bool, max_items: int):
        self.x4, self.geometry, self.groups, self.last = x4, geometry, groups, last
        _, channels, height, width = x4.shape
        (kh, kw), (ho, wo) = geometry.kernel, geometry.grid
        top, bottom, left, right = geometry.pads
        self.rows, self.positions = channels * kh * kw, ho * wo
        self.buffer = backend.namespace(x4).empty(self.rows * self.positions * max_items, dtype=x4.dtype)
        size = (height + top + bottom, width + left + right)
        shape = (max_items,) + size + (channels,) if last else (channels, max_items) + size
        module = backend.namespace(x4)
        self.padded = (module.zeros if any(geometry.pads) else module.empty)(shape, dtype=x4.dtype)

    def _pad(self, start: int, stop: int):
        """The items ``start:stop`` zero-padded, (n, Hp, Wp, C) or (C, n, Hp, Wp)."""
        top, _, left, _ = self.geometry.pads
        _, _, height, width = self.x4.shape
        items = self.x4[start:stop]
        if self.last:
            padded = self.padded[:stop - start]
            padded[:, top:top + height, left:left + width, :] = items.transpose(0, 2, 3, 1)
        else:
            padded = self.padded[:, :stop - start]
            padded[:, :, top:top + height, left:left + width] = items.transpose(1, 0, 2, 3)
        return padded

    def __call__(self, start: int, stop: int):
        (kh, kw), (sh, sw), (dh, dw) = self.geometry.kernel, self.geometry.stride, self.geometry.dilation
        ho, wo = self.geometry.grid
        n = stop - start
        store = self.buffer[:self.rows * n * self.positions]
        part = self._pad(start, stop)
        if self.last:
            s_n, s_h, s_w, s_c = part.strides
            # windows[n, i, j, p, q, c] = padded[n, i*sh + p*dh, j*sw + q*dw, c]
            windows = backend.as_strided(
                part, (n, ho, wo, kh, kw, part.shape[3]),
                (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
        else:
            s_c, s_n, s_h, s_w = part.strides
            # windows[c, p, q, n, i, j] = padded[c, n, i*sh + p*dh, j*sw + q*dw]
            windows = backend.as_strided(
                part, (part.shape[0], kh, kw, n, ho, wo), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw))
        # copyto into the buffer: reshape() of the overlapping windows would allocate fresh pages each time
        xp.copyto(store.reshape(windows.shape), windows)
        return self.view(start, stop)

    def view(self, start: int, stop: int):
        """The columns of ``start:stop`` as the last call left them in the buffer (no copy)."""
        columns = (stop - start) * self.positions
        store = self.buffer[:self.rows * columns]
        if self.last:
            return store.reshape(columns, self.rows).T[None]
        return store.reshape(self.groups, self.rows // self.groups, columns)

    def arrange(self, weight, groups: int):
        """A (O, C/groups, kh, kw) weight as (groups, O/groups, rows), its rows ordered like the columns."""
        if self.last:
            return weight.transpose(0, 2, 3, 1).reshape(1, weight.shape[0], -1)
        return weight.reshape(groups, weight.shape[0] // groups, -1)

    def unarrange(self, rows_array, weight_shape):
        """Inverse of ``arrange``: (groups, O/groups, rows) -> a (O, C/groups, kh, kw)-shaped view."""
        if self.last:
            out_channels, channels, kh, kw = weight_shape
            return rows_array.reshape(out_channels, kh, kw, channels).transpose(0, 3, 1, 2)
        return rows_array.reshape(weight_shape)


def add_columns(target, columns, geometry: Geometry) -> None:
    """col2im: target (C, n, Hp, Wp) += columns (C, kh, kw, n, Ho, Wo), each put back at its window."""
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    ho, wo = geometry.grid
    for p in range(kh):
        rows = slice(p * dh, p * dh + sh * (ho - 1) + 1, sh)
        for q in range(kw):
            target[:, :, rows, q * dw:q * dw + sw * (wo - 1) + 1:sw] += columns[:, p, q]
