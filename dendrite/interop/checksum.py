"""A SHA-256 of the named arrays, stored in the files dendrite writes, so a flipped bit is noticed.

The digest covers each entry's name, dtype, shape and bytes, in name order, so it does not depend
on the file format or on the order of entries in the file. ``.npz`` files keep it in the zip
comment (``dendrite-sha256:<hex>``), ``.safetensors`` files in the header metadata
(``dendrite.sha256``). Files without one (older dendrite, NumPy, PyTorch) load unchecked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

__all__ = ["METADATA_KEY", "ZIP_COMMENT_PREFIX", "digest"]

METADATA_KEY = "dendrite.sha256"
ZIP_COMMENT_PREFIX = b"dendrite-sha256:"


def digest(arrays: Mapping[str, np.ndarray]) -> str:
    """The hex SHA-256 of ``arrays`` (native byte order, C order).

    Example:
        >>> import numpy as np
        >>> digest({"w": np.zeros(2)}) == digest({"w": np.zeros(2, order="C")})
        True
        >>> digest({"w": np.zeros(2)}) == digest({"w": np.zeros(3)})
        False
    """
    hasher = hashlib.sha256()
    for name in sorted(arrays):
        array = arrays[name]
        hasher.update(f"{name}\0{array.dtype.newbyteorder('=').str}\0{array.shape}\0".encode())
        hasher.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8).data)
    return hasher.hexdigest()
