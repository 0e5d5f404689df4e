"""Port of pytorch/examples time_sequence_prediction: a Sequence of two nn.LSTMCell layers stepped over
input.split(1, dim=1) with h_t/c_t from torch.zeros(..., dtype=torch.double), future predictions,
.double() model, optim.LBFGS(lr=0.8) with a closure, MSELoss; plus the "LSTM regressor" pattern with
nn.LSTM(batch_first=True) taking the last time step, Adam, and train/test on sliding windows.

Generated sine waves as in the example (it generates its own data), a few steps only.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.optim as optim
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.optim as optim


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 16)
        self.lstm2 = nn.LSTMCell(16, 16)
        self.linear = nn.Linear(16, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 16, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 16, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 16, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 16, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):  # if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


# generate_sine_wave.py, smaller
np.random.seed(2)
T, L, N = 20, 60, 24
x = np.empty((N, L), 'int64')
x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype('float64')

torch.manual_seed(0)
input = torch.from_numpy(data[3:, :-1])
target = torch.from_numpy(data[3:, 1:])
test_input = torch.from_numpy(data[:3, :-1])
test_target = torch.from_numpy(data[:3, 1:])
seq = Sequence()
seq.double()
g = np.random.default_rng(0)
with torch.no_grad():
    for p in seq.parameters():
        p.copy_(torch.from_numpy(0.25 * g.standard_normal(tuple(p.shape))))
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.8)
losses = []
for i in range(3):
    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        loss.backward()
        return loss
    losses.append(optimizer.step(closure).item())
    with torch.no_grad():
        future = 10
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target)
        y = pred.detach().numpy()
test_loss = loss.item()


# The LSTM-regressor pattern: windows of a noisy sine, predict the next value.
class LSTMRegressor(nn.Module):
    def __init__(self, input_size=1, hidden_size=16, num_layers=1):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, (hn, cn) = self.lstm(x)
        return self.fc(out[:, -1, :])


series = np.sin(np.arange(400) / 8.0).astype(np.float32)
windows = np.stack([series[i:i + 12] for i in range(380)])
X = torch.from_numpy(windows[:, :-1]).unsqueeze(-1)
Y = torch.from_numpy(windows[:, -1:])
reg = LSTMRegressor()
with torch.no_grad():
    for p in reg.parameters():
        p.copy_(torch.from_numpy((0.2 * g.standard_normal(tuple(p.shape))).astype(np.float32)))
opt = torch.optim.Adam(reg.parameters(), lr=0.01)
reg_losses = []
for epoch in range(40):
    opt.zero_grad()
    loss = nn.functional.mse_loss(reg(X[:300]), Y[:300])
    loss.backward()
    opt.step()
    reg_losses.append(loss.item())
reg.eval()
with torch.no_grad():
    reg_test = nn.functional.mse_loss(reg(X[300:]), Y[300:]).item()

print("RESULT", json.dumps({"lbfgs_losses": losses, "test_loss": test_loss, "pred_shape": list(y.shape),
                            "pred_dtype": str(pred.dtype), "reg_first": reg_losses[0],
                            "reg_last": reg_losses[-1],
                            "reg_test": reg_test}))
