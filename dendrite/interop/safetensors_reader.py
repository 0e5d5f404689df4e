"""Read a ``.safetensors`` file by hand: header checked against the file before anything is allocated.

The format is an 8-byte little-endian header length, a JSON header
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``, then the
data. Each tensor's offsets must lie inside the data, not overlap another's, and span exactly
``shape x itemsize`` bytes; its size is charged to the
:class:`~dendrite.interop.file_limits.SizeBudget` before its array is allocated, and the bytes are
read straight into it (one copy). No safetensors package is needed to read.

``BF16`` tensors are widened to float32 (NumPy has no bfloat16; the conversion is exact), so they
cost 4 bytes per element against the limit.
"""

from __future__ import annotations

import json

import numpy as np

from dendrite.interop.file_limits import SizeBudget, WeightsFileError
from dendrite.interop.file_source import Source, describe, open_binary, size_of

__all__ = ["read_safetensors"]

_DTYPES = {"BOOL": "?", "U8": "u1", "I8": "i1", "U16": "<u2", "I16": "<i2", "F16": "<f2", "U32": "<u4",
           "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8", "BF16": "<u2"}
_MAX_HEADER = 100 * 2**20  # the safetensors package's own limit
_CHUNK = 1 << 20  # elements per bf16 conversion step


def _entry(name: str, entry, data_size: int, where: str) -> tuple[np.dtype, tuple, int, int]:
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise WeightsFileError(f"load: {where}: header entry {name!r} lacks dtype, shape or data_offsets")
    dtype_name, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype_name not in _DTYPES:
        raise WeightsFileError(f"load: {where}: tensor {name!r} has dtype {dtype_name!r}; dendrite reads "
                               f"{', '.join(_DTYPES)}")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise WeightsFileError(f"load: {where}: tensor {name!r} has shape {shape!r}; expected a list of "
                               "non-negative ints")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_size):
        raise WeightsFileError(f"load: {where}: tensor {name!r} has data_offsets {offsets!r} outside the "
                               f"{data_size} data bytes of the file (truncated or corrupt)")
    dtype = np.dtype(_DTYPES[dtype_name])
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if offsets[1] - offsets[0] != size:
        raise WeightsFileError(f"load: {where}: tensor {name!r} declares shape {tuple(shape)} ({size} bytes) "
                               f"but its data_offsets span {offsets[1] - offsets[0]} bytes (corrupt)")
    return dtype, tuple(shape), offsets[0], offsets[1]


def read_safetensors(path: Source, budget: SizeBudget) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``({name: array}, metadata)`` from the safetensors file at ``path`` (or an ``io.BytesIO``).

    Example:
        >>> import dendrite
        >>> _ = dendrite.save({"w": dendrite.ones(2)}, "w.safetensors")
        >>> from pathlib import Path
        >>> read_safetensors(Path("w.safetensors"), SizeBudget("w.safetensors"))[0]["w"]
        array([1., 1.], dtype=float32)
    """
    where = describe(path)
    file_size = size_of(path)
    with open_binary(path) as handle:
        length = int.from_bytes(handle.read(8), "little")
        if not 2 <= length <= min(_MAX_HEADER, file_size - 8):
            raise WeightsFileError(f"load: {where}: the safetensors header claims {length} bytes of a "
                                   f"{file_size}-byte file (truncated or corrupt)")
        try:
            header = json.loads(handle.read(length).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise WeightsFileError(f"load: {where}: the safetensors header is not JSON (corrupt): "
                                   f"{error}") from None
        if not isinstance(header, dict):
            raise WeightsFileError(f"load: {where}: the safetensors header is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise WeightsFileError(f"load: {where}: __metadata__ must map strings to strings")
        data_start, data_size = 8 + length, file_size - 8 - length
        entries = {name: _entry(name, entry, data_size, where) for name, entry in header.items()}
        spans = sorted((begin, end, name) for name, (_, _, begin, end) in entries.items() if end > begin)
        for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
            if begin < end:
                raise WeightsFileError(f"load: {where}: tensors {first!r} and {second!r} overlap in the file "
                                       "(corrupt or crafted)")
        arrays = {}
        for name, (dtype, shape, begin, end) in entries.items():
            bf16 = header[name]["dtype"] == "BF16"
            count = (end - begin) // dtype.itemsize
            budget.take(name, count * (4 if bf16 else dtype.itemsize))
            handle.seek(data_start + begin)
            arrays[name] = (_read_bf16(handle, count, shape, where) if bf16
                            else _read_plain(handle, dtype, shape, where))
    return arrays, metadata


def _read_plain(handle, dtype: np.dtype, shape: tuple, where: str) -> np.ndarray:
    array = np.empty(shape, dtype=dtype)
    view = array.reshape(-1).view(np.uint8)
    if handle.readinto(memoryview(view)) != view.size:
        raise WeightsFileError(f"load: {where} ends early (truncated)")
    return array if dtype.isnative else array.byteswap(inplace=True).view(dtype.newbyteorder("="))


def _read_bf16(handle, count: int, shape: tuple, where: str) -> np.ndarray:
    """bfloat16 is the top half of a float32: shift each 16-bit pattern up, a chunk at a time."""
    result = np.empty(count, dtype=np.float32)
    bits = result.view(np.uint32)
    for start in range(0, count, _CHUNK):
        chunk = np.frombuffer(handle.read(2 * min(_CHUNK, count - start)), dtype="<u2")
        if chunk.size != min(_CHUNK, count - start):
            raise WeightsFileError(f"load: {where} ends early (truncated)")
        bits[start: start + chunk.size] = chunk.astype(np.uint32) << 16
    return result.reshape(shape)
