"""``pytext``: a character-level corpus of Python source, and batching for truncated BPTT.

The corpus is made from Python standard-library modules found on this machine
(``sysconfig.get_paths()["stdlib"]``): a fixed list of long-lived pure-Python
modules, sorted by name, read in that order until ``max_chars`` characters
(about 1.5 MB by default), files joined by one blank line. No download, no
random choice: the same Python installation always gives the same text. The
last 10% is held out for validation (a contiguous tail, so no line of
validation text appears in training).

The vocabulary is the sorted set of characters of the whole corpus (training
and validation), so validation never meets an unknown character; it carries
no other information about the held-out text.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dendrite.backend import xp
from dendrite.data.splits import DataSplits
from dendrite.tensor import Tensor, wrap

# Pure-Python modules present as single files from Python 3.10 on (modules that became
# packages or were removed in later versions are left out), in sorted order.
CORPUS_MODULES = (
    "abc.py", "argparse.py", "ast.py", "base64.py", "bdb.py", "bisect.py", "calendar.py", "cmd.py",
    "code.py", "codecs.py", "codeop.py", "colorsys.py", "configparser.py", "contextlib.py", "copy.py",
    "copyreg.py", "csv.py", "dataclasses.py", "difflib.py", "dis.py", "doctest.py", "enum.py",
    "filecmp.py", "fileinput.py", "fnmatch.py", "fractions.py", "ftplib.py", "functools.py",
    "genericpath.py", "getopt.py", "gettext.py", "glob.py", "graphlib.py", "gzip.py", "hashlib.py",
    "heapq.py", "hmac.py", "inspect.py", "ipaddress.py", "keyword.py", "linecache.py", "locale.py",
    "lzma.py", "mailbox.py", "mimetypes.py", "modulefinder.py", "netrc.py", "numbers.py", "opcode.py",
    "operator.py", "optparse.py", "os.py", "pdb.py", "pickle.py", "pickletools.py", "pkgutil.py",
    "platform.py", "plistlib.py", "poplib.py", "posixpath.py", "pprint.py", "profile.py", "pstats.py",
    "py_compile.py", "pyclbr.py", "pydoc.py", "queue.py", "quopri.py", "random.py", "reprlib.py",
    "rlcompleter.py", "runpy.py", "sched.py", "secrets.py", "selectors.py", "shelve.py", "shlex.py",
    "shutil.py", "signal.py", "smtplib.py", "socket.py", "socketserver.py", "stat.py", "statistics.py",
    "string.py", "stringprep.py", "subprocess.py", "symtable.py", "sysconfig.py", "tabnanny.py",
    "tarfile.py", "tempfile.py", "textwrap.py", "threading.py", "timeit.py", "token.py", "tokenize.py",
    "trace.py", "traceback.py", "tracemalloc.py", "types.py", "typing.py", "uuid.py", "warnings.py",
    "wave.py", "weakref.py", "webbrowser.py", "zipapp.py", "zipimport.py",
)
DEFAULT_MAX_CHARS = 1_500_000


def stdlib_directory() -> Path:
    """Where this Python's standard library lives (``sysconfig``, falling back to ``os``'s folder).

    Example:
        >>> (stdlib_directory() / "os.py").is_file()
        True
    """
    path = sysconfig.get_paths().get("stdlib")
    return Path(path) if path else Path(os.__file__).resolve().parent


def corpus_files(directory: str | Path | None = None) -> list[Path]:
    """The corpus files that exist in ``directory`` (default: the stdlib), in sorted order.

    Example:
        >>> import os
        >>> os.mkdir("lib")
        >>> _ = open("lib/random.py", "w").write("x = 1\\n")
        >>> [path.name for path in corpus_files("lib")]
        ['random.py']
    """
    directory = stdlib_directory() if directory is None else Path(directory)
    return [directory / name for name in sorted(CORPUS_MODULES) if (directory / name).is_file()]


def _read_corpus(max_chars: int, directory) -> tuple[str, list[Path]]:
    if max_chars < 2:
        raise ValueError(f"python_corpus: max_chars must be >= 2, got {max_chars}")
    files = corpus_files(directory)
    if not files:
        where = stdlib_directory() if directory is None else directory
        raise FileNotFoundError(f"python_corpus: none of the corpus modules were found in {where}")
    pieces, used, total = [], [], 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n") + "\n\n"
        pieces.append(text)
        used.append(path)
        total += len(text)
        if total >= max_chars:
            break
    return "".join(pieces)[:max_chars], used


def python_corpus(max_chars: int = DEFAULT_MAX_CHARS, directory: str | Path | None = None) -> str:
    """The corpus text: the corpus files in order, cut at ``max_chars`` characters.

    Example:
        >>> len(python_corpus(max_chars=1000))
        1000
    """
    return _read_corpus(max_chars, directory)[0]


class CharVocab:
    """A character vocabulary: ids are positions in the sorted set of characters.

    ``encode``: a string of length ``T`` -> int64 ids ``(T,)``; ``decode``: ids -> a string.

    Example:
        >>> vocab = CharVocab("hello")
        >>> vocab.chars, vocab.encode("hole").tolist(), vocab.decode([3, 0])
        ('ehlo', [1, 3, 2, 0], 'oe')
    """

    def __init__(self, text: str) -> None:
        self.chars = "".join(sorted(set(text)))
        if not self.chars:
            raise ValueError("CharVocab: the text is empty; expected at least one character")
        self._index = {char: i for i, char in enumerate(self.chars)}
        # Code points below 65536 go through a lookup table (fast); others through the dict.
        self._table = np.full(65536, -1, dtype=np.int64)
        for char, i in self._index.items():
            if ord(char) < 65536:
                self._table[ord(char)] = i

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text`` as int64 of shape ``(len(text),)``."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.where(codes < 65536, self._table[np.minimum(codes, 65535)], -1)
        unknown = np.flatnonzero(ids < 0)
        for position in unknown:  # rare: characters beyond the table, or not in the vocabulary
            char = text[position]
            if char not in self._index:
                raise KeyError(
                    f"CharVocab.encode: character {char!r} at position {position} is not in the "
                    f"vocabulary of {len(self)} characters"
                )
            ids[position] = self._index[char]
        return ids

    def decode(self, ids) -> str:
        """The text for a sequence of ids (a list, array or tensor)."""
        ids = np.asarray(ids.array if isinstance(ids, Tensor) else ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise IndexError(
                f"CharVocab.decode: ids must be in [0, {len(self)}), got {ids.min()}..{ids.max()}"
            )
        return "".join(self.chars[i] for i in ids.tolist())


def load_pytext(max_chars: int = DEFAULT_MAX_CHARS, val_fraction: float = 0.1,
                directory: str | Path | None = None) -> DataSplits:
    """The Python corpus as token-id streams: ``x_train (N_train,)``, ``x_test (N_val,)`` int64.

    ``num_classes`` is the vocabulary size; ``info['vocab']`` is the :class:`CharVocab`
    (``encode``/``decode``). Batch the streams with :func:`bptt_batches`.

    Example:
        >>> data = load_pytext(max_chars=10_000)
        >>> len(data.x_train), len(data.x_test), data.num_classes == len(data.info["vocab"])
        (9000, 1000, True)
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"load_pytext: val_fraction must be in (0, 1), got {val_fraction}")
    text, files = _read_corpus(max_chars, directory)
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    split = int(round(len(ids) * (1.0 - val_fraction)))
    return DataSplits(
        "pytext", "text", ids[:split], None, ids[split:], None, input_shape=(), num_classes=len(vocab),
        info={
            "description": f"Python stdlib source, {len(text):,} chars, last {val_fraction:.0%} held out",
            "vocab": vocab,
            "files": [path.name for path in files],
            "directory": str(files[0].parent),
        },
    )


