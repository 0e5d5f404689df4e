"""Hostile weights files, generated here: each is refused with one clear error before memory is spent.

The corpus: deflate bombs that declare huge arrays, members that are not arrays, damaged zips,
crafted safetensors headers, PyTorch files with expanded (stride-0) views, bit flips, bfloat16
safetensors, and files whose suffix lies about their format. Memory is checked with tracemalloc
(NumPy reports its allocations to it), never with wall time.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import dendrite
from dendrite.interop import file_limits
from dendrite.interop.file_limits import WeightsFileError

MiB = 2**20


def _peak(function, *args, **kwargs):
    """``function``'s peak traced allocation in bytes, and its exception (or None)."""
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        error = None
    except Exception as caught:  # noqa: BLE001 - handed back to the test
        error = caught
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, error


def _npy_header(shape: tuple, descr: str = "<f4") -> bytes:
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def _bomb_npz(path, declared_shape, real_zero_bytes: int, name: str = "w.npy") -> None:
    """A zip whose one member is a crafted .npy header plus ``real_zero_bytes`` of deflated zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(name, _npy_header(declared_shape) + bytes(real_zero_bytes))


@pytest.mark.parametrize("declared, max_bytes, message", [
    ((2**31,), None, r"tensor 'w' needs 8589934592 bytes .* over the limit of 4294967296 .*max_bytes"),
    ((2**28,), 16 * MiB, r"tensor 'w' needs 1073741824 bytes .* over the limit .*max_bytes"),
    ((2**28,), None, r"declares shape \(268435456,\).*holds .* bytes \(truncated or corrupt\)"),
])
def test_deflate_bomb_is_refused_before_allocating(tmp_path, declared, max_bytes, message):
    path = tmp_path / "bomb.npz"
    _bomb_npz(path, declared, 4 * MiB)
    assert path.stat().st_size < 64 * 1024
    peak, error = _peak(dendrite.load, path, max_bytes=max_bytes)
    assert isinstance(error, WeightsFileError) and str(path) in str(error)
    assert pytest.raises(WeightsFileError, dendrite.load, path, max_bytes=max_bytes).match(message)
    assert peak < 2 * MiB, f"the refusal allocated {peak} bytes"


def test_a_real_bomb_within_the_file_is_refused_by_the_limit(tmp_path):
    path = tmp_path / "bomb.npz"
    _bomb_npz(path, (8 * MiB,), 32 * MiB)  # honest: 32 MiB of zeros, 40 KB on disk
    assert path.stat().st_size < 256 * 1024
    peak, error = _peak(dendrite.load, path, max_bytes=8 * MiB)
    assert isinstance(error, WeightsFileError) and "over the limit of 8388608 bytes" in str(error)
    assert peak < 2 * MiB
    assert dendrite.load(path, max_bytes=32 * MiB)["w"].shape == (8 * MiB,)  # raised: it loads


def test_the_total_over_all_tensors_counts_too(tmp_path):
    weights = {"a": np.zeros(1000, np.float32), "b": np.zeros(1000, np.float32)}
    path = dendrite.save(weights, tmp_path / "w.npz")
    with pytest.raises(WeightsFileError, match=r"'b' needs 4000 bytes \(.*\) \(with the 4000 bytes"):
        dendrite.load(path, max_bytes=6000)
    assert set(dendrite.load(path, max_bytes=8000)) == {"a", "b"}
    with pytest.raises(ValueError, match="max_bytes must be a non-negative int"):
        dendrite.load(path, max_bytes=-1)


def test_the_module_default_can_be_raised(tmp_path, monkeypatch):
    path = dendrite.save({"a": np.zeros(1000, np.float32)}, tmp_path / "w.npz")
    monkeypatch.setattr(file_limits, "DEFAULT_MAX_BYTES", 100)
    with pytest.raises(WeightsFileError, match="limit of 100 bytes"):
        dendrite.load(path)
    monkeypatch.setattr(file_limits, "DEFAULT_MAX_BYTES", 4000)
    assert dendrite.load(path)["a"].shape == (1000,)


def test_non_npy_member_is_refused_by_name_without_decompressing(tmp_path):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("w.npy", _npy_header((2,)) + bytes(8))
        archive.writestr("payload.bin", bytes(64 * MiB))
    assert path.stat().st_size < 256 * 1024
    peak, error = _peak(dendrite.load, path)
    assert isinstance(error, WeightsFileError) and "'payload.bin' is not a .npy array" in str(error)
    assert peak < MiB, f"the refused member was decompressed ({peak} bytes)"


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_a_valid_load_keeps_one_copy(tmp_path, suffix):
    path = dendrite.save({"w": np.ones(2 * MiB, np.float32)}, tmp_path / f"w{suffix}")  # 8 MiB
    peak, error = _peak(dendrite.load, path)
    assert error is None
    assert peak < 10 * MiB, f"loading 8 MiB peaked at {peak} bytes (two copies?)"


def _four_keys(tmp_path):
    path = dendrite.save({name: np.arange(100, dtype=np.float32) for name in "abcd"}, tmp_path / "w.npz")
    return path, bytearray(path.read_bytes())


def test_a_damaged_central_directory_that_lists_one_key_is_an_error(tmp_path):
    path, data = _four_keys(tmp_path)
    end = data.rindex(b"PK\x05\x06")
    directory_start = struct.unpack_from("<L", data, end + 16)[0]
    first = data.index(b"PK\x01\x02", directory_start)
    second = data.index(b"PK\x01\x02", first + 4)
    # Keep only the last directory entry: the end record says 1 entry, the directory is shorter.
    kept = data[second:end]
    last = kept.rindex(b"PK\x01\x02")
    kept = kept[last:]
    fixed = data[:directory_start] + kept + data[end:]
    new_end = directory_start + len(kept)
    struct.pack_into("<HHLL", fixed, new_end + 8, 1, 1, len(kept), directory_start)
    path.write_bytes(bytes(fixed))
    with pytest.raises(WeightsFileError, match=r"w\.npz.*zip directory is damaged.*to no listed member"):
        dendrite.load(path)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95, 0.999])
def test_truncated_npz_is_an_error(tmp_path, cut):
    path, data = _four_keys(tmp_path)
    path.write_bytes(bytes(data[: int(len(data) * cut)]))
    with pytest.raises(WeightsFileError, match="w.npz"):
        dendrite.load(path)


def _safetensors(path, header: dict, data: bytes) -> None:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


@pytest.mark.parametrize("header, data, message", [
    ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
      "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}, bytes(24), "'a' and 'b' overlap"),
    ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8), "outside the 8 data bytes"),
    ({"a": {"dtype": "F32", "shape": [2**40], "data_offsets": [0, 2**42]}}, bytes(8), "outside the 8 data"),
    ({"a": {"dtype": "F32", "shape": [2**40], "data_offsets": [0, 8]}}, bytes(8), "declares shape"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 8]}}, bytes(8), "non-negative ints"),
    ({"a": {"dtype": "OBJ", "shape": [1], "data_offsets": [0, 8]}}, bytes(8), "dtype 'OBJ'"),
    ({"a": {"dtype": "F32", "shape": [2]}}, bytes(8), "lacks dtype, shape or data_offsets"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"k": 1}}, bytes(8),
     "__metadata__ must map strings to strings"),
])
def test_crafted_safetensors_headers_are_refused(tmp_path, header, data, message):
    path = tmp_path / "crafted.safetensors"
    _safetensors(path, header, data)
    peak, error = _peak(dendrite.load, path)
    assert isinstance(error, WeightsFileError), error
    assert message in str(error) and "crafted.safetensors" in str(error)
    assert peak < MiB


def test_safetensors_header_length_beyond_the_file_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", 2**40) + b'{"a": 1}')
    with pytest.raises(WeightsFileError, match="w.safetensors"):
        dendrite.load(path)


def test_huge_safetensors_tensor_is_refused_by_the_limit(tmp_path):
    path = tmp_path / "w.safetensors"
    _safetensors(path, {"a": {"dtype": "F32", "shape": [1024, 1024], "data_offsets": [0, 4 * MiB]}},
                 bytes(4 * MiB))
    with pytest.raises(WeightsFileError, match=r"'a' needs 4194304 bytes.*max_bytes"):
        dendrite.load(path, max_bytes=MiB)
    assert dendrite.load(path)["a"].shape == (1024, 1024)


def test_bf16_safetensors_load_as_float32(tmp_path):
    import torch
    from safetensors.torch import save_file

    values = torch.tensor([[1.5, -2.25, 3e38], [float("inf"), -0.0, 1e-3]], dtype=torch.bfloat16)
    save_file({"w": values, "i": torch.arange(3)}, str(tmp_path / "w.safetensors"))
    loaded = dendrite.load(tmp_path / "w.safetensors")
    assert loaded["w"].dtype == np.float32 and loaded["w"].shape == (2, 3)
    np.testing.assert_array_equal(loaded["w"].numpy(), values.float().numpy())
    assert loaded["i"].tolist() == [0, 1, 2]
    # by hand too: bfloat16 1.0 is 0x3F80
    _safetensors(tmp_path / "h.safetensors", {"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}},
                 struct.pack("<2H", 0x3F80, 0xC000))
    assert dendrite.load(tmp_path / "h.safetensors")["x"].tolist() == [1.0, -2.0]


def test_format_is_told_by_content_not_by_name(tmp_path):
    weights = {"w": np.arange(3, dtype=np.float32)}
    dendrite.save(weights, tmp_path / "real.safetensors").rename(tmp_path / "liar.npz")
    assert dendrite.load(tmp_path / "liar.npz")["w"].tolist() == [0, 1, 2]
    dendrite.save(weights, tmp_path / "real.npz").rename(tmp_path / "liar.safetensors")
    assert dendrite.load(tmp_path / "liar.safetensors")["w"].tolist() == [0, 1, 2]
    np.save(tmp_path / "one.npy", np.ones(2))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(WeightsFileError, match="single .npy array"):
        dendrite.load(tmp_path / "one.npz")
    (tmp_path / "text.npz").write_text("hello, world")
    with pytest.raises(WeightsFileError, match="neither a zip .* nor a safetensors file"):
        dendrite.load(tmp_path / "text.npz")


@pytest.mark.parametrize("size, max_bytes, refused", [
    (2**31, None, True),      # 8 GiB once expanded, from a 1.6 KB file
    (2**28, MiB, True),       # 1 GiB
    (1000, None, False),      # small: materialized, as torch.load would show it
])
def test_expanded_pt_view_is_materialized_only_within_the_limit(tmp_path, size, max_bytes, refused):
    import torch

    path = tmp_path / "expanded.pt"
    torch.save({"w": torch.full((1,), 2.5).expand(size)}, path)
    assert path.stat().st_size < 4096
    peak, error = _peak(dendrite.load, path, max_bytes=max_bytes)
    if refused:
        assert isinstance(error, WeightsFileError), error
        assert f"tensor 'w' needs {4 * size} bytes" in str(error) and "max_bytes" in str(error)
        assert peak < 2 * MiB
    else:
        assert error is None
        loaded = dendrite.load(path)["w"]
        assert loaded.shape == (size,) and (loaded.numpy() == 2.5).all()


def test_pt_storage_larger_than_the_limit_is_refused_before_torch_reads_it(tmp_path):
    import torch

    path = tmp_path / "big.pt"
    torch.save({"w": torch.zeros(MiB)}, path)  # one 4 MiB storage
    with pytest.raises(WeightsFileError, match=r"storage .*data/0' needs 4194304 bytes"):
        dendrite.load(path, max_bytes=MiB)


def test_old_files_without_a_checksum_still_load(tmp_path):
    np.savez(tmp_path / "numpy.npz", w=np.ones(3))
    assert dendrite.load(tmp_path / "numpy.npz")["w"].tolist() == [1, 1, 1]
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez_compressed(tmp_path / "packed.npz", f=fortran, s=np.float64(2.5), big=np.arange(3, dtype=">i4"))
    loaded = dendrite.load(tmp_path / "packed.npz")
    assert loaded["f"].tolist() == fortran.tolist() and loaded["s"].shape == () and loaded["s"].item() == 2.5
    assert loaded["big"].tolist() == [0, 1, 2] and loaded["big"].dtype == np.int32
    with open(tmp_path / "streamed.npz", "wb") as raw:  # a writer that cannot seek adds data descriptors
        with zipfile.ZipFile(_Unseekable(raw), "w") as archive, archive.open("w.npy", "w") as member:
            np.lib.format.write_array(member, np.ones(2))
    with zipfile.ZipFile(tmp_path / "streamed.npz") as archive:
        assert archive.getinfo("w.npy").flag_bits & 0x08
    assert dendrite.load(tmp_path / "streamed.npz")["w"].tolist() == [1, 1]
    from safetensors.numpy import save_file

    save_file({"w": np.ones(3, np.float32)}, str(tmp_path / "plain.safetensors"))
    assert dendrite.load(tmp_path / "plain.safetensors")["w"].tolist() == [1, 1, 1]


class _Unseekable:
    def __init__(self, raw) -> None:
        self.raw = raw

    def write(self, data) -> int:
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _rewrite_npz_with_flip(path, member: str, offset: int) -> None:
    """Flip one bit inside ``member`` and write the zip again with fresh CRCs: only a checksum can tell."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: bytearray(archive.read(info)) for info in archive.infolist()}
        comment = archive.comment
    members[member][offset] ^= 0x10
    with zipfile.ZipFile(path, "w") as archive:
        archive.comment = comment
        for name, data in members.items():
            archive.writestr(name, bytes(data))


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_a_bit_flip_fails_the_checksum(tmp_path, suffix):
    path = dendrite.save({"w": np.arange(64, dtype=np.float32), "b": np.ones(4)}, tmp_path / f"w{suffix}")
    data = bytearray(path.read_bytes())
    if suffix == ".npz":
        _rewrite_npz_with_flip(path, "w.npy", 200)
    else:
        data[-40] ^= 0x01  # inside the data section
        path.write_bytes(bytes(data))
    with pytest.raises(WeightsFileError, match=rf"w\{suffix}' fails its SHA-256 checksum"):
        dendrite.load(path)


