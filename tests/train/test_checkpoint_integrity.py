"""Damaged and crafted training checkpoints, optimizer state that does not fit, and saves killed midway.

Every malformed record raises one error type, :class:`CheckpointError`, naming the file; a flipped
bit is caught; a save killed by SIGKILL leaves the old or the new checkpoint whole, and the next
save removes the temporary file the dead process left (never a live process's).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import dendrite
from dendrite import nn, optim
from dendrite.interop.file_limits import WeightsFileError
from dendrite.optim.lr_scheduler import StepLR
from dendrite.train.checkpoint_state import (
    CheckpointError,
    checkpoint_path,
    load_training_state,
    save_training_state,
)

REPO = Path(__file__).resolve().parents[2]


def _objects():
    model = nn.Linear(3, 2)
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    model(dendrite.ones(4, 3)).sum().backward()
    optimizer.step()
    return model, optimizer, StepLR(optimizer, step_size=2)


def _rewrite(folder, change) -> Path:
    """Save a checkpoint, let ``change(meta)`` edit its record, write it back (with a fresh checksum)."""
    save_training_state(folder, *_objects(), epoch=2, extra={"note": "x"})
    path = checkpoint_path(folder)
    arrays = {key: value.numpy() for key, value in dendrite.load(path).items()}
    meta = json.loads(bytes(arrays["__training_state__"]).decode())
    meta = change(meta) or meta
    text = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    arrays["__training_state__"] = np.frombuffer(text, np.uint8)
    dendrite.save(arrays, path)
    return path


def _set(key, value):
    return lambda meta: meta.__setitem__(key, value)


CASES = {
    "no epoch": lambda meta: meta.pop("epoch") and None,
    "epoch a string": _set("epoch", "three"),
    "models a list": _set("models", []),
    "model keys not a list": lambda meta: meta["models"].__setitem__("model", 5),
    "model key without array": lambda meta: meta["models"]["model"].append("ghost"),
    "optimizer state a number": lambda meta: meta["optimizers"].__setitem__("optimizer", 7),
    "optimizer array missing": lambda meta: meta["optimizers"]["optimizer"]["state"].__setitem__(
        "__items__", [[0, {"exp_avg": {"__array__": "state/999", "tensor": True}}]]),
    "optimizer group without params": lambda meta: meta["optimizers"]["optimizer"].__setitem__(
        "param_groups", [{"lr": 0.1}]),
    "optimizer items malformed": lambda meta: meta["optimizers"]["optimizer"]["state"].__setitem__(
        "__items__", [[1]]),
    "scheduler a list": lambda meta: meta["schedulers"].__setitem__("scheduler", [1, 2]),
    "history a list": _set("history", [1, 2]),
    "extra points nowhere": _set("extra", {"__array__": "nope"}),
    "extra tuple of a number": _set("extra", {"__tuple__": 5}),
    "rng garbage": _set("rng", "garbage"),
    "generators a number": _set("generators", 5),
    "record a list": lambda meta: [meta],
    "record not json": lambda meta: b"\xff{not json",
    "unknown format": _set("format", "dendrite.training_state/99"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_record_raises_one_clear_error(tmp_path, case):
    path = _rewrite(tmp_path, CASES[case])
    with pytest.raises(CheckpointError) as info:
        load_training_state(tmp_path, *_objects())
    assert str(path) in str(info.value)
    assert isinstance(info.value, WeightsFileError) and isinstance(info.value, ValueError)


def test_an_untouched_rewrite_still_loads(tmp_path):
    _rewrite(tmp_path, lambda meta: None)
    assert load_training_state(tmp_path, *_objects()).extra == {"note": "x"}


@pytest.mark.parametrize("entry, value, message", [
    ("exp_avg", np.zeros(4), r"state\[0\]\['exp_avg'\] has shape \(4,\), but its parameter has shape "
                             r"\(2, 3\)"),
    ("exp_avg_sq", np.zeros((3, 2)), r"has shape \(3, 2\), but its parameter has shape \(2, 3\)"),
    ("exp_avg", np.array(["a"] * 6).reshape(2, 3), "has dtype <U1; expected numbers"),
    ("step", np.ones(3), "the step count"),
])
def test_optimizer_state_of_the_wrong_shape_is_refused_at_load(entry, value, message):
    _, optimizer, _ = _objects()
    state = optimizer.state_dict()
    state["state"][0][entry] = value
    fresh = _objects()[1]
    before = fresh.state_dict()
    with pytest.raises(ValueError, match=message):
        fresh.load_state_dict(state)
    assert fresh.state_dict()["state"].keys() == before["state"].keys()  # nothing half-loaded


def test_bit_flips_in_a_checkpoint_are_caught(tmp_path):
    model, optimizer, scheduler = _objects()
    path = save_training_state(tmp_path, model, optimizer, scheduler, epoch=1)
    good = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    regions = []
    for info in infos:
        name_length, extra_length = struct.unpack_from("<HH", good, info.header_offset + 26)
        start = info.header_offset + 30 + name_length + extra_length
        regions.append((start, start + info.compress_size))
    rng = np.random.default_rng(1)
    for _ in range(16):
        start, end = regions[int(rng.integers(len(regions)))]
        flipped = bytearray(good)
        flipped[int(rng.integers(start, end))] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(flipped))
        with pytest.raises(WeightsFileError, match="checkpoint.npz"):
            load_training_state(tmp_path, *_objects())


# ----------------------------------------------------------------------------- interrupted saves
_SAVER = """
import sys
import numpy as np
import dendrite
from dendrite.train.checkpoint_state import save_training_state
model = dendrite.nn.Linear(2048, 1024)  # 8 MB: a kill at a random moment mostly lands mid-write
step = 0
while True:
    step += 1
    for parameter in model.parameters():
        parameter.array[...] = step
    save_training_state(sys.argv[1], model, epoch=step, extra={"step": step})
    if step == 1:
        print("ready", flush=True)
