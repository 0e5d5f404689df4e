"""``orthogonal``: keep a weight orthogonal while training (PyTorch's ``parametrizations.orthogonal``).

A square (or tall, transposed if wide) weight ``Q`` is ``base @ f(X)`` where ``X`` is the stored
``original`` and ``f`` maps it onto the orthogonal matrices:

    matrix_exp:  f(X) = exp(A),  A = tril(X) - tril(X)^T  (skew-symmetric)
    cayley:      f(X) = (I - A/2)^-1 (I + A/2)
    householder: f(X) = H_1 ... H_k with the reflectors below the diagonal of X, times the signs of its
                 diagonal (``tau = 2 / (1 + |v|^2)``)

With ``use_trivialization=True`` (the default) ``base`` is a buffer holding the weight made orthogonal at
registration (the Q of its QR decomposition with a non-negative diagonal of R) and ``original`` starts at
``-I``, where every map gives the identity, so the layer starts exactly at its initial weight made
orthogonal. Assigning to ``module.weight`` re-bases it.
"""

from __future__ import annotations

from enum import Enum

from dendrite import linalg
from dendrite.autograd.grad_mode import no_grad
from dendrite.backend import xp
from dendrite.creation import as_tensor, eye, randn, zeros_like
from dendrite.nn.modules.module import Module
from dendrite.nn.utils import parametrize
from dendrite.ops import cat
from dendrite.tensor import Tensor
from dendrite.torch_names import finfo

__all__ = ["orthogonal"]


class _OrthMaps(Enum):
    matrix_exp = 1
    cayley = 2
    householder = 3


def _geqrf(a: Tensor) -> tuple[Tensor, Tensor]:
    """LAPACK's geqrf of ``a`` ``(*, n, k)``: R on and above the diagonal, the reflectors below; and tau."""
    h, tau = xp.linalg.qr(a.detach().array, mode="raw")  # h is geqrf's output transposed
    return as_tensor(xp.swapaxes(h, -1, -2).astype(a.dtype)), as_tensor(tau.astype(a.dtype))


def _is_orthogonal(q: Tensor) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    error = (q.transpose(-2, -1) @ q - eye(k, dtype=q.dtype)).abs().max()
    return bool(error <= 10.0 * n * finfo(q.dtype).eps)


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of ``a = Q R`` with diag(R) >= 0 (``a`` tall)."""
    x, tau = _geqrf(a)
    q = linalg.householder_product(x, tau)
    return q * x.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


class _Orthogonal(Module):
    """``forward(X)``: the orthogonal matrix of ``X`` (see the module docstring); ``right_inverse(Q)``."""

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.transpose(-2, -1)
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:  # embed into a square matrix
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.transpose(-2, -1)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = linalg.matrix_exp(A)
            else:
                identity = eye(n, dtype=A.dtype)
                Q = linalg.solve(identity - 0.5 * A, identity + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = linalg.householder_product(A, tau)
            # the diagonal of X holds +-1: not differentiated, not updated (PyTorch casts it to int)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.transpose(-2, -1)
        return Q

    @no_grad()
    def right_inverse(self, Q: Tensor) -> Tensor:
        if tuple(Q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of "
                             f"shape {tuple(Q.shape)}.")
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.transpose(-2, -1)
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix exponential or the "
                                          "Cayley parametrizations when use_trivialization=False.")
            # make Q orthogonal through its QR decomposition, keeping diag(R) > 0: the diagonal holds the
            # signs, flipped where LAPACK used no reflection (tau exactly 0)
            A, tau = _geqrf(Q)
            signs = A.diagonal(dim1=-2, dim2=-1).sign() * (1 - 2 * (tau == 0.0).to(A.dtype))
            on_diagonal = eye(n, k, dtype=A.dtype)
            A = A * (1 - on_diagonal) + on_diagonal * signs.unsqueeze(-2)
            return A.transpose(-2, -1) if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete Q into a full n x n orthogonal matrix
            N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype)
            Q = _make_orthogonal(cat([Q, N], dim=-1))
        self.base = Q
        # -I: every map sends it to the identity (householder(zeros) with a -1 diagonal is I)
        neg_identity = zeros_like(Q_init)
        return neg_identity - eye(*Q_init.shape[-2:], dtype=Q_init.dtype).expand_as(Q_init)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Keep ``module.<name>`` (a matrix or a batch of them) orthogonal: ``Q^T Q = I`` (``Q Q^T = I`` if wide).

    ``orthogonal_map``: 'matrix_exp' (default for square), 'cayley', or 'householder' (default otherwise).
    The original is ``module.parametrizations.<name>.original``; an optimizer updates it and ``<name>``
    stays orthogonal. Returns ``module``.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils.parametrizations import orthogonal
        >>> layer = orthogonal(dendrite.nn.Linear(4, 4))
        >>> Q = layer.weight
        >>> bool(dendrite.allclose(Q.T @ Q, dendrite.eye(4), atol=1e-5))
        True
        >>> layer.parametrizations.weight.original.shape
        (4, 4)
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
