"""pytext corpus, character vocabulary, truncated-BPTT batches."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.data import BPTTBatches, CharVocab, bptt_batches, load_pytext, python_corpus
from dendrite.data.text import CORPUS_MODULES, corpus_files


def _fake_stdlib(tmp_path):
    (tmp_path / "zipapp.py").write_text("z = 1\n")
    (tmp_path / "abc.py").write_text("a = 1\r\n")
    (tmp_path / "not_listed.py").write_text("ignored\n")
    return tmp_path


def test_corpus_files_are_the_fixed_sorted_list_that_exists(tmp_path):
    directory = _fake_stdlib(tmp_path)
    assert [p.name for p in corpus_files(directory)] == ["abc.py", "zipapp.py"]
    assert python_corpus(100, directory) == "a = 1\n\n\nz = 1\n\n\n"  # CRLF -> LF, files + blank line
    assert python_corpus(7, directory) == "a = 1\n\n"
    assert list(CORPUS_MODULES) == sorted(CORPUS_MODULES)


def test_corpus_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="none of the corpus modules were found"):
        python_corpus(100, tmp_path)
    with pytest.raises(ValueError, match="max_chars must be >= 2"):
        python_corpus(1)


def test_real_corpus_is_deterministic_and_sized():
    text = python_corpus(200_000)
    assert len(text) == 200_000 and text == python_corpus(200_000)
    assert "def " in text and "import " in text


def test_char_vocab_round_trip_and_errors():
    vocab = CharVocab("banana\n\u00e9\U0001F600")
    assert vocab.chars == "".join(sorted(set("banana\n\u00e9\U0001F600")))
    ids = vocab.encode("nab\U0001F600\u00e9")
    assert ids.dtype == np.int64 and vocab.decode(ids) == "nab\U0001F600\u00e9"
    assert vocab.decode(dendrite.tensor(ids)) == "nab\U0001F600\u00e9"
    with pytest.raises(KeyError, match="character 'z' at position 1"):
        vocab.encode("az")
    with pytest.raises(IndexError, match=r"ids must be in \[0, 6\)"):
        vocab.decode([6])


def test_load_pytext_split_and_vocab():
    data = load_pytext(max_chars=50_000)
    vocab = data.info["vocab"]
    assert data.task == "text" and data.num_classes == len(vocab)
    assert len(data.x_train) == 45_000 and len(data.x_test) == 5_000
    text = python_corpus(50_000)
    assert vocab.decode(data.x_train) + vocab.decode(data.x_test) == text  # validation is the tail
    assert list(vocab.chars) == sorted(set(text))
    with pytest.raises(TypeError, match="no targets"):
        data.train_dataset()


def test_bptt_batches_shapes_shift_and_continuity():
    stream = np.arange(103)
    batches = bptt_batches(stream, batch_size=4, seq_len=7)
    items = list(batches)
    assert len(batches) == len(items) == 4  # rows of 25: 24 usable steps -> 7, 7, 7, 3
    assert [tuple(x.shape) for x, _ in items] == [(4, 7), (4, 7), (4, 7), (4, 3)]
    x0, y0 = items[0]
    assert x0.dtype == dendrite.int64 and x0[1].tolist() == list(range(25, 32))
    assert y0.tolist() == (x0 + 1).tolist()
    x1, _ = items[1]
    assert x1[:, 0].tolist() == (x0[:, -1] + 1).tolist()  # each row continues where it stopped
    assert isinstance(batches, BPTTBatches)
    with pytest.raises(ValueError, match="too short for 60 rows"):
        bptt_batches(stream, batch_size=60, seq_len=5)
