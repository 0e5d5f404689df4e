"""``DataFileError``: what was wrong with a file the user brought, in one line.

Every reader of user files (CSV, IDX, CIFAR-10, image folders, ``.npz``) raises
this error for bad content, naming the file, the place in it (a line, a record,
an image) and what was expected, so that ``dendrite train``/``predict``/``evaluate``
print exactly one line and exit with status 2.

Example:
    >>> error = DataFileError("flowers.csv", "column 'petal' holds 'abc'; expected a number", line=7)
    >>> str(error)
    "flowers.csv line 7: column 'petal' holds 'abc'; expected a number"
    >>> isinstance(error, ValueError), error.line
    (True, 7)
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DataFileError"]


class DataFileError(ValueError):
    """A user's data file that cannot be read as what it claims to be.

    Example:
        >>> str(DataFileError("test_batch", "has label 11; expected 0..9", record=3))
        'test_batch record 3: has label 11; expected 0..9'

    Args:
        path: the file (or folder) at fault.
        problem: what was found and what was expected, e.g. ``"holds 'x'; expected a number"``.
        line: the 1-based line of a text file, when known.
        record: the 0-based record (row of a binary file, image in a folder), when known.
    """

    def __init__(self, path: str | Path, problem: str, line: int | None = None,
                 record: int | None = None) -> None:
        self.path, self.problem, self.line, self.record = str(path), problem, line, record
        where = f" line {line}" if line is not None else f" record {record}" if record is not None else ""
        super().__init__(f"{self.path}{where}: {problem}")
