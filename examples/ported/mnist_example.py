"""Port of pytorch/examples mnist/main.py: Conv-Dropout-MaxPool net, Adadelta, StepLR, log_softmax + nll_loss.

Small synthetic digits-like data replaces the download; two short epochs.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    from torch.optim.lr_scheduler import StepLR
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.functional as F
    import dendrite.optim as optim
    from dendrite.optim.lr_scheduler import StepLR
    from dendrite.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(2304, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct / len(test_loader.dataset)


rng = np.random.default_rng(0)
labels = rng.integers(0, 10, 1100)
templates = rng.random((10, 1, 28, 28)).astype(np.float32)
images = templates[labels] + 0.5 * rng.standard_normal((1100, 1, 28, 28)).astype(np.float32)
images = (images - 0.1307) / 0.3081
torch.manual_seed(1)
use_cuda = torch.cuda.is_available()
device = torch.device("cuda" if use_cuda else "cpu")
train_kwargs = {'batch_size': 64}
test_kwargs = {'batch_size': 1000}
dataset1 = TensorDataset(torch.from_numpy(images[:1000]), torch.from_numpy(labels[:1000]))
dataset2 = TensorDataset(torch.from_numpy(images[1000:]), torch.from_numpy(labels[1000:]))
train_loader = torch.utils.data.DataLoader(dataset1, **train_kwargs, shuffle=True)
test_loader = DataLoader(dataset2, **test_kwargs)
model = Net().to(device)
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
for epoch in range(1, 3):
    train(model, device, train_loader, optimizer, epoch)
    scheduler.step()
test_loss, accuracy = test(model, device, test_loader)
print("RESULT", json.dumps({"test_loss": test_loss, "accuracy": accuracy,
                            "lr": optimizer.param_groups[0]["lr"]}))
