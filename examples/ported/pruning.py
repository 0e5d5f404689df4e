"""Port of the "Pruning Tutorial" (torch.nn.utils.prune): random_unstructured and l1_unstructured on a LeNet's
conv1, named_parameters/named_buffers (weight_orig, weight_mask), the forward pre-hook, iterative pruning with
ln_structured (a PruningContainer), state_dict keys, prune.remove, pruning every Conv2d/Linear of a model,
global_unstructured with per-layer sparsity, and a custom BasePruningMethod subclass; plus one training step
of the pruned model (the gradient reaches weight_orig only where the mask is 1).

Fixed NumPy weights: all but the entries random_unstructured picks is deterministic in both libraries.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.nn.utils.prune as prune
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.functional as F
    import dendrite.nn.utils.prune as prune

device = torch.device("cpu")
rng = np.random.default_rng(0)


class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square conv kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5x5 image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def fixed(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((0.2 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
    return model


model = fixed(LeNet().to(device=device))
module = model.conv1
results = {"params_before": [name for name, _ in module.named_parameters()],
           "buffers_before": [name for name, _ in module.named_buffers()]}

prune.random_unstructured(module, name="weight", amount=0.3)
results["params_after"] = [name for name, _ in module.named_parameters()]
results["buffers_after"] = [name for name, _ in module.named_buffers()]
results["random_zeros"] = int((module.weight_mask == 0).sum())
results["weight_is_masked"] = bool(torch.equal(module.weight, module.weight_orig * module.weight_mask))
results["hooks"] = [type(h).__name__ for h in module._forward_pre_hooks.values()]

prune.l1_unstructured(module, name="bias", amount=3)
results["bias_mask"] = module.bias_mask.tolist()
results["bias"] = module.bias.tolist()

prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
results["zero_channels"] = int((module.weight.abs().sum(dim=(1, 2, 3)) == 0).sum())
for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":  # select out the correct hook
        break
results["container"] = [type(h).__name__ for h in hook]
results["state_dict_keys"] = list(model.state_dict().keys())

prune.remove(module, 'weight')
results["params_removed"] = [name for name, _ in module.named_parameters()]
results["buffers_removed"] = [name for name, _ in module.named_buffers()]

new_model = fixed(LeNet())
for name, module in new_model.named_modules():
    # prune 20% of connections in all 2D-conv layers
    if isinstance(module, torch.nn.Conv2d):
        prune.l1_unstructured(module, name='weight', amount=0.2)
    # prune 40% of connections in all linear layers
    elif isinstance(module, torch.nn.Linear):
        prune.l1_unstructured(module, name='weight', amount=0.4)
results["new_model_buffers"] = list(dict(new_model.named_buffers()).keys())
results["new_model_zeros"] = [int((m.weight == 0).sum())
                              for m in (new_model.conv1, new_model.fc1, new_model.fc3)]

model = fixed(LeNet())
parameters_to_prune = (
    (model.conv1, 'weight'),
    (model.conv2, 'weight'),
    (model.fc1, 'weight'),
    (model.fc2, 'weight'),
    (model.fc3, 'weight'),
)
prune.global_unstructured(
    parameters_to_prune,
    pruning_method=prune.L1Unstructured,
    amount=0.2,
)
sparsity = {}
for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
    layer = getattr(model, name)
    sparsity[name] = 100. * float(torch.sum(layer.weight == 0)) / float(layer.weight.nelement())
    print("Sparsity in {}.weight: {:.2f}%".format(name, sparsity[name]))
total = sum(float(torch.sum(getattr(model, n).weight == 0)) for n in sparsity)
results["sparsity"] = sparsity
results["global_sparsity"] = 100. * total / sum(float(getattr(model, n).weight.nelement()) for n in sparsity)

# Training through the mask: the gradient of weight_orig is zero wherever the mask is.
x = torch.from_numpy(rng.standard_normal((4, 1, 32, 32)).astype(np.float32))
target = torch.from_numpy(rng.integers(0, 10, 4))
loss = F.cross_entropy(model(x), target)
loss.backward()
results["loss"] = loss.item()
results["masked_grad_zero"] = bool((model.fc1.weight_orig.grad[model.fc1.weight_mask == 0] == 0).all())
results["fc1_grad_sum"] = model.fc1.weight_orig.grad.abs().sum().item()


class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor
    """
    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module


model = LeNet()
foobar_unstructured(model.fc3, name='bias')
results["foobar_mask"] = model.fc3.bias_mask.tolist()
results["is_pruned"] = prune.is_pruned(model)
try:
    prune.l1_unstructured(model.fc3, name='weight', amount=1.5)
except ValueError as error:
    results["bad_amount"] = "ValueError" if "amount=1.5" in str(error) else str(error)
print("RESULT", json.dumps(results))
