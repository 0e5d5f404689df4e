"""Every JSON file dendrite writes is standard JSON: no NaN / Infinity literals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dendrite.train import History, JSONLLogger
from dendrite.utils.strict_json import dumps, json_safe


def strict_loads(text: str):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_strict_loads_really_refuses_nan():
    with pytest.raises(ValueError, match="NaN"):
        strict_loads(json.dumps({"loss": float("nan")}))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), np.float32("nan"),
                                   np.array([1.0, np.inf])])
def test_dumps_writes_nonfinite_values_as_null(value):
    parsed = strict_loads(dumps({"value": value, "nested": [{"deep": (value,)}]}))
    assert parsed["value"] in (None, [1.0, None])
    assert parsed["nested"][0]["deep"][0] == parsed["value"]


def test_json_safe_can_spell_nonfinite_values():
    spelled = json_safe([float("nan"), float("inf"), -np.inf, 2.5], nonfinite="string")
    assert spelled == ["nan", "inf", "-inf", 2.5]
    with pytest.raises(ValueError, match="nonfinite"):
        json_safe(1.0, nonfinite="zero")


def test_history_and_jsonl_logger_write_strict_json(tmp_path):
    history = History({"loss": [0.5, float("nan")], "val_loss": [float("inf"), 1.0]}, [0, 1])
    text = history.save(tmp_path / "history.json").read_text()
    assert strict_loads(text)["history"]["loss"] == [0.5, None]
    assert np.isnan(History.load(tmp_path / "history.json")["loss"][1])

    logger = JSONLLogger(tmp_path / "log.jsonl")
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": float("nan"), "lr": np.float32(0.5)})
    rows = [strict_loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert rows == [{"epoch": 0, "loss": None, "lr": 0.5}]
