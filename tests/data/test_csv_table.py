"""Two-pass CSV tables: encoding values, train-only statistics, memmaps, splits and every error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dendrite.data import csv_table
from dendrite.data.csv_table import csv_splits, encode_csv, scan_csv
from dendrite.data.file_errors import DataFileError
from dendrite.data.splits import train_test_split
from dendrite.data.table_encoding import TableEncoding

WIDTHS = [1.5, 2.0, 3.25, 0.5, 4.0, 2.5, 1.0, 3.0, 5.5, 0.25, 2.75, 3.5]
COLORS = ["red", "blue", "green", "red", "red", "blue", "green", "blue", "red", "green", "blue", "red"]
COUNTS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
SPECIES = ["b", "a", "c", "b", "a", "c", "b", "a", "c", "b", "a", "c"]


def write(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def flowers(tmp_path):
    lines = ["width,color,count,species"] + [
        f"{w},{c},{n},{s}" for w, c, n, s in zip(WIDTHS, COLORS, COUNTS, SPECIES)]
    return write(tmp_path / "flowers.csv", "\n".join(lines) + "\n")


def expected_features(rows):
    """x for the given row indices, standardised with exactly those rows' statistics (NumPy)."""
    widths, counts = np.array(WIDTHS)[rows], np.array(COUNTS, float)[rows]
    onehot = np.array([[c == k for k in ("blue", "green", "red")] for c in np.array(COLORS)[rows]], float)
    return np.column_stack([(widths - widths.mean()) / widths.std(), onehot,
                            (counts - counts.mean()) / counts.std()])


def split_rows(labels, test_fraction=0.25, seed=0):
    """The train and test row indices (file order) that csv_splits promises: train_test_split's choice."""
    _, _, test, _ = train_test_split(np.arange(len(labels)), labels, test_fraction, seed, stratify=True)
    is_test = np.zeros(len(labels), bool)
    is_test[test] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def test_classification_split_standardises_with_training_rows_only(flowers):
    encoding, x_train, y_train, x_test, y_test = csv_splits(flowers, test_fraction=0.25)
    assert encoding.task == "classification" and encoding.classes == ["a", "b", "c"]
    assert encoding.feature_names == ["width", "color=blue", "color=green", "color=red", "count"]
    labels = np.array([encoding.classes.index(s) for s in SPECIES])
    train, test = split_rows(labels)
    assert x_train.dtype == np.float32 and x_train.shape == (9, 5) and x_test.shape == (3, 5)
    np.testing.assert_allclose(x_train, expected_features(train), atol=1e-6)
    widths, counts = np.array(WIDTHS)[train], np.array(COUNTS, float)[train]
    test_expected = expected_features(test)
    test_expected[:, 0] = (np.array(WIDTHS)[test] - widths.mean()) / widths.std()
    test_expected[:, 4] = (np.array(COUNTS, float)[test] - counts.mean()) / counts.std()
    np.testing.assert_allclose(x_test, test_expected, atol=1e-6)
    assert y_train.dtype == np.int64 and y_train.tolist() == labels[train].tolist()
    assert y_test.tolist() == labels[test].tolist()
    assert encoding.columns[0].mean == pytest.approx(widths.mean(), rel=1e-15)
    assert encoding.columns[0].std == pytest.approx(widths.std(), rel=1e-15)


def test_json_round_trip_is_exact(flowers):
    encoding = csv_splits(flowers)[0]
    again = TableEncoding.from_json(json.loads(json.dumps(encoding.to_json())))
    assert again == encoding and again.feature_names == encoding.feature_names


