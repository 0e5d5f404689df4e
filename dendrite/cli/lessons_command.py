"""``dendrite lessons``: list the lessons, open one in Jupyter, copy one out, or run one headless.

    dendrite lessons [list]
    dendrite lessons open N [--dir DIR]        your copy in DIR (default ./dendrite-lessons), in Jupyter
    dendrite lessons export N|all DIR [--force]
    dendrite lessons run N|PATH                execute top to bottom, print each exercise's verdict

``open`` never overwrites the learner's work: when ``DIR`` already holds the lesson, that copy is
opened as it is. ``export`` refuses to replace a file unless ``--force``. Jupyter and the headless
runner come with the extra ``dendrite[lessons]``; without them the command says how to install it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

from dendrite.cli.errors import UsageError
from dendrite.lessons import LESSONS, Lesson, lesson
from dendrite.lessons.execute import require_jupyter, run_notebook
from dendrite.utils.atomic import atomic_write_bytes

__all__ = ["ACTIONS", "run_lessons"]

ACTIONS = ("list", "open", "export", "run")
INSTALL = "install the lessons' extra: pip install 'dendrite[lessons]'"


def _lesson(ref: str | None, action: str) -> Lesson:
    if ref is None:
        raise UsageError(f"lessons {action}: name a lesson by number (1-{len(LESSONS)}) or slug; "
                         "`dendrite lessons` lists them")
    try:
        return lesson(ref)
    except ValueError as error:
        raise UsageError(f"lessons {action}: {error}") from None


def _folder(path: Path, option: str) -> Path:
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {str(path)!r} is a file, not a folder; name a folder for the notebooks")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{option} {str(path)!r}: cannot make the folder ({error.strerror})") from None
    return path


def list_lessons() -> int:
    """Print the lessons, one line each, and how to open one. Returns 0.

    Example:
        >>> list_lessons()
         1  What deep learning is, and when not to use it
            a linear model and a simple baseline against an MLP, on tabular data and on a spiral
        ...
        0
    """
    for item in LESSONS:
        print(f"{item.number:2d}  {item.title}\n    {item.summary}")
    print("\nOpen one in Jupyter: dendrite lessons open N   ·   copy one out: dendrite lessons export N DIR")
    return 0


def export_lessons(ref: str | None, folder: Path, force: bool = False) -> list[Path]:
    """Copy lesson ``ref`` (or every lesson, for ``"all"``) into ``folder``; return the files written.

    A file already there is kept (it may hold the learner's work) unless ``force``; the check runs
    for every lesson before any is written. Each copy is written atomically.

    Example:
        >>> import tempfile
        >>> tmp = Path(tempfile.mkdtemp())
        >>> [path.name for path in export_lessons("3", tmp)]
        ['03-backprop.ipynb']
        >>> export_lessons("backprop", tmp)
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: lessons export: .../03-backprop.ipynb exists (it may hold your ...
    """
    chosen = list(LESSONS) if ref == "all" else [_lesson(ref, "export")]
    folder = _folder(Path(folder), "lessons export: DIR")
    targets = [(item, folder / item.filename) for item in chosen]
    for _, target in targets:
        if target.exists() and not force:
            raise UsageError(f"lessons export: {target} exists (it may hold your work); "
                             "pass --force to replace it, or choose another folder")
    return [atomic_write_bytes(target, item.path.read_bytes()) for item, target in targets]


def _which(name: str) -> str | None:
    """``name`` on the PATH, else beside this Python (a virtual environment used without activating it)."""
    search = os.pathsep.join(filter(None, [os.environ.get("PATH"), str(Path(sys.executable).parent)]))
    return shutil.which(name, path=search)


def _jupyter() -> list[str] | None:
    """The command that opens a notebook: JupyterLab if installed, else the classic Notebook."""
    for app, module in (("lab", "jupyterlab"), ("notebook", "notebook")):
        executable = _which(f"jupyter-{app}")
        if executable is not None:
            return [executable]
        jupyter = _which("jupyter") if importlib.util.find_spec(module) is not None else None
        if jupyter is not None:
            return [jupyter, app]
    return None


def open_lesson(ref: str | None, folder: Path) -> int:
    """Copy lesson ``ref`` into ``folder`` (unless a copy is there: that one is yours) and open it in Jupyter.

    Returns Jupyter's exit status. Without Jupyter, raises :class:`UsageError` saying how to get it and
    where the copy is.

    Example (not run here: it starts Jupyter)::

        open_lesson("3", Path("dendrite-lessons"))
    """
    chosen = _lesson(ref, "open")
    target = _folder(Path(folder), "lessons open --dir").resolve() / chosen.filename
    if target.exists():
        print(f"Opening your copy: {target} (kept as it is; `dendrite lessons export {chosen.number} DIR` "
              "gives a fresh one)")
    else:
        atomic_write_bytes(target, chosen.path.read_bytes())
        print(f"Copied lesson {chosen.number} to {target}")
    command = _jupyter()
    if command is None:
        raise UsageError(f"lessons open: Jupyter is not installed; {INSTALL}, then run "
                         f"`dendrite lessons open {chosen.number}` again (your copy is at {target})")
    print(f"Starting {' '.join([Path(command[0]).name, *command[1:]])} (Ctrl-C stops it)")
    # Jupyter refuses to run as root (a container's usual user) without being told it is wanted
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return subprocess.call([*command, *as_root, str(target)])


def run_lesson(ref: str | None) -> int:
    """Execute a lesson (by number or slug, or the path of your copy) and print each verdict.

    Returns 0 when no cell raised and nothing is wrong, 1 otherwise.

    Example (not run here: it starts a Jupyter kernel)::

        run_lesson("03-backprop.ipynb")
    """
    path = Path(ref) if ref is not None and ref.endswith(".ipynb") else _lesson(ref, "run").path
    if not path.is_file():
        raise UsageError(f"lessons run: no notebook at {path}")
    try:
        require_jupyter()
    except ModuleNotFoundError as error:
        raise UsageError(f"lessons run: {error}") from None

    print(f"Running {path} ...", flush=True)
    with TemporaryDirectory(prefix="dendrite-lesson-") as scratch:
        result = run_notebook(path, scratch)
    wrong = 0
    for cell in result.cells:
        for status, title in zip(cell.statuses, cell.exercises):
            role = "solution" if "solution" in cell.tags else "your answer"
            print(f"  cell {cell.index:3d}  {role:<11}  {status:<10}  {title}")
            wrong += status == "wrong"
    if result.error:
        print(result.error)
    print(f"{result.seconds:.1f} s; {'a cell raised' if result.error else 'every cell ran'}")
    return 1 if result.error or wrong else 0


def run_lessons(args) -> int:
    """Dispatch ``dendrite lessons ACTION``; returns the exit status.

    Example:
        >>> import argparse
        >>> args = argparse.Namespace(action="open", lesson="99", folder=None, dir=Path("."), force=False)
        >>> run_lessons(args)
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: lessons open: no lesson 99: lessons are numbered 1 to 11, ...
    """
    if args.action == "list":
        return list_lessons()
    if args.action == "open":
        return open_lesson(args.lesson, args.folder or args.dir)
    if args.action == "export":
        if args.lesson != "all":
            _lesson(args.lesson, "export")
        if args.folder is None:
            raise UsageError("lessons export: name the folder to copy into: dendrite lessons export N DIR")
        for path in export_lessons(args.lesson, args.folder, args.force):
            print(path)
        return 0
    return run_lesson(args.lesson)
