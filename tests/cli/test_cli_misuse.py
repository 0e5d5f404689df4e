"""Misusing ``dendrite``: one line on stderr naming the problem, exit 2, no traceback, nothing left behind.

Also: a bare install (no Matplotlib, tqdm, threadpoolctl, safetensors) still trains, with one note;
Ctrl-C says how to ``--resume``; the README's resume example works as written.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dendrite.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--data", "spiral", "--epochs", "1", "--quiet"]


def run(argv: list[str], capsys) -> tuple[int, str]:
    """``main(argv)`` in this process: (exit status, stderr); argparse's SystemExit counts as a status."""
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    return status, capsys.readouterr().err


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


MISUSES = [
    # (argv, what the one line must say)
    (["train", "mlp", *TINY, "--out", "afile"], "--out 'afile' is a file, not a folder"),
    (["train", "mlp", *TINY, "--out", "afile/run"], "--out 'afile/run': 'afile' is a file, not a folder"),
    (["train", "mlp", *TINY, "--out", "/proc/dendrite-run"],
     "--out '/proc/dendrite-run': cannot create the folder"),
    (["train", "mlp", *TINY, "--out", "/proc"], "--out '/proc' is not a writable folder"),
    (["tour", "--only", "no-such-entry", "--out", "new/tour"], "tour --only: unknown entry 'no-such-entry'"),
    (["tour", "--only", "mlp-spiral", "--out", "afile"], "--out 'afile' is a file, not a folder"),
    (["train", "mlp", *TINY, "--cell", "gru", "--out", "new/run"],
     "--cell is for the recurrent models (rnn, lstm, gru, charlm, forecaster); model 'mlp'"),
    (["train", "mlp", "--seed", "-5"], "dendrite train: error: --seed must be a whole number >= 0, got '-5'"),
    (["train", "mlp", *TINY, "--resume", "--out", "new/run"], "cannot resume: no training checkpoint"),
    (["train", "mlp", *TINY, "--optimizer", "nesterov-magic", "--out", "new/run"], "unknown optimizer"),
]


