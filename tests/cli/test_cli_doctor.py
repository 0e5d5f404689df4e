"""`dendrite doctor MODEL`, `dendrite doctor --gallery` and `dendrite train --doctor`."""

from __future__ import annotations

import json

import pytest

from dendrite.cli.main import main


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_healthy_recipe_gets_a_clean_report_and_exit_0(capsys):
    code, out, _ = run(["doctor", "mlp", "--data", "spiral"], capsys)
    assert code == 0
    assert out.startswith("dendrite doctor: no problems found")
    assert "passed: " in out and "learning-rate" in out


def test_a_learning_rate_that_diverges_is_named_with_a_lower_suggestion(capsys):
    code, out, _ = run(["doctor", "mlp", "--data", "spiral", "--optimizer", "sgd", "--lr", "30"], capsys)
    assert code == 1
    first = out.splitlines()[2]
    assert first.startswith("1. [error] lr-too-high")
    assert "SGD(model.parameters(), lr=" in out


def test_json_report_is_strict_json(capsys):
    code, out, _ = run(["doctor", "cnn", "--data", "digits", "--lr", "1e-7", "--json"], capsys)

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    report = json.loads(out, parse_constant=refuse)
    codes = [finding["code"] for finding in report["findings"]]
    assert "lr-too-low" in codes
    assert code == (0 if report["ok"] else 1)


@pytest.mark.parametrize("argv, message", [
    (["doctor"], "name a model to examine"),
    (["doctor", "gan"], "dendrite.doctor.watch"),
    (["doctor", "no-such-model"], "unknown model 'no-such-model'"),
    (["doctor", "mlp", "--data", "ring8"], "cannot train on dataset 'ring8'"),
    (["doctor", "mlp", "--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
])
def test_what_the_doctor_cannot_examine_is_one_line_and_exit_2(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1"])
def test_the_budget_and_lr_must_be_finite_and_positive(value, capsys):
    for option in ("--budget", "--lr"):
        with pytest.raises(SystemExit) as exit_info:
            main(["doctor", "mlp", f"{option}={value}"])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"{option} must be a finite number > 0" in err


def test_the_gallery_matches_every_mistake(capsys):
    code, out, _ = run(["doctor", "--gallery"], capsys)
    assert code == 0
    from dendrite.doctor.gallery import MISTAKES

    assert out.rstrip().endswith(f"{len(MISTAKES)} of {len(MISTAKES)} mistakes matched")
    for expected in ("nan-in-data", "softmax-before-loss", "dead-relu", "missing-zero-grad", "no-gradient"):
        assert f"| {expected} | yes |" in out


def test_train_with_doctor_prints_the_report_before_training(tmp_path, capsys):
    argv = ["train", "mlp", "--data", "spiral", "--epochs", "1", "--batch-size", "200", "--quiet", "--doctor",
            "--out", str(tmp_path / "run")]
    code, out, _ = run(argv, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "dendrite doctor: no problems found"
    assert lines[-1].startswith("mlp on spiral:")
    assert (tmp_path / "run" / "metrics.json").exists()
