"""Small training setups for the doctor's tests: healthy ones (no error may be reported) and buggy ones
(one classic mistake each, with the code the doctor must report).

Each builder takes a seed and returns the keyword arguments of ``examine``.
Models are kept small so that the whole of ``tests/doctor`` runs in about a minute on 2 cores.
"""

from __future__ import annotations

import numpy as np

import dendrite
import dendrite.nn.functional as F
from dendrite import nn, optim
from dendrite.data import DataLoader, TensorDataset, load_dataset
from dendrite.models import create

_CACHE: dict[str, object] = {}


def data(name: str):
    if name not in _CACHE:
        _CACHE[name] = load_dataset(name)
    return _CACHE[name]


def digits(count: int = 600):
    splits = data("digits")
    return splits.x_train[:count], splits.y_train[:count]


def loader(x, y, batch_size: int = 32, seed: int = 0) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, seed=seed)


def mlp(in_features: int, out: int, hidden=(32,), activation=nn.ReLU, dropout: float = 0.0) -> nn.Module:
    layers: list[nn.Module] = [nn.Flatten()]
    for width in hidden:
        layers += [nn.Linear(in_features, width), activation()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        in_features = width
    layers.append(nn.Linear(in_features, out))
    return nn.Sequential(*layers)


class SmallConvNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(6 * 4 * 4, classes)

    def forward(self, x):
        return self.head(self.conv(x.unsqueeze(1)).flatten(1))


class BatchNormNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU())
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.body(x))


# ----------------------------------------------------------------------------- healthy setups
def healthy_mlp_digits(seed):
    dendrite.manual_seed(seed)
    x, y = digits()
    return {"model": mlp(64, 10, (64,)), "data": loader(x, y, seed=seed)}


def healthy_recipe_mlp(seed):
    dendrite.manual_seed(seed)
    x, y = digits()
    model = create("mlp", (8, 8), 10, hidden=(128, 128), dropout=0.1)
    return {"model": model, "data": loader(x, y, seed=seed),
            "optimizer": optim.Adam(model.parameters(), lr=1e-3)}


def healthy_cnn(seed):
    dendrite.manual_seed(seed)
    x, y = digits(400)
    return {"model": SmallConvNet(), "data": loader(x, y, seed=seed)}


def healthy_gru(seed):
    dendrite.manual_seed(seed)
    x, y = digits(400)
    return {"model": create("gru", (8, 8), 10, hidden_size=24), "data": (x, y),
            "optimizer": lambda params: optim.Adam(params, lr=3e-3)}


def healthy_lstm(seed):
    dendrite.manual_seed(seed)
    x, y = digits(400)
    return {"model": create("lstm", (8, 8), 10, hidden_size=24), "data": (x, y)}


def healthy_regression(seed):
    dendrite.manual_seed(seed)
    splits = data("plane")
    model = mlp(2, 1, (32, 32))
    return {"model": model, "data": loader(splits.x_train, splits.y_train, seed=seed),
            "val_data": (splits.x_test, splits.y_test)}


def healthy_tanh_deep(seed):
    dendrite.manual_seed(seed)
    splits = data("moons")
    model = mlp(2, 2, (32, 32, 32, 32), activation=nn.Tanh)
    return {"model": model, "data": (splits.x_train, splits.y_train),
            "optimizer": optim.Adam(model.parameters(), lr=3e-3)}


def healthy_sgd_momentum(seed):
    dendrite.manual_seed(seed)
    splits = data("circle")
    model = mlp(2, 2, (64, 64))
    return {"model": model, "data": loader(splits.x_train, splits.y_train, seed=seed),
            "optimizer": optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
            "val_data": (splits.x_test, splits.y_test)}


def healthy_adamw(seed):
    dendrite.manual_seed(seed)
    x, y = digits()
    model = mlp(64, 10, (128, 64))
    return {"model": model, "data": loader(x, y, seed=seed),
            "optimizer": optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)}


