"""Trainer: learns a separable problem, logs per epoch, schedules, custom steps, determinism, predict."""

from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest

import dendrite
from dendrite import nn, optim
from dendrite.train import History, LambdaCallback, Trainer
from tests.train.train_helpers import make_blobs, make_loader, make_model, weights_of


def test_fit_reaches_high_accuracy_on_separable_blobs(setup):
    model, loss_fn, optimizer, loader, val_loader = setup
    trainer = Trainer(model, loss_fn, optimizer, progress=False, seed=0)
    history = trainer.fit(loader, epochs=8, val_loader=val_loader)
    assert isinstance(history, History) and history.epoch == list(range(8))
    assert set(history.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert history["val_accuracy"][-1] >= 0.95
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["lr"] == [pytest.approx(0.1)] * 8


def test_epoch_loss_is_the_batch_size_weighted_mean(blobs):
    points, labels = blobs
    model = make_model()
    loader = make_loader(points[:40], labels[:40], batch_size=16, shuffle=False)  # batches 16, 16, 8
    seen = []
    callback = LambdaCallback(on_batch_end=lambda batch, logs: seen.append((logs["size"], logs["loss"])))
    # lr=0: the weights never change, so the epoch loss must equal the full-data loss.
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0),
                      callbacks=[callback], progress=False)
    history = trainer.fit(loader, epochs=1)
    assert [size for size, _ in seen] == [16, 16, 8]
    weighted = sum(size * loss for size, loss in seen) / 40
    assert history["loss"][0] == pytest.approx(weighted, rel=1e-6)
    full = float(nn.CrossEntropyLoss()(model(dendrite.tensor(points[:40])), dendrite.tensor(labels[:40])))
    assert history["loss"][0] == pytest.approx(full, rel=1e-5)
    assert trainer.evaluate(loader)["loss"] == pytest.approx(full, rel=1e-5)


def test_train_and_eval_modes_and_no_grad_during_evaluation(setup):
    model, loss_fn, optimizer, loader, val_loader = setup
    observed = []

    class Probe(nn.Module):
        def forward(self, x):
            observed.append((self.training, dendrite.is_grad_enabled()))
            return x

    model.append(Probe())
    Trainer(model, loss_fn, optimizer, progress=False).fit(loader, epochs=1, val_loader=val_loader)
    train_batches, val_batches = len(loader), len(val_loader)
    assert observed[:train_batches] == [(True, True)] * train_batches
    assert observed[train_batches:] == [(False, False)] * val_batches
    assert model.training  # back in training mode after validation


def test_evaluate_and_predict(setup):
    model, loss_fn, optimizer, loader, val_loader = setup
    trainer = Trainer(model, loss_fn, optimizer, metrics=["accuracy", "f1"], progress=False, seed=0)
    trainer.fit(loader, epochs=5)
    points, labels = make_blobs()
    results = trainer.evaluate(val_loader)
    assert set(results) == {"loss", "accuracy", "f1"}
    scores = trainer.predict(points)
    assert scores.shape == (128, 2) and isinstance(scores, np.ndarray)
    np.testing.assert_allclose(trainer.predict(make_loader(points, labels, shuffle=False)), scores, rtol=1e-6)
    np.testing.assert_allclose(trainer.predict(points.astype(np.float64), batch_size=7), scores, rtol=1e-6)
    assert np.mean(scores.argmax(1) == labels) >= 0.95


def test_auto_metrics_follow_the_loss(setup):
    model, _, optimizer, _, _ = setup
    assert [m.name for m in Trainer(model, nn.CrossEntropyLoss(), optimizer).metrics] == ["accuracy"]
    assert Trainer(model, nn.MSELoss(), optimizer).metrics == []
    logits_trainer = Trainer(model, nn.BCEWithLogitsLoss(), optimizer)
    assert logits_trainer.metrics[0].threshold == 0.0  # logits are cut at 0, not 0.5


def test_regression_with_mse_and_r2():
    generator = np.random.default_rng(0)
    points = generator.normal(size=(64, 2)).astype(np.float32)
    targets = (points @ np.array([[1.5], [-2.0]], np.float32) + 0.5).astype(np.float32)
    from dendrite.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(points, targets), batch_size=16, shuffle=True)
    dendrite.manual_seed(0)
    model = nn.Linear(2, 1)
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), metrics=["mse", "r2"],
                      progress=False, seed=0)
    history = trainer.fit(loader, epochs=30)
    assert history["r2"][-1] > 0.99
    assert history["mse"][-1] == pytest.approx(history["loss"][-1], rel=0.5)


