"""The optimisation explorer's routes: the page, the three computations, and every refusal."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient  # noqa: E402

from dendrite.explore.optim import trajectory  # noqa: E402
from dendrite.playground.app import create_app  # noqa: E402

BASE = "/api/explore/optim"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as test_client:
        yield test_client


def test_page_and_surfaces(client):
    page = client.get("/optim")
    assert page.status_code == 200 and 'data-testid="optim-contour"' in page.text
    listing = client.get(f"{BASE}/surfaces").json()
    assert [s["name"] for s in listing["surfaces"]] == ["bowl", "rosenbrock", "beale", "saddle", "wells"]
    assert listing["optimizers"] == ["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw"]


def test_trajectories_equal_the_python_api(client):
    body = {"surface": "rosenbrock", "optimizers": ["sgd", "adam"], "start": [-1.0, 2.5], "lr": 0.0005,
            "steps": 50, "momentum": 0.8, "beta1": 0.8, "beta2": 0.99}
    answer = client.post(f"{BASE}/trajectories", json=body).json()
    assert answer["surface"]["name"] == "rosenbrock" and len(answer["contour"]["values"]) == 101
    for run in answer["trajectories"]:
        expected = trajectory("rosenbrock", run["optimizer"], start=(-1.0, 2.5), lr=0.0005, steps=50,
                              momentum=0.8, betas=(0.8, 0.99))
        assert run["points"] == expected.points.tolist() and run["final_loss"] == expected.final_loss
        assert len(run["points"]) == 51 and run["diverged"] is False
    no_contour = client.post(f"{BASE}/trajectories", json={**body, "include_contour": False}).json()
    assert "contour" not in no_contour


def test_defaults_and_divergence_is_sent_as_json(client):
    answer = client.post(f"{BASE}/trajectories", json={"surface": "beale", "optimizers": ["momentum"],
                                                       "lr": 0.01, "steps": 200}).json()
    run = answer["trajectories"][0]
    assert run["diverged"] is True and run["diverged_step"] < 200
    assert len(run["points"]) == run["diverged_step"] + 1
    assert answer["trajectories"][0]["settings"]["start"] == [1.0, 1.5]  # Beale's own start


def test_landscape_and_effects(client):
    answer = client.post(f"{BASE}/landscape", json={"dataset": "circle", "optimizers": ["adam", "sgd"],
                                                   "epochs": 3, "grid": 7, "seed": 1}).json()
    assert len(answer["values"]) == 7 and len(answer["values"][0]) == 7
    assert answer["paths"]["adam"][-1] == [0.0, 0.0] and len(answer["paths"]["sgd"]) == 4
    assert answer["values"][3][3] == pytest.approx(answer["final_losses"]["adam"], abs=1e-6)
    body = {"epochs": 2, "batch_sizes": [16, 200], "lrs": [0.1]}
    effects = client.post(f"{BASE}/effects", json=body).json()
    assert [(c["kind"], c["batch_size"], c["lr"]) for c in effects["curves"]] == [
        ("batch", 16, 0.3), ("batch", 200, 0.3), ("lr", 32, 0.1)]
    assert all(len(c["losses"]) == 3 for c in effects["curves"])


@pytest.mark.parametrize("path,body,field", [
    ("trajectories", {"surface": "moon"}, "'surface'"),
    ("trajectories", {"optimizers": ["sgd", "lion"]}, "'optimizers'"),
    ("trajectories", {"optimizers": []}, "'optimizers'"),
    ("trajectories", {"optimizers": ["sgd", "sgd"]}, "'optimizers'"),
    ("trajectories", {"start": [9, 9]}, "'start'"),
    ("trajectories", {"start": "0,0"}, "'start'"),
    ("trajectories", {"lr": 0}, "'lr'"),
    ("trajectories", {"lr": "fast"}, "'lr'"),
    ("trajectories", {"steps": 1001}, "'steps'"),
    ("trajectories", {"steps": 2.5}, "'steps'"),
    ("trajectories", {"momentum": 1}, "'momentum'"),
    ("trajectories", {"beta1": -0.1}, "'beta1'"),
    ("trajectories", {"beta2": 1.0}, "'beta2'"),
    ("trajectories", {"include_contour": "yes"}, "'include_contour'"),
    ("trajectories", {"contour_size": 1000}, "'contour_size'"),
    ("trajectories", {"colour": 1}, "'colour'"),
    ("landscape", {"grid": 43}, "'grid'"),
    ("landscape", {"grid": 10}, "'grid'"),
    ("landscape", {"epochs": 61}, "'epochs'"),
    ("landscape", {"dataset": "plane"}, "'dataset'"),
    ("landscape", {"seed": -1}, "'seed'"),
    ("effects", {"batch_sizes": [0]}, "'batch_sizes'"),
    ("effects", {"lrs": [0.1, 0.2, 0.3, 0.4, 0.5]}, "'lrs'"),
    ("effects", {"lrs": [-1]}, "'lrs'"),
])
def test_bad_input_is_refused_naming_the_field(client, path, body, field):
    response = client.post(f"{BASE}/{path}", json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]


def test_not_json_and_wrong_method(client):
    response = client.post(f"{BASE}/trajectories", content=b"[1, 2]",
                           headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON object" in response.json()["error"]
    assert client.get(f"{BASE}/trajectories").status_code == 405
