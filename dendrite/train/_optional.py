"""Lazy imports of the optional training extras (tqdm, matplotlib) with a helpful error."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that names the extra to install.

    Example:
        >>> require("json", "reading logs").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise ImportError(
            f"{purpose} needs the optional package {package!r}, which is not installed; "
            f'install it with: pip install "dendrite[train]"'
        ) from None
