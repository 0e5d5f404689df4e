"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``.

Parameters, defaults, initialisation and state_dict keys are PyTorch's:
``Conv2d.weight`` is ``(out_channels, in_channels // groups, kh, kw)``, and
``ConvTranspose2d.weight`` is ``(in_channels, out_channels // groups, kh, kw)``.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n: int, name: str, layer: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {value}")
    return value


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of the convolution layers."""

    dims = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", output_padding=0,
                 device=None, dtype=None) -> None:
        super().__init__()
        name, n = type(self).__name__, self.dims
        device = resolve_device(device, name)
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", name)
        self.stride = _ntuple(stride, n, "stride", name)
        self.dilation = _ntuple(dilation, n, "dilation", name)
        self.output_padding = _ntuple(output_padding, n, "output_padding", name)
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'valid', 'same', int or tuple; got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding", name)
        # (left, right) per dimension, last dimension first: the layout F.pad expects.
        if self.padding == "same":
            pairs = []
            for d, k in zip(self.dilation, self.kernel_size):
                total = d * (k - 1)
                pairs.append((total // 2, total - total // 2))
        elif self.padding == "valid":
            pairs = [(0, 0)] * n
        else:
            pairs = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = tuple(v for pair in reversed(pairs) for v in pair)

        dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(xp.empty(shape, dtype))
        if bias:
            self.bias = Parameter(xp.empty((out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        """Redraw ``weight`` and ``bias`` from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (PyTorch's default)."""
        init.reset_affine_parameters(self.weight, self.bias)

    def _check_input(self, input: Tensor) -> bool:
        """Validate ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``; True when batched."""
        n = self.dims
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != self.in_channels:
            spatial = "L" if n == 1 else "H, W"
            raise ValueError(
                f"{type(self).__name__}(in_channels={self.in_channels}) got input of shape "
                f"{tuple(input.shape)}; expected (N, {self.in_channels}, {spatial}) "
                f"or unbatched ({self.in_channels}, {spatial})"
            )
        return input.ndim == n + 2

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        batched = self._check_input(input)
        if not batched:
            input = input.unsqueeze(0)
        pads = self._reversed_padding_repeated_twice
        symmetric = all(pads[i] == pads[i + 1] for i in range(0, len(pads), 2))
        if self.padding_mode != "zeros":
            input = F.pad(input, pads, mode=self.padding_mode)
            padding = (0,) * self.dims
        elif symmetric:
            padding = tuple(reversed(pads[::2]))
        else:
            # 'same' with an even kernel needs one more zero on the right/bottom than on the left/top.
            input = F.pad(input, pads)
            padding = (0,) * self.dims
        output = self._conv(input, padding)
        return output if batched else output.squeeze(0)


class Conv1d(_Conv):
    """1-D convolution (cross-correlation) over ``(N, C_in, L)`` -> ``(N, C_out, L_out)``.

    ``L_out = floor((L + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``.

    Example:
        >>> import dendrite
        >>> conv = dendrite.nn.Conv1d(4, 8, kernel_size=3, padding=1)
        >>> conv(dendrite.zeros(2, 4, 10)).shape
        (2, 8, 10)
    """

    dims = 1

    def _conv(self, input: Tensor, padding: tuple) -> Tensor:
        return F.conv1d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over ``(N, C_in, H, W)`` -> ``(N, C_out, H_out, W_out)``.

    ``H_out = floor((H + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1`` (same for W).
    ``padding`` may be an int, a pair, ``'valid'`` (no padding) or ``'same'`` (stride 1 only).

    Example:
        >>> import dendrite
        >>> conv = dendrite.nn.Conv2d(3, 16, kernel_size=3, padding="same")
        >>> conv(dendrite.zeros(8, 3, 32, 32)).shape
        (8, 16, 32, 32)
    """

    dims = 2

    def _conv(self, input: Tensor, padding: tuple) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding_mode is supported, got {padding_mode!r}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(f"{name}: output_padding ({self.output_padding}) must be smaller than "
                                 f"either stride ({self.stride}) or dilation ({self.dilation})")

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output_padding that makes the output exactly ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        n = self.dims
        output_size = tuple(output_size)[-n:]
        padding = []
        for i in range(n):
            smallest = ((input.shape[-n + i] - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            if not smallest <= output_size[i] < smallest + self.stride[i]:
                raise ValueError(
                    f"{type(self).__name__}: requested output size {output_size} is not reachable; dimension "
                    f"{i} must lie in [{smallest}, {smallest + self.stride[i] - 1}]"
                )
            padding.append(output_size[i] - smallest)
        return tuple(padding)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        batched = self._check_input(input)
        if not batched:
            input = input.unsqueeze(0)
        output = self._conv_transpose(input, self._output_padding(input, output_size))
        return output if batched else output.squeeze(0)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution: ``(N, C_in, L)`` -> ``(N, C_out, L_out)``.

    ``L_out = (L-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1``.

    Example:
        >>> import dendrite
        >>> up = dendrite.nn.ConvTranspose1d(8, 4, kernel_size=2, stride=2)
        >>> up(dendrite.zeros(2, 8, 5)).shape
        (2, 4, 10)
    """

    dims = 1

    def _conv_transpose(self, input: Tensor, output_padding: tuple) -> Tensor:
        if hasattr(F, "conv_transpose1d"):
            return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                      output_padding, self.groups, self.dilation)
        # A 1-D transposed convolution is a 2-D one over a height-1 image.
        output = F.conv_transpose2d(input.unsqueeze(2), self.weight.unsqueeze(2), self.bias,
                                    (1, self.stride[0]), (0, self.padding[0]), (0, output_padding[0]),
                                    self.groups, (1, self.dilation[0]))
        return output.squeeze(2)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (learned upsampling): ``(N, C_in, H, W)`` -> ``(N, C_out, H_out, W_out)``.

    ``H_out = (H-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1``.
    ``forward(input, output_size=...)`` picks ``output_padding`` to hit an exact size.

    Example:
        >>> import dendrite
        >>> up = dendrite.nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        >>> up(dendrite.zeros(4, 16, 7, 7)).shape
        (4, 8, 14, 14)
    """

    dims = 2

    def _conv_transpose(self, input: Tensor, output_padding: tuple) -> Tensor:
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)