def healthy_binary_bce(seed):
    dendrite.manual_seed(seed)
    splits = data("xor")
    y = splits.y_train.astype(np.float32)[:, None]
    return {"model": mlp(2, 1, (32, 32)), "data": loader(splits.x_train, y, seed=seed),
            "loss_fn": nn.BCEWithLogitsLoss()}


def healthy_wide_spiral(seed):
    dendrite.manual_seed(seed)
    splits = data("spiral")
    model = mlp(2, 2, (128, 128, 128))
    return {"model": model, "data": (splits.x_train, splits.y_train),
            "optimizer": optim.Adam(model.parameters(), lr=1e-2)}


def healthy_batchnorm(seed):
    dendrite.manual_seed(seed)
    x, y = digits()
    return {"model": BatchNormNet(), "data": DataLoader(TensorDataset(x, y), batch_size=32, drop_last=True),
            }


HEALTHY = {
    "mlp-digits": healthy_mlp_digits, "recipe-mlp": healthy_recipe_mlp, "cnn": healthy_cnn,
    "gru": healthy_gru, "lstm": healthy_lstm, "regression": healthy_regression,
    "tanh-deep": healthy_tanh_deep,
    "sgd-momentum": healthy_sgd_momentum, "adamw": healthy_adamw, "binary-bce": healthy_binary_bce,
    "wide-spiral": healthy_wide_spiral, "batchnorm": healthy_batchnorm,
}


# ----------------------------------------------------------------------------- buggy setups
class Unused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = mlp(64, 10, (32,))
        self.extra = nn.Linear(32, 32)  # defined, never used

    def forward(self, x):
        return self.body(x)


class SqrtNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = mlp(64, 10, (32,))

    def forward(self, x):
        return self.body((x - 0.5).sqrt())  # negative inputs -> NaN


def _base(seed, count=600):
    dendrite.manual_seed(seed)
    x, y = digits(count)
    return x.copy(), y.copy()


def bug_nan_in_data(seed):
    x, y = _base(seed)
    x[[3, 50, 100]] = np.nan
    return {"model": mlp(64, 10), "data": (x, y)}


def bug_inputs_scale(seed):
    x, y = _base(seed)
    return {"model": mlp(64, 10), "data": loader(x * 255, y, seed=seed)}


def bug_labels_range(seed):
    x, y = _base(seed)
    return {"model": mlp(64, 9), "data": (x, y)}


def bug_imbalance(seed):
    x, y = _base(seed)
    return {"model": mlp(64, 2), "data": (x, (y == 0).astype(np.int64))}  # "is it a 0?": 90 % say no


def bug_unlearnable(seed):
    x, y = _base(seed)
    return {"model": mlp(64, 10), "data": (x, np.random.default_rng(seed).permutation(y))}


def bug_overlap(seed):
    x, y = _base(seed)
    return {"model": mlp(64, 10), "data": (x, y), "val_data": (x[:200], y[:200])}


def bug_softmax(seed):
    x, y = _base(seed)
    return {"model": nn.Sequential(mlp(64, 10), nn.Softmax(dim=1)), "data": (x, y)}


def bug_initial_loss(seed):
    x, y = _base(seed)
    model = mlp(64, 10)
    model[-1].weight.data = model[-1].weight.array * 30
    return {"model": model, "data": (x, y)}


def bug_dead_relu(seed):
    x, y = _base(seed)
    model = mlp(64, 10, (64,))
    model[1].bias.data = model[1].bias.array - 3.0
    return {"model": model, "data": (x, y)}


def bug_saturated(seed):
    x, y = _base(seed)
    model = mlp(64, 10, (64, 64), activation=nn.Tanh)
    for layer in (model[1], model[3]):
        layer.weight.data = layer.weight.array * 12
    return {"model": model, "data": (x, y)}


def bug_vanishing(seed):
    x, y = _base(seed)
    return {"model": mlp(64, 10, (32,) * 8, activation=nn.Sigmoid), "data": (x, y),
            "optimizer": lambda params: optim.SGD(params, lr=0.1)}


