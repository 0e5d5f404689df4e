"""Checkers for lesson 4, convolutional networks.

1. :func:`vertical_edge_filter`: a small filter that responds to vertical edges and not to horizontal
   ones or to flat regions (tried on test images with dendrite's ``conv2d``).
2. :func:`conv_output_size`: the output length of a convolution from input size, kernel, stride, padding.
3. :func:`conv2d_parameters`: the number of weights and biases of a ``Conv2d`` layer, compared with the
   count of the real layer.

Wrong answers get a message naming the likely slip: a missing ``+ 1``, padding counted once, a ceiling
instead of a floor, a filter that sees brightness or horizontal edges, a forgotten bias or input channel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import dendrite
import dendrite.nn as nn
import dendrite.nn.functional as F
from dendrite.lessons.verdict import Verdict, correct, exercise, wrong

__all__ = ["conv2d_parameters", "conv_output_size", "vertical_edge_filter"]

# (size, kernel, stride, padding): odd and even sizes, strides that do not divide, padding 0..2
_SIZE_CASES = ((28, 3, 1, 0), (28, 3, 1, 1), (28, 5, 1, 2), (32, 3, 2, 1), (8, 2, 2, 0), (7, 3, 2, 0),
               (10, 4, 3, 1), (5, 5, 1, 0), (224, 7, 2, 3), (9, 3, 3, 2))


def _size_slips(n: int, k: int, s: int, p: int) -> dict[str, float]:
    return {
        "no + 1": (n + 2 * p - k) // s,
        "padding once": (n + p - k) // s + 1,
        "ceiling": math.ceil((n + 2 * p - k) / s) + 1,
        "no division": n + 2 * p - k + 1,
        "no padding": (n - k) // s + 1,
        "n / s": n // s,
    }


_SIZE_HINTS = {
    "no + 1": "you are one short: a kernel that fits exactly once (size = kernel) still gives one output",
    "padding once": "the padding is added on both sides of the input, so it counts twice",
    "ceiling": "a last step that would hang over the edge is not taken: round down, not up",
    "no division": "the stride is missing: with stride s the kernel only stops at every s-th position",
    "no padding": "the padding is missing: it makes the input longer before the kernel slides over it",
    "n / s": "the kernel size and the padding matter too, not only the stride",
}


@exercise("Lesson 4, exercise 2: the output size of a convolution")
def conv_output_size(answer: Callable[[int, int, int, int], Any]) -> Verdict:
    """Check ``out_size(size, kernel, stride, padding) -> int`` (one spatial axis, no dilation).

    Example:
        >>> conv_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1).status
        'correct'
        >>> conv_output_size(lambda n, k, s, p: (n + 2 * p - k) // s).status
        'wrong'
    """
    given: list[int] = []
    for n, k, s, p in _SIZE_CASES:
        got = answer(n, k, s, p)
        if isinstance(got, float | np.floating) and not float(got).is_integer():
            return wrong(f"out_size({n}, {k}, {s}, {p}) returned {got}: a number of positions is a whole "
                         "number; decide whether to round up or down")
        if not isinstance(got, int | float | np.integer | np.floating) or isinstance(got, bool):
            return wrong(f"out_size({n}, {k}, {s}, {p}) returned {got!r}; expected a whole number")
        given.append(int(got))
    wrong_cases = [(case, value) for case, value in zip(_SIZE_CASES, given, strict=True)
                   if value != (case[0] + 2 * case[3] - case[1]) // case[2] + 1]
    if not wrong_cases:
        return correct("right: floor((size + 2·padding − kernel) / stride) + 1; dendrite's Conv2d and "
                       "pooling layers follow it on each spatial axis")
    (n, k, s, p), value = wrong_cases[0]
    where = f"with size={n}, kernel={k}, stride={s}, padding={p} you gave {value}"
    for slip, hint in _SIZE_HINTS.items():
        # the slip that explains every answer, not just this one
        if all(v == _size_slips(*case)[slip] for case, v in zip(_SIZE_CASES, given, strict=True)):
            return wrong(f"{where}: {hint}")
    return wrong(f"{where}: count the positions where a kernel of width {k} fits in the padded input "
                 "when it moves by the stride each time")


def _edge_images(size: int = 12) -> dict[str, np.ndarray]:
    """Test images: vertical and horizontal step edges (both polarities), a flat one and a ramp."""
    half = size // 2
    vertical = np.zeros((size, size))
    vertical[:, half:] = 1.0
    horizontal = vertical.T.copy()
    return {"vertical": vertical, "vertical, dark on the right": 1 - vertical,
            "horizontal": horizontal, "horizontal, dark below": 1 - horizontal,
            "flat": np.full((size, size), 0.7)}


def _response(image: np.ndarray, kernel: np.ndarray) -> float:
    """The largest absolute response of ``kernel`` over the valid part of ``image``."""
    x = dendrite.tensor(image[None, None], dtype=dendrite.float64)
    w = dendrite.tensor(kernel[None, None], dtype=dendrite.float64)
    return float(np.abs(F.conv2d(x, w).numpy()).max())


@exercise("Lesson 4, exercise 1: a filter that finds vertical edges")
def vertical_edge_filter(answer: Any) -> Verdict:
    """Check a small square 2-D filter (2×2 to 5×5) that detects vertical edges.

    It must respond strongly to a vertical edge (either way round), at most a fifth as much to a
    horizontal edge, and not at all to a flat region.

    Example:
        >>> vertical_edge_filter([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]).status
        'correct'
        >>> vertical_edge_filter([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]).status
        'wrong'
    """
    kernel = np.asarray(answer, dtype=float)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] not in (2, 3, 4, 5):
        return wrong(f"your filter has shape {kernel.shape}; expected a small square 2-D array such as 3×3")
    if not np.all(np.isfinite(kernel)):
        return wrong("your filter contains NaN or infinity; use ordinary numbers")
    images = _edge_images()
    responses = {name: _response(image, kernel) for name, image in images.items()}
    scale = float(np.abs(kernel).sum())
    if scale == 0:
        return wrong("your filter is all zeros, so it responds to nothing")
    if responses["flat"] > 1e-6 * scale:
        return wrong(f"your filter responds to a flat, uniform patch (response {responses['flat']:.3g}): it "
                     "measures brightness, not change; make its weights add up to zero")
    vertical = min(responses["vertical"], responses["vertical, dark on the right"])
    horizontal = max(responses["horizontal"], responses["horizontal, dark below"])
    if vertical < 0.1 * scale:
        if horizontal > 0.1 * scale:
            return wrong(f"your filter responds to horizontal edges ({horizontal:.3g}) but hardly to "
                         f"vertical ones ({vertical:.3g}): it compares rows; a vertical edge is a change "
                         "from left to right, so compare columns")
        return wrong(f"your filter hardly responds to a vertical edge ({vertical:.3g}): it should compare "
                     "the pixels on the left of its centre with those on the right")
    if horizontal > 0.2 * vertical:
        return wrong(f"your filter responds to horizontal edges too ({horizontal:.3g} against {vertical:.3g} "
                     "for vertical ones): weigh the columns, and keep each column's pattern the same "
                     "from top to bottom")
    return correct(f"right: it answers {vertical:.3g} on a vertical edge, {horizontal:.3g} on a horizontal "
                   "one and 0 on a flat patch; a CNN's first layer learns filters like this by itself")


# (in_channels, out_channels, kernel_size, bias)
_PARAMETER_CASES = ((1, 8, 3, True), (3, 16, 5, True), (16, 32, 3, False), (8, 8, 1, True), (3, 4, 7, True))


def _count(layer: nn.Module) -> int:
    return sum(parameter.numel() for parameter in layer.parameters())


@exercise("Lesson 4, exercise 3: count a Conv2d layer's parameters")
def conv2d_parameters(answer: Callable[[int, int, int, bool], Any]) -> Verdict:
    """Check ``count(in_channels, out_channels, kernel_size, bias) -> int`` against ``nn.Conv2d``.

    Example:
        >>> conv2d_parameters(lambda i, o, k, b: o * i * k * k + (o if b else 0)).status
        'correct'
        >>> conv2d_parameters(lambda i, o, k, b: o * k * k + o).status
        'wrong'
    """
    for c_in, c_out, k, bias in _PARAMETER_CASES:
        got = answer(c_in, c_out, k, bias)
        want = _count(nn.Conv2d(c_in, c_out, k, bias=bias))
        where = f"Conv2d({c_in}, {c_out}, kernel_size={k}, bias={bias})"
        try:
            value = int(got)
        except (TypeError, ValueError):
            return wrong(f"count({c_in}, {c_out}, {k}, {bias}) returned {got!r}; expected a whole number")
        if value == want:
            continue
        weights = c_out * c_in * k * k
        slips = [
            (c_out * k * k + (c_out if bias else 0), "each output channel has one k×k filter *per input "
             "channel*: the in_channels factor is missing"),
            (weights + c_out, "this layer has bias=False: no biases to count"),
            (weights, "the biases are missing: one per output channel"),
            (weights + c_in * c_out, "one bias per output channel, not one per filter slice"),
            (c_out * c_in * k + (c_out if bias else 0), "the kernel is k×k: its size enters squared"),
            (weights + (c_in if bias else 0), "the bias belongs to the output channels, not the input ones"),
        ]
        for slip, hint in slips:
            if value == slip and slip != want:
                return wrong(f"{where} has {want} parameters; you said {value}: {hint}")
        return wrong(f"{where} has {want} parameters; you said {value}: count the weights of one output "
                     "channel's filter, multiply by the output channels, then add the biases")
    return correct("right: out·in·k·k weights plus out biases; unlike a Linear layer, the count does not "
                   "depend on the image size, because the same filter slides over every position")
