"""Read an ``.npz`` without trusting it: one member at a time, sizes checked before allocating.

``numpy.load`` decompresses a member fully before looking at it and copies each array once
more on the way out. This reader instead

* refuses any member that is not a ``.npy`` by its name, without decompressing it;
* checks that the zip's central directory accounts for every byte between the members
  (a damaged directory that lists 1 of 4 arrays is an error, not a smaller file);
* reads each ``.npy`` header, refuses object dtypes (they would need pickle), and charges the
  declared ``shape x itemsize`` to a :class:`~dendrite.interop.file_limits.SizeBudget`
  *before* allocating -- a 1 MB deflate bomb that declares a 1 GiB array costs nothing;
* decompresses straight into the final array (one copy), then lets zipfile check the CRC.
"""

from __future__ import annotations

import struct
import zipfile

import numpy as np

from dendrite.interop.file_limits import SizeBudget, WeightsFileError
from dendrite.interop.file_source import Source, describe, open_binary

__all__ = ["read_npz"]

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_MAX_HEADER = 10_000  # bytes of .npy header text; numpy's own default limit
_CHUNK = 1 << 18  # bytes decompressed per step: the only memory beyond the array itself


def _check_layout(archive: zipfile.ZipFile, handle, where: str) -> None:
    """Every byte from the first member to the central directory belongs to a listed member."""
    infos = sorted(archive.infolist(), key=lambda info: info.header_offset)
    allowed = {0}  # a weights .npz has nothing before its first member
    for info in infos:
        if info.header_offset not in allowed:
            raise WeightsFileError(
                f"load: {where}: the zip directory is damaged: {info.header_offset - min(allowed)} bytes "
                f"before member {info.filename!r} belong to no listed member (arrays lost?)"
            )
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise WeightsFileError(f"load: {where}: member {info.filename!r} has no valid local header "
                                   "(truncated or corrupt)")
        fields = _LOCAL_HEADER.unpack(header)
        end = info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11] + info.compress_size
        # A data descriptor may follow the data: 12 to 24 bytes, with or without its signature.
        allowed = {end + size for size in (0, 12, 16, 20, 24)} if info.flag_bits & 0x08 else {end}
    if archive.start_dir not in allowed:
        raise WeightsFileError(
            f"load: {where}: the zip directory is damaged: {archive.start_dir - min(allowed)} bytes before "
            "the directory belong to no listed member (arrays lost?)"
        )


def _read_header(member, name: str, where: str):
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(member, max_header_size=_MAX_HEADER)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(member, max_header_size=_MAX_HEADER)
        return np.lib.format._read_array_header(member, version, max_header_size=_MAX_HEADER)
    except (ValueError, EOFError, SyntaxError) as error:
        raise WeightsFileError(f"load: {where}: member {name!r} has no valid .npy header: {error}") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: SizeBudget, where: str):
    key = info.filename[: -len(".npy")]
    with archive.open(info) as member:
        shape, fortran_order, dtype = _read_header(member, key, where)
        if dtype.hasobject or dtype.kind not in "biuf":
            raise WeightsFileError(
                f"load: {where}: entry {key!r} holds dtype {dtype}; expected a bool, integer or "
                "floating-point array (object arrays would need pickle and are never loaded)"
            )
        count = int(np.prod(shape, dtype=object))
        budget.take(key, count * dtype.itemsize)
        if count * dtype.itemsize > info.file_size:
            raise WeightsFileError(
                f"load: {where}: entry {key!r} declares shape {shape} ({count * dtype.itemsize} bytes) "
                f"but its member holds {info.file_size} bytes (truncated or corrupt)"
            )
        array = np.empty(shape, dtype=dtype, order="F" if fortran_order else "C")
        flat = (array.T if fortran_order else array).reshape(-1).view(np.uint8)
        filled = 0
        while filled < flat.size:
            got = member.readinto(memoryview(flat[filled: filled + _CHUNK]))
            if not got:
                raise WeightsFileError(f"load: {where}: entry {key!r} ends early (truncated or corrupt)")
            filled += got
        member.read(1)  # reaching the end makes zipfile check the CRC
    if not dtype.isnative:
        array = array.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return key, (np.array(array, order="C") if fortran_order else array)  # never ascontiguousarray: 0-d


def read_npz(path: Source, budget: SizeBudget) -> dict[str, np.ndarray]:
    """``{name: array}`` from the ``.npz`` at ``path``; :class:`WeightsFileError` when it is not sound.

    Example:
        >>> import numpy as np
        >>> np.savez("a.npz", w=np.ones(2))
        >>> from pathlib import Path
        >>> read_npz(Path("a.npz"), SizeBudget("a.npz"))["w"]
        array([1., 1.])
    """
    where = describe(path)
    with open_binary(path) as handle, zipfile.ZipFile(handle) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        for name in names:
            if not name.endswith(".npy"):
                raise WeightsFileError(f"load: {where}: member {name!r} is not a .npy array; a weights .npz "
                                       "holds only .npy members (it was not read)")
        if len(set(names)) != len(names):
            raise WeightsFileError(f"load: {where}: the zip lists a member twice (corrupt or crafted)")
        _check_layout(archive, handle, where)
        return dict(_read_member(archive, info, budget, where) for info in infos)
