"""Export reproduces the session exactly (live changes, weight edits); sessions stay independent."""

from __future__ import annotations

import ast
import io
import json
import os
import runpy
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

import dendrite
from dendrite.playground import PlaygroundSession

ROOT = Path(__file__).resolve().parents[2]


def _state(session: PlaygroundSession) -> dict:
    return {k: v.numpy() for k, v in dendrite.load(io.BytesIO(session.export_weights())).items()}


def _run_script(session: PlaygroundSession, folder: Path) -> tuple[dict, dict]:
    path = folder / "playground_model.py"
    path.write_text(session.export_script())
    history = runpy.run_path(str(path))["main"]()
    weights = {k: v.numpy() for k, v in dendrite.load(folder / "playground_model.safetensors").items()}
    return history, weights


def _assert_same(session: PlaygroundSession, history: dict, weights: dict) -> None:
    assert history == session.history  # exact floats, every epoch
    state = _state(session)
    assert sorted(weights) == sorted(state)
    for key in state:
        np.testing.assert_array_equal(weights[key], state[key], err_msg=key)


def _busy_session() -> PlaygroundSession:
    """Dropout, batch norm, Adam, live changes mid-epoch and at boundaries, weight edits."""
    s = PlaygroundSession({"dataset": "spiral", "features": ["x1", "x2", "sinx1", "sinx2"], "batch_size": 7,
                           "layers": [{"neurons": 6, "dropout": 0.2, "batchnorm": True}, {"neurons": 3}],
                           "optimizer": "adam", "learning_rate": 0.01, "points": 300})
    s.step_epoch()
    for _ in range(3):
        s.train_for(0.0)  # three single batches: mid-epoch
    s.configure({"learning_rate": 0.05, "regularization": "l2", "regularization_rate": 0.001})
    s.set_weight(1, 2, 0, 0.7)
    s.step_epoch()
    s.configure({"batch_size": 13, "schedule": "cosine", "regularization": "l1"})
    s.step_epoch()
    s.train_for(0.0)
    s.set_weight(0, 3, 5, -0.4)
    s.configure({"regularization_rate": 0.01})
    s.step_epoch()
    s.set_weight(2, 1, 0, 1.5)  # after the last step: the script applies it at the end
    return s


def test_exported_script_reproduces_history_and_weights(tmp_path):
    s = _busy_session()
    assert s.epoch == 4 and len(s.change_log) == 6
    history, weights = _run_script(s, tmp_path)
    _assert_same(s, history, weights)


def test_script_runs_as_a_program_and_prints_each_epoch(tmp_path):
    s = PlaygroundSession({"dataset": "xor", "learning_rate": 0.1})
    s.step_epoch()
    s.configure({"learning_rate": 0.3})
    s.step_epoch()
    path = tmp_path / "playground_model.py"
    path.write_text(s.export_script())
    # The environment as it is (BLAS settings such as OPENBLAS_CORETYPE choose the kernels, and so the
    # rounding, that the page's run used too), with this checkout importable.
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3
    for line, train, test in zip(lines, s.history["train_loss"], s.history["test_loss"]):
        words = line.split()
        assert float(words[3]) == train and float(words[5]) == test
    assert (tmp_path / "playground_model.safetensors").stat().st_size > 100


def test_script_imports_only_numpy_and_public_dendrite():
    text = PlaygroundSession().export_script()
    tree = ast.parse(text)
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert modules == {"__future__", "math", "sys", "pathlib", "numpy", "dendrite", "dendrite.data",
                       "dendrite.nn"}
    assert "def main(epochs=EPOCHS, steps=STEPS):" in text and "playground_model.safetensors" in text
    assert "dendrite.playground" not in text


def test_custom_multiclass_and_regression_exports(tmp_path):
    s = PlaygroundSession({"layers": [{"neurons": 5, "activation": "relu"}], "optimizer": "momentum"})
    rows = "".join(f"{(i * 7 % 23) / 2 - 5.5},{(i * 5 % 19) / 2 - 4.5},{i % 3}\n" for i in range(60))
    s.load_csv("x,y,label\n" + rows)
    s.add_point(0.123456789, -1.5, 2)
    s.step_epoch()
    s.configure({"batch_size": 4})
    s.step_epoch()
    (tmp_path / "a").mkdir()
    _assert_same(s, *_run_script(s, tmp_path / "a"))
    r = PlaygroundSession({"dataset": "multigauss", "optimizer": "rmsprop", "learning_rate": 0.01,
                           "schedule": "step"})
    r.step_epoch()
    r.step_epoch()
    (tmp_path / "b").mkdir()
    _assert_same(r, *_run_script(r, tmp_path / "b"))


