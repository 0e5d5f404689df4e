"""Small tools the exercise checkers share: reading a learner's number, and randomness of the checker's own.

Example:
    >>> as_number(dendrite.tensor(2.5)), as_number("two"), as_number(float("nan"), finite=True)
    (2.5, None, None)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import dendrite

__all__ = ["as_number", "own_randomness"]


def as_number(value, *, finite: bool = False) -> float | None:
    """``value`` as a float (a number, a one-element array or a dendrite Tensor), else ``None``.

    ``True``/``False`` are not numbers here (a learner's comparison, not a count); with ``finite``,
    NaN and infinities are not numbers either.

    Example:
        >>> as_number(3), as_number(True), as_number([1, 2]), as_number(float("inf"), finite=True)
        (3.0, None, None, None)
    """
    if isinstance(value, bool):
        return None
    try:
        if hasattr(value, "item"):
            value = value.item()
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if finite and not math.isfinite(number) else number


@contextmanager
def own_randomness(seed: int = 0) -> Iterator[None]:
    """Seed dendrite's generator for a check, then put the learner's random state back.

    Example:
        >>> _ = dendrite.manual_seed(1); before = dendrite.rand(1).item()
        >>> _ = dendrite.manual_seed(1)
        >>> with own_randomness():
        ...     _ = dendrite.rand(5)
        >>> dendrite.rand(1).item() == before
        True
    """
    saved = dendrite.get_rng_state()
    dendrite.manual_seed(seed)
    try:
        yield
    finally:
        dendrite.set_rng_state(saved)
