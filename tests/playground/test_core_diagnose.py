"""The doctor on a diverged run examines a fresh start of the same setup, and says so."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest

import dendrite
from dendrite.playground import PlaygroundSession
from dendrite.playground.diagnose import EXAMINED_CURRENT, EXAMINED_FRESH

LINEAR = [{"neurons": 4, "activation": "linear"}] * 2
# The causes a diverged run really has: a learning rate too high, weights initialised too large.
CAUSES = {"lr-too-high", "initial-loss-off", "saturated-activations", "exploding-gradients"}


def _diverged(setup: dict) -> PlaygroundSession:
    session = PlaygroundSession({**setup, "learning_rate": 10, "init": "large_normal"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow on the way to inf is the point
        session.step_epoch()
    weights = [p.detach().numpy() for p in session._run["model"].parameters()]
    assert not all(np.isfinite(w).all() for w in weights), "the setup was meant to diverge"
    return session


@pytest.mark.parametrize("setup", [{"dataset": "plane", "problem": "regression"},
                                   {"dataset": "circle", "layers": LINEAR}],
                         ids=["plane-regression", "circle-classification"])
def test_diverged_run_is_diagnosed_from_a_fresh_start(setup):
    session = _diverged(setup)
    rng_before = pickle.dumps(session._random.state)
    history_before = session.history
    dendrite.manual_seed(7)
    expected = dendrite.rand(3).tolist()
    dendrite.manual_seed(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = session.diagnose(3)
    json.dumps(report, allow_nan=False)
    assert report["status"] == "diverged" and report["examined"] == EXAMINED_FRESH
    codes = [finding["code"] for finding in report["findings"]]
    assert codes and codes[0] in CAUSES, codes
    assert "lr-too-high" in codes
    assert not any("at initialisation (step 0)" in finding["title"] for finding in report["findings"])
    # Nothing of the session moved: its generator, its (diverged) weights, its history; nor the caller's RNG.
    assert pickle.dumps(session._random.state) == rng_before
    assert session.history == history_before and session.epoch == 1
    assert not all(np.isfinite(p.detach().numpy()).all() for p in session._run["model"].parameters())
    assert dendrite.rand(3).tolist() == expected


def test_finite_run_is_diagnosed_as_it_is():
    report = PlaygroundSession({"dataset": "plane", "problem": "regression", "points": 100}).diagnose(1)
    assert report["examined"] == EXAMINED_CURRENT and report["findings"] == []
