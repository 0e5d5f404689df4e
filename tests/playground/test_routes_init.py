"""The initialisation explorer's routes: the page, the signals and training APIs, and their 400s."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("starlette")
from dendrite.playground.snapshot import decode_map  # noqa: E402
from tests.playground.server_helpers import client_of  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with client_of() as test_client:
        yield test_client


def test_the_page_is_served_with_its_testids(client):
    response = client.get("/init")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    for testid in ("init-scheme", "init-activation", "init-depth", "init-width", "init-run",
                   "init-activation-std", "init-gradient-std", "init-theory", "init-histograms",
                   "init-train", "init-loss-chart", "init-boundary", "init-explanation", "nav-playground",
                   "nav-init", "nav-optim", "nav-gan"):
        assert f'data-testid="{testid}"' in response.text, testid
    assert "content-security-policy" in response.headers


def test_signals_of_kaiming_relu_stay_in_a_band(client):
    response = client.post("/api/explore/init/signals",
                           json={"scheme": "kaiming_normal", "activation": "relu", "depth": 20, "width": 256})
    assert response.status_code == 200
    data = response.json()
    assert len(data["act_std"]) == 20 and len(data["theory_std"]) == 20
    assert 0.5 <= data["act_std"][-1] / data["act_std"][0] <= 2
    assert data["explanation"].startswith("Healthy")


def test_signals_defaults_and_symmetry(client):
    data = client.post("/api/explore/init/signals", json={"scheme": "zeros"}).json()
    assert data["depth"] == 10 and data["width"] == 64 and data["activation"] == "relu"
    assert data["distinct_neurons"] == [1] * 10


def test_an_exploding_net_sends_no_nan(client):
    response = client.post("/api/explore/init/signals",
                           json={"scheme": "large_normal", "activation": "linear", "depth": 20, "width": 256})
    assert response.status_code == 200 and "NaN" not in response.text and "Infinity" not in response.text
    assert response.json()["act_std"][-1] > 1e20


def test_train_returns_a_loss_curve_and_an_encoded_boundary(client):
    response = client.post("/api/explore/init/train",
                           json={"scheme": "kaiming_normal", "activation": "relu", "epochs": 30, "seed": 1})
    assert response.status_code == 200
    data = response.json()
    assert len(data["loss"]) == 31 and data["loss"][-1] < data["loss"][0] - 0.3
    boundary = decode_map(data["boundary_map"], 60)
    assert boundary.min() < -0.8 and boundary.max() > 0.8
    assert np.asarray(data["points"]).shape == (400, 3)
    zeros = client.post("/api/explore/init/train", json={"scheme": "zeros", "epochs": 3}).json()
    assert zeros["loss"][-1] == pytest.approx(math.log(2), abs=1e-3)


@pytest.mark.parametrize("path, body, message", [
    ("signals", {"scheme": "he"}, "'scheme' must be one of"),
    ("signals", {"activation": "gelu"}, "'activation' must be one of"),
    ("signals", {"depth": 21}, "'depth' must be in 1..20"),
    ("signals", {"depth": 2.5}, "'depth' must be a whole number"),
    ("signals", {"width": 257}, "'width' must be in 2..256"),
    ("signals", {"samples": 10}, "unknown key(s) 'samples'"),
    ("train", {"width": 128}, "'width' must be in 2..64"),
    ("train", {"dataset": "mnist"}, "'dataset' must be one of"),
    ("train", {"epochs": 0}, "'epochs' must be in 1..200"),
    ("train", {"lr": 0}, "'lr' must be in (0, 1]"),
    ("train", {"lr": "fast"}, "'lr' must be a number"),
])
def test_bad_input_is_a_400_naming_the_field(client, path, body, message):
    response = client.post(f"/api/explore/init/{path}", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_not_json_and_wrong_method(client):
    response = client.post("/api/explore/init/signals", content=b"{",
                           headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]
    assert client.get("/api/explore/init/signals").status_code == 405
