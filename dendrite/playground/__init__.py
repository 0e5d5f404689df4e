"""``dendrite.playground``: the TensorFlow Playground in the browser, trained by dendrite.

This package's core (config, data, network, session, snapshot, export, diagnose) needs only NumPy
and dendrite; the web server (``app``, ``serve``) imports Starlette and uvicorn lazily, so importing
this package stays light.

Example:
    >>> from dendrite.playground import PlaygroundSession
    >>> session = PlaygroundSession({"dataset": "gaussian"})
    >>> session.step_epoch(); session.epoch
    1
"""

from dendrite.playground.config import ConfigError, validate_config
from dendrite.playground.datasets import DataError
from dendrite.playground.session import PlaygroundSession

__all__ = ["PlaygroundSession", "validate_config", "ConfigError", "DataError"]
