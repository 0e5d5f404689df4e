"""``dendrite sample DIR``: text from a trained charlm run folder, and clear errors without one."""

from __future__ import annotations

import pytest

from dendrite.cli.main import main
from dendrite.data import load_pytext
from dendrite.recipes.base import RunConfig
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.runner import train


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny charlm run (one short epoch on 20,000 characters), as `dendrite train charlm` leaves it."""
    out = tmp_path_factory.mktemp("charlm-run")
    train(MODELS["charlm"], load_pytext(max_chars=20_000),
          RunConfig("charlm", "pytext", epochs=1, quiet=True, out=out,
                    options={"hidden_size": 16, "embedding_dim": 8, "batch_size": 8, "seq_len": 16}))
    return out


def _sample(capsys, *argv) -> tuple[int, str, str]:
    status = main(["sample", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_sample_prints_the_prime_and_the_requested_length(capsys, run_dir):
    status, out, err = _sample(capsys, run_dir, "--length", 50, "--prime", "import ", "--seed", 1)
    assert status == 0, err
    assert out.endswith("\n")
    text = out[:-1]
    assert text.startswith("import ") and len(text) == len("import ") + 50


def test_sample_repeats_with_the_seed_and_follows_the_temperature(capsys, run_dir):
    first = _sample(capsys, run_dir, "--length", 120, "--seed", 5)[1]
    assert first == _sample(capsys, run_dir, "--length", 120, "--seed", 5)[1]
    assert first != _sample(capsys, run_dir, "--length", 120, "--seed", 6)[1]
    # A near-zero temperature is greedy: the seed no longer matters, and few characters recur.
    cold = [_sample(capsys, run_dir, "--length", 60, "--temperature", 1e-4, "--seed", s)[1] for s in (1, 2)]
    assert cold[0] == cold[1]
    hot = _sample(capsys, run_dir, "--length", 60, "--temperature", 5, "--seed", 1)[1]
    assert len(set(hot)) > len(set(cold[0]))


def test_sample_from_a_missing_folder_is_a_clear_error(capsys, tmp_path):
    status, out, err = _sample(capsys, tmp_path / "no-such-run")
    assert status == 2 and out == ""
    assert "no run folder" in err and "no-such-run" in err and "Traceback" not in err


def test_sample_from_a_folder_that_is_not_a_charlm_run(capsys, tmp_path):
    (tmp_path / "metrics.json").write_text("{}")
    status, _, err = _sample(capsys, tmp_path)
    assert status == 2
    assert "not a charlm run folder" in err


def test_sample_with_a_prime_the_model_never_saw(capsys, run_dir):
    status, out, err = _sample(capsys, run_dir, "--prime", "\u20ac")
    assert status == 2 and out == ""
    assert "never saw" in err and "Traceback" not in err


def test_sample_rejects_a_bad_temperature(capsys, run_dir):
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run_dir), "--temperature", "0"])
    assert exit_info.value.code == 2
