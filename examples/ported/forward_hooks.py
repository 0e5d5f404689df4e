"""Port of the forward/backward hook recipes (feature extraction with register_forward_hook into a dict,
get_activation(name) closures, handle.remove(), register_forward_pre_hook, register_full_backward_hook,
Tensor.register_hook on an intermediate) and of torch.nn.utils.parametrize (a Symmetric parametrization
registered with register_parametrization, parametrizations.weight original, is_parametrized,
remove_parametrizations) plus torch.nn.utils.parametrizations.weight_norm.

Fixed weights from NumPy: every number is deterministic in both libraries.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.nn.utils.parametrize as parametrize
    from torch.nn.utils.parametrizations import weight_norm
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.functional as F
    import dendrite.nn.utils.parametrize as parametrize
    from dendrite.nn.utils.parametrizations import weight_norm


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(4 * 3 * 3, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


rng = np.random.default_rng(0)
model = Net()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy((0.4 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))

activation = {}


def get_activation(name):
    def hook(model, input, output):
        activation[name] = output.detach()
    return hook


h1 = model.fc1.register_forward_hook(get_activation('fc1'))
h2 = model.conv1.register_forward_hook(get_activation('conv1'))
x = torch.from_numpy(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
output = model(x)
results = {"fc1_act": activation['fc1'].tolist(), "conv1_act_shape": list(activation['conv1'].shape),
           "conv1_act_sum": activation['conv1'].sum().item()}
h1.remove()
h2.remove()
activation.clear()
model(x)
results["after_remove"] = sorted(activation)


# A forward hook that returns a value replaces the output; a pre-hook that returns a tuple replaces the input.
def double_output(module, inp, out):
    return out * 2


def zero_input(module, inp):
    return (inp[0] * 0,)


h = model.fc2.register_forward_hook(double_output)
results["doubled"] = bool(torch.allclose(model(x), output * 2 - model.fc2.bias * 0, atol=1e-6)
                          or torch.allclose(model(x), output * 2))
h.remove()
h = model.fc2.register_forward_pre_hook(zero_input)
results["pre_hook_out"] = model(x).tolist()
h.remove()

grads = {}


def save_grad(module, grad_input, grad_output):
    grads['fc1_out'] = grad_output[0].detach().clone()
    grads['fc1_in'] = grad_input[0].detach().clone()


hb = model.fc1.register_full_backward_hook(save_grad)
out = model(x)
mid = {}
y = out.sum()
y.backward()
hb.remove()
results["backward_hook_out"] = grads['fc1_out'].tolist()
results["backward_hook_in_sum"] = grads['fc1_in'].sum().item()

a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = a * 2
b.register_hook(lambda g: mid.setdefault('b', g.clone()))
b.register_hook(lambda g: g * 10)
(b ** 2).sum().backward()
results["tensor_hook_seen"] = mid['b'].tolist()
results["tensor_hook_a_grad"] = a.grad.tolist()


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


layer = nn.Linear(3, 3)
with torch.no_grad():
    layer.weight.copy_(torch.from_numpy(rng.standard_normal((3, 3)).astype(np.float32)))
    layer.bias.zero_()
parametrize.register_parametrization(layer, "weight", Symmetric())
A = layer.weight
results["symmetric"] = bool(torch.allclose(A, A.T))
results["is_parametrized"] = parametrize.is_parametrized(layer)
results["param_names"] = sorted(n for n, _ in layer.named_parameters())
opt = torch.optim.SGD(layer.parameters(), lr=0.1)
loss = layer(torch.ones(2, 3)).pow(2).sum()
loss.backward()
opt.step()
results["symmetric_after_step"] = bool(torch.allclose(layer.weight, layer.weight.T))
results["original_grad"] = layer.parametrizations.weight.original.grad.tolist()
parametrize.remove_parametrizations(layer, "weight")
results["after_remove_param_names"] = sorted(n for n, _ in layer.named_parameters())

wn = weight_norm(nn.Linear(4, 2))
with torch.no_grad():
    wn.parametrizations.weight.original1.copy_(torch.tensor([[1.0, 2.0, 2.0, 0.0], [0.0, 3.0, 0.0, 4.0]]))
    wn.parametrizations.weight.original0.copy_(torch.tensor([[2.0], [10.0]]))
results["weight_norm_weight"] = wn.weight.tolist()
results["weight_norm_names"] = sorted(n for n, _ in wn.named_parameters())
print("RESULT", json.dumps(results))
