"""The initialisation explorer's schemes, activations, deep MLP and the variance theory they aim at.

Every scheme fills the layers with the real :mod:`dendrite.nn.init` functions. The schemes that
take a gain (Xavier, Kaiming, orthogonal) get the activation's recommended gain
(:func:`dendrite.nn.init.calculate_gain`): ``sqrt(2)`` for ReLU, ``5/3`` for tanh, 1 for linear and
sigmoid. Biases start at zero, except ``default`` (PyTorch's ``Linear`` start: weight and bias
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``) and ``zeros`` (zero too, trivially).
"""

from __future__ import annotations

import math

import numpy as np

import dendrite
from dendrite import nn
from dendrite.nn import init as nn_init

__all__ = ["SCHEMES", "ACTIVATIONS", "CONSTANT_VALUE", "SMALL_STD", "LARGE_STD", "apply_scheme",
           "build_mlp", "activation_module", "weight_variance", "theoretical_std"]

CONSTANT_VALUE = 0.1
SMALL_STD = 0.01
LARGE_STD = 1.0
LEAKY_SLOPE = 0.01

SCHEMES: dict[str, str] = {
    "zeros": "every weight and bias 0",
    "constant": f"every weight {CONSTANT_VALUE}, biases 0",
    "small_normal": f"weights N(0, {SMALL_STD}^2)",
    "large_normal": f"weights N(0, {LARGE_STD}^2)",
    "xavier_uniform": "Glorot uniform, Var[W] = gain^2 * 2 / (fan_in + fan_out)",
    "xavier_normal": "Glorot normal, Var[W] = gain^2 * 2 / (fan_in + fan_out)",
    "kaiming_uniform": "He uniform, Var[W] = gain^2 / fan_in",
    "kaiming_normal": "He normal, Var[W] = gain^2 / fan_in",
    "lecun_normal": "LeCun normal, Var[W] = 1 / fan_in",
    "orthogonal": "a random orthogonal matrix times gain",
    "default": "PyTorch's Linear default: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))",
}
"""Scheme name -> what it draws (biases 0 unless said)."""

ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "linear", "leaky_relu")
"""The activations after every layer (``leaky_relu`` has slope 0.01)."""


def _check(scheme: str, activation: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")


def _gain(activation: str) -> float:
    return nn_init.calculate_gain(activation, LEAKY_SLOPE if activation == "leaky_relu" else None)


def activation_module(activation: str) -> nn.Module:
    """The ``nn`` module of an activation name.

    Example:
        >>> activation_module("tanh")
        Tanh()
    """
    _check("zeros", activation)
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity,
            "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE)}[activation]()


def apply_scheme(layer: nn.Linear, scheme: str, activation: str, generator: dendrite.Generator) -> None:
    """Fill ``layer``'s weight ``(out, in)`` and bias ``(out,)`` in place by ``scheme`` for ``activation``.

    Example:
        >>> layer = nn.Linear(4, 3)
        >>> apply_scheme(layer, "constant", "relu", dendrite.Generator().manual_seed(0))
        >>> [round(w, 6) for w in layer.weight.tolist()[0]], layer.bias.tolist()
        ([0.1, 0.1, 0.1, 0.1], [0.0, 0.0, 0.0])
    """
    _check(scheme, activation)
    weight, bias, gain = layer.weight, layer.bias, _gain(activation)
    if scheme == "default":
        nn_init.reset_affine_parameters(weight, bias, generator=generator)
        return
    nn_init.zeros_(bias)
    if scheme == "zeros":
        nn_init.zeros_(weight)
    elif scheme == "constant":
        nn_init.constant_(weight, CONSTANT_VALUE)
    elif scheme in ("small_normal", "large_normal"):
        std = SMALL_STD if scheme == "small_normal" else LARGE_STD
        nn_init.normal_(weight, 0.0, std, generator=generator)
    elif scheme == "xavier_uniform":
        nn_init.xavier_uniform_(weight, gain=gain, generator=generator)
    elif scheme == "xavier_normal":
        nn_init.xavier_normal_(weight, gain=gain, generator=generator)
    elif scheme in ("kaiming_uniform", "kaiming_normal"):
        # nonlinearity and slope set the gain: sqrt(2) for relu, 5/3 for tanh, 1 for linear and sigmoid
        fill = nn_init.kaiming_uniform_ if scheme == "kaiming_uniform" else nn_init.kaiming_normal_
        fill(weight, a=LEAKY_SLOPE if activation == "leaky_relu" else 0.0, nonlinearity=activation,
             generator=generator)
    elif scheme == "lecun_normal":
        nn_init.lecun_normal_(weight, generator=generator)
    else:  # orthogonal
        nn_init.orthogonal_(weight, gain=gain, generator=generator)


def build_mlp(sizes: list[int], scheme: str, activation: str, seed: int = 0, *, last_activation: bool = True,
              dtype=None) -> nn.Sequential:
    """``Linear(sizes[i], sizes[i+1])`` each followed by ``activation`` (not the last unless
    ``last_activation``), every layer filled by ``scheme`` from one generator seeded with ``seed``.

    Example:
        >>> model = build_mlp([2, 8, 1], "kaiming_normal", "relu", last_activation=False)
        >>> [type(m).__name__ for m in model], model(dendrite.zeros(5, 2)).shape
        (['Linear', 'ReLU', 'Linear'], (5, 1))
    """
    _check(scheme, activation)
    generator = dendrite.Generator().manual_seed(seed)
    modules: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = nn.Linear(fan_in, fan_out, dtype=dtype)
        apply_scheme(layer, scheme, activation, generator)
        modules.append(layer)
        if last_activation or index < len(sizes) - 2:
            modules.append(activation_module(activation))
    return nn.Sequential(*modules)


def weight_variance(scheme: str, activation: str, fan_in: int, fan_out: int) -> tuple[float, float]:
    """``(Var[W], Var[b])`` of one layer's entries under ``scheme`` (0 for the constant schemes).

    Example:
        >>> var_w, var_b = weight_variance("kaiming_normal", "relu", 64, 64)
        >>> round(var_w * 64, 6), var_b   # gain^2 / fan_in = 2 / 64
        (2.0, 0.0)
    """
    _check(scheme, activation)
    gain2 = _gain(activation) ** 2
    return {
        "zeros": (0.0, 0.0), "constant": (0.0, 0.0),
        "small_normal": (SMALL_STD**2, 0.0), "large_normal": (LARGE_STD**2, 0.0),
        "xavier_uniform": (gain2 * 2 / (fan_in + fan_out), 0.0),
        "xavier_normal": (gain2 * 2 / (fan_in + fan_out), 0.0),
        "kaiming_uniform": (gain2 / fan_in, 0.0), "kaiming_normal": (gain2 / fan_in, 0.0),
        "lecun_normal": (1 / fan_in, 0.0), "orthogonal": (gain2 / fan_in, 0.0),
        "default": (1 / (3 * fan_in), 1 / (3 * fan_in)),
    }[scheme]


# E[f(z)] for z ~ N(0, 1) is sum(weights * f(nodes)) / sqrt(2 pi)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(101)
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)


