"""The playground's HTTP API, route by route: answers, validation and the error for each kind of mistake."""

from __future__ import annotations

import numpy as np
import pytest

from dendrite.playground.config import DEFAULT_CONFIG, MAX_UPLOAD_BYTES
from tests.playground.server_helpers import client_of, new_session, static_folder, store_of

CSV = "x,y,label\n1,1,0\n-1,-1,1\n2,0,1\n0,2,0\n3,3,1\n"


@pytest.fixture
def client(tmp_path):
    with client_of(static_dir=static_folder(tmp_path / "static")) as client:
        yield client


@pytest.fixture
def session(client):
    return new_session(client)


def _count(snapshot: dict) -> int:
    return len(snapshot["points"]["train"]) + len(snapshot["points"]["test"])


def _error(answer, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"error"} and "Traceback" not in body["error"]
    return body["error"]


# ---- page, static files, health ----------------------------------------------------------------

def test_page_static_files_and_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>playground</title>" in page.text
    script = client.get("/static/js/main.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    for answer in (page, script, client.get("/api/health"), client.get("/api/sessions/nope")):
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_favicon_is_no_content_when_the_page_has_none(client, tmp_path):
    assert client.get("/favicon.ico").status_code == 204
    (tmp_path / "static" / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.content == b"\x00\x00\x01\x00"


def test_static_files_refuse_directory_traversal(client):
    for path in ("/static/..%2fconftest.py", "/static/%2e%2e/%2e%2e/app.py", "/static/../index.html"):
        assert client.get(path).status_code == 404


def test_missing_page_is_a_404_with_a_message(tmp_path):
    with client_of(static_dir=tmp_path / "empty") as client:
        assert "index.html not found" in _error(client.get("/"), 404)


def test_foreign_hosts_and_cross_site_writes_are_refused(tmp_path):
    with client_of(static_dir=tmp_path, allowed_hosts=["127.0.0.1", "localhost"]) as client:
        assert "unexpected Host header 'testserver'" in _error(client.get("/api/health"), 400)
        assert client.get("/api/health", headers={"host": "127.0.0.1:8000"}).status_code == 200
        assert client.get("/api/health", headers={"host": "localhost"}).status_code == 200
    with client_of(static_dir=tmp_path) as client:
        evil = client.post("/api/sessions", json={}, headers={"origin": "http://evil.example"})
        assert "cross-site request from http://evil.example refused" in _error(evil, 403)
        assert _error(client.post("/api/sessions", json={}, headers={"origin": "null"}), 403)
        same_site = client.post("/api/sessions", json={}, headers={"origin": "http://testserver"})
        assert same_site.status_code == 201
        assert client.get("/api/health", headers={"origin": "http://evil.example"}).status_code == 200
        assert len(store_of(client)) == 1


def test_health(client):
    answer = client.get("/api/health")
    assert answer.status_code == 200 and answer.json() == {"ok": True}


def test_unknown_path_and_wrong_method(client, session):
    assert "not found" in _error(client.get("/api/nothing"), 404)
    message = _error(client.get(f"/api/sessions/{session['session']}/play"), 405)
    assert "POST" in message
    assert _error(client.put("/api/sessions"), 405)
    assert _error(client.post("/api/health"), 405)


# ---- sessions ----------------------------------------------------------------------------------

def test_create_get_delete(client):
    created = new_session(client, {"dataset": "xor", "noise": 10})
    session_id = created["session"]
    assert created["epoch"] == 0 and created["playing"] is False and created["status"] == "ok"
    assert created["config"]["dataset"] == "xor" and created["config"]["noise"] == 10
    assert _count(created) == DEFAULT_CONFIG["points"]
    fetched = client.get(f"/api/sessions/{session_id}").json()
    assert fetched["session"] == session_id and _count(fetched) == DEFAULT_CONFIG["points"]
    assert client.delete(f"/api/sessions/{session_id}").status_code == 204
    assert "no such session" in _error(client.get(f"/api/sessions/{session_id}"), 404)
    assert _error(client.delete(f"/api/sessions/{session_id}"), 404)


def test_create_with_an_empty_body_uses_the_defaults(client):
    answer = client.post("/api/sessions")
    assert answer.status_code == 201 and answer.json()["config"] == DEFAULT_CONFIG


@pytest.mark.parametrize("route", ["", "/events", "/play", "/step", "/export/script", "/export/weights"])
def test_unknown_session_is_404(client, route):
    method = client.post if route in ("/play", "/step") else client.get
    assert "no such session (it may have expired): f00" in _error(method(f"/api/sessions/f00{route}"), 404)


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'"config"', "must be a JSON object"),
    (b'{"config": [1]}', "'config' must be a JSON object"),
    (b'{"config": {}, "extra": 1}', "unknown key(s) 'extra'"),
    (b"\xff\xfe{}", "not valid JSON"),
])
def test_bad_bodies_are_400(client, body, message):
    assert message in _error(client.post("/api/sessions", content=body), 400)


