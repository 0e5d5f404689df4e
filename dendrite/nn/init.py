"""Weight initialisation (PyTorch's ``torch.nn.init``).

Every function fills a tensor **in place**, outside the autograd graph, and
returns it. Random draws come from :func:`dendrite.backend.generator`, so
``dendrite.manual_seed(s)`` makes initialisation repeat exactly; each random
init also takes ``generator=`` (a :class:`dendrite.Generator`), as in PyTorch.

Why these scales: a layer ``y = W x`` with ``fan_in`` inputs multiplies the
variance of its input by ``fan_in * Var(W)``. Keeping that product near 1 (times
a correction ``gain**2`` for the nonlinearity that follows) keeps activations
and gradients from vanishing or exploding with depth:

=====================  ==========================================
Xavier/Glorot          Var(W) = gain**2 * 2 / (fan_in + fan_out)
Kaiming/He             Var(W) = gain**2 / fan           (gain sqrt(2) for ReLU)
LeCun                  Var(W) = 1 / fan_in              (SELU networks)
=====================  ==========================================

A uniform ``U(-b, b)`` has variance ``b**2 / 3``, hence the ``sqrt(3)`` below.

Shapes: the fills (``uniform_``, ``normal_``, ``constant_``...) take any shape; the fan-based
inits (Xavier, Kaiming, LeCun, ``orthogonal_``) take a weight of at least 2 dimensions,
``(out, in, *kernel)``, with ``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)``.
"""

from __future__ import annotations

import math
import warnings

from dendrite import backend
from dendrite.backend import xp
from dendrite.random_generator import numpy_generator
from dendrite.tensor import Tensor

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "lecun_uniform_",
    "lecun_normal_",
    "orthogonal_",
    "sparse_",
    "reset_affine_parameters",
]


def _rng(generator):
    # generator=: a dendrite.Generator (or a numpy.random.Generator); None means the global stream.
    return numpy_generator(generator, "nn.init")


