"""Port of "Learning PyTorch with Examples" (nn module): a Linear layer over (x, x^2, x^3), manual update."""
import json
import math
import os

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
else:
    import dendrite as torch

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.1, -0.2, 0.05]]))
    model[0].bias.fill_(0.01)
loss_fn = torch.nn.MSELoss(reduction='sum')

learning_rate = 1e-6
losses = []
for t in range(2000):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        losses.append(loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

linear_layer = model[0]
result = {"bias": linear_layer.bias.item(), "weight": linear_layer.weight[:, 0].item(),
          "weight2": linear_layer.weight[:, 1].item(), "weight3": linear_layer.weight[:, 2].item(),
          "losses": losses}
print("RESULT", json.dumps(result))
