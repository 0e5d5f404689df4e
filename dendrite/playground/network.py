"""The playground's model and training loop, as plain functions the exported script carries verbatim.

The session and the script (``export.py`` copies these functions with ``inspect.getsource``) run
the same code, so the script's per-epoch losses equal the session's history bit for bit. A *run* is
a plain dict: the normalised config, the arrays, the model, the optimizer, the shuffling generator,
the position in the current epoch, the step and epoch counters, the history, and the change log to
replay (``run["replay"]``; the session applies its own changes at once and leaves it empty).

Only public dendrite API, NumPy and these functions may appear here (the script imports nothing
else); :data:`SCRIPT_FUNCTIONS` lists what the script carries.
"""

from __future__ import annotations

import math

import numpy as np

import dendrite
from dendrite import nn, optim
from dendrite.nn import functional as F
from dendrite.playground.datasets import feature_matrix, loss_targets, split_points

__all__ = ["new_run", "advance", "apply_change", "evaluate", "lr_factor", "hidden_spans"]


def build_model(config: dict, inputs: int, outputs: int) -> nn.Sequential:
    """Linear -> [BatchNorm1d] -> activation -> [Dropout] per hidden layer, then Linear(last, outputs)."""
    activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    modules = []
    width = inputs
    for layer in config["layers"]:
        modules.append(nn.Linear(width, layer["neurons"]))
        if layer["batchnorm"]:
            modules.append(nn.BatchNorm1d(layer["neurons"]))
        if layer["activation"] in activations:
            modules.append(activations[layer["activation"]]())
        if layer["dropout"] > 0:
            modules.append(nn.Dropout(layer["dropout"]))
        width = layer["neurons"]
    modules.append(nn.Linear(width, outputs))
    return nn.Sequential(*modules)


def init_model(model: nn.Sequential, init: str) -> None:
    """Re-initialise every Linear by the ``init`` scheme (``default`` keeps PyTorch's Linear init)."""
    schemes = {
        "xavier_uniform": nn.init.xavier_uniform_, "xavier_normal": nn.init.xavier_normal_,
        "kaiming_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
        "kaiming_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
        "lecun_normal": nn.init.lecun_normal_, "orthogonal": nn.init.orthogonal_,
        "small_normal": lambda w: nn.init.normal_(w, 0.0, 0.01),
        "large_normal": lambda w: nn.init.normal_(w, 0.0, 1.0),
        "zeros": nn.init.zeros_,
        "playground": lambda w: nn.init.uniform_(w, -0.5, 0.5),  # the TF Playground's weights
    }
    if init == "default":
        return
    for module in model:
        if isinstance(module, nn.Linear):
            schemes[init](module.weight)
            nn.init.constant_(module.bias, 0.1 if init == "playground" else 0.0)


def make_optimizer(model: nn.Sequential, config: dict):
    """The configured optimizer over all parameters at the base learning rate."""
    lr = config["learning_rate"]
    if config["optimizer"] == "momentum":
        return optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    if config["optimizer"] == "adam":
        return optim.Adam(model.parameters(), lr=lr)
    if config["optimizer"] == "rmsprop":
        return optim.RMSprop(model.parameters(), lr=lr)
    return optim.SGD(model.parameters(), lr=lr)


def lr_factor(schedule: str, epoch: int) -> float:
    """The factor on the learning rate after ``epoch`` completed epochs.

    Example:
        >>> lr_factor("step", 250), lr_factor("cosine", 0), round(lr_factor("cosine", 300), 6)
        (0.25, 1.0, 0.01)
    """
    if schedule == "step":
        return 0.5 ** (epoch // 100)
    if schedule == "exponential":
        return 0.99 ** epoch
    if schedule == "cosine":
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(epoch, 300) / 300))
    return 1.0


def penalty(model: nn.Sequential, kind: str, rate: float):
    """L1 = rate * sum|w| or L2 = rate * sum(w^2) / 2 over the Linear weights (not biases); None for none."""
    if kind == "none" or rate == 0:
        return None
    total = None
    for module in model:
        if isinstance(module, nn.Linear):
            w = module.weight
            term = w.abs().sum() if kind == "l1" else (w * w).sum() * 0.5
            total = term if total is None else total + term
    return total * rate