@pytest.mark.parametrize("config, names", [
    ({"learning_rate": 100}, ["learning_rate", "100"]),
    ({"batch_size": "ten"}, ["batch_size"]),
    ({"noise": 51}, ["noise", "51"]),
    ({"layers": [{"neurons": 4}] * 7}, ["layers"]),
    ({"layers": [{"neurons": 9}]}, ["neurons", "9"]),
    ({"dataset": "moons"}, ["dataset", "moons"]),
    ({"colour": "red"}, ["colour"]),
    ({"dataset": "plane", "problem": "classification"}, ["plane"]),
])
def test_config_errors_are_400_naming_the_key(client, session, config, names):
    for answer in (client.post("/api/sessions", json={"config": config}),
                   client.post(f"/api/sessions/{session['session']}/config", json={"config": config})):
        message = _error(answer, 400)
        assert all(name in message for name in names), message
    assert len(store_of(client)) == 1  # the refused creations made no session


def test_config_live_change_keeps_training_a_reset_change_restarts(client, session):
    sid = session["session"]
    client.post(f"/api/sessions/{sid}/step")
    live = client.post(f"/api/sessions/{sid}/config", json={"config": {"learning_rate": 0.1}}).json()
    assert live["epoch"] == 1 and live["config"]["learning_rate"] == 0.1 and "points" not in live
    reset = client.post(f"/api/sessions/{sid}/config", json={"config": {"dataset": "spiral"}}).json()
    assert reset["epoch"] == 0 and reset["config"]["dataset"] == "spiral" and "points" in reset
    assert _error(client.post(f"/api/sessions/{sid}/config", json={}), 400)


def test_step_reset_regenerate(client, session):
    sid = session["session"]
    stepped = client.post(f"/api/sessions/{sid}/step").json()
    assert stepped["epoch"] == 1 and stepped["steps"] == 25  # 250 training points in batches of 10
    again = client.post(f"/api/sessions/{sid}/step", json={}).json()
    assert again["epoch"] == 2 and again["history"]["epoch"] == [0, 1, 2]
    reset = client.post(f"/api/sessions/{sid}/reset").json()
    assert reset["epoch"] == 0 and reset["steps"] == 0 and reset["metrics"] == session["metrics"]
    regenerated = client.post(f"/api/sessions/{sid}/regenerate").json()
    assert regenerated["config"]["data_seed"] == 1 and regenerated["points"] != session["points"]
    refused = client.post(f"/api/sessions/{sid}/step", json={"epochs": 3})
    assert "unknown key(s) 'epochs'" in _error(refused, 400)


# ---- points, upload, weights ------------------------------------------------------------------

def test_add_point(client, session):
    sid = session["session"]
    answer = client.post(f"/api/sessions/{sid}/points", json={"x": 1.5, "y": -2, "label": 1})
    assert answer.status_code == 200
    snapshot = answer.json()
    assert snapshot["config"]["dataset"] == "custom" and _count(snapshot) == _count(session) + 1


@pytest.mark.parametrize("body, message", [
    ({"x": "1", "y": 0, "label": 1}, "'x' must be a number"),
    ({"x": 1, "y": 0}, "missing 'label'"),
    ({"x": 1, "y": True, "label": 1}, "'y' must be a number"),
    ({"x": 1, "y": 0, "label": 1, "z": 0}, "unknown key(s) 'z'"),
    ({"x": 1, "y": 0, "label": 7}, "label"),
    ({"x": 100, "y": 0, "label": 1}, "100"),
])
def test_bad_points_are_400(client, session, body, message):
    assert message in _error(client.post(f"/api/sessions/{session['session']}/points", json=body), 400)


