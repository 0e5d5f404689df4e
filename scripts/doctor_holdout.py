"""Hold-out check of dendrite.doctor: setups unlike those in tests/doctor, one mistake each.

    python scripts/doctor_holdout.py

Prints one line per setup (OK / FALSE-ALARM for sound ones, HIT / MISS for buggy ones), two
watch checks, then the counts. Calibration only: nothing here is asserted by the test suite.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

import dendrite
from dendrite import nn, optim
from dendrite.data import load_dataset
from dendrite.doctor import examine, watch

F = nn.functional
rng = np.random.default_rng(123)


def blobs(n=600, d=6, k=4, seed=1):
    r = np.random.default_rng(seed)
    centers = r.normal(0, 2.5, (k, d))
    y = r.integers(0, k, n)
    x = centers[y] + r.normal(0, 1.0, (n, d))
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), y.astype(np.int64)


def regression(n=500, d=5, seed=2):
    r = np.random.default_rng(seed)
    x = r.normal(0, 1, (n, d)).astype(np.float32)
    y = (np.sin(x[:, :1] * 2) + 0.5 * x[:, 1:2] ** 2 - x[:, 2:3]).astype(np.float32)
    return x, y


def mlp(d, k, widths=(48, 48), act=nn.ReLU, final=None):
    layers, prev = [], d
    for w in widths:
        layers += [nn.Linear(prev, w), act()]
        prev = w
    layers.append(nn.Linear(prev, k))
    if final is not None:
        layers.append(final)
    return nn.Sequential(*layers)


digits = load_dataset("digits")
dx, dy = digits.x_train.reshape(-1, 64), digits.y_train
dvx, dvy = digits.x_test.reshape(-1, 64), digits.y_test
bx, by = blobs()
bvx, bvy = blobs(seed=7)
rx, ry = regression()
rvx, rvy = regression(seed=9)


class Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(64, 32)
        self.b = nn.Linear(32, 10)

    def forward(self, x):
        return self.b(F.relu(self.a(x)).detach())


class LogRelu(nn.Module):  # log of a ReLU output: log(0) = -inf
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 16)
        self.b = nn.Linear(16, 4)

    def forward(self, x):
        return self.b(F.relu(self.a(x)).log())


class SeqGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 24, batch_first=True)
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        out, _ = self.gru(x.reshape(x.shape[0], 8, 8))
        return self.head(out[:, -1])


def cnn(bn=True):
    layers = [nn.Conv2d(1, 6, 3, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(6))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 16, 10)]
    return nn.Sequential(*layers)


def case_scaled_init(model, factor):
    with dendrite.no_grad():
        for p in model.parameters():
            p.mul_(factor)
    return model


def build_cases():
    cases = []
    add = lambda name, expect, **kw: cases.append((name, expect, kw))  # noqa: E731
    dendrite.manual_seed(3)
    # ---- healthy
    m = mlp(6, 4, act=nn.Tanh)
    add(
        "healthy tanh blobs sgd-mom",
        None,
        model=m,
        data=(bx, by),
        val_data=(bvx, bvy),
        optimizer=optim.SGD(m.parameters(), lr=0.05, momentum=0.9),
    )
    m = mlp(5, 1, widths=(32,))
    add(
        "healthy regression adam",
        None,
        model=m,
        data=(rx, ry),
        val_data=(rvx, rvy),
        optimizer=optim.Adam(m.parameters(), lr=1e-3),
    )
    m = cnn()
    add(
        "healthy cnn digits",
        None,
        model=m,
        data=(digits.x_train[:, None], dy),
        val_data=(digits.x_test[:, None], dvy),
        optimizer=optim.Adam(m.parameters(), lr=1e-3),
    )
    m = SeqGRU()
    add("healthy gru digits", None, model=m, data=(dx, dy), optimizer=optim.Adam(m.parameters(), lr=3e-3))
    m = nn.Linear(64, 10)
    add(
        "healthy logistic digits sgd",
        None,
        model=m,
        data=(dx, dy),
        optimizer=optim.SGD(m.parameters(), lr=0.1),
    )
    m = mlp(6, 1, widths=(16,))
    add(
        "healthy binary bce",
        None,
        model=m,
        data=(bx, (by % 2).astype(np.float32)[:, None]),
        loss_fn=nn.BCEWithLogitsLoss(),
        optimizer=optim.AdamW(m.parameters(), lr=1e-3),
        task="regression",
    )
    m = mlp(64, 10, widths=(64, 64), act=nn.GELU)
    add(
        "healthy gelu digits adamw",
        None,
        model=m,
        data=(dx, dy),
        val_data=(dvx, dvy),
        optimizer=optim.AdamW(m.parameters(), lr=2e-3, weight_decay=1e-2),
    )
    # ---- buggy
    x = bx.copy()
    x[5, 2] = np.nan
    x[77, 0] = np.inf
    m = mlp(6, 4)
    add("nan in inputs", "nan-in-data", model=m, data=(x, by), optimizer=optim.Adam(m.parameters()))
    m = mlp(5, 1, widths=(32,))
    add(
        "unscaled regression inputs",
        "inputs-not-normalized",
        model=m,
        data=(rx * np.array([1, 1000, 5e4, 1, 0.001], np.float32) + 300, ry),
        optimizer=optim.Adam(m.parameters()),
    )
    m = mlp(64, 10)
    add(
        "labels 1..10",
        "labels-out-of-range",
        model=m,
        data=(dx, dy + 1),
        optimizer=optim.Adam(m.parameters()),
    )
    m = mlp(6, 4)
    add(
        "shuffled labels",
        "labels-unlearnable",
        model=m,
        data=(bx, rng.permutation(by)),
        optimizer=optim.Adam(m.parameters()),
    )
    m = mlp(6, 4)
    add(
        "val inside train",
        "train-val-overlap",
        model=m,
        data=(bx, by),
        val_data=(bx[:100], by[:100]),
        optimizer=optim.Adam(m.parameters()),
    )
    m = mlp(64, 10, final=nn.Softmax(dim=1))
    add(
        "softmax then CE", "softmax-before-loss", model=m, data=(dx, dy), optimizer=optim.Adam(m.parameters())
    )
    m = mlp(6, 4, final=nn.LogSoftmax(dim=1))
    add(
        "log_softmax then CE",
        "softmax-before-loss",
        model=m,
        data=(bx, by),
        optimizer=optim.Adam(m.parameters()),
    )
    m = mlp(6, 4, widths=(64, 64))
    with dendrite.no_grad():
        m[0].bias.fill_(-8.0)
    add("dead relu bias -8", "dead-relu", model=m, data=(bx, by), optimizer=optim.Adam(m.parameters()))
    m = case_scaled_init(mlp(6, 4, widths=(64, 64), act=nn.Sigmoid), 12)
    add(
        "saturated sigmoid",
        "saturated-activations",
        model=m,
        data=(bx, by),
        optimizer=optim.SGD(m.parameters(), lr=0.01),
    )
    m = mlp(6, 4, widths=(32,) * 10, act=nn.Sigmoid)
    add(
        "deep sigmoid vanishing",
        "vanishing-gradients",
        model=m,
        data=(bx, by),
        optimizer=optim.SGD(m.parameters(), lr=0.01),
    )
    m = case_scaled_init(mlp(6, 4, widths=(64,) * 8), 2.5)
    add(
        "deep relu scaled init exploding",
        "exploding-gradients",
        model=m,
        data=(bx, by),
        optimizer=optim.SGD(m.parameters(), lr=0.01),
    )
    m = Detached()
    add("detached first layer", "no-gradient", model=m, data=(dx, dy), optimizer=optim.Adam(m.parameters()))
    m = mlp(64, 10)
    add(
        "optimizer over head only",
        "params-not-in-optimizer",
        model=m,
        data=(dx, dy),
        optimizer=optim.Adam(m[-1].parameters()),
    )
    m = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 4))
    m.eval()
    add("eval mode with dropout", "eval-mode", model=m, data=(bx, by), optimizer=optim.Adam(m.parameters()))
    m = cnn()
    from dendrite.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(digits.x_train[:, None], dy), batch_size=2, shuffle=True)
    add(
        "batchnorm batch 2",
        "batchnorm-small-batch",
        model=m,
        data=loader,
        optimizer=optim.Adam(m.parameters()),
    )
    m = mlp(6, 4)
    add("sgd lr 30", "lr-too-high", model=m, data=(bx, by), optimizer=optim.SGD(m.parameters(), lr=30.0))
    m = mlp(64, 10)
    add("adam lr 1e-7", "lr-too-low", model=m, data=(dx, dy), optimizer=optim.Adam(m.parameters(), lr=1e-7))
    m = nn.Sequential(nn.Linear(64, 1), nn.Linear(1, 10))
    add(
        "bottleneck width 1",
        "cannot-overfit-batch",
        model=m,
        data=(dx, dy),
        optimizer=optim.Adam(m.parameters()),
    )
    m = mlp(64, 10)
    add(
        "sgd weight decay 1",
        "weight-decay-too-high",
        model=m,
        data=(dx, dy),
        optimizer=optim.SGD(m.parameters(), lr=0.05, weight_decay=1.0),
    )
    y = np.where(rng.random(len(by)) < 0.95, 0, by).astype(np.int64)
    m = mlp(6, 4)
    add("95% class 0", "class-imbalance", model=m, data=(bx, y), optimizer=optim.Adam(m.parameters()))
    m = case_scaled_init(mlp(64, 10, widths=(64,)), 1.0)
    with dendrite.no_grad():
        m[-1].weight.mul_(60.0)
    add("huge last layer", "initial-loss-off", model=m, data=(dx, dy), optimizer=optim.Adam(m.parameters()))
    m = LogRelu()
    add("log of relu", "nan-loss", model=m, data=(bx, by), optimizer=optim.Adam(m.parameters()))
    return cases


def main():
    cases = build_cases()
    false_alarms, misses, top = 0, 0, 0
    for name, expect, kw in cases:
        start = time.time()
        model = kw.pop("model")
        data = kw.pop("data")
        report = examine(model, data, kw.pop("loss_fn", None), kw.pop("optimizer", None), budget_s=30, **kw)
        seconds = time.time() - start
        errs_warns = [f.code for f in report.findings if f.severity in ("error", "warning")]
        if expect is None:
            ok = report.ok
            false_alarms += not ok
            status = "OK " if ok else "FALSE-ALARM"
        else:
            ok = expect in errs_warns
            misses += not ok
            top += bool(errs_warns) and errs_warns[0] == expect
            status = "HIT" if ok else "MISS"
        print(f"{status:11s} {name:34s} expect={expect!s:24s} got={errs_warns} ({seconds:.1f}s)", flush=True)
    # watch cases
    m = mlp(6, 4)
    o = optim.SGD(m.parameters(), lr=0.05)
    xt, yt = dendrite.tensor(bx), dendrite.tensor(by)
    with watch(m, o) as w:
        for i in range(40):
            loss = F.cross_entropy(m(xt[i * 10 : (i + 1) * 10]), yt[i * 10 : (i + 1) * 10])
            loss.backward()
            o.step()
    print("watch missing-zero-grad:", "missing-zero-grad" in w.report().codes(), sorted(w.report().codes()))
    m = mlp(6, 4)
    o = optim.Adam(m.parameters(), lr=1e-3)
    with watch(m, o) as w:
        for i in range(40):
            o.zero_grad()
            loss = F.cross_entropy(m(xt[i * 10 : (i + 1) * 10]), yt[i * 10 : (i + 1) * 10])
            loss.backward()
            o.step()
    print("watch healthy ok:", w.report().ok, sorted(w.report().codes()))
    print(f"false alarms {false_alarms}, misses {misses}, top-1 {top}")


if __name__ == "__main__":
    sys.exit(main())