class BPTTBatches:
    """Truncated-BPTT batches from one token stream: ``(inputs, targets)`` of shape ``(batch, T)``.

    The stream is cut into ``batch_size`` contiguous rows (the tail that does not fit is dropped),
    and consecutive batches continue each row where the previous batch stopped, so a recurrent
    model can carry its hidden state across batches. ``targets`` are the inputs shifted by one
    character. The last batch may be shorter than ``seq_len``.

    Example:
        >>> batches = BPTTBatches(np.arange(21), batch_size=2, seq_len=4)
        >>> len(batches), [x.tolist() for x, y in batches][0]
        (3, [[0, 1, 2, 3], [10, 11, 12, 13]])
    """

    def __init__(self, ids, batch_size: int, seq_len: int) -> None:
        ids = np.asarray(ids.array if isinstance(ids, Tensor) else ids)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise ValueError(
                f"BPTTBatches: ids must be a 1-d integer stream, got shape {ids.shape} dtype {ids.dtype}"
            )
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"BPTTBatches: batch_size and seq_len must be >= 1, got {batch_size}, {seq_len}")
        row_length = len(ids) // batch_size
        if row_length < 2:
            raise ValueError(
                f"BPTTBatches: a stream of {len(ids)} tokens is too short for {batch_size} rows; "
                "expected at least 2 tokens per row"
            )
        self.rows = ids[: row_length * batch_size].reshape(batch_size, row_length).astype(np.int64)
        self.batch_size, self.seq_len = batch_size, seq_len

    def __len__(self) -> int:
        return -(-(self.rows.shape[1] - 1) // self.seq_len)

    def __iter__(self) -> Iterator[tuple]:
        usable = self.rows.shape[1] - 1  # the last column is only ever a target
        for start in range(0, usable, self.seq_len):
            stop = min(start + self.seq_len, usable)
            inputs = xp.asarray(self.rows[:, start:stop])
            targets = xp.asarray(self.rows[:, start + 1:stop + 1])
            yield wrap(inputs), wrap(targets)


def bptt_batches(ids, batch_size: int, seq_len: int) -> BPTTBatches:
    """:class:`BPTTBatches` over ``ids`` (e.g. ``load_pytext().x_train``): ``(x, y)`` of shape ``(B, T)``.

    ``y`` is ``x`` shifted one token ahead in the stream.

    Example:
        >>> x, y = next(iter(bptt_batches(np.arange(21), batch_size=2, seq_len=4)))
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2, 3], [10, 11, 12, 13]], [[1, 2, 3, 4], [11, 12, 13, 14]])
    """
    return BPTTBatches(ids, batch_size, seq_len)
