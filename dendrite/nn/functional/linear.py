"""Affine maps: ``linear`` (``x @ W.T + b``) and ``bilinear`` (``x1 @ W @ x2 + b``).

``linear`` runs in every MLP layer, so it is one fused ``Function``: the
forward is one matrix product (plus the bias), the backward three results:

    d input  = grad @ W            (..., out) @ (out, in)  -> (..., in)
    d weight = grad^T @ input      (out, M)   @ (M, in)    -> (out, in)
    d bias   = grad summed over all leading dimensions     -> (out,)

A 2-D input takes the direct path; other shapes are flattened to (M, in)
around the same products.
"""

from __future__ import annotations

import math

from dendrite import ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import composed_gradients, sum_to
from dendrite.ops.operands import unbroadcast
from dendrite.tensor import Tensor
from dendrite.utils.blas import dot

__all__ = ["bilinear", "linear"]


class Linear(Function):
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    # ``a.dot(b)`` is the same BLAS product as ``a @ b`` for 2-D arrays, with about half the call
    # overhead (which matters for small layers), and it copies a strided operand to a contiguous
    # one rather than falling back to a loop without BLAS. ``blas.dot`` runs a small one on one thread.
    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        if x.ndim == 2:
            out = dot(x, weight.T)
        else:  # one big product over the flattened leading dimensions
            rows = math.prod(x.shape[:-1])  # not reshape(-1, ...): -1 cannot be inferred for an empty x
            out = dot(x.reshape(rows, x.shape[-1]), weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        if bias is not None:
            self.bias_shape = bias.shape
            out += bias
        return out

    def backward(self, grad):
        # Y = X · Wᵀ + b:  dX = dY · W;  dW = dYᵀ · X;  db = Σ_rows dY
        x, weight = self.x, self.weight
        needs = self.needs_input_grad
        grad_x = grad_weight = grad_bias = None
        if x.ndim == 2:
            flat_grad = grad
            if needs[0]:
                grad_x = dot(grad, weight)
            if needs[1]:
                grad_weight = dot(grad.T, x)
        else:
            rows = math.prod(x.shape[:-1])  # not reshape(-1, ...): it cannot infer -1 with 0 out-features
            flat_grad = grad.reshape(rows, weight.shape[0])
            if needs[0]:
                grad_x = dot(flat_grad, weight).reshape(x.shape)
            if needs[1]:
                grad_weight = dot(flat_grad.T, x.reshape(rows, x.shape[-1]))
        if len(needs) > 2 and needs[2]:
            if self.bias_shape == weight.shape[:1]:  # the usual (out,) bias: a sum over all rows
                grad_bias = flat_grad.sum(0)
            else:
                grad_bias = unbroadcast(grad, self.bias_shape)
        return grad_x, grad_weight, grad_bias

    def backward_graph(self, grad):
        # The same formulas with tensors: dX = dY · W;  dW = dYᵀ · X;  db = Σ_rows dY
        x, weight = self.inputs[0], self.inputs[1]
        needs = self.needs_input_grad
        rows = math.prod(x.shape[:-1])
        flat_grad = grad.reshape(rows, weight.shape[0])
        grad_x = (grad @ weight) if needs[0] else None
        grad_weight = flat_grad.T @ x.reshape(rows, x.shape[-1]) if needs[1] else None
        grad_bias = None
        if len(needs) > 2 and needs[2]:
            usual = self.bias_shape == weight.shape[:1]  # the (out,) bias: a sum over all rows
            grad_bias = flat_grad.sum(0) if usual else sum_to(grad, self.bias_shape)
        return (grad_x, grad_weight, grad_bias)[:len(self.inputs)]


def _describe(tensor: Tensor) -> str:
    return f"shape {tuple(tensor.shape)} and dtype {tensor.dtype}"


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: the affine map of a fully connected layer.

    Shapes: input (*, in), weight (out, in), bias (out,) -> output (*, out).

    Example:
        >>> import dendrite
        >>> x, w, b = dendrite.ones(2, 3), dendrite.ones(4, 3), dendrite.zeros(4)
        >>> linear(x, w, b).shape
        (2, 4)
    """
    x_data, w_data = input.array, weight.array
    if w_data.ndim != 2 or x_data.ndim == 0 or x_data.shape[-1] != w_data.shape[1]:
        if w_data.ndim == 1 and x_data.ndim >= 1 and x_data.shape[-1] == w_data.shape[0]:
            out = input @ weight  # PyTorch accepts a single weight vector: (*, in) -> (*)
            return out if bias is None else out + bias
        raise RuntimeError(
            f"linear: input of shape {tuple(x_data.shape)} cannot be multiplied by weight of shape "
            f"{tuple(w_data.shape)}; expected input (*, in_features) and weight (out_features, "
            f"in_features) with the same in_features"
            + (" (did you forget to flatten the input?)" if x_data.ndim > 2 else "")
        )
    if x_data.dtype != w_data.dtype:
        raise RuntimeError(
            f"linear: input ({_describe(input)}) and weight ({_describe(weight)}) must have the same "
            "dtype; convert one with .to(dtype)"
        )
    if bias is None:
        return Linear.apply(input, weight)
    b_data = bias.array
    out_shape = x_data.shape[:-1] + (w_data.shape[0],)
    # The usual bias, (out,), is checked by one comparison before the general broadcast rule.
    if b_data.dtype != x_data.dtype or (b_data.shape != w_data.shape[:1]
                                        and not _broadcasts(b_data.shape, out_shape)):
        raise RuntimeError(
            f"linear: bias ({_describe(bias)}) does not fit weight ({_describe(weight)}); expected a bias "
            f"of shape ({w_data.shape[0]},) and dtype {w_data.dtype}"
        )
    return Linear.apply(input, weight, bias)


def _broadcasts(shape: tuple, target: tuple) -> bool:
    try:
        return xp.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


class Bilinear(Function):
    def forward(self, x1, x2, weight, bias=None):
        self.x1, self.x2, self.weight = x1, x2, weight
        # PyTorch's order (its _trilinear): x1 with the weight first, then with x2, so that a NaN/Inf
        # meets the same partial sums (contracting weight with x2 first can turn an inf into NaN)
        out = xp.einsum("...oj,...j->...o", xp.einsum("...i,oij->...oj", x1, weight), x2)
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        # Y_o = Σ_ij x1_i W_oij x2_j + b_o:  dx1_i = Σ_oj dY_o W_oij x2_j;  dx2_j = Σ_oi dY_o W_oij x1_i;
        # dW_oij = Σ_rows dY_o x1_i x2_j;  db = Σ_rows dY
        x1, x2, weight = self.x1, self.x2, self.weight
        needs = self.needs_input_grad
        grad_x1 = grad_x2 = grad_weight = grad_bias = None
        if needs[0]:
            grad_x1 = xp.einsum("...o,oij,...j->...i", grad, weight, x2, optimize=True)
        if needs[1]:
            grad_x2 = xp.einsum("...o,oij,...i->...j", grad, weight, x1, optimize=True)
        if needs[2]:
            grad_weight = xp.einsum("...o,...i,...j->oij", grad, x1, x2, optimize=True)
        if len(needs) > 3 and needs[3]:
            grad_bias = grad.reshape(-1, grad.shape[-1]).sum(axis=0)
        return grad_x1, grad_x2, grad_weight, grad_bias

    def backward_graph(self, grad):
        # Recomputed with differentiable ops (einsum) and differentiated with create_graph.
        def composed(x1, x2, weight, bias=None):
            out = ops.einsum("...i,oij,...j->...o", x1, weight, x2)
            return out if bias is None else out + bias
        return composed_gradients(self, grad, composed)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``.

    Shapes: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out,) -> (*, out).

    Example:
        >>> import dendrite
        >>> bilinear(dendrite.ones(5, 2), dendrite.ones(5, 3), dendrite.ones(4, 2, 3)).shape
        (5, 4)
    """
    a, b, w = input1.array, input2.array, weight.array
    if (w.ndim != 3 or a.ndim == 0 or b.ndim == 0 or a.shape[:-1] != b.shape[:-1]
            or a.shape[-1] != w.shape[1] or b.shape[-1] != w.shape[2]):
        raise RuntimeError(
            f"bilinear: inputs of shapes {tuple(a.shape)} and {tuple(b.shape)} do not fit weight of shape "
            f"{tuple(w.shape)}; expected input1 (*, in1), input2 (*, in2) with the same leading "
            "dimensions and weight (out, in1, in2)"
        )
    if bias is not None and tuple(bias.shape) != (w.shape[0],):
        raise RuntimeError(f"bilinear: bias of shape {tuple(bias.shape)} should be ({w.shape[0]},)")
    if bias is None:
        return Bilinear.apply(input1, input2, weight)
    return Bilinear.apply(input1, input2, weight, bias)
