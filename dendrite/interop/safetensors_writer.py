"""Write a ``.safetensors`` file by hand: a JSON header, then every array's bytes, back to back.

The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
the JSON header ``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
{str: str}}`` padded with spaces to a multiple of 8 bytes, then the data, each tensor's bytes
little-endian and C-ordered at its offsets, with no gaps. dendrite writes it itself so that saving
needs no optional package; the ``safetensors`` package and PyTorch read the result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import BinaryIO

import numpy as np

__all__ = ["write_safetensors"]

_NAMES = {"b1": "BOOL", "u1": "U8", "i1": "I8", "u2": "U16", "i2": "I16", "f2": "F16", "u4": "U32",
          "i4": "I32", "f4": "F32", "u8": "U64", "i8": "I64", "f8": "F64"}


def write_safetensors(handle: BinaryIO, arrays: Mapping[str, np.ndarray],
                      metadata: Mapping[str, str]) -> None:
    """Write ``arrays`` (C-contiguous, native byte order) and ``metadata`` to the binary ``handle``.

    Example:
        >>> import io
        >>> import numpy as np
        >>> buffer = io.BytesIO()
        >>> write_safetensors(buffer, {"w": np.ones(2, np.float32)}, {"note": "hi"})
        >>> data = buffer.getvalue()
        >>> length = int.from_bytes(data[:8], "little")
        >>> data[8:8 + length]
        b'{"__metadata__":{"note":"hi"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}     '
        >>> np.frombuffer(data[8 + length:], "<f4")
        array([1., 1.], dtype=float32)
    """
    header: dict = {"__metadata__": dict(metadata)} if metadata else {}
    offset = 0
    for name, array in arrays.items():
        code = f"{array.dtype.kind}{array.dtype.itemsize}"
        if code not in _NAMES:
            raise TypeError(f"save: {name!r} has dtype {array.dtype}, which safetensors cannot store")
        header[name] = {"dtype": _NAMES[code], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as the safetensors package writes it
    handle.write(len(text).to_bytes(8, "little"))
    handle.write(text)
    for array in arrays.values():
        if array.size:
            little = array.astype(array.dtype.newbyteorder("<"), copy=False)  # no copy on x86 and ARM
            handle.write(memoryview(np.ascontiguousarray(little).reshape(-1).view(np.uint8)))
