"""Port of "Saving and loading a general checkpoint" and "Saving and loading models" recipes."""
import json
import os
import tempfile

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.functional as F
    import dendrite.optim as optim


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


torch.manual_seed(0)
net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
inputs = torch.randn(4, 3, 32, 32)
labels = torch.tensor([1, 0, 3, 9])
criterion = nn.CrossEntropyLoss()
for _ in range(3):
    optimizer.zero_grad()
    loss = criterion(net(inputs), labels)
    loss.backward()
    optimizer.step()

out = {"state_keys": list(net.state_dict().keys()),
       "opt_keys": sorted(optimizer.state_dict().keys()),
       "param_groups_lr": optimizer.state_dict()["param_groups"][0]["lr"]}
folder = tempfile.mkdtemp()
PATH = os.path.join(folder, "model.pt")
EPOCH = 5
LOSS = 0.4
torch.save({
    'epoch': EPOCH,
    'model_state_dict': net.state_dict(),
    'optimizer_state_dict': optimizer.state_dict(),
    'loss': LOSS,
}, PATH)

model = Net()
optimizer2 = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer2.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']
model.train()
out["restored"] = [epoch, loss]
# Both copies take the same next step.
for m, o in ((net, optimizer), (model, optimizer2)):
    o.zero_grad()
    criterion(m(inputs), labels).backward()
    o.step()
out["same_after_step"] = all(bool((a == b).all()) for a, b in zip(net.parameters(), model.parameters()))

PATH2 = os.path.join(folder, "weights.pth")
torch.save(net.state_dict(), PATH2)
model3 = Net()
model3.load_state_dict(torch.load(PATH2, weights_only=True))
model3.eval()
out["weights_equal"] = bool((model3(inputs) == net.eval()(inputs)).all())
try:
    torch.save(net, os.path.join(folder, "whole.pth"))
    out["whole_model"] = "saved"
except Exception as error:  # dendrite refuses (no pickle); torch pickles
    out["whole_model"] = "refused:" + type(error).__name__
print("RESULT", json.dumps(out))
