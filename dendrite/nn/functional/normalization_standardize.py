"""What the normalisation layers share: standardising, the affine map, their backward, argument checks.

Forward: ``xhat = (x - mean) / sqrt(var + eps)`` over the normalised axes (biased variance),
then ``y = xhat * weight + bias``. Backward through the mean and the variance in one pass, with
``g = dL/dxhat``::

    dL/dx = invstd * (g - mean(g) - xhat * mean(g * xhat))      (means over the normalised axes)
    dL/dweight = sum(dL/dy * xhat),  dL/dbias = sum(dL/dy)       (sums over the other axes)

Used by batch, instance and group norm (:mod:`dendrite.nn.functional.normalization`) and layer
and RMS norm (:mod:`dendrite.nn.functional.normalization_layer`).
"""

from __future__ import annotations

import math
import warnings

from dendrite.backend import xp
from dendrite.tensor import Tensor


def _statistics_input(x):
    """float16 statistics are computed in float32 (PyTorch's accumulate type): squares of halves above
    256 overflow, which made the variance inf and the output zeros. Other dtypes pass through."""
    return x.astype(xp.float32) if x.dtype == xp.float16 else x


def _standardize(x, axes, eps, statistics=False):
    """``(xhat, invstd)`` of ``x`` over ``axes`` (kept as size-1 axes); ``statistics`` adds mean, var.

    Two passes (mean, then the mean of the centered squares): no cancellation at large magnitudes.
    ``xhat`` has x's dtype; ``invstd`` (and mean, var) the accumulate dtype (float32 for float16).
    """
    wide = _statistics_input(x)
    count = math.prod(wide.shape[axis] for axis in axes)
    with warnings.catch_warnings():  # an empty slice (an empty batch) has NaN statistics, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = wide.sum(axis=axes, keepdims=True) / count
        # one correction pass (the mean of the residuals): a constant slice gets its value back exactly,
        # so its centred values are 0 as in PyTorch, not the rounding of the sum times 1/sqrt(eps)
        centered = wide - mean
        correction = centered.sum(axis=axes, keepdims=True) / count
        centered -= correction
        mean += correction
        square = centered * centered
        var = square.sum(axis=axes, keepdims=True) / count
    invstd = 1.0 / xp.sqrt(var + eps)
    xhat = xp.multiply(centered, invstd, out=square if square.dtype == x.dtype else None)
    xhat = xhat.astype(x.dtype, copy=False)
    if statistics:
        return xhat, invstd, mean, var
    return xhat, invstd


def _standardize_backward(grad_xhat, xhat, invstd, axes):
    # dX = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / σ, the means in invstd's (accumulate) dtype
    count = math.prod(xhat.shape[axis] for axis in axes)
    with warnings.catch_warnings():  # an empty slice: NaN means, multiplied into an empty gradient
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_grad = grad_xhat.sum(axis=axes, keepdims=True, dtype=invstd.dtype) / count
        out = grad_xhat * xhat
        mean_projection = out.sum(axis=axes, keepdims=True, dtype=invstd.dtype) / count
    if out.dtype != invstd.dtype:  # float16: the arithmetic in the accumulate dtype, as before
        return (invstd * (grad_xhat - mean_grad - xhat * mean_projection)).astype(grad_xhat.dtype, copy=False)
    xp.multiply(xhat, mean_projection, out=out)  # in one buffer: this runs on every normalised value
    xp.subtract(grad_xhat, out, out=out)
    out -= mean_grad
    out *= invstd
    return out


def _affine(xhat, weight, bias, shape):
    out = xhat if weight is None else xhat * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def _affine_grads(needs, grad, xhat, axes, size):
    grad_weight = (grad * xhat).sum(axis=axes).reshape(size) if needs[1] else None
    grad_bias = grad.sum(axis=axes).reshape(size) if len(needs) > 2 and needs[2] else None
    return grad_weight, grad_bias


def _affine_graph(xhat, weight, bias, shape):
    """``_affine`` with tensors: ``x̂ γ + β``, γ and β reshaped to ``shape`` (double backward)."""
    if weight is not None:
        xhat = xhat * weight.reshape(shape)
    return xhat if bias is None else xhat + bias.reshape(shape)


def _check_dtypes(name: str, input: Tensor, weight, bias) -> None:
    """PyTorch's CPU rule: a floating input, and weight and bias of its dtype (a float16/bfloat16 input
    may also take float32 ones); integers and mixed float32/float64 are refused, not promoted."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}; convert first, "
                           "e.g. x.float()")
    for what, tensor in (("weight", weight), ("bias", bias)):
        if tensor is None or tensor.dtype == input.dtype:
            continue
        if not (tensor.dtype == xp.float32 and input.dtype.itemsize == 2):
            raise RuntimeError(f"{name}: {what} of dtype {tensor.dtype} does not match the input's dtype "
                               f"{input.dtype} (mixed dtypes are not supported, as in PyTorch); convert one")


def _check_channel_vector(name: str, what: str, tensor, channels: int, input: Tensor) -> None:
    if tensor is not None and tensor.numel() != channels:
        raise RuntimeError(
            f"{name}: {what} should contain {channels} elements (one per channel of an input of shape "
            f"{tuple(input.shape)}), not {tensor.numel()} (shape {tuple(tensor.shape)})"
        )
