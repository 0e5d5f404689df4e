"""Port of "What is torch.nn really?": logistic regression by hand, then nn.Module, optim, DataLoader and a
CNN.

A learnable synthetic 28x28 dataset stands in for the MNIST download.
"""
import json
import math
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn.functional as F
    from torch import nn, optim
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    import dendrite.nn.functional as F
    from dendrite import nn, optim
    from dendrite.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(1)
y_np = rng.integers(0, 10, 600)
templates = (rng.random((10, 784)) < 0.15).astype(np.float32)
x_np = np.clip(templates[y_np] + 0.3 * rng.standard_normal((600, 784)), 0, 1).astype(np.float32)
x_train, y_train, x_valid, y_valid = map(torch.tensor, (x_np[:500], y_np[:500], x_np[500:], y_np[500:]))
n, c = x_train.shape
out = {"shapes": [n, c], "y_min_max": [y_train.min().item(), y_train.max().item()]}

weights = torch.tensor(rng.standard_normal((784, 10)).astype(np.float32)) / math.sqrt(784)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


loss_func = nll


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


bs = 64
lr = 0.5
epochs = 3
for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = loss_func(pred, yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
out["manual"] = [loss_func(model(x_valid), y_valid).item(), accuracy(model(x_valid), y_valid).item()]
out["f_cross_entropy_same"] = abs(F.cross_entropy(x_valid @ weights + bias, y_valid).item()
                                  - loss_func(model(x_valid), y_valid).item()) < 1e-5


class Mnist_CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

    def forward(self, xb):
        xb = xb.view(-1, 1, 28, 28)
        xb = F.relu(self.conv1(xb))
        xb = F.relu(self.conv2(xb))
        xb = F.relu(self.conv3(xb))
        xb = F.avg_pool2d(xb, 4)
        return xb.view(-1, xb.size(1))


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


def get_data(train_ds, valid_ds, bs):
    return (DataLoader(train_ds, batch_size=bs, shuffle=True), DataLoader(valid_ds, batch_size=bs * 2))


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
    return float(val_loss)


torch.manual_seed(0)
train_dl, valid_dl = get_data(TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid), bs)
cnn = Mnist_CNN()
opt = optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9)
out["cnn_val_loss"] = fit(2, cnn, F.cross_entropy, opt, train_dl, valid_dl)
seq = nn.Sequential(
    Lambda(lambda x: x.view(-1, 1, 28, 28)),
    nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
    nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    Lambda(lambda x: x.view(x.size(0), -1)),
)
opt = optim.SGD(seq.parameters(), lr=0.1, momentum=0.9)
out["seq_val_loss"] = fit(2, seq, F.cross_entropy, opt, train_dl, valid_dl)
print("RESULT", json.dumps(out))
