"""Port of the 60-minute blitz "Neural Networks": LeNet with F.max_pool2d, net.zero_grad(),
out.backward(randn), list(net.parameters())[0].size(), grad_fn.next_functions, and the manual / optim.SGD
update.

Fixed weights (from NumPy) replace the random initialisation so both libraries take the same path.
"""
import json
import os

import numpy as np

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
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        output = self.fc3(f6)
        return output


torch.manual_seed(0)
net = Net()
rng = np.random.default_rng(0)
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy((0.1 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))

params = list(net.parameters())
n_params = len(params)
conv1_size = list(params[0].size())

input = torch.from_numpy(rng.standard_normal((1, 1, 32, 32)).astype(np.float32))
out = net(input)
out_first = out.detach().numpy().ravel().tolist()

net.zero_grad()
out.backward(torch.from_numpy(rng.standard_normal((1, 10)).astype(np.float32)))
conv1_bias_grad_backward = net.conv1.bias.grad.numpy().tolist()

output = net(input)
target = torch.from_numpy(rng.standard_normal(10).astype(np.float32))
target = target.view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)
grad_fn_names = [type(loss.grad_fn).__name__,
                 type(loss.grad_fn.next_functions[0][0]).__name__,
                 type(loss.grad_fn.next_functions[0][0].next_functions[0][0]).__name__]

net.zero_grad()
before = net.conv1.bias.grad
loss.backward()
after = net.conv1.bias.grad.numpy().tolist()

learning_rate = 0.01
for f in net.parameters():
    f.data.sub_(f.grad.data * learning_rate)

optimizer = optim.SGD(net.parameters(), lr=0.01)
losses = []
for _ in range(5):
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

print("RESULT", json.dumps({"n_params": n_params, "conv1_size": conv1_size, "out": out_first,
                            "bias_grad_after_backward_randn": conv1_bias_grad_backward,
                            "grad_after_zero_grad": None if before is None else before.numpy().tolist(),
                            "conv1_bias_grad": after, "grad_fn_names": grad_fn_names, "losses": losses}))
