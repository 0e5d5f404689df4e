"""The Doctor callback: a real Trainer.fit, healthy (quiet) and with injected bugs (caught)."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite import nn, optim
from dendrite.train import Doctor, Trainer
from dendrite.train.callbacks import Callback, LambdaCallback
from tests.train.train_helpers import make_blobs, make_loader, make_model


def fit(optimizer_of, callbacks, epochs=4, model=None, **trainer_options):
    points, labels = make_blobs()
    model = model or make_model()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer_of(model), callbacks=callbacks, progress=False,
                      **trainer_options)
    with np.errstate(all="ignore"):
        trainer.fit(make_loader(points, labels), epochs=epochs, val_loader=make_loader(points, labels))
    return trainer


def test_a_healthy_fit_has_no_findings_and_prints_the_report(capsys):
    doctor = Doctor()
    trainer = fit(lambda model: optim.SGD(model.parameters(), lr=0.1), [doctor])
    assert doctor.report.ok and doctor.report.findings == [], str(doctor.report)
    assert "dendrite doctor: no problems found" in capsys.readouterr().out
    assert not trainer.stop_training
    optimizer = trainer.optimizer
    assert "step" not in vars(optimizer) and "zero_grad" not in vars(trainer.model)  # restored


def relu_model():
    dendrite.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def test_a_huge_learning_rate_is_caught_and_can_stop_training(capsys):
    doctor = Doctor(verbose=0, stop_on_error=True)
    trainer = fit(lambda model: optim.SGD(model.parameters(), lr=1e30), [doctor], epochs=5,
                  model=relu_model())
    codes = doctor.report.codes()
    assert {"nan-loss", "lr-too-high"} <= codes and not doctor.report.ok
    assert trainer.stop_training and trainer.stop_reason.startswith("Doctor: nan-loss")
    assert trainer.epoch == 0  # stopped in the first epoch
    assert capsys.readouterr().out == ""


def test_lr_ten_diverges_and_is_reported_without_stopping():
    doctor = Doctor(verbose=0)
    trainer = fit(lambda model: optim.SGD(model.parameters(), lr=10.0), [doctor], epochs=3,
                  model=relu_model())
    finding = next(f for f in doctor.report.findings if f.code == "lr-too-high")
    assert finding.severity == "error" and finding.evidence["lr"] == 10.0
    assert not trainer.stop_training and trainer.epoch == 2


def test_a_single_wild_step_is_lr_too_high():
    doctor = Doctor(verbose=0)  # tanh saturates after one huge step: the loss then sits at 0
    fit(lambda model: optim.SGD(model.parameters(), lr=100.0), [doctor], epochs=2)
    finding = next(f for f in doctor.report.findings if f.code == "lr-too-high")
    assert finding.evidence["update_ratio_max"] > 10 and "single step" in finding.title


class ForgetZeroGrad(Callback):
    """Injects the classic bug: the optimizer's zero_grad does nothing."""

    def on_train_begin(self, logs=None):
        self.trainer.optimizer.zero_grad = lambda *args, **kwargs: None


def test_missing_zero_grad_inside_fit_stops_with_stop_on_error():
    doctor = Doctor(verbose=0, stop_on_error=True)
    trainer = fit(lambda model: optim.SGD(model.parameters(), lr=0.01), [ForgetZeroGrad(), doctor])
    assert "missing-zero-grad" in doctor.report.codes()
    assert trainer.stop_reason.startswith("Doctor: missing-zero-grad") and trainer.global_step == 2


def test_a_model_left_in_eval_mode_by_a_callback():
    points, labels = make_blobs()
    dendrite.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    doctor = Doctor(verbose=0)
    freeze = LambdaCallback(on_batch_begin=lambda batch, logs: model.eval())
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2),
                      callbacks=[freeze, doctor], progress=False)
    trainer.fit(make_loader(points, labels), epochs=1)
    assert "eval-mode" in doctor.report.codes()


def test_the_watch_ends_even_when_fit_raises():
    doctor = Doctor(verbose=0)

    def explode(batch, logs):
        raise RuntimeError("boom")

    points, labels = make_blobs()
    model = make_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer,
                      callbacks=[doctor, LambdaCallback(on_batch_end=explode)], progress=False)
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(make_loader(points, labels), epochs=1)
    assert "step" in vars(optimizer)  # still wrapped: nothing has called it since
    optimizer.step()  # the first call after the failed fit removes the wrappers
    assert "step" not in vars(optimizer) and "zero_grad" not in vars(model)
    assert not dendrite.autograd.engine.backward_observers
    trainer.callbacks = [doctor]
    trainer.fit(make_loader(points, labels), epochs=1)  # and the callback works again
    assert doctor.report is not None and doctor.report.ok


def test_without_an_optimizer_the_watch_is_skipped_and_bad_options_are_named():
    doctor = Doctor(verbose=0)

    def train_step(trainer, batch):
        return {"loss": 0.0}

    points, labels = make_blobs()
    trainer = Trainer(make_model(), nn.CrossEntropyLoss(), callbacks=[doctor], train_step=train_step,
                      progress=False)
    trainer.fit(make_loader(points, labels), epochs=1)
    assert "watch" in doctor.report.skipped
    with pytest.raises(ValueError, match="verbose must be 0 or 1"):
        Doctor(verbose=2)
