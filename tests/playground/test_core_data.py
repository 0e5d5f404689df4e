"""Playground points: TF sets unchanged for 2 classes, multiclass sets, splits, features, CSV, clicks."""

from __future__ import annotations

import numpy as np
import pytest

from dendrite.data import make_playground, make_playground_multiclass
from dendrite.data.toy2d_multiclass import make_blob_ring, make_spiral_arms
from dendrite.playground import DataError, PlaygroundSession
from dendrite.playground.config import MAX_CUSTOM_POINTS, MAX_UPLOAD_BYTES
from dendrite.playground.datasets import builtin_points, feature_matrix, loss_targets, parse_csv, split_points


@pytest.mark.parametrize("name", ["circle", "xor", "gaussian", "spiral"])
def test_two_classes_are_the_tensorflow_playground_sets(name):
    xy, labels = builtin_points(name, "classification", 2, 300, 25, 7)
    expected_xy, expected_labels = make_playground(name, 300, 0.25, 7)
    np.testing.assert_array_equal(xy, expected_xy)
    np.testing.assert_array_equal(labels, expected_labels)


@pytest.mark.parametrize("name", ["plane", "multigauss"])
def test_regression_sets_are_the_playground_sets(name):
    xy, values = builtin_points(name, "regression", 2, 200, 0, 3)
    expected_xy, expected = make_playground(name, 200, 0.0, 3)
    np.testing.assert_array_equal(xy, expected_xy)
    np.testing.assert_array_equal(values, expected[:, 0])
    assert values.dtype == np.float32 and np.abs(values).max() <= 1.2  # plane: (x + y) / 10


@pytest.mark.parametrize("classes", [3, 4, 5, 6])
@pytest.mark.parametrize("maker", [make_blob_ring, make_spiral_arms])
def test_multiclass_counts_and_range(maker, classes):
    xy, labels = maker(301, classes, 0.2, seed=1)
    counts = np.bincount(labels, minlength=classes)
    assert counts.sum() == 301 and counts.max() - counts.min() <= 1 and len(counts) == classes
    assert xy.dtype == np.float32
    if maker is make_spiral_arms:  # arms end at radius 5; blobs have Gaussian tails like the Playground's
        assert np.abs(xy).max() < 5.3
    again, _ = maker(301, classes, 0.2, seed=1)
    np.testing.assert_array_equal(xy, again)
    assert not np.array_equal(xy, maker(301, classes, 0.2, seed=2)[0])


def test_blob_ring_classes_sit_on_their_own_centres():
    xy, labels = make_blob_ring(600, 4, 0.0, seed=0)
    centres = np.array([xy[labels == j].mean(0) for j in range(4)])
    radii = np.linalg.norm(centres, axis=1)
    np.testing.assert_allclose(radii, 3.5, atol=0.3)
    assert np.linalg.norm(centres[0] - centres[1]) > 4  # 90 degrees apart on a 3.5 ring


def test_spiral_arms_are_turned_copies():
    xy, labels = make_spiral_arms(300, 3, 0.0, seed=0)
    arm0 = xy[labels == 0]
    outer = arm0[np.argmax(np.linalg.norm(arm0, axis=1))]
    assert np.linalg.norm(outer) == pytest.approx(5 * 99 / 100, rel=1e-5)


def test_multiclass_refuses_two_class_only_sets():
    with pytest.raises(ValueError, match="'circle' has 2 classes only"):
        make_playground_multiclass("circle", 100, classes=3)
    with pytest.raises(ValueError, match="classes must be an int >= 2"):
        make_spiral_arms(100, classes=1)


def test_split_is_seeded_and_sized():
    xy, labels = builtin_points("xor", "classification", 2, 500, 0, 0)
    x_train, y_train, x_test, y_test = split_points(xy, labels, 30, 4)
    assert (len(x_train), len(x_test)) == (150, 350)
    again = split_points(xy, labels, 30, 4)
    np.testing.assert_array_equal(x_train, again[0])
    assert not np.array_equal(x_train, split_points(xy, labels, 30, 5)[0])


