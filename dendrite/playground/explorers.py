"""The explorers' pages and APIs, mounted into the playground's app beside the playground itself.

Each explorer lives in a module ``dendrite.playground.routes_<name>`` with a function
``mount(static: Path) -> Explorer``: its page (``/<name>``), its JSON API (``/api/explore/<name>/...``)
and, when it keeps live sessions (the GAN lab), its own :class:`SessionStore`, which the app starts
and stops with itself. :data:`EXPLORER_MODULES` lists them in the order of the pages' navigation.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from starlette.routing import BaseRoute

from dendrite.playground.sessions import SessionStore

__all__ = ["Explorer", "EXPLORER_MODULES", "mount_explorers"]

EXPLORER_MODULES: tuple[str, ...] = ("dendrite.playground.routes_init", "dendrite.playground.routes_optim",
                                     "dendrite.playground.routes_gan")


@dataclass
class Explorer:
    """One explorer's routes, and its session store when it keeps sessions.

    Example:
        >>> from starlette.routing import Route
        >>> explorer = Explorer("demo", [Route("/demo", lambda request: None)])
        >>> explorer.name, [route.path for route in explorer.routes], explorer.store
        ('demo', ['/demo'], None)
    """

    name: str
    routes: list[BaseRoute] = field(default_factory=list)
    store: SessionStore | None = None


def mount_explorers(static: Path) -> list[Explorer]:
    """Every explorer of :data:`EXPLORER_MODULES`, mounted on the page files in ``static``.

    Example:
        >>> from dendrite.playground.app import STATIC_DIR
        >>> names = [explorer.name for explorer in mount_explorers(STATIC_DIR)]
        >>> len(names) == len(EXPLORER_MODULES)
        True
    """
    return [importlib.import_module(module).mount(Path(static)) for module in EXPLORER_MODULES]
