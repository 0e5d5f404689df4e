"""examples/finetune_digits.py: the variants are built as documented and the quick run works."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import dendrite
import dendrite.models
from dendrite import nn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "finetune_digits.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("finetune_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def take_steps(model, optimizer, steps: int = 3) -> None:
    generator = np.random.default_rng(0)
    inputs = dendrite.tensor(generator.random((10, 8, 8)).astype(np.float32))
    targets = dendrite.tensor(generator.integers(0, 5, 10))
    model.train()
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def state(module) -> dict:
    return {key: value.numpy().copy() for key, value in module.state_dict().items()}


def changed(before: dict, after: dict) -> bool:
    return any(not np.array_equal(before[key], after[key]) for key in before)


def test_few_shot_task_draws_the_asked_number_of_new_digits(example):
    x_train, y_train, x_test, y_test = example.few_shot_task(3, seed=0)
    assert x_train.shape == (15, 8, 8) and np.bincount(y_train).tolist() == [3] * 5
    assert len(y_test) == 179 and set(y_test.tolist()) == {0, 1, 2, 3, 4}  # the 5-9 test images
    again = example.few_shot_task(3, seed=0)[0]
    assert np.array_equal(again, x_train) and not np.array_equal(example.few_shot_task(3, seed=1)[0], x_train)


def test_frozen_variant_trains_only_the_new_head(example):
    pretrained = state(dendrite.models.pretrained("digits04-cnn").features)
    model, optimizer = example.build("frozen", seed=0, lr=1e-2)
    head = state(model.classifier)
    assert not changed(pretrained, state(model.features))
    take_steps(model, optimizer)
    assert not changed(pretrained, state(model.features))  # frozen
    assert changed(head, state(model.classifier))


def test_finetune_variant_trains_the_body_ten_times_slower(example):
    pretrained = state(dendrite.models.pretrained("digits04-cnn").features)
    model, optimizer = example.build("finetune", seed=0, lr=1e-2)
    assert [group["lr"] for group in optimizer.param_groups] == pytest.approx([1e-3, 1e-2])
    take_steps(model, optimizer)
    assert changed(pretrained, state(model.features))


def test_the_new_head_starts_like_the_scratch_models_head(example):
    scratch = state(example.build("scratch", seed=4, lr=1e-2)[0].classifier)
    assert not changed(scratch, state(example.build("frozen", seed=4, lr=1e-2)[0].classifier))
    assert changed(scratch, state(example.build("frozen", seed=5, lr=1e-2)[0].classifier))


def test_quick_run_prints_a_table_with_every_variant(example, capsys):
    rows = example.main(["--quick"])
    assert [(row["shots"], row["variant"]) for row in rows] == [
        (shots, variant) for shots in (1, 10) for variant in ("scratch", "frozen", "finetune")]
    for row in rows:
        assert 0.0 <= row["accuracy"][0] <= 1.0 and row["seeds"] == 1
    # Ten images per class are far better than chance (0.2) for every variant.
    assert all(row["accuracy"][0] > 0.6 for row in rows if row["shots"] == 10)
    output = capsys.readouterr().out
    assert "| 10 | frozen |" in output and "test accuracy" in output
