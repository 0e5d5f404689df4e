"""Port of the "Automatic differentiation with torch.autograd" tutorial."""
import json
import os

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
else:
    import dendrite as torch

out = {}
x = torch.ones(5)
y = torch.zeros(3)
w = torch.tensor([[0.1, -0.2, 0.3], [0.0, 0.5, -0.1], [0.2, 0.2, 0.2], [-0.3, 0.1, 0.0], [0.4, -0.4, 0.1]],
                 requires_grad=True)
b = torch.tensor([0.1, 0.0, -0.1], requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
out["has_grad_fn"] = z.grad_fn is not None and loss.grad_fn is not None
loss.backward()
out["w_grad"] = w.grad.tolist()
out["b_grad"] = b.grad.tolist()
z = torch.matmul(x, w) + b
out["requires_grad"] = z.requires_grad
with torch.no_grad():
    z = torch.matmul(x, w) + b
out["no_grad"] = z.requires_grad
z = torch.matmul(x, w) + b
z_det = z.detach()
out["detach"] = z_det.requires_grad

inp = torch.eye(4, 5, requires_grad=True)
o = (inp + 1).pow(2).t()
o.backward(torch.ones_like(o), retain_graph=True)
first = inp.grad.clone().tolist()
o.backward(torch.ones_like(o), retain_graph=True)
second = inp.grad.tolist()
inp.grad.zero_()
o.backward(torch.ones_like(o), retain_graph=True)
out["jvp"] = [first, second, inp.grad.tolist()]
print("RESULT", json.dumps(out))
