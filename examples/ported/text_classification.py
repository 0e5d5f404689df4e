"""Port of "Text classification with the torchtext library": nn.EmbeddingBag(mode mean) fed flat token ids
plus offsets built in a collate_fn with torch.cumsum, init_weights with uniform_, SGD + StepLR(1.0,
gamma=0.1), clip_grad_norm_(0.1), random_split, and prediction on a new text.

A toy vocabulary and four synthetic "news" topics replace AG_NEWS and torchtext's tokenizer/vocab.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    from torch import nn
    from torch.utils.data import DataLoader
    from torch.utils.data.dataset import random_split
else:
    import dendrite as torch
    from dendrite import nn
    from dendrite.utils.data import DataLoader
    from dendrite.utils.data.dataset import random_split

rng = np.random.default_rng(0)
topic_words = [["game", "team", "score", "win", "coach", "league"],
               ["market", "stock", "bank", "price", "trade", "profit"],
               ["nasa", "space", "chip", "software", "robot", "science"],
               ["election", "minister", "war", "treaty", "vote", "border"]]
common = ["the", "a", "of", "in", "on", "today", "new", "says"]
vocab_list = ["<unk>"] + common + [w for ws in topic_words for w in ws]
vocab_index = {w: i for i, w in enumerate(vocab_list)}


def vocab(tokens):
    return [vocab_index.get(t, 0) for t in tokens]


def tokenizer(text):
    return text.lower().split()


def make_item():
    label = int(rng.integers(1, 5))
    n = int(rng.integers(4, 12))
    words = [str(rng.choice(topic_words[label - 1])) if rng.random() < 0.5 else str(rng.choice(common))
             for _ in range(n)]
    return label, " ".join(words)


train_iter = [make_item() for _ in range(800)]
test_iter = [make_item() for _ in range(200)]

text_pipeline = lambda x: vocab(tokenizer(x))  # noqa: E731
label_pipeline = lambda x: int(x) - 1  # noqa: E731
device = torch.device("cpu")


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(label_pipeline(_label))
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text_list = torch.cat(text_list)
    return label_list.to(device), text_list.to(device), offsets.to(device)


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


torch.manual_seed(0)
num_class = len(set([label for (label, text) in train_iter]))
vocab_size = len(vocab_list)
emsize = 16
model = TextClassificationModel(vocab_size, emsize, num_class).to(device)

# A fixed bag-of-embeddings check: offsets, mode='mean' and the gradient of EmbeddingBag.
bag = nn.EmbeddingBag(5, 2, mode='mean')
with torch.no_grad():
    bag.weight.copy_(torch.arange(10, dtype=torch.float32).view(5, 2))
bag_out = bag(torch.tensor([0, 1, 2, 4, 4, 3]), torch.tensor([0, 2]))
bag_out.sum().backward()
bag_check = {"out": bag_out.tolist(), "grad": bag.weight.grad.tolist()}
bag_sum = nn.EmbeddingBag(5, 2, mode='sum')
with torch.no_grad():
    bag_sum.weight.copy_(torch.arange(10, dtype=torch.float32).view(5, 2))
bag_check["sum_2d"] = bag_sum(torch.tensor([[0, 1], [3, 4]])).tolist()


def train(dataloader):
    model.train()
    for idx, (label, text, offsets) in enumerate(dataloader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()


def evaluate(dataloader):
    model.eval()
    total_acc, total_count = 0, 0
    with torch.no_grad():
        for idx, (label, text, offsets) in enumerate(dataloader):
            predicted_label = model(text, offsets)
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
    return total_acc / total_count


EPOCHS = 6
LR = 5
BATCH_SIZE = 16

criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=LR)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
total_accu = None
train_dataset = list(train_iter)
test_dataset = list(test_iter)
num_train = int(len(train_dataset) * 0.95)
split_train_, split_valid_ = random_split(train_dataset, [num_train, len(train_dataset) - num_train])

train_dataloader = DataLoader(split_train_, batch_size=BATCH_SIZE, shuffle=True, collate_fn=collate_batch)
valid_dataloader = DataLoader(split_valid_, batch_size=BATCH_SIZE, shuffle=True, collate_fn=collate_batch)
test_dataloader = DataLoader(test_dataset, batch_size=BATCH_SIZE, shuffle=True, collate_fn=collate_batch)

for epoch in range(1, EPOCHS + 1):
    train(train_dataloader)
    accu_val = evaluate(valid_dataloader)
    if total_accu is not None and total_accu > accu_val:
        scheduler.step()
    else:
        total_accu = accu_val

accu_test = evaluate(test_dataloader)


def predict(text, text_pipeline):
    with torch.no_grad():
        text = torch.tensor(text_pipeline(text))
        output = model(text, torch.tensor([0]))
        return output.argmax(1).item() + 1


ex_text_str = "the team win the game today in the league"
print("RESULT", json.dumps({"split": [len(split_train_), len(split_valid_)], "test_accuracy": accu_test,
                            "predicted": predict(ex_text_str, text_pipeline), "bag": bag_check}))
