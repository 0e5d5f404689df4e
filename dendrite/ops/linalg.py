"""Matrix products and matrix-shaped selections.

For ``C = A @ B`` the gradients are ``dA = dC @ B^T`` and ``dB = A^T @ dC``;
batch dimensions that were broadcast are summed back, and 1-D operands are
treated as a row (left) or a column (right) vector, as in NumPy and PyTorch.
``einsum`` differentiates by swapping an operand with the output gradient in
the same equation. ``tril``/``triu``/``diagonal`` pass the gradient through
the elements they keep.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import linear_map, sum_to
from dendrite.ops.operands import normalize_dims, unbroadcast
from dendrite.tensor_base import TensorBase
from dendrite.utils import blas

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class MatMul(Function):
    """``C = A @ B``; backward: ``dA = dC @ B^T``, ``dB = A^T @ dC`` (broadcast batch dims summed)."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, a, b):
        self.a, self.b = a, b
        return blas.matmul(a, b)  # on one BLAS thread when small (dendrite.utils.blas)

    def backward(self, grad):
        # C = A·B  =>  dA = dC·Bᵀ,  dB = Aᵀ·dC  (batched: over the last two dims, then summed
        # over the batch dims that broadcasting added; vectors are a 1-row / 1-column matrix).
        a, b = self.a, self.b
        needs = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case, without reshaping
            return ((blas.matmul(grad, b.T) if needs[0] else None),
                    (blas.matmul(a.T, grad) if needs[1] else None))
        if a.ndim == 1 and b.ndim == 1:  # inner product: grad is a scalar
            return (grad * b if needs[0] else None), (grad * a if needs[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            grad = xp.expand_dims(grad, -2)
        if b.ndim == 1:
            grad = xp.expand_dims(grad, -1)
        grad_a = grad_b = None
        if needs[0]:
            grad_a = unbroadcast(blas.matmul(grad, xp.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if needs[1]:
            grad_b = unbroadcast(blas.matmul(xp.swapaxes(a2, -1, -2), grad), b2.shape).reshape(b.shape)
        return grad_a, grad_b

    def backward_graph(self, grad):
        # The same formula with tensors: dA = dC·Bᵀ, dB = Aᵀ·dC.
        a, b = self.inputs
        needs = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if needs[0] else None), (grad * a if needs[1] else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        if a.ndim == 1:
            grad = grad.unsqueeze(-2)
        if b.ndim == 1:
            grad = grad.unsqueeze(-1)
        grad_a = grad_b = None
        if needs[0]:
            grad_a = sum_to(MatMul.apply(grad, b2.transpose(-1, -2)), tuple(a2.shape)).reshape(a.shape)
        if needs[1]:
            grad_b = sum_to(MatMul.apply(a2.transpose(-1, -2), grad), tuple(b2.shape)).reshape(b.shape)
        return grad_a, grad_b


def _describe(shape) -> str:
    return "x".join(str(s) for s in shape) if shape else "scalar"


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch rules: vectors, matrices and broadcast batches (``x @ w``).

    Shapes: (n,) @ (n,) -> (); (m, n) @ (n, p) -> (m, p); (B, m, n) @ (n, p) -> (B, m, p).
    ``x @ w.T`` for x of (N, in) and w of (out, in) is (N, out). Both operands share a dtype.

    Example:
        >>> import dendrite
        >>> a = dendrite.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> a @ dendrite.tensor([[1.0], [1.0]])
        tensor([[3.],
                [7.]], grad_fn=<MatMulBackward>)
        >>> (a @ dendrite.tensor([1.0, 2.0])).sum().backward(); a.grad  # dA = dC @ B^T
        tensor([[1., 2.],
                [1., 2.]])
    """
    a, b = input, other
    if isinstance(a, TensorBase) and isinstance(b, TensorBase):
        a_data, b_data = a._data, b._data
        if a_data.ndim == 2 and b_data.ndim == 2 and a_data.shape[1] == b_data.shape[0] \
                and a_data.dtype == b_data.dtype:
            return MatMul.apply(a, b)  # the common case, already checked
    if not isinstance(a, TensorBase) or not isinstance(b, TensorBase):
        raise TypeError(
            f"matmul: both operands must be tensors, got {type(a).__name__} and {type(b).__name__}"
        )
    if a._data.dtype != b._data.dtype:  # PyTorch refuses to guess here too
        raise RuntimeError(
            f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}; "
            "convert one, e.g. x.to(w.dtype)"
        )
    a_shape, b_shape = a._data.shape, b._data.shape
    if not a_shape or not b_shape:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {a_shape} and {b_shape}"
        )
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
            f"matmul: batch dimensions {a_shape[:-2]} and {b_shape[:-2]} cannot be broadcast "
            f"(shapes {a_shape} and {b_shape})"
        ) from None
    return MatMul.apply(a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only): (n, m) @ (m, p) -> (n, p).

    Example:
        >>> import dendrite
        >>> dendrite.mm(dendrite.tensor([[1, 2]]), dendrite.tensor([[3], [4]]))
        tensor([[11]])
    """
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix times vector: (n, m) @ (m,) -> (n,).

    Example:
        >>> import dendrite
        >>> dendrite.mv(dendrite.tensor([[1, 2], [3, 4]]), dendrite.tensor([1, 1]))
        tensor([3, 7])
    """
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(input.shape)} and "
                           f"{tuple(vec.shape)}")
    return matmul(input, vec)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product: (B, n, m) @ (B, m, p) -> (B, n, p), no broadcasting.

    Example:
        >>> import dendrite
        >>> dendrite.bmm(dendrite.ones(4, 2, 3), dendrite.ones(4, 3, 5)).shape
        (4, 2, 5)
    """
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length: (n,), (n,) -> ().

    Example:
        >>> import dendrite
        >>> dendrite.dot(dendrite.tensor([1, 2, 3]), dendrite.tensor([4, 5, 6]))
        tensor(32)
    """
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1-D tensors expected, got shapes {tuple(input.shape)} and "
                           f"{tuple(other.shape)}")
    return matmul(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two vectors, ``out[i, j] = input[i] * vec2[j]``: (n,), (m,) -> (n, m).

    Example:
        >>> import dendrite
        >>> dendrite.outer(dendrite.tensor([1, 2]), dendrite.tensor([1, 10, 100]))
        tensor([[  1,  10, 100],
                [  2,  20, 200]])
    """
    for name, vector in (("input", input), ("vec2", vec2)):
        if vector._data.ndim != 1:
            raise RuntimeError(f"outer: expected a 1-D {name}, got shape {tuple(vector._data.shape)}")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``: (n, m) @ (m, p) -> (n, p), ``input`` broadcasting to it.

    A linear layer is ``addmm(b, x, w.T)``.

    Example:
        >>> import dendrite
        >>> x, w, b = dendrite.ones(2, 3), dendrite.ones(4, 3), dendrite.tensor([0.0, 1.0, 2.0, 3.0])
        >>> dendrite.addmm(b, x, w.T)
        tensor([[3., 4., 5., 6.],
                [3., 4., 5., 6.]])
    """
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    return product + (input if beta == 1 else input * beta)


class Triangle(Function):
    """``tril``/``triu`` of the last two dims; backward: the same triangle of the gradient."""
    def forward(self, x, diagonal, upper):
        self.diagonal, self.upper = diagonal, upper
        return xp.triu(x, diagonal) if upper else xp.tril(x, diagonal)

    def backward(self, grad):
        return xp.triu(grad, self.diagonal) if self.upper else xp.tril(grad, self.diagonal)

    def backward_graph(self, grad):
        return Triangle.apply(grad, diagonal=self.diagonal, upper=self.upper)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below ``diagonal``) of the last two dims; the rest is 0. Same shape.

    Example:
        >>> import dendrite
        >>> dendrite.ones(3, 3).tril()
        tensor([[1., 0., 0.],
                [1., 1., 0.],
                [1., 1., 1.]])
    """
    if input.ndim < 2:
        raise RuntimeError(f"tril: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return Triangle.apply(input, diagonal=diagonal, upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above ``diagonal``) of the last two dims; the rest is 0. Same shape.

    A causal attention mask: ``ones(T, T).triu(1).bool()`` marks the future.

    Example:
        >>> import dendrite
        >>> dendrite.ones(3, 3).triu(1)
        tensor([[0., 1., 1.],
                [0., 0., 1.],
                [0., 0., 0.]])
    """
    if input.ndim < 2:
        raise RuntimeError(f"triu: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return Triangle.apply(input, diagonal=diagonal, upper=True)


class Diagonal(Function):
    """The diagonal of two axes, as the last axis; backward: the gradient placed on that diagonal."""
    def forward(self, x, offset, axes):
        self.shape, self.offset, self.axes = x.shape, offset, axes
        return xp.diagonal(x, offset, *axes).copy()

    def backward(self, grad):
        result = backend.namespace(grad).zeros(self.shape, grad.dtype)
        window = xp.moveaxis(result, self.axes, (-2, -1))  # a writable view of result
        count = grad.shape[-1]
        rows = backend.namespace(grad).arange(count) + max(-self.offset, 0)
        window[..., rows, rows + self.offset] = grad
        return result

    def backward_graph(self, grad):
        shape, offset, axes = self.shape, self.offset, self.axes

        def place(g):
            result = backend.namespace(g).zeros(shape, g.dtype)
            rows = backend.namespace(g).arange(g.shape[-1]) + max(-offset, 0)
            xp.moveaxis(result, axes, (-2, -1))[..., rows, rows + offset] = g
            return result
        return linear_map(grad, to=place, back=lambda h: xp.diagonal(h, offset, *axes).copy())


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, as the last dimension of the result.

    Shapes: (B, n, n) with dim1=1, dim2=2 -> (B, n); ``offset`` > 0 is above the main diagonal.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        >>> x.diagonal(), x.diagonal(offset=1)
        (tensor([1, 5, 9]), tensor([2, 6]))
    """
    axes = normalize_dims((dim1, dim2), input.ndim, "diagonal: dim")
    return Diagonal.apply(input, offset=offset, axes=axes)


class DiagEmbed(Function):
    """A vector as a diagonal matrix; backward: the gradient's diagonal."""
    def forward(self, x, offset):
        self.offset = offset
        return xp.diag(x, offset)

    def backward(self, grad):
        return xp.diagonal(grad, self.offset).copy()

    def backward_graph(self, grad):
        offset = self.offset
        return linear_map(grad, to=lambda g: xp.diagonal(g, offset).copy(), back=lambda h: xp.diag(h, offset))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor (n,) becomes a diagonal matrix (n, n); a matrix gives its diagonal (1-D).

    Example:
        >>> import dendrite
        >>> dendrite.diag(dendrite.tensor([1, 2]))
        tensor([[1, 0],
                [0, 2]])
    """
    if input.ndim == 1:
        return DiagEmbed.apply(input, offset=diagonal)
    if input.ndim == 2:
        return Diagonal.apply(input, offset=diagonal, axes=(0, 1))
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def trace(input: Tensor) -> Tensor:
    """Sum of the diagonal of a matrix: (n, m) -> ().

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1.0, 2.0], [3.0, 4.0]]).trace()
        tensor(5.)
    """
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, got shape {tuple(input.shape)}")
    return diagonal(input).sum()


# ----------------------------------------------------------------------------- einsum
def _parse_einsum(equation: str, shapes) -> tuple:
    """``equation`` with '...' spelled out and an explicit output: (input subscripts, output)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum: the equation has {len(terms)} operands but {len(shapes)} tensors "
                           "were given")
    spare = [c for c in string.ascii_letters if c not in equation]
    ellipsis_rank = max((len(shape) - len(term.replace("...", "")) for term, shape in zip(terms, shapes)
                        if "..." in term), default=0)
    batch = "".join(spare[:ellipsis_rank])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            rank = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", batch[ellipsis_rank - rank:])
        if len(term) != len(shape):
            raise RuntimeError(f"einsum: subscripts '{term}' do not match an operand of shape {tuple(shape)}")
        expanded.append(term)
    if arrow:
        output = output.replace("...", batch)
    else:  # implicit output: the batch letters, then letters used once, alphabetically
        counts = {c: "".join(expanded).count(c) for c in "".join(expanded)}
        output = batch + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in batch))
    return expanded, output


