"""The GAN lab's API: every route, and bad input answered 4xx with a message naming what was wrong."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from dendrite.playground.app import create_app  # noqa: E402

BASE = "/api/explore/gan/sessions"
SMALL = {"batch": 48, "hidden": 16}


@pytest.fixture()
def client():
    with TestClient(create_app()) as test_client:
        yield test_client


def _create(client, **config):
    response = client.post(BASE, json={"config": {**SMALL, **config}})
    assert response.status_code == 201, response.text
    return response.json()


def test_page_is_served(client):
    response = client.get("/gan")
    assert response.status_code == 200 and 'data-testid="gan-canvas"' in response.text


def test_create_get_step_reset_delete(client):
    snap = _create(client)
    sid = snap["session"]
    assert snap["step"] == 0 and len(snap["real"]) == 240 and snap["modes"]["modes"] == 8
    stepped = client.post(f"{BASE}/{sid}/step", json={"steps": 3}).json()
    assert stepped["step"] == 3 and len(stepped["history"]["g_loss"]) == 3 and "real" not in stepped
    assert client.get(f"{BASE}/{sid}").json()["step"] == 3
    assert client.post(f"{BASE}/{sid}/reset").json()["step"] == 0
    assert client.delete(f"{BASE}/{sid}").status_code == 204
    assert client.get(f"{BASE}/{sid}").status_code == 404


def test_config_changes_the_game_and_restarts(client):
    sid = _create(client)["session"]
    client.post(f"{BASE}/{sid}/step", json={"steps": 2})
    snap = client.post(f"{BASE}/{sid}/config", json={"config": {"loss": "wgan_gp", "packing": 2}}).json()
    assert snap["step"] == 0 and snap["config"]["loss"] == "wgan_gp" and snap["heat_kind"] == "critic"
    assert snap["config"]["packing"] == 2 and snap["config"]["batch"] == 48


def test_play_then_pause_trains(client):
    sid = _create(client)["session"]
    assert client.post(f"{BASE}/{sid}/play").json()["playing"] is True
    import time

    time.sleep(0.3)
    paused = client.post(f"{BASE}/{sid}/pause").json()
    assert paused["playing"] is False and paused["step"] > 0


def test_draw_sets_the_drawn_distribution(client):
    sid = _create(client)["session"]
    snap = client.post(f"{BASE}/{sid}/draw", json={"points": [[1, 1], [-1, -1], [1, -1]]}).json()
    assert snap["config"]["distribution"] == "drawn" and snap["modes"] is None
    assert all(abs(abs(x) - 1) < 0.6 for point in snap["real"] for x in point)


def test_events_stream_sends_a_snapshot(client):
    sid = _create(client)["session"]
    with client.stream("GET", f"{BASE}/{sid}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        line = next(line for line in response.iter_lines() if line.startswith("data: "))
    assert '"step": 0' in line or '"step":0' in line
    client.delete(f"{BASE}/{sid}")


@pytest.mark.parametrize("path, body, message", [
    ("step", {"steps": 501}, "'steps' must be in [1, 500]"),
    ("step", {"steps": 1.5}, "'steps' must be a whole number"),
    ("step", {"n": 1}, "unknown key(s) 'n'"),
    ("config", {"config": {"packing": 9}}, "packing: expected a whole number in [1, 4]"),
    ("config", {"config": {"loss": "hinge"}}, "loss: expected one of"),
    ("config", {"config": 3}, "'config' must be a JSON object"),
    ("config", {"config": {"distribution": "drawn"}}, "needs points"),
    ("draw", {"points": [[0, 0]]}, "between 2 and 2000 points, got 1"),
    ("draw", {"points": [[0, 9], [1, 1]]}, "in [-3, 3]"),
    ("draw", {}, "missing 'points'"),
])
def test_bad_input_is_a_400_naming_the_field(client, path, body, message):
    sid = _create(client)["session"]
    response = client.post(f"{BASE}/{sid}/{path}", json=body)
    assert response.status_code == 400 and message in response.json()["error"], response.text


def test_bad_create_and_unknown_session(client):
    response = client.post(BASE, json={"config": {"lr_d": -1}})
    assert response.status_code == 400 and "lr_d" in response.json()["error"]
    assert client.post(f"{BASE}/nope/step", json={"steps": 1}).status_code == 404
