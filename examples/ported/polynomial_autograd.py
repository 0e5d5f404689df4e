"""Port of "Learning PyTorch with Examples": fit y = sin(x) with a cubic, by hand with autograd."""
import json
import math
import os

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
else:
    import dendrite as torch

dtype = torch.float
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.set_default_device(device) if hasattr(torch, "set_default_device") else None

x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)

# Fixed start (the tutorial draws it with randn; a fixed one lets both libraries take the same path).
a = torch.tensor(0.1, dtype=dtype, requires_grad=True)
b = torch.tensor(-0.2, dtype=dtype, requires_grad=True)
c = torch.tensor(0.3, dtype=dtype, requires_grad=True)
d = torch.tensor(-0.1, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
losses = []
for t in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print("RESULT", json.dumps({"coefficients": [a.item(), b.item(), c.item(), d.item()], "losses": losses}))
