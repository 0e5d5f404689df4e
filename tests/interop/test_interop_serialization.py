"""dendrite.save / dendrite.load: exact round trips, atomic writes, and refusal of bad or unsafe files."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import dendrite
from dendrite.interop import serialization
from dendrite.interop.serialization import WeightsFileError

SUFFIXES = [".safetensors", ".npz"]
DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_]


def _arrays(dtype) -> dict:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 5)) * 50
    if np.dtype(dtype).kind == "f":
        base[0, :3] = [np.nan, -0.0, np.inf]  # bit patterns that value comparisons would miss
    full = base.astype(dtype) if dtype is not np.bool_ else base > 0
    return {
        "matrix": full,
        "transposed": full.T,  # non-contiguous
        "strided": full[::2, 1::2],  # non-contiguous, with an offset into the base array
        "column": full[:, 3],
        "fortran": np.asfortranarray(full),
        "scalar": full[1, 1].copy().reshape(()),
        "empty": full[:0],
    }


def _bits(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


def _no_temporaries(folder) -> None:
    leftovers = [name for name in os.listdir(folder) if name.endswith(".tmp") or ".tmp." in name]
    assert leftovers == [], f"temporary files left behind: {leftovers}"


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_trip_is_bit_identical(tmp_path, suffix, dtype):
    arrays = _arrays(dtype)
    path = tmp_path / f"weights{suffix}"
    # one entry as a dendrite tensor, the others as NumPy arrays: save takes both
    dendrite.save({key: dendrite.tensor(value) if key == "matrix" else value
                   for key, value in arrays.items()}, path)
    loaded = dendrite.load(path)
    assert sorted(loaded) == sorted(arrays)
    for key, expected in arrays.items():
        got = loaded[key].numpy()
        assert got.dtype == expected.dtype, key
        assert got.shape == expected.shape, key
        assert _bits(got) == _bits(expected), f"{key}: bytes differ after the round trip"
    _no_temporaries(tmp_path)


def test_big_endian_arrays_round_trip_by_value(tmp_path):
    value = np.arange(6, dtype=">f4").reshape(2, 3)
    path = dendrite.save({"w": value}, tmp_path / "w.safetensors")
    np.testing.assert_array_equal(dendrite.load(path)["w"].numpy(), value)


def _small_model():
    nn = dendrite.nn
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Linear(6, 2))


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_model_state_dict_round_trip(tmp_path, suffix):
    dendrite.manual_seed(0)
    model = _small_model()
    model(dendrite.randn(8, 4))  # moves the running statistics and num_batches_tracked
    model.eval()
    path = dendrite.save(model.state_dict(), tmp_path / f"model{suffix}")
    twin = _small_model()
    twin.load_state_dict(dendrite.load(path))
    twin.eval()
    x = dendrite.randn(3, 4)
    with dendrite.no_grad():
        np.testing.assert_array_equal(twin(x).numpy(), model(x).numpy())
    assert int(twin.state_dict()["1.num_batches_tracked"].item()) == 1


def test_npz_keys_that_clash_with_numpy_savez_arguments(tmp_path):
    values = {"file": np.ones(2), "allow_pickle": np.zeros(3), "args": np.arange(4)}
    loaded = dendrite.load(dendrite.save(values, tmp_path / "w.npz"))
    assert {k: v.numpy().tolist() for k, v in loaded.items()} == {k: v.tolist() for k, v in values.items()}


def test_safetensors_metadata_is_stored(tmp_path):
    from safetensors import safe_open

    path = dendrite.save({"w": np.ones(2, np.float32)}, tmp_path / "w.safetensors", metadata={"epoch": "3"})
    with safe_open(str(path), "np") as handle:
        stored = handle.metadata()
    assert stored.pop("dendrite.sha256") and stored == {"epoch": "3"}  # the checksum rides along
    with pytest.raises(ValueError, match="metadata"):
        dendrite.save({"w": np.ones(2)}, tmp_path / "w.npz", metadata={"epoch": "3"})


# ----------------------------------------------------------------------------- refusing bad input
@pytest.mark.parametrize("suffix", SUFFIXES + [".pt"])
def test_truncated_file_names_the_file(tmp_path, suffix):
    path = tmp_path / f"truncated{suffix}"
    weights = {"w": np.arange(1000, dtype=np.float32), "b": np.ones(10, np.float32)}
    if suffix == ".pt":
        import torch

        torch.save({k: torch.from_numpy(v) for k, v in weights.items()}, path)
    else:
        dendrite.save(weights, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsFileError, match="truncated"):
        dendrite.load(path)
    with pytest.raises(WeightsFileError) as info:
        dendrite.load(path)
    assert "truncated" + suffix in str(info.value)


@pytest.mark.parametrize("suffix", SUFFIXES + [".pt", ".pth"])
def test_random_bytes_name_the_file(tmp_path, suffix):
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(WeightsFileError) as info:
        dendrite.load(path)
    assert f"noise{suffix}" in str(info.value)


class _Payload:
    """Unpickling this runs code: it creates the marker file. A safe loader never does."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def test_npz_with_object_array_is_refused_not_unpickled(tmp_path):
    marker = tmp_path / "was_unpickled"
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.ones(3), evil=np.array([_Payload(str(marker))], dtype=object))
    with pytest.raises(WeightsFileError, match="evil.npz"):
        dendrite.load(path)
    assert not marker.exists(), "the object array was unpickled"


