"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The recipe: write to a temporary file in the *same folder* (so the final rename
stays on one file system), flush, ``fsync``, then ``os.replace`` it over the
target. If anything fails on the way, the temporary file is removed and the
previous file is left untouched.

Temporary files are named ``.<target name>.tmp-<pid>-<random><suffix>``. A process killed
mid-write (``SIGKILL``, power loss) cannot remove its own; the next write to the same target
removes those whose process is gone (:func:`remove_stale_temporaries`), never one whose process
is alive. (Liveness is asked of this machine: keep one machine writing to a shared folder.)
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "atomic_write_text",
           "remove_stale_temporaries"]

# The process umask can only be read by setting it; do that once, at import.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _fsync_folder(folder: Path) -> None:
    # Make the rename itself durable. Not possible on every platform (Windows cannot
    # open folders), and failing here cannot corrupt anything, so errors are ignored.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no safe liveness probe (os.kill(pid, 0) would terminate it on Windows): keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, under another user
    return True


def _temporary_prefix(target: Path) -> str:
    return f".{target.name}.tmp-"


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that dead processes left beside ``path``; return them.

    Only files named as :func:`atomic_path` names them for this very target are considered, and
    only those whose writing process no longer exists are removed.

    Example:
        >>> import pathlib
        >>> pathlib.Path(".model.npz.tmp-999999999-abc.npz").write_bytes(b"half")
        4
        >>> [p.name for p in remove_stale_temporaries("model.npz")]
        ['.model.npz.tmp-999999999-abc.npz']
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    pattern = re.compile(re.escape(_temporary_prefix(target)) + r"(\d+)-[A-Za-z0-9_]+(\.[^/]*)?")
    removed = []
    try:
        candidates = list(folder.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    For writers that insist on opening the file themselves (``numpy.savez``, a
    third-party ``save(obj, path)``). The temporary name keeps the target's
    suffix (or ``suffix``) in case the writer chooses a format by extension.

    Example:
        >>> import pathlib
        >>> target = pathlib.Path("weights.bin")
        >>> with atomic_path(target) as temporary:
        ...     _ = temporary.write_bytes(b"abc")
        >>> target.read_bytes()
        b'abc'
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {str(target)!r}: folder {str(folder)!r} does not exist")
    remove_stale_temporaries(target)
    descriptor, temporary_name = tempfile.mkstemp(
        prefix=f"{_temporary_prefix(target)}{os.getpid()}-",
        suffix=target.suffix if suffix is None else suffix, dir=folder,
    )
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        os.chmod(temporary, target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_UMASK)
        yield temporary
        if not temporary.exists():
            raise FileNotFoundError(f"the writer did not create {str(temporary)!r} for {str(target)!r}")
        # The writer may have closed the file without fsync: reopen to force it to disk.
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _fsync_folder(folder)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; it replaces ``path`` on success.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (bytes). If the ``with`` block raises,
    the temporary file is deleted and any existing ``path`` is left as it was.

    Example:
        >>> import pathlib
        >>> target = pathlib.Path("notes.txt")
        >>> with atomic_write(target) as handle:
        ...     _ = handle.write("hello")
        >>> target.read_text()
        'hello'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as temporary:
        if mode == "wb":
            handle = open(temporary, "wb")  # closed below, after fsync
        else:
            handle = open(temporary, "w", encoding=encoding, newline=newline)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    Example:
        >>> import pathlib
        >>> target = pathlib.Path("blob.bin")
        >>> atomic_write_bytes(target, b"xyz").read_bytes()
        b'xyz'
    """
    with atomic_write(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically and return the path.

    Example:
        >>> import pathlib
        >>> target = pathlib.Path("a.txt")
        >>> atomic_write_text(target, "hi").read_text()
        'hi'
    """
    with atomic_write(path, "w", encoding=encoding) as handle:
        handle.write(text)
    return Path(path)