def bug_exploding(seed):
    x, y = _base(seed)
    model = mlp(64, 10, (32,) * 8)
    for module in model:
        if isinstance(module, nn.Linear):
            module.weight.data = module.weight.array * 4.0
    return {"model": model, "data": (x, y), "optimizer": lambda params: optim.SGD(params, lr=0.01)}


def bug_no_gradient(seed):
    x, y = _base(seed)
    return {"model": Unused(), "data": (x, y)}


def bug_not_in_optimizer(seed):
    x, y = _base(seed)
    model = mlp(64, 10, (32,))
    return {"model": model, "data": (x, y), "optimizer": optim.Adam(model[-1].parameters(), lr=1e-3)}


def bug_eval_mode(seed):
    x, y = _base(seed)
    model = mlp(64, 10, (32,), dropout=0.3)
    model.eval()
    return {"model": model, "data": (x, y)}


def bug_batchnorm_small(seed):
    x, y = _base(seed)
    return {"model": BatchNormNet(),
            "data": DataLoader(TensorDataset(x, y), batch_size=2, shuffle=True, seed=0)}


def bug_lr_high(seed):
    x, y = _base(seed)
    model = mlp(64, 10, (64,))
    return {"model": model, "data": (x, y), "optimizer": optim.SGD(model.parameters(), lr=30.0)}


def bug_lr_low(seed):
    x, y = _base(seed)
    model = mlp(64, 10, (64,))
    return {"model": model, "data": (x, y), "optimizer": optim.Adam(model.parameters(), lr=1e-6)}


def bug_cannot_overfit(seed):
    x, y = _base(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 1), nn.ReLU(), nn.Linear(1, 10))
    return {"model": model, "data": (x, y)}


def bug_weight_decay(seed):
    x, y = _base(seed)
    model = mlp(64, 10, (64,))
    return {"model": model, "data": (x, y), "optimizer": optim.Adam(model.parameters(), lr=1e-3,
                                                                     weight_decay=10.0)}


def bug_overfitting(seed):
    x, y = _base(seed, 1000)
    model = mlp(64, 10, (128,))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    small_x, small_y = dendrite.tensor(x[:20]), dendrite.tensor(y[:20])
    for _ in range(150):
        opt.zero_grad()
        F.cross_entropy(model(small_x), small_y).backward()
        opt.step()
    return {"model": model, "data": (x[:20], y[:20]), "val_data": (x[500:], y[500:]),
            "optimizer": optim.Adam(model.parameters(), lr=1e-3)}


def bug_nan_loss(seed):
    x, y = _base(seed)
    return {"model": SqrtNet(), "data": (x, y)}


def bug_target_shape(seed):
    dendrite.manual_seed(seed)
    splits = data("plane")
    return {"model": mlp(2, 1, (16,)), "data": (splits.x_train, splits.y_train[:, 0])}


def bug_nll_logits(seed):
    x, y = _base(seed)
    return {"model": mlp(64, 10), "data": (x, y), "loss_fn": F.nll_loss}


BUGGY = {
    "nan-in-data": bug_nan_in_data, "inputs-not-normalized": bug_inputs_scale,
    "labels-out-of-range": bug_labels_range, "class-imbalance": bug_imbalance,
    "labels-unlearnable": bug_unlearnable, "train-val-overlap": bug_overlap,
    "softmax-before-loss": bug_softmax, "initial-loss-off": bug_initial_loss, "dead-relu": bug_dead_relu,
    "saturated-activations": bug_saturated, "vanishing-gradients": bug_vanishing,
    "exploding-gradients": bug_exploding, "no-gradient": bug_no_gradient,
    "params-not-in-optimizer": bug_not_in_optimizer, "eval-mode": bug_eval_mode,
    "batchnorm-small-batch": bug_batchnorm_small, "lr-too-high": bug_lr_high, "lr-too-low": bug_lr_low,
    "cannot-overfit-batch": bug_cannot_overfit, "weight-decay-too-high": bug_weight_decay,
    "overfitting": bug_overfitting, "nan-loss": bug_nan_loss, "target-shape-mismatch": bug_target_shape,
    "missing-log-softmax": bug_nll_logits,
}
