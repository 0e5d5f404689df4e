"""Port of "NLP From Scratch: Classifying Names with a Character-Level RNN" (hand-written RNN cell).

Made-up "languages" (each a distinct alphabet subset) replace the names download.
"""
import json
import os
import string

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
else:
    import dendrite as torch
    import dendrite.nn as nn

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = torch.tanh(self.i2h(combined))
        output = self.h2o(hidden)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


rng = np.random.default_rng(0)
alphabets = ["abcdefg", "hijklmn", "opqrstu"]
categories = ["A", "B", "C"]


def sample():
    k = int(rng.integers(0, 3))
    name = "".join(rng.choice(list(alphabets[k]), size=int(rng.integers(3, 7))))
    return k, name.capitalize()


torch.manual_seed(0)
rnn = RNN(n_letters, 32, len(categories))
criterion = nn.NLLLoss()
learning_rate = 0.01


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


for it in range(600):
    k, name = sample()
    train(torch.tensor([k], dtype=torch.long), lineToTensor(name))

correct = 0
with torch.no_grad():
    for _ in range(100):
        k, name = sample()
        line = lineToTensor(name)
        hidden = rnn.initHidden()
        for i in range(line.size()[0]):
            output, hidden = rnn(line[i], hidden)
        top_n, top_i = output.topk(1)
        correct += int(top_i[0].item() == k)
print("RESULT", json.dumps({"accuracy": correct / 100}))
