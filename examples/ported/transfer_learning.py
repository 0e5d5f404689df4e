"""Port of the transfer-learning tutorial's fine-tuning loop: freeze a backbone with requires_grad = False,
replace model.fc, optimize only the new head, lr_scheduler.StepLR, copy.deepcopy(model.state_dict()) to
keep the best model, load_state_dict(best_model_wts) at the end.

A small CNN "pretrained" backbone (fixed weights) stands in for resnet18 and 16x16 synthetic two-class
images for hymenoptera (ants/bees).
"""
import copy
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.optim as optim
    from torch.optim import lr_scheduler
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.optim as optim
    from dendrite.optim import lr_scheduler
    from dendrite.utils.data import DataLoader, TensorDataset


class SmallResNetLike(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(2)
        self.layer1 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


torch.manual_seed(0)
rng = np.random.default_rng(0)
labels = rng.integers(0, 2, 160)
base = np.array([[-1.0, 0.5, 1.0], [1.0, -0.5, -1.0]], dtype=np.float32).reshape(2, 3, 1, 1)
images = (base[labels] + 0.8 * rng.standard_normal((160, 3, 16, 16))).astype(np.float32)
image_datasets = {'train': TensorDataset(torch.from_numpy(images[:128]), torch.from_numpy(labels[:128])),
                  'val': TensorDataset(torch.from_numpy(images[128:]), torch.from_numpy(labels[128:]))}
dataloaders = {x: DataLoader(image_datasets[x], batch_size=16, shuffle=(x == 'train'))
               for x in ['train', 'val']}
dataset_sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}
class_names = ['ants', 'bees']
device = torch.device("cpu")


def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    history = []

    for epoch in range(num_epochs):
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train()
            else:
                model.eval()

            running_loss = 0.0
            running_corrects = 0

            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device)

                optimizer.zero_grad()

                with torch.set_grad_enabled(phase == 'train'):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)

                    if phase == 'train':
                        loss.backward()
                        optimizer.step()

                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == 'train':
                scheduler.step()

            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            history.append((phase, epoch_loss, float(epoch_acc)))

            if phase == 'val' and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())

    model.load_state_dict(best_model_wts)
    return model, float(best_acc), history


model_conv = SmallResNetLike()
# "Pretrained" weights: fixed values instead of a download.
with torch.no_grad():
    for name, p in model_conv.named_parameters():
        p.copy_(torch.from_numpy((0.3 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
for param in model_conv.parameters():
    param.requires_grad = False

num_ftrs = model_conv.fc.in_features
model_conv.fc = nn.Linear(num_ftrs, len(class_names))
with torch.no_grad():
    head_init = (0.1 * rng.standard_normal((2, num_ftrs))).astype(np.float32)
    model_conv.fc.weight.copy_(torch.from_numpy(head_init))
    model_conv.fc.bias.zero_()
model_conv = model_conv.to(device)
frozen_conv1 = model_conv.conv1.weight.clone()

criterion = nn.CrossEntropyLoss()
optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.05, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=3, gamma=0.1)

model_conv, best_acc, history = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler,
                                            num_epochs=6)

trainable = sum(p.numel() for p in model_conv.parameters() if p.requires_grad)
print("RESULT", json.dumps({
    "best_acc": best_acc,
    "train_losses": [h[1] for h in history if h[0] == 'train'],
    "lr_end": optimizer_conv.param_groups[0]['lr'],
    "last_lr": exp_lr_scheduler.get_last_lr(),
    "trainable": trainable,
    "conv1_unchanged": bool(torch.equal(frozen_conv1, model_conv.conv1.weight)),
    "conv1_grad_is_none": model_conv.conv1.weight.grad is None,
    "running_mean_changed": bool(model_conv.bn1.running_mean.abs().sum() > 0),
    "state_keys": list(model_conv.state_dict().keys()),
}))