def test_upload_csv(client, session):
    answer = client.post(f"/api/sessions/{session['session']}/upload", content=CSV.encode(),
                         headers={"content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    snapshot = answer.json()
    assert snapshot["config"]["dataset"] == "custom" and _count(snapshot) == 5
    rows = sorted(map(tuple, snapshot["points"]["train"] + snapshot["points"]["test"]))
    assert rows == sorted([(1, 1, 0), (-1, -1, 1), (2, 0, 1), (0, 2, 0), (3, 3, 1)])


@pytest.mark.parametrize("text, message", [
    ("x,y,label\n1,2,zz\n0,0,1\n1,1,0\n2,2,1\n", "line 2"),
    ("1,2\n", "expected 3 columns"),
    ("x,y,label\n1,1,0\n", "at least"),
])
def test_bad_csv_is_400_with_the_message(client, session, text, message):
    sid = session["session"]
    assert message in _error(client.post(f"/api/sessions/{sid}/upload", content=text.encode()), 400)
    assert client.get(f"/api/sessions/{sid}").json()["config"]["dataset"] == "circle"  # unchanged


def test_upload_not_utf8_is_400(client, session):
    message = _error(client.post(f"/api/sessions/{session['session']}/upload", content=b"\xff\xfe\x00x"), 400)
    assert "UTF-8" in message


def test_oversized_upload_is_413_by_length_and_by_counting(client, session):
    url = f"/api/sessions/{session['session']}/upload"
    big = b"1,1,0\n" * (MAX_UPLOAD_BYTES // 6 + 10)
    assert "limit" in _error(client.post(url, content=big), 413)

    def chunks():  # no Content-Length: the server counts while it reads
        for start in range(0, len(big), 4096):
            yield big[start:start + 4096]

    assert "limit" in _error(client.post(url, content=chunks()), 413)
    assert _error(client.post("/api/sessions", content=b" " * (MAX_UPLOAD_BYTES + 1)), 413)


def test_set_weight(client, session):
    sid = session["session"]
    snapshot = client.post(f"/api/sessions/{sid}/weight",
                           json={"layer": 1, "source": 3, "target": 0, "value": -1.25}).json()
    assert snapshot["network"]["weights"][1][0][3] == -1.25
    assert snapshot["network"]["weights"][1][1] == session["network"]["weights"][1][1]


@pytest.mark.parametrize("body, message", [
    ({"layer": 7, "source": 0, "target": 0, "value": 1}, "layer 7 does not exist"),
    ({"layer": 0, "source": 2, "target": 0, "value": 1}, "source 2"),
    ({"layer": 0.5, "source": 0, "target": 0, "value": 1}, "'layer' must be a whole number"),
    ({"layer": 0, "source": 0, "target": 0, "value": "big"}, "'value' must be a number"),
    ({"layer": 0, "source": 0, "target": 0}, "missing 'value'"),
])
def test_bad_weights_are_400(client, session, body, message):
    assert message in _error(client.post(f"/api/sessions/{session['session']}/weight", json=body), 400)


# ---- diagnose, export --------------------------------------------------------------------------

def test_diagnose(client, session):
    answer = client.post(f"/api/sessions/{session['session']}/diagnose", json={"budget_s": 1.0})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert isinstance(report["findings"], list) and isinstance(report["passed"], list)
    keys = {"code", "title", "severity", "explanation", "fix"}
    assert all(keys <= set(item) for item in report["findings"])
    for budget in (0, -1, 1000, "1"):
        assert _error(client.post(f"/api/sessions/{session['session']}/diagnose", json={"budget_s": budget}),
                      400)


def test_export_script_compiles(client, session):
    client.post(f"/api/sessions/{session['session']}/step")
    answer = client.get(f"/api/sessions/{session['session']}/export/script")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/x-python")
    assert 'filename="playground_model.py"' in answer.headers["content-disposition"]
    compile(answer.text, "playground_model.py", "exec")
    assert "dendrite" in answer.text


def test_export_weights_are_the_model_in_safetensors(client, session):
    from safetensors.numpy import load

    sid = session["session"]
    snapshot = client.post(f"/api/sessions/{sid}/step").json()
    answer = client.get(f"/api/sessions/{sid}/export/weights")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/octet-stream"
    assert 'filename="playground_model.safetensors"' in answer.headers["content-disposition"]
    tensors = load(answer.content)
    weights = [tensors[name] for name in sorted(tensors) if name.endswith("weight")]
    assert [w.shape for w in weights] == [(4, 2), (2, 4), (1, 2)]
    for exported, shown in zip(weights, snapshot["network"]["weights"]):
        assert np.allclose(exported, np.array(shown), atol=1e-6)


# ---- failures that are not the user's ---------------------------------------------------------

def test_a_bug_is_a_500_without_traceback(client, session, monkeypatch):
    slot = store_of(client).get(session["session"])

    def broken(*args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(slot.session, "reset", broken)
    message = _error(client.post(f"/api/sessions/{session['session']}/reset"), 500)
    assert "RuntimeError" in message and "secret" not in message
    assert client.get("/api/health").status_code == 200


def test_nan_in_a_snapshot_is_sent_as_null(client, session, monkeypatch):
    slot = store_of(client).get(session["session"])
    original = slot.session.snapshot
    monkeypatch.setattr(slot.session, "snapshot",
                        lambda *args: {**original(*args), "metrics": {"loss": float("nan")}})
    answer = client.get(f"/api/sessions/{session['session']}")
    assert answer.status_code == 200 and '"loss":null' in answer.text
