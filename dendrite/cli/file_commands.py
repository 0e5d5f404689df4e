"""The user's own files on the command line: ``train --data PATH``, ``predict`` and ``evaluate``.

``dendrite train MODEL --data PATH`` reads a CSV, ``.npz``, IDX, CIFAR-10 or image
folder (:func:`dendrite.data.user_data.load_user_data`) and, beside the weights,
writes ``data.json``: the model, its settings and how the data was read (format,
input shape, class names, standardisation, a CSV's column encoding). With it,

    dendrite predict RUN_DIR INPUT [--out FILE]      writes one CSV row per sample
    dendrite evaluate RUN_DIR --data PATH [--out DIR]  prints metrics, writes the confusion matrix

read new files exactly as the training files were read. A bad file is one line naming
the file, the line or record and what was expected, and exit status 2; nothing is
half-written (every output file is written atomically).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from dendrite.cli.errors import UsageError

__all__ = ["is_file_data", "run_predict", "run_evaluate"]  # the rest: train's and the commands' machinery

DATA_JSON = "data.json"


@contextmanager
def file_errors():
    """Turn a bad data file (or a missing one) into a :class:`UsageError`: one line, exit status 2."""
    from dendrite.data.file_errors import DataFileError

    try:
        yield
    # ImportError: an optional reader (Pillow for images) that is not installed
    except (DataFileError, FileNotFoundError, NotADirectoryError, ImportError) as error:
        raise UsageError(str(error)) from None


def is_file_data(name: str | None) -> bool:
    """Whether ``--data`` names a file or folder (rather than a built-in dataset).

    Example:
        >>> is_file_data("digits"), is_file_data("my/iris.csv"), is_file_data(None)
        (False, True, False)
    """
    if not name:
        return False
    from dendrite.data import list_datasets

    built_in = {row["name"] for row in list_datasets(load=False) if not row.get("needs_files")}
    if name.strip().lower().replace("_", "-") in built_in:
        return False
    path = Path(name).expanduser()
    return path.exists() or "/" in name or path.suffix.lower() in (".csv", ".tsv", ".txt", ".npz")


def load_file_data(args, cache_dir: Path | None):
    """The :class:`~dendrite.data.user_data.UserData` that ``--data PATH`` (and ``--val``/``--test``) name."""
    from dendrite.data.user_data import load_user_data

    path = Path(args.data).expanduser()
    if not path.exists():
        raise UsageError(f"--data {args.data!r}: no such file or folder (and no built-in dataset of that "
                         "name; see `dendrite datasets`)")
    with file_errors():
        return load_user_data(path, target=getattr(args, "target", None),
                              categorical=tuple(getattr(args, "categorical", None) or ()),
                              val=getattr(args, "val", None), test=getattr(args, "test", None),
                              seed=getattr(args, "seed", 0), memmap_dir=cache_dir,
                              progress=not getattr(args, "quiet", True))


@contextmanager
def cache_folder(out: Path):
    """A scratch folder inside ``out`` for a large CSV's memory-mapped rows; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=".data-cache-", dir=out))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_data_json(out: Path, model: str, settings: dict, spec) -> Path:
    """Write ``out/data.json`` (atomically): the model, its settings and the data spec."""
    from dendrite.utils.atomic import atomic_write_text

    plain = json.loads(json.dumps(settings, default=lambda value: None))  # tuples -> lists
    text = json.dumps({"format": "dendrite-data-run", "model": model, "settings": plain,
                       "data": spec.to_json()}, indent=2) + "\n"
    return atomic_write_text(Path(out) / DATA_JSON, text)


def load_run(run_dir: str | Path):
    """``(model in eval mode, data spec, data.json as a dict)`` of a ``train MODEL --data PATH`` run."""
    import dendrite
    from dendrite.data.splits import DataSplits
    from dendrite.data.user_data import DataSpec
    from dendrite.recipes.base import saved_weights
    from dendrite.recipes.catalog import MODELS

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"no run folder {str(run_dir)!r}; train one with `dendrite train MODEL --data PATH "
                         f"--out {run_dir}`")
    info_path = run_dir / DATA_JSON
    if not info_path.is_file():
        raise UsageError(f"{str(run_dir)!r} has no {DATA_JSON}: only runs trained on your own files "
                         "(`dendrite train MODEL --data PATH`) can predict and evaluate")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("format") != "dendrite-data-run":
            raise ValueError("its format is not dendrite-data-run")
        spec = DataSpec.from_json(info.get("data"))
    except ValueError as error:
        raise UsageError(f"{str(info_path)!r} is not a readable run description: {error}") from None
    if info.get("model") not in MODELS:
        raise UsageError(f"{str(info_path)!r} names model {info.get('model')!r}, which this dendrite does "
                         "not have")
    weights = saved_weights(run_dir)
    if weights is None:
        raise UsageError(f"{str(run_dir)!r} has no model.safetensors or model.npz: did the training run "
                         "finish (a diverged run keeps no weights)?")
    shape = tuple(spec.input_shape)
    targets = np.zeros(1, np.int64) if spec.task == "classification" else np.zeros((1, 1), np.float32)
    stub = DataSplits("run", spec.task, np.zeros((1, *shape), np.float32), targets,
                      np.zeros((1, *shape), np.float32), targets, shape, spec.num_classes)
    model = MODELS[info["model"]].build(stub, info.get("settings") or {})
    model.load_state_dict(dendrite.load(weights))
    model.eval()
    return model, spec, info


