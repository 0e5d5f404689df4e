"""Port of the blitz "Training a Classifier" tutorial (CIFAR-10): the conv net, CrossEntropyLoss and SGD with
momentum, ``iter(trainloader)``/``next``, ``torch.save(net.state_dict(), PATH)`` and
``net.load_state_dict(torch.load(PATH, weights_only=True))``, ``torch.max(outputs, 1)``, overall accuracy
and the per-class accuracy over ``zip(labels, predictions)`` indexing ``classes`` by tensors.

Generated 32x32 colour images (a noisy template per class) stand in for the download; fixed NumPy weights and
an unshuffled loader make the run deterministic in both libraries.
"""
import json
import os
import tempfile

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

batch_size = 4
rng = np.random.default_rng(0)
templates = rng.uniform(-1, 1, (10, 3, 8, 8))
train_labels, test_labels = rng.integers(0, 10, 400), rng.integers(0, 10, 100)


def images(labels):
    clean = np.kron(templates[labels], np.ones((1, 1, 4, 4)))
    return np.clip(clean + 0.5 * rng.standard_normal(clean.shape), -1, 1).astype(np.float32)


trainset = TensorDataset(torch.from_numpy(images(train_labels)), torch.from_numpy(train_labels))
trainloader = DataLoader(trainset, batch_size=batch_size, shuffle=False, num_workers=0)
testset = TensorDataset(torch.from_numpy(images(test_labels)), torch.from_numpy(test_labels))
testloader = DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=0)

classes = ('plane', 'car', 'bird', 'cat',
           'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

# get some random training images
dataiter = iter(trainloader)
images_batch, labels = next(dataiter)
first_labels = ' '.join(f'{classes[labels[j]]:5s}' for j in range(batch_size))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
with torch.no_grad():
    for p in net.parameters():
        fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else 25
        p.copy_(torch.from_numpy((rng.uniform(-1, 1, tuple(p.shape)) / np.sqrt(fan_in)).astype(np.float32)))

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)  # tutorial: 0.001 over 12,500 batches

running_losses = []
for epoch in range(2):  # loop over the dataset multiple times

    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        if i % 50 == 49:    # print every 50 mini-batches
            print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 50:.3f}')
            running_losses.append(running_loss / 50)
            running_loss = 0.0

print('Finished Training')
PATH = os.path.join(tempfile.mkdtemp(), 'cifar_net.pth')
torch.save(net.state_dict(), PATH)

net = Net()
net.load_state_dict(torch.load(PATH, weights_only=True))

correct = 0
total = 0
# since we're not training, we don't need to calculate the gradients for our outputs
with torch.no_grad():
    for data in testloader:
        images_batch, labels = data
        # calculate outputs by running images through the network
        outputs = net(images_batch)
        # the class with the highest energy is what we choose as prediction
        _, predicted = torch.max(outputs, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()

print(f'Accuracy of the network on the 100 test images: {100 * correct // total} %')

# prepare to count predictions for each class
correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}

# again no gradients needed
with torch.no_grad():
    for data in testloader:
        images_batch, labels = data
        outputs = net(images_batch)
        _, predictions = torch.max(outputs, 1)
        # collect the correct predictions for each class
        for label, prediction in zip(labels, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1

class_accuracy = {c: 100 * float(correct_pred[c]) / total_pred[c] for c in classes if total_pred[c]}
print("RESULT", json.dumps({"first_labels": first_labels, "running_losses": running_losses,
                            "accuracy": 100 * correct // total, "class_accuracy": class_accuracy}))
