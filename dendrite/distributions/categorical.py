"""Categorical and Bernoulli distributions (PyTorch's ``torch.distributions.Categorical`` / ``Bernoulli``).

    Categorical(probs=p)   p: (..., K) non-negative weights (normalised to sum to 1 along the last dim)
    Categorical(logits=l)  l: (..., K) unnormalised log-probabilities: l - logsumexp(l)
    log_prob(k) = logits[..., k]        entropy = -sum_k p_k * logits_k      sample: int64 indices

    Bernoulli(probs=p) / Bernoulli(logits=l): log_prob(x) = -bce_with_logits(l, x); sample: 0. / 1. floats
"""

from __future__ import annotations

from dendrite.autograd.grad_mode import no_grad
from dendrite.distributions.distribution import (
    Distribution,
    broadcast_all,
    lazy_property,
    real,
    real_vector,
    simplex,
    unit_interval,
)
from dendrite.nn.functional import binary_cross_entropy_with_logits, softmax
from dendrite.random_sampling import bernoulli, multinomial
from dendrite.tensor import Tensor
from dendrite.torch_names import finfo

__all__ = ["Bernoulli", "Categorical"]


def _one_of(probs, logits) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` kept inside [eps, 1 - eps] so that their logs are finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


class Categorical(Distribution):
    """A distribution over ``K`` categories ``0 .. K-1`` for each row of ``probs`` or ``logits``.

    Example:
        >>> import dendrite
        >>> from dendrite.distributions import Categorical
        >>> m = Categorical(probs=dendrite.tensor([0.25, 0.75]))
        >>> action = m.sample()
        >>> action.dtype, m.log_prob(dendrite.tensor(1)).exp().item()
        (dtype('int64'), 0.75)
        >>> round(m.entropy().item(), 4), m.mode.item(), m.enumerate_support().tolist()
        (0.5623, 1, [0, 1])
        >>> Categorical(logits=dendrite.zeros(4, 3)).sample((5,)).shape
        (5, 4)
        >>> Categorical(probs=dendrite.tensor([0.5, float("nan")]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
          ...
        ValueError: Expected parameter probs (Tensor of shape (2,)) of distribution Categorical(probs: (2,)) \
to satisfy the constraint Simplex(), but found invalid values:
        ...
    """

    arg_constraints = {"probs": (simplex, "Simplex()"),
                       "logits": (real_vector, "IndependentConstraint(Real(), 1)")}

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(tuple(self._param.shape[:-1]), validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        """Normalised log-probabilities, ``(..., K)``."""
        return clamp_probs(self.probs).log()

    @lazy_property
    def probs(self) -> Tensor:
        """Probabilities summing to 1 along the last dim, ``(..., K)``."""
        return softmax(self.logits, dim=-1)

    @property
    def param_shape(self) -> tuple:
        return tuple(self._param.shape)

    def expand(self, batch_shape, _instance=None) -> Categorical:
        shape = tuple(batch_shape) + (self._num_events,)
        if "probs" in self.__dict__:
            return Categorical(probs=self.probs.expand(*shape), validate_args=False)
        return Categorical(logits=self.logits.expand(*shape), validate_args=False)

    def sample(self, sample_shape=()) -> Tensor:
        sample_shape = tuple(sample_shape)
        count = 1
        for size in sample_shape:
            count *= size
        with no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            samples_2d = multinomial(probs_2d, count, True).T
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value, self._in_support,
                                  f"IntegerInterval(lower_bound=0, upper_bound={self._num_events - 1})")
        value = value.long().unsqueeze(-1)
        value, log_pmf = _broadcast_pair(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def _in_support(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & (value >= 0) & (value <= self._num_events - 1)

    def entropy(self) -> Tensor:
        min_real = finfo(self.logits.dtype).min
        logits = self.logits.clamp(min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The categories ``0 .. K-1``, shaped ``(K,) + (1,) * len(batch_shape)`` (expanded to the batch)."""
        from dendrite.creation import arange
        values = arange(self._num_events).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values

    @property
    def mean(self) -> Tensor:
        return self.probs.new_full(self._extended_shape(), float("nan"))

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> Tensor:
        return self.probs.new_full(self._extended_shape(), float("nan"))


def _broadcast_pair(index: Tensor, values: Tensor) -> tuple[Tensor, Tensor]:
    """``index`` (..., 1) and ``values`` (..., K) broadcast over their leading dims (PyTorch's log_prob)."""
    shape = [max(a, b) for a, b in zip((1,) * (values.dim() - index.dim()) + tuple(index.shape),
                                       (1,) * (index.dim() - values.dim()) + tuple(values.shape))]
    return index.expand(*shape), values.expand(*shape)


class Bernoulli(Distribution):
    """A coin with probability ``probs`` (or ``sigmoid(logits)``) of 1.

    Example:
        >>> import dendrite
        >>> from dendrite.distributions import Bernoulli
        >>> m = Bernoulli(probs=dendrite.tensor([0.2, 0.9]))
        >>> m.sample().tolist() in ([0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0])
        True
        >>> [round(v, 4) for v in m.log_prob(dendrite.tensor([0.0, 1.0])).tolist()]
        [-0.2231, -0.1054]
        >>> round(m.entropy()[0].item(), 4), m.mean.tolist()
        (0.5004, [0.20000000298023224, 0.8999999761581421])
    """

    arg_constraints = {"probs": (unit_interval, "Interval(lower_bound=0.0, upper_bound=1.0)"),
                       "logits": (real, "Real()")}

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        _one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(tuple(self._param.shape), validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        """``log(p) - log(1 - p)``, with ``p`` kept inside [eps, 1 - eps]."""
        clamped = clamp_probs(self.probs)
        return clamped.log() - (-clamped).log1p()

    @lazy_property
    def probs(self) -> Tensor:
        """``sigmoid(logits)``."""
        return self.logits.sigmoid()

    def expand(self, batch_shape, _instance=None) -> Bernoulli:
        if "probs" in self.__dict__:
            return Bernoulli(probs=self.probs.expand(*batch_shape), validate_args=False)
        return Bernoulli(logits=self.logits.expand(*batch_shape), validate_args=False)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(*shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value, lambda v: (v == 0) | (v == 1), "Boolean()")
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return mode.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)
