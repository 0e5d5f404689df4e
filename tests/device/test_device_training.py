"""Recurrent layers, attention, dropout, every optimizer and a few training utilities on the CUDA device.

Each test runs the same seeded code on the CPU and on the device and compares the results
(float64: the fake device does NumPy's arithmetic, so they agree to rounding; a real GPU,
skipped without one, rounds differently within the tolerance).
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite import nn, optim

RTOL, ATOL = 1e-7, 1e-9


def _host(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _forward_backward(build, inputs, device):
    dendrite.manual_seed(0)
    model = build().double().to(device)
    tensors = [dendrite.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in inputs]
    dendrite.manual_seed(1)
    outputs = model(*tensors)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    flat = []
    for item in outputs:
        flat.extend(item if isinstance(item, tuple) else (item,))
    flat = [item for item in flat if item is not None]
    total = sum((item * (index + 1.0)).sum() for index, item in enumerate(flat) if item.requires_grad)
    total.backward()
    return flat, tensors, dict(model.named_parameters())


MODELS = {
    "LSTM-2layer-bidirectional": (lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True), [(6, 3, 4)]),
    "LSTM-batch-first": (lambda: nn.LSTM(4, 6, batch_first=True), [(3, 6, 4)]),
    "GRU-2layer": (lambda: nn.GRU(4, 5, num_layers=2), [(6, 3, 4)]),
    "RNN-relu-bidirectional": (lambda: nn.RNN(4, 5, nonlinearity="relu", bidirectional=True), [(6, 3, 4)]),
    "LSTMCell": (lambda: nn.LSTMCell(4, 5), [(3, 4)]),
    "GRUCell": (lambda: nn.GRUCell(4, 5), [(3, 4)]),
    "MultiheadAttention": (lambda: _SelfAttention(nn.MultiheadAttention(8, 2, batch_first=True)),
                           [(2, 5, 8)]),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1,
                                                                   batch_first=True),
                                [(2, 5, 8)]),
    "Dropout": (lambda: nn.Dropout(0.3), [(4, 6)]),
    "CNN": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)), [(2, 1, 8, 8)]),
}


class _SelfAttention(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.attention = attention

    def forward(self, x):
        return self.attention(x, x, x)


@pytest.mark.parametrize("name", list(MODELS))
def test_model_on_the_device_matches_the_cpu(name, device):
    build, shapes = MODELS[name]
    inputs = [np.random.default_rng(index).standard_normal(shape) for index, shape in enumerate(shapes)]
    host_out, host_in, host_params = _forward_backward(build, inputs, "cpu")
    dev_out, dev_in, dev_params = _forward_backward(build, inputs, device)
    for position, (ours, theirs) in enumerate(zip(dev_out, host_out)):
        assert ours.is_cuda, f"{name} output {position} on {ours.device}"
        np.testing.assert_allclose(_host(ours), _host(theirs), rtol=RTOL, atol=ATOL,
                                   err_msg=f"output {position}")
    for ours, theirs in zip(dev_in, host_in):
        np.testing.assert_allclose(_host(ours.grad), _host(theirs.grad), rtol=RTOL, atol=ATOL)
    for key, parameter in host_params.items():
        assert dev_params[key].is_cuda and dev_params[key].grad.is_cuda
        np.testing.assert_allclose(_host(dev_params[key].grad), _host(parameter.grad), rtol=RTOL, atol=ATOL,
                                   err_msg=key)


OPTIMIZERS = {
    "SGD-nesterov-wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adam-amsgrad": lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    "AdamW": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
    "RMSprop-centered-momentum": lambda p: optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    "Adadelta": lambda p: optim.Adadelta(p, lr=1.0),
}


def _train(make_optimizer, device, steps=4, scheduler=False, clip=False):
    dendrite.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2)).double().to(device)
    optimizer = make_optimizer(model.parameters())
    schedule = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5) if scheduler else None
    rng = np.random.default_rng(0)
    x = dendrite.tensor(rng.standard_normal((16, 5)), device=device)
    y = dendrite.tensor(rng.standard_normal((16, 2)), device=device)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        if clip:
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            assert norm.is_cuda == (device != "cpu")
        optimizer.step()
        if schedule is not None:
            schedule.step()
        losses.append(loss.item())
    return model, optimizer, losses


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_steps_the_same_on_the_device(name, device):
    host_model, _, host_losses = _train(OPTIMIZERS[name], "cpu", scheduler=True, clip=True)
    dev_model, dev_optimizer, dev_losses = _train(OPTIMIZERS[name], device, scheduler=True, clip=True)
    np.testing.assert_allclose(dev_losses, host_losses, rtol=RTOL)
    for ours, theirs in zip(dev_model.parameters(), host_model.parameters()):
        assert ours.is_cuda
        np.testing.assert_allclose(_host(ours), _host(theirs), rtol=RTOL, atol=ATOL)
    for state in dev_optimizer.state.values():  # optimizer state lives with its parameter
        for value in state.values():
            if isinstance(value, dendrite.Tensor) and value.ndim:
                assert value.is_cuda


LARGE_OPTIMIZERS = {**OPTIMIZERS, "SGD": lambda p: optim.SGD(p, lr=0.05),
                    "SGD-momentum-dampening": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1)}


@pytest.mark.parametrize("name", list(LARGE_OPTIMIZERS))
def test_optimizers_update_large_parameters_block_by_block_on_the_device(name, device):
    # 300 x 200 weights: more than one optimizer block (optim/blocks.py), so the blocked update's
    # scratch buffer is used and must be made on the parameter's device
    from dendrite.optim.blocks import BLOCK

    results = []
    for where in ("cpu", device):
        dendrite.manual_seed(0)
        layer = nn.Linear(300, 200).double().to(where)
        assert layer.weight.numel() > BLOCK
        optimizer = LARGE_OPTIMIZERS[name](layer.parameters())
        x = dendrite.tensor(np.random.default_rng(1).standard_normal((4, 300)), device=where)
        for _ in range(2):
            optimizer.zero_grad()
            (layer(x) ** 2).mean().backward()
            optimizer.step()
        results.append(_host(layer.weight))
    np.testing.assert_allclose(results[1], results[0], rtol=RTOL, atol=ATOL)


def _lbfgs_run(where):
    dendrite.manual_seed(0)
    model = nn.Linear(3, 1).double().to(where)
    rng = np.random.default_rng(0)
    x = dendrite.tensor(rng.standard_normal((10, 3)), device=where)
    y = dendrite.tensor(rng.standard_normal((10, 1)), device=where)
    optimizer = optim.LBFGS(model.parameters(), lr=0.5, max_iter=5, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return [_host(p) for p in model.parameters()]


def test_lbfgs_on_the_device_matches_the_cpu(device):
    results = [_lbfgs_run("cpu"), _lbfgs_run(device)]
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def test_state_dict_and_save_of_a_cuda_model_go_through_the_host(device, tmp_path):
    model, optimizer, _ = _train(OPTIMIZERS["Adam-amsgrad"], device)
    state = model.state_dict()
    path = tmp_path / "model.pt"
    dendrite.save({"model": state, "optimizer": optimizer.state_dict()}, path)
    loaded = dendrite.load(path)
    twin = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    twin.load_state_dict(loaded["model"])
    for ours, theirs in zip(twin.parameters(), model.parameters()):
        np.testing.assert_array_equal(ours.detach().numpy(), _host(theirs))
    twin.to(device).load_state_dict(state)  # a cuda state into a cuda model
    assert all(p.is_cuda for p in twin.parameters())


def _fit(device, build, x, y, epochs=3):
    from dendrite.data import DataLoader, TensorDataset
    from dendrite.train import Trainer

    dendrite.manual_seed(0)
    model = build()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, progress=False, seed=0, device=device,
                      grad_clip_norm=1.0)
    history = trainer.fit(loader, epochs=epochs, val_loader=loader)
    evaluated = trainer.evaluate(loader)
    predicted = trainer.predict(x[:5])
    return model, history, evaluated, predicted


@pytest.mark.parametrize("name", ["MLP", "CNN"])
def test_trainer_fits_on_the_device_as_on_the_cpu(name, device):
    rng = np.random.default_rng(0)
    if name == "MLP":
        x = rng.standard_normal((32, 6)).astype(np.float32)
        build = lambda: nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))  # noqa: E731
    else:
        x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
        build = lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),  # noqa: E731
                                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3))
    y = rng.integers(0, 3, 32)
    host_model, host_history, host_eval, host_pred = _fit(None, build, x, y)
    dev_model, dev_history, dev_eval, dev_pred = _fit(device, build, x, y)
    assert all(p.is_cuda for p in dev_model.parameters())
    for key in ("loss", "accuracy", "val_loss"):
        np.testing.assert_allclose(dev_history[key], host_history[key], rtol=1e-4, err_msg=key)
    assert dev_eval.keys() == host_eval.keys()
    np.testing.assert_allclose(dev_eval["loss"], host_eval["loss"], rtol=1e-4)
    assert isinstance(dev_pred, np.ndarray)
    np.testing.assert_allclose(dev_pred, host_pred, rtol=1e-4, atol=1e-5)
