"""Copying a tensor to another device (``x.to("cuda")``, ``x.cpu()``): the one host/device transfer.

The copy is an operation, so gradients flow back across it as in PyTorch:
``x.cuda().sum().backward()`` fills ``x.grad`` on the CPU. Forward: the array moved to the
target device; backward: the gradient moved back to the source device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend, devices
from dendrite.autograd.function import Function

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

__all__ = ["to_device"]


class ToDevice(Function):
    """``y = x`` on another device; backward: ``dx = dy`` moved back to ``x``'s device."""
    def forward(self, x, kind):
        self.source = backend.device_kind(x)
        return backend.to_device(x, kind)

    def backward(self, grad):
        return backend.to_device(grad, self.source)

    def backward_graph(self, grad):
        return ToDevice.apply(grad, kind=self.source)


def to_device(x: Tensor, device, who: str = "to") -> Tensor:
    """``x`` on ``device`` (``"cpu"``, ``"cuda"``, a :class:`dendrite.device`): ``x`` itself when it is there.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.device_copy import to_device
        >>> x = dendrite.zeros(2)
        >>> to_device(x, "cpu") is x
        True
    """
    target = devices.resolve_device(device, who)
    if backend.device_kind(x._data) == target.type:
        return x
    return ToDevice.apply(x, kind=target.type)
