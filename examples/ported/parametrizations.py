"""Port of the "Parametrizations Tutorial": register_parametrization with Symmetric, Skew, CayleyMap
(torch.linalg.solve with a registered identity buffer) and MatrixExponential (torch.matrix_exp); chaining
two parametrizations, parametrizations.weight.original, parametrize.cached(), right_inverse and assigning to
the weight, remove_parametrizations with leave_parametrized True/False; plus
torch.nn.utils.parametrizations.orthogonal (matrix_exp, cayley, householder) trained a few SGD steps.

Fixed weights from NumPy: every number is deterministic in both libraries.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.utils.parametrize as P
    from torch.nn.utils.parametrizations import orthogonal
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.utils.parametrize as P
    from dendrite.nn.utils.parametrizations import orthogonal

rng = np.random.default_rng(0)


def fixed_linear(n, m=None):
    layer = nn.Linear(n, m or n)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(rng.standard_normal(tuple(layer.weight.shape)).astype(np.float32)))
        layer.bias.zero_()
    return layer


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)


class CayleyMap(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X):
        # (I + X)(I - X)^{-1}
        return torch.linalg.solve(self.Id - X, self.Id + X)


class MatrixExponential(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X)


results = {}
layer = fixed_linear(3)
P.register_parametrization(layer, "weight", Symmetric())
A = layer.weight
results["symmetric"] = bool(torch.allclose(A, A.T))
results["symmetric_weight"] = A.tolist()

layer = fixed_linear(3)
P.register_parametrization(layer, "weight", Skew())
X = layer.weight
results["skew"] = bool(torch.allclose(X, -X.T))

layer = fixed_linear(3)
P.register_parametrization(layer, "weight", Skew())
P.register_parametrization(layer, "weight", CayleyMap(3))
X = layer.weight
results["cayley_orthogonal"] = bool(torch.allclose(X.T @ X, torch.eye(3), atol=1e-5))
results["cayley_weight"] = X.tolist()
results["chained"] = [type(p).__name__ for p in layer.parametrizations.weight]

layer_orthogonal = fixed_linear(3)
P.register_parametrization(layer_orthogonal, "weight", Skew())
P.register_parametrization(layer_orthogonal, "weight", MatrixExponential())
X = layer_orthogonal.weight
results["expm_orthogonal"] = bool(torch.allclose(X.T @ X, torch.eye(3), atol=1e-5))
results["expm_weight"] = X.tolist()
results["expm_det"] = torch.det(X).item()

layer_spd = fixed_linear(3)
P.register_parametrization(layer_spd, "weight", Symmetric())
P.register_parametrization(layer_spd, "weight", MatrixExponential())
X = layer_spd.weight
results["spd_eigs_positive"] = bool((torch.linalg.slogdet(X).sign > 0).item())
results["spd_logdet"] = torch.linalg.slogdet(X).logabsdet.item()

# Caching: inside parametrize.cached() the weight is computed once.
x = torch.from_numpy(rng.standard_normal((2, 3)).astype(np.float32))
with P.cached():
    out_cached = layer_orthogonal(x) + layer_orthogonal(x)
results["cached_out"] = out_cached.tolist()

# right_inverse: assigning to the weight stores right_inverse(value) as the original.
layer = fixed_linear(3)
P.register_parametrization(layer, "weight", Symmetric())
sym = torch.from_numpy(rng.standard_normal((3, 3)).astype(np.float32))
sym = sym + sym.T
with torch.no_grad():
    layer.weight = sym
results["assigned_equal"] = bool(torch.allclose(layer.weight, sym))
results["assigned_original"] = layer.parametrizations.weight.original.tolist()

# Training through a parametrization keeps the constraint.
opt = torch.optim.SGD(layer_orthogonal.parameters(), lr=0.1)
for _ in range(3):
    opt.zero_grad()
    layer_orthogonal(x).pow(2).sum().backward()
    opt.step()
W = layer_orthogonal.weight
results["trained_orthogonal"] = bool(torch.allclose(W.T @ W, torch.eye(3), atol=1e-5))
results["trained_original_grad"] = layer_orthogonal.parametrizations.weight.original.grad.tolist()

# Removing: leave the parametrized value in place, or the original.
P.remove_parametrizations(layer_orthogonal, "weight")
results["removed_params"] = sorted(n for n, _ in layer_orthogonal.named_parameters())
results["removed_weight"] = layer_orthogonal.weight.tolist()
layer = fixed_linear(3)
before = layer.weight.detach().clone()
P.register_parametrization(layer, "weight", Symmetric())
P.remove_parametrizations(layer, "weight", leave_parametrized=False)
results["removed_to_original"] = layer.weight.tolist()
results["original_was_triu"] = bool(torch.allclose(layer.weight, before.triu()))

# torch.nn.utils.parametrizations.orthogonal, each map, a few SGD steps.
for orthogonal_map in ("matrix_exp", "cayley", "householder"):
    layer = orthogonal(fixed_linear(4), orthogonal_map=orthogonal_map)
    opt = torch.optim.SGD(layer.parameters(), lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        layer(torch.from_numpy(rng.standard_normal((5, 4)).astype(np.float32))).pow(3).sum().backward()
        opt.step()
    Q = layer.weight
    results[f"orth_{orthogonal_map}_weight"] = Q.tolist()
    results[f"orth_{orthogonal_map}_ok"] = bool(torch.allclose(Q.T @ Q, torch.eye(4), atol=1e-5))
results["orth_state_dict"] = list(layer.state_dict().keys())
print("RESULT", json.dumps(results))
