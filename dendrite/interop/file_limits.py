"""What a weights file may ask for before anything is allocated: the size limit, the error, the format.

Every reader checks each tensor's *declared* size (a ``.npy`` header's shape times its item size,
a safetensors header's offsets, a PyTorch file's storage sizes and view extents) against
:data:`DEFAULT_MAX_BYTES` -- or the ``max_bytes=`` given to :func:`dendrite.load` -- before it
allocates the array. A small file that declares a huge tensor (a deflate bomb, an expanded view)
is refused with a :class:`WeightsFileError` naming the tensor, its size and the limit.

The limit holds per tensor and for the whole file. Raise it for one call with
``dendrite.load(path, max_bytes=16 * 2**30)``, or for the process with
``dendrite.interop.file_limits.DEFAULT_MAX_BYTES = ...``; ``max_bytes=None`` means the default.
"""

from __future__ import annotations

import os
import zipfile

from dendrite.interop.file_source import describe, open_binary

__all__ = ["DEFAULT_MAX_BYTES", "WeightsFileError", "SizeBudget", "sniff_format"]

DEFAULT_MAX_BYTES = 4 * 2**30  # 4 GiB, per tensor and per file


class WeightsFileError(ValueError):
    """A weights file that is truncated, corrupt, too large, or not a file of named weights at all.

    Example:
        >>> import dendrite
        >>> _ = open("broken.npz", "w").write("not a zip")
        >>> dendrite.load("broken.npz")
        Traceback (most recent call last):
        ...
        dendrite.interop.file_limits.WeightsFileError: load: 'broken.npz' is not a weights file: ...
    """


def _gib(size: int) -> str:
    return f"{size} bytes ({size / 2**30:.3g} GiB)"


class SizeBudget:
    """Counts the bytes a load allocates; refuses a tensor that would pass ``max_bytes``.

    Example:
        >>> budget = SizeBudget("w.npz", max_bytes=100)
        >>> budget.take("w", 64)
        >>> budget.take("b", 64)
        Traceback (most recent call last):
        ...
        dendrite.interop.file_limits.WeightsFileError: load: 'w.npz': tensor 'b' needs 64 bytes ...
    """

    def __init__(self, path: str | os.PathLike, max_bytes: int | None = None) -> None:
        limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError(f"load: max_bytes must be a non-negative int, got {max_bytes!r}")
        self.path, self.limit, self.used = str(path), limit, 0

    def take(self, name: str, size: int) -> None:
        """Reserve ``size`` bytes for tensor ``name``, or raise before anything is allocated."""
        if size > self.limit or self.used + size > self.limit:
            whole = "" if size > self.limit else f" (with the {_gib(self.used)} loaded before it)"
            raise WeightsFileError(
                f"load: {self.path!r}: tensor {name!r} needs {_gib(size)}{whole}, over the limit of "
                f"{_gib(self.limit)}; if the file is trusted, raise it with load(..., max_bytes=N) or "
                "dendrite.interop.file_limits.DEFAULT_MAX_BYTES"
            )
        self.used += size


def _zip_kind(path) -> str:
    try:
        with open_binary(path) as handle, zipfile.ZipFile(handle) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):  # damaged: the reader its suffix names reports it
        return "torch" if getattr(path, "suffix", "").lower() in (".pt", ".pth") else "npz"
    if any(name.endswith("data.pkl") for name in names):
        return "torch"
    return "npz"


def sniff_format(path) -> str:
    """What ``path`` (or an ``io.BytesIO``) holds, by its first bytes: ``"npz"``, ``"safetensors"``,
    ``"torch"``, or an error.

    Example:
        >>> import numpy as np
        >>> np.save("one.npy", np.ones(2))
        >>> from pathlib import Path
        >>> sniff_format(Path("one.npy"))
        Traceback (most recent call last):
        ...
        dendrite.interop.file_limits.WeightsFileError: load: 'one.npy' is a single .npy array, ...
    """
    with open_binary(path) as handle:
        head = handle.read(16)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(path)
    if head.startswith(b"\x93NUMPY"):
        raise WeightsFileError(f"load: {describe(path)} is a single .npy array, not a file of named weights "
                               "(save it with dendrite.save({'name': array}, 'file.npz'))")
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"  # its reader checks the header length against the file
    if head[:1] == b"\x80":
        return "torch"  # PyTorch's legacy format is a bare pickle; only torch's weights_only reader sees it
    raise WeightsFileError(
        f"load: {describe(path)} is not a weights file: it is neither a zip (.npz / PyTorch .pt) nor a "
        f"safetensors file (it starts with {head[:8]!r})"
    )
