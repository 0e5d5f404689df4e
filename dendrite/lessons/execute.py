"""Run a lesson's notebook top to bottom in a fresh Jupyter kernel and read what its checkers said.

This is what the test suite does to every lesson, and what ``dendrite lessons run N`` does for a
learner: execute each cell in order (``nbclient``, extra ``dendrite[lessons]``), then collect the
verdicts that the exercise cells (tagged ``exercise``: the learner's placeholder) and the solution cells
(tagged ``solution``: the reference answer) displayed. A lesson is healthy when no cell raises, every
solution is correct and every untouched exercise is "not answered yet".
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from dendrite.lessons.verdict import MIME_TYPE

__all__ = ["CellVerdicts", "LessonRun", "require_jupyter", "run_notebook"]

# the package's own folder's parent: the kernel imports this very dendrite, not another install
_DENDRITE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CellVerdicts:
    """The verdicts one code cell displayed.

    Attributes:
        index: the cell's position in the notebook (0-based, markdown cells counted).
        tags: the cell's tags (``("exercise",)``, ``("solution",)`` or ``()``).
        statuses: each verdict's status, in the order shown.
        exercises: each verdict's exercise title.

    Example:
        >>> CellVerdicts(4, ("solution",), ("correct",), ("Lesson 3, exercise 1",)).statuses
        ('correct',)
    """

    index: int
    tags: tuple[str, ...]
    statuses: tuple[str, ...]
    exercises: tuple[str, ...]


@dataclass
class LessonRun:
    """What running one notebook gave.

    Attributes:
        path: the notebook run.
        seconds: wall time from kernel start to the last cell.
        cells: the verdicts of every tagged or verdict-showing code cell.
        error: the first cell error (cell number and the exception's last lines), or ``""``.
        notebook: the executed notebook (``nbformat.NotebookNode``), outputs included.

    Example:
        >>> run = LessonRun(Path("03-backprop.ipynb"), 12.5, error="a cell raised: NameError: x")
        >>> run.problems()
        ['a cell raised: NameError: x', 'no cell is tagged exercise']
    """

    path: Path
    seconds: float
    cells: list[CellVerdicts] = field(default_factory=list)
    error: str = ""
    notebook: object = None

    def problems(self) -> list[str]:
        """Why this run is not a healthy lesson run; empty when it is.

        Healthy: no error; at least one exercise; every ``solution`` cell shows verdicts, all correct;
        every ``exercise`` cell shows verdicts, all unanswered.

        Example:
            >>> run = LessonRun(Path("x.ipynb"), 1.0, [CellVerdicts(3, ("solution",), ("wrong",), ("Ex 1",))])
            >>> run.problems()
            ['no cell is tagged exercise', "cell 3 (solution) showed wrong for 'Ex 1'; expected correct"]
        """
        found = [self.error] if self.error else []
        tagged = {tag: [cell for cell in self.cells if tag in cell.tags] for tag in ("exercise", "solution")}
        if not tagged["exercise"]:
            found.append("no cell is tagged exercise")
        for tag, expected in (("exercise", "unanswered"), ("solution", "correct")):
            for cell in tagged[tag]:
                if not cell.statuses:
                    found.append(f"cell {cell.index} ({tag}) showed no verdict: end it with the checker call")
                for status, title in zip(cell.statuses, cell.exercises):
                    if status != expected:
                        found.append(f"cell {cell.index} ({tag}) showed {status} for {title!r}; "
                                     f"expected {expected}")
        return found


def _cell_verdicts(notebook) -> list[CellVerdicts]:
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        tags = tuple(cell.get("metadata", {}).get("tags", ()))
        shown = [output["data"][MIME_TYPE] for output in cell.get("outputs", ())
                 if MIME_TYPE in output.get("data", {})]
        if tags or shown:
            found.append(CellVerdicts(index, tags, tuple(item["status"] for item in shown),
                                      tuple(item["exercise"] for item in shown)))
    return found


def _kernel_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_DENDRITE_ROOT), env.get("PYTHONPATH")]))
    # pictures as outputs, whatever backend the caller's environment names
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # The lessons' models are small: one BLAS thread is fastest, and several kernels at once (the test
    # suite's workers) would otherwise fight over the cores (measured under load: lesson 7 took 71 s with
    # the default threads, 14 s with one). A thread count the caller set is kept.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, "1")
    return env


def require_jupyter() -> None:
    """Raise ``ModuleNotFoundError`` naming the extra when nbclient, nbformat or ipykernel is missing.

    Example:
        >>> require_jupyter()  # installed here: nothing happens
    """
    for module in ("nbclient", "nbformat", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(f"running a lesson needs {module}: install dendrite[lessons] "
                                      "(pip install 'dendrite[lessons]')", name=module)


def run_notebook(path: str | Path, workdir: str | Path, timeout: float = 600.0) -> LessonRun:
    """Execute the notebook at ``path`` in a new ``python3`` kernel whose working folder is ``workdir``.

    ``timeout`` bounds each cell (seconds). A cell that raises stops the run; the error is in
    :attr:`LessonRun.error`. Needs ``nbclient``, ``nbformat`` and ``ipykernel`` (extra
    ``dendrite[lessons]``); raises ``ModuleNotFoundError`` naming the extra when they are missing.

    Example (a two-cell notebook; a lesson is run the same way: ``run_notebook(lesson(3).path, folder)``):
        >>> import tempfile, nbformat
        >>> folder = Path(tempfile.mkdtemp())
        >>> cells = [nbformat.v4.new_code_cell("from dendrite.lessons.verdict import correct"),
        ...          nbformat.v4.new_code_cell("correct('well done')", metadata={"tags": ["solution"]})]
        >>> nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "tiny.ipynb")
        >>> run = run_notebook(folder / "tiny.ipynb", folder)
        >>> run.cells[0].statuses, run.error
        (('correct',), '')
        >>> run.problems()
        ['no cell is tagged exercise']
    """
    require_jupyter()
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path, workdir = Path(path), Path(workdir)
    notebook = nbformat.read(path, as_version=4)
    # the kernel's own log (a warning that it talks over local TCP) is not the lesson's output
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    error = ""
    start = time.perf_counter()
    try:
        client.execute(env=_kernel_environment())
    except CellExecutionError as failure:
        lines = [line for line in str(failure).splitlines() if line.strip()]
        error = "a cell raised: " + "\n".join(lines[-6:])
    seconds = time.perf_counter() - start
    return LessonRun(path, seconds, _cell_verdicts(notebook), error, notebook)
