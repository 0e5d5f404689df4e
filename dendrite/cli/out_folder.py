"""The output folder of a command: made (with its parents) and checked before any work, removed if left empty.

``dendrite train``, ``tour`` and ``evaluate`` call :func:`prepare_out` first, so a bad
``--out`` costs nothing, and :func:`remove_if_empty` when they fail, so a failed command
leaves no empty folder behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dendrite.cli.errors import UsageError

__all__ = ["prepare_out", "remove_if_empty"]


def prepare_out(out: Path, option: str = "--out") -> list[Path]:
    """Make the output folder ``out`` (and its missing parents); check it is a writable folder.

    Runs before any training, so a bad ``--out`` costs nothing: a path naming a file or lying
    under one, a folder that cannot be made (``/proc/...``) or written to raises
    :class:`UsageError`. Returns the folders it created, outermost first, for
    :func:`remove_if_empty` (nothing it created is left behind when the check fails).

    Example:
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> [path.name for path in prepare_out(Path(tmp.name) / "a" / "b")]
        ['a', 'b']
        >>> (Path(tmp.name) / "f").write_text("x")
        1
        >>> prepare_out(Path(tmp.name) / "f" / "run")
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: --out '.../f/run': '.../f' is a file, not a folder
        >>> tmp.cleanup()
    """
    out = Path(out)
    missing = []
    ancestor = out
    while not (ancestor.exists() or ancestor.is_symlink()) and ancestor != ancestor.parent:
        missing.append(ancestor)
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        where = "is a file" if ancestor.is_file() else "exists and is not a folder"
        if ancestor == out:
            raise UsageError(f"{option} {str(out)!r} {where}, not a folder; name a folder for the files")
        raise UsageError(f"{option} {str(out)!r}: {str(ancestor)!r} {where}, not a folder")
    created = list(reversed(missing))
    try:
        for folder in created:
            folder.mkdir()
    except OSError as error:
        remove_if_empty(created)
        reason = error.strerror or error
        raise UsageError(f"{option} {str(out)!r}: cannot create the folder ({reason})") from None
    try:  # a probe file: permission bits alone do not tell (root, read-only mounts, /proc)
        handle, probe = tempfile.mkstemp(prefix=".dendrite-probe-", dir=out)
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        remove_if_empty(created)
        reason = error.strerror or error
        raise UsageError(f"{option} {str(out)!r} is not a writable folder ({reason})") from None
    return created


def remove_if_empty(created: list[Path]) -> None:
    """Remove the folders ``prepare_out`` created, innermost first, while they are empty.

    Example:
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> created = prepare_out(Path(tmp.name) / "a" / "b")
        >>> remove_if_empty(created)
        >>> sorted(Path(tmp.name).iterdir())
        []
        >>> tmp.cleanup()
    """
    for folder in reversed(created):
        try:
            folder.rmdir()  # refuses a folder that is not empty
        except OSError:
            return
