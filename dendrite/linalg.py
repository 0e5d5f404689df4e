"""``dendrite.linalg`` (PyTorch's ``torch.linalg``): solve, inv, det, slogdet, matrix_exp, qr, norms,
householder_product. Batched over leading dimensions, computed by NumPy's LAPACK.

    X = solve(A, B):  A X = B          dB = A^-T G,   dA = -dB X^T
    inv(A):                            dA = -A^-T G A^-T
    det(A):                            dA = G det(A) A^-T
    slogdet(A) = (sign, log|det A|):   dA = G A^-T
    matrix_exp(A) = sum_k A^k / k!     dA = the upper-right block of exp([[A^T, G], [0, A^T]])
                                       (the Frechet derivative of exp at A^T in the direction G)

``matrix_exp`` is Higham's scaling and squaring with a degree-13 Pade approximant, in float64.
``qr`` is forward only (its backward is not written: a clear error says so); ``householder_product`` is
composed from differentiable operations.
"""

from __future__ import annotations

import math
from collections import namedtuple

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.operands import unbroadcast
from dendrite.ops.reduce import norm as _norm
from dendrite.tensor import Tensor

__all__ = ["det", "householder_product", "inv", "matrix_exp", "matrix_norm", "norm", "qr", "slogdet", "solve",
           "vector_norm"]

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
QRResult = namedtuple("QRResult", ["Q", "R"])


def _square(name: str, a: Tensor) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{' by '.join(str(s) for s in a.shape[-2:]) if a.ndim >= 2 else a.ndim} matrices"
                           f" (input of shape {tuple(a.shape)})")
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{name}: Expected a floating point tensor as input. Got {a.dtype}")


def _mT(array):
    return xp.swapaxes(array, -1, -2)


