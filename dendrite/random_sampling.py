"""Sampling from given probabilities: ``bernoulli`` (coin flips) and ``multinomial`` (categories).

Both draw from ``generator=`` (a :class:`dendrite.Generator`) or from dendrite's
global stream. Samples are data, not functions of the probabilities: they carry
no gradient (PyTorch records a zero gradient for ``bernoulli`` and none for
``multinomial``; here neither result requires grad).

How ``multinomial`` draws *without* replacement, as PyTorch does: give category
``i`` the key ``E_i / w_i`` with ``E_i ~ Exp(1)`` and take the ``k`` smallest
keys. The smallest of independent exponentials with rates ``w_i`` is category
``i`` with probability ``w_i / sum(w)``, and by memorylessness the rest of the
race is the same draw over the remaining categories — exactly sequential
sampling without replacement. Zero-weight categories get an infinite key, so
they come last (PyTorch fills with them too, rather than failing).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.backend import xp
from dendrite.random_generator import numpy_generator
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:
    from dendrite.tensor import Tensor

__all__ = ["bernoulli", "multinomial"]


def _floating_input(input, op: str) -> None:
    if not isinstance(input, TensorBase):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}(): expected a floating-point tensor of probabilities, "
                           f"got dtype {input.dtype}")


def bernoulli(input: Tensor, p: float | None = None, *, generator=None) -> Tensor:
    """0/1 samples: each element is 1 with probability ``input[i]`` (or with ``p`` when given).

    Shapes: the result has ``input``'s shape and dtype (floating point).

    Example:
        >>> import dendrite
        >>> g = dendrite.Generator().manual_seed(0)
        >>> dendrite.bernoulli(dendrite.tensor([0.0, 1.0, 1.0]), generator=g)
        tensor([0., 1., 1.])
        >>> dendrite.bernoulli(dendrite.zeros(2, 2), p=0.5, generator=g).shape
        (2, 2)
    """
    _floating_input(input, "bernoulli")
    if p is not None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise RuntimeError(f"bernoulli(): expects p to be a number in [0, 1], but got p={p!r}")
        probabilities = backend.namespace(input.array).full(input.shape, float(p))
    else:
        probabilities = input.array
        if probabilities.size and not ((probabilities >= 0) & (probabilities <= 1)).all():
            raise RuntimeError("bernoulli(): every probability in 'input' must be in [0, 1] (got values "
                               f"from {probabilities.min()} to {probabilities.max()})")
    uniform = backend.move_like(input._data, numpy_generator(generator, "bernoulli").random(input.shape))
    return wrap((uniform < probabilities).astype(input.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Indices of categories drawn with probabilities proportional to the weights in ``input``.

    Shapes: ``input`` of shape ``(C,)`` gives ``(num_samples,)``; ``(N, C)`` gives
    ``(N, num_samples)``, one draw per row. int64. The weights need not sum to 1.
    Without replacement each row gives distinct categories (``num_samples <= C``).

    Example:
        >>> import dendrite
        >>> g = dendrite.Generator().manual_seed(0)
        >>> dendrite.multinomial(dendrite.tensor([0.0, 1.0, 0.0]), 1, generator=g)
        tensor([1])
        >>> sorted(dendrite.multinomial(dendrite.ones(4), 4, generator=g).tolist())
        [0, 1, 2, 3]
        >>> dendrite.multinomial(dendrite.ones(2, 3), 5, replacement=True, generator=g).shape
        (2, 5)
    """
    _floating_input(input, "multinomial")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial(): prob_dist must be 1 or 2 dim, got shape {input.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial(): argument 'num_samples' must be int, "
                        f"not {type(num_samples).__name__}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial(): cannot sample n_sample <= 0 samples (got {num_samples})")
    weights = input.array.astype(xp.float64).reshape(-1, input.shape[-1])
    categories = weights.shape[1]
    if not replacement and num_samples > categories:
        raise RuntimeError(f"multinomial(): cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement ({num_samples} > {categories}); pass replacement=True")
    if not xp.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError("multinomial(): probability tensor contains either `inf`, `nan` or element < 0")
    totals = weights.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
    rng = numpy_generator(generator, "multinomial")
    if replacement:
        # Inverse of the cumulative distribution: the first category whose cumulative weight exceeds u.
        cumulative = xp.cumsum(weights / totals, axis=1)
        uniform = backend.move_like(weights, rng.random((weights.shape[0], num_samples))) * cumulative[:, -1:]
        chosen = xp.stack([xp.searchsorted(row, draws, side="right")  # one row at a time: no (N, k, C)
                           for row, draws in zip(cumulative, uniform)])
        chosen = xp.minimum(chosen, categories - 1)
    else:
        with xp.errstate(divide="ignore"):
            draws = backend.move_like(weights, rng.standard_exponential(weights.shape))
            keys = draws / weights  # zero weight -> inf: drawn last
        chosen = xp.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    return wrap(chosen.reshape(input.shape[:-1] + (num_samples,)).astype(xp.int64))
