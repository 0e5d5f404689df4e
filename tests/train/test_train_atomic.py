"""Atomic writes: complete new file or untouched old file, never a temporary file left behind."""

from __future__ import annotations

import os
import stat

import pytest

from dendrite.utils.atomic import atomic_path, atomic_write, atomic_write_bytes, atomic_write_text


def _leftovers(folder):
    return sorted(name for name in os.listdir(folder) if ".tmp" in name)


def test_write_text_and_bytes(tmp_path):
    target = tmp_path / "a.txt"
    assert atomic_write_text(target, "hello") == target
    assert target.read_text() == "hello"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_failure_inside_block_keeps_previous_file_and_cleans_up(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old contents")
    with pytest.raises(RuntimeError, match="disk full"), atomic_write(target, "wb") as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == []


def test_failure_in_rename_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "data.txt"
    target.write_text("old")

    def broken_replace(source, destination):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_atomic_path_keeps_suffix_and_requires_the_writer_to_create_it(tmp_path):
    target = tmp_path / "weights.npz"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith(".npz")
        temporary.write_bytes(b"x")
    assert target.read_bytes() == b"x"
    with pytest.raises(FileNotFoundError, match="did not create"):
        with atomic_path(tmp_path / "other.npz") as temporary:
            temporary.unlink()
    assert _leftovers(tmp_path) == [] and not (tmp_path / "other.npz").exists()


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_text(tmp_path / "nope" / "a.txt", "x")


def test_new_file_gets_normal_permissions_and_existing_keeps_its_own(tmp_path):
    fresh = atomic_write_text(tmp_path / "fresh.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    existing = tmp_path / "script.sh"
    existing.write_text("old")
    existing.chmod(0o751)
    atomic_write_text(existing, "new")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o751


def test_text_mode_rejects_unknown_modes(tmp_path):
    with pytest.raises(ValueError, match="'w' or 'wb'"), atomic_write(tmp_path / "x", "a"):
        pass