"""


def _temporaries(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if ".tmp-" in name)


def _python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=environment, cwd=REPO, **kwargs)


def test_sigkill_during_saves_leaves_a_whole_checkpoint_and_no_orphans(tmp_path):
    rng = np.random.default_rng(7)
    for _ in range(3):
        saver = _python(_SAVER, str(tmp_path), stdout=subprocess.PIPE, text=True)
        assert saver.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.0, 0.4)))
        saver.send_signal(signal.SIGKILL)
        saver.wait(timeout=30)
        saver.stdout.close()
        model = nn.Linear(2048, 1024)
        state = load_training_state(tmp_path, model)  # the old or the new file, whole
        step = state.extra["step"]
        assert state.epoch == step and all((p.detach().numpy() == step).all() for p in model.parameters())
    save_training_state(tmp_path, nn.Linear(2, 2), epoch=1)
    assert _temporaries(tmp_path) == []


_ORPHAN = """
import os, signal, sys
from dendrite.utils.atomic import atomic_path
with atomic_path(sys.argv[1]) as temporary:
    temporary.write_bytes(b"half a checkpoint")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_next_save_removes_a_dead_process_temporary_but_never_a_live_one(tmp_path):
    target = checkpoint_path(tmp_path)
    _python(_ORPHAN, str(target)).wait(timeout=60)
    orphans = _temporaries(tmp_path)
    assert len(orphans) == 1 and orphans[0].startswith(".checkpoint.npz.tmp-")
    sleeper = _python("import time; time.sleep(60)")
    try:
        live = tmp_path / f".checkpoint.npz.tmp-{sleeper.pid}-abc123.npz"
        other_target = tmp_path / f".other.npz.tmp-{orphans[0].split('-')[1]}-abc123.npz"
        live.write_bytes(b"being written")
        other_target.write_bytes(b"not ours to judge")
        save_training_state(tmp_path, nn.Linear(2, 2), epoch=1)
        assert _temporaries(tmp_path) == sorted([live.name, other_target.name])
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
    save_training_state(tmp_path, nn.Linear(2, 2), epoch=2)
    assert _temporaries(tmp_path) == [other_target.name]


def test_the_size_limit_applies_to_checkpoints_and_can_be_raised(tmp_path):
    save_training_state(tmp_path, nn.Linear(100, 100), epoch=1)
    with pytest.raises(WeightsFileError, match=r"'models/model/weight' needs 40000 bytes.*max_bytes"):
        load_training_state(tmp_path, nn.Linear(100, 100), max_bytes=10_000)
    assert load_training_state(tmp_path, nn.Linear(100, 100), max_bytes=100_000).epoch == 1