def task_loss(output, target, config: dict):
    """BCE with logits (2 classes), cross entropy (3+), MSE (regression); without the penalty."""
    if config["problem"] == "regression":
        return F.mse_loss(output, target)
    if config["classes"] > 2:
        return F.cross_entropy(output, target)
    return F.binary_cross_entropy_with_logits(output, target)


def evaluate(model: nn.Sequential, x: np.ndarray, y: np.ndarray, config: dict) -> tuple:
    """``(loss, accuracy)`` of the model in eval mode over all of ``x``; accuracy None for regression.

    Example:
        >>> config = {"problem": "classification", "classes": 2}
        >>> model = nn.Sequential(nn.Linear(1, 1))
        >>> _ = nn.init.ones_(model[0].weight), nn.init.zeros_(model[0].bias)
        >>> x, y = np.array([[2.0], [-2.0]], np.float32), np.array([[1.0], [0.0]], np.float32)
        >>> loss, accuracy = evaluate(model, x, y, config); round(loss, 4), accuracy
        (0.1269, 1.0)
    """
    model.eval()
    with dendrite.no_grad():
        output = model(dendrite.tensor(x))
        loss = float(task_loss(output, dendrite.tensor(y), config).item())
        scores = output.numpy()
    if config["problem"] == "regression":
        return loss, None
    if config["classes"] > 2:
        predicted = scores.argmax(1)
        return loss, float((predicted == y).mean())
    return loss, float(((scores > 0) == (y > 0.5)).mean())


def record_epoch(run: dict) -> None:
    """Append the losses and accuracies of the current model to ``run["history"]``."""
    config = run["config"]
    train_loss, train_accuracy = evaluate(run["model"], run["x_train"], run["y_train"], config)
    test_loss, test_accuracy = evaluate(run["model"], run["x_test"], run["y_test"], config)
    for key, value in (("epoch", run["epoch"]), ("train_loss", train_loss), ("test_loss", test_loss),
                       ("train_accuracy", train_accuracy), ("test_accuracy", test_accuracy)):
        run["history"][key].append(value)


def seeded_model(config: dict) -> tuple:
    """``(model, optimizer)`` from ``config``: the global RNG seeded with ``config["seed"]``, then built
    and initialised. Outputs: 1 logit for two classes, one per class for 3+, 1 value for regression.

    Example:
        >>> from dendrite.playground.config import validate_config
        >>> model, optimizer = seeded_model(validate_config({"classes": 2}))
        >>> model[-1].out_features, type(optimizer).__name__
        (1, 'SGD')
    """
    classes = config["classes"] if config["problem"] == "classification" else 1
    dendrite.manual_seed(config["seed"])
    model = build_model(config, len(config["features"]), classes if classes > 2 else 1)
    init_model(model, config["init"])
    return model, make_optimizer(model, config)


def new_run(config: dict, xy: np.ndarray, labels: np.ndarray, replay: list) -> dict:
    """Split, featurise, seed, build, initialise; record epoch 0. ``replay``: changes to apply by step.

    Example:
        >>> from dendrite.playground.config import validate_config
        >>> from dendrite.playground.datasets import builtin_points
        >>> run = new_run(validate_config(), *builtin_points("circle", "classification", 2, 100, 0, 0), [])
        >>> run["x_train"].shape, run["y_train"].shape, run["history"]["epoch"]
        ((50, 2), (50, 1), [0])
    """
    x_train, y_train, x_test, y_test = split_points(xy, labels, config["train_ratio"], config["data_seed"])
    model, optimizer = seeded_model(config)
    run = {
        "config": dict(config), "model": model, "optimizer": optimizer,
        "x_train": feature_matrix(x_train, config["features"]),
        "y_train": loss_targets(y_train, config["problem"], config["classes"]),
        "x_test": feature_matrix(x_test, config["features"]),
        "y_test": loss_targets(y_test, config["problem"], config["classes"]),
        "rng": np.random.default_rng(config["seed"]), "order": None, "position": 0,
        "epoch": 0, "steps": 0, "replay": list(replay), "replayed": 0,
        "history": {key: [] for key in ("epoch", "train_loss", "test_loss", "train_accuracy",
                                        "test_accuracy")},
    }
    record_epoch(run)
    return run


def edit_weight(model: nn.Sequential, layer: int, source: int, target: int, value: float) -> None:
    """Set weight ``[target, source]`` of the ``layer``-th Linear (0 = first) to ``value``."""
    linears = [module for module in model if isinstance(module, nn.Linear)]
    with dendrite.no_grad():
        linears[layer].weight[target, source] = value


