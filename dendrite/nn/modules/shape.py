"""Layers that only move values around: ``Flatten``, ``Unflatten`` and the padding layers."""

from __future__ import annotations

from dendrite.nn import functional as F
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor

__all__ = [
    "Flatten",
    "Unflatten",
    "ZeroPad1d",
    "ZeroPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "CircularPad1d",
    "CircularPad2d",
]


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one (the bridge from conv to linear layers).

    Shapes: ``(N, C, H, W)`` -> ``(N, C*H*W)`` with the defaults.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Flatten()(dendrite.zeros(32, 1, 28, 28)).shape
        (32, 784)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of ``Flatten``).

    Shapes: ``(*, S, *)`` -> ``(*, *unflattened_size, *)``, with ``prod(unflattened_size) == S``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Unflatten(1, (1, 28, 28))(dendrite.zeros(32, 784)).shape
        (32, 1, 28, 28)
    """

    def __init__(self, dim: int, unflattened_size: tuple) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
            isinstance(size, int) for size in unflattened_size
        ):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _expand(padding, count: int, layer: str) -> tuple:
    if isinstance(padding, int):
        return (padding,) * count
    padding = tuple(padding)
    if len(padding) != count:
        raise ValueError(f"{layer}: padding must be an int or a tuple of {count} ints, got {padding}")
    return padding


class _PadNd(Module):
    """Pad the last 1 or 2 dimensions; ``padding`` is ``(left, right[, top, bottom])`` as in ``F.pad``."""

    mode = "constant"
    dims = 1

    def __init__(self, padding, value: float = 0.0) -> None:
        super().__init__()
        self.padding = _expand(padding, 2 * self.dims, type(self).__name__)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if self.mode == "constant":
            return F.pad(input, self.padding, mode="constant", value=self.value)
        return F.pad(input, self.padding, mode=self.mode)

    def extra_repr(self) -> str:
        if self.mode == "constant":
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    """Pad the last dimension with ``value``: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L + left + right)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ConstantPad1d(2, 3.5)(dendrite.zeros(1, 2, 4)).shape
        (1, 2, 8)
    """

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(_PadNd):
    """Pad the last two dimensions with ``value``.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H + top + bottom, W + left + right)``;
    ``padding`` is an int or ``(left, right, top, bottom)``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> dendrite.nn.ConstantPad2d((1, 0, 0, 1), 9.0)(x).tolist()
        [[[[9.0, 1.0, 2.0], [9.0, 3.0, 4.0], [9.0, 9.0, 9.0]]]]
    """

    dims = 2

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ZeroPad1d(_PadNd):
    """Pad the last dimension with zeros.

    Shapes: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L + left + right)``; ``padding`` is an int or
    ``(left, right)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ZeroPad1d(1)(dendrite.tensor([[[1.0, 2.0, 3.0]]])).tolist()
        [[[0.0, 1.0, 2.0, 3.0, 0.0]]]
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)


class ZeroPad2d(_PadNd):
    """Pad the last two dimensions with zeros: ``(N, C, H, W)`` -> ``(N, C, H+top+bottom, W+left+right)``.

    ``padding`` is an int or ``(left, right, top, bottom)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ZeroPad2d((1, 1, 2, 0))(dendrite.zeros(1, 1, 3, 3)).shape
        (1, 1, 5, 5)
    """

    dims = 2

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)


class ReflectionPad1d(_PadNd):
    """Pad the last dimension with its mirror image (edge not repeated); padding < the size.

    Shapes: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L + left + right)``; ``padding`` is an int or
    ``(left, right)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ReflectionPad1d(2)(dendrite.tensor([[[1.0, 2.0, 3.0]]])).tolist()
        [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
    """

    mode = "reflect"

    def __init__(self, padding) -> None:
        super().__init__(padding)


class ReflectionPad2d(ReflectionPad1d):
    """Pad the last two dimensions with their mirror image (edge not repeated); padding < the size.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H + top + bottom, W + left + right)``;
    ``padding`` is an int or ``(left, right, top, bottom)``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
        >>> dendrite.nn.ReflectionPad2d((1, 1, 0, 1))(x).tolist()
        [[[[2.0, 1.0, 2.0, 3.0, 2.0], [5.0, 4.0, 5.0, 6.0, 5.0], [2.0, 1.0, 2.0, 3.0, 2.0]]]]
    """

    dims = 2


class ReplicationPad1d(_PadNd):
    """Pad the last dimension by repeating the edge value.

    Shapes: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L + left + right)``; ``padding`` is an int or
    ``(left, right)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ReplicationPad1d(2)(dendrite.tensor([[[1.0, 2.0, 3.0]]])).tolist()
        [[[1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0]]]
    """

    mode = "replicate"

    def __init__(self, padding) -> None:
        super().__init__(padding)


class ReplicationPad2d(ReplicationPad1d):
    """Pad the last two dimensions by repeating the edge values.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H + top + bottom, W + left + right)``;
    ``padding`` is an int or ``(left, right, top, bottom)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ReplicationPad2d(1)(dendrite.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]]]
    """

    dims = 2


class CircularPad1d(_PadNd):
    """Pad the last dimension by wrapping around (periodic boundary).

    Shapes: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L + left + right)``; ``padding`` is an int or
    ``(left, right)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.CircularPad1d(1)(dendrite.tensor([[[1.0, 2.0, 3.0]]])).tolist()
        [[[3.0, 1.0, 2.0, 3.0, 1.0]]]
    """

    mode = "circular"

    def __init__(self, padding) -> None:
        super().__init__(padding)


class CircularPad2d(CircularPad1d):
    """Pad the last two dimensions by wrapping around (periodic boundary).

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H + top + bottom, W + left + right)``;
    ``padding`` is an int or ``(left, right, top, bottom)``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> dendrite.nn.CircularPad2d((1, 0, 0, 1))(x).tolist()
        [[[[2.0, 1.0, 2.0], [4.0, 3.0, 4.0], [2.0, 1.0, 2.0]]]]
    """

    dims = 2