def _phi(activation: str, z: np.ndarray) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    return z


def theoretical_std(scheme: str, activation: str, depth: int, width: int) -> list[float]:
    """The std of each layer's activations (after the nonlinearity) that the scheme predicts: ``(depth,)``.

    Derivation (mean field: wide layers, independent weights, the input ``x ~ N(0, I)`` of size
    ``width``). A layer's pre-activation ``z = W h + b`` sums ``fan_in`` independent terms, so it is
    Gaussian with second moment ``q_l = fan_in * Var[W] * m_{l-1} + Var[b]``, where
    ``m_{l-1} = E[phi(z_{l-1})^2]`` is the previous layer's output second moment (``m_0 = 1``). The
    activation's output then has ``std_l = sqrt(m_l - E[phi(z_l)]^2)``; both expectations over
    ``z ~ N(0, q_l)`` are closed forms for linear and (leaky) ReLU (``E[relu(z)^2] = q/2``,
    ``E[relu(z)] = sqrt(q / 2 pi)``) and Gauss-Hermite quadrature for tanh and sigmoid.
    So the scheme keeps the signal when ``fan_in * Var[W] * E[phi^2]/q``
    is 1: ``Var[W] = 2 / fan_in`` for ReLU (Kaiming: ReLU halves the second moment), ``1 / fan_in``
    for linear (LeCun), ``2 / (fan_in + fan_out)`` (Xavier, the average of forward and backward).
    A too-small normal ``N(0, s^2)`` multiplies the std by ``sqrt(fan_in * s^2 * E[phi^2]/q)`` per
    layer: ``sqrt(fan_in * s^2 / 2)`` with ReLU, a geometric collapse when that is below 1.

    ``constant`` is deterministic: every neuron of a layer holds the same value
    ``c * sum(h_{l-1})``, so layer 1 is ``phi(N(0, c^2 width))`` and later layers push the same
    quadrature nodes through ``z -> c * width * phi(z)``. ``zeros`` gives 0 everywhere.

    Example:
        >>> [round(s, 3) for s in theoretical_std("kaiming_normal", "relu", 3, 64)]   # sqrt(1 - 1/pi)
        [0.826, 0.826, 0.826]
        >>> ratio = theoretical_std("small_normal", "relu", 2, 256)
        >>> round(ratio[1] / ratio[0], 4), round(math.sqrt(256 * 0.01**2 / 2), 4)
        (0.1131, 0.1131)
    """
    _check(scheme, activation)
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be at least 1, got depth={depth}, width={width}")
    stds = []
    if scheme == "constant":
        z = _NODES * CONSTANT_VALUE * math.sqrt(width)
        for _ in range(depth):
            h = _phi(activation, z)
            mean = float(np.sum(_WEIGHTS * h))
            stds.append(math.sqrt(max(float(np.sum(_WEIGHTS * h * h)) - mean * mean, 0.0)))
            z = CONSTANT_VALUE * width * h
        return stds
    second_moment = 1.0
    for _ in range(depth):
        var_w, var_b = weight_variance(scheme, activation, width, width)
        q = width * var_w * second_moment + var_b
        mean, second_moment = _gaussian_moments(activation, q)
        variance = second_moment - mean * mean
        stds.append(math.sqrt(max(variance, 0.0)) if math.isfinite(variance) else math.inf)
    return stds


def _gaussian_moments(activation: str, q: float) -> tuple[float, float]:
    """``(E[phi(z)], E[phi(z)^2])`` for ``z ~ N(0, q)``: closed forms for the piecewise-linear ones
    (the quadrature converges slowly at ReLU's kink), Gauss-Hermite quadrature for tanh and sigmoid."""
    if activation == "linear":
        return 0.0, q
    if activation in ("relu", "leaky_relu"):
        slope = LEAKY_SLOPE if activation == "leaky_relu" else 0.0
        return (1 - slope) * math.sqrt(q / (2 * math.pi)), q * (1 + slope**2) / 2
    with np.errstate(over="ignore", invalid="ignore"):
        h = _phi(activation, _NODES * math.sqrt(q))
        return float(np.sum(_WEIGHTS * h)), float(np.sum(_WEIGHTS * h * h))
