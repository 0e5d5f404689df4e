"""torchvision's MobileNetV2 (Sandler et al., 2018): same module names, ``state_dict`` keys, init, forward.

The network is ``features`` (a 3x3 stride-2 stem, 17 inverted-residual blocks, a 1x1
convolution to 1280 channels) and ``classifier`` (``Dropout(0.2)``, ``Linear``). An
inverted residual expands the channels by ``t`` with a 1x1 convolution, filters each
channel on its own with a 3x3 *depthwise* convolution (``groups`` = channels), and
projects back down with a linear 1x1 convolution (no activation: ReLU would destroy
information in the narrow projection); the shortcut is added when the shape allows.
Activations are ``ReLU6``, as torchvision's. The keys follow torchvision's nesting::

    features.0.0.weight (stem conv), features.0.1.* (its BatchNorm)
    features.1.conv.0.0.weight (depthwise), features.1.conv.1.weight (projection), features.1.conv.2.*
    features.2.conv.0.0.weight (expansion) ... features.18.0.weight, classifier.1.weight
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dendrite import nn
from dendrite.models.vision.weights import check_no_download
from dendrite.nn import functional as F
from dendrite.tensor import Tensor

__all__ = ["Conv2dNormActivation", "InvertedResidual", "MobileNetV2", "mobilenet_v2", "make_divisible"]


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """``value`` rounded to a multiple of ``divisor``, never more than 10 % below it (torchvision's rule).

    Shapes: numbers in, an int out.

    Example:
        >>> make_divisible(32 * 0.75, 8), make_divisible(1280 * 1.4, 8), make_divisible(16 * 0.35, 8)
        (24, 1792, 8)
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:  # rounding down must not remove more than 10 %
        rounded += divisor
    return rounded


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d -> norm -> activation`` as one ``Sequential`` (torchvision.ops' block: keys ``0``, ``1``).

    ``padding=None`` keeps the size at stride 1 (``(kernel_size - 1) // 2 * dilation``); the
    convolution has a bias only when there is no norm layer (``bias=None``).
    Shapes: ``(N, in_channels, H, W)`` -> ``(N, out_channels, H / stride, W / stride)``.

    Example:
        >>> import dendrite
        >>> block = Conv2dNormActivation(3, 8, stride=2, activation_layer=dendrite.nn.ReLU6)
        >>> block(dendrite.zeros(1, 3, 8, 8)).shape, [type(m).__name__ for m in block]
        ((1, 8, 4, 4), ['Conv2d', 'BatchNorm2d', 'ReLU6'])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU, dilation: int = 1,
                 inplace: bool | None = True, bias: bool | None = None) -> None:
        padding = (kernel_size - 1) // 2 * dilation if padding is None else padding
        bias = norm_layer is None if bias is None else bias
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                            groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer() if inplace is None else activation_layer(inplace=inplace))
        super().__init__(*layers)
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """Expand (1x1, ``expand_ratio``), depthwise 3x3 (the stride), project (1x1, linear); shortcut if it fits.

    Shapes: ``(N, inp, H, W)`` -> ``(N, oup, H / stride, W / stride)``.

    Example:
        >>> import dendrite
        >>> block = InvertedResidual(8, 8, stride=1, expand_ratio=6)
        >>> block(dendrite.zeros(1, 8, 5, 5)).shape, block.use_res_connect, block.conv[1][0].groups
        ((1, 8, 5, 5), True, 48)
    """

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride should be 1 or 2 instead of {stride}")
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,  # depthwise
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# t (expansion), c (channels), n (blocks), s (stride of the first block): the paper's Table 2.
_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
            [6, 320, 1, 1]]


class MobileNetV2(nn.Module):
    """torchvision's ``MobileNetV2(num_classes=1000, width_mult=1.0, ...)``: same arguments, names and init.

    ``width_mult`` scales every layer's channels (rounded by :func:`make_divisible` to
    ``round_nearest``; the last layer never below 1280). Init as torchvision: convolutions
    Kaiming normal (``fan_out``), BatchNorm 1 / 0, the classifier ``N(0, 0.01)`` with zero bias.
    Shapes: ``(N, 3, H, W)`` -> logits ``(N, num_classes)``.

    Example:
        >>> import dendrite
        >>> model = MobileNetV2(num_classes=4, width_mult=0.25).eval()
        >>> model(dendrite.zeros(1, 3, 32, 32)).shape, model.classifier
        ((1, 4), Sequential(
          (0): Dropout(p=0.2, inplace=False)
          (1): Linear(in_features=1280, out_features=4, bias=True)
        ))
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: Sequence[Sequence[int]] | None = None, round_nearest: int = 8,
                 block: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None, dropout: float = 0.2) -> None:
        super().__init__()
        block = InvertedResidual if block is None else block
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        setting = _SETTING if inverted_residual_setting is None else inverted_residual_setting
        if len(setting) == 0 or any(len(row) != 4 for row in setting):
            raise ValueError("inverted_residual_setting should be non-empty or a 4-element list "
                             f"(t, c, n, s per stage), got {setting}")
        if not width_mult > 0:
            raise ValueError(f"MobileNetV2: width_mult must be positive, got {width_mult!r}")
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6)]
        for t, c, n, s in setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for index in range(n):
                features.append(block(input_channel, output_channel, s if index == 0 else 1, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(x.flatten(1))


def mobilenet_v2(*, weights=None, progress: bool = True, pretrained: bool = False, **kwargs) -> MobileNetV2:
    """MobileNetV2 as torchvision's ``mobilenet_v2``: 3.5 M parameters at ``width_mult=1.0``.

    ``weights`` must be ``None`` (dendrite does not download; load a ``state_dict`` file
    instead); ``kwargs`` go to :class:`MobileNetV2` (``num_classes``, ``width_mult``, ``dropout`` ...).
    Shapes: ``(N, 3, H, W)`` -> ``(N, num_classes)``.

    Example:
        >>> import dendrite, dendrite.models
        >>> model = dendrite.models.mobilenet_v2(num_classes=10, width_mult=0.5).eval()
        >>> model(dendrite.zeros(2, 3, 32, 32)).shape, model.features[1].conv[0][0].weight.shape
        ((2, 10), (16, 1, 3, 3))
    """
    check_no_download("mobilenet_v2", weights, pretrained)
    return MobileNetV2(**kwargs)
