"""Explorers: interactive, headless-friendly looks inside training (issue 14).

* :mod:`dendrite.explore.init` — how weight initialisation shapes signals through a deep MLP.
* :mod:`dendrite.explore.optim` — optimiser trajectories on 2-D functions and a small model's landscape.
* :mod:`dendrite.explore.gan` — the GAN lab: a generator and a discriminator on 2-D distributions.

Each returns data (``.to_json()``) and matplotlib figures (``.figure()``), and writes its pictures
with ``write_pictures(out, seed=0, quick=False)``.
"""