def _run_on(run_dir, source: Path, require_target: bool, quiet: bool) -> tuple:
    """``(data spec, data.json, outputs (N, K) float64, targets or None, ids)`` of a run on ``source``."""
    from dendrite.data.user_data import read_inputs
    from dendrite.recipes.classification import predict_logits

    model, spec, info = load_run(run_dir)
    with tempfile.TemporaryDirectory(prefix="dendrite-inputs-") as cache, file_errors():
        x, y, ids = read_inputs(spec, source, require_target=require_target, progress=not quiet,
                                memmap_dir=Path(cache))
        outputs = np.asarray(predict_logits(model, x, batch_size=256), dtype=np.float64)
    return spec, info, outputs, y, ids


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _default_out(run_dir: Path, data: Path, kind: str, suffix: str = "") -> Path:
    stem = data.stem if data.is_file() else data.name
    return run_dir / f"{kind}-{stem}{suffix}"


def run_predict(args) -> int:
    """Predict ``args.input`` with the run in ``args.run_dir``; write one CSV row per sample.

    Usage: ``dendrite predict RUN_DIR INPUT [--out FILE]``. Columns: ``id`` (the row number of
    a table, the index in an array file, an image's path), ``prediction`` (a class name or a
    number in the target's units) and, for classifiers, ``confidence`` and one ``p(class)``
    column per class. Returns 0.

    Example:
        >>> import argparse
        >>> run_predict(argparse.Namespace(run_dir="no/such/run", input="x.csv", out=None, quiet=True))
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: no run folder 'no/such/run'; ...
    """
    from dendrite.utils.atomic import atomic_write_text

    source = Path(args.input).expanduser()
    spec, info, outputs, _, ids = _run_on(args.run_dir, source, require_target=False, quiet=args.quiet)
    out = Path(args.out) if args.out else _default_out(Path(args.run_dir), source, "predictions", ".csv")
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    if spec.task == "classification":
        probabilities = _softmax(outputs)
        writer.writerow(["id", "prediction", "confidence", *(f"p({name})" for name in spec.classes)])
        for sample, row in zip(ids, probabilities):
            best = int(row.argmax())
            writer.writerow([sample, spec.classes[best], f"{row[best]:.6g}", *(f"{p:.6g}" for p in row)])
    else:
        values = spec.decode(outputs)
        width = values.shape[1]
        names = ["prediction"] if width == 1 else [f"prediction_{i}" for i in range(width)]
        writer.writerow(["id", *names])
        for sample, row in zip(ids, values):
            writer.writerow([sample, *(f"{v:.8g}" for v in row)])
    try:
        atomic_write_text(out, table.getvalue())
    except OSError as error:
        reason = error.strerror or error
        raise UsageError(f"--out {str(out)!r}: cannot write the predictions ({reason})") from None
    print(f"{info['model']}: {len(ids)} predictions for {source} -> {out}")
    return 0


def evaluation_metrics(spec, outputs: np.ndarray, y: np.ndarray) -> tuple[dict, np.ndarray | None]:
    """``(metrics, confusion matrix or None)`` of model outputs against encoded targets.

    Classification: ``accuracy``, ``macro_f1``, ``loss`` (mean cross-entropy, nats); regression:
    ``rmse``, ``mae`` (the target's units) and ``r2``. Shapes: outputs (N, K), y (N,) or (N, k).
    """
    from dendrite.recipes.classification import classification_scores, regression_scores

    if spec.task == "classification":
        scores, matrix = classification_scores(outputs, y, spec.num_classes)
        return {"n": int(len(y)), **scores}, matrix
    truth, predicted = spec.decode(y.astype(np.float64)), spec.decode(outputs)
    return {"n": int(len(y)), **regression_scores(truth, predicted)}, None


def _confusion_csv(matrix: np.ndarray, classes: list) -> str:
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["true \\ predicted", *classes])
    for name, row in zip(classes, matrix):
        writer.writerow([name, *row.tolist()])
    return table.getvalue()


def run_evaluate(args) -> int:
    """Evaluate the run in ``args.run_dir`` on ``args.data``; print the metrics, write the confusion matrix.

    Usage: ``dendrite evaluate RUN_DIR --data PATH [--out DIR]``. Writes ``DIR/metrics.json``
    and, for classifiers, ``DIR/confusion.csv`` (rows: true class, columns: predicted) and
    ``confusion.png`` (with Matplotlib); ``DIR`` defaults to ``RUN_DIR/evaluation-NAME``. Labels
    the training data never had are an error (exit 2). Returns 0.

    Example:
        >>> import argparse
        >>> run_evaluate(argparse.Namespace(run_dir="no/such/run", data="x.csv", out=None, quiet=True))
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: no run folder 'no/such/run'; ...
    """
    from dendrite.cli.out_folder import prepare_out, remove_if_empty
    from dendrite.train import plots
    from dendrite.utils.atomic import atomic_write_text
    from dendrite.utils.strict_json import dumps

    source = Path(args.data).expanduser()
    spec, info, outputs, y, _ = _run_on(args.run_dir, source, require_target=True, quiet=args.quiet)
    found, matrix = evaluation_metrics(spec, outputs, np.asarray(y))
    out = Path(args.out) if args.out else _default_out(Path(args.run_dir), source, "evaluation")
    created = prepare_out(out)
    try:
        atomic_write_text(out / "metrics.json", dumps({"model": info["model"], "data": str(source), **found},
                                                      indent=2) + "\n")
        if matrix is not None:
            atomic_write_text(out / "confusion.csv", _confusion_csv(matrix, spec.classes))
            with plots.pictures_if_possible():
                plots.plot_confusion_matrix(matrix, out / "confusion.png", class_names=spec.classes,
                                            title=f"{info['model']} on {source.name}")
    except BaseException:
        remove_if_empty(created)
        raise
    shown = ", ".join(f"{key} {value:.4g}" for key, value in found.items() if key != "n")
    print(f"{info['model']} on {source} ({found['n']} samples): {shown} -> {out}")
    return 0