def _naive_flops(terms, arrays) -> int:
    """2 × the product of every letter's size: the work of the contraction done in one loop nest."""
    sizes = {letter: size for term, array in zip(terms, arrays) for letter, size in zip(term, array.shape)}
    work = 2
    for size in sizes.values():
        work *= size
    return work


class Einsum(Function):
    """``einsum(equation, *arrays)``; backward: each operand swapped with the output gradient."""
    def forward(self, *arrays, terms, output):
        self.arrays, self.terms, self.output = arrays, terms, output
        # PyTorch (without opt_einsum) contracts left to right, one pair at a time: the same path here,
        # so that a NaN/Inf meets the same partial sums (another order can turn an inf into NaN)
        # (NumPy appends each partial result last: after the first pair, the next operand is at 0)
        path = ["einsum_path", (0, 1)] + [(0, len(arrays) - 1 - step) for step in range(1, len(arrays) - 1)]
        if len(arrays) <= 2:  # NumPy's own loops, no BLAS
            return backend.asarray(xp.einsum(",".join(terms) + "->" + output, *arrays, optimize=False))
        with blas.serial_threads(_naive_flops(terms, arrays)):  # the pairs go to BLAS: one thread when small
            return backend.asarray(xp.einsum(",".join(terms) + "->" + output, *arrays, optimize=path))

    def backward(self, grad):
        grads = []
        for position, (term, array) in enumerate(zip(self.terms, self.arrays)):
            if not self.needs_input_grad[position]:
                grads.append(None)
                continue
            if len(set(term)) != len(term):
                raise NotImplementedError(f"einsum backward: repeated subscripts in one operand ('{term}')")
            others = [(t, a) for i, (t, a) in enumerate(zip(self.terms, self.arrays)) if i != position]
            available = set(self.output).union(*(set(t) for t, _ in others))
            kept = "".join(c for c in term if c in available)  # letters summed only inside this operand
            equation = ",".join([self.output] + [t for t, _ in others]) + "->" + kept
            with blas.serial_threads(_naive_flops(self.terms, self.arrays) if len(others) > 1 else 0):
                partial = xp.einsum(equation, grad, *[a for _, a in others], optimize=len(others) > 1)
            # ``kept`` is in the operand's order; re-insert the dropped letters as broadcast axes.
            shape = tuple(size if c in kept else 1 for c, size in zip(term, array.shape))
            grads.append(xp.broadcast_to(partial.reshape(shape), array.shape).astype(grad.dtype))
        return tuple(grads)

    def backward_graph(self, grad):
        # The same swap with tensors: each operand's gradient is an einsum of dY with the other operands.
        grads = []
        for position, (term, tensor) in enumerate(zip(self.terms, self.inputs)):
            if not self.needs_input_grad[position]:
                grads.append(None)
                continue
            if len(set(term)) != len(term):
                raise NotImplementedError(f"einsum backward: repeated subscripts in one operand ('{term}')")
            others = [(t, x) for i, (t, x) in enumerate(zip(self.terms, self.inputs)) if i != position]
            available = set(self.output).union(*(set(t) for t, _ in others))
            kept = "".join(c for c in term if c in available)
            terms = [self.output] + [t for t, _ in others]
            partial = Einsum.apply(grad, *[x for _, x in others], terms=terms, output=kept)
            shape = tuple(size if c in kept else 1 for c, size in zip(term, tensor.shape))
            grads.append(partial.reshape(shape).broadcast_to(tuple(tensor.shape)))
        return tuple(grads)


