"""Every lesson runs top to bottom in a fresh Jupyter kernel, and its checkers agree with its answers.

A lesson fails the build when a cell raises, a solution cell's verdict is not correct, an untouched
exercise cell's verdict is anything but "not answered yet", or it shows no picture. Each run's time
and the executed notebook (with its pictures, for review) go to test-artifacts/lessons/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dendrite.lessons import LESSONS
from dendrite.lessons.execute import run_notebook

pytest.importorskip("nbclient", reason="the lessons run in Jupyter: pip install -e '.[test]'")
nbformat = pytest.importorskip("nbformat")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "lessons"


def _pictures(notebook) -> int:
    return sum("image/png" in output.get("data", {})
               for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", ()))


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_lesson_runs_and_its_answers_check(lesson, tmp_path):
    assert lesson.path.exists(), f"{lesson.filename} is missing from {lesson.path.parent}"
    run = run_notebook(lesson.path, tmp_path)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(run.notebook, ARTIFACTS / lesson.filename.replace(".ipynb", ".executed.ipynb"))
    timing = {"lesson": lesson.number, "slug": lesson.slug, "seconds": round(run.seconds, 1),
              "cpus": os.cpu_count()}
    (ARTIFACTS / f"{lesson.number:02d}-{lesson.slug}.time.json").write_text(json.dumps(timing) + "\n")

    assert run.problems() == []
    solved = [cell for cell in run.cells if "solution" in cell.tags]
    assert solved and all(cell.statuses for cell in solved)
    assert _pictures(run.notebook) >= 1, f"{lesson.filename} shows no picture"


def test_a_wrong_reference_answer_fails_the_lesson(tmp_path):
    """The harness itself can fail: a notebook whose solution is wrong, or that raises, is reported."""
    new = nbformat.v4
    checker = ("from dendrite.lessons.verdict import exercise, correct, wrong\n"
               "@exercise('Ex 1: two plus two')\n"
               "def plus(answer):\n"
               "    return correct('4') if answer == 4 else wrong('add again')\n")
    notebook = new.new_notebook(cells=[
        new.new_code_cell(checker),
        new.new_code_cell("answer = ...\nplus(answer)", metadata={"tags": ["exercise"]}),
        new.new_code_cell("plus(5)", metadata={"tags": ["solution"]}),
        new.new_code_cell("plus(4)", metadata={"tags": ["solution"]}),
    ])
    path = tmp_path / "wrong.ipynb"
    nbformat.write(notebook, path)
    run = run_notebook(path, tmp_path)
    assert [cell.statuses for cell in run.cells] == [("unanswered",), ("wrong",), ("correct",)]
    assert run.problems() == ["cell 2 (solution) showed wrong for 'Ex 1: two plus two'; expected correct"]

    notebook.cells.append(new.new_code_cell("1 / 0"))
    nbformat.write(notebook, path)
    run = run_notebook(path, tmp_path)
    assert run.error.startswith("a cell raised") and "ZeroDivisionError" in run.error
    assert run.error in run.problems()
