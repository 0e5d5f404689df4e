"""Where a weights file is read from: a path on disk, or an in-memory copy of a file object.

``dendrite.load`` takes a path or an open binary file (``io.BytesIO``, ``open(..., "rb")``), as
``torch.load`` does. :func:`dendrite.load` reads a file object once, from its current position,
into an ``io.BytesIO`` (at most the size limit plus room for headers), which the readers here
accept in place of a path. A path is opened by each reader and streamed, so loading from disk
keeps one copy of the weights.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["Source", "describe", "open_binary", "size_of", "is_file_object"]

Source = Path | io.BytesIO


def is_file_object(target) -> bool:
    """Whether ``target`` is a file object (has ``read`` or ``write``) rather than a path.

    Example:
        >>> import io
        >>> is_file_object(io.BytesIO()), is_file_object("model.pth")
        (True, False)
    """
    return hasattr(target, "read") or hasattr(target, "write")


def describe(source: Source) -> str:
    """The name used in messages: the path, or the file object's ``name`` (``'<file object>'``).

    Example:
        >>> import io
        >>> describe(Path("w.pth")), describe(io.BytesIO())
        ("'w.pth'", "'<file object>'")
    """
    if isinstance(source, (str, os.PathLike)):
        return repr(str(source))
    return repr(str(getattr(source, "name", "<file object>")))


@contextlib.contextmanager
def open_binary(source: Source) -> Iterator[BinaryIO]:
    """``source`` open for reading from its start; a file object is rewound, not closed.

    Example:
        >>> import io
        >>> with open_binary(io.BytesIO(b"abc")) as handle:
        ...     handle.read()
        b'abc'
    """
    if isinstance(source, io.BytesIO):
        source.seek(0)
        yield source
    else:
        with open(source, "rb") as handle:
            yield handle


def size_of(source: Source) -> int:
    """The size in bytes of the file or buffer.

    Example:
        >>> import io
        >>> size_of(io.BytesIO(b"abcd"))
        4
    """
    return source.getbuffer().nbytes if isinstance(source, io.BytesIO) else Path(source).stat().st_size
