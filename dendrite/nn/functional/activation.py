"""Activation functions: ``relu``, ``gelu``, ``elu``, ``softplus``, ``softmax``... (``torch.nn.functional``).

Every activation keeps its input's shape. Those with a cheap closed-form
derivative are fused ``Function``s (forward and backward side by side, one
pass over the data each way); the rest are composed from :mod:`dendrite.ops`.
Gradients at the kinks are PyTorch's: ``leaky_relu`` takes the negative slope
at 0, ``hardtanh``/``relu6`` are flat at their bounds.

Files: this one holds the rectifiers and the hard (piecewise) activations (relu, relu6, hardtanh,
leaky_relu, hardsigmoid, hardswish, threshold) and re-exports the others: the smooth ones (elu,
selu, celu, softplus, gelu, silu, mish, logsigmoid, sigmoid, tanh) from
:mod:`~dendrite.nn.functional.activation_smooth`, softmax, log_softmax, softmin and normalize from
:mod:`~dendrite.nn.functional.activation_softmax`, and ``finish_inplace`` (``inplace=True``) from
:mod:`~dendrite.nn.functional.activation_common`. The shrinking ones (``softshrink``...) are in
:mod:`~dendrite.nn.functional.activation_shrink`, ``glu`` in
:mod:`~dendrite.nn.functional.activation_gated`, ``prelu``/``rrelu`` in
:mod:`~dendrite.nn.functional.activation_leaky`.
"""

from __future__ import annotations

from dendrite import ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.activation_common import _unary, finish_inplace

# The smooth activations and the softmax family live in files of their own; importable from here.
from dendrite.nn.functional.activation_smooth import (  # noqa: F401
    _GELU_ROOT,
    _SELU_ALPHA,
    _SELU_SCALE,
    ELU,
    GELU,
    LogSigmoid,
    Mish,
    SiLU,
    Softplus,
    _sigmoid,
    _softplus,
    celu,
    elu,
    erf,
    gelu,
    logsigmoid,
    mish,
    selu,
    sigmoid,
    silu,
    softplus,
    tanh,
)
from dendrite.nn.functional.activation_softmax import (  # noqa: F401
    Normalize,
    _softmax_dim,
    log_softmax,
    normalize,
    softmax,
    softmin,
)
from dendrite.ops.boundary import input_kinds
from dendrite.ops.graph_operands import constant
from dendrite.ops.operands import to_float
from dendrite.tensor import Tensor

__all__ = [
    "celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu", "log_softmax",
    "logsigmoid", "mish", "normalize", "relu", "relu6", "selu", "sigmoid", "silu", "softmax", "softmin",
    "softplus", "tanh", "threshold",
]


class LeakyReLU(Function):
    def forward(self, x, slope):
        self.positive, self.slope = x > 0, slope
        return xp.where(self.positive, x, x * slope)

    def backward(self, grad):
        # dX = dY where x > 0, else slope · dY
        return xp.where(self.positive, grad, grad * self.slope)

    def backward_graph(self, grad):
        return grad * constant(xp.where(self.positive, 1.0, self.slope), grad)


class Hardtanh(Function):
    def forward(self, x, low, high):
        self.inside = (x > low) & (x < high)  # flat (zero gradient) at the bounds themselves
        return xp.clip(x, low, high).astype(x.dtype, copy=False)  # integer tensors stay integer

    def backward(self, grad):
        # dX = dY inside (low, high), 0 outside and at the bounds
        return grad * self.inside

    def backward_graph(self, grad):
        return (grad * constant(self.inside, grad),) + (None,) * (len(self.inputs) - 1)


class Hardsigmoid(Function):
    def forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return xp.clip(x + 3, 0, 6) / 6

    def backward(self, grad):
        # dX = dY / 6 inside (-3, 3), else 0
        return grad * self.inside / 6

    def backward_graph(self, grad):
        return grad * constant(self.inside / 6, grad)


class Hardswish(Function):
    def forward(self, x):
        self.x = x
        return x * xp.clip(x + 3, 0, 6) / 6

    def backward(self, grad):
        # dX = 0 for x <= -3, dY (x / 3 + ½) inside, dY for x >= 3
        x = self.x
        return xp.where(x <= -3, 0.0, xp.where(x < 3, grad * (x / 3 + 0.5), grad))

    def backward_graph(self, grad):
        x = self.inputs[0]
        inside = constant((self.x > -3) & (self.x < 3), grad)
        return grad * ((x / 3 + 0.5) * inside + constant(self.x >= 3, grad))


class Threshold(Function):
    def forward(self, x, threshold, value):
        self.above = ~(x <= threshold)  # NaN stays NaN, as PyTorch (x <= threshold ? value : x)
        return xp.where(self.above, x, x.dtype.type(value))

    def backward(self, grad):
        # dX = dY where x > threshold, else 0
        return grad * self.above

    def backward_graph(self, grad):
        return grad * constant(self.above, grad)


def _clip(input: Tensor, low: float, high: float) -> Tensor:
    """Hardtanh's clip: integer tensors stay integer, as in PyTorch; bool and others become float."""
    integer = isinstance(input, Tensor) and input.array.dtype.kind in "iu"
    return Hardtanh.apply(input if integer else to_float(input), low=low, high=high)


@input_kinds("iuf")
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``, gradient 0 at 0. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.relu(x).tolist()
        [0.0, 0.0, 2.0]
    """
    return finish_inplace(input, ops.relu(input), inplace, "relu")


@input_kinds("iuf")
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.relu6(dendrite.tensor([-1.0, 7.0])).tolist()
        [0.0, 6.0]
    """
    return finish_inplace(input, _clip(input, 0.0, 6.0), inplace, "relu6")


@input_kinds("iuf")
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.hardtanh(x).tolist()
        [-1.0, 0.0, 1.0]
    """
    if max_val < min_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return finish_inplace(input, _clip(input, min_val, max_val), inplace, "hardtanh")


@input_kinds("f")
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` if ``x > 0`` else ``negative_slope * x``. Any shape.



    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.leaky_relu(x, 0.5).tolist()
        [-0.5, 0.0, 2.0]
    """
    return finish_inplace(input, _unary(LeakyReLU, input, slope=negative_slope), inplace, "leaky_relu")


@input_kinds("f")
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.hardsigmoid(dendrite.tensor([-3.0, 0.0, 3.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    return finish_inplace(input, _unary(Hardsigmoid, input), inplace, "hardsigmoid")


@input_kinds("f")
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.hardswish(dendrite.tensor([-3.0, 0.0, 3.0])).tolist()
        [-0.0, 0.0, 3.0]
    """
    return finish_inplace(input, _unary(Hardswish, input), inplace, "hardswish")


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.threshold(x, 0.5, -9.0).tolist()
        [-9.0, -9.0, 2.0]
    """
    output = Threshold.apply(input, threshold=threshold, value=value)
    return finish_inplace(input, output, inplace, "threshold")