def test_encode_csv_matches_columns_by_name(flowers, tmp_path):
    encoding, x_train, *_ = csv_splits(flowers, test_fraction=0.25)
    x, y = encode_csv(flowers, encoding)
    train, _ = split_rows(y)
    np.testing.assert_allclose(x[train], x_train, atol=1e-6)   # the same rows, the same encoding
    lines = ["extra,species,count,color,width"] + [
        f"zz,{s},{n},{c},{w}" for w, c, n, s in zip(WIDTHS, COLORS, COUNTS, SPECIES)]
    shuffled = write(tmp_path / "reordered.csv", "\n".join(lines) + "\n")
    x2, y2 = encode_csv(shuffled, encoding)
    assert np.array_equal(x2, x) and np.array_equal(y2, y)
    x3, y3 = encode_csv(write(tmp_path / "new.csv", "color,width,count\nred,1,2\n"), encoding,
                        require_target=False)
    assert y3 is None and x3[0, 1:4].tolist() == [0.0, 0.0, 1.0]
    assert x3[0, 0] == pytest.approx((1 - encoding.columns[0].mean) / encoding.columns[0].std, rel=1e-6)


def test_whole_number_labels_sort_numerically(tmp_path):
    path = write(tmp_path / "digits.csv", "a,label\n1,10\n2,2\n3,1\n4,2.0\n5,10\n")
    encoding, scan = scan_csv(path)
    assert encoding.task == "classification" and encoding.classes == ["1", "2", "10"]
    assert scan.labels.dtype == np.int32 and scan.labels.tolist() == [2, 1, 0, 1, 2]
    assert encoding.decode_target([2, 0]) == ["10", "1"]
    assert encode_csv(path, encoding)[1].tolist() == [2, 1, 0, 1, 2]


def test_regression_target_standardised_and_decoded(tmp_path):
    prices = np.array([10.5, 12.0, 9.25, 20.0, 15.5, 11.0, 13.75, 8.0, 16.25, 14.0])
    path = write(tmp_path / "houses.csv", "rooms,price\n" + "".join(
        f"{i % 4 + 1},{p}\n" for i, p in enumerate(prices)))
    encoding, x_train, y_train, x_test, y_test = csv_splits(path, test_fraction=0.3, seed=3)
    assert encoding.task == "regression" and encoding.classes is None
    assert y_train.shape == (7, 1) and y_test.shape == (3, 1) and y_train.dtype == np.float32
    _, _, test, _ = train_test_split(np.arange(10), None, 0.3, 3)
    train = np.setdiff1d(np.arange(10), test)
    expected = (prices[train] - prices[train].mean()) / prices[train].std()
    np.testing.assert_allclose(y_train[:, 0], expected, atol=1e-6)
    np.testing.assert_allclose(encoding.decode_target(y_test)[:, 0], prices[np.sort(test)], rtol=1e-6)
    assert TableEncoding.from_json(encoding.to_json()) == encoding


def test_task_guess_and_forced_kinds(tmp_path):
    many = write(tmp_path / "many.csv", "x,y\n" + "".join(f"{i},{i}\n" for i in range(60)))
    assert scan_csv(many)[0].task == "regression"   # 60 distinct whole numbers
    assert scan_csv(many, task="classification")[0].classes[:3] == ["0", "1", "2"]
    zips = write(tmp_path / "zips.csv", "zip,y\n02139,a\n10001,b\n02139,b\n")
    encoding, _ = scan_csv(zips, categorical=["zip"])
    assert encoding.feature_names == ["zip=02139", "zip=10001"]


@pytest.mark.parametrize("chunk_cells", [7, 10**6])
def test_memmap_path_equals_in_memory(flowers, tmp_path, monkeypatch, chunk_cells):
    monkeypatch.setattr(csv_table, "CHUNK_CELLS", chunk_cells)   # 7 cells: one row per chunk
    plain = csv_splits(flowers, test_fraction=0.25)
    monkeypatch.setattr(csv_table, "IN_MEMORY_BYTES", 16)
    folder = tmp_path / "maps"
    folder.mkdir()
    mapped = csv_splits(flowers, test_fraction=0.25, memmap_dir=folder)
    assert mapped[0] == plain[0]
    for a, b, name in ((plain[1], mapped[1], "x_train"), (plain[3], mapped[3], "x_test")):
        assert isinstance(b, np.memmap) and not isinstance(a, np.memmap)
        assert b.filename is not None and (folder / f"{name}.npy").samefile(b.filename)
        assert np.array_equal(a, b) and not b.flags.writeable
    assert np.array_equal(plain[2], mapped[2]) and np.array_equal(plain[4], mapped[4])
    x, y = encode_csv(flowers, plain[0])
    xm, ym = encode_csv(flowers, plain[0], memmap_dir=folder)
    assert isinstance(xm, np.memmap) and (folder / "flowers_x.npy").samefile(xm.filename)
    assert np.array_equal(x, xm) and np.array_equal(y, ym)


