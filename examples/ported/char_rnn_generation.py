"""Port of "NLP From Scratch: Generating Names with a Character-Level RNN": a hand-written RNN cell taking
a one-hot category with each letter (``torch.cat((category, input, hidden), 1)``, i2h/i2o/o2o, Dropout,
LogSoftmax), targets shifted by one letter with an EOS index (``torch.LongTensor``, ``unsqueeze_(-1)``),
the loss summed into ``torch.Tensor([0])`` with ``+=``, manual SGD through ``p.data.add_(p.grad.data,
alpha=-learning_rate)``, and sampling with ``output.topk(1)`` indexing ``all_letters`` by a tensor.

Made-up "languages" (names from distinct syllable sets, drawn with Python's ``random``: the same in both
libraries) replace the names download; fixed NumPy weights, and the net kept in eval mode (no dropout), so
training and sampling are deterministic in both libraries.
"""
import json
import os
import random
import string

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
else:
    import dendrite as torch
    import dendrite.nn as nn

all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1  # Plus EOS marker

random.seed(0)
syllables = {"Elvish": ["ael", "ith", "wen", "dor", "ria"], "Dwarvish": ["grim", "bur", "dak", "thor", "in"],
             "Orcish": ["gash", "ugg", "rok", "zug", "mak"]}
category_lines = {category: ["".join(random.choice(parts) for _ in range(random.randint(2, 3))).capitalize()
                             for _ in range(30)] for category, parts in syllables.items()}
all_categories = list(category_lines)
n_categories = len(all_categories)


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size

        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.1)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


# Random item from a list
def randomChoice(l):
    return l[random.randint(0, len(l) - 1)]


# Get a random category and random line from that category
def randomTrainingPair():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    return category, line


# One-hot vector for category
def categoryTensor(category):
    li = all_categories.index(category)
    tensor = torch.zeros(1, n_categories)
    tensor[0][li] = 1
    return tensor


# One-hot matrix of first to last letters (not including EOS) for input
def inputTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


# ``LongTensor`` of second letter to end (EOS) for target
def targetTensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1)  # EOS
    return torch.LongTensor(letter_indexes)


# Make category, input, and target tensors from a random category, line pair
def randomTrainingExample():
    category, line = randomTrainingPair()
    category_tensor = categoryTensor(category)
    input_line_tensor = inputTensor(line)
    target_line_tensor = targetTensor(line)
    return category_tensor, input_line_tensor, target_line_tensor


criterion = nn.NLLLoss()

learning_rate = 0.005


def train(category_tensor, input_line_tensor, target_line_tensor):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()

    rnn.zero_grad()

    loss = torch.Tensor([0])  # you can also just simply use ``loss = 0``

    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        l = criterion(output, target_line_tensor[i])
        loss += l

    loss.backward()

    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)

    return output, loss.item() / input_line_tensor.size(0)


rnn = RNN(n_letters, 64, n_letters)
rng = np.random.default_rng(0)
with torch.no_grad():
    for p in rnn.parameters():
        p.copy_(torch.from_numpy((0.1 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
rnn.eval()

n_iters = 1500
print_every = 300
all_losses = []
total_loss = 0  # Reset every ``plot_every`` ``iters``

for iter in range(1, n_iters + 1):
    output, loss = train(*randomTrainingExample())
    total_loss += loss

    if iter % print_every == 0:
        all_losses.append(total_loss / print_every)
        total_loss = 0

max_length = 20


# Sample from a category and starting letter
def sample(category, start_letter='A'):
    with torch.no_grad():  # no need to track history in sampling
        category_tensor = categoryTensor(category)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()

        output_name = start_letter

        for i in range(max_length):
            output, hidden = rnn(category_tensor, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters - 1:
                break
            else:
                letter = all_letters[topi]
                output_name += letter
            input = inputTensor(letter)

        return output_name


# Get multiple samples from one category and multiple starting letters
def samples(category, start_letters='ABC'):
    return [sample(category, start_letter) for start_letter in start_letters]


names = {category: samples(category, "AGZ") for category in all_categories}
known = sum(name in category_lines[c] for c, ns in names.items() for name in ns)
print("RESULT", json.dumps({"losses": all_losses, "names": names, "known": known}))