@pytest.mark.parametrize("interval, expected_steps", [("epoch", 3), ("step", 3 * 6)])
def test_scheduler_stepping_per_epoch_or_per_step(setup, interval, expected_steps):
    model, loss_fn, optimizer, loader, _ = setup  # 96 samples / 16 = 6 batches
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    trainer = Trainer(model, loss_fn, optimizer, scheduler=scheduler, scheduler_interval=interval,
                      progress=False)
    history = trainer.fit(loader, epochs=3)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**expected_steps)
    if interval == "epoch":
        assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])  # the rate used during each epoch
    else:
        assert history["lr"] == pytest.approx([0.1 * 0.5**6, 0.1 * 0.5**12, 0.1 * 0.5**18])


def test_reduce_lr_on_plateau_scheduler_gets_the_monitored_value(setup):
    model, loss_fn, optimizer, loader, val_loader = setup
    if not hasattr(optim.lr_scheduler, "ReduceLROnPlateau"):
        pytest.skip("dendrite.optim.lr_scheduler.ReduceLROnPlateau not available yet")
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    received = []
    original_step = scheduler.step
    scheduler.step = lambda metrics=None, *args: (received.append(metrics), original_step(metrics))
    history = Trainer(model, loss_fn, optimizer, scheduler=scheduler, progress=False).fit(
        loader, epochs=3, val_loader=val_loader)
    assert received == pytest.approx(history["val_loss"])
    with pytest.raises(ValueError, match="scheduler_interval='epoch'"):
        Trainer(model, loss_fn, optimizer, scheduler=scheduler, scheduler_interval="step")


def test_per_fit_state_lives_on_the_instance_not_the_class(setup):
    model, loss_fn, optimizer, loader, _ = setup
    seen = []

    def step(trainer, batch):
        inputs, target = batch
        loss = trainer.loss_fn(trainer.model(inputs), target)
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer_step()
        seen.append((trainer.fit_state.batch_index, "grad_norm" in trainer.fit_state.batch_logs))
        return {"loss": loss.item()}

    trainer = Trainer(model, loss_fn, optimizer, train_step=step, grad_clip_norm=1.0, progress=False)
    assert trainer.fit_state is None
    trainer.fit(loader, epochs=1)
    assert seen == [(index, True) for index in range(len(loader))]  # clipping ran through the callback path
    assert trainer.fit_state is None
    mutable = [name for name, value in vars(Trainer).items() if isinstance(value, (dict, list, set))]
    assert not mutable, f"class-level mutable state on Trainer: {mutable}"


def test_custom_train_step_drives_training_and_is_averaged(setup):
    model, loss_fn, optimizer, loader, _ = setup
    calls = []

    def step(trainer, batch):
        inputs, target = batch
        loss = trainer.loss_fn(trainer.model(inputs), target)
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer_step()
        calls.append(len(inputs))
        return {"loss": loss.item(), "d_loss": 2.0 * len(calls), "constant": 7.0}

    before = weights_of(model)
    history = Trainer(model, loss_fn, optimizer, train_step=step, progress=False).fit(loader, epochs=2)
    assert len(calls) == 2 * len(loader)
    assert history["constant"] == [7.0, 7.0]
    assert history["d_loss"][0] == pytest.approx(np.mean([2.0 * k for k in range(1, 7)]))  # equal batches
    assert "accuracy" not in history  # metrics are the custom step's business
    assert any(not np.array_equal(before[key], value) for key, value in weights_of(model).items())


def test_same_seed_gives_identical_histories_and_weights(blobs):
    points, labels = blobs

    def run():
        model = make_model(seed=3)
        model.insert(1, nn.Dropout(0.2))  # dropout and shuffling both draw from the seeded generator
        trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), seed=42,
                          progress=False)
        history = trainer.fit(make_loader(points, labels), epochs=3)
        return history.history, weights_of(model)

    (history_a, weights_a), (history_b, weights_b) = run(), run()
    assert history_a == history_b
    for key in weights_a:
        np.testing.assert_array_equal(weights_a[key], weights_b[key])
    model = make_model(seed=3)
    other = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), seed=7,
                    progress=False).fit(make_loader(points, labels), epochs=3)
    assert other.history["loss"] != history_a["loss"]  # the seed matters (shuffling)


def test_grad_clip_norm_limits_the_update(setup):
    model, loss_fn, _, loader, _ = setup
    norms = []
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    callback = LambdaCallback(on_batch_end=lambda batch, logs: norms.append(logs["grad_norm"]))
    before = {key: value.copy() for key, value in weights_of(model).items()}
    Trainer(model, loss_fn, optimizer, grad_clip_norm=1e-3, callbacks=[callback], progress=False).fit(
        loader, epochs=1)
    assert len(norms) == len(loader) and max(norms) > 1e-3
    change = math.sqrt(sum(float(((weights_of(model)[key] - before[key]) ** 2).sum()) for key in before))
    assert change <= len(loader) * 0.1 * 1e-3 * (1 + 1e-4)  # each step moves at most lr * max_norm