def test_chunked_statistics_match_one_chunk(flowers, monkeypatch):
    whole = csv_splits(flowers)
    monkeypatch.setattr(csv_table, "CHUNK_CELLS", 9)   # two rows per chunk
    chunked = csv_splits(flowers)
    for a, b in zip(whole[0].columns, chunked[0].columns):
        assert a.kind == b.kind and a.categories == b.categories
        if a.kind == "numeric":
            assert b.mean == pytest.approx(a.mean, rel=1e-14) and b.std == pytest.approx(a.std, rel=1e-14)
    np.testing.assert_allclose(whole[1], chunked[1], atol=1e-6)


def test_stratified_split_proportions_and_seeds(tmp_path):
    labels = ["a"] * 70 + ["b"] * 30
    path = write(tmp_path / "skewed.csv", "v,k\n" + "".join(f"{i},{k}\n" for i, k in enumerate(labels)))
    first = csv_splits(path, test_fraction=0.2, seed=5)
    assert np.bincount(first[4]).tolist() == [14, 6] and np.bincount(first[2]).tolist() == [56, 24]
    again = csv_splits(path, test_fraction=0.2, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(first[1:], again[1:]))
    other = csv_splits(path, test_fraction=0.2, seed=6)
    assert not np.array_equal(first[3], other[3])


def test_tsv_and_quoted_fields(tmp_path):
    tsv = write(tmp_path / "t.tsv", "size\tcolor\tkind\n1\tdark, red\tx\n2\tblue\ty\n")
    encoding, scan = scan_csv(tsv)
    assert encoding.delimiter == "\t" and encoding.feature_names == ["size", "color=blue", "color=dark, red"]
    quoted = write(tmp_path / "q.csv", 'size,color,kind\n1,"dark, red",x\n2,"two\nlines",y\n3,blue,"x"\n')
    encoding, scan = scan_csv(quoted)
    assert encoding.columns[1].categories == ["blue", "dark, red", "two\nlines"] and scan.rows == 3
    x, y = encode_csv(quoted, encoding)
    assert x[:, 1:].tolist() == [[0, 1, 0], [0, 0, 1], [1, 0, 0]] and y.tolist() == [0, 1, 0]
    bad = write(tmp_path / "q2.csv", 'size,color,kind\n1,"two\nlines",x\n2,blue,y\noops,red,x\n')
    with pytest.raises(DataFileError, match=r"q2\.csv line 5: column 'size' holds 'oops'"):
        scan_csv(bad)   # the quoted newline makes 'oops' line 5, not 4


ERRORS = [
    ("empty.csv", "", r"empty\.csv: is empty"),
    ("blank.csv", "\n\n", r"blank\.csv: is empty"),
    ("header.csv", "a,b\n", r"header\.csv line 1: is the header row, and no data rows"),
    ("numbers.csv", "1,2\n3,4\n", r"numbers\.csv line 1: the first row holds numbers .*header row naming"),
    ("fields.csv", "a,b,c\n1,2,x\n1,2\n", r"fields\.csv line 3: has 2 fields; expected 3"),
    ("hole.csv", "a,b\n1,x\n,y\n", r"hole\.csv line 3: column 'a' is empty; dendrite does not guess missing"),
    ("nan.csv", "a,b\n1,x\n2,y\nnan,x\n", r"nan\.csv line 4: column 'a' holds 'nan'; dendrite does not"),
    ("inf.csv", "a,b\n1,2.5\n2,inf\n", r"inf\.csv line 3: column 'b' holds 'inf'; dendrite does not guess"),
    ("nolabel.csv", "a,b\n1,x\n2,\n", r"nolabel\.csv line 3: column 'b' is empty"),
    ("one.csv", "a,b\n1,x\n2,x\n", r"one\.csv line 1: target 'b' holds one class only \('x'\)"),
    ("twice.csv", "a,b,a\n1,2,x\n", r"twice\.csv line 1: the header names column 'a' twice \(columns 1"),
    ("mixed.csv", "a,b\n1,x\n2,y\nthree,x\n4,y\n",
     r"mixed\.csv line 4: column 'a' holds 'three', the first text .*3 numbers and 1 text.*--categorical a"),
    ("mixed2.csv", "a,b\nu,x\nv,y\n7,x\n", r"mixed2\.csv line 4: column 'a' holds '7', the first number"),
    ("onecolumn.csv", "a\nx\n", r"onecolumn\.csv line 1: has one column"),
]


