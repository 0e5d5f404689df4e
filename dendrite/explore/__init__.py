"""The explorers: interactive looks at what happens inside training, headless from Python too.

- :mod:`dendrite.explore.init`: initialisation schemes in a deep MLP (activation and gradient spread);
- :mod:`dendrite.explore.optim`: optimisers' paths on 2-D functions and on a small model's loss landscape;
- :mod:`dendrite.explore.gan`: a GAN trained on 2-D distributions (mode collapse and its cure).
"""