def test_progress_epoch_mode_prints_one_line_per_epoch(setup, capsys):
    model, loss_fn, optimizer, loader, val_loader = setup
    Trainer(model, loss_fn, optimizer, progress="epoch").fit(loader, epochs=2, val_loader=val_loader)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2 - ") and "loss: " in lines[0] and "val_accuracy: " in lines[0]


def test_progress_auto_is_silent_when_stdout_is_not_a_terminal(setup, capsys):
    model, loss_fn, optimizer, loader, _ = setup
    Trainer(model, loss_fn, optimizer, progress=None).fit(loader, epochs=1)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_shows_loss_and_metrics(setup, monkeypatch):
    pytest.importorskip("tqdm")
    model, loss_fn, optimizer, loader, _ = setup
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    Trainer(model, loss_fn, optimizer, progress=True).fit(loader, epochs=2)
    output = stream.getvalue()
    assert "Epoch 1/2" in output and "Epoch 2/2" in output
    assert "loss=" in output or "loss: " in output
    assert "accuracy" in output


def test_fit_errors_name_the_problem(setup):
    model, loss_fn, optimizer, loader, _ = setup
    with pytest.raises(ValueError, match="scheduler_interval"):
        Trainer(model, loss_fn, optimizer, scheduler_interval="batch")
    with pytest.raises(ValueError, match="needs an optimizer"):
        Trainer(model, loss_fn).fit(loader)
    with pytest.raises(ValueError, match="no target"):
        Trainer(model, loss_fn, optimizer, progress=False).fit([(dendrite.zeros(4, 2),)], epochs=1)
    with pytest.raises(ValueError, match="no batches"):
        Trainer(model, loss_fn, optimizer, progress=False).fit([], epochs=1)
    with pytest.raises(TypeError, match="dict of floats"):
        Trainer(model, loss_fn, optimizer, train_step=lambda trainer, batch: 1.0, progress=False).fit(loader)


def test_progress_bar_is_visible_on_a_terminal_that_reports_size_zero(tmp_path):
    """Pseudo-terminals in CI/containers often report 0x0; tqdm would then hide the bar."""
    pytest.importorskip("tqdm")
    pty = pytest.importorskip("pty")
    import os
    import subprocess

    script = tmp_path / "run.py"
    script.write_text(
        "import numpy as np\n"
        "from train_helpers import make_blobs, make_loader, make_model\n"
        "from dendrite import nn, optim\n"
        "from dendrite.train import Trainer\n"
        "points, labels = make_blobs()\n"
        "model = make_model()\n"
        "Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1)).fit(\n"
        "    make_loader(points, labels), epochs=1)\n"
    )
    here = os.path.dirname(__file__)
    root = os.path.dirname(os.path.dirname(here))
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([root, here]))
    master, slave = pty.openpty()  # a fresh pty reports 0 columns and 0 rows
    process = subprocess.Popen([sys.executable, str(script)], stdout=slave, stderr=slave, env=environment)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert process.wait(timeout=60) == 0, b"".join(chunks).decode(errors="replace")
    output = b"".join(chunks).decode(errors="replace")
    assert "Epoch 1/1" in output and "8/8" in output and "loss: " in output


def test_bundled_digits_end_to_end_with_callbacks(tmp_path):
    """An MLP on the bundled 8x8 digits: validation metrics agree with predict() + scikit-learn."""
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    from dendrite.data import DataLoader, load_dataset
    from dendrite.train import CSVLogger, EarlyStopping, ModelCheckpoint, load_state_dict_file

    data = load_dataset("digits")
    train = DataLoader(data.train_dataset(), batch_size=64, shuffle=True)
    test = DataLoader(data.test_dataset(), batch_size=256)
    dendrite.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    callbacks = [EarlyStopping(patience=3, restore_best_weights=True),
                 ModelCheckpoint(tmp_path / "best.npz", save_best_only=True), CSVLogger(tmp_path / "log.csv")]
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2),
                      metrics=["accuracy", "f1"], callbacks=callbacks, progress=False, seed=0)
    history = trainer.fit(train, epochs=15, val_loader=test)
    best_epoch, best_loss = history.best("val_loss")
    assert history["val_accuracy"][history.epoch.index(best_epoch)] >= 0.93
    # The restored weights are the best epoch's: evaluating them reproduces that epoch's logs.
    results = trainer.evaluate(test)
    assert results["loss"] == pytest.approx(best_loss, rel=1e-5)
    predicted = trainer.predict(test).argmax(1)
    labels = np.asarray(data.y_test)
    assert results["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(labels, predicted))
    assert results["f1"] == pytest.approx(sklearn_metrics.f1_score(labels, predicted, average="macro"))
    saved = load_state_dict_file(tmp_path / "best.npz")
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(saved[key]), value.numpy())
    assert len((tmp_path / "log.csv").read_text().strip().splitlines()) == len(history) + 1
