"""Setup for every test and doctest, including those collected from the package itself.

``import dendrite`` here, before collection: pytest's importlib import mode executes a
collected file a second time when its package is not imported yet, and a second copy
of dendrite/tensor.py would register a second ``Tensor`` class.
"""

import dendrite  # noqa: F401
