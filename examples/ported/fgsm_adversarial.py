"""Port of the "Adversarial Example Generation" tutorial (FGSM): a LeNet with Dropout2d and log_softmax,
``data.requires_grad = True``, ``model.zero_grad()``, ``loss.backward()``, ``data.grad.data``, the attack
``image + epsilon * sign(grad)`` clamped to [0, 1], denormalising and renormalising, and the accuracy
per epsilon over one-example batches (skipping examples the model already gets wrong).

The tutorial loads a pretrained LeNet; here the net starts from fixed NumPy weights and trains a few
full-batch steps on generated digit-like images, so both libraries take the same path.
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

epsilons = [0, .05, .1, .15, .2, .25, .3]
torch.manual_seed(42)
device = torch.device("cpu")


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


rng = np.random.default_rng(0)
templates = rng.random((10, 1, 28, 28)) < 0.3
labels = rng.integers(0, 10, 300)
images = np.clip(templates[labels] * 0.8 + 0.25 * rng.random((300, 1, 28, 28)), 0, 1).astype(np.float32)
mean, std = 0.1307, 0.3081
normalized = ((images - mean) / std).astype(np.float32)

model = Net().to(device)
with torch.no_grad():
    for p in model.parameters():
        fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else p.shape[0]
        p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) / np.sqrt(fan_in)).astype(np.float32)))

# A short deterministic training run (eval mode keeps dropout out of it) stands in for the pretrained file.
model.eval()
optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
x_train, y_train = torch.from_numpy(normalized[:200]), torch.from_numpy(labels[:200])
train_losses = []
for step in range(12):
    optimizer.zero_grad()
    loss = F.nll_loss(model(x_train), y_train)
    loss.backward()
    optimizer.step()
    train_losses.append(loss.item())

test_loader = DataLoader(TensorDataset(torch.from_numpy(normalized[200:]), torch.from_numpy(labels[200:])),
                         batch_size=1, shuffle=False)


def fgsm_attack(image, epsilon, data_grad):
    sign_data_grad = data_grad.sign()
    perturbed_image = image + epsilon * sign_data_grad
    perturbed_image = torch.clamp(perturbed_image, 0, 1)
    return perturbed_image


def denorm(batch, mean=[0.1307], std=[0.3081]):
    if isinstance(mean, list):
        mean = torch.tensor(mean).to(device)
    if isinstance(std, list):
        std = torch.tensor(std).to(device)
    return batch * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)


def normalize(batch, mean=0.1307, std=0.3081):
    return (batch - mean) / std


def test(model, device, test_loader, epsilon):
    correct = 0
    adv_examples = []
    for data, target in test_loader:
        data, target = data.to(device), target.to(device)
        data.requires_grad = True
        output = model(data)
        init_pred = output.max(1, keepdim=True)[1]
        if init_pred.item() != target.item():
            continue
        loss = F.nll_loss(output, target)
        model.zero_grad()
        loss.backward()
        data_grad = data.grad.data
        data_denorm = denorm(data)
        perturbed_data = fgsm_attack(data_denorm, epsilon, data_grad)
        perturbed_data_normalized = normalize(perturbed_data)
        output = model(perturbed_data_normalized)
        final_pred = output.max(1, keepdim=True)[1]
        if final_pred.item() == target.item():
            correct += 1
            if epsilon == 0 and len(adv_examples) < 5:
                adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
        else:
            if len(adv_examples) < 5:
                adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
    final_acc = correct / float(len(test_loader))
    print(f"Epsilon: {epsilon}\tTest Accuracy = {correct} / {len(test_loader)} = {final_acc}")
    return final_acc, adv_examples


accuracies = []
examples = []
for eps in epsilons:
    acc, ex = test(model, device, test_loader, eps)
    accuracies.append(acc)
    examples.append(ex)

print("RESULT", json.dumps({"train_losses": train_losses, "accuracies": accuracies,
                            "example_shape": list(examples[1][0][2].shape),
                            "example_range": [float(examples[-1][0][2].min()),
                                              float(examples[-1][0][2].max())]}))
