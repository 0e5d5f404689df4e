"""Port of the "Tensors" tutorial: creation, attributes, indexing, joining, arithmetic with out=, in-place,
NumPy bridge.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
else:
    import dendrite as torch

out = {}
data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
x_ones = torch.ones_like(x_data)
torch.manual_seed(0)
x_rand = torch.rand_like(x_data, dtype=torch.float)
out["x_ones"] = x_ones.tolist()
out["x_rand_shape"] = list(x_rand.shape)
shape = (2, 3,)
out["zeros"] = torch.zeros(shape).tolist()
tensor = torch.rand(3, 4)
out["attrs"] = [list(tensor.shape), str(tensor.dtype).replace("torch.", ""), str(tensor.device)]
tensor = torch.ones(4, 4)
out["first_row"] = tensor[0].tolist()
out["first_column"] = tensor[:, 0].tolist()
out["last_column"] = tensor[..., -1].tolist()
tensor[:, 1] = 0
out["tensor"] = tensor.tolist()
t1 = torch.cat([tensor, tensor, tensor], dim=1)
out["t1_shape"] = list(t1.shape)
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
out["matmul_same"] = bool((y1 == y2).all()) and bool((y1 == y3).all())
z1 = tensor * tensor
z2 = tensor.mul(tensor)
z3 = torch.rand_like(tensor)
torch.mul(tensor, tensor, out=z3)
out["mul_same"] = bool((z1 == z2).all()) and bool((z1 == z3).all())
agg = tensor.sum()
agg_item = agg.item()
out["agg"] = [agg_item, type(agg_item).__name__]
tensor.add_(5)
out["add_"] = tensor.tolist()
t = torch.ones(5)
n = t.numpy()
t.add_(1)
out["bridge1"] = n.tolist()
n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
out["bridge2"] = t.tolist()
x = torch.ones(3)
y = x
x += 2
x *= 3
x -= 1
x /= 2
out["inplace_alias"] = y.tolist()
i = torch.arange(6)
i //= 4
out["ifloordiv"] = i.tolist()
print("RESULT", json.dumps(out))
