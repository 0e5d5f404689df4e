"""The GAN lab's settings, validated: distribution, game, learning rates, D steps, packing, sizes.

:meth:`GanConfig.from_dict` accepts the JSON a page sends (missing keys keep their defaults) and
raises ``ValueError`` naming the field and what was expected, so the server can answer 400.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from dendrite.explore.gan_data import DISTRIBUTIONS, validate_points
from dendrite.explore.gan_losses import LOSSES

__all__ = ["GanConfig", "OPTIMIZERS"]

OPTIMIZERS = ("adam", "rmsprop")
_RANGES = {  # field: (low, high) inclusive
    "lr_d": (1e-5, 0.1), "lr_g": (1e-5, 0.1), "d_steps": (1, 10), "packing": (1, 4),
    "noise_dim": (1, 8), "hidden": (4, 128), "batch": (12, 480), "clip": (1e-4, 1.0),
    "gp_weight": (0.0, 100.0), "seed": (0, 2**31 - 1),
}
_INTEGERS = {"d_steps", "packing", "noise_dim", "hidden", "batch", "seed"}


@dataclass(frozen=True)
class GanConfig:
    """One GAN lab setup. The defaults are the cure of the mode-collapse demo: they cover ring8.

    ``packing`` m: D judges m samples at once (PacGAN), so ``batch`` must be a multiple of m.
    ``optimizer``: ``None`` picks RMSprop for ``wgan_clip`` (as in its paper) and Adam with
    betas (0.5, 0.999) otherwise. ``points``: the user's drawing for ``distribution="drawn"``.

    Example:
        >>> GanConfig.from_dict({"loss": "wgan_gp", "packing": 2}).packing
        2
        >>> GanConfig.from_dict({"packing": 9})
        Traceback (most recent call last):
        ...
        ValueError: packing: expected a whole number in [1, 4], got 9
    """

    distribution: str = "ring8"
    loss: str = "non_saturating"
    lr_d: float = 2e-3
    lr_g: float = 2e-3
    d_steps: int = 1
    packing: int = 1
    noise_dim: int = 4
    hidden: int = 64
    batch: int = 192
    optimizer: str | None = None
    clip: float = 0.01
    gp_weight: float = 0.1
    seed: int = 0
    points: tuple | None = None

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution: expected one of {', '.join(DISTRIBUTIONS)}, "
                             f"got {self.distribution!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss: expected one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.optimizer is not None and self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)} or null, "
                             f"got {self.optimizer!r}")
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            whole = name in _INTEGERS
            ok = (isinstance(value, int) if whole else isinstance(value, (int, float)))
            if isinstance(value, bool) or not ok or not math.isfinite(value) or not low <= value <= high:
                kind = "a whole number" if whole else "a number"
                raise ValueError(f"{name}: expected {kind} in [{low:g}, {high:g}], got {value!r}")
        if self.batch % self.packing:
            raise ValueError(f"batch: must be a multiple of packing={self.packing}, got {self.batch}")
        if self.points is not None:
            object.__setattr__(self, "points", tuple(map(tuple, validate_points(self.points).tolist())))
        if self.distribution == "drawn" and self.points is None:
            raise ValueError("points: the 'drawn' distribution needs points (draw at least 2 on the canvas)")

    @property
    def resolved_optimizer(self) -> str:
        """The optimizer used: ``optimizer`` or, when ``None``, the conventional one for ``loss``."""
        return self.optimizer or ("rmsprop" if self.loss == "wgan_clip" else "adam")

    @classmethod
    def from_dict(cls, raw: dict | None) -> GanConfig:
        """A config from JSON-like ``raw`` (unknown keys are an error; missing ones keep defaults)."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError(f"config: expected a JSON object, got {type(raw).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"config: unknown field(s) {', '.join(unknown)}; expected some of "
                             f"{', '.join(sorted(known))}")
        values = dict(raw)
        for name in ("lr_d", "lr_g", "clip", "gp_weight"):  # JSON integers are fine for real fields
            if isinstance(values.get(name), int) and not isinstance(values.get(name), bool):
                values[name] = float(values[name])
        return cls(**values)

    def updated(self, raw: dict) -> GanConfig:
        """This config with the fields of ``raw`` changed (validated like :meth:`from_dict`).

        Example:
            >>> GanConfig().updated({"loss": "minimax"}).loss
            'minimax'
        """
        base = asdict(self)
        if not isinstance(raw, dict):
            raise ValueError(f"config: expected a JSON object, got {type(raw).__name__}")
        return GanConfig.from_dict({**base, **raw})

    def to_json(self) -> dict:
        """The settings as a JSON-ready dict (``points`` as lists, or null).

        Example:
            >>> GanConfig().to_json()["loss"]
            'non_saturating'
        """
        data = asdict(self)
        data["points"] = None if self.points is None else [list(p) for p in self.points]
        data["optimizer"] = self.resolved_optimizer
        return data

    def with_seed(self, seed: int) -> GanConfig:
        """The same setup with another seed.

        Example:
            >>> GanConfig().with_seed(3).seed
            3
        """
        return replace(self, seed=seed)