def test_bit_flips_anywhere_in_the_arrays_are_caught(tmp_path):
    path = dendrite.save({"w": np.arange(256, dtype=np.float32)}, tmp_path / "w.npz")
    good = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("w.npy")
    name_length, extra_length = struct.unpack_from("<HH", good, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length  # the member's bytes: .npy header and data
    rng = np.random.default_rng(0)
    for position in rng.integers(start, start + info.compress_size, size=12):
        flipped = bytearray(good)
        flipped[position] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(flipped))
        with pytest.raises(WeightsFileError, match="w.npz"):
            dendrite.load(path)


def _patch_pickle(path, old: bytes, new: bytes) -> None:
    """Rewrite ``data.pkl`` inside a torch zip with ``old`` replaced by ``new`` (a crafted file)."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = next(name for name in members if name.endswith("data.pkl"))
    assert members[name].count(old) == 1
    members[name] = members[name].replace(old, new)
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)


def test_pt_view_outside_its_storage_is_refused(tmp_path):
    import torch

    path = tmp_path / "view.pt"
    torch.save({"w": torch.arange(8.0)[2:5]}, path)  # storage of 8, offset 2, size 3
    assert dendrite.load(path)["w"].tolist() == [2.0, 3.0, 4.0]
    _patch_pickle(path, b"K\x03\x85", b"K\x09\x85")  # size (9,) from offset 2
    with pytest.raises(WeightsFileError, match="tensor 'w' reaches outside its storage"):
        dendrite.load(path)


def test_pt_naming_any_other_global_is_refused_by_name_without_importing_it(tmp_path):
    import torch

    path = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(2)}, path)
    _patch_pickle(path, b"collections\nOrderedDict", b"posix\nsystem")  # protocol 2: no frame lengths to fix
    with pytest.raises(WeightsFileError, match=r"evil\.pt': it names posix\.system; .*never unpickles"):
        dendrite.load(path)


def test_pt_files_load_without_torch_being_imported(tmp_path):
    import torch

    torch.save({"w": torch.ones(2, 3), "b": torch.zeros(3, dtype=torch.bfloat16)}, tmp_path / "w.pt")
    code = ("import sys, dendrite; w = dendrite.load(sys.argv[1]); "
            "assert 'torch' not in sys.modules, 'torch was imported'; print(w['w'].shape, w['b'].dtype)")
    repository = str(Path(__file__).resolve().parents[2])
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "w.pt")], capture_output=True,
                            text=True, timeout=120, cwd=repository)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["(2,", "3)", "float32"]