def test_npz_member_that_is_not_an_array_is_refused(tmp_path):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", b"hello")
    with pytest.raises(WeightsFileError, match="notes.txt"):
        dendrite.load(path)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy-pickle"])
def test_pickle_bomb_pt_file_is_refused(tmp_path, legacy):
    import torch

    marker = tmp_path / "was_unpickled"
    path = tmp_path / "bomb.pt"
    payload = {"w": torch.ones(2), "evil": _Payload(str(marker))}
    if legacy:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path)
    with pytest.raises(WeightsFileError, match="bomb.pt"):
        dendrite.load(path)
    assert not marker.exists(), "the payload ran while loading"


def test_pt_training_checkpoint_is_explained(tmp_path):
    import torch

    path = tmp_path / "checkpoint.pt"
    torch.save({"model": {"w": torch.ones(2)}, "epoch": torch.tensor(3)}, path)
    with pytest.raises(WeightsFileError, match="'model' is a dict.*training checkpoint"):
        dendrite.load(path)


def test_pt_state_dict_and_bfloat16(tmp_path):
    import torch

    path = tmp_path / "w.pth"
    torch.save({"state_dict": {"w": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
                               "i": torch.arange(3)}}, path)
    loaded = dendrite.load(path)
    assert loaded["w"].dtype == np.float32 and loaded["w"].tolist() == [1.5, -2.0]
    assert loaded["i"].dtype == np.int64 and loaded["i"].tolist() == [0, 1, 2]


def test_missing_file_and_any_suffix(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.npz"):
        dendrite.load(tmp_path / "nothere.npz")
    with pytest.raises(FileNotFoundError, match=r"weights\.bin"):
        dendrite.load(tmp_path / "weights.bin")
    # Any name is written, in dendrite's own safetensors-based format (never a pickle).
    for name in ("w.pt", "w.bin", "w"):
        path = dendrite.save({"w": np.ones(1)}, tmp_path / name)
        assert path.read_bytes()[8:9] == b"{" and dendrite.load(path)["w"].tolist() == [1.0]


@pytest.mark.parametrize("value, message", [
    (np.array([object()], dtype=object), "dtype object"),
    (np.array(["a", "b"]), "dtype <U1"),
    ("text", "str"),
])
def test_save_refuses_non_numeric_values(tmp_path, value, message):
    with pytest.raises(TypeError, match=message):
        dendrite.save({"bad": value}, tmp_path / "w.npz")
    assert not (tmp_path / "w.npz").exists()
    _no_temporaries(tmp_path)


def test_save_refuses_non_string_keys(tmp_path):
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        dendrite.save({3: np.ones(1)}, tmp_path / "w.npz")


# ----------------------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"weights{suffix}"
    dendrite.save({"w": np.arange(4, dtype=np.float32)}, path)
    before = path.read_bytes()

    def broken_writer(*args, **kwargs):
        target = next(arg for arg in args if isinstance(arg, (str, os.PathLike)))
        with open(target, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("disk full")

    def broken_stream_writer(handle, *args, **kwargs):
        handle.write(b"half a file")
        raise OSError("disk full")

    if suffix == ".npz":
        monkeypatch.setattr(serialization, "_write_npz", broken_writer)
    else:
        monkeypatch.setattr(serialization, "write_safetensors", broken_stream_writer)
    with pytest.raises(OSError, match="disk full"):
        dendrite.save({"w": np.zeros(4, dtype=np.float32)}, path)
    assert path.read_bytes() == before
    _no_temporaries(tmp_path)
    np.testing.assert_array_equal(dendrite.load(path)["w"].numpy(), np.arange(4))


# ----------------------------------------------------------------------------- loading into modules
def test_load_state_dict_names_the_misshaped_key_and_both_shapes(tmp_path):
    model = dendrite.nn.Sequential(dendrite.nn.Linear(4, 3), dendrite.nn.Linear(3, 2))
    state = {key: value.numpy() for key, value in model.state_dict().items()}
    state["1.weight"] = np.zeros((5, 3), np.float32)
    path = dendrite.save(state, tmp_path / "w.safetensors")
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(dendrite.load(path))
    message = str(info.value)
    assert "1.weight" in message and "(5, 3)" in message and "(2, 3)" in message


def test_import_dendrite_loads_no_optional_dependency():
    code = ("import sys, dendrite; dendrite.interop; "
            "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime', 'safetensors') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert result.stdout.strip() == "[]"
