"""Mode collapse on the ring of 8, and its cure, measured; and the GAN lab's pictures.

The collapse: the generator learns five times faster than the discriminator (``lr_g = 1e-2``,
``lr_d = 1e-3``). Each generator step chases wherever D currently says "real", faster than D can
follow, so the fakes pile onto one or two modes and hop between them. The cure: balanced learning
rates (``2e-3`` for both, the lab's defaults), so D keeps pace and penalises every over-crowded mode.
Measured with seed 0 after 800 generator steps (1,200 fixed-noise fakes, a mode counts when >= 2 % of
them lie within 3 sigma = 0.3 of it): the collapsed run covers at most 3 of 8 modes, the cure at
least 7 (``tests/explore/test_gan.py`` checks both, ``docs/explore_gan.md`` has the numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dendrite.explore.gan import GanLab, GanSnapshot
from dendrite.explore.pyplot import pyplot

__all__ = ["COLLAPSE", "CURE", "DEMO_STEPS", "CollapseDemo", "mode_collapse_demo", "write_pictures"]

COLLAPSE = {"distribution": "ring8", "loss": "non_saturating", "lr_g": 1e-2, "lr_d": 1e-3, "packing": 1}
CURE = {"distribution": "ring8", "loss": "non_saturating", "lr_g": 2e-3, "lr_d": 2e-3, "packing": 1}
DEMO_STEPS = 800


@dataclass
class CollapseDemo:
    """The collapsed and the cured run's final snapshots (``.modes["modes_covered"]`` of each).

    Example:
        >>> demo = mode_collapse_demo(steps=1)
        >>> type(demo.figure()).__name__, demo.cured.modes["modes"]
        ('Figure', 8)
    """

    collapsed: GanSnapshot
    cured: GanSnapshot

    def to_json(self) -> dict:
        """Both snapshots as JSON-ready dicts.

        Example:
            >>> import numpy as np
            >>> lab = GanLab({"batch": 48, "hidden": 16})
            >>> sorted(CollapseDemo(lab.snapshot(), lab.snapshot()).to_json())
            ['collapsed', 'cured']
        """
        return {"collapsed": self.collapsed.to_json(), "cured": self.cured.to_json()}

    def figure(self):
        """A matplotlib Figure: the collapsed run beside the cured one."""
        from dendrite.explore.gan_figures import demo_figure

        return demo_figure(self)


def mode_collapse_demo(seed: int = 0, quick: bool = False, steps: int | None = None) -> CollapseDemo:
    """Train :data:`COLLAPSE` and :data:`CURE` on ring8 for ``steps`` (default 800) generator steps.

    ``quick`` keeps the same runs (the collapse needs its 800 steps to show) and only makes the
    pictures of :func:`write_pictures` smaller; a few seconds of CPU per run.

    Example:
        >>> demo = mode_collapse_demo(steps=2)
        >>> demo.collapsed.step, demo.cured.step
        (2, 2)
    """
    del quick  # same numbers in quick mode: only the picture sizes differ
    steps = DEMO_STEPS if steps is None else steps
    runs = []
    for setup in (COLLAPSE, CURE):
        lab = GanLab({**setup, "seed": seed})
        lab.step(steps)
        runs.append(lab.snapshot())
    return CollapseDemo(*runs)


def write_pictures(out: Path, *, seed: int = 0, quick: bool = False) -> list[Path]:
    """Write ``gan_lab.png`` (a lab snapshot on ring8) and ``gan_mode_collapse.png`` into ``out``.

    ``quick``: lower resolution (tests, CI); the runs are the demo's 800 steps either way.

    Example:
        >>> import tempfile  # the two 800-step runs take about 10 s: not run as a doctest
        >>> with tempfile.TemporaryDirectory() as out:  # doctest: +SKIP
        ...     [path.name for path in write_pictures(Path(out), quick=True)]
        ['gan_lab.png', 'gan_mode_collapse.png']
    """
    plt = pyplot("the GAN lab's pictures")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dpi = 60 if quick else 110
    demo = mode_collapse_demo(seed=seed, quick=quick)
    paths = [out / "gan_lab.png", out / "gan_mode_collapse.png"]
    for figure, path in ((demo.cured.figure("GAN lab: ring of 8, balanced learning rates"), paths[0]),
                         (demo.figure(), paths[1])):
        figure.savefig(path, dpi=dpi)
        plt.close(figure)
    return paths