class _Solve(Function):
    """``X = A^-1 B``; backward: ``dB = A^-T G``, ``dA = -dB X^T``."""

    def forward(self, a, b, vector=False):
        self.a, self.vector = a, vector
        rhs = b[..., None] if vector else b
        try:
            self.x = xp.linalg.solve(a, rhs)
        except xp.linalg.LinAlgError as error:
            raise RuntimeError("linalg.solve: The solver failed because the input matrix is "
                               "singular.") from error
        self.b_shape = b.shape
        return self.x[..., 0] if vector else self.x

    def backward(self, grad):
        g = grad[..., None] if self.vector else grad
        grad_b = xp.linalg.solve(_mT(self.a), g)
        grad_a = -grad_b @ _mT(self.x) if self.needs_input_grad[0] else None
        grad_a = unbroadcast(grad_a, tuple(self.a.shape)) if grad_a is not None else None
        grad_b = grad_b[..., 0] if self.vector else grad_b
        return grad_a, unbroadcast(grad_b, tuple(self.b_shape))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` with ``left=False``). ``A``: ``(*, n, n)``; ``B``:
    ``(*, n, k)``, or ``(n,)``/``(*, n)`` for a vector right-hand side.

    Example:
        >>> import dendrite
        >>> A = dendrite.tensor([[2.0, 0.0], [1.0, 1.0]])
        >>> dendrite.linalg.solve(A, dendrite.tensor([4.0, 3.0])).tolist()
        [2.0, 1.0]
    """
    _square("solve", A)
    if not left:
        return solve(A.transpose(-1, -2), B.transpose(-1, -2)).transpose(-1, -2)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if B.shape[-1 if vector else -2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({tuple(A.shape)} and {tuple(B.shape)})")
    return _Solve.apply(A, B, vector=vector)


class _Inv(Function):
    """``A^-1``; backward: ``-A^-T G A^-T``."""

    def forward(self, a):
        try:
            self.result = xp.linalg.inv(a)
        except xp.linalg.LinAlgError as error:
            raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not be "
                               "completed because the input matrix is singular.") from error
        return self.result

    def backward(self, grad):
        inverse_t = _mT(self.result)
        return -inverse_t @ grad @ inverse_t


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix in ``A`` ``(*, n, n)``.

    Example:
        >>> import dendrite
        >>> dendrite.linalg.inv(dendrite.tensor([[2.0, 0.0], [0.0, 4.0]])).tolist()
        [[0.5, 0.0], [0.0, 0.25]]
    """
    _square("inv", A)
    return _Inv.apply(A)


class _Det(Function):
    """``det(A)``; backward: ``G det(A) A^-T`` (through the pseudo-inverse where A is singular)."""

    def forward(self, a):
        self.a, self.result = a, xp.linalg.det(a)
        return self.result

    def backward(self, grad):
        inverse_t = _mT(xp.linalg.pinv(self.a))
        return (grad * self.result)[..., None, None] * inverse_t


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix in ``A``: ``(*, n, n) -> (*)``.

    Example:
        >>> import dendrite
        >>> dendrite.linalg.det(dendrite.tensor([[2.0, 1.0], [1.0, 3.0]])).item()
        5.0
    """
    _square("det", A)
    return _Det.apply(A)


class _LogAbsDet(Function):
    """``log|det A|``; backward: ``G A^-T``."""

    def forward(self, a):
        self.a = a
        self.sign, result = xp.linalg.slogdet(a)
        return result

    def backward(self, grad):
        return grad[..., None, None] * _mT(xp.linalg.inv(self.a))


def slogdet(A: Tensor) -> SlogdetResult:
    """``(sign, logabsdet)`` of the determinant of each square matrix in ``A``.

    Example:
        >>> import dendrite
        >>> sign, logabsdet = dendrite.linalg.slogdet(dendrite.tensor([[-2.0, 0.0], [0.0, 3.0]]))
        >>> sign.item(), round(logabsdet.item(), 4)
        (-1.0, 1.7918)
    """
    _square("slogdet", A)
    from dendrite.creation import as_tensor

    logabsdet = _LogAbsDet.apply(A)
    sign = as_tensor(xp.asarray(xp.linalg.slogdet(A.array)[0], dtype=A.dtype))
    return SlogdetResult(sign, logabsdet)


# Higham (2005), "The scaling and squaring method for the matrix exponential revisited": Pade [13/13].
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0,
           960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(a):
    """exp of each matrix of the float64 array ``a`` ``(*, n, n)``."""
    n = a.shape[-1]
    one_norm = xp.abs(a).sum(axis=-2).max() if a.size else 0.0
    squarings = max(0, int(math.ceil(math.log2(one_norm / _THETA13)))) if one_norm > _THETA13 else 0
    a = a / (2.0 ** squarings)
    b = _PADE13
    identity = xp.broadcast_to(xp.eye(n), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * identity)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * identity
    result = xp.linalg.solve(v - u, v + u)
    for _ in range(squarings):
        result = result @ result
    return result


class _MatrixExp(Function):
    """``exp(A)``; backward: the upper-right block of ``exp([[A^T, G], [0, A^T]])``."""

    def forward(self, a):
        self.a = a
        return _expm(a.astype(xp.float64)).astype(a.dtype, copy=False)

    def backward(self, grad):
        n = self.a.shape[-1]
        block = xp.zeros(self.a.shape[:-2] + (2 * n, 2 * n))
        a_t = _mT(self.a).astype(xp.float64)
        block[..., :n, :n] = a_t
        block[..., n:, n:] = a_t
        block[..., :n, n:] = grad
        return _expm(block)[..., :n, n:].astype(self.a.dtype, copy=False)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential ``sum_k A^k / k!`` of each square matrix in ``A`` ``(*, n, n)``.

    Example:
        >>> import dendrite
        >>> skew = dendrite.tensor([[0.0, -1.0], [1.0, 0.0]]) * (3.141592653589793 / 2)
        >>> [[round(v, 6) + 0.0 for v in row] for row in dendrite.linalg.matrix_exp(skew).tolist()]
        [[0.0, -1.0], [1.0, 0.0]]
    """
    _square("matrix_exp", A)
    return _MatrixExp.apply(A)


class _QR(Function):
    """``A = Q R`` (reduced): forward only."""
    n_outputs = 2

    def forward(self, a, mode="reduced"):
        q, r = xp.linalg.qr(a, mode=mode)
        return q.astype(a.dtype, copy=False), r.astype(a.dtype, copy=False)

    def backward(self, grads):
        raise RuntimeError("linalg.qr: dendrite does not differentiate the QR decomposition; compute it on "
                           "a detached tensor (A.detach()) or under dendrite.no_grad()")


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """``(Q, R)`` with ``A = Q R``, ``Q`` with orthonormal columns and ``R`` upper triangular (LAPACK's
    signs). ``mode``: 'reduced' or 'complete'. Not differentiable in dendrite.

    Example:
        >>> import dendrite
        >>> Q, R = dendrite.linalg.qr(dendrite.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> [[round(abs(v), 4) for v in row] for row in R.tolist()]
        [[5.0, 2.2], [0.0, 0.4]]
    """
    if A.ndim < 2:
        raise RuntimeError(f"linalg.qr: The input tensor A must have at least 2 dimensions, got shape "
                           f"{tuple(A.shape)}")
    if mode not in ("reduced", "complete"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           f"(default) or 'complete' ('r' is not supported by dendrite)")
    q, r = _QR.apply(A, mode=mode)
    return QRResult(q, r)


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first ``n`` columns of ``H_1 H_2 ... H_k``, ``H_i = I - tau_i v_i v_i^H``, where ``v_i`` is column
    ``i`` of ``A`` ``(*, m, n)`` below the diagonal with a 1 on it (LAPACK's orgqr). Differentiable.

    Example:
        >>> import dendrite
        >>> A = dendrite.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> dendrite.linalg.householder_product(A, dendrite.tensor([1.0, 0.0])).tolist()
        [[0.0, -1.0], [-1.0, 0.0]]
    """
    if A.ndim < 2 or A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"torch.linalg.householder_product: input.shape[-2] must be greater than or equal "
                           f"to input.shape[-1], got shape {tuple(A.shape)}")
    if tau.shape[-1] > A.shape[-1]:
        raise RuntimeError(f"torch.linalg.householder_product: input.shape[-1] must be greater than or equal "
                           f"to tau.shape[-1], got {A.shape[-1]} and {tau.shape[-1]}")
    from dendrite.creation import eye

    m, n = A.shape[-2], A.shape[-1]
    below = A.tril(-1)
    identity = eye(m, dtype=A.dtype)
    q = identity.expand(*A.shape[:-2], m, m)
    for i in range(tau.shape[-1]):
        v = below[..., :, i] + identity[:, i]  # the reflector's vector: 1 on the diagonal
        q = q - (q @ v.unsqueeze(-1)) * tau[..., i, None, None] @ v.unsqueeze(-2)
    return q[..., :, :n]


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (all entries when None): ``sum(|x|^ord)^(1/ord)``,
    max/min of ``|x|`` for ``ord`` inf/-inf.

    Example:
        >>> import dendrite
        >>> dendrite.linalg.vector_norm(dendrite.tensor([[3.0, 4.0], [0.0, 0.0]])).item()
        5.0
    """
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got '{ord}' (use linalg.matrix_norm)")
    if dim is not None:
        return _norm(x, p=ord, dim=dim, keepdim=keepdim)
    result = _norm(x.reshape(-1), p=ord, dim=0)
    return result.reshape((1,) * x.ndim) if keepdim else result


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """The matrix norm over the two dims ``dim``: 'fro' (Frobenius), 1/-1 (max/min column sum of
    ``|A|``), inf/-inf (max/min row sum).

    Example:
        >>> import dendrite
        >>> A = dendrite.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> round(dendrite.linalg.matrix_norm(A).item(), 4), dendrite.linalg.matrix_norm(A, ord=1).item()
        (5.4772, 6.0)
    """
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions, got "
                           f"shape {tuple(A.shape)}")
    row, col = (d % A.ndim for d in dim)
    if ord == "fro":
        return (A * A).sum(dim=(row, col), keepdim=keepdim).sqrt()
    if ord in (1, -1, math.inf, -math.inf):
        summed_dim, reduced_dim = (row, col) if abs(ord) == 1 else (col, row)
        sums = A.abs().sum(dim=summed_dim, keepdim=True)
        pick = sums.amax if ord > 0 else sums.amin
        out = pick(dim=reduced_dim, keepdim=True)
        return out if keepdim else out.squeeze(max(row, col)).squeeze(min(row, col))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported by dendrite ('fro', 1, -1, inf, -inf "
                       f"are; 'nuc' and 2 need singular values)")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``vector_norm`` or ``matrix_norm`` as PyTorch picks: a matrix norm for a string ``ord`` or a 2-tuple
    ``dim`` (or 2-D input with ``ord`` given and no ``dim``), else the 2-norm of the flattened input.

    Example:
        >>> import dendrite
        >>> dendrite.linalg.norm(dendrite.tensor([[3.0, 4.0]])).item()
        5.0
    """
    if dim is not None and isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.ndim == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim if dim is not None else (-2, -1), keepdim,
                           dtype=dtype)
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
