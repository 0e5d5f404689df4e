"""Port of pytorch/examples vae/main.py: fc encoder to (mu, logvar), reparameterize with torch.randn_like,
F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum') + KLD, Adam, torch.randn sampling.

Random 28x28 "strokes" replace MNIST; two short epochs.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    from torch import nn, optim
    from torch.nn import functional as F
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    from dendrite import nn, optim
    from dendrite.nn import functional as F
    from dendrite.utils.data import DataLoader, TensorDataset

torch.manual_seed(1)
rng = np.random.default_rng(0)
templates = (rng.random((4, 1, 28, 28)) < 0.3).astype(np.float32)
which = rng.integers(0, 4, 512)
images = np.clip(templates[which] + 0.1 * rng.standard_normal((512, 1, 28, 28)), 0, 1).astype(np.float32)
train_loader = DataLoader(TensorDataset(torch.from_numpy(images[:448]), torch.from_numpy(which[:448])),
                          batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(torch.from_numpy(images[448:]), torch.from_numpy(which[448:])),
                         batch_size=64, shuffle=False)
device = torch.device("cpu")


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()

        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5*logvar)
        eps = torch.randn_like(std)
        return mu + eps*std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


model = VAE().to(device)
optimizer = optim.Adam(model.parameters(), lr=1e-3)


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def train(epoch):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(train_loader):
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return train_loss / len(train_loader.dataset)


def test(epoch):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i, (data, _) in enumerate(test_loader):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n],
                                      recon_batch.view(64, 1, 28, 28)[:n]])
    test_loss /= len(test_loader.dataset)
    return test_loss, list(comparison.shape)


train_losses = []
for epoch in range(1, 4):
    train_losses.append(train(epoch))
    test_loss, comparison_shape = test(epoch)
    with torch.no_grad():
        sample = torch.randn(64, 20).to(device)
        sample = model.decode(sample).cpu()

# BCE check on fixed values: the loss itself, independent of the random init.
p = torch.tensor([[0.2, 0.9, 0.5], [0.999, 0.01, 0.7]])
t = torch.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 1.0]])
bce_sum = F.binary_cross_entropy(p, t, reduction='sum').item()
bce_clamped = F.binary_cross_entropy(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0])).item()

print("RESULT", json.dumps({"first_train_loss": train_losses[0], "last_train_loss": train_losses[-1],
                            "test_loss": test_loss, "comparison_shape": comparison_shape,
                            "sample_shape": list(sample.view(64, 1, 28, 28).shape),
                            "bce_sum": bce_sum, "bce_clamped": bce_clamped}))
