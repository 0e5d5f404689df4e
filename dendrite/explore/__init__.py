"""The explorers: interactive views of what makes a network train, usable from Python and the playground.

- :mod:`dendrite.explore.init`: the initialisation explorer (a deep MLP's activation and gradient
  statistics per layer under each ``nn.init`` scheme, then a short training run);
- :mod:`dendrite.explore.optim`: the optimisation explorer (the real optimisers on 2-D functions and
  on a small model's loss landscape);
- :mod:`dendrite.explore.gan`: the GAN lab (a GAN trained on 2-D distributions, mode collapse and
  its cure).

Import the one you need: ``from dendrite.explore import init as init_explorer``. Each returns data
(dataclasses with ``.to_json()``) and matplotlib figures (``.figure()``), and writes its pictures
with ``write_pictures(out)``.
"""
