"""Port of pytorch/examples reinforcement_learning (reinforce.py and actor_critic.py): a policy network with
softmax over two actions, ``torch.distributions.Categorical`` (sample, log_prob), discounted returns
normalised with ``returns.std()`` and ``np.finfo(np.float32).eps``, ``torch.cat``/``torch.stack`` of
per-step losses, the critic's ``F.smooth_l1_loss``, and the running reward.

gym is replaced by the CartPole equations written out in NumPy (the same physics, its own seeded RNG). The
first part replays one fixed episode (fixed weights and actions: exact in both libraries); the training runs
then sample actions from each library's own generator, so only their progress is compared.
"""
import json
import os
from collections import namedtuple
from itertools import count

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    from torch.distributions import Categorical
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.functional as F
    import dendrite.optim as optim
    from dendrite.distributions import Categorical

gamma = 0.99
eps = np.finfo(np.float32).eps.item()


class CartPole:
    """gym's CartPole-v0: push left or right, +1 per step until the pole falls or the cart leaves."""

    def __init__(self, seed):
        self.rng = np.random.RandomState(seed)

    def reset(self):
        self.state = self.rng.uniform(low=-0.05, high=0.05, size=(4,))
        self.steps = 0
        return np.array(self.state, dtype=np.float32)

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = 10.0 if action == 1 else -10.0
        costheta, sintheta = np.cos(theta), np.sin(theta)
        temp = (force + 0.05 * theta_dot ** 2 * sintheta) / 1.1
        thetaacc = (9.8 * sintheta - costheta * temp) / (0.5 * (4.0 / 3.0 - 0.1 * costheta ** 2 / 1.1))
        xacc = temp - 0.05 * thetaacc * costheta / 1.1
        x, x_dot = x + 0.02 * x_dot, x_dot + 0.02 * xacc
        theta, theta_dot = theta + 0.02 * theta_dot, theta_dot + 0.02 * thetaacc
        self.state = (x, x_dot, theta, theta_dot)
        self.steps += 1
        done = bool(abs(x) > 2.4 or abs(theta) > 12 * 2 * np.pi / 360 or self.steps >= 200)
        return np.array(self.state, dtype=np.float32), 1.0, done, {}


# ----------------------------------------------------------------------------------------- reinforce.py
class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(4, 128)
        self.dropout = nn.Dropout(p=0.6)
        self.affine2 = nn.Linear(128, 2)

        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = self.affine1(x)
        x = self.dropout(x)
        x = F.relu(x)
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


def reinforce(episodes, seed=543):
    env = CartPole(seed)
    torch.manual_seed(seed)
    policy = Policy()
    optimizer = optim.Adam(policy.parameters(), lr=1e-2)

    def select_action(state):
        state = torch.from_numpy(state).float().unsqueeze(0)
        probs = policy(state)
        m = Categorical(probs)
        action = m.sample()
        policy.saved_log_probs.append(m.log_prob(action))
        return action.item()

    def finish_episode():
        R = 0
        policy_loss = []
        returns = []
        for r in policy.rewards[::-1]:
            R = r + gamma * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        for log_prob, R in zip(policy.saved_log_probs, returns):
            policy_loss.append(-log_prob * R)
        optimizer.zero_grad()
        policy_loss = torch.cat(policy_loss).sum()
        policy_loss.backward()
        optimizer.step()
        del policy.rewards[:]
        del policy.saved_log_probs[:]

    running_reward = 10
    history = []
    for i_episode in range(1, episodes + 1):
        state, ep_reward = env.reset(), 0
        for t in range(1, 10000):
            action = select_action(state)
            state, reward, done, _ = env.step(action)
            policy.rewards.append(reward)
            ep_reward += reward
            if done:
                break
        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        history.append(ep_reward)
        finish_episode()
    return running_reward, history


# -------------------------------------------------------------------------------------- actor_critic.py
SavedAction = namedtuple('SavedAction', ['log_prob', 'value'])


class ActorCritic(nn.Module):
    """
    implements both actor and critic in one model
    """
    def __init__(self):
        super(ActorCritic, self).__init__()
        self.affine1 = nn.Linear(4, 128)
        self.action_head = nn.Linear(128, 2)
        self.value_head = nn.Linear(128, 1)
        self.saved_actions = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_prob = F.softmax(self.action_head(x), dim=-1)
        state_values = self.value_head(x)
        return action_prob, state_values


def select_action(model, state, action=None):
    state = torch.from_numpy(state).float()
    probs, state_value = model(state)
    m = Categorical(probs)
    if action is None:
        action = m.sample()
    else:
        action = torch.tensor(action)
    model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
    return action.item()


def finish_episode(model, optimizer):
    R = 0
    saved_actions = model.saved_actions
    policy_losses = []
    value_losses = []
    returns = []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for (log_prob, value), R in zip(saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
    loss.backward()
    optimizer.step()
    del model.rewards[:]
    del model.saved_actions[:]
    return loss.item()


def actor_critic(episodes, seed=543):
    env = CartPole(seed)
    torch.manual_seed(seed)
    model = ActorCritic()
    optimizer = optim.Adam(model.parameters(), lr=3e-2)
    running_reward = 10
    history = []
    for i_episode in count(1):
        state = env.reset()
        ep_reward = 0
        for t in range(1, 10000):
            action = select_action(model, state)
            state, reward, done, _ = env.step(action)
            model.rewards.append(reward)
            ep_reward += reward
            if done:
                break
        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        history.append(ep_reward)
        finish_episode(model, optimizer)
        if i_episode == episodes:
            break
    return running_reward, history


# One fixed episode replayed: fixed weights, actions from NumPy, the same loss and update in both libraries.
rng = np.random.default_rng(0)
model = ActorCritic()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy((0.1 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
optimizer = optim.Adam(model.parameters(), lr=3e-2)
env = CartPole(0)
state, actions, probs_seen = env.reset(), [], []
for t in range(200):
    action = int(rng.integers(0, 2))
    actions.append(select_action(model, state, action))
    probs_seen.append(model(torch.from_numpy(state).float())[0][1].item())
    state, reward, done, _ = env.step(action)
    model.rewards.append(reward)
    if done:
        break
replay_steps = len(actions)
m = Categorical(torch.tensor([[0.2, 0.8], [0.5, 0.5]]))
entropy = m.entropy().tolist()
replay_loss = finish_episode(model, optimizer)
replay_weight = model.action_head.weight.sum().item()

reinforce_running, reinforce_history = reinforce(60)
ac_running, ac_history = actor_critic(60)
print("RESULT", json.dumps({
    "replay_steps": replay_steps, "replay_probs": probs_seen, "replay_loss": replay_loss,
    "replay_weight": replay_weight, "entropy": entropy,
    "reinforce_running": reinforce_running, "reinforce_first": float(np.mean(reinforce_history[:20])),
    "reinforce_last": float(np.mean(reinforce_history[-20:])),
    "ac_running": ac_running, "ac_first": float(np.mean(ac_history[:20])),
    "ac_last": float(np.mean(ac_history[-20:]))}))
