"""``kl_divergence(p, q)`` between two distributions of one family (PyTorch's ``torch.distributions.kl``).

    Normal:      KL = 1/2 (s_p^2 / s_q^2 + (m_p - m_q)^2 / s_q^2 - 1 - log(s_p^2 / s_q^2))
    Categorical: KL = sum_k p_k (log p_k - log q_k)    (inf where q_k = 0 < p_k; 0 where p_k = 0)
    Bernoulli:   the two-category case of the above, from logits
"""

from __future__ import annotations

from collections.abc import Callable

from dendrite.distributions.categorical import Bernoulli, Categorical
from dendrite.distributions.distribution import Distribution
from dendrite.distributions.normal import Normal
from dendrite.nn.functional import softplus
from dendrite.tensor import Tensor

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict[tuple[type, type], Callable] = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator: ``fn(p, q)`` computes KL(p || q) for ``p`` of ``type_p`` and ``q`` of ``type_q``.

    Example:
        >>> import dendrite
        >>> from dendrite.distributions import Normal, kl_divergence, register_kl
        >>> class Point(Normal):
        ...     pass
        >>> @register_kl(Point, Point)
        ... def _kl_point(p, q):
        ...     return (p.loc - q.loc).abs()
        >>> kl_divergence(Point(1.0, 1.0), Point(3.0, 1.0)).item()
        2.0
    """
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)
            and isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"register_kl expects two Distribution subclasses, got {type_p!r} and {type_q!r}")

    def decorator(fn: Callable) -> Callable:
        _KL_REGISTRY[type_p, type_q] = fn
        return fn
    return decorator


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q), one value per batch entry.

    Example:
        >>> import dendrite
        >>> from dendrite.distributions import Categorical, Normal, kl_divergence
        >>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0)).item()
        0.5
        >>> p = Categorical(probs=dendrite.tensor([0.5, 0.5]))
        >>> q = Categorical(probs=dendrite.tensor([1.0, 0.0]))
        >>> round(kl_divergence(q, p).item(), 4), kl_divergence(p, q).item()  # log 2, and q misses p's mass
        (0.6931, inf)
    """
    matches = [(tp, tq) for tp, tq in _KL_REGISTRY if isinstance(p, tp) and isinstance(q, tq)]
    if not matches:
        raise NotImplementedError(f"No KL(p || q) is implemented for p of type {type(p).__name__} and q of "
                                  f"type {type(q).__name__} (known pairs: "
                                  f"{sorted(f'{a.__name__}/{b.__name__}' for a, b in _KL_REGISTRY)})")
    # The most specific pair: the one whose classes come first in both method resolution orders.
    best = min(matches, key=lambda pair: (type(p).__mro__.index(pair[0]), type(q).__mro__.index(pair[1])))
    return _KL_REGISTRY[best](p, q)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    t = p.probs * (p.logits - q.logits)
    t = t.masked_fill((q.probs == 0).expand_as(t), float("inf"))
    t = t.masked_fill((p.probs == 0).expand_as(t), 0.0)
    return t.sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = t1.masked_fill(q.probs == 0, float("inf")).masked_fill(p.probs == 0, 0.0)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = t2.masked_fill(q.probs == 1, float("inf")).masked_fill(p.probs == 1, 0.0)
    return t1 + t2
