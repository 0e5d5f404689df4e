"""Sessions on the server: limits, expiry, the play loop, the event stream, sessions side by side."""

from __future__ import annotations

import gc
import json
import time
import weakref

import httpx
import pytest

from dendrite.playground.serve import LiveServer
from dendrite.playground.session import PlaygroundSession
from tests.playground.server_helpers import client_of, new_session, store_of, wait_until

SERIES = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")


def test_too_many_sessions_is_503_until_one_goes():
    with client_of(max_sessions=2) as client:
        first, _ = new_session(client), new_session(client)
        answer = client.post("/api/sessions", json={})
        assert answer.status_code == 503 and "too many playground sessions (2 open)" in answer.json()["error"]
        assert client.delete(f"/api/sessions/{first['session']}").status_code == 204
        assert client.post("/api/sessions", json={}).status_code == 201


def test_idle_sessions_expire_and_are_freed():
    with client_of(session_ttl=60) as client:
        store = store_of(client)
        idle, busy = new_session(client), new_session(client)
        idle_session = weakref.ref(store.get(idle["session"]).session)
        client.post(f"/api/sessions/{idle['session']}/play")
        assert client.portal.call(store.reap) == []  # both were used just now
        later = time.monotonic() + 30
        client.get(f"/api/sessions/{busy['session']}")  # keep using this one
        client.portal.call(lambda: store.get(busy["session"]).__setattr__("last_used", later))
        assert client.portal.call(store.reap, later + 45) == [idle["session"]]
        assert client.get(f"/api/sessions/{idle['session']}").status_code == 404
        assert client.get(f"/api/sessions/{busy['session']}").status_code == 200
        gc.collect()
        assert idle_session() is None  # the play loop stopped and nothing holds the session any more


def test_a_session_with_an_open_event_stream_does_not_expire():
    with client_of(session_ttl=60) as client:
        store = store_of(client)
        watched = new_session(client)
        slot = store.get(watched["session"])
        queue = client.portal.call(lambda: store.listen(slot))
        assert client.portal.call(store.reap, time.monotonic() + 1000) == []
        client.portal.call(lambda: store.unlisten(slot, queue))
        assert client.portal.call(store.reap, time.monotonic() + 1000) == [watched["session"]]


def test_the_reaper_runs_by_itself():
    with client_of(session_ttl=0.05) as client:
        session_id = new_session(client)["session"]
        deadline = time.monotonic() + 30
        while session_id in store_of(client):
            assert time.monotonic() < deadline, "the reaper never dropped the idle session"
            time.sleep(0.05)


def test_play_trains_in_the_background_and_pause_stops_it():
    with client_of() as client:
        sid = new_session(client)["session"]
        assert client.post(f"/api/sessions/{sid}/play").json()["playing"] is True
        playing = wait_until(client, sid, lambda snapshot: snapshot["epoch"] >= 3)
        assert playing["playing"] is True and playing["history"]["epoch"][:4] == [0, 1, 2, 3]
        paused = client.post(f"/api/sessions/{sid}/pause").json()
        assert paused["playing"] is False and paused["epoch"] >= 3
        assert client.get(f"/api/sessions/{sid}").json()["steps"] == paused["steps"]  # nothing trains now


def test_step_while_playing_pauses_then_finishes_the_epoch():
    with client_of() as client:
        sid = new_session(client)["session"]
        client.post(f"/api/sessions/{sid}/play")
        wait_until(client, sid, lambda snapshot: snapshot["steps"] > 0)
        stepped = client.post(f"/api/sessions/{sid}/step").json()
        assert stepped["playing"] is False and stepped["steps"] == 25 * stepped["epoch"]  # at a boundary
        assert client.get(f"/api/sessions/{sid}").json()["steps"] == stepped["steps"]


def test_changes_while_playing_are_safe():
    with client_of() as client:
        sid = new_session(client)["session"]
        client.post(f"/api/sessions/{sid}/play")
        for change in ({"learning_rate": 0.1}, {"dataset": "xor"}, {"layers": []}, {"batch_size": 5}):
            answer = client.post(f"/api/sessions/{sid}/config", json={"config": change})
            assert answer.status_code == 200, answer.text
        assert client.post(f"/api/sessions/{sid}/weight",
                           json={"layer": 0, "source": 0, "target": 0, "value": 0.5}).status_code == 200
        snapshot = wait_until(client, sid, lambda snapshot: snapshot["epoch"] >= 2)
        assert snapshot["config"]["dataset"] == "xor" and snapshot["config"]["batch_size"] == 5
        assert len(snapshot["network"]["weights"]) == 1  # no hidden layer: the output Linear only
        client.post(f"/api/sessions/{sid}/pause")


