"""``save`` and ``load``: weights on disk, written atomically and never unpickled.

Formats, chosen by the file's suffix:

* ``.safetensors`` — the safetensors format (needs the ``safetensors`` package;
  files written by PyTorch's ``safetensors.torch.save_file`` load too);
* ``.npz`` — NumPy's zip of ``.npy`` arrays, read with ``allow_pickle=False``;
* ``.pt`` / ``.pth`` — PyTorch files, read only (needs torch) and only through
  ``torch.load(weights_only=True)``, which refuses anything but tensors and plain containers.

A write goes to a temporary file in the same folder, is flushed and fsynced,
then renamed over the target: a crash mid-save leaves the previous file intact,
and a failed save leaves no temporary file behind.

Only numbers are stored: bool, integer and floating-point arrays. Object arrays
are refused when saving (they would need pickle) and when loading.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dendrite.tensor import Tensor, wrap
from dendrite.utils.atomic import atomic_path

__all__ = ["save", "load", "WeightsFileError"]

_SUFFIXES = (".safetensors", ".npz", ".pt", ".pth")
_KINDS = "biuf"  # bool, signed and unsigned integers, floating point: what every format stores


class WeightsFileError(ValueError):
    """A weights file that is truncated, corrupt, or not a file of named weights at all.

    Example:
        >>> import dendrite
        >>> _ = open("broken.npz", "w").write("not a zip")
        >>> dendrite.load("broken.npz")
        Traceback (most recent call last):
        ...
        dendrite.interop.serialization.WeightsFileError: load: 'broken.npz' is not a readable ...
    """


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
        with atomic_path(path) as temporary:
            save_file(arrays, str(temporary), metadata=dict(metadata) if metadata else None)
    else:
        with atomic_path(path) as temporary:
            _write_npz(temporary, arrays)
    return path


def _write_npz(path: Path, arrays: dict) -> None:
    """What ``numpy.savez`` writes, without its keyword clashes (a key named ``file``) or pickling."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in arrays.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def load(path: str | os.PathLike) -> dict[str, Tensor]:
    """Load a weights file written by dendrite or PyTorch into ``{name: Tensor}``.

    The suffix picks the reader: ``.safetensors`` (needs the safetensors package), ``.npz``, or
    PyTorch's ``.pt``/``.pth`` (needs torch; read with ``weights_only=True``, never unpickling objects).
    Raises :class:`WeightsFileError` naming the file (and the key, where one is at fault)
    when it is truncated, corrupt, holds pickled objects or is not a file of named weights.
    ``bfloat16`` tensors in PyTorch files are widened to float32 (NumPy has no bfloat16).

    Example:
        >>> import dendrite
        >>> _ = dendrite.save({"b": dendrite.zeros(3)}, "b.npz")
        >>> dendrite.load("b.npz")["b"].shape
        (3,)
    """
    path = Path(path)
    suffix = _suffix(path, "load")
    if not path.exists():
        raise FileNotFoundError(f"load: no such file {_describe(path)}")
    if not path.is_file():
        raise WeightsFileError(f"load: {_describe(path)} is not a file")
    reader = {".safetensors": _load_safetensors, ".npz": _load_npz}.get(suffix, _load_torch)
    try:
        arrays = reader(path)
    except (WeightsFileError, ImportError):
        raise
    except Exception as error:  # each reader has its own error types; all mean "not a weights file"
        raise WeightsFileError(
            f"load: {_describe(path)} is not a readable {suffix} weights file (truncated or corrupt?): "
            f"{type(error).__name__}: {error}"
        ) from error
    result = {}
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray) or value.dtype.kind not in _KINDS:
            what = f"dtype {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
            raise WeightsFileError(
                f"load: {_describe(path)}: entry {key!r} holds {what}; expected a bool, integer or "
                "floating-point array"
            )
        result[key] = wrap(np.array(value, dtype=value.dtype.newbyteorder("="), copy=True))
    return result


def _load_safetensors(path: Path) -> dict:
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ImportError('load: reading .safetensors needs the safetensors package: '
                          'pip install "dendrite[io]"') from None
    return load_file(str(path))


def _load_npz(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise WeightsFileError(f"load: {_describe(path)} holds a single array, "
                                   "not a set of named weights")
        arrays = {}
        for key in archive.files:
            # A member that is not a .npy comes back as raw bytes; load() refuses it by name.
            arrays[key] = archive[key]
        return arrays


def _load_torch(path: Path) -> dict:
    try:
        import torch
    except ImportError:
        raise ImportError(f'load: reading {path.suffix} files needs PyTorch (pip install "dendrite[torch]"); '
                          "or save the weights from PyTorch as .safetensors") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # UnpicklingError for unsafe content, RuntimeError for broken archives
        raise WeightsFileError(
            f"load: {_describe(path)} could not be read as PyTorch weights (truncated, corrupt, or holding "
            f"objects other than tensors, which are never unpickled): {type(error).__name__}: {error}"
        ) from error
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise WeightsFileError(f"load: {_describe(path)} holds a {type(state).__name__}, not a state_dict")
    arrays = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            hint = (" (a training checkpoint? save model.state_dict() on its own)"
                    if isinstance(value, Mapping) else "")
            raise WeightsFileError(
                f"load: {_describe(path)}: entry {key!r} is a {type(value).__name__}, not a tensor{hint}"
            )
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            value = value.float()
        arrays[str(key)] = value.contiguous().numpy()
    return arrays
