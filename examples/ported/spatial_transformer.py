"""Port of the "Spatial Transformer Networks" tutorial: a localisation network (Conv2d/MaxPool2d/ReLU(True))
whose regressor ``fc_loc`` starts at the identity transform (``weight.data.zero_()``, ``bias.data.copy_``),
``F.affine_grid(theta, x.size())`` and ``F.grid_sample(x, grid)`` in front of a LeNet classifier with
Dropout2d, SGD with nll_loss, and the test loop; plus the tutorial's ``convert_image_np`` view of the
transformed batch.

Generated digit-like templates, shifted and scaled at random, stand in for MNIST. First a fixed-weight run
in eval mode (no dropout: exact in both libraries), then the tutorial's own training from random weights.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.functional as F
    import dendrite.optim as optim
    from dendrite.utils.data import DataLoader, TensorDataset

device = torch.device("cpu")


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True)
        )

        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(
            nn.Linear(10 * 3 * 3, 32),
            nn.ReLU(True),
            nn.Linear(32, 3 * 2)
        )

        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size())
        x = F.grid_sample(x, grid)

        return x

    def forward(self, x):
        # transform the input
        x = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


rng = np.random.default_rng(0)
templates = np.kron(rng.random((10, 4, 4)) < 0.5, np.ones((4, 4)))[:, 1:15, 1:15].astype(np.float32)  # blocky
labels = rng.integers(0, 10, 320)
images = np.zeros((320, 1, 28, 28), dtype=np.float32)
for i, label in enumerate(labels):
    digit = templates[label]  # a 14x14 template placed around the centre of the 28x28 image
    top, left = rng.integers(3, 12, 2)
    images[i, 0, top:top + digit.shape[0], left:left + digit.shape[1]] = digit
# A little noise: no flat background, so no near-ties in max pooling that float rounding could decide.
images = ((images + 0.2 * rng.random(images.shape) - 0.1307) / 0.3081).astype(np.float32)
train_loader = DataLoader(TensorDataset(torch.from_numpy(images[:256]), torch.from_numpy(labels[:256])),
                          batch_size=32, shuffle=True)
test_loader = DataLoader(TensorDataset(torch.from_numpy(images[256:]), torch.from_numpy(labels[256:])),
                         batch_size=32)

# Fixed weights (except the identity-initialised fc_loc[2]), eval mode, full-batch SGD: exact in both.
fixed = Net().to(device)
with torch.no_grad():
    for name, p in fixed.named_parameters():
        if not name.startswith("fc_loc.2"):
            fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else 4
            values = rng.standard_normal(tuple(p.shape)) / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(values.astype(np.float32)))
fixed.eval()
fixed_opt = optim.SGD(fixed.parameters(), lr=0.01)
x_all, y_all = torch.from_numpy(images[:64]), torch.from_numpy(labels[:64])
identity_error = (fixed.stn(x_all) - x_all).abs().max().item()
fixed_losses = []
for step in range(5):
    fixed_opt.zero_grad()
    loss = F.nll_loss(fixed(x_all), y_all)
    loss.backward()
    fixed_opt.step()
    fixed_losses.append(loss.item())
theta_after = fixed.fc_loc(fixed.localization(x_all[:2]).view(-1, 90)).view(-1, 2, 3)

torch.manual_seed(1)
model = Net().to(device)
optimizer = optim.Adam(model.parameters(), lr=1e-3)


def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)

        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
    return loss.item()


def test():
    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)

            # sum up batch loss
            test_loss += F.nll_loss(output, target, size_average=False).item()
            # get the index of the max log-probability
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()

        test_loss /= len(test_loader.dataset)
        return test_loss, correct / len(test_loader.dataset)


def convert_image_np(inp):
    """Convert a Tensor to numpy image."""
    inp = inp.numpy().transpose((1, 2, 0))
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    inp = std * inp + mean
    inp = np.clip(inp, 0, 1)
    return inp


first_test_loss, _ = test()
for epoch in range(1, 13):
    last_train_loss = train(epoch)
test_loss, accuracy = test()
with torch.no_grad():
    transformed = convert_image_np(model.stn(torch.from_numpy(images[256:260])).cpu()[0])

print("RESULT", json.dumps({
    "identity_error": identity_error, "fixed_losses": fixed_losses, "theta_after": theta_after.tolist(),
    "first_test_loss": first_test_loss, "test_loss": test_loss, "accuracy": accuracy,
    "transformed_shape": list(transformed.shape)}))
