"""Matrix products.

For ``C = A @ B`` the gradients are ``dA = dC @ B^T`` and ``dB = A^T @ dC``;
batch dimensions that were broadcast are summed back, and 1-D operands are
treated as a row (left) or a column (right) vector, as in NumPy and PyTorch.
"""

from __future__ import annotations

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.elementwise import operands, unbroadcast
from dendrite.tensor import Tensor


class MatMul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.matmul(a, b)

    def backward(self, grad):
        a, b = self.a, self.b
        if a.ndim == 2 and b.ndim == 2:  # the common case, without reshaping
            grad_a = grad @ b.T if self.needs_input_grad[0] else None
            grad_b = a.T @ grad if self.needs_input_grad[1] else None
            return grad_a, grad_b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            grad = xp.expand_dims(grad, -2)
        if b.ndim == 1:
            grad = xp.expand_dims(grad, -1)
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(grad @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            grad_b = unbroadcast(xp.swapaxes(a2, -1, -2) @ grad, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def _describe(shape) -> str:
    return "x".join(str(s) for s in shape) if shape else "scalar"


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy/PyTorch rules: vectors, matrices and broadcast batches.

    Shapes: (n,) @ (n,) -> (); (m, n) @ (n, p) -> (m, p); (B, m, n) @ (n, p) -> (B, m, p).
    """
    a, b = operands(a, b)
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul: both operands must be tensors")
    a_shape, b_shape = a._data.shape, b._data.shape
    if not a_shape or not b_shape:
        raise RuntimeError("matmul: both arguments need at least 1 dimension, got a 0-d tensor")
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        raise RuntimeError(
            f"matmul: shapes cannot be multiplied ({_describe(a_shape)} and {_describe(b_shape)}): "
            f"the last dimension of the first ({inner_a}) must equal the "
            f"{'first' if len(b_shape) == 1 else 'second-to-last'} dimension of the second ({inner_b})"
        )
    try:
        xp.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions {a_shape[:-2]} and {b_shape[:-2]} cannot be broadcast"
        ) from None
    return MatMul.apply(a, b)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two matrices (2-D only)."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product: (B, n, m) @ (B, m, p) -> (B, n, p), no broadcasting."""
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two vectors: (n,), (m,) -> (n, m)."""
    return a.reshape(-1, 1) * b.reshape(1, -1)
