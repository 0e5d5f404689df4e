"""`dendrite lessons`: list, export (never over the learner's work), open in Jupyter, run headless."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys

import pytest

from dendrite.cli.main import main
from dendrite.lessons import LESSONS


def test_list_names_every_lesson_in_order(capsys):
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    positions = [out.index(f"{item.number:2d}  {item.title}") for item in LESSONS]
    assert positions == sorted(positions)
    assert "dendrite lessons open N" in out
    assert main(["lessons", "list"]) == 0 and capsys.readouterr().out == out


def test_export_copies_one_lesson_or_all(tmp_path, capsys):
    assert main(["lessons", "export", "3", str(tmp_path / "mine")]) == 0
    copy = tmp_path / "mine" / "03-backprop.ipynb"
    assert capsys.readouterr().out.strip() == str(copy)
    assert copy.read_bytes() == LESSONS[2].path.read_bytes()
    assert json.loads(copy.read_text())["nbformat"] == 4

    assert main(["lessons", "export", "all", str(tmp_path / "every")]) == 0
    assert sorted(path.name for path in (tmp_path / "every").iterdir()) == sorted(
        item.filename for item in LESSONS)


def test_export_keeps_the_learners_work_unless_forced(tmp_path, capsys):
    work = tmp_path / "02-feedforward.ipynb"
    work.write_text("my answers")
    assert main(["lessons", "export", "feedforward", str(tmp_path)]) == 2
    assert "exists (it may hold your work); pass --force" in capsys.readouterr().err
    assert work.read_text() == "my answers"
    assert main(["lessons", "export", "all", str(tmp_path)]) == 2  # checked before anything is written
    assert sorted(path.name for path in tmp_path.iterdir()) == ["02-feedforward.ipynb"]
    assert main(["lessons", "export", "2", str(tmp_path), "--force"]) == 0
    assert work.read_bytes() == LESSONS[1].path.read_bytes()


@pytest.mark.parametrize("argv, message", [
    (["lessons", "export", "12", "out"], "no lesson 12: lessons are numbered 1 to 11"),
    (["lessons", "export", "3"], "name the folder to copy into"),
    (["lessons", "export"], "name a lesson by number"),
    (["lessons", "open", "gradient-boosting"], "no lesson gradient-boosting"),
    (["lessons", "run", "0"], "no lesson 0"),
    (["lessons", "run", "missing.ipynb"], "no notebook at missing.ipynb"),
])
def test_bad_arguments_say_what_was_wrong(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_export_into_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    assert main(["lessons", "export", "1", str(tmp_path / "taken")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def _fake_jupyter(folder):
    """A `jupyter-lab` that records how it was called instead of starting a server."""
    folder.mkdir()
    script = folder / "jupyter-lab"
    script.write_text(f'#!/bin/sh\necho "$@" > "{folder / "called"}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder / "called"


def test_open_copies_the_lesson_and_starts_jupyter_on_the_copy(tmp_path, monkeypatch, capsys):
    called = _fake_jupyter(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    monkeypatch.chdir(tmp_path)
    assert main(["lessons", "open", "4"]) == 0
    copy = tmp_path / "dendrite-lessons" / "04-convolutional.ipynb"
    assert copy.read_bytes() == LESSONS[3].path.read_bytes()
    root = ["--allow-root"] if os.geteuid() == 0 else []  # Jupyter refuses root without it
    assert called.read_text().split() == [*root, str(copy)]
    assert "Copied lesson 4" in capsys.readouterr().out

    copy.write_text("my work")  # opening again opens the learner's copy as it is
    assert main(["lessons", "open", "convolutional"]) == 0
    assert copy.read_text() == "my work"
    assert "Opening your copy" in capsys.readouterr().out


def test_open_without_jupyter_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "empty" / "python"))  # no Jupyter beside it either
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    assert main(["lessons", "open", "1", "--dir", str(tmp_path / "copies")]) == 2
    err = capsys.readouterr().err
    assert "Jupyter is not installed" in err and "pip install 'dendrite[lessons]'" in err
    assert str(tmp_path / "copies" / "01-first-look.ipynb") in err
    assert (tmp_path / "copies" / "01-first-look.ipynb").exists()


def test_open_finds_jupyter_beside_python_when_the_environment_is_not_activated(tmp_path, monkeypatch):
    called = _fake_jupyter(tmp_path / "venv-bin")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv-bin" / "python"))
    assert main(["lessons", "open", "2", "--dir", str(tmp_path / "copies")]) == 0
    assert called.read_text().split()[-1] == str(tmp_path / "copies" / "02-feedforward.ipynb")


def test_run_reports_each_verdict_and_fails_on_a_wrong_answer(tmp_path, capsys):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    new = nbformat.v4
    checker = ("from dendrite.lessons.verdict import exercise, correct, wrong\n"
               "@exercise('Ex 1: two plus two')\n"
               "def plus(answer):\n"
               "    return correct('4') if answer == 4 else wrong('add again')\n")
    path = tmp_path / "mine.ipynb"
    nbformat.write(new.new_notebook(cells=[new.new_code_cell(checker), new.new_code_cell("plus(4)")]), path)
    assert main(["lessons", "run", str(path)]) == 0
    assert "correct     Ex 1: two plus two" in capsys.readouterr().out
    nbformat.write(new.new_notebook(cells=[new.new_code_cell(checker), new.new_code_cell("plus(5)")]), path)
    assert main(["lessons", "run", str(path)]) == 1
    assert "wrong       Ex 1: two plus two" in capsys.readouterr().out


def test_run_without_jupyter_says_how_to_get_it(monkeypatch, capsys):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "nbclient" else real_find_spec(name, *args))
    assert main(["lessons", "run", "3"]) == 2
    assert "running a lesson needs nbclient: install dendrite[lessons]" in capsys.readouterr().err