@pytest.mark.parametrize("argv, message", MISUSES, ids=[" ".join(argv) for argv, _ in MISUSES])
def test_misuse_is_one_line_exit_2_and_leaves_nothing(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a folder\n")
    status, err = run(argv, capsys)
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert "Traceback" not in err
    assert files_under(tmp_path) == {"afile"}  # no folder left behind


def test_an_unwritable_folder_is_found_before_training(tmp_path, monkeypatch, capsys):
    """A folder that cannot take a file (read-only mount, no permission) fails at once; its parents go."""
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr("dendrite.recipes.runner.train", lambda *a: pytest.fail("trained anyway"))
    status, err = run(["train", "mlp", *TINY, "--out", "new/run"], capsys)
    assert status == 2
    assert err == "dendrite: error: --out 'new/run' is not a writable folder (Permission denied)\n"
    assert files_under(tmp_path) == set()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_found_before_training(tmp_path, capsys):
    (tmp_path / "ro").mkdir(mode=0o555)
    try:
        status, err = run(["train", "mlp", *TINY, "--out", str(tmp_path / "ro" / "run")], capsys)
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert status == 2 and len(err.splitlines()) == 1 and "cannot create the folder" in err


def test_the_cli_in_a_new_process_prints_no_traceback(tmp_path):
    (tmp_path / "afile").write_text("x")
    argv = ["train", "mlp", *TINY, "--out", "afile"]
    result = subprocess.run([sys.executable, "-m", "dendrite.cli.main", *argv], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert result.stderr == ("dendrite: error: --out 'afile' is a file, not a folder; "
                             "name a folder for the files\n")


# ---------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_names_the_resume_command_that_continues_the_run(tmp_path, monkeypatch, capsys):
    from dendrite.train import Trainer

    real = Trainer._train_epoch

    def train_epoch(self, loader):
        if self.epoch == 1:  # after the checkpoint of the first epoch
            raise KeyboardInterrupt
        return real(self, loader)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Trainer, "_train_epoch", train_epoch)
    argv = ["train", "mlp", "--data", "spiral", "--epochs", "3", "--quiet", "--out", "runs/x"]
    status, err = run(argv, capsys)
    command = "dendrite train mlp --data spiral --epochs 3 --quiet --out runs/x --resume"
    assert (status, err) == (130, f"dendrite: interrupted; the last checkpoint is in runs/x: continue with "
                                  f"`{command}`\n")
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    status, err = run(shlex.split(command)[1:], capsys)
    assert status == 0, err


@pytest.mark.parametrize("model, says", [
    ("mlp", "before the first checkpoint was written; nothing to resume"),
    ("gan", "model 'gan' does not save checkpoints"),
])
def test_ctrl_c_before_any_checkpoint(model, says, tmp_path, monkeypatch, capsys):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("dendrite.recipes.runner.train", interrupted)
    status, err = run(["train", model, "--quiet", "--out", "runs/x"], capsys)
    assert status == 130 and len(err.splitlines()) == 1 and says in err
    assert files_under(tmp_path) == set()  # the empty folder it made is gone


# ---------------------------------------------------------------------------- resume, as the README says
def test_readme_resume_example_extends_an_earlier_shorter_run():
    lines = [line.split("#")[0].split() for line in (ROOT / "README.md").read_text().splitlines()
             if line.startswith("dendrite train")]
    for index, words in enumerate(lines):
        if "--resume" not in words:
            continue
        out, epochs = words[words.index("--out") + 1], int(words[words.index("--epochs") + 1])
        earlier = [w for w in lines[:index] if "--out" in w and w[w.index("--out") + 1] == out]
        assert earlier, f"{' '.join(words)}: no earlier run writes {out}"
        assert "--epochs" in earlier[-1] and int(earlier[-1][earlier[-1].index("--epochs") + 1]) < epochs


def test_resume_extends_a_run_and_says_in_one_line_when_it_has_no_epochs_left(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["train", "mlp", "--data", "spiral", "--quiet", "--out", "runs/short"]
    assert run([*base, "--epochs", "1"], capsys)[0] == 0
    assert run([*base, "--epochs", "2", "--resume"], capsys)[0] == 0
    status, err = run([*base, "--epochs", "2", "--resume"], capsys)
    assert (status, err) == (2, "dendrite: error: cannot resume: the run in 'runs/short' has already trained "
                                "2 epochs; pass --epochs N with N > 2 to train further\n")


# ---------------------------------------------------------------------------- a bare install
BARE = """
import sys
for name in ("matplotlib", "tqdm", "threadpoolctl", "safetensors"):
    sys.modules[name] = None  # `import name` now fails: as without the [train] extra
from dendrite.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_without_matplotlib_a_run_trains_and_skips_the_pictures_with_one_note(tmp_path):
    result = subprocess.run([sys.executable, "-c", BARE, "train", "mlp", "--data", "spiral", "--epochs", "1",
                             "--out", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"dendrite: note: matplotlib is not installed; training without pictures \(install "
                        r'them with: pip install "dendrite\[train\]"\)\n', result.stderr), result.stderr
    written = files_under(tmp_path / "run")
    assert "metrics.json" in written and not any(name.endswith(".png") for name in written)
    assert "mlp on spiral" in result.stdout


def test_without_matplotlib_every_picture_of_the_recipes_is_skipped(tmp_path, monkeypatch, capsys):
    import numpy as np

    from dendrite.recipes import autoencoding, language, pictures, sequence
    from dendrite.train import plots

    monkeypatch.setattr(plots, "matplotlib_available", lambda: False)
    points = np.zeros((5, 2))
    with plots.pictures_if_possible() as drawing, plots.pictures_if_possible():  # nested: one note
        drawn = [
            plots.plot_history({"loss": [1.0, 0.5]}, tmp_path / "a.png"),
            plots.plot_points(points, tmp_path / "b.png"),
            pictures.plot_canvas(np.zeros((8, 8)), tmp_path / "c.png", "x"),
            pictures.plot_point_snapshots([("start", points), ("end", points)], tmp_path / "d.png"),
            autoencoding._plot_latent(points, np.zeros(5), tmp_path / "e.png", "x"),
            language.plot_language_curves([(1, 3.0, 3.1)], tmp_path / "f.png", 4.0, "x"),
            sequence.plot_gradient_flow({"initial": [1e-3, 1.0]}, tmp_path / "g.png", "x"),
        ]
    assert drawing is False and drawn == [None] * len(drawn)
    assert files_under(tmp_path) == set()
    assert capsys.readouterr().err.count("matplotlib is not installed") == 1
    with pytest.raises(ImportError, match="dendrite\\[train\\]"):  # outside: the library's error
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        plots.plot_points(points, tmp_path / "b.png")
