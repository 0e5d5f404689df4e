"""torchvision's ResNet (He et al., 2016): same module names, ``state_dict`` keys, init and forward.

``resnet18`` / ``resnet34`` stack :class:`BasicBlock` (two 3x3 convolutions), ``resnet50``
:class:`Bottleneck` (1x1 reduce, 3x3, 1x1 expand by 4; the stride on the 3x3, "ResNet
v1.5", as torchvision). The layout, so that a torchvision ``state_dict`` loads as it is::

    conv1 (7x7, stride 2) - bn1 - relu - maxpool (3x3, stride 2)
    layer1 .. layer4        (``layer2.0.conv1``, ``layer2.0.downsample.0`` / ``.1`` ...)
    avgpool (adaptive, 1x1) - flatten - fc

Any input size from 32x32 up works (the adaptive pool makes the head size-free);
ImageNet weights expect 224x224 images normalised with torchvision's mean and std.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dendrite import nn
from dendrite.models.vision.weights import check_no_download
from dendrite.tensor import Tensor

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding (no bias: a BatchNorm follows), as torchvision's.

    Shapes: ``(N, in_planes, H, W)`` -> ``(N, out_planes, H / stride, W / stride)``.

    Example:
        >>> import dendrite
        >>> conv3x3(4, 8, stride=2)(dendrite.zeros(1, 4, 6, 6)).shape
        (1, 8, 3, 3)
    """
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution (no bias), as torchvision's.

    Shapes: ``(N, in_planes, H, W)`` -> ``(N, out_planes, H / stride, W / stride)``.

    Example:
        >>> import dendrite
        >>> conv1x1(4, 8)(dendrite.zeros(1, 4, 5, 5)).shape
        (1, 8, 5, 5)
    """
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1 x)))) + x)``.

    ``downsample`` (a module) maps the shortcut when the shape changes.
    Shapes: ``(N, inplanes, H, W)`` -> ``(N, planes, H / stride, W / stride)``.

    Example:
        >>> import dendrite
        >>> block = BasicBlock(8, 8)
        >>> block(dendrite.zeros(1, 8, 6, 6)).shape, [name for name, _ in block.named_children()]
        ((1, 8, 6, 6), ['conv1', 'bn1', 'relu', 'conv2', 'bn2'])
    """

    expansion: int = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock only supports groups=1 and base_width=64, got groups={groups}, "
                             f"base_width={base_width}")
        if dilation > 1:
            raise NotImplementedError(f"Dilation > 1 not supported in BasicBlock (got dilation={dilation})")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)  # torchvision writes ``out += identity``: the same sum


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride), 1x1 expand to ``planes * 4``, each with BatchNorm; shortcut.

    Shapes: ``(N, inplanes, H, W)`` -> ``(N, planes * 4, H / stride, W / stride)``.

    Example:
        >>> import dendrite
        >>> block = Bottleneck(16, 4)
        >>> block(dendrite.zeros(1, 16, 5, 5)).shape, block.conv2.weight.shape
        ((1, 16, 5, 5), (4, 4, 3, 3))
    """

    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision's ``ResNet(block, layers, num_classes=1000, ...)``: same arguments, names and init.

    Convolutions start from Kaiming normal (``mode="fan_out"``, ReLU gain), BatchNorm from
    weight 1 / bias 0, ``fc`` from ``nn.Linear``'s default; ``zero_init_residual`` zeroes the
    last BatchNorm weight of every block (each block then starts as the identity).
    Shapes: ``(N, 3, H, W)`` -> logits ``(N, num_classes)``.

    Example:
        >>> import dendrite
        >>> model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=5).eval()
        >>> model(dendrite.zeros(1, 3, 32, 32)).shape, "layer2.0.downsample.0.weight" in model.state_dict()
        ((1, 5), True)
    """

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: Sequence[int],
                 num_classes: int = 1000, zero_init_residual: bool = False, groups: int = 1,
                 width_per_group: int = 64, replace_stride_with_dilation: Sequence[bool] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers should be 4 block counts (one per stage), got {list(layers)}")
        self._norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes, self.dilation = 64, 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, got "
                             f"{replace_stride_with_dilation}")
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        dilate = replace_stride_with_dilation
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=dilate[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=dilate[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=dilate[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
        if zero_init_residual:
            for module in self.modules():
                last = module.bn3 if isinstance(module, Bottleneck) else getattr(module, "bn2", None)
                if isinstance(module, (BasicBlock, Bottleneck)) and last.weight is not None:
                    nn.init.constant_(last.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1,
                    dilate: bool = False) -> nn.Sequential:
        norm_layer, previous_dilation, downsample = self._norm_layer, self.dilation, None
        if dilate:  # keep the resolution, widen the receptive field instead (segmentation backbones)
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _resnet(name: str, block, layers: list, weights, pretrained: bool, kwargs: dict) -> ResNet:
    check_no_download(name, weights, pretrained)
    return ResNet(block, layers, **kwargs)


def resnet18(*, weights=None, progress: bool = True, pretrained: bool = False, **kwargs) -> ResNet:
    """ResNet-18 as torchvision's ``resnet18``: BasicBlock, ``[2, 2, 2, 2]``, 11.7 M parameters.

    ``weights`` must be ``None`` (dendrite does not download; load a ``state_dict`` file
    instead); ``progress`` is accepted and unused; ``kwargs`` go to :class:`ResNet`
    (``num_classes=1000``, ``zero_init_residual``, ``norm_layer`` ...).
    Shapes: ``(N, 3, H, W)`` -> ``(N, num_classes)``.

    Example:
        >>> import dendrite, dendrite.models
        >>> model = dendrite.models.resnet18(num_classes=10).eval()
        >>> model(dendrite.zeros(1, 3, 32, 32)).shape, model.fc
        ((1, 10), Linear(in_features=512, out_features=10, bias=True))
    """
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, pretrained, kwargs)


def resnet34(*, weights=None, progress: bool = True, pretrained: bool = False, **kwargs) -> ResNet:
    """ResNet-34 as torchvision's ``resnet34``: BasicBlock, ``[3, 4, 6, 3]``, 21.8 M parameters.

    Arguments as :func:`resnet18`. Shapes: ``(N, 3, H, W)`` -> ``(N, num_classes)``.

    Example:
        >>> model = resnet34()
        >>> len(model.layer3), model.fc.out_features
        (6, 1000)
    """
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, pretrained, kwargs)


def resnet50(*, weights=None, progress: bool = True, pretrained: bool = False, **kwargs) -> ResNet:
    """ResNet-50 as torchvision's ``resnet50``: Bottleneck, ``[3, 4, 6, 3]``, 25.6 M parameters.

    Arguments as :func:`resnet18`. Shapes: ``(N, 3, H, W)`` -> ``(N, num_classes)``.

    Example:
        >>> model = resnet50(num_classes=10)
        >>> model.fc.in_features, tuple(model.layer1[0].conv3.weight.shape)
        (2048, (256, 64, 1, 1))
    """
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, pretrained, kwargs)
