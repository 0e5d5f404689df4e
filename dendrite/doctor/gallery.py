"""The gallery of classic mistakes: each injected into one small sound setup, trained to show its symptom,
then examined by the doctor.

The sound setup is an MLP (64 -> 32 -> 10, ReLU) trained with Adam(lr=1e-3) on 600 of the built-in 8x8
``digits``. Each row of :func:`gallery` changes one thing, trains 25 full-batch steps to
show what a user would see, and runs :func:`~dendrite.doctor.examine` with a small budget.
``dendrite doctor --gallery`` prints :func:`format_gallery` of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import dendrite.nn.functional as F
from dendrite import backend, nn, optim
from dendrite.creation import tensor
from dendrite.data import DataLoader, TensorDataset, load_dataset
from dendrite.doctor.examiner import examine
from dendrite.doctor.watch import watch

__all__ = ["GalleryRow", "gallery", "format_gallery", "MISTAKES"]

SYMPTOM_STEPS = 25


@dataclass(frozen=True)
class GalleryRow:
    """One mistake: what was done, what training showed, what the doctor said first, whether it matched.

    Example:
        >>> row = GalleryRow("SGD lr=30", "lr-too-high", "loss nan at step 3", "lr-too-high", True, 0.4)
        >>> row.matched, row.top_finding
        (True, 'lr-too-high')
    """

    mistake: str
    expected: str
    symptom: str
    top_finding: str
    matched: bool
    seconds: float


def _mlp(inputs: int = 64, hidden: int = 32, classes: int = 10, activation=nn.ReLU,
         depth: int = 1) -> nn.Module:
    layers: list[nn.Module] = [nn.Flatten()]
    for _ in range(depth):
        layers += [nn.Linear(inputs, hidden), activation()]
        inputs = hidden
    layers.append(nn.Linear(inputs, classes))
    return nn.Sequential(*layers)


def _scale_weights(model: nn.Module, factor: float, layers: slice = slice(None)) -> nn.Module:
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)][layers]
    for module in linear:
        module.weight.data = module.weight.array * factor
    return model


class _Unused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = _mlp()
        self.spare = nn.Linear(10, 10)  # defined and never used in forward

    def forward(self, x):
        return self.body(x)


def _setups(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> list[tuple[str, str, Callable]]:
    """(mistake, expected code, builder -> examine kwargs) for every classic mistake."""
    def base(model=None, **extra):
        model = model or _mlp()
        return {"model": model, "data": (x, y), **extra}

    def nan_data():
        bad = x.copy()
        bad[rng.choice(len(bad), 5, replace=False)] = np.nan
        return {"model": _mlp(), "data": (bad, y)}

    def bn_small():
        model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(),
                              nn.Linear(32, 10))
        return {"model": model, "data": DataLoader(TensorDataset(x, y), batch_size=2, shuffle=True, seed=0)}

    def eval_mode():
        model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))
        model.eval()
        return base(model)

    def not_in_optimizer():
        model = _mlp()
        return base(model, optimizer=optim.Adam(list(model.parameters())[-2:], lr=1e-3))

    def dead():
        model = _mlp()
        model[1].bias.data = model[1].bias.array - 4.0
        return base(model)

    return [
        ("NaN in 5 input rows", "nan-in-data", nan_data),
        ("pixels in [0, 255] instead of [0, 1]", "inputs-not-normalized", lambda: base(data=(x * 255, y))),
        ("labels shifted to 1..10", "labels-out-of-range", lambda: base(data=(x, y + 1))),
        ("targets shuffled apart from inputs", "labels-unlearnable",
         lambda: base(data=(x, y[rng.permutation(len(y))]))),
        ("'is it a 0?' labels: 90% one class", "class-imbalance",
         lambda: base(_mlp(classes=2), data=(x, (y == 0).astype(np.int64)))),
        ("validation = first 200 training rows", "train-val-overlap",
         lambda: base(val_data=(x[:200], y[:200]))),
        ("nn.Softmax before cross_entropy", "softmax-before-loss",
         lambda: base(nn.Sequential(_mlp(), nn.Softmax(dim=1)))),
        ("last layer weights x30", "initial-loss-off",
         lambda: base(_scale_weights(_mlp(), 30.0, slice(-1, None)))),
        ("hidden bias initialised to -4", "dead-relu", dead),
        ("tanh layers with weights x12", "saturated-activations",
         lambda: base(_scale_weights(_mlp(activation=nn.Tanh, depth=2), 12.0, slice(0, 2)))),
        ("8 sigmoid layers", "vanishing-gradients",
         lambda: base(_mlp(activation=nn.Sigmoid, depth=8), optimizer=lambda p: optim.SGD(p, lr=0.1))),
        ("8 ReLU layers with weights x4", "exploding-gradients",
         lambda: base(_scale_weights(_mlp(depth=8), 4.0), optimizer=lambda p: optim.SGD(p, lr=0.01))),
        ("a layer defined but unused", "no-gradient", lambda: base(_Unused())),
        ("optimizer given the last layer only", "params-not-in-optimizer", not_in_optimizer),
        ("model.eval() left on (dropout)", "eval-mode", eval_mode),
        ("BatchNorm with batch_size=2", "batchnorm-small-batch", bn_small),
        ("SGD lr=30", "lr-too-high", lambda: base(optimizer=lambda p: optim.SGD(p, lr=30.0))),
        ("Adam lr=1e-6", "lr-too-low", lambda: base(optimizer=lambda p: optim.Adam(p, lr=1e-6))),
        ("a width-1 bottleneck", "cannot-overfit-batch",
         lambda: base(nn.Sequential(nn.Flatten(), nn.Linear(64, 1), nn.ReLU(), nn.Linear(1, 10)))),
        ("Adam weight_decay=10", "weight-decay-too-high",
         lambda: base(optimizer=lambda p: optim.Adam(p, lr=1e-3, weight_decay=10.0))),
        ("nll_loss on raw logits", "missing-log-softmax", lambda: base(loss_fn=F.nll_loss)),
    ]


# Mistakes in the training loop itself: examine never sees the user's loop, watch does.
LOOP_MISTAKES = [
    ("optimizer.zero_grad() forgotten in the loop", "missing-zero-grad", "never"),
    ("zero_grad() between backward() and step()", "no-gradient", "between"),
]

_SETUP_NAMES = [name for name, _, _ in _setups(np.zeros((4, 64)), np.zeros(4, np.int64),
                                               np.random.default_rng(0))]
MISTAKES = _SETUP_NAMES + [name for name, _, _ in LOOP_MISTAKES]


def _user_loop(model, optimizer, x, y, zero_grad: str) -> list[float]:
    """A user's minibatch loop (batches of 32) with ``zero_grad`` placed ``"before"`` the forward
    pass (correct), ``"between"`` backward and step, or ``"never"``; returns the losses."""
    inputs, targets = tensor(x), tensor(y)
    losses = []
    for step in range(SYMPTOM_STEPS):
        rows = slice(step * 32 % len(x), step * 32 % len(x) + 32)
        if zero_grad == "before":
            optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs[rows]), targets[rows])
        losses.append(float(loss.item()))
        loss.backward()
        if zero_grad == "between":
            optimizer.zero_grad()
        optimizer.step()
    return losses


def _loop_row(mistake: str, expected: str, zero_grad: str, x, y) -> GalleryRow:
    """Run the faulty loop under :func:`watch`; the symptom is its loss curve."""
    import time

    began = time.perf_counter()
    model = _mlp()
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    with watch(model, optimizer) as watcher:
        losses = _user_loop(model, optimizer, x, y, zero_grad)
    report = watcher.report()
    top = report.findings[0].code if report.findings else "(none)"
    symptom = f"loss {losses[0]:.3g} -> {losses[-1]:.3g} in {SYMPTOM_STEPS} steps"
    return GalleryRow(mistake, expected, symptom, top, top == expected, time.perf_counter() - began)


def _symptom(setup: dict) -> str:
    """Train 25 full-batch steps as a user would and describe the loss curve in a few words."""
    model, (x, y) = setup["model"], _arrays(setup["data"])
    loss_fn = setup.get("loss_fn", F.cross_entropy)
    factory = setup.get("optimizer")
    if isinstance(factory, optim.Optimizer):
        optimizer = factory
    else:
        optimizer = (factory or (lambda p: optim.Adam(p, lr=1e-3)))(list(model.parameters()))
    inputs, targets = tensor(x), tensor(y)
    losses = []
    try:
        for _ in range(SYMPTOM_STEPS):
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            losses.append(float(loss.item()))
            if not math.isfinite(losses[-1]):
                return f"loss {losses[-1]} at step {len(losses) - 1}"
            loss.backward()
            optimizer.step()
    except Exception as error:  # noqa: BLE001 - a crash is the symptom
        return f"crash: {type(error).__name__}: {str(error)[:40]}"
    return f"loss {losses[0]:.3g} -> {losses[-1]:.3g} in {SYMPTOM_STEPS} steps"


def _arrays(data):
    if isinstance(data, DataLoader):
        x, y = data.dataset.tensors
        return x.array, y.array
    return data


def gallery(*, seed: int = 0, budget_s: float = 10.0) -> list[GalleryRow]:
    """Inject each classic mistake into a small sound setup, show its symptom, and run the doctor on it.

    The setup mistakes are examined with :func:`examine`; the training-loop mistakes
    (:data:`LOOP_MISTAKES`: a forgotten or misplaced ``zero_grad``) run under :func:`watch`.

    Args:
        seed: seed of the models, the data choice and the doctor.
        budget_s: the doctor's time budget per mistake.

    Returns:
        One :class:`GalleryRow` per mistake, in :data:`MISTAKES` order.

    Shapes: no arrays; the digits inputs are (600, 8, 8), labels (600,).

    Example:
        >>> rows = gallery()
        >>> all(row.matched for row in rows), rows[0].expected
        (True, 'nan-in-data')
    """
    import time

    splits = load_dataset("digits")
    x, y = splits.x_train[:600].copy(), splits.y_train[:600].copy()
    rows = []
    saved = backend.get_rng_state()
    try:
        for index, (mistake, expected, build) in enumerate(_setups(x, y, np.random.default_rng(seed))):
            backend.manual_seed(seed * 1000 + index)
            began = time.perf_counter()
            setup = build()
            report = examine(**setup, budget_s=budget_s, seed=seed)
            symptom = _symptom(build_again(build, seed * 1000 + index))
            top = report.findings[0].code if report.findings else "(none)"
            rows.append(GalleryRow(mistake, expected, symptom, top, top == expected,
                                   time.perf_counter() - began))
        for index, (mistake, expected, zero_grad) in enumerate(LOOP_MISTAKES, len(rows)):
            backend.manual_seed(seed * 1000 + index)
            rows.append(_loop_row(mistake, expected, zero_grad, x, y))
    finally:
        backend.set_rng_state(saved)
    return rows


def build_again(build: Callable, seed: int) -> dict:
    """The same setup built afresh (the symptom run trains it; the doctor must see it untrained)."""
    backend.manual_seed(seed)
    return build()


def format_gallery(rows: list[GalleryRow]) -> str:
    """The gallery as a Markdown table: mistake, symptom in training, doctor's top finding, matched.

    Example:
        >>> print(format_gallery([GalleryRow("SGD lr=30", "lr-too-high", "loss nan at step 3",
        ...                                  "lr-too-high", True, 0.1)]))
        | mistake | symptom in training | doctor's top finding | matched |
        |---|---|---|---|
        | SGD lr=30 | loss nan at step 3 | lr-too-high | yes |
        <BLANKLINE>
        1 of 1 mistakes matched
    """
    lines = ["| mistake | symptom in training | doctor's top finding | matched |", "|---|---|---|---|"]
    for row in rows:
        top = row.top_finding if row.matched else f"{row.top_finding} (expected {row.expected})"
        lines.append(f"| {row.mistake} | {row.symptom} | {top} | {'yes' if row.matched else 'NO'} |")
    matched = sum(row.matched for row in rows)
    return "\n".join(lines) + f"\n\n{matched} of {len(rows)} mistakes matched"
