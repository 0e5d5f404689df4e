"""The lesson notebooks as files: one per catalog entry, committed clean, titled, public API only."""

from __future__ import annotations

import json
import re

import pytest

from dendrite.lessons import LESSONS, NOTEBOOKS

# ``from dendrite.x import _y``, ``dendrite.x._y`` or ``import dendrite.x._y``: a private name
PRIVATE = re.compile(r"from\s+dendrite[\w.]*\s+import\s+\(?[^\n]*\b_\w|\bdendrite(\.\w+)*\._\w")


def _notebook(lesson) -> dict:
    return json.loads(lesson.path.read_text(encoding="utf-8"))


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_every_notebook_is_a_lesson_and_every_lesson_has_its_notebook():
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == sorted(
        lesson.filename for lesson in LESSONS)
    assert [lesson.number for lesson in LESSONS] == list(range(1, len(LESSONS) + 1))


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_notebook_is_committed_clean_and_titled(lesson):
    notebook = _notebook(lesson)
    assert notebook["nbformat"] == 4 and notebook["metadata"]["kernelspec"]["name"] == "python3"
    first = notebook["cells"][0]
    assert first["cell_type"] == "markdown"
    assert _source(first).startswith(f"# Lesson {lesson.number} — {lesson.title}\n")
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
                f"cell {index}: outputs are committed; clear them (Jupyter: Edit > Clear Outputs)")


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_exercises_have_a_placeholder_and_a_hidden_answer(lesson):
    cells = _notebook(lesson)["cells"]
    exercises = [i for i, cell in enumerate(cells) if "exercise" in cell.get("metadata", {}).get("tags", ())]
    assert 1 <= len(exercises) <= 3, f"{lesson.filename}: {len(exercises)} exercises; expected 1 to 3"
    for index in exercises:
        assert "..." in _source(cells[index]), f"cell {index}: an exercise cell needs the ... to replace"
        answer = cells[index + 1]
        assert "solution" in answer["metadata"].get("tags", ()), f"cell {index + 1} should be its solution"
        assert answer["metadata"].get("jupyter", {}).get("source_hidden") is True
        assert _source(answer).startswith("# One answer: open this cell after you have tried.")


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_notebook_uses_the_public_api_only(lesson):
    for index, cell in enumerate(_notebook(lesson)["cells"]):
        if cell["cell_type"] == "code":
            match = PRIVATE.search(_source(cell))
            assert match is None, f"cell {index} uses a private name: {match.group(0)!r}"


def test_the_private_name_rule_catches_what_it_should():
    assert PRIVATE.search("from dendrite.nn.init import _fan")
    assert PRIVATE.search("x = dendrite.data._random.rng()")
    assert not PRIVATE.search("from dendrite.nn import Linear\nmodel.__class__")
