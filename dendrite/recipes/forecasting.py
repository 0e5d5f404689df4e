"""``forecaster``: one-step-ahead prediction of a time series with a recurrent encoder.

The data are windows of the series (``x (N, T, 1)`` -> the next value ``y (N, 1)``),
split in time order and standardised with the training part's statistics (see
:mod:`dendrite.data.series`). The model is a GRU (or LSTM / RNN, ``--cell``) read
over the window and a linear head on its last output, trained with mean squared error.

The score is the **normalised RMSE** on the test part, ``RMSE / std(test targets)``:
0 is perfect, 1 is no better than always predicting the mean. It does not depend on
the units, so standardised and original values give the same number. Beside it is
the **repeat-last-value** baseline (tomorrow equals today), which a forecaster has to
beat to have learnt anything about the dynamics.

Files: ``curves.png`` (training and test MSE per epoch), ``prediction.png``
(prediction against truth over the test part, in the series' original units).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dendrite import nn
from dendrite.data import DataLoader
from dendrite.models.recurrent import Forecaster
from dendrite.recipes.base import RunResult, history_rows, make_optimizer
from dendrite.recipes.classification import build_schedule, predict_logits
from dendrite.train import Trainer, plots

__all__ = ["nrmse", "repeat_last_prediction", "run_forecaster", "forecaster_defaults", "needs_series",
           "build_forecaster"]


def nrmse(y_true, y_pred) -> float:
    """Root mean squared error divided by the standard deviation of ``y_true`` (population std).

    Shapes: any two arrays of one shape (e.g. ``(N, 1)``).

    Example:
        >>> nrmse([0.0, 2.0], [1.0, 1.0])  # RMSE 1, std 1
        1.0
    """
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if true.shape != pred.shape:
        raise ValueError(f"nrmse: y_true {true.shape} and y_pred {pred.shape} must have the same shape")
    scale = true.std()
    if not scale > 0:
        raise ValueError("nrmse: y_true is constant (std 0), so the normalised error is undefined")
    return float(np.sqrt(np.mean((true - pred) ** 2)) / scale)


def repeat_last_prediction(x: np.ndarray, output_size: int = 1) -> np.ndarray:
    """The baseline forecast: each window's last value. ``(N, T, F)`` -> ``(N, output_size)``.

    Example:
        >>> repeat_last_prediction(np.arange(6.0).reshape(2, 3, 1)).tolist()
        [[2.0], [5.0]]
    """
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[..., None]
    return x[:, -1, :output_size]


def needs_series(splits) -> str | None:
    """``None`` for windowed series data (``x (N, T, F)``, ``y (N, k)``), else why not.

    Shapes: ``splits.input_shape`` (T, F) or (T,); ``splits.target_shape`` (k,).

    Example:
        >>> from dendrite.data import load_dataset
        >>> needs_series(load_dataset("mackey-glass")) is None, needs_series(load_dataset("digits")) is None
        (True, False)
    """
    if splits.task != "sequence":
        return f"it forecasts series, and {splits.name!r} is a {splits.task} dataset, not a windowed series"
    if len(splits.input_shape) not in (1, 2) or splits.target_shape is None or len(splits.target_shape) != 1:
        return (f"it needs windows (N, T, F) with targets (N, k), got inputs {splits.input_shape} and "
                f"targets {splits.target_shape}")
    return None


def forecaster_defaults(splits) -> dict:
    """Hyper-parameters that reach a test NRMSE well under 0.02 on ``mackey-glass`` in well under a minute.

    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> forecaster_defaults(None)["cell"]
        'gru'
    """
    return {"epochs": 60, "batch_size": 32, "lr": 3e-3, "optimizer": "adam", "schedule": "cosine",
            "cell": "gru", "hidden_size": 64, "num_layers": 1, "residual": True}


def build_forecaster(splits, settings: dict) -> Forecaster:
    """A :class:`~dendrite.models.Forecaster` for ``splits``' windows.

    Shapes: the model maps windows (N, T, F) to next values (N, k), k = ``splits.target_shape[0]``.

    Example:
        >>> import dendrite
        >>> from dendrite.data import load_dataset
        >>> settings = {**forecaster_defaults(None), "hidden_size": 8}
        >>> build_forecaster(load_dataset("mackey-glass"), settings)(dendrite.zeros(4, 20, 1)).shape
        (4, 1)
    """
    features = splits.input_shape[-1] if len(splits.input_shape) == 2 else 1
    return Forecaster(features, splits.target_shape[0], cell=settings["cell"],
                      hidden_size=int(settings["hidden_size"]), num_layers=int(settings["num_layers"]),
                      residual=bool(settings["residual"]))


def run_forecaster(spec, splits, settings: dict, config, out: Path) -> RunResult:
    """Train a forecaster with MSE on the training windows; score it and the baseline on the test part.

    Shapes: windows x (N, T, F) -> predictions (N, k) against targets y (N, k).
    Writes ``curves.png`` and ``prediction.png``; reports ``test_nrmse`` and ``repeat_last_nrmse``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.recipes.runner import train
        >>> from dendrite.recipes.base import RunConfig
        >>> config = RunConfig("forecaster", "mackey-glass", epochs=1, quiet=True, out=Path(tmp.name),
        ...                    options={"hidden_size": 8})
        >>> final = train(MODELS["forecaster"], load_dataset("mackey-glass"), config)["final"]
        >>> final["test_nrmse"] > 0, (Path(tmp.name) / "prediction.png").exists()
        (True, True)
        >>> tmp.cleanup()
    """
    model = spec.build(splits, settings)
    optimizer = make_optimizer(settings["optimizer"], model.parameters(), settings["lr"],
                               weight_decay=settings.get("weight_decay", 0.0))
    train_loader = DataLoader(splits.train_dataset(), batch_size=int(settings["batch_size"]), shuffle=True)
    test_loader = DataLoader(splits.test_dataset(), batch_size=1024)
    trainer = Trainer(model, nn.MSELoss(), optimizer, scheduler=build_schedule(optimizer, settings),
                      metrics=[], grad_clip_norm=settings.get("clip"),
                      progress=False if config.quiet else None, seed=config.seed)
    history = trainer.fit(train_loader, epochs=int(settings["epochs"]), val_loader=test_loader)

    prediction = predict_logits(model, splits.x_test)
    baseline = repeat_last_prediction(splits.x_test, splits.target_shape[0])
    # Back to the series' own units for the RMSE and the picture (NRMSE is the same either way).
    mean, std = float(splits.info.get("mean", 0.0)), float(splits.info.get("std", 1.0))
    truth_units, prediction_units = splits.y_test * std + mean, prediction * std + mean
    final = {
        "test_nrmse": nrmse(splits.y_test, prediction),
        "repeat_last_nrmse": nrmse(splits.y_test, baseline),
        "test_rmse": float(np.sqrt(np.mean((truth_units - prediction_units) ** 2))),
        "test_mse_standardised": float(np.mean((splits.y_test - prediction) ** 2)),
        "train_loss": float(history["loss"][-1]),
    }
    plots.plot_history(history, out / "curves.png", title=f"{spec.name} on {splits.name} (MSE, standardised)",
                       labels={"loss": "train", "val_loss": "test"})  # the held-out line is the test part
    plots.plot_series(truth_units, prediction_units, out / "prediction.png",
                      title=f"{splits.name} test part, one step ahead: NRMSE {final['test_nrmse']:.4f} "
                            f"(repeat-last {final['repeat_last_nrmse']:.3f})")
    return RunResult(final=final, history=history_rows(history), model=model)

