"""Port of pytorch/examples super_resolution (ESPCN): four convolutions ending in ``nn.PixelShuffle``, weights
from ``init.orthogonal_`` with ``init.calculate_gain('relu')``, MSELoss, Adam, and PSNR = 10 log10(1 / mse).

Generated smooth images stand in for BSDS300: the low-resolution input is the high-resolution target
average-pooled by the upscale factor. First a fixed-weight forward/backward (exact in both libraries), then
the example's own orthogonal initialisation and a short training (compared by its PSNR).
"""
import json
import os
from math import log10

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.init as init
    import torch.optim as optim
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.init as init
    import dendrite.optim as optim
    from dendrite.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super(Net, self).__init__()

        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 64, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(32, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv4.weight)


upscale_factor = 3
rng = np.random.default_rng(0)
# Smooth random images (sums of a few sinusoids) in [0, 1], 24x24; inputs are their 3x3 block means.
yy, xx = np.mgrid[0:24, 0:24] / 24.0
targets = np.stack([0.5 + 0.25 * np.sin(2 * np.pi * (a * xx + b * yy) + c) + 0.2 * np.cos(2 * np.pi * d * xx)
                    for a, b, c, d in rng.uniform(0, 2, (48, 4))])[:, None].astype(np.float32)
inputs = targets.reshape(48, 1, 8, 3, 8, 3).mean(axis=(3, 5)).astype(np.float32)
train_set = TensorDataset(torch.from_numpy(inputs[:40]), torch.from_numpy(targets[:40]))
test_set = TensorDataset(torch.from_numpy(inputs[40:]), torch.from_numpy(targets[40:]))

# Fixed weights: the pixel-shuffled output and the gradients agree in both libraries.
fixed = Net(upscale_factor)
with torch.no_grad():
    for p in fixed.parameters():
        p.copy_(torch.from_numpy((0.1 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
criterion = nn.MSELoss()
out = fixed(torch.from_numpy(inputs[:2]))
loss = criterion(out, torch.from_numpy(targets[:2]))
loss.backward()
results = {"out_shape": list(out.shape), "out_sum": out.sum().item(), "fixed_loss": loss.item(),
           "conv4_grad": fixed.conv4.weight.grad.abs().sum().item(),
           "shuffle": nn.PixelShuffle(2)(torch.arange(8.0).view(1, 8, 1, 1)).flatten().tolist()}

torch.manual_seed(123)
model = Net(upscale_factor=upscale_factor)
w = model.conv2.weight.view(64, -1)
results["orthogonal"] = bool(torch.allclose(w @ w.t(), torch.eye(64) * init.calculate_gain('relu') ** 2,
                                            atol=1e-4))
optimizer = optim.Adam(model.parameters(), lr=0.001)
training_data_loader = DataLoader(dataset=train_set, batch_size=10, shuffle=True)
testing_data_loader = DataLoader(dataset=test_set, batch_size=4, shuffle=False)


def train(epoch):
    epoch_loss = 0
    for iteration, batch in enumerate(training_data_loader, 1):
        input, target = batch[0], batch[1]
        optimizer.zero_grad()
        loss = criterion(model(input), target)
        epoch_loss += loss.item()
        loss.backward()
        optimizer.step()
    return epoch_loss / len(training_data_loader)


def test():
    avg_psnr = 0
    with torch.no_grad():
        for batch in testing_data_loader:
            input, target = batch[0], batch[1]
            prediction = model(input)
            mse = criterion(prediction, target)
            psnr = 10 * log10(1 / mse.item())
            avg_psnr += psnr
    return avg_psnr / len(testing_data_loader)


results["psnr_before"] = test()
losses = [train(epoch) for epoch in range(1, 9)]
results["first_loss"], results["last_loss"] = losses[0], losses[-1]
results["psnr"] = test()
print("RESULT", json.dumps(results))