def apply_change(run: dict, change: dict) -> None:
    """Apply one change-log entry: ``{"kind": "config", "values": {...}}`` or ``{"kind": "weight", ...}``.

    Example:
        >>> run = {"config": {"learning_rate": 0.03}, "model": nn.Sequential(nn.Linear(2, 1))}
        >>> apply_change(run, {"step": 0, "kind": "config", "values": {"learning_rate": 0.1}})
        >>> apply_change(run, {"step": 0, "kind": "weight", "layer": 0, "source": 1, "target": 0,
        ...                    "value": 2.0})
        >>> run["config"]["learning_rate"], run["model"][0].weight[0, 1].item()
        (0.1, 2.0)
    """
    if change["kind"] == "config":
        run["config"].update(change["values"])
    else:
        edit_weight(run["model"], change["layer"], change["source"], change["target"], change["value"])


def replay_due(run: dict, step: int) -> None:
    """Apply the replayed changes recorded at optimizer steps <= ``step``, in order."""
    while run["replayed"] < len(run["replay"]) and run["replay"][run["replayed"]]["step"] <= step:
        apply_change(run, run["replay"][run["replayed"]])
        run["replayed"] += 1


def train_step(run: dict, batch: np.ndarray) -> None:
    """One optimizer step on the training points ``batch`` (indices), lr scaled by the schedule."""
    config, model, optimizer = run["config"], run["model"], run["optimizer"]
    for group in optimizer.param_groups:
        group["lr"] = config["learning_rate"] * lr_factor(config["schedule"], run["epoch"])
    model.train()
    optimizer.zero_grad()
    output = model(dendrite.tensor(run["x_train"][batch]))
    loss = task_loss(output, dendrite.tensor(run["y_train"][batch]), config)
    extra = penalty(model, config["regularization"], config["regularization_rate"])
    if extra is not None:
        loss = loss + extra
    loss.backward()
    optimizer.step()


def advance(run: dict, stop) -> bool:
    """Train batch after batch until the epoch ends (then record it; True) or ``stop()`` says so (False).

    ``stop`` is asked after each batch, so at least one batch runs. A final batch of one point joins
    the one before when a layer has batch norm (it cannot normalise a single point).

    Example:
        >>> from dendrite.playground.config import validate_config
        >>> from dendrite.playground.datasets import builtin_points
        >>> run = new_run(validate_config(), *builtin_points("circle", "classification", 2, 100, 0, 0), [])
        >>> advance(run, lambda: False), run["epoch"], run["steps"]
        (True, 1, 5)
        >>> advance(run, lambda: True), run["epoch"], run["steps"]
        (False, 1, 6)
    """
    batchnorm = any(layer["batchnorm"] for layer in run["config"]["layers"])
    while True:
        replay_due(run, run["steps"])
        n = len(run["x_train"])
        if run["order"] is None:
            run["order"], run["position"] = run["rng"].permutation(n), 0
        start = run["position"]
        end = min(start + run["config"]["batch_size"], n)
        if batchnorm and n - end == 1:
            end = n
        train_step(run, run["order"][start:end])
        run["steps"] += 1
        run["position"] = end
        if end >= n:
            run["epoch"] += 1
            run["order"] = None
            record_epoch(run)
            return True
        if stop():
            return False


def hidden_spans(config: dict) -> list:
    """For each hidden layer, the index in the Sequential of its last module before Dropout.

    Example:
        >>> hidden_spans({"layers": [{"batchnorm": True, "activation": "tanh", "dropout": 0.5},
        ...                          {"batchnorm": False, "activation": "linear", "dropout": 0}]})
        [2, 4]
    """
    spans, index = [], -1
    for layer in config["layers"]:
        index += 1 + int(layer["batchnorm"]) + int(layer["activation"] != "linear")
        spans.append(index)
        index += int(layer["dropout"] > 0)
    return spans


SCRIPT_FUNCTIONS = (build_model, init_model, make_optimizer, lr_factor, penalty, task_loss, evaluate,
                    record_epoch, seeded_model, new_run, edit_weight, apply_change, replay_due, train_step,
                    advance)
"""The functions the exported script carries, in an order that reads top-down."""
