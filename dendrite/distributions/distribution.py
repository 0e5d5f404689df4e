"""The base of ``dendrite.distributions`` (PyTorch's ``torch.distributions.Distribution``) and its checks.

A distribution has a ``batch_shape`` (independent distributions side by side: one per row of logits) and an
``event_shape`` (the shape of one draw: ``()`` for a category or a real number). ``sample(sample_shape)``
has shape ``sample_shape + batch_shape + event_shape`` and carries no gradient; ``rsample`` (where the
distribution allows the reparameterisation ``loc + scale * noise``) does.

Like PyTorch, every distribution checks its parameters and the values given to ``log_prob`` unless made
with ``validate_args=False`` (or after ``Distribution.set_default_validate_args(False)``): a NaN in the
logits of a policy network is caught where the distribution is made, not many steps later.
"""

from __future__ import annotations

import math
from numbers import Number

from dendrite.autograd.grad_mode import no_grad
from dendrite.creation import as_tensor
from dendrite.ops import broadcast_tensors
from dendrite.tensor import Tensor

__all__ = ["Distribution"]


def broadcast_all(*values) -> tuple[Tensor, ...]:
    """The values as tensors of one broadcast shape (numbers take the dtype of the tensors, else float32)."""
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), None)
    tensors = [v if isinstance(v, Tensor) else as_tensor(float(v), dtype=dtype) for v in values]
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers or Tensors.")
    return tuple(broadcast_tensors(*tensors))


def _shape(value) -> str:
    return str(tuple(value.shape)) if isinstance(value, Tensor) else "()"


class Distribution:
    """What every distribution offers: shapes, ``sample``/``rsample``, ``log_prob``, ``entropy``, moments.

    Example:
        >>> import dendrite
        >>> from dendrite.distributions import Normal
        >>> d = Normal(dendrite.zeros(3), 1.0)
        >>> d.batch_shape, d.event_shape, d.sample((2,)).shape
        ((3,), (), (2, 3))
        >>> round(d.log_prob(dendrite.zeros(3))[0].item(), 4)  # -log(sqrt(2 pi))
        -0.9189
        >>> round(d.perplexity()[0].item(), 4), d.stddev.tolist()
        (4.1327, [1.0, 1.0, 1.0])
        >>> d.expand((2, 3)).batch_shape
        (2, 3)
        >>> Distribution.set_default_validate_args(True)
    """

    has_rsample = False
    _validate_args = True
    arg_constraints: dict = {}

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Whether new distributions check their arguments and ``log_prob`` values (default True)."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args expects True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None) -> None:
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            for name, (check, description) in self.arg_constraints.items():
                if name not in self.__dict__:
                    continue  # not given: computed from the other parameter (logits from probs)
                value = self.__dict__[name]
                if not bool(check(value).all()):
                    raise ValueError(
                        f"Expected parameter {name} (Tensor of shape {_shape(value)}) of distribution "
                        f"{self!r} to satisfy the constraint {description}, but found invalid "
                        f"values:\n{value}")

    @property
    def batch_shape(self) -> tuple:
        """The shape over which parameters are batched (independent distributions)."""
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        """The shape of a single sample."""
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def expand(self, batch_shape, _instance=None):
        """The same distribution with its parameters broadcast to ``batch_shape``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement expand")

    def sample(self, sample_shape=()) -> Tensor:
        """Draws of shape ``sample_shape + batch_shape + event_shape``, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """Reparameterised draws: the gradient flows to the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampling (rsample); "
                                  "use sample() (no gradient) with log_prob for a score-function gradient")

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))``."""
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        """The log of the density / mass at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value: Tensor) -> Tensor:
        """The cumulative distribution function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def entropy(self) -> Tensor:
        """The entropy, one value per batch entry."""
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self) -> Tensor:
        """``exp(entropy)``."""
        return self.entropy().exp()

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def _validate_sample(self, value, support, description: str) -> None:
        """``value`` must broadcast with ``batch_shape + event_shape`` and lie in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim = len(self._event_shape)
        if tuple(value.shape[len(value.shape) - event_dim:]) != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: {tuple(value.shape)} vs "
                             f"{self._event_shape}.")
        actual, expected = tuple(value.shape), self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {actual} vs "
                                 f"{expected}.")
        if not bool(support(value).all()):
            raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within "
                             f"the support ({description}) of the distribution {self!r}, but found invalid "
                             f"values:\n{value}")

    def __repr__(self) -> str:
        shown = []
        for name in self.arg_constraints:
            if name in self.__dict__:
                value = self.__dict__[name]
                shown.append(f"{name}: {value.item() if value.numel() == 1 else tuple(value.shape)}")
        return f"{type(self).__name__}({', '.join(shown)})"


class lazy_property:
    """A parameter computed from another on first use and then cached (``probs`` from ``logits``)."""

    def __init__(self, compute) -> None:
        self.compute = compute
        self.__doc__ = compute.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.compute(instance)
        instance.__dict__[self.compute.__name__] = value
        return value


def real(value: Tensor) -> Tensor:
    """Elementwise: finite or infinite, but not NaN (PyTorch's ``constraints.real``)."""
    return value == value


def positive(value: Tensor) -> Tensor:
    return value > 0


def unit_interval(value: Tensor) -> Tensor:
    return (value >= 0) & (value <= 1)


def simplex(value: Tensor) -> Tensor:
    """One flag per distribution: entries non-negative and summing to 1 along the last dim."""
    return ((value >= 0).all(dim=-1)) & ((value.sum(-1) - 1).abs() < 1e-6)


def real_vector(value: Tensor) -> Tensor:
    return real(value).all(dim=-1)


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
