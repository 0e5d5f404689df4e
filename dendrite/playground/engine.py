"""One engine, many browser tabs: the lock and the random streams that keep their work apart.

dendrite's global random generator and its grad mode are process-wide, and the server works for
several tabs on worker threads. Every piece of engine work therefore runs under
:data:`ENGINE_LOCK`; a long-lived session keeps its own random stream in a :class:`RandomStream`
and swaps it in for its turn, and a one-off computation (:func:`run_engine`) leaves the global
stream as it found it. So a tab's numbers never depend on what another tab did meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import dendrite

__all__ = ["ENGINE_LOCK", "RandomStream", "run_engine"]

ENGINE_LOCK = threading.RLock()
"""Held by every piece of the server's engine work: the engine's RNG and grad mode are process-wide."""


class RandomStream:
    """A session's own global-RNG state, swapped in while the session holds the engine.

    Example:
        >>> stream = RandomStream()
        >>> with stream.turn(fresh=True):
        ...     _ = dendrite.manual_seed(0)
        ...     first = dendrite.rand(1).item()
        >>> with stream.turn():  # the stream goes on where it stopped, whatever ran in between
        ...     second = dendrite.rand(1).item()
        >>> _ = dendrite.manual_seed(0); dendrite.rand(1).item() == first, dendrite.rand(1).item() == second
        (True, True)
    """

    def __init__(self) -> None:
        self.state = None

    @contextlib.contextmanager
    def turn(self, fresh: bool = False) -> Iterator[None]:
        """Hold :data:`ENGINE_LOCK` with this stream in the global generator (``fresh``: as it is now)."""
        with ENGINE_LOCK:
            outer = dendrite.get_rng_state()
            if not fresh and self.state is not None:
                dendrite.set_rng_state(self.state)
            try:
                with dendrite.enable_grad():
                    yield
            finally:
                self.state = dendrite.get_rng_state()
                dendrite.set_rng_state(outer)


def _isolated(function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    with ENGINE_LOCK:
        outer = dendrite.get_rng_state()
        try:
            with dendrite.enable_grad():
                return function(*args, **kwargs)
        finally:
            dendrite.set_rng_state(outer)


async def run_engine(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` on a worker thread under :data:`ENGINE_LOCK`, the global RNG restored.

    For one-off computations of the server (an explorer's figures): the event loop stays free, and
    the function's own seeding never leaks into a session's random stream.

    Example:
        >>> def draw(seed):
        ...     _ = dendrite.manual_seed(seed)
        ...     return dendrite.rand(2).tolist()
        >>> asyncio.run(run_engine(draw, 0)) == draw(0)
        True
    """
    return await asyncio.to_thread(_isolated, function, args, kwargs)
