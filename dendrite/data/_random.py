"""Random generators for data code: a seed, a generator, or one derived from dendrite's.

Every random choice in :mod:`dendrite.data` (shuffling, splits, sampling, toy
data, augmentation) goes through here, so one rule holds everywhere:

* an explicit ``seed`` (int) or ``generator`` (a :class:`dendrite.Generator`, a
  ``numpy.random.Generator`` or an int seed) wins; a ``dendrite.Generator`` is
  drawn from directly, so it advances as PyTorch's does;
* otherwise a fresh generator is *derived* from dendrite's global generator
  with a single draw, at the moment it is needed (iterator creation, the call
  to ``random_split``). ``dendrite.manual_seed(s)`` therefore fixes every order,
  and a shuffled epoch costs the global stream exactly one number, so adding a
  data loader does not shift the random numbers that, say, dropout sees later.
"""

from __future__ import annotations

import numbers

import numpy as np

from dendrite import backend
from dendrite.random_generator import Generator, default_generator, numpy_generator


def make_generator(generator=None, seed=None, who: str = "") -> np.random.Generator | None:
    """The generator asked for, or ``None`` when neither ``generator`` nor ``seed`` was given.

    Example:
        >>> int(make_generator(seed=0).integers(10)) == int(make_generator(0).integers(10))
        True
    """
    if generator is not None and seed is not None:
        raise ValueError(f"{who}: give either generator= or seed=, not both")
    if generator is None:
        generator = seed
    if generator is None:
        return None
    if generator is default_generator:
        return None  # the global stream, looked up when needed (it is replaced by manual_seed)
    if isinstance(generator, (np.random.Generator, Generator)):
        return numpy_generator(generator, who)
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        if generator < 0:
            raise ValueError(f"{who}: seed must be a non-negative int, got {generator}")
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{who}: generator must be a dendrite.Generator, a numpy.random.Generator or an int seed, "
        f"got {type(generator).__name__}"
    )


def derive_generator() -> np.random.Generator:
    """A new generator seeded by one draw from dendrite's global generator."""
    return np.random.default_rng(int(backend.generator().integers(0, 2**63 - 1)))


def resolve_generator(generator=None, seed=None, who: str = "") -> np.random.Generator:
    """``make_generator(...)``, or a derived generator when neither argument was given."""
    chosen = make_generator(generator, seed, who)
    return chosen if chosen is not None else derive_generator()
