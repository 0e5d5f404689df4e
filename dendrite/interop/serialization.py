"""``save`` and ``load``: weights on disk, written atomically and never unpickled.

Formats (``save`` goes by the suffix, ``load`` by the file's first bytes):

* ``.safetensors`` — the safetensors format (needs the ``safetensors`` package;
  files written by PyTorch's ``safetensors.torch.save_file`` load too);
* ``.npz`` — NumPy's zip of ``.npy`` arrays; object arrays are refused, never unpickled;
* ``.pt`` / ``.pth`` — PyTorch files, read only, without torch and without unpickling: the
  pickle's opcodes are interpreted and anything but tensors and plain containers is refused
  (:mod:`dendrite.interop.torch_reader`).

A write goes to a temporary file in the same folder, is flushed and fsynced,
then renamed over the target: a crash mid-save leaves the previous file intact,
and a failed save leaves no temporary file behind.

Only numbers are stored: bool, integer and floating-point arrays. Object arrays
are refused when saving (they would need pickle) and when loading.

Loading never trusts the file: declared sizes are checked against the file and against a limit
(:mod:`dendrite.interop.file_limits`, 4 GiB per tensor and per file by default, ``max_bytes=``)
before anything is allocated, and the SHA-256 that dendrite stores in its own files
(:mod:`dendrite.interop.checksum`) is verified.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dendrite.interop.checksum import METADATA_KEY, ZIP_COMMENT_PREFIX, digest
from dendrite.interop.file_limits import SizeBudget, WeightsFileError, sniff_format
from dendrite.interop.npz_reader import read_npz
from dendrite.interop.safetensors_reader import read_safetensors
from dendrite.interop.torch_reader import read_torch
from dendrite.tensor import Tensor, wrap
from dendrite.utils.atomic import atomic_path

__all__ = ["save", "load", "WeightsFileError"]

_SUFFIXES = (".safetensors", ".npz", ".pt", ".pth")
_KINDS = "biuf"  # bool, signed and unsigned integers, floating point: what every format stores


def _describe(path: Path) -> str:
    return repr(str(path))


def _host_array(value, key: str) -> np.ndarray:
    """``value`` as a C-contiguous, native-byte-order NumPy array that is a copy (never a view)."""
    if isinstance(value, Tensor):
        array = np.asarray(value.array)
    elif isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (bool, int, float, np.number, np.bool_)):
        array = np.asarray(value)
    else:
        raise TypeError(f"save: value for key {key!r} is a {type(value).__name__}; "
                        "expected a tensor or array")
    if array.dtype.kind not in _KINDS:
        raise TypeError(
            f"save: value for key {key!r} has dtype {array.dtype}; only bool, integer and floating-point "
            "arrays can be saved (object arrays would need pickle)"
        )
    # Always a fresh C-ordered copy: safetensors (some versions) silently writes the wrong bytes for
    # non-contiguous views, and np.ascontiguousarray would turn a 0-d array into shape (1,).
    return np.array(array, dtype=array.dtype.newbyteorder("="), order="C", copy=True)


def _suffix(path: Path, action: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(
            f"{action}: cannot tell the format of {_describe(path)} from its suffix {path.suffix!r}; "
            f"expected one of {', '.join(_SUFFIXES)}"
        )
    return suffix


def save(state_dict: Mapping, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> Path:
    """Save a ``{name: tensor or array}`` mapping (e.g. ``model.state_dict()``) to ``path``.

    The suffix picks the format: ``.safetensors`` (``metadata``, a ``{str: str}`` mapping, is
    stored in its header) or ``.npz``. The file is replaced atomically. Returns the path.

    Example:
        >>> import dendrite
        >>> _ = dendrite.save({"w": dendrite.ones(2)}, "w.npz")
        >>> dendrite.load("w.npz")["w"]
        tensor([1., 1.])
    """
    path = Path(path)
    suffix = _suffix(path, "save")
    if suffix in (".pt", ".pth"):
        raise ValueError(
            f"save: dendrite does not write PyTorch pickle files ({_describe(path)}); use .safetensors "
            "or .npz (PyTorch reads both: safetensors.torch.load_file or numpy.load)"
        )
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save: expected a mapping of names to tensors, got {type(state_dict).__name__}")
    if metadata is not None:
        if suffix != ".safetensors":
            raise ValueError(f"save: metadata is stored only in .safetensors files, not in {_describe(path)}")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: metadata must map strings to strings")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: keys must be non-empty strings, got {key!r}")
        arrays[key] = _host_array(value, key)
    if suffix == ".safetensors":
        try:
            from safetensors.numpy import save_file
        except ImportError:
            raise ImportError('save: writing .safetensors needs the safetensors package: '
                              'pip install "dendrite[io]" (or save as .npz)') from None
        stored = {**dict(metadata or {}), METADATA_KEY: digest(arrays)}
        with atomic_path(path) as temporary:
            save_file(arrays, str(temporary), metadata=stored)
    else:
        with atomic_path(path) as temporary:
            _write_npz(temporary, arrays)
    return path


def _write_npz(path: Path, arrays: dict) -> None:
    """What ``numpy.savez`` writes, without its keyword clashes (a key named ``file``) or pickling,
    plus the arrays' SHA-256 in the zip comment."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.comment = ZIP_COMMENT_PREFIX + digest(arrays).encode()
        for key, array in arrays.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def load(path: str | os.PathLike, max_bytes: int | None = None) -> dict[str, Tensor]:
    """Load a weights file written by dendrite or PyTorch into ``{name: Tensor}``.

    The format is told by the file's first bytes, not its name: safetensors, ``.npz``, or
    PyTorch's ``.pt``/``.pth`` (read without torch and without unpickling; see
    :mod:`dendrite.interop.torch_reader`).
    Raises :class:`WeightsFileError` naming the file (and the key, where one is at fault)
    when it is truncated, corrupt, fails its checksum, holds pickled objects, is not a file of
    named weights, or declares a tensor larger than ``max_bytes`` (per tensor and for the whole file;
    ``None``: :data:`dendrite.interop.file_limits.DEFAULT_MAX_BYTES`, 4 GiB) -- checked before allocating.
    ``bfloat16`` tensors (safetensors ``BF16``, PyTorch ``torch.bfloat16``) are widened to float32,
    exactly (NumPy has no bfloat16).

    Example:
        >>> import dendrite
        >>> _ = dendrite.save({"b": dendrite.zeros(3)}, "b.npz")
        >>> dendrite.load("b.npz")["b"].shape
        (3,)
    """
    path = Path(path)
    _suffix(path, "load")
    if not path.exists():
        raise FileNotFoundError(f"load: no such file {_describe(path)}")
    if not path.is_file():
        raise WeightsFileError(f"load: {_describe(path)} is not a file")
    budget = SizeBudget(path, max_bytes)
    try:
        kind = sniff_format(path)
        if kind == "safetensors":
            arrays, metadata = read_safetensors(path, budget)
            expected = metadata.get(METADATA_KEY)
        elif kind == "npz":
            arrays, expected = read_npz(path, budget), _zip_checksum(path)
        else:
            arrays, expected = _load_torch(path, budget), None
    except (WeightsFileError, ImportError):
        raise
    except Exception as error:  # zipfile, OSError, torch: all mean "not a sound weights file"
        raise WeightsFileError(
            f"load: {_describe(path)} is not a readable weights file (truncated or corrupt?): "
            f"{type(error).__name__}: {error}"
        ) from error
    if expected is not None and expected != digest(arrays):
        raise WeightsFileError(
            f"load: {_describe(path)} fails its SHA-256 checksum: its contents changed after dendrite wrote "
            "it (a flipped bit, a damaged disk or copy); restore it from a good copy"
        )
    return {key: wrap(value) for key, value in arrays.items()}


def _zip_checksum(path: Path) -> str | None:
    with zipfile.ZipFile(path) as archive:
        comment = archive.comment
    if not comment.startswith(ZIP_COMMENT_PREFIX[:8]):
        return None  # not written by dendrite (or by a version before checksums)
    checksum = comment[len(ZIP_COMMENT_PREFIX):].decode("ascii", "replace")
    if not comment.startswith(ZIP_COMMENT_PREFIX) or len(checksum) != 64:
        raise WeightsFileError(f"load: {_describe(path)}: its checksum record {comment[:90]!r} is damaged")
    return checksum


def _load_torch(path: Path, budget: SizeBudget) -> dict:
    state = read_torch(path, budget)
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise WeightsFileError(f"load: {_describe(path)} holds a {type(state).__name__}, not a state_dict")
    arrays = {}
    for key, value in state.items():
        if not isinstance(value, np.ndarray):
            hint = (" (a training checkpoint? save model.state_dict() on its own)"
                    if isinstance(value, Mapping) else "")
            raise WeightsFileError(
                f"load: {_describe(path)}: entry {key!r} is a {type(value).__name__}, not a tensor{hint}"
            )
        arrays[str(key)] = value
    return arrays
