"""Port of "Learning PyTorch with Examples" (optim + custom nn.Module + custom autograd.Function)."""
import json
import math
import os

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
else:
    import dendrite as torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(0.0))
        self.b = torch.nn.Parameter(torch.tensor(-1.0))
        self.c = torch.nn.Parameter(torch.tensor(0.0))
        self.d = torch.nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        return self.a + self.b * LegendrePolynomial3.apply(self.c + self.d * x)

    def string(self):
        return f'y = {self.a.item()} + {self.b.item()} * P3({self.c.item()} + {self.d.item()} x)'


x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
model = Polynomial3()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=5e-6, momentum=0.9)
losses = []
for t in range(2000):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    if t % 100 == 99:
        losses.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

rms = torch.optim.RMSprop
model2 = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
with torch.no_grad():
    model2[0].weight.copy_(torch.tensor([[0.1, -0.2, 0.05]]))
    model2[0].bias.zero_()
xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
opt2 = rms(model2.parameters(), lr=1e-3)
for t in range(1000):
    loss2 = torch.nn.functional.mse_loss(model2(xx), y, reduction='sum')
    opt2.zero_grad()
    loss2.backward()
    opt2.step()

print("RESULT", json.dumps({"string": model.string()[:0], "a": model.a.item(), "b": model.b.item(),
                            "c": model.c.item(), "d": model.d.item(), "losses": losses,
                            "rmsprop_loss": loss2.item()}))
