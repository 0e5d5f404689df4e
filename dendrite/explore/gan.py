"""The GAN lab: a small generator and discriminator playing on 2-D distributions, watched step by step.

:class:`GanLab` trains an MLP generator (noise of ``noise_dim`` dimensions to a point of the plane)
against an MLP discriminator (:class:`~dendrite.models.gan.MLPDiscriminator`, which judges
``packing`` samples at once) with one of four games (:mod:`dendrite.explore.gan_losses`), and
:meth:`GanLab.snapshot` shows what the learner needs to see: real and generated points (the fakes
come from fixed noise, so they move smoothly from one snapshot to the next), D's verdict over the
plane, the direction each fake point is pushed (``-d(G loss)/d(point)``), both losses, and for
``ring8`` and ``grid`` the modes covered. :func:`~dendrite.explore.gan_demo.mode_collapse_demo`
shows a collapse and its cure; :func:`~dendrite.explore.gan_demo.write_pictures` draws them.

Example:
    >>> lab = GanLab({"batch": 48, "hidden": 16})
    >>> lab.step(3)
    >>> snap = lab.snapshot()
    >>> len(lab.history["d_loss"]), snap.fake.shape, snap.heatmap.shape, snap.modes["modes"]
    (3, (240, 2), (40, 40), 8)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import dendrite
from dendrite import optim
from dendrite.explore.gan_config import GanConfig
from dendrite.explore.gan_data import VIEW, mode_centres, mode_coverage, sample_distribution
from dendrite.explore.gan_losses import clip_weights, discriminator_loss, generator_loss, gradient_penalty
from dendrite.models.gan import MLPDiscriminator, MLPGenerator

__all__ = ["GanConfig", "GanLab", "GanSnapshot", "SHOWN", "JUDGED", "GRID"]

SHOWN = 240  # fake and real points shown (a multiple of every packing 1..4)
JUDGED = 1200  # fakes judged for the modes covered
GRID = 40  # the heatmap's resolution (GRID x GRID cells over [-VIEW, VIEW]^2)


def _finite(values) -> list:
    """A nested list of the array's numbers with NaN/inf as None (JSON has no NaN)."""
    return _clean(np.asarray(values, dtype=np.float64).tolist())


def _clean(value):
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return round(value, 5) if math.isfinite(value) else None


@dataclass
class GanSnapshot:
    """What the lab looks like after ``step`` generator steps.

    Shapes: ``real``, ``fake``, ``arrows`` (240, 2); ``heatmap`` (40, 40) with rows along y (row 0 at
    y = -3) and columns along x, values in [0, 1]: D's probability "real", or for the Wasserstein
    games the critic's value rescaled to [0, 1] (``heat_kind`` says which). ``modes``: the judge of
    :func:`~dendrite.explore.gan_data.mode_coverage` on 1200 fakes, or ``None`` for moons and drawn.

    Example:
        >>> snap = GanLab({"batch": 48, "hidden": 16}).snapshot()
        >>> snap.heat_kind, snap.arrows.shape, type(snap.figure()).__name__
        ('probability', (240, 2), 'Figure')
    """

    step: int
    distribution: str
    loss: str
    real: np.ndarray
    fake: np.ndarray
    arrows: np.ndarray
    heatmap: np.ndarray
    heat_kind: str
    d_loss: float | None
    g_loss: float | None
    history: dict = field(default_factory=dict)
    modes: dict | None = None
    centres: np.ndarray | None = None

    def to_json(self, include_points: bool = True) -> dict:
        """A JSON-ready dict (NaN as None); ``include_points=False`` leaves out the real points.

        Example:
            >>> lab = GanLab({"batch": 48, "hidden": 16})
            >>> sorted(lab.snapshot().to_json())[:4]
            ['arrows', 'centres', 'd_loss', 'distribution']
        """
        data = {
            "step": self.step, "distribution": self.distribution, "loss": self.loss,
            "fake": _finite(self.fake), "arrows": _finite(self.arrows), "heatmap": _finite(self.heatmap),
            "heat_kind": self.heat_kind, "view": VIEW,
            "d_loss": _clean(self.d_loss) if self.d_loss is not None else None,
            "g_loss": _clean(self.g_loss) if self.g_loss is not None else None,
            "history": {key: _finite(values) for key, values in self.history.items()},
            "modes": self.modes,
            "centres": None if self.centres is None else _finite(self.centres),
        }
        if include_points:
            data["real"] = _finite(self.real)
        return data

    def figure(self, title: str | None = None):
        """A matplotlib Figure: the plane (heatmap, real, fake, arrows) and the two losses."""
        from dendrite.explore.gan_figures import snapshot_figure

        return snapshot_figure(self, title)


