"""Port of "Optimizing Model Parameters" (train_loop/test_loop with SGD, zero_grad after step) and the
learning-rate scheduler recipes: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR,
ReduceLROnPlateau(mode='min'), LambdaLR, SequentialLR / chained schedulers, get_last_lr(), state_dict
round trip.

Fixed data and fixed starting weights: every number here is deterministic in both libraries.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    from torch import nn
    from torch.optim import lr_scheduler
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    from dendrite import nn
    from dendrite.optim import lr_scheduler
    from dendrite.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(0)
X = rng.standard_normal((256, 8)).astype(np.float32)
true_w = rng.standard_normal((8, 3)).astype(np.float32)
y = (X @ true_w).argmax(1)
train_dataloader = DataLoader(TensorDataset(torch.from_numpy(X[:192]), torch.from_numpy(y[:192])),
                              batch_size=32)
test_dataloader = DataLoader(TensorDataset(torch.from_numpy(X[192:]), torch.from_numpy(y[192:])),
                             batch_size=32)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def fresh_model():
    model = NeuralNetwork()
    g = np.random.default_rng(1)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((0.3 * g.standard_normal(tuple(p.shape))).astype(np.float32)))
    return model


learning_rate = 1e-1
batch_size = 32
epochs = 5
loss_fn = nn.CrossEntropyLoss()


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return size


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    return test_loss, correct


model = fresh_model()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
history = []
for t in range(epochs):
    train_loop(train_dataloader, model, loss_fn, optimizer)
    history.append(test_loop(test_dataloader, model, loss_fn))


def lrs_of(make_sched, steps=12, base_lr=0.1, metric=None, **opt_kwargs):
    m = fresh_model()
    opt = torch.optim.SGD(m.parameters(), lr=base_lr, **opt_kwargs)
    sched = make_sched(opt)
    out = []
    for i in range(steps):
        opt.step()
        if metric is None:
            sched.step()
        else:
            sched.step(metric[i])
        out.append(opt.param_groups[0]['lr'])
    return out, sched, opt


results = {"test_history": history}
results["StepLR"] = lrs_of(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5))[0]
results["MultiStepLR"] = lrs_of(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.1))[0]
results["ExponentialLR"] = lrs_of(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9))[0]
results["CosineAnnealingLR"] = lrs_of(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001))[0]
results["LambdaLR"] = lrs_of(lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda epoch: 0.95 ** epoch))[0]
results["OneCycleLR"] = lrs_of(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=13))[0]
one_cycle_momentum = lrs_of(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=13), momentum=0.9)[2]
results["OneCycle_momentum"] = one_cycle_momentum.param_groups[0]['momentum']
plateau_metric = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
results["ReduceLROnPlateau"] = lrs_of(
    lambda o: lr_scheduler.ReduceLROnPlateau(o, 'min', factor=0.5, patience=2), metric=plateau_metric)[0]
results["SequentialLR"] = lrs_of(lambda o: lr_scheduler.SequentialLR(
    o, schedulers=[lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=3),
                   lr_scheduler.ExponentialLR(o, gamma=0.9)], milestones=[3]))[0]
results["CosineWarmRestarts"] = lrs_of(
    lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2))[0]
_, sched, _ = lrs_of(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), steps=4)
results["get_last_lr"] = sched.get_last_lr()
sd = sched.state_dict()
results["sched_state"] = {k: sd[k] for k in ("last_epoch", "step_size", "gamma", "base_lrs")}

# The tutorial's chained use: two schedulers stepped one after the other each epoch.
m = fresh_model()
opt = torch.optim.SGD(m.parameters(), lr=0.1)
s1 = lr_scheduler.ExponentialLR(opt, gamma=0.9)
s2 = lr_scheduler.MultiStepLR(opt, milestones=[3, 5], gamma=0.1)
chained = []
for epoch in range(6):
    opt.step()
    s1.step()
    s2.step()
    chained.append(opt.param_groups[0]['lr'])
results["chained"] = chained
print("RESULT", json.dumps(results))
