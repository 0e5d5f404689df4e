"""`dendrite train/evaluate/predict` on the user's own files: every format, the round trips, the bad files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from dendrite.cli.main import main
from tests.cli import own_files as make


def run(argv, capsys) -> tuple:
    code = main([str(word) for word in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_predictions(path) -> list:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def train(capsys, data, out, *options, model="mlp", epochs=8) -> dict:
    code, stdout, stderr = run(["train", model, "--data", data, "--epochs", epochs, "--quiet", "--out", out,
                                *options], capsys)
    assert code == 0, stderr
    assert str(out) in stdout
    return json.loads((out / "metrics.json").read_text())


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_with_categorical_columns_round_trips_through_evaluate_and_predict(tmp_path, capsys):
    train_rows, test_rows = make.table_rows(400, seed=0), make.table_rows(150, seed=1)
    train_csv = make.write_table(tmp_path / "animals.csv", train_rows)
    test_csv = make.write_table(tmp_path / "animals-test.csv", test_rows)
    run_dir = tmp_path / "run"
    metrics = train(capsys, train_csv, run_dir, "--target", "animal", "--test", test_csv, "--categorical",
                    "size", epochs=25)
    assert metrics["n_train"] == 400 and metrics["n_test"] == 150
    assert metrics["final"]["test_accuracy"] > 0.9
    described = json.loads((run_dir / "data.json").read_text())
    assert described["model"] == "mlp" and described["data"]["classes"] == ["bird", "cat", "dog"]
    columns = {column["name"]: column for column in described["data"]["table"]["columns"]}
    assert columns["colour"]["kind"] == "categorical" and columns["size"]["kind"] == "categorical"
    assert columns["x1"]["kind"] == "numeric"
    x1 = np.array([float(row[0]) for row in train_rows])
    assert columns["x1"]["mean"] == pytest.approx(x1.mean(), rel=1e-6)  # statistics of the training rows

    code, stdout, _ = run(["evaluate", run_dir, "--data", test_csv, "--out", tmp_path / "eval"], capsys)
    assert code == 0 and "accuracy" in stdout
    evaluation = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert evaluation["n"] == 150
    assert evaluation["accuracy"] == metrics["final"]["test_accuracy"]  # the same model, the same rows
    with open(tmp_path / "eval" / "confusion.csv", newline="") as handle:
        confusion = list(csv.reader(handle))
    assert confusion[0][1:] == ["bird", "cat", "dog"]
    assert sum(int(cell) for row in confusion[1:] for cell in row[1:]) == 150

    # New rows without the target, columns in another order: the same encoding by column name.
    unlabelled = make.write_table(tmp_path / "new.csv", [row[:4] for row in test_rows],
                                  header=("x1", "colour", "x2", "size"), columns=["size", "x2",
                                          "colour", "x1"])
    code, stdout, _ = run(["predict", run_dir, unlabelled, "--out", tmp_path / "predictions.csv"], capsys)
    assert code == 0 and "150 predictions" in stdout
    predictions = read_predictions(tmp_path / "predictions.csv")
    assert [p["id"] for p in predictions] == [str(i) for i in range(1, 151)]
    hits = np.mean([p["prediction"] == row[4] for p, row in zip(predictions, test_rows)])
    assert hits == pytest.approx(evaluation["accuracy"], abs=1e-12)
    for p in predictions:
        probabilities = [float(p[f"p({name})"]) for name in ("bird", "cat", "dog")]
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
        assert float(p["confidence"]) == pytest.approx(max(probabilities))


def test_csv_regression_predicts_in_the_targets_units(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    price = 1000.0 + 250.0 * x[:, 0] - 100.0 * x[:, 1] + rng.normal(scale=5.0, size=500)
    rows = [[f"{a:.5f}", f"{b:.5f}", f"{c:.5f}", f"{p:.3f}"] for (a, b, c), p in zip(x, price)]
    data = make.write_table(tmp_path / "houses.csv", rows, header=("a", "b", "c", "price"))
    metrics = train(capsys, data, tmp_path / "run", "--target", "price", epochs=30)
    assert metrics["final"]["test_r2"] > 0.95
    assert metrics["final"]["test_rmse"] < 60.0  # dollars, not standard deviations (std 270)
    make.write_table(tmp_path / "new.csv", [row[:3] for row in rows[:20]], header=("a", "b", "c"))
    code, _, stderr = run(["predict", tmp_path / "run", tmp_path / "new.csv", "--out",
                           tmp_path / "p.csv"], capsys)
    assert code == 0, stderr
    predicted = np.array([float(p["prediction"]) for p in read_predictions(tmp_path / "p.csv")])
    assert np.sqrt(np.mean((predicted - price[:20]) ** 2)) < 80.0


def test_a_large_csv_is_memory_mapped_and_trains_exactly_as_in_memory(tmp_path, capsys, monkeypatch):
    from dendrite.data import csv_table

    data = make.write_table(tmp_path / "animals.csv", make.table_rows(300, seed=0))
    in_memory = train(capsys, data, tmp_path / "in-memory", "--target", "animal", epochs=3)
    seen = []
    monkeypatch.setattr(csv_table, "IN_MEMORY_BYTES", 512)  # every part is "large": rows go to .npy memmaps

    def spy_splits(*args, **kwargs):
        parts = real_splits(*args, **kwargs)
        seen.append([type(part).__name__ for part in parts[1:]])
        return parts

    real_splits = csv_table.csv_splits
    monkeypatch.setattr(csv_table, "csv_splits", spy_splits)
    mapped = train(capsys, data, tmp_path / "mapped", "--target", "animal", epochs=3)
    assert seen and seen[0][0] == "memmap"
    assert mapped["final"] == in_memory["final"] and mapped["history"] == in_memory["history"]
    assert not list((tmp_path / "mapped").glob(".data-cache-*"))  # the scratch rows are removed


# -- arrays: .npz, IDX, CIFAR-10 ------------------------------------------------------------------


def test_npz_trains_and_predicts(tmp_path, capsys):
    images, labels = make.band_images(300, 3, size=8)
    np.savez(tmp_path / "bands.npz", x=images, y=labels + 1)  # labels 1, 2, 3
    metrics = train(capsys, tmp_path / "bands.npz", tmp_path / "run", epochs=10)
    assert metrics["final"]["test_accuracy"] > 0.9
    new_images, new_labels = make.band_images(30, 3, size=8, seed=5)
    np.savez(tmp_path / "new.npz", x=new_images)
    code, _, stderr = run(["predict", tmp_path / "run", tmp_path / "new.npz", "--out",
                           tmp_path / "p.csv"], capsys)
    assert code == 0, stderr
    predicted = [int(p["prediction"]) for p in read_predictions(tmp_path / "p.csv")]
    assert np.mean(np.array(predicted) == new_labels + 1) > 0.9
    np.savez(tmp_path / "labelled.npz", x=new_images, y=new_labels + 1)
    code, _, stderr = run(["evaluate", tmp_path / "run", "--data", tmp_path / "labelled.npz"], capsys)
    assert code == 0, stderr
    evaluation = json.loads((tmp_path / "run" / "evaluation-labelled" / "metrics.json").read_text())
    assert evaluation["accuracy"] == pytest.approx(np.mean(np.array(predicted) == new_labels + 1), abs=1e-12)


@pytest.mark.parametrize("layout", ["folder", "file pair"])
def test_idx_files_train_on_their_own_test_part(tmp_path, capsys, layout):
    folder = make.mnist_folder(tmp_path / "mnist")
    data = folder if layout == "folder" else folder / "train-images-idx3-ubyte"
    options = [] if layout == "folder" else ["--test", folder / "t10k-images-idx3-ubyte"]
    metrics = train(capsys, data, tmp_path / "run", *options, epochs=6)
    assert metrics["n_train"] == 240 and metrics["n_test"] == 80  # the t10k files are the test part
    assert metrics["final"]["test_accuracy"] > 0.9
    code, stdout, stderr = run(["evaluate", tmp_path / "run", "--data", folder], capsys)
    assert code == 0, stderr
    evaluation = json.loads((tmp_path / "run" / "evaluation-mnist" / "metrics.json").read_text())
    assert evaluation["accuracy"] == metrics["final"]["test_accuracy"]
    code, _, stderr = run(["predict", tmp_path / "run", folder / "t10k-images-idx3-ubyte", "--out",
                           tmp_path / "p.csv"], capsys)
    assert code == 0, stderr
    predicted = np.array([int(p["prediction"]) for p in read_predictions(tmp_path / "p.csv")])
    _, labels = make.band_images(80, 4, size=12, seed=1)  # the t10k part's labels
    assert np.mean(predicted == labels) == pytest.approx(evaluation["accuracy"], abs=1e-12)


@pytest.mark.parametrize("form", ["binary", "python"])
def test_cifar10_folders_train_in_either_form(tmp_path, capsys, form):
    writer = make.cifar_binary_folder if form == "binary" else make.cifar_python_folder
    folder = writer(tmp_path / "cifar-10-batches")
    metrics = train(capsys, folder, tmp_path / "run", model="cnn", epochs=4)
    assert metrics["n_train"] == 200 and metrics["n_test"] == 60
    assert metrics["final"]["test_accuracy"] > 0.85
    described = json.loads((tmp_path / "run" / "data.json").read_text())
    assert described["data"]["classes"] == ["airplane", "automobile", "bird", "cat"]
    assert described["data"]["input_shape"] == [3, 32, 32]
    code, _, stderr = run(["evaluate", tmp_path / "run", "--data", folder, "--out", tmp_path / "eval"],
                          capsys)
    assert code == 0, stderr
    evaluation = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert evaluation["n"] == 60 and evaluation["accuracy"] == metrics["final"]["test_accuracy"]
    code, _, stderr = run(["predict", tmp_path / "run", folder, "--out", tmp_path / "p.csv"], capsys)
    assert code == 0, stderr
    predicted = {p["prediction"] for p in read_predictions(tmp_path / "p.csv")}
    assert predicted <= set(described["data"]["classes"])


# -- image folders ----------------------------------------------------------------------------------


def test_image_folder_trains_evaluates_and_predicts_images(tmp_path, capsys):
    pytest.importorskip("PIL")
    root = make.image_tree(tmp_path / "bands", n=180)
    metrics = train(capsys, root, tmp_path / "run", epochs=10)
    assert metrics["n_train"] == 144 and metrics["n_test"] == 36  # a stratified 20 % held out
    assert metrics["final"]["test_accuracy"] > 0.9
    test_root = make.image_tree(tmp_path / "more", n=60, seed=3)
    code, _, stderr = run(["evaluate", tmp_path / "run", "--data", test_root], capsys)
    assert code == 0, stderr
    evaluation = json.loads((tmp_path / "run" / "evaluation-more" / "metrics.json").read_text())
    assert evaluation["n"] == 60 and evaluation["accuracy"] > 0.9
    one = next((test_root / "up").iterdir())
    code, _, stderr = run(["predict", tmp_path / "run", one, "--out", tmp_path / "one.csv"], capsys)
    assert code == 0, stderr
    (row,) = read_predictions(tmp_path / "one.csv")
    assert row["id"].endswith(one.name) and row["prediction"] == "up"
    (test_root / "sideways").mkdir()  # a class training never saw: predicting does not read labels
    make.image_tree(test_root / "sideways", n=6, seed=4)
    code, _, stderr = run(["predict", tmp_path / "run", test_root, "--out", tmp_path / "all.csv"], capsys)
    assert code == 0, stderr
    assert len(read_predictions(tmp_path / "all.csv")) == 66


# -- bad files: one line, exit 2, nothing written -----------------------------------------------------


def _bad_csv(tmp_path, line: int, cell: int, value: str):
    rows = make.table_rows(40)
    rows[line - 2][cell] = value  # line 1 is the header
    return make.write_table(tmp_path / "bad.csv", rows), line


BAD_TRAINING_DATA = {
    "a column that is not there": lambda tmp: (make.write_table(tmp / "bad.csv", make.table_rows(40)),
                                               ["--target", "species"], "species"),
    "mixed types": lambda tmp: (_bad_csv(tmp, 7, 0, "abc")[0], [], "line 7"),
    "a NaN": lambda tmp: (_bad_csv(tmp, 4, 2, "nan")[0], [], "line 4"),
    "an empty cell": lambda tmp: (_bad_csv(tmp, 9, 2, "")[0], [], "line 9"),
}


@pytest.mark.parametrize("case", sorted(BAD_TRAINING_DATA))
def test_a_bad_csv_is_one_line_naming_the_file_and_the_place(tmp_path, capsys, case):
    path, options, place = BAD_TRAINING_DATA[case](tmp_path)
    code, stdout, stderr = run(["train", "mlp", "--data", path, "--quiet", "--out",
                                tmp_path / "run", *options],
                               capsys)
    assert code == 2
    assert stderr.count("\n") == 1 and path.name in stderr and place in stderr
    assert not (tmp_path / "run").exists()


def test_a_row_with_the_wrong_number_of_fields_names_its_line(tmp_path, capsys):
    path = make.write_table(tmp_path / "bad.csv", make.table_rows(30))
    lines = path.read_text().splitlines()
    lines[12] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    code, _, stderr = run(["train", "mlp", "--data", path, "--out", tmp_path / "run"], capsys)
    assert code == 2 and stderr.count("\n") == 1 and "bad.csv line 13" in stderr


def test_test_labels_unseen_in_training_are_refused(tmp_path, capsys):
    train_csv = make.write_table(tmp_path / "train.csv", make.table_rows(60))
    rows = make.table_rows(20, seed=1)
    rows[5][4] = "fish"
    test_csv = make.write_table(tmp_path / "test.csv", rows)
    code, _, stderr = run(["train", "mlp", "--data", train_csv, "--test", test_csv, "--out",
                           tmp_path / "run"],
                          capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert "test.csv line 7" in stderr and "fish" in stderr
    assert not (tmp_path / "run").exists()
    images, labels = make.band_images(60, 3)
    np.savez(tmp_path / "train.npz", x=images, y=labels)
    np.savez(tmp_path / "test.npz", x=images[:10], y=np.full(10, 7))
    code, _, stderr = run(["train", "mlp", "--data", tmp_path / "train.npz", "--test", tmp_path / "test.npz",
                           "--out", tmp_path / "run"], capsys)
    assert code == 2 and "test.npz" in stderr and "7" in stderr and "not seen in training" in stderr


def test_image_folders_with_a_stray_size_or_an_empty_class_are_refused(tmp_path, capsys):
    pytest.importorskip("PIL")
    from PIL import Image

    root = make.image_tree(tmp_path / "sizes", n=30)
    odd = root / "up" / "odd.png"
    Image.new("L", (9, 8)).save(odd)
    code, _, stderr = run(["train", "mlp", "--data", root, "--out", tmp_path / "run"], capsys)
    assert code == 2 and stderr.count("\n") == 1 and "odd.png" in stderr and "8" in stderr
    root = make.image_tree(tmp_path / "empty", n=30)
    (root / "sideways").mkdir()
    code, _, stderr = run(["train", "mlp", "--data", root, "--out", tmp_path / "run"], capsys)
    assert code == 2 and stderr.count("\n") == 1 and "sideways" in stderr
    train_root = make.image_tree(tmp_path / "train", n=30)
    test_root = make.image_tree(tmp_path / "test", n=30, classes=("down", "middle", "up", "left"))
    code, _, stderr = run(["train", "mlp", "--data", train_root, "--test", test_root, "--out",
                           tmp_path / "run"],
                          capsys)
    assert code == 2 and stderr.count("\n") == 1 and "left" in stderr
    assert not (tmp_path / "run").exists()


def test_damaged_array_files_are_refused(tmp_path, capsys):
    folder = make.mnist_folder(tmp_path / "mnist")
    images = folder / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])
    code, _, stderr = run(["train", "mlp", "--data", folder, "--out", tmp_path / "run"], capsys)
    assert code == 2 and stderr.count("\n") == 1 and "train-images-idx3-ubyte" in stderr
    np.savez(tmp_path / "no-y.npz", x=np.zeros((10, 4)))
    code, _, stderr = run(["train", "mlp", "--data", tmp_path / "no-y.npz", "--out",
                           tmp_path / "run"], capsys)
    assert code == 2 and "no-y.npz" in stderr and "y" in stderr
    assert not (tmp_path / "run").exists()


def test_predict_refuses_inputs_that_do_not_fit_the_model(tmp_path, capsys):
    data = make.write_table(tmp_path / "animals.csv", make.table_rows(120))
    train(capsys, data, tmp_path / "run", epochs=1)
    rows = [row[:4] for row in make.table_rows(10, seed=2)]
    rows[3][1] = "purple"
    make.write_table(tmp_path / "new.csv", rows, header=("x1", "colour", "x2", "size"))
    code, _, stderr = run(["predict", tmp_path / "run", tmp_path / "new.csv", "--out",
                           tmp_path / "p.csv"], capsys)
    assert code == 2 and stderr.count("\n") == 1 and "new.csv line 5" in stderr and "purple" in stderr
    make.write_table(tmp_path / "short.csv", [row[:2] for row in rows], header=("x1", "colour"))
    code, _, stderr = run(["predict", tmp_path / "run", tmp_path / "short.csv"], capsys)
    assert code == 2 and "short.csv" in stderr and "x2" in stderr
    np.savez(tmp_path / "new.npz", x=np.zeros((3, 5), np.float32))
    code, _, stderr = run(["predict", tmp_path / "run", tmp_path / "new.npz"], capsys)
    assert code == 2 and "new.npz" in stderr
    assert not (tmp_path / "p.csv").exists()
    code, _, stderr = run(["predict", tmp_path / "nowhere", tmp_path / "new.csv"], capsys)
    assert code == 2 and "no run folder" in stderr


def test_the_doctor_examines_a_run_on_your_files(tmp_path, capsys):
    data = make.write_table(tmp_path / "animals.csv", make.table_rows(200))
    code, stdout, stderr = run(["doctor", "mlp", "--data", data, "--target", "animal", "--budget", 3600],
                               capsys)
    assert code == 0, stdout + stderr
    assert "no problems found" in stdout


@pytest.mark.parametrize("model, reason", [("cnn", "needs images"), ("gan", "samples of shape (6,)"),
                                           ("charlm", "not text"), ("vae", "reconstructs images")])
def test_a_model_that_does_not_fit_the_datas_shape_says_so(tmp_path, capsys, model, reason):
    data = make.write_table(tmp_path / "animals.csv", make.table_rows(60))
    code, _, stderr = run(["train", model, "--data", data, "--out", tmp_path / "run"], capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert f"model {model!r} cannot train on dataset" in stderr and reason in stderr
    assert not (tmp_path / "run").exists()
