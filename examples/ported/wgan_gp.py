"""Port of the WGAN-GP gradient penalty (Gulrajani et al.; the calc_gradient_penalty used across PyTorch GAN
examples): interpolates = alpha * real + (1 - alpha) * fake with requires_grad_(True),
torch.autograd.grad( outputs=..., inputs=..., grad_outputs=torch.ones(...), create_graph=True,
retain_graph=True, only_inputs=True)[0], ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA, backward
through the penalty; Adam(betas=(0.5, 0.9)), n_critic steps, one=torch.tensor(1.); mone=one * -1
backward(mone) style.

A 2-D "8 Gaussians"-like toy distribution replaces images; fixed weights make both libraries take the
same path.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.autograd as autograd
    import torch.nn as nn
    import torch.optim as optim
else:
    import dendrite as torch
    import dendrite.autograd as autograd
    import dendrite.nn as nn
    import dendrite.optim as optim

DIM = 32
LAMBDA = 0.1
CRITIC_ITERS = 5
BATCH_SIZE = 64


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        main = nn.Sequential(
            nn.Linear(2, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, 2),
        )
        self.main = main

    def forward(self, noise, real_data):
        output = self.main(noise)
        return output


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        main = nn.Sequential(
            nn.Linear(2, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.Tanh(),
            nn.Linear(DIM, 1),
        )
        self.main = main

    def forward(self, inputs):
        output = self.main(inputs)
        return output.view(-1)


rng = np.random.default_rng(0)


def fixed_init(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            w = (0.3 * rng.standard_normal(tuple(m.weight.shape))).astype(np.float32)
            m.weight.copy_(torch.from_numpy(w))
            m.bias.fill_(0.01)


def calc_gradient_penalty(netD, real_data, fake_data, alpha):
    alpha = alpha.expand(real_data.size())

    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates.requires_grad_(True)

    disc_interpolates = netD(interpolates)

    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size()),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]

    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


def inf_train_gen():
    centers = np.array([(1, 0), (-1, 0), (0, 1), (0, -1)], dtype=np.float32) * 2
    while True:
        idx = rng.integers(0, 4, BATCH_SIZE)
        yield (centers[idx] + 0.05 * rng.standard_normal((BATCH_SIZE, 2))).astype(np.float32)


torch.manual_seed(0)
netG = Generator()
netD = Discriminator()
netD.apply(fixed_init)
netG.apply(fixed_init)

optimizerD = optim.Adam(netD.parameters(), lr=1e-3, betas=(0.5, 0.9))
optimizerG = optim.Adam(netG.parameters(), lr=1e-3, betas=(0.5, 0.9))

one = torch.tensor(1, dtype=torch.float)
mone = one * -1
data = inf_train_gen()

gps, d_costs, w_dists, g_costs = [], [], [], []
for iteration in range(30):
    for p in netD.parameters():
        p.requires_grad = True

    for iter_d in range(CRITIC_ITERS):
        _data = next(data)
        real_data = torch.Tensor(_data)
        real_data_v = autograd.Variable(real_data)

        netD.zero_grad()

        D_real = netD(real_data_v)
        D_real = D_real.mean()
        D_real.backward(mone)

        noise = torch.from_numpy(rng.standard_normal((BATCH_SIZE, 2)).astype(np.float32))
        with torch.no_grad():
            noisev = autograd.Variable(noise)
            fake = autograd.Variable(netG(noisev, real_data_v).data)
        inputv = fake
        D_fake = netD(inputv)
        D_fake = D_fake.mean()
        D_fake.backward(one)

        alpha = torch.from_numpy(rng.random((BATCH_SIZE, 1)).astype(np.float32))
        gradient_penalty = calc_gradient_penalty(netD, real_data_v.data, fake.data, alpha)
        gradient_penalty.backward()

        D_cost = D_fake - D_real + gradient_penalty
        Wasserstein_D = D_real - D_fake
        optimizerD.step()

    for p in netD.parameters():
        p.requires_grad = False
    netG.zero_grad()

    _data = next(data)
    real_data = torch.Tensor(_data)
    real_data_v = autograd.Variable(real_data)

    noise = torch.from_numpy(rng.standard_normal((BATCH_SIZE, 2)).astype(np.float32))
    noisev = autograd.Variable(noise)
    fake = netG(noisev, real_data_v)
    G = netD(fake)
    G = G.mean()
    G.backward(mone)
    G_cost = -G
    optimizerG.step()

    gps.append(gradient_penalty.item())
    d_costs.append(D_cost.item())
    w_dists.append(Wasserstein_D.item())
    g_costs.append(G_cost.item())

# The penalty's own gradient on fixed values: d/dx of the second-order term.
x = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
w = torch.tensor([[1.0, 2.0], [-0.5, 0.3]])
y = torch.tanh(x @ w).sum(dim=1)
g, = torch.autograd.grad(y, x, grad_outputs=torch.ones(2), create_graph=True)
pen = ((g.norm(2, dim=1) - 1) ** 2).mean()
pen.backward()

print("RESULT", json.dumps({"gp_first": gps[0], "d_cost_first": d_costs[0], "w_first": w_dists[0],
                            "gp": gps, "d_cost": d_costs, "wasserstein": w_dists, "g_cost": g_costs,
                            "toy_penalty": pen.item(), "toy_grad": x.grad.tolist()}))