@pytest.mark.parametrize("name, text, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_scan_errors_name_file_and_line(tmp_path, name, text, message):
    with pytest.raises(DataFileError, match=message):
        scan_csv(write(tmp_path / name, text))


def test_argument_errors(tmp_path):
    path = write(tmp_path / "cols.csv", "a,b\n1,x\n2,y\n")
    with pytest.raises(DataFileError, match=r"cols\.csv line 1: has no target column 'nope'; .*'a', 'b'"):
        scan_csv(path, target="nope")
    with pytest.raises(DataFileError, match=r"cols\.csv line 1: has no categorical column 'c'"):
        scan_csv(path, categorical=["c"])
    with pytest.raises(DataFileError, match=r"cols\.csv line 2: target 'b' holds 'x'; a regression target"):
        scan_csv(path, task="regression")
    with pytest.raises(FileNotFoundError):
        scan_csv(tmp_path / "absent.csv")


def test_encode_errors_name_file_line_and_known_values(flowers, tmp_path):
    encoding = scan_csv(flowers)[0]
    unseen = write(tmp_path / "unseen.csv", "width,color,count,species\n1,red,1,a\n2,purple,1,a\n")
    with pytest.raises(DataFileError, match=r"unseen\.csv line 3: column 'color' holds 'purple', a category "
                       r"not seen in training; known: 'blue', 'green', 'red'"):
        encode_csv(unseen, encoding)
    label = write(tmp_path / "label.csv", "width,color,count,species\n1,red,1,a\n2,red,1,z\n")
    with pytest.raises(DataFileError, match=r"label\.csv line 3: target 'species' holds 'z', a class not "
                       r"seen in training; known: 'a', 'b', 'c'"):
        encode_csv(label, encoding)
    lacking = write(tmp_path / "lacking.csv", "width,count,species\n1,1,a\n")
    with pytest.raises(DataFileError, match=r"lacking\.csv line 1: has no column 'color'"):
        encode_csv(lacking, encoding)
    no_target = write(tmp_path / "notarget.csv", "width,color,count\n1,red,1\n")
    with pytest.raises(DataFileError, match=r"notarget\.csv line 1: has no target column 'species'"):
        encode_csv(no_target, encoding)
    word = write(tmp_path / "word.csv", "width,color,count,species\n1,red,1,a\n1,red,x,a\n")
    with pytest.raises(DataFileError, match=r"word\.csv line 3: column 'count' holds 'x'; expected a number"):
        encode_csv(word, encoding)
    header = write(tmp_path / "justheader.csv", "width,color,count,species\n")
    with pytest.raises(DataFileError, match=r"justheader\.csv line 2: has a header row but no data rows"):
        encode_csv(header, encoding)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.update(task="clustering"), "task 'clustering'"),
    (lambda d: d["columns"][0].update(std=0.0), "positive 'std'"),
    (lambda d: d["columns"][1].update(kind="text"), "kind 'text'"),
    (lambda d: d.update(classes=["a"]), "at least 2"),
    (lambda d: d.update(delimiter=",,"), "one character"),
])
def test_from_json_rejects_malformed(flowers, change, message):
    d = scan_csv(flowers)[0].to_json()
    change(d)
    with pytest.raises(ValueError, match=message):
        TableEncoding.from_json(d)
