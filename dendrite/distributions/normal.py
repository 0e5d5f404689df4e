"""The Normal distribution (PyTorch's ``torch.distributions.Normal``).

    log_prob(x) = -(x - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))
    entropy     = 1/2 + 1/2 log(2 pi) + log(scale)
    rsample     = loc + scale * eps,  eps ~ N(0, 1)    (the reparameterisation trick: gradients reach both)
"""

from __future__ import annotations

import math

from dendrite.creation import randn
from dendrite.distributions.distribution import LOG_SQRT_2PI, Distribution, broadcast_all, positive, real
from dendrite.tensor import Tensor

__all__ = ["Normal"]


class Normal(Distribution):
    """A Gaussian with mean ``loc`` and standard deviation ``scale`` (tensors or numbers, broadcast).

    Example:
        >>> import dendrite
        >>> from dendrite.distributions import Normal
        >>> loc = dendrite.tensor([0.0, 1.0], requires_grad=True)
        >>> m = Normal(loc, 2.0)
        >>> m.rsample((3,)).sum().backward()
        >>> loc.grad.tolist(), m.sample().requires_grad
        ([3.0, 3.0], False)
        >>> [round(v, 4) for v in m.log_prob(dendrite.tensor([0.0, 0.0])).tolist()]
        [-1.6121, -1.7371]
        >>> round(m.entropy()[0].item(), 4), round(m.cdf(dendrite.tensor([0.0, 1.0]))[1].item(), 4)
        (2.1121, 0.5)
        >>> m.mean.tolist(), m.variance.tolist(), m.mode.tolist(), m.stddev.tolist()
        ([0.0, 1.0], [4.0, 4.0], [0.0, 1.0], [2.0, 2.0])
    """

    arg_constraints = {"loc": (real, "Real()"), "scale": (positive, "GreaterThan(lower_bound=0.0)")}
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Normal:
        return Normal(self.loc.expand(*batch_shape), self.scale.expand(*batch_shape), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            if not isinstance(value, Tensor):
                value = self.loc.new_tensor(float(value))
            self._validate_sample(value, real, "Real()")
        var = self.scale ** 2
        log_scale = self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - LOG_SQRT_2PI

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value, real, "Real()")
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
