"""``dendrite.distributions`` (PyTorch's ``torch.distributions``): Categorical, Bernoulli and Normal, with
``sample``/``rsample``, ``log_prob``, ``entropy`` and ``kl_divergence``, for policy gradients (REINFORCE,
actor-critic) and reparameterised sampling (VAEs)."""

from dendrite.distributions.categorical import Bernoulli, Categorical
from dendrite.distributions.distribution import Distribution
from dendrite.distributions.kl import kl_divergence, register_kl
from dendrite.distributions.normal import Normal

__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal", "kl_divergence", "register_kl"]