def _fill(tensor: Tensor, values) -> Tensor:
    # Write straight into the array: initialisation is never part of the graph (PyTorch's no_grad).
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init expects a dendrite Tensor, got {type(tensor).__name__}")
    xp.copyto(tensor.array, backend.move_like(tensor.array, values), casting="unsafe")  # drawn on the host
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (scales the init's standard deviation).

    ===============  ===================================
    linear, conv*,   1
    sigmoid
    tanh             5/3
    relu             sqrt(2)
    leaky_relu       sqrt(2 / (1 + negative_slope**2))
    selu             3/4
    ===============  ===================================

    Example:
        >>> from dendrite.nn import init
        >>> round(init.calculate_gain("relu"), 4)
        1.4142
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"Unsupported nonlinearity {nonlinearity!r}; expected one of {', '.join(linear_fns)}, "
        "sigmoid, tanh, relu, leaky_relu or selu"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight: ``(in, out)`` times the kernel size for convolutions."""
    if tensor.ndim < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive_field_size = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field_size, tensor.shape[0] * receptive_field_size


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill a tensor of any shape with draws from ``U(a, b)``.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.uniform_(dendrite.empty(3, 5), -0.1, 0.1)
        >>> bool((w.abs() <= 0.1).all())
        True
    """
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill a tensor of any shape with draws from ``N(mean, std**2)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.init.normal_(dendrite.empty(2, 3), std=0.02).shape
        (2, 3)
    """
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None) -> Tensor:
    """Fill with ``N(mean, std**2)`` truncated to ``[a, b]`` (bounds in absolute values, as in PyTorch).

    Out-of-range draws are redrawn, which samples exactly the truncated distribution. Any shape.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.trunc_normal_(dendrite.empty(4, 5), std=1.0, a=-0.5, b=0.5)
        >>> bool((w.abs() <= 0.5).all())
        True
    """
    if not a < b:
        raise ValueError(f"trunc_normal_ needs a < b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    rng = _rng(generator)
    values = rng.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    for _ in range(1000):
        count = int(outside.sum())
        if count == 0:
            break
        values[outside] = rng.normal(mean, std, count)
        outside = (values < a) | (values > b)
    # Anything still outside (only when [a, b] is far in a tail) is clipped, like PyTorch's clamp.
    return _fill(tensor, xp.clip(values, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill a tensor of any shape with ``val``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.init.constant_(dendrite.empty(2), 0.5).tolist()
        [0.5, 0.5]
    """
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill a tensor of any shape with 1.

    Example:
        >>> import dendrite
        >>> dendrite.nn.init.ones_(dendrite.empty(2)).tolist()
        [1.0, 1.0]
    """
    return _fill(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill a tensor of any shape with 0.

    Example:
        >>> import dendrite
        >>> dendrite.nn.init.zeros_(dendrite.empty(2)).tolist()
        [0.0, 0.0]
    """
    return _fill(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (Linear layers that start as the identity).

    Example:
        >>> import dendrite
        >>> dendrite.nn.init.eye_(dendrite.empty(2, 3)).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return _fill(tensor, xp.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a conv weight ``(out, in, *kernel)`` (3 to 5 dims) so the convolution passes its input through.

    With ``groups``, each group's first ``min(out/groups, in)`` channels are copied.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.dirac_(dendrite.empty(2, 2, 3))
        >>> x = dendrite.arange(8.0).reshape(1, 2, 4)
        >>> dendrite.nn.functional.conv1d(x, w, padding=1).tolist() == x.tolist()
        True
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got {tensor.ndim}")
    out_channels = tensor.shape[0]
    if out_channels % groups != 0:
        raise ValueError(f"dirac_: dim 0 ({out_channels}) must be divisible by groups ({groups})")
    per_group = out_channels // groups
    min_dim = min(per_group, tensor.shape[1])
    values = xp.zeros(tensor.shape)
    centre = tuple(size // 2 for size in tensor.shape[2:])
    for group in range(groups):
        for channel in range(min_dim):
            values[(group * per_group + channel, channel) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``; at least 2 dims.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.xavier_uniform_(dendrite.empty(3, 5))
        >>> bool((w.abs() <= (6 / (5 + 3)) ** 0.5).all())
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: ``N(0, std**2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``; at least 2 dims.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.xavier_normal_(dendrite.empty(300, 500))
        >>> round(w.std().item(), 2)   # sqrt(2 / 800)
        0.05
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    """He uniform: ``U(-b, b)``, ``b = gain * sqrt(3 / fan)``; ``a`` is leaky_relu's negative slope.

    ``Linear`` and ``Conv`` use ``a=sqrt(5)``, which gives ``b = 1/sqrt(fan_in)``. At least 2 dims;
    ``mode`` picks ``fan_in`` (preserves the forward variance) or ``fan_out`` (the backward one).

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.kaiming_uniform_(dendrite.empty(256, 800), nonlinearity="relu")
        >>> round(w.std().item(), 2)   # sqrt(2 / 800)
        0.05
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> Tensor:
    """He normal: ``N(0, std**2)`` with ``std = gain / sqrt(fan)``; at least 2 dims.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.kaiming_normal_(dendrite.empty(256, 800), nonlinearity="relu")
        >>> round(w.std().item(), 2)   # sqrt(2 / 800)
        0.05
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def lecun_uniform_(tensor: Tensor, generator=None) -> Tensor:
    """LeCun uniform: ``U(-b, b)`` with ``b = sqrt(3 / fan_in)`` (variance ``1 / fan_in``); at least 2 dims.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.lecun_uniform_(dendrite.empty(2, 3))
        >>> bool((w.abs() <= 1.0).all())
        True
    """
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -bound, bound, generator)


def lecun_normal_(tensor: Tensor, generator=None) -> Tensor:
    """LeCun normal: ``N(0, 1 / fan_in)``, the init that self-normalising (SELU) networks need.

    At least 2 dims.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.lecun_normal_(dendrite.empty(100, 400))
        >>> round(w.std().item(), 2)   # 1 / sqrt(400)
        0.05
    """
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain``; dims after the first are flattened.

    Shape ``(rows, *)`` with at least 2 dims: the rows (or columns, whichever fewer) are orthonormal.

    Orthogonal weights preserve vector norms exactly, a good start for recurrent weights.

    Example:
        >>> import dendrite, numpy
        >>> w = dendrite.nn.init.orthogonal_(dendrite.empty(3, 3))
        >>> numpy.allclose((w @ w.T).numpy(), numpy.eye(3), atol=1e-6)
        True
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = _rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = xp.linalg.qr(flattened)
    # Multiply by the signs of diag(r) so the result is uniformly distributed (Mezzadri, 2007).
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor from ``N(0, std**2)`` with a fraction ``sparsity`` of each column zeroed.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.init.sparse_(dendrite.empty(4, 3), sparsity=0.5)
        >>> (w == 0).sum(0).tolist()   # ceil(0.5 * 4) zeros per column
        [2, 2, 2]
    """
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    rng = _rng(generator)
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    values = rng.normal(0.0, std, (rows, cols))
    for col in range(cols):
        values[rng.permutation(rows)[:num_zeros], col] = 0
    return _fill(tensor, values)


def reset_affine_parameters(weight: Tensor, bias: Tensor | None = None, generator=None) -> None:
    """PyTorch's default start for ``Linear`` and ``Conv*d``: Kaiming-uniform weight, fan-in bias.

    ``weight ~ U(-b, b)`` with ``b = 1/sqrt(fan_in)`` (``kaiming_uniform_`` with ``a=sqrt(5)``),
    then ``bias ~ U(-b, b)`` with the same ``b`` (zero when ``fan_in`` is 0). ``fan_in`` is
    ``weight.shape[1]`` times the kernel size. Shapes: ``weight (out, in, *kernel)``,
    ``bias (out,)``. Draws weight first, then bias, from one stream.

    Example:
        >>> import dendrite
        >>> weight, bias = dendrite.empty(3, 4), dendrite.empty(3)
        >>> dendrite.nn.init.reset_affine_parameters(weight, bias)
        >>> bool((bias.abs() <= 0.5).all())
        True
    """
    # a=sqrt(5) makes the gain sqrt(2 / 6) and the bound sqrt(3) * gain / sqrt(fan_in) = 1/sqrt(fan_in).
    kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound, generator)
