"""``Doctor``: the training doctor's :func:`~dendrite.doctor.watch` inside ``Trainer.fit``.

It watches every step of the run from the outside — the same checks as
``with dendrite.doctor.watch(model, optimizer)`` around a hand-written loop
(missing-zero-grad, no-gradient, params-not-in-optimizer, eval-mode, nan-loss,
lr-too-high, loss-plateau), fed with the Trainer's per-batch ``loss`` — and at
the end of ``fit`` (also when a callback stopped it) keeps the verdict in
``.report`` and prints it.

Like Keras's diagnostic callbacks it only observes by default. With
``stop_on_error=True`` it stops the run (``trainer.stop_training``, with the
finding in ``trainer.stop_reason``) after the batch where a NaN loss, a
non-finite weight or gradients accumulating across steps first show, and at
the end of an epoch with any error finding; pair it with ``TerminateOnNaN``
otherwise.
"""

from __future__ import annotations

from dendrite.doctor import Report, Watch
from dendrite.doctor.watch_checks import check_missing_zero_grad, check_nan
from dendrite.train.callbacks.base import Callback

__all__ = ["Doctor"]


class Doctor(Callback):
    """Watch ``Trainer.fit`` for the classic training bugs; the verdict is in ``.report`` after fit.

    Arguments:
        verbose: ``1`` (default) prints the report when training ends; ``0`` stays silent.
        stop_on_error: stop training once an error finding appears (default ``False``: observe only).

    Attributes:
        report: the :class:`~dendrite.doctor.Report` of the last ``fit`` (``None`` before one ended).

    Example:
        >>> import dendrite, numpy as np
        >>> from dendrite import nn
        >>> from dendrite.data import DataLoader, TensorDataset
        >>> from dendrite.train import Trainer
        >>> X = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
        >>> loader = DataLoader(TensorDataset(X, (X[:, 0] > 0).astype("int64")), batch_size=16)
        >>> _ = dendrite.manual_seed(0)
        >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> doctor = Doctor(verbose=0)
        >>> trainer = Trainer(model, nn.CrossEntropyLoss(), dendrite.optim.Adam(model.parameters(), lr=0.01),
        ...                   callbacks=[doctor], progress=False)
        >>> _ = trainer.fit(loader, epochs=3)
        >>> doctor.report.ok, doctor.report.findings
        (True, [])
    """

    def __init__(self, verbose: int = 1, stop_on_error: bool = False) -> None:
        if verbose not in (0, 1, True, False):
            raise ValueError(f"Doctor: verbose must be 0 or 1, got {verbose!r}")
        self.verbose, self.stop_on_error = int(verbose), bool(stop_on_error)
        self.report: Report | None = None
        self._watch: Watch | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self._watch is not None:
            self._watch.stop()  # an earlier fit that raised: its wrappers go now
        trainer = self.trainer
        self.report = None
        if trainer.optimizer is None:
            self._watch = None
            return
        # The watch also ends itself if fit raises before on_train_end (the Trainer then clears fit_state).
        self._watch = Watch(trainer.model, trainer.optimizer, alive=lambda: trainer.fit_state is not None)
        self._watch.start()

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._watch is None:
            return
        if logs and "loss" in logs:
            self._watch.log_loss(logs["loss"])
        if self.stop_on_error:
            record = self._watch.record
            self._stop(check_nan(record) or check_missing_zero_grad(record))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._watch is not None and self.stop_on_error:
            errors = self._watch.report().by_severity("error")
            self._stop(errors[0] if errors else None)

    def _stop(self, finding) -> None:
        if finding is not None and finding.severity == "error" and not self.trainer.stop_training:
            self.trainer.stop_training = True
            self.trainer.stop_reason = f"Doctor: {finding.code}: {finding.title}"

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._watch is None:
            self.report = Report(skipped={"watch": "the Trainer has no optimizer (custom train_step)"})
        else:
            self.report = self._watch.report()
            self._watch.stop()
            self._watch = None
        if self.verbose:
            print(self.report)