def test_features_and_targets():
    xy = np.array([[1.5, -2.0]], np.float32)
    row = feature_matrix(xy, ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"])[0]
    np.testing.assert_allclose(row, [1.5, -2.0, 2.25, 4.0, -3.0, np.sin(1.5), np.sin(-2.0)], rtol=1e-6)
    assert loss_targets(np.array([0, 2]), "classification", 3).dtype == np.int64
    assert loss_targets(np.array([0.5], np.float32), "regression", 2).shape == (1, 1)


def test_csv_with_and_without_header():
    xy, labels = parse_csv("1, 2, 0\n-1,-2,1\n\n3,3,2\n0,0,1\n", "classification")
    assert xy.tolist() == [[1, 2], [-1, -2], [3, 3], [0, 0]] and labels.tolist() == [0, 1, 2, 1]
    xy, values = parse_csv("x,y,target\n1,1,0.5\n2,2,-0.25\n3,3,1\n-3,0,-1\n", "regression")
    assert values.dtype == np.float32 and values.tolist() == [0.5, -0.25, 1.0, -1.0]


ROWS = "1,1,0\n2,2,1\n3,3,0\n"
BAD_CSV = [
    ("x,y\n1,1\n", "line 1: expected 3 columns"),
    (ROWS + "4,4,1,9\n", "line 4: expected 3 columns"),
    (ROWS + "4,abc,1\n", "line 4: y 'abc' is not a number"),
    (ROWS + "nan,1,1\n", "line 4: x is nan"),
    (ROWS + "1,inf,1\n", "line 4: y is inf"),
    (ROWS + "7,1,1\n", r"line 4: \(7, 1\) lies outside the view"),
    (ROWS + "1,1,1.5\n", "line 4: a class label must be a whole number 0..5"),
    (ROWS + "1,1,6\n", "line 4: a class label must be a whole number 0..5"),
    (ROWS, "found 3 points; at least 4"),
    ("1,1,0\n2,2,0\n3,3,0\n4,4,0\n", "every point has class 0; at least 2 classes"),
    (",".join(["1"] * 3) + "\n" + "x" * (MAX_UPLOAD_BYTES + 1), "bytes; at most 262144"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CSV)
def test_csv_errors_name_line_and_problem(text, message):
    with pytest.raises(DataError, match=message):
        parse_csv(text, "classification")


def test_csv_row_limit_and_regression_range():
    rows = "".join(f"{i % 5},{i % 3},{i % 2}\n" for i in range(MAX_CUSTOM_POINTS + 1))
    message = f"line {MAX_CUSTOM_POINTS + 1}: more than {MAX_CUSTOM_POINTS} points"
    with pytest.raises(DataError, match=message):
        parse_csv(rows, "classification")
    with pytest.raises(DataError, match=r"line 2: a regression target must be in \[-1, 1\]"):
        parse_csv("0,0,0\n1,1,3\n2,2,0\n3,3,0\n", "regression")


def test_session_csv_upload_resets_and_keeps_the_split():
    s = PlaygroundSession({"train_ratio": 60, "data_seed": 3})
    s.step_epoch()
    version = s.data_version
    rows = "x,y,label\n" + "".join(f"{(i % 9) - 4},{(i % 7) - 3},{i % 3}\n" for i in range(40))
    s.load_csv(rows)
    snap = s.snapshot(include_points=True)
    assert (s.epoch, s.config["dataset"], s.config["classes"]) == (0, "custom", 3)
    assert snap["data_version"] == version + 1
    assert (len(snap["points"]["train"]), len(snap["points"]["test"])) == (24, 16)
    assert snap["network"]["layers"][-1] == {"neurons": 3, "activation": "softmax"}


def test_bad_upload_leaves_the_session_as_it_was():
    s = PlaygroundSession({"dataset": "xor"})
    s.step_epoch()
    with pytest.raises(DataError, match="line 2"):
        s.load_csv("1,1,0\n1,1\n")
    assert (s.config["dataset"], s.epoch) == ("xor", 1)


def test_add_point_copies_the_current_points():
    s = PlaygroundSession({"dataset": "spiral", "points": 100})
    before = s.snapshot(include_points=True)["points"]
    s.add_point(1.0, -1.0, 1)
    after = s.snapshot(include_points=True)["points"]
    old = sorted(map(tuple, before["train"] + before["test"]))
    new = sorted(map(tuple, after["train"] + after["test"]))
    assert len(new) == 101 and (1.0, -1.0, 1) in new
    assert sorted(set(new) - {(1.0, -1.0, 1)}) == sorted(set(old))
    s.add_point(-2, 2, 0)
    assert len(s.custom_points[0]) == 102 and s.config["dataset"] == "custom"


@pytest.mark.parametrize(("point", "message"), [
    ((7.0, 0.0, 1), "outside the view"), ((0.0, float("nan"), 1), "y must be a finite number"),
    ((0.0, 0.0, 2.5), "whole number"), ((0.0, 0.0, -1), "whole number"), (("a", 0.0, 1), "x must be"),
])
def test_add_point_errors(point, message):
    s = PlaygroundSession({"points": 100})
    with pytest.raises(DataError, match=message):
        s.add_point(*point)
    assert s.config["dataset"] == "circle"


def test_add_point_regression_and_problem_switch():
    s = PlaygroundSession({"dataset": "plane", "points": 100})
    with pytest.raises(DataError, match=r"in \[-1, 1\]"):
        s.add_point(0, 0, 2.0)
    s.add_point(0, 0, 0.5)
    assert s.config["problem"] == "regression" and s.custom_points[1].dtype == np.float32
    s.configure({"problem": "classification"})
    labels = s.custom_points[1]
    assert labels.dtype == np.int64 and set(labels.tolist()) == {0, 1}


def test_custom_without_points_starts_from_the_default_set():
    s = PlaygroundSession({"dataset": "custom", "problem": "regression", "points": 100})
    xy, values = s.custom_points
    np.testing.assert_array_equal(xy, builtin_points("plane", "regression", 2, 100, 0, 0)[0])
    assert s.snapshot()["problem"] == "regression" and values.dtype == np.float32


def test_data_version_bumps_only_when_the_points_change():
    s = PlaygroundSession({"points": 100})
    version = s.data_version
    s.configure({"layers": [], "learning_rate": 0.1})
    s.reset()
    assert s.data_version == version
    s.configure({"noise": 10})
    assert s.data_version == version + 1
    s.configure({"train_ratio": 70})
    assert s.data_version == version + 2