class GanLab:
    """A generator and a discriminator on a 2-D distribution, trained ``step(n)`` generator steps at a time.

    ``config``: a :class:`GanConfig` or a dict for :meth:`GanConfig.from_dict`. Seeds dendrite's global
    generator with ``config.seed`` when built (the server swaps a session's stream in around it).

    Example:
        >>> lab = GanLab({"loss": "wgan_gp", "packing": 2, "batch": 48, "hidden": 16})
        >>> lab.step(2); lab.steps, len(lab.history["g_loss"])
        (2, 2)
        >>> lab.generator_arrows(lab.fake_points(4)).shape, lab.heatmap(grid=5)[0].shape
        ((4, 2), (5, 5))
        >>> lab.snapshot().modes["modes"]
        8
    """

    def __init__(self, config: GanConfig | dict | None = None) -> None:
        self.config = config if isinstance(config, GanConfig) else GanConfig.from_dict(config)
        c = self.config
        dendrite.manual_seed(c.seed)
        self.rng = np.random.default_rng(c.seed)
        self.drawn = None if c.points is None else np.asarray(c.points, dtype=np.float64)
        self.generator = MLPGenerator(c.noise_dim, (2,), hidden=(c.hidden, c.hidden))
        self.discriminator = MLPDiscriminator((2,), hidden=(c.hidden, c.hidden), pack=c.packing)
        self.opt_g = self._optimizer(self.generator, c.lr_g)
        self.opt_d = self._optimizer(self.discriminator, c.lr_d)
        if c.loss == "wgan_clip":
            clip_weights(self.discriminator, c.clip)
        fixed = np.random.default_rng(c.seed + 1)
        self.fixed_noise = dendrite.tensor(fixed.standard_normal((JUDGED, c.noise_dim)).astype(np.float32))
        self.fixed_real = sample_distribution(c.distribution, SHOWN, fixed, self.drawn)
        self.history: dict[str, list[float]] = {"d_loss": [], "g_loss": []}
        self.steps = 0

    def _optimizer(self, module, lr: float):
        if self.config.resolved_optimizer == "rmsprop":
            return optim.RMSprop(module.parameters(), lr=lr)
        return optim.Adam(module.parameters(), lr=lr, betas=(0.5, 0.999))

    def _noise(self, n: int):
        return dendrite.tensor(self.rng.standard_normal((n, self.config.noise_dim)).astype(np.float32))

    def _real(self, n: int):
        return dendrite.tensor(sample_distribution(self.config.distribution, n, self.rng, self.drawn))

    def _d_step(self) -> float:
        c = self.config
        real = self._real(c.batch)
        with dendrite.no_grad():
            fake = self.generator(self._noise(c.batch))
        loss = discriminator_loss(c.loss, self.discriminator(real), self.discriminator(fake))
        if c.loss == "wgan_gp" and c.gp_weight > 0:
            alpha = dendrite.tensor(self.rng.random((c.batch, 1)).astype(np.float32))
            loss = loss + c.gp_weight * gradient_penalty(self.discriminator, real, fake, alpha)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        if c.loss == "wgan_clip":
            clip_weights(self.discriminator, c.clip)
        return float(loss.item())

    def _g_step(self) -> float:
        c = self.config
        loss = generator_loss(c.loss, self.discriminator(self.generator(self._noise(c.batch))))
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        return float(loss.item())

    def step(self, n: int = 1) -> None:
        """``n`` rounds of ``d_steps`` discriminator steps then one generator step (history grows by n)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"steps: expected a whole number >= 0, got {n!r}")
        for _ in range(n):
            d_losses = [self._d_step() for _ in range(self.config.d_steps)]
            g_loss = self._g_step()
            self.history["d_loss"].append(float(np.mean(d_losses)))
            self.history["g_loss"].append(g_loss)
            self.steps += 1

    def fake_points(self, n: int = JUDGED) -> np.ndarray:
        """The generator's points ``(n, 2)`` for the first ``n`` of its fixed noise vectors.

        Example:
            >>> GanLab({"batch": 48, "hidden": 16}).fake_points(5).shape
            (5, 2)
        """
        with dendrite.no_grad():
            return self.generator(self.fixed_noise[:n]).numpy().astype(np.float64)

    def generator_arrows(self, fake: np.ndarray) -> np.ndarray:
        """``-d(G loss)/d(point)`` at each fake point ``(N, 2)`` (N a multiple of packing): where G pushes it.

        The generator loss is the game's, averaged over the N / packing packs that D judges.
        """
        points = dendrite.tensor(np.asarray(fake, dtype=np.float32), requires_grad=True)
        loss = generator_loss(self.config.loss, self.discriminator(points))
        (grad,) = dendrite.autograd.grad(loss, points)
        return -grad.numpy().astype(np.float64)

    def heatmap(self, grid: int = GRID) -> tuple[np.ndarray, str]:
        """D over a ``grid`` x ``grid`` lattice of [-3, 3]^2 (rows along y), in [0, 1], and its kind.

        With packing m, cell (i, j) is D's verdict on a pack whose first sample is the cell's point and
        whose other m - 1 samples are fixed real points: "how real does a pack look with a point here".
        """
        axis = np.linspace(-VIEW, VIEW, grid)
        ys, xs = np.meshgrid(axis, axis, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
        m = self.config.packing
        packs = np.repeat(self.fixed_real[None, :m], len(cells), 0)
        packs[:, 0] = cells
        with dendrite.no_grad():
            out = self.discriminator(dendrite.tensor(packs.reshape(-1, 2))).numpy().reshape(grid, grid)
        out = out.astype(np.float64)
        if self.config.loss.startswith("wgan"):
            low, high = float(out.min()), float(out.max())
            return (out - low) / (high - low) if high > low else np.full_like(out, 0.5), "critic"
        return 1.0 / (1.0 + np.exp(-np.clip(out, -60, 60))), "probability"

    def snapshot(self) -> GanSnapshot:
        """The lab now: points, arrows, heatmap, losses and (ring8, grid) the modes covered."""
        c = self.config
        fake_all = self.fake_points(JUDGED)
        fake = fake_all[:SHOWN]
        heat, kind = self.heatmap()
        centres = mode_centres(c.distribution)
        modes = None if centres is None else mode_coverage(fake_all, centres)
        last = (lambda key: self.history[key][-1] if self.history[key] else None)
        return GanSnapshot(
            step=self.steps, distribution=c.distribution, loss=c.loss,
            real=self.fixed_real.astype(np.float64),
            fake=fake, arrows=self.generator_arrows(fake), heatmap=heat, heat_kind=kind,
            d_loss=last("d_loss"), g_loss=last("g_loss"),
            history={key: list(values) for key, values in self.history.items()}, modes=modes,
            centres=centres)
