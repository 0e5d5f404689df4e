"""One browser tab's GAN lab: a :class:`~dendrite.explore.gan.GanLab` behind the session store's interface.

The store (:class:`~dendrite.playground.sessions.SessionStore`) calls :meth:`GanLabSession.train_for`
in short chunks while the page plays and :meth:`GanLabSession.snapshot` after each; the session keeps
its own random stream (:class:`~dendrite.playground.engine.RandomStream`), so a tab's run does not
depend on what other tabs do. Bad settings raise ``ValueError`` naming the field (the server's 400).
"""

from __future__ import annotations

import time

from dendrite.explore.gan import GanConfig, GanLab
from dendrite.playground.engine import RandomStream

__all__ = ["GanLabSession", "MAX_STEPS"]

MAX_STEPS = 500  # generator steps one /step request may ask for


class GanLabSession:
    """A GAN lab for one tab: configure, step, train for a while, snapshot.

    Example:
        >>> s = GanLabSession({"batch": 48, "hidden": 16})
        >>> s.step(2)
        >>> snap = s.snapshot(); snap["step"], snap["config"]["loss"], "real" in snap
        (2, 'non_saturating', False)
    """

    def __init__(self, config: dict | None = None) -> None:
        self._config = GanConfig.from_dict(config)
        self._random = RandomStream()
        with self._random.turn(fresh=True):
            self._lab = GanLab(self._config)

    @property
    def config(self) -> GanConfig:
        """The settings now."""
        return self._config

    def configure(self, raw: dict) -> bool:
        """Change settings (``raw``: some fields of :class:`GanConfig`); the lab restarts. Returns True.

        Example:
            >>> s = GanLabSession({"batch": 48, "hidden": 16}); s.step(1)
            >>> s.configure({"loss": "wgan_gp"}), s.config.loss, s.snapshot()["step"]
            (True, 'wgan_gp', 0)
        """
        config = self._config.updated(raw)
        with self._random.turn():
            self._config, self._lab = config, GanLab(config)
        return True

    def draw(self, points) -> None:
        """Use ``points`` (a list of [x, y]) as the drawn distribution and restart on it.

        Example:
            >>> s = GanLabSession({"batch": 48, "hidden": 16})
            >>> s.draw([[0, 1], [1, 0], [0.5, 0.5]]); s.config.distribution, len(s.config.points)
            ('drawn', 3)
        """
        self.configure({"distribution": "drawn", "points": points})

    def reset(self) -> None:
        """Start again from fresh networks with the same settings.

        Example:
            >>> s = GanLabSession({"batch": 48, "hidden": 16}); s.step(2); s.reset(); s.snapshot()["step"]
            0
        """
        with self._random.turn():
            self._lab = GanLab(self._config)

    def step(self, n: int = 1) -> None:
        """``n`` generator steps (1..500)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_STEPS:
            raise ValueError(f"steps: expected a whole number in [1, {MAX_STEPS}], got {n!r}")
        with self._random.turn():
            self._lab.step(n)

    def train_for(self, seconds: float) -> None:
        """Train generator step after generator step for about ``seconds`` (at least one step).

        Example:
            >>> s = GanLabSession({"batch": 48, "hidden": 16}); s.train_for(0.0); s.snapshot()["step"]
            1
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < 3600:
            raise ValueError(f"train_for: seconds must be a number in [0, 3600), got {seconds!r}")
        with self._random.turn():
            deadline = time.perf_counter() + seconds
            self._lab.step(1)
            while time.perf_counter() < deadline:
                self._lab.step(1)

    def snapshot(self, include_points: bool = False) -> dict:
        """The JSON-ready lab (see :class:`~dendrite.explore.gan.GanSnapshot`) with ``config``;
        ``include_points`` adds the real points (they change only when the settings do)."""
        with self._random.turn():
            data = self._lab.snapshot().to_json(include_points=include_points)
        data["config"] = self._config.to_json()
        data["steps"] = data["step"]
        return data