def einsum(equation: str, *operands_) -> Tensor:
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)`` is a batched matmul.

    Shapes follow the subscripts: letters missing from the output are summed. Supports
    '...' and implicit outputs; an operand may not repeat a subscript (no 'ii').

    Example:
        >>> import dendrite
        >>> a, b = dendrite.tensor([[1, 2], [3, 4]]), dendrite.tensor([[1, 0], [0, 1]])
        >>> dendrite.einsum("ij,jk->ik", a, b).tolist(), dendrite.einsum("ij->j", a).tolist()
        ([[1, 2], [3, 4]], [4, 6])
    """
    if len(operands_) == 1 and isinstance(operands_[0], (list, tuple)):
        operands_ = tuple(operands_[0])
    terms, output = _parse_einsum(equation, [t.shape for t in operands_])
    return Einsum.apply(*operands_, terms=terms, output=output)


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum over the last ``dims`` dims of ``a`` and the first of ``b`` (or explicit lists of dims).

    Shapes: the kept dims of ``a`` then those of ``b``: (2, 3) and (3, 4) with
    ``dims=([1], [0])`` (or ``dims=1``) -> (2, 4), the matrix product.

    Example:
        >>> import dendrite
        >>> dendrite.tensordot(dendrite.ones(2, 3), dendrite.ones(3, 4), dims=1).shape
        (2, 4)
        >>> dendrite.tensordot(dendrite.tensor([[1, 2]]), dendrite.tensor([[3, 4]]), dims=([1], [1]))
        tensor([[11]])
    """
    if isinstance(dims, int):
        a_dims, b_dims = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        a_dims, b_dims = (list(normalize_dims(d, t.ndim)) for d, t in zip(dims, (a, b)))
    letters = iter(string.ascii_letters)
    a_term = [next(letters) for _ in range(a.ndim)]
    b_term = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(a_dims, b_dims):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"tensordot: contracted dimensions differ: {a.shape[i]} (dim {i} of {tuple(a.shape)}) "
                f"and {b.shape[j]} (dim {j} of {tuple(b.shape)})"
            )
        b_term[j] = a_term[i]
    output = [c for i, c in enumerate(a_term) if i not in a_dims] + [
        c for j, c in enumerate(b_term) if j not in b_dims
    ]
    return einsum("".join(a_term) + "," + "".join(b_term) + "->" + "".join(output), a, b)
