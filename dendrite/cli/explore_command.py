"""``dendrite explore init|optim|gan --out DIR``: the explorers' pictures, written without a browser.

Each explorer (:mod:`dendrite.explore.init`, :mod:`dendrite.explore.optim`,
:mod:`dendrite.explore.gan` with :mod:`dendrite.explore.gan_demo`) runs its experiments headless
and saves its figures as PNG files in ``--out`` (default ``explore/<explorer>``); ``--quick`` uses
the small sizes the tests use. The
same pages run live in the browser under ``dendrite playground`` at ``/init``, ``/optim``, ``/gan``.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from dendrite.cli.errors import UsageError
from dendrite.cli.out_folder import prepare_out, remove_if_empty

__all__ = ["EXPLORERS", "run_explore"]

# where each explorer's write_pictures lives (the GAN lab's next to its mode-collapse demo)
PICTURE_MODULES = {"init": "dendrite.explore.init", "optim": "dendrite.explore.optim",
                   "gan": "dendrite.explore.gan_demo"}

EXPLORERS = {
    "init": "initialisation: how a scheme keeps signals and gradients alive through a deep network",
    "optim": "optimisation: optimisers' paths on 2-D surfaces, a real model's loss landscape",
    "gan": "GAN lab: a GAN on 2-D points, mode collapse and its cure",
}


def run_explore(args) -> int:
    """Write one explorer's pictures into ``args.out``; print each file's path. Returns 0.

    Usage: ``dendrite explore init|optim|gan [--out DIR] [--seed N] [--quick]``. A missing matplotlib
    (extra ``dendrite[train]``) or a bad ``--out`` raises :class:`UsageError`.

    Example:
        >>> import argparse, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> args = argparse.Namespace(explorer="init", out=Path(tmp.name) / "a" / "file.png" / "x",
        ...                           seed=0, quick=True)
        >>> (Path(tmp.name) / "a").mkdir(); (Path(tmp.name) / "a" / "file.png").write_text("")
        0
        >>> run_explore(args)
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: --out '.../x': '.../file.png' is a file, not a folder
        >>> tmp.cleanup()
    """
    if args.explorer not in EXPLORERS:
        raise UsageError(f"explore: unknown explorer {args.explorer!r}; choose from {', '.join(EXPLORERS)}")
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError("the explorers draw with matplotlib: install dendrite[train] "
                         "(pip install 'dendrite[train]')")
    out = Path(args.out) if args.out is not None else Path("explore") / args.explorer
    created = prepare_out(out)
    explorer = importlib.import_module(PICTURE_MODULES[args.explorer])
    try:
        written = explorer.write_pictures(out, seed=args.seed, quick=args.quick)
    except BaseException:
        remove_if_empty(created)
        raise
    for path in written:
        print(path)
    return 0
