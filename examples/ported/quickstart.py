"""Port of the PyTorch quickstart: a Flatten-Linear-ReLU network trained with DataLoader, saved and reloaded.

Random images with a learnable labelling stand in for the FashionMNIST download.
"""
import json
import os
import tempfile

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    from dendrite import nn
    from dendrite.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
rng = np.random.default_rng(0)
labels = rng.integers(0, 10, 1200)
templates = (rng.random((10, 1, 28, 28)) < 0.2).astype(np.float32)
images = np.clip(templates[labels] + 0.4 * rng.standard_normal((1200, 1, 28, 28)), 0, 1).astype(np.float32)
training_data = TensorDataset(torch.from_numpy(images[:1000]), torch.from_numpy(labels[:1000]))
test_data = TensorDataset(torch.from_numpy(images[1000:]), torch.tensor(labels[1000:]))

batch_size = 64
train_dataloader = DataLoader(training_data, batch_size=batch_size, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    first_shapes = [list(X.shape), list(y.shape), str(y.dtype).replace("torch.", "")]
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    return test_loss, correct


epochs = 5
for t in range(epochs):
    train(train_dataloader, model, loss_fn, optimizer)
test_loss, accuracy = test(test_dataloader, model, loss_fn)

path = os.path.join(tempfile.mkdtemp(), "model.pth")
torch.save(model.state_dict(), path)
model2 = NeuralNetwork().to(device)
model2.load_state_dict(torch.load(path, weights_only=True))
model2.eval()
with torch.no_grad():
    x, y = test_data[0][0], test_data[0][1]
    x = x.to(device)
    pred = model2(x)
    same = bool((pred == model(x)).all())

print("RESULT", json.dumps({"shapes": first_shapes, "accuracy": accuracy, "test_loss": test_loss,
                            "reloaded_equal": same, "pred_shape": list(pred.shape)}))