def test_script_stops_where_the_page_stopped_mid_epoch(tmp_path):
    s = PlaygroundSession({"layers": [{"neurons": 4, "dropout": 0.5}], "points": 200})
    s.step_epoch()
    s.train_for(0.0)
    s.set_weight(0, 0, 0, 0.25)
    s.train_for(0.0)
    s.configure({"learning_rate": 0.5})
    assert (s.epoch, s.steps) == (1, 12)
    _assert_same(s, *_run_script(s, tmp_path))


def test_script_for_more_epochs_keeps_going(tmp_path):
    s = PlaygroundSession({"points": 100})
    s.step_epoch()
    path = tmp_path / "playground_model.py"
    path.write_text(s.export_script())
    history = runpy.run_path(str(path))["main"](3)
    s.step_epoch()
    s.step_epoch()
    assert history == s.history


def test_weights_export_matches_the_model():
    s = PlaygroundSession({"layers": [{"neurons": 3, "batchnorm": True}]})
    s.set_weight(0, 0, 2, 0.5)
    state = _state(s)
    assert set(state) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                          "1.num_batches_tracked", "3.weight", "3.bias"}
    assert state["0.weight"][2, 0] == np.float32(0.5)
    assert s.snapshot()["network"]["weights"][0] == state["0.weight"].tolist()


CONFIG = {"layers": [{"neurons": 6, "dropout": 0.3}, {"neurons": 4, "dropout": 0.3}], "points": 300}


def _drive(session: PlaygroundSession, rounds: int = 3) -> None:
    for _ in range(rounds):
        session.train_for(0.001)
        session.snapshot()
        session.step_epoch()


def test_interleaved_sessions_equal_sessions_alone():
    alone_a, alone_b = PlaygroundSession(CONFIG), PlaygroundSession({**CONFIG, "seed": 1})
    _drive(alone_a)
    _drive(alone_b)
    a, b = PlaygroundSession(CONFIG), PlaygroundSession({**CONFIG, "seed": 1})
    for _ in range(3):  # one thread, calls alternating
        a.step_epoch()
        b.step_epoch()
    threads = [threading.Thread(target=_drive, args=(session, 2)) for session in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in range(2):
        alone_a.step_epoch()
        alone_b.step_epoch()
    # Without live changes an epoch's losses do not depend on where train_for cut the batches.
    for mixed, alone in ((a, alone_a), (b, alone_b)):
        n = min(len(mixed.history["epoch"]), len(alone.history["epoch"]))
        assert n >= 6
        assert mixed.history["train_loss"][:n] == alone.history["train_loss"][:n]
        assert mixed.history["test_loss"][:n] == alone.history["test_loss"][:n]
    assert a.history["train_loss"] != b.history["train_loss"]


def test_sessions_leave_the_callers_random_stream_alone():
    dendrite.manual_seed(123)
    expected = dendrite.rand(4).tolist()
    dendrite.manual_seed(123)
    s = PlaygroundSession({"layers": [{"neurons": 4, "dropout": 0.5}]})
    s.step_epoch()
    assert dendrite.rand(4).tolist() == expected


def test_diagnose_reports_findings_as_json():
    setup = {"learning_rate": 10, "init": "large_normal", "optimizer": "momentum"}
    report = PlaygroundSession(setup).diagnose(3)
    json.dumps(report, allow_nan=False)
    assert report["status"] == "ok"  # not trained yet
    codes = [finding["code"] for finding in report["findings"]]
    assert "lr-too-high" in codes
    finding = report["findings"][codes.index("lr-too-high")]
    assert {"code", "title", "severity", "explanation", "fix"} <= set(finding) and finding["fix"]
    healthy = PlaygroundSession({"dataset": "plane"}).diagnose(3)
    assert healthy["findings"] == [] and healthy["passed"]
    # All-zero init: constant logits of 0 are no sigmoid output, whatever the probe guesses.
    zeros = PlaygroundSession({"init": "zeros", "layers": [{"neurons": 4, "activation": "relu"}]}).diagnose(3)
    codes = {finding["code"] for finding in zeros["findings"]}
    assert "softmax-before-loss" not in codes and "dead-relu" in codes
