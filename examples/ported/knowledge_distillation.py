"""Port of the "Knowledge Distillation Tutorial": a deep teacher and a light student CNN, distillation with
soft targets (``softmax(teacher / T)``, ``log_softmax(student / T)``, the KL sum scaled by T^2) plus
cross-entropy, the cosine hidden-representation variant (``F.avg_pool1d`` on the flattened features,
``nn.CosineEmbeddingLoss`` with ``torch.ones`` targets, ``load_state_dict`` between the plain and the
modified classes), the regressor variant (a Conv2d regressor and MSELoss on feature maps), and the
parameter counts.

Channels are shrunk (teacher 32/16/16/8, student 8/8) and 64 generated 32x32 images stand in for CIFAR-10.
Fixed NumPy weights; the one-batch losses are computed in eval mode (deterministic in both libraries), the
training in train mode (dropout: only its progress compares).
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.optim as optim
    from torch.utils.data import DataLoader, TensorDataset
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.optim as optim
    from dendrite.utils.data import DataLoader, TensorDataset

device = "cpu"
rng = np.random.default_rng(0)


class DeepNN(nn.Module):
    def __init__(self, num_classes=10):
        super(DeepNN, self).__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(16, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(512, 64),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(64, num_classes)
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


class LightNN(nn.Module):
    def __init__(self, num_classes=10):
        super(LightNN, self).__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(8, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(512, 32),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(32, num_classes)
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


class ModifiedDeepNNCosine(DeepNN):
    def forward(self, x):
        x = self.features(x)
        flattened_conv_output = torch.flatten(x, 1)
        x = self.classifier(flattened_conv_output)
        flattened_conv_output_after_pooling = torch.nn.functional.avg_pool1d(flattened_conv_output, 2)
        return x, flattened_conv_output_after_pooling


class ModifiedLightNNCosine(LightNN):
    def forward(self, x):
        x = self.features(x)
        flattened_conv_output = torch.flatten(x, 1)
        x = self.classifier(flattened_conv_output)
        return x, flattened_conv_output[:, :256]


class ModifiedDeepNNRegressor(DeepNN):
    def forward(self, x):
        x = self.features(x)
        conv_feature_map = x
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x, conv_feature_map


class ModifiedLightNNRegressor(LightNN):
    def __init__(self, num_classes=10):
        super(ModifiedLightNNRegressor, self).__init__(num_classes)
        # Include an extra regressor (in our case linear)
        self.regressor = nn.Sequential(
            nn.Conv2d(8, 8, kernel_size=3, padding=1)
        )

    def forward(self, x):
        x = self.features(x)
        regressor_output = self.regressor(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x, regressor_output


def fix(model):
    with torch.no_grad():
        for p in model.parameters():
            fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else 16
            values = rng.standard_normal(tuple(p.shape)) / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(values.astype(np.float32)))
    return model


templates = rng.random((10, 3, 8, 8))
labels = rng.integers(0, 10, 64)
images = np.kron(templates[labels], np.ones((1, 1, 4, 4))) + 0.3 * rng.standard_normal((64, 3, 32, 32))
dataset = TensorDataset(torch.from_numpy(images.astype(np.float32)), torch.from_numpy(labels))
train_loader = DataLoader(dataset, batch_size=16, shuffle=False)
inputs, targets = torch.from_numpy(images[:16].astype(np.float32)), torch.from_numpy(labels[:16])


def train_knowledge_distillation(teacher, student, train_loader, epochs, learning_rate, T,
                                 soft_target_loss_weight, ce_loss_weight, device):
    ce_loss = nn.CrossEntropyLoss()
    optimizer = optim.Adam(student.parameters(), lr=learning_rate)
    teacher.eval()  # Teacher set to evaluation mode
    student.train()  # Student to train mode
    history = []
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            # Forward pass with the teacher model - do not save gradients here as we do not change the
            # teacher's weights
            with torch.no_grad():
                teacher_logits = teacher(inputs)
            # Forward pass with the student model
            student_logits = student(inputs)
            # Soften the student logits by applying softmax first and log() second
            soft_targets = nn.functional.softmax(teacher_logits / T, dim=-1)
            soft_prob = nn.functional.log_softmax(student_logits / T, dim=-1)
            # Calculate the soft targets loss. Scaled by T**2 as suggested by the authors of the paper
            # "Distilling the knowledge in a neural network"
            soft_targets_loss = (torch.sum(soft_targets * (soft_targets.log() - soft_prob))
                                 / soft_prob.size()[0] * (T**2))
            # Calculate the true label loss
            label_loss = ce_loss(student_logits, labels)
            # Weighted sum of the two losses
            loss = soft_target_loss_weight * soft_targets_loss + ce_loss_weight * label_loss
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        history.append(running_loss / len(train_loader))
    return history


def train_cosine_loss(teacher, student, train_loader, epochs, learning_rate, hidden_rep_loss_weight,
                      ce_loss_weight, device):
    ce_loss = nn.CrossEntropyLoss()
    cosine_loss = nn.CosineEmbeddingLoss()
    optimizer = optim.Adam(student.parameters(), lr=learning_rate)
    teacher.to(device)
    student.to(device)
    teacher.eval()  # Teacher set to evaluation mode
    student.train()  # Student to train mode
    history = []
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            # Forward pass with the teacher model and keep only the hidden representation
            with torch.no_grad():
                _, teacher_hidden_representation = teacher(inputs)
            # Forward pass with the student model
            student_logits, student_hidden_representation = student(inputs)
            # Calculate the cosine loss. Target is a vector of ones. From the loss formula above we can see
            # that is the case where loss minimization leads to cosine similarity increase.
            hidden_rep_loss = cosine_loss(student_hidden_representation, teacher_hidden_representation,
                                          target=torch.ones(inputs.size(0)).to(device))
            # Calculate the true label loss
            label_loss = ce_loss(student_logits, labels)
            # Weighted sum of the two losses
            loss = hidden_rep_loss_weight * hidden_rep_loss + ce_loss_weight * label_loss
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        history.append(running_loss / len(train_loader))
    return history


results = {}
torch.manual_seed(42)
nn_deep = fix(DeepNN(num_classes=10).to(device))
nn_light = fix(LightNN(num_classes=10).to(device))
results["params"] = [sum(p.numel() for p in m.parameters()) for m in (nn_deep, nn_light)]
results["norm_first_layer"] = torch.norm(nn_light.features[0].weight).item()

# One batch in eval mode: every loss the tutorial builds, deterministic in both libraries.
nn_deep.eval()
nn_light.eval()
T = 2
with torch.no_grad():
    teacher_logits, student_logits = nn_deep(inputs), nn_light(inputs)
    soft_targets = nn.functional.softmax(teacher_logits / T, dim=-1)
    soft_prob = nn.functional.log_softmax(student_logits / T, dim=-1)
    results["soft_targets_loss"] = (torch.sum(soft_targets * (soft_targets.log() - soft_prob))
                                    / soft_prob.size()[0] * (T**2)).item()
    results["kl_div_batchmean"] = (nn.KLDivLoss(reduction="batchmean")(soft_prob, soft_targets) * T**2).item()
    results["label_loss"] = nn.CrossEntropyLoss()(student_logits, targets).item()

modified_nn_deep = ModifiedDeepNNCosine(num_classes=10).to(device)
modified_nn_deep.load_state_dict(nn_deep.state_dict())
modified_nn_light = ModifiedLightNNCosine(num_classes=10).to(device)
modified_nn_light.load_state_dict(nn_light.state_dict())
modified_nn_deep.eval()
modified_nn_light.eval()
with torch.no_grad():
    _, teacher_hidden = modified_nn_deep(inputs)
    _, student_hidden = modified_nn_light(inputs)
    results["hidden_shapes"] = [list(teacher_hidden.shape), list(student_hidden.shape)]
    results["cosine_loss"] = nn.CosineEmbeddingLoss()(student_hidden, teacher_hidden,
                                                      target=torch.ones(inputs.size(0))).item()

regressor_deep = ModifiedDeepNNRegressor(num_classes=10)
regressor_deep.load_state_dict(nn_deep.state_dict())
regressor_light = fix(ModifiedLightNNRegressor(num_classes=10))
regressor_deep.eval()
regressor_light.eval()
with torch.no_grad():
    _, teacher_map = regressor_deep(inputs)
    _, regressor_map = regressor_light(inputs)
    results["regressor_mse"] = nn.MSELoss()(regressor_map, teacher_map).item()

# Training (train mode, dropout): the distillation losses fall in both libraries.
results["kd_history"] = train_knowledge_distillation(teacher=nn_deep, student=nn_light,
                                                     train_loader=train_loader, epochs=4, learning_rate=0.001,
                                                     T=2, soft_target_loss_weight=0.25, ce_loss_weight=0.75,
                                                     device=device)
results["cosine_history"] = train_cosine_loss(teacher=modified_nn_deep, student=modified_nn_light,
                                              train_loader=train_loader, epochs=4, learning_rate=0.001,
                                              hidden_rep_loss_weight=0.25, ce_loss_weight=0.75, device=device)
print("RESULT", json.dumps(results))
