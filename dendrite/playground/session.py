"""``PlaygroundSession``: one page's data, network and training, with a change log the export replays.

Every public method runs under :data:`~dendrite.playground.engine.ENGINE_LOCK` and swaps the session's own
global-RNG state in and out, so sessions in several threads never disturb each other's random
streams (dropout, initialisation) and each one's history equals what it gives when run alone.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from dendrite.playground.config import LIVE_KEYS, MAX_CUSTOM_POINTS, validate_config
from dendrite.playground.datasets import DataError, builtin_points, check_point, parse_csv, split_points
from dendrite.playground.diagnose import diagnose_run
from dendrite.playground.engine import ENGINE_LOCK, RandomStream
from dendrite.playground.export import script_source, weights_bytes
from dendrite.playground.network import advance, apply_change, evaluate, lr_factor, new_run
from dendrite.playground.snapshot import (
    ENCODING,
    GRID_SIZE,
    NEURON_SIZE,
    finite_or_none,
    heatmaps,
    histograms,
    network_json,
    thin_history,
    training_status,
)

__all__ = ["PlaygroundSession"]

_DATA_KEYS = ("dataset", "problem", "classes", "noise", "points", "data_seed", "train_ratio")


class PlaygroundSession:
    """A playground: points, a small network, its optimizer, training by time slices, JSON snapshots.

    Args:
        config: a (partial) config; see :func:`~dendrite.playground.config.validate_config`.

    Raises:
        ConfigError: a config key is unknown or its value is not allowed.

    Example:
        >>> s = PlaygroundSession({"dataset": "xor", "learning_rate": 0.1})
        >>> s.step_epoch(); s.epoch, s.steps
        (1, 25)
        >>> snap = s.snapshot(); snap["status"], len(snap["history"]["train_loss"])
        ('ok', 2)
    """

    def __init__(self, config: dict | None = None) -> None:
        self._config = validate_config(config)
        self._custom: tuple | None = None
        self._xy = self._labels = self._shown = None  # the points now (all of them) and how they are split
        self.data_version = 0
        self._random = RandomStream()
        self._change_log: list[dict] = []
        with self._engine(fresh=True):
            self._load_data()
            self._restart()

    def _engine(self, fresh: bool = False):
        """Hold the engine lock with this session's RNG state in the global generator."""
        return self._random.turn(fresh)

    # -- state -------------------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        """A copy of the normalised config."""
        with ENGINE_LOCK:
            return copy.deepcopy(self._config)

    @property
    def epoch(self) -> int:
        """Completed epochs since the last reset."""
        return self._run["epoch"]

    @property
    def steps(self) -> int:
        """Optimizer steps since the last reset."""
        return self._run["steps"]

    @property
    def change_log(self) -> list:
        """Live changes since the last reset: ``{"step", "kind": "config"|"weight", ...}``, in order."""
        with ENGINE_LOCK:
            return copy.deepcopy(self._change_log)

    @property
    def history(self) -> dict:
        """The full per-epoch history (epoch 0 = before training), not thinned."""
        with ENGINE_LOCK:
            return copy.deepcopy(self._run["history"])

    @property
    def custom_points(self) -> tuple | None:
        """``(points (n, 2), labels (n,))`` of the custom dataset, or None for a built-in one."""
        return None if self._custom is None else (self._custom[0].copy(), self._custom[1].copy())

    def _load_data(self) -> None:
        c = self._config
        if c["dataset"] == "custom":
            if self._custom is None:  # e.g. a shared link to a custom set: start from circle (or plane)
                start = "circle" if c["problem"] == "classification" else "plane"
                self._custom = builtin_points(start, c["problem"], 2, c["points"], c["noise"], c["data_seed"])
            xy, labels = self._custom
            if c["problem"] == "classification":
                c["classes"] = max(2, int(labels.max()) + 1)
        else:
            xy, labels = builtin_points(c["dataset"], c["problem"], c["classes"], c["points"], c["noise"],
                                        c["data_seed"])
        if any(layer["batchnorm"] for layer in c["layers"]):
            n_train = len(split_points(xy, labels, c["train_ratio"], c["data_seed"])[0])
            if n_train < 2:
                raise DataError("batch norm needs at least 2 training points; add points or raise "
                                "train_ratio")
        shown = (c["train_ratio"], c["data_seed"], c["problem"])
        same = np.array_equal(self._xy, xy) and np.array_equal(self._labels, labels)
        if self._shown != shown or not same:
            self.data_version += 1  # the page asks for the points again
        self._xy, self._labels, self._shown = xy, labels, shown

    def _restart(self) -> None:
        self._change_log = []
        self._start_config = copy.deepcopy(self._config)  # what the exported script starts from
        self._run = new_run(self._config, self._xy, self._labels, [])

    # -- changing the setup ------------------------------------------------------------------------
    def configure(self, raw: dict) -> bool:
        """Apply a partial or full config; True when it reset the session (a non-live key changed).

        Live keys (learning_rate, regularization, regularization_rate, batch_size, schedule) change
        in place and go into the change log at the current optimizer step.

        Example:
            >>> s = PlaygroundSession()
            >>> s.configure({"learning_rate": 0.1}), s.configure({"layers": []}), s.change_log
            (False, True, [])
        """
        with self._engine():
            new = validate_config(raw, base=self._config)
            if new["dataset"] == "custom" and self._config["dataset"] != "custom":
                self._custom = (self._xy.copy(), self._labels.copy())
            if new["dataset"] == "custom" and new["problem"] != self._config["problem"] and self._custom:
                self._custom = (self._custom[0], _convert_labels(self._custom[1], new["problem"]))
            changed = {key: new[key] for key in new if new[key] != self._config[key]}
            if not changed:
                return False
            if set(changed) <= set(LIVE_KEYS):
                change = {"step": self._run["steps"], "kind": "config", "values": changed}
                apply_change(self._run, change)
                self._change_log.append(change)
                self._config = new
                return False
            old = self._config
            self._config = new
            try:
                if any(new[key] != old[key] for key in _DATA_KEYS) or new["dataset"] == "custom":
                    self._load_data()
                self._restart()
            except DataError:
                self._config = old
                raise
            return True

    def reset(self) -> None:
        """Re-initialise the network from the seed; epoch 0, empty change log, same data.

        Example:
            >>> s = PlaygroundSession(); s.step_epoch(); s.reset(); s.epoch, s.steps
            (0, 0)
        """
        with self._engine():
            self._restart()

    def regenerate(self) -> None:
        """New points (``data_seed + 1``; for custom data a new split), then reset.

        Example:
            >>> s = PlaygroundSession(); s.regenerate(); s.config["data_seed"], s.data_version
            (1, 2)
        """
        with self._engine():
            self._config["data_seed"] = (self._config["data_seed"] + 1) % (2**31)
            self._load_data()
            self._restart()

    def add_point(self, x: float, y: float, label: float | int) -> None:
        """Add one point (switching to the custom dataset with a copy of the current points); reset.

        Example:
            >>> s = PlaygroundSession({"points": 100})
            >>> s.add_point(0.5, 0.5, 1); s.config["dataset"], len(s.custom_points[0])
            ('custom', 101)
        """
        with self._engine():
            x, y, label = check_point(x, y, label, self._config["problem"])
            xy, labels = self._custom if self._config["dataset"] == "custom" else (self._xy, self._labels)
            if len(xy) >= MAX_CUSTOM_POINTS:
                raise DataError(f"the custom dataset already has {len(xy)} points; at most "
                                f"{MAX_CUSTOM_POINTS} are allowed")
            self._set_custom(np.concatenate([xy, np.array([[x, y]], np.float32)]),
                             np.concatenate([labels, np.array([label], labels.dtype)]))

    def load_csv(self, text: str) -> None:
        """Replace the points by an uploaded CSV (``x,y,label``, header optional); DataError on bad input.

        Example:
            >>> s = PlaygroundSession()
            >>> s.load_csv("x,y,label\\n1,1,0\\n-1,-1,1\\n2,2,0\\n-2,-2,1\\n")
            >>> s.config["dataset"], len(s.custom_points[0])
            ('custom', 4)
        """
        with self._engine():
            self._set_custom(*parse_csv(text, self._config["problem"]))

    def _set_custom(self, xy: np.ndarray, labels: np.ndarray) -> None:
        old_custom, old_config = self._custom, copy.deepcopy(self._config)
        self._custom = (xy.astype(np.float32), labels)
        self._config["dataset"] = "custom"
        try:
            self._load_data()
        except DataError:
            self._custom, self._config = old_custom, old_config
            raise
        self._restart()

    def set_weight(self, layer: int, source: int, target: int, value: float) -> None:
        """Set weight ``source -> target`` of Linear ``layer`` (0 = first); ValueError when out of range.

        Example:
            >>> s = PlaygroundSession()
            >>> s.set_weight(0, 1, 3, 0.25); s.snapshot()["network"]["weights"][0][3][1]
            0.25
        """
        with self._engine():
            sizes = [len(self._config["features"])] + [layer_["neurons"] for layer_ in self._config["layers"]]
            sizes.append(self._run["model"][-1].out_features)
            for name, number in (("layer", layer), ("source", source), ("target", target)):
                if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
                    raise ValueError(f"set_weight: {name} must be an integer, got {number!r}")
            if not 0 <= layer < len(sizes) - 1:
                raise ValueError(f"set_weight: layer {layer} does not exist; expected 0..{len(sizes) - 2}")
            if not 0 <= source < sizes[layer] or not 0 <= target < sizes[layer + 1]:
                raise ValueError(f"set_weight: layer {layer} connects sources 0..{sizes[layer] - 1} to "
                                 f"targets 0..{sizes[layer + 1] - 1}, got source {source}, target {target}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise ValueError(f"set_weight: value must be a finite number, got {value!r}")
            change = {"step": self._run["steps"], "kind": "weight", "layer": int(layer),
                      "source": int(source), "target": int(target), "value": float(value)}
            apply_change(self._run, change)
            self._change_log.append(change)

    # -- training ----------------------------------------------------------------------------------
    def train_for(self, seconds: float) -> None:
        """Train batch after batch for about ``seconds`` (at least one batch; may stop mid-epoch).

        Example:
            >>> s = PlaygroundSession(); s.train_for(0.0); s.steps
            1
        """
        with self._engine():
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < 3600:
                raise ValueError(f"train_for: seconds must be a number in [0, 3600), got {seconds!r}")
            deadline = time.perf_counter() + seconds

            def stop() -> bool:
                return time.perf_counter() >= deadline

            while advance(self._run, stop) and not stop():
                pass  # an epoch ended with time left: go on with the next one

    def step_epoch(self) -> None:
        """Finish the current epoch (a whole epoch when at a boundary)."""
        with self._engine():
            advance(self._run, lambda: False)

    def status(self) -> str:
        """``"diverged"`` (a loss NaN/Inf or 10x its start), ``"stalled"`` (no 1% gain in 100 epochs
        short of the goal) or ``"ok"``.

        Example:
            >>> PlaygroundSession().status()
            'ok'
        """
        with self._engine():
            return training_status(self._run["history"], self._config["problem"])

    # -- reading -----------------------------------------------------------------------------------
    def snapshot(self, include_points: bool = False) -> dict:
        """The JSON-ready state the page draws (metrics, history, heatmaps, network, histograms)."""
        with self._engine():
            run, config = self._run, self._config
            model = run["model"]
            train_loss, train_accuracy = evaluate(model, run["x_train"], run["y_train"], config)
            test_loss, test_accuracy = evaluate(model, run["x_test"], run["y_test"], config)
            lr = config["learning_rate"] * lr_factor(config["schedule"], run["epoch"])
            snap = {
                "epoch": run["epoch"], "steps": run["steps"],
                "status": training_status(run["history"], config["problem"]),
                "problem": config["problem"],
                "classes": config["classes"] if config["problem"] == "classification" else 1,
                "config": copy.deepcopy(config),
                "metrics": {"train_loss": finite_or_none(train_loss), "test_loss": finite_or_none(test_loss),
                            "train_accuracy": train_accuracy, "test_accuracy": test_accuracy,
                            "learning_rate": lr},
                "history": thin_history(run["history"]),
                "grid": {"size": GRID_SIZE, "neuron_size": NEURON_SIZE, "extent": [-6, 6]},
                "heatmaps": heatmaps(model, config),
                "encoding": ENCODING,
                "network": network_json(model, config),
                "histograms": histograms(model, config, run["x_train"], run["y_train"]),
                "data_version": self.data_version,
            }
            if include_points:
                snap["points"] = self._points_json()
            return snap

    def export_script(self) -> str:
        """A runnable Python script that retrains this network to this epoch, live changes included.

        Its ``main(epochs)`` prints and returns the same per-epoch losses as :attr:`history`; run
        as it is, it trains on to this session's optimizer step (mid-epoch too), so the weights it
        saves equal :meth:`export_weights`.

        Example:
            >>> s = PlaygroundSession(); s.step_epoch()
            >>> "EPOCHS = 1" in s.export_script()
            True
        """
        with self._engine():
            custom = self._custom if self._config["dataset"] == "custom" else None
            return script_source(self._start_config, self._change_log, self._run["epoch"], custom,
                                 steps=self._run["steps"])

    def export_weights(self) -> bytes:
        """The model's ``state_dict()`` as safetensors bytes.

        Example:
            >>> len(PlaygroundSession().export_weights()) > 100
            True
        """
        with self._engine():
            return weights_bytes(self._run["model"])

    def diagnose(self, budget_s: float = 6.0) -> dict:
        """The doctor on the current setup (a copy; nothing here changes): findings, passed, status.

        Example:
            >>> report = PlaygroundSession({"points": 100}).diagnose(budget_s=1.0)
            >>> report["status"], isinstance(report["findings"], list)
            ('ok', True)
        """
        with self._engine():
            result = diagnose_run(self._run, budget_s=max(0.5, min(float(budget_s), 30.0)),
                                  seed=self._config["seed"])
            result["status"] = training_status(self._run["history"], self._config["problem"])
            return result

    def _points_json(self) -> dict:
        c = self._config
        x_train, y_train, x_test, y_test = split_points(self._xy, self._labels, c["train_ratio"],
                                                        c["data_seed"])

        def rows(xy, labels):
            kind = int if c["problem"] == "classification" else float
            return [[float(p[0]), float(p[1]), kind(v)] for p, v in zip(xy, labels)]

        return {"train": rows(x_train, y_train), "test": rows(x_test, y_test)}


def _convert_labels(labels: np.ndarray, problem: str) -> np.ndarray:
    """Custom labels across a problem switch: classes 0/1.. -> -1/+1 targets, targets -> sign classes."""
    if problem == "regression":
        return np.where(labels > 0, 1.0, -1.0).astype(np.float32)
    return (labels > 0).astype(np.int64)

