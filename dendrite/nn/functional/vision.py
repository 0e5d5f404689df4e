"""Vision functions: ``pixel_shuffle``/``pixel_unshuffle``, the spatial transformer's ``affine_grid`` and
``grid_sample``, and ``unfold``/``fold`` (im2col/col2im as a grouped convolution with one-hot kernels,
exact) (PyTorch's ``torch.nn.functional`` vision section).

All are composed from differentiable tensor operations, so the gradients come for free:

* **pixel_shuffle** (ESPCN's sub-pixel convolution): ``(*, C r^2, H, W) -> (*, C, H r, W r)``, a reshape and
  a permutation: ``out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]``.
* **affine_grid**: the normalised coordinates ``(x, y, 1)`` of every output pixel times ``theta^T``
  (``(N, 2, 3)``): where in the input each output pixel reads, in [-1, 1] (-1: left/top edge).
* **grid_sample**: reads ``input`` at those positions. A coordinate ``g`` in [-1, 1] becomes the pixel
  position ``((g + 1) / 2) (size - 1)`` (align_corners=True: -1 and 1 are the corner pixels' centres) or
  ``((g + 1) size - 1) / 2`` (False: they are the corner pixels' outer edges). Bilinear: the four
  neighbours weighted by ``(1 - dx)(1 - dy)``, ``dx (1 - dy)``, ... so the gradient reaches both the input
  (the weights) and the grid (the differences between neighbours); nearest: the rounded position.
  Positions outside read 0 (padding 'zeros'), the edge pixel ('border') or the mirror image ('reflection').
"""

from __future__ import annotations

from dendrite import creation, ops
from dendrite.tensor import Tensor

__all__ = ["affine_grid", "fold", "grid_sample", "pixel_shuffle", "pixel_unshuffle", "unfold"]


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange ``(*, C r^2, H, W)`` into ``(*, C, H r, W r)`` (``r = upscale_factor``).

    Example:
        >>> import dendrite
        >>> x = dendrite.arange(8.0).view(1, 8, 1, 1)
        >>> y = pixel_shuffle(x, 2)
        >>> y.shape, y[0, 1].tolist()
        ((1, 2, 2, 2), [[4.0, 5.0], [6.0, 7.0]])
        >>> pixel_unshuffle(y, 2).flatten().tolist()
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    """
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects its input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {upscale_factor}")
    *lead, channels, height, width = input.shape
    if channels % (r * r) != 0:
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
                           f"square of upscale_factor, but input.size(-3)={channels} is not divisible by "
                           f"{r * r}")
    out_channels, n = channels // (r * r), len(lead)
    x = input.reshape(*lead, out_channels, r, r, height, width)
    # (..., C, i, j, H, W) -> (..., C, H, i, W, j)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, out_channels, height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: ``(*, C, H r, W r) -> (*, C r^2, H, W)``.

    Example:
        >>> import dendrite
        >>> pixel_unshuffle(dendrite.zeros(2, 3, 8, 6), 2).shape
        (2, 12, 4, 3)
    """
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {downscale_factor}")
    *lead, channels, height, width = input.shape
    if height % r != 0 or width % r != 0:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, "
                           f"but input.size(-2)={height} and input.size(-1)={width}, downscale_factor={r}")
    n = len(lead)
    x = input.reshape(*lead, channels, height // r, r, width // r, r)
    # (..., C, H, i, W, j) -> (..., C, i, j, H, W)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, channels * r * r, height // r, width // r)


def _base_coordinates(steps: int, align_corners: bool, like: Tensor) -> Tensor:
    """``steps`` normalised coordinates in [-1, 1] (pixel centres; shrunk by (n-1)/n unless align_corners)."""
    if steps <= 1:
        return creation.zeros(steps, dtype=like.dtype)
    coordinates = creation.linspace(-1.0, 1.0, steps, dtype=like.dtype)
    # times (n - 1), then divided by n, as PyTorch rounds it: the positions must match to the last bit, since
    # bilinear sampling's gradient to the grid jumps where a position crosses a whole pixel.
    return coordinates if align_corners else coordinates * (steps - 1) / steps


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """Sampling grid of an affine map: ``theta`` ``(N, 2, 3)``, ``size`` ``(N, C, H, W)`` -> ``(N, H, W, 2)``
    (or ``(N, 3, 4)`` and ``(N, C, D, H, W)`` -> ``(N, D, H, W, 3)``); the last dim is ``(x, y[, z])``.

    ``align_corners`` defaults to False (PyTorch's default since 1.3).

    Example:
        >>> import dendrite
        >>> identity = dendrite.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> grid = affine_grid(identity, (1, 1, 2, 2), align_corners=False)
        >>> grid[0].tolist()
        [[[-0.5, -0.5], [0.5, -0.5]], [[-0.5, 0.5], [0.5, 0.5]]]
    """
    align_corners = bool(align_corners)
    if not theta.dtype.kind == "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{tuple(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{tuple(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                                  f"transforms, respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: theta has a batch of {theta.shape[0]} matrices but size asks for "
                         f"{size[0]}")
    # The last spatial axis is x, the one before y (then z): (x, y[, z], 1) for every output position.
    axes = [_base_coordinates(steps, align_corners, theta) for steps in reversed(spatial)]
    mesh = ops.meshgrid(*reversed(axes), indexing="ij")  # each of shape spatial, ordered (z,) y, x
    ones = creation.ones(*spatial, dtype=theta.dtype)
    base = ops.stack([*reversed(mesh), ones], dim=-1).reshape(1, -1, len(spatial) + 1)
    grid = base.matmul(theta.transpose(1, 2))
    return grid.reshape(size[0], *spatial, len(spatial))


