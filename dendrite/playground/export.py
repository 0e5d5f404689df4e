"""The session as a runnable Python script, and its weights as safetensors.

The script carries the very functions the session trains with (``inspect.getsource`` of
:data:`~dendrite.playground.network.SCRIPT_FUNCTIONS` and the data functions), the config as it was
at the last reset, the points (a built-in set's generator call or the custom points themselves) and
the change log; its ``main(epochs)`` replays the changes at the same optimizer steps, so the losses
it prints equal the session's history exactly. It imports only NumPy and public dendrite API and
writes ``playground_model.safetensors`` beside itself at the end.
"""

from __future__ import annotations

import inspect
import io
import pprint

import numpy as np

import dendrite
from dendrite import nn
from dendrite.playground.datasets import builtin_points, feature_matrix, loss_targets, split_points
from dendrite.playground.network import SCRIPT_FUNCTIONS

__all__ = ["script_source", "weights_bytes"]

_HEADER = '''"""A dendrite playground model, exported from the playground at epoch {epoch}.

Run it (``python playground_model.py [epochs]``) to train the same network on the same points with
the same live changes at the same steps: it prints one line per epoch, the same losses as the page,
and writes ``playground_model.safetensors`` beside this file. ``main(epochs)`` returns the history.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

import dendrite
from dendrite import nn, optim
from dendrite.data import make_playground, make_playground_multiclass
from dendrite.nn import functional as F

# The config at the last reset (live changes after it are in CHANGES).
CONFIG = {config}

# Live changes: applied just before the optimizer step numbered "step" (0 = the first).
CHANGES = {changes}

EPOCHS = {epoch}
STEPS = {steps}  # the page's optimizer steps: it may have stopped mid-epoch
'''

_BUILTIN = '''

def load_points():
    """The points, as the playground generated them: (points (n, 2) float32, labels (n,))."""
    return builtin_points(CONFIG["dataset"], CONFIG["problem"], CONFIG["classes"], CONFIG["points"],
                          CONFIG["noise"], CONFIG["data_seed"])
'''

_CUSTOM = '''

# The custom points: x, y, label.
POINTS = {points}


def load_points():
    """The custom points: (points (n, 2) float32, labels (n,) {label_type})."""
    table = np.array(POINTS, dtype=np.float64).reshape(-1, 3)
    return table[:, :2].astype(np.float32), table[:, 2].astype(np.{label_type})
'''

_MAIN = '''

def report(run):
    """One line per epoch: the losses with every digit (repr), then the accuracies."""
    h = run["history"]
    line = f"epoch {h['epoch'][-1]} train_loss {h['train_loss'][-1]!r} test_loss {h['test_loss'][-1]!r}"
    if h["train_accuracy"][-1] is not None:
        line += f" train_accuracy {h['train_accuracy'][-1]:.4f} test_accuracy {h['test_accuracy'][-1]:.4f}"
    print(line)


def main(epochs=EPOCHS, steps=STEPS):
    """Train ``epochs`` epochs from scratch, then on to optimizer step ``steps`` if that is further;
    save the weights; return the history (one entry per completed epoch, epoch 0 first)."""
    xy, labels = load_points()
    run = new_run(CONFIG, xy, labels, CHANGES)
    report(run)
    while run["epoch"] < epochs:
        advance(run, lambda: False)
        report(run)
    while run["steps"] < steps:
        if advance(run, lambda: run["steps"] >= steps):
            report(run)
    replay_due(run, run["steps"])  # changes made after the last step (e.g. an edited weight)
    here = Path(globals().get("__file__", "playground_model.py")).resolve().parent
    dendrite.save(run["model"].state_dict(), here / "playground_model.safetensors")
    return run["history"]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(int(sys.argv[1]), steps=0)  # whole epochs only
    else:
        main()
'''


def _without_examples(source: str) -> str:
    """A function's source without the docstring's ``Example:`` block (it names playground modules)."""
    kept, skipping = [], False
    for line in source.splitlines():
        if line.strip() == "Example:":
            skipping = True
            while kept and not kept[-1].strip():
                kept.pop()
            continue
        if skipping and line.strip() != '"""':
            continue
        skipping = False
        kept.append(line)
    return "\n".join(kept) + "\n"


def _literal(value) -> str:
    return pprint.pformat(value, width=100, sort_dicts=False)


def script_source(config: dict, changes: list, epoch: int, custom: tuple | None = None,
                  steps: int = 0) -> str:
    """A runnable script: ``config`` as at the reset, ``changes`` (the change log), ``epoch`` epochs.

    ``custom`` is ``(points (n, 2), labels (n,))`` for the custom dataset, embedded in the script;
    ``steps`` the optimizer steps to train to when that is beyond ``epoch`` whole epochs.

    Example:
        >>> from dendrite.playground.config import validate_config
        >>> text = script_source(validate_config(), [], 3)
        >>> "def main(epochs=EPOCHS, steps=STEPS):" in text, "EPOCHS = 3" in text
        (True, True)
    """
    parts = [_HEADER.format(epoch=int(epoch), steps=int(steps), config=_literal(config),
                            changes=_literal(changes))]
    if custom is None:
        parts.append(_BUILTIN)
    else:
        xy, labels = custom
        rows = [[float(p[0]), float(p[1]), labels[i].item()] for i, p in enumerate(np.asarray(xy))]
        label_type = "int64" if np.issubdtype(labels.dtype, np.integer) else "float32"
        parts.append(_CUSTOM.format(points=_literal(rows), label_type=label_type))
    for function in (builtin_points, split_points, feature_matrix, loss_targets, *SCRIPT_FUNCTIONS):
        parts.append("\n\n" + _without_examples(inspect.getsource(function)))
    parts.append(_MAIN)
    return "".join(parts)


def weights_bytes(model: nn.Module) -> bytes:
    """The model's ``state_dict()`` as safetensors bytes (what ``dendrite.save`` writes).

    Example:
        >>> data = weights_bytes(nn.Linear(2, 1))
        >>> sorted(dendrite.load(io.BytesIO(data)))
        ['bias', 'weight']
    """
    buffer = io.BytesIO()
    dendrite.save(model.state_dict(), buffer)
    return buffer.getvalue()