def test_a_listener_that_never_reads_does_not_hold_training_back():
    with client_of() as client:
        store, sid = store_of(client), new_session(client)["session"]
        slot = store.get(sid)
        queue = client.portal.call(lambda: store.listen(slot))
        client.post(f"/api/sessions/{sid}/play")
        reached = wait_until(client, sid, lambda snapshot: snapshot["epoch"] >= 5)
        # one snapshot waits, the newest (read with the loop's size in one step: no publish between)
        newest, left = client.portal.call(lambda: (queue.get_nowait(), queue.qsize()))
        assert newest["playing"] is True and newest["session"] == sid and left == 0
        client.post(f"/api/sessions/{sid}/pause")
        assert client.portal.call(lambda: queue.get_nowait())["epoch"] >= reached["epoch"]


def _events(client: httpx.Client, session_id: str, count: int) -> list[dict]:
    """The first ``count`` snapshots of the session's event stream."""
    snapshots = []
    with client.stream("GET", f"api/sessions/{session_id}/events") as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("data: "):
                snapshots.append(json.loads(line[len("data: "):]))
                if len(snapshots) == count:
                    break
    return snapshots


def test_event_stream_sends_snapshots_while_playing():
    with LiveServer() as server, httpx.Client(base_url=server.url, timeout=30) as client:
        sid = client.post("api/sessions", json={}).json()["session"]
        first = _events(client, sid, 1)[0]  # the first event comes at once, playing or not
        assert first["session"] == sid and first["epoch"] == 0 and first["playing"] is False
        client.post(f"api/sessions/{sid}/play")
        snapshots = _events(client, sid, 8)
        epochs = [snapshot["epoch"] for snapshot in snapshots]
        assert epochs == sorted(epochs) and epochs[-1] > epochs[0], epochs
        assert all(snapshot["playing"] and "points" not in snapshot for snapshot in snapshots[1:])
        assert all(set(snapshot["heatmaps"]) >= {"output", "neurons"} for snapshot in snapshots)
        client.post(f"api/sessions/{sid}/pause")


def test_event_stream_ends_when_the_session_is_deleted():
    with LiveServer() as server, httpx.Client(base_url=server.url, timeout=30) as client:
        sid = client.post("api/sessions", json={}).json()["session"]
        with client.stream("GET", f"api/sessions/{sid}/events") as answer:
            lines = answer.iter_lines()
            assert next(line for line in lines if line.startswith("data: "))
            assert client.delete(f"api/sessions/{sid}").status_code == 204
            assert [line for line in lines if line.startswith("data: ")] == []  # the stream just ends
        assert client.get(f"api/sessions/{sid}/events").status_code == 404


def _solo_history(config: dict, epochs: int) -> dict:
    session = PlaygroundSession(config)
    for _ in range(epochs):
        session.step_epoch()
    return session.snapshot()["history"]


def test_two_sessions_playing_together_each_train_as_if_alone():
    configs = [{"dataset": "xor", "seed": 3, "optimizer": "adam", "layers": [{"neurons": 5, "dropout": 0.2}]},
               {"dataset": "spiral", "classes": 3, "seed": 7, "batch_size": 7}]
    with client_of() as client:
        ids = [new_session(client, config)["session"] for config in configs]
        for sid in ids:
            client.post(f"/api/sessions/{sid}/play")
        for sid in ids:
            wait_until(client, sid, lambda snapshot: snapshot["epoch"] >= 4)
        played = [client.post(f"/api/sessions/{sid}/pause").json()["history"] for sid in ids]
    for config, history in zip(configs, played):
        solo = _solo_history(config, 4)
        for key in SERIES:
            assert history[key][:5] == pytest.approx(solo[key], rel=1e-6), key


def test_every_snapshot_has_a_higher_revision_than_the_ones_before():
    # A page gets snapshots as answers and on the event stream, possibly out of order; it keeps the
    # highest revision, so a late answer (a step's, after the reset that followed) cannot put an old
    # state back on screen.
    with client_of() as client:
        created = new_session(client)
        sid = created["session"]
        revisions = [created["revision"]]
        for action in ("step", "step", "reset"):
            answer = client.post(f"/api/sessions/{sid}/{action}", json={}).json()
            revisions.append(answer["revision"])
        read = client.get(f"/api/sessions/{sid}").json()
        revisions.append(read["revision"])
        assert revisions == sorted(set(revisions)) and len(revisions) == 5
        assert read["epoch"] == 0