def _unnormalize(coordinate: Tensor, size: int, align_corners: bool) -> Tensor:
    # Rounded as PyTorch's CPU kernel rounds it ((g + 1) * scale - shift): a position a hair below a whole
    # pixel instead of on it picks other neighbours, and another gradient to the grid.
    if align_corners:
        return (coordinate + 1) * ((size - 1) / 2)
    return (coordinate + 1) * (size / 2) - 0.5


def _reflect(coordinate: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Mirror ``coordinate`` into [twice_low / 2, twice_high / 2] (PyTorch's reflect_coordinates)."""
    if twice_low == twice_high:
        return coordinate * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coordinate - low).abs()
    flips = (distance / span).detach().floor()
    extra = distance - flips * span
    return ops.where(flips % 2 == 0, extra + low, span - extra + low)


def _source_position(coordinate: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    position = _unnormalize(coordinate, size, align_corners)
    if padding_mode == "reflection":
        position = (_reflect(position, 0, 2 * (size - 1)) if align_corners
                    else _reflect(position, -1, 2 * size - 1))
    if padding_mode in ("border", "reflection"):
        position = position.clamp(0, size - 1)
    return position


def _read(flat: Tensor, x: Tensor, y: Tensor, height: int, width: int) -> Tensor:
    """``input[n, :, y, x]`` for integer positions ``x``, ``y`` of shape (N, P); zero outside the image."""
    inside = ((x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)).unsqueeze(1)
    index = (y.clamp(0, height - 1) * width + x.clamp(0, width - 1)).long().unsqueeze(1)
    values = flat.gather(2, index.expand(flat.shape[0], flat.shape[1], index.shape[2]))
    return values * inside.to(flat.dtype)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` ``(N, C, H, W)`` at the positions ``grid`` ``(N, H_out, W_out, 2)`` (``(x, y)`` in
    [-1, 1]) -> ``(N, C, H_out, W_out)``.

    ``mode``: 'bilinear' or 'nearest'; ``padding_mode``: 'zeros', 'border' or 'reflection';
    ``align_corners`` defaults to False (PyTorch's default since 1.3).

    Example:
        >>> import dendrite
        >>> image = dendrite.arange(4.0).view(1, 1, 2, 2)
        >>> identity = dendrite.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> grid_sample(image, affine_grid(identity, (1, 1, 2, 2))).flatten().tolist()
        [0.0, 1.0, 2.0, 3.0]
        >>> centre = dendrite.zeros(1, 1, 1, 2)
        >>> grid_sample(image, centre, align_corners=True).flatten().tolist()
        [1.5]
    """
    align_corners = bool(align_corners)
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear' or 'nearest' (bicubic "
                         f"is not supported by dendrite), but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if input.ndim != 4:
        raise NotImplementedError(f"grid_sample: dendrite supports 4-D input (N, C, H, W) only, got input of "
                                  f"shape {tuple(input.shape)}")
    if grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid of shape (N, H_out, W_out, 2) with N = "
                           f"{input.shape[0]} for input of shape {tuple(input.shape)}, but got grid of shape "
                           f"{tuple(grid.shape)}")
    batch, channels, height, width = input.shape
    out_height, out_width = grid.shape[1], grid.shape[2]
    flat = input.reshape(batch, channels, height * width)
    coordinates = grid.reshape(batch, out_height * out_width, 2)
    x = _source_position(coordinates[..., 0], width, padding_mode, align_corners)
    y = _source_position(coordinates[..., 1], height, padding_mode, align_corners)
    if mode == "nearest":
        out = _read(flat, x.detach().round(), y.detach().round(), height, width)
        if grid.requires_grad:  # the grid's gradient is zero (not None, as in PyTorch): a zero-valued link
            zero = ops.where(x.detach().isfinite() & y.detach().isfinite(), (x + y) * 0, 0.0)
            out = out + zero.unsqueeze(1)
    else:
        x0, y0 = x.detach().floor(), y.detach().floor()
        x1, y1 = x0 + 1, y0 + 1
        # The weights carry the gradient to the grid: d out / d x = (right - left) neighbours, weighted in y.
        east, south = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)
        west, north = 1 - east, 1 - south
        # PyTorch's order of rounding: corner weights first, then the four products summed in turn.
        out = (_read(flat, x0, y0, height, width) * (north * west)
               + _read(flat, x1, y0, height, width) * (north * east)
               + _read(flat, x0, y1, height, width) * (south * west)
               + _read(flat, x1, y1, height, width) * (south * east))
    return out.reshape(batch, channels, out_height, out_width)


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _window_weight(channels: int, kernel: tuple[int, int], like: Tensor) -> Tensor:
    """(C kh kw, 1, kh, kw) one-hot kernels: a grouped convolution with them copies each window tap."""
    taps = kernel[0] * kernel[1]
    return creation.eye(taps, dtype=like.dtype).reshape(taps, 1, *kernel).repeat(channels, 1, 1, 1)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The sliding windows of ``input`` ``(N, C, H, W)`` as columns: ``(N, C kh kw, L)``, L windows
    (im2col; rows ordered channel, then kernel row, then kernel column, as PyTorch's).

    Example:
        >>> import dendrite
        >>> x = dendrite.arange(9.0).view(1, 1, 3, 3)
        >>> cols = unfold(x, kernel_size=2)
        >>> cols.shape, cols[0, :, 0].tolist()
        ((1, 4, 4), [0.0, 1.0, 3.0, 4.0])
        >>> fold(cols, output_size=3, kernel_size=2)[0, 0].tolist()  # overlaps summed
        [[0.0, 2.0, 2.0], [6.0, 16.0, 10.0], [6.0, 14.0, 8.0]]
    """
    from dendrite.nn.functional.conv import conv2d

    if input.ndim != 4:
        raise NotImplementedError(f"Input Error: Only 4D input Tensors are supported (got {input.ndim}D)")
    kernel = _pair(kernel_size, "kernel_size")
    channels = input.shape[1]
    columns = conv2d(input, _window_weight(channels, kernel, input), None, _pair(stride, "stride"),
                     _pair(padding, "padding"), _pair(dilation, "dilation"), groups=channels)
    return columns.reshape(input.shape[0], channels * kernel[0] * kernel[1], -1)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of :func:`unfold`: columns ``(N, C kh kw, L)`` summed back into ``(N, C, H, W)``
    (``output_size = (H, W)``), overlapping window taps added (col2im).

    Example:
        >>> import dendrite
        >>> fold(dendrite.ones(1, 4, 4), output_size=(3, 3), kernel_size=2)[0, 0].tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    from dendrite.nn.functional.conv import conv_transpose2d

    if input.ndim != 3:
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                                  f"supported by PyTorch; dendrite takes batched (3D) only (got "
                                  f"{input.ndim}D)")
    kernel, size = _pair(kernel_size, "kernel_size"), _pair(output_size, "output_size")
    dilation, padding = _pair(dilation, "dilation"), _pair(padding, "padding")
    stride = _pair(stride, "stride")
    blocks = [(size[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1
              for d in (0, 1)]
    taps = kernel[0] * kernel[1]
    if input.shape[1] % taps != 0:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={input.shape[1]} and kernel_size={kernel}")
    if blocks[0] * blocks[1] != input.shape[2]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={input.shape[2]}.")
    channels = input.shape[1] // taps
    reached = [(blocks[d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[d] - 1) + 1
               for d in (0, 1)]
    output_padding = (size[0] - reached[0], size[1] - reached[1])
    columns = input.reshape(input.shape[0], input.shape[1], blocks[0], blocks[1])
    return conv_transpose2d(columns, _window_weight(channels, kernel, input), None, stride, padding,
                            output_padding, groups=channels, dilation=dilation)
