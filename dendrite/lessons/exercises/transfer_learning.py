"""Checkers for lesson 11, "Transfer learning".

Three exercises on reusing a pretrained network from dendrite's zoo:

1. :func:`head_only` — freeze everything but the head of the pretrained ``digits04-cnn`` and count the
   parameters that are still trained.
2. :func:`new_head` — give the pretrained ``digits-cnn`` a new output layer for any number of classes,
   keeping its pretrained convolutions.
3. :func:`strategy` — for four situations, choose between training a new head on a frozen body,
   fine-tuning everything, or training from scratch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import dendrite
import dendrite.models
from dendrite import nn
from dendrite.lessons.verdict import Verdict, correct, exercise, unanswered, wrong

__all__ = ["head_only", "new_head", "strategy", "SCENARIOS", "CHOICES"]


def _trainable(model: nn.Module) -> tuple[int, int]:
    """(trainable numbers, trainable tensors) of ``model``."""
    params = [p for p in model.parameters() if p.requires_grad]
    return sum(p.numel() for p in params), len(params)


@exercise("Lesson 11, exercise 1: freeze all but the head")
def head_only(answer: Callable[[nn.Module], int]) -> Verdict:
    """Check ``freeze_all_but_head(model) -> int``: it freezes ``model.features``, leaves ``model.classifier``
    trainable, and returns how many numbers (not tensors) are still trainable.

    Example:
        >>> verdict = head_only(lambda model: sum(p.numel() for p in model.parameters()))  # froze nothing
        >>> verdict.status, "still trainable" in verdict.message
        ('wrong', True)
    """
    if not callable(answer):
        return wrong(f"expected a function freeze_all_but_head(model) returning a count, "
                     f"got {type(answer).__name__}")
    model = dendrite.models.pretrained("digits04-cnn")
    total = sum(p.numel() for p in model.parameters())
    count = answer(model)
    still_trained = [name for name, p in model.features.named_parameters() if p.requires_grad]
    if still_trained:
        return wrong(f"{len(still_trained)} tensor(s) of the convolutional body are still trainable "
                     f"(features.{still_trained[0]}, ...): freeze model.features")
    frozen_head = [name for name, p in model.classifier.named_parameters() if not p.requires_grad]
    if frozen_head:
        return wrong(f"the head is frozen too (classifier.{frozen_head[0]} has requires_grad=False): only "
                     "the body should be frozen, or nothing would learn")
    numbers, tensors = _trainable(model)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
        return wrong(f"the freezing is right; your function returned {type(count).__name__}, expected the "
                     "count as an int")
    count = int(count)
    if count == numbers:
        return correct(f"right: {numbers:,} of the {total:,} parameters ({numbers / total:.0%}) are trained. "
                       "The convolutions keep their pretrained values, need no gradient, and the backward "
                       "pass stops at the head: each step is cheaper.")
    if count == total:
        return wrong(f"{count:,} is every parameter of the model, frozen ones included; count only those "
                     "with requires_grad")
    if count == tensors:
        return wrong(f"{count} is the number of trainable tensors; count the numbers in them (p.numel())")
    if count == total - numbers:
        return wrong(f"{count:,} is the number of frozen parameters; the question is how many still train")
    return wrong(f"the freezing is right, but {count:,} is not the number of trainable parameters: add up "
                 "p.numel() over the parameters whose requires_grad is True")


def _arrays(module: nn.Module) -> dict[str, np.ndarray]:
    return {name: np.array(p.detach().numpy(), copy=True) for name, p in module.named_parameters()}


def _one_head(answer: Callable, num_classes: int) -> Verdict | None:
    model = dendrite.models.pretrained("digits-cnn")
    pretrained, before = _arrays(model.features), _arrays(model)
    returned = answer(model, num_classes)
    if returned is None:
        after = _arrays(model)
        if after.keys() == before.keys() and all(np.array_equal(after[k], before[k]) for k in before):
            return unanswered("replace_head returns nothing and leaves the model as it was: write its body "
                              "(and return the model), then run the cell again")
        returned = model  # changed in place and returned nothing: judge the model itself
    if not isinstance(returned, nn.Module):
        return wrong(f"replace_head returned {type(returned).__name__}; expected the model (a nn.Module)")
    images = dendrite.tensor(np.zeros((4, 8, 8), dtype=np.float32))
    returned.eval()
    with dendrite.no_grad():
        shape = tuple(returned(images).shape)
    if shape == (4, 10) and num_classes != 10:
        return wrong(f"asked for {num_classes} classes, the model still returns 10 scores per image. "
                     "Setting .out_features on a Linear does not resize its weight matrix: put a new "
                     "layer in place of the last one")
    if shape != (4, num_classes):
        return wrong(f"asked for {num_classes} classes, the model returns shape {shape} for 4 images; "
                     f"expected (4, {num_classes}): use the num_classes argument")
    features = getattr(returned, "features", None)
    if not isinstance(features, nn.Module):
        return wrong("the returned model has no .features any more: keep the pretrained body and change "
                     "only the head")
    now = _arrays(features)
    changed = [name for name, array in pretrained.items()
               if name not in now or now[name].shape != array.shape or not np.array_equal(now[name], array)]
    if changed:
        return wrong(f"the convolutions are not the pretrained ones any more (features.{changed[0]} "
                     "changed): a new LeNet starts from random weights. Keep model.features and replace "
                     "only the last layer")
    last = [p for p in returned.parameters()][-1]
    if not last.requires_grad:
        return wrong("the new output layer is frozen (requires_grad=False): it must be trained")
    return None


@exercise("Lesson 11, exercise 2: a new head for a new number of classes", none_is_answer=True)
def new_head(answer: Callable[[nn.Module, int], nn.Module]) -> Verdict:
    """Check ``replace_head(model, num_classes)``: the pretrained ``digits-cnn`` with a new last layer.

    Tried with 3 and 7 classes: the output must have ``num_classes`` columns, the pretrained convolutions
    (``model.features``) must be unchanged and the new layer trainable.

    Example:
        >>> verdict = new_head(lambda model, num_classes: model)  # the old head, 10 outputs
        >>> verdict.status, "still returns 10 scores" in verdict.message
        ('wrong', True)
    """
    if answer is None:
        return unanswered()
    if not callable(answer):
        return wrong(f"expected a function replace_head(model, num_classes), got {type(answer).__name__}")
    saved = dendrite.get_rng_state()
    try:
        for num_classes in (3, 7):
            verdict = _one_head(answer, num_classes)
            if verdict is not None:
                return verdict
    finally:
        dendrite.set_rng_state(saved)
    return correct("right: the pretrained convolutions are kept and a freshly initialised layer gives one "
                   "score per new class. Only this layer starts from nothing, so it is the one that needs "
                   "the most training (and the larger learning rate).")


CHOICES = ("head", "finetune", "scratch")
_SYNONYMS = {
    "head": "head", "frozen": "head", "freeze": "head", "new-head": "head", "linear-probe": "head",
    "finetune": "finetune", "fine-tune": "finetune", "fine-tuning": "finetune", "finetuning": "finetune",
    "scratch": "scratch", "from-scratch": "scratch", "random": "scratch",
}
# situation -> (the answer, a hint that does not give it away)
SCENARIOS: dict[str, str] = {
    "a": "300 labelled photos of 6 kinds of birds; a ResNet-18 pretrained on 1.2 million everyday photos "
         "(many of them birds) is available",
    "b": "200,000 labelled photos of 6 kinds of birds; the same pretrained ResNet-18 is available",
    "c": "the 8x8 digits 5-9 from 10 images per class; the LeNet pretrained on 720 images of the digits "
         "0-4 is available; training takes seconds and you want the best test accuracy",
    "d": "5,000 labelled one-dimensional heartbeat recordings (ECG); the only pretrained network is the "
         "ResNet-18 trained on photos",
}
_ANSWERS = {"a": "head", "b": "finetune", "c": "scratch", "d": "scratch"}
_HINTS = {
    "a": "few labels, and pretraining data that is huge and close to the task: what is the risk of "
         "training millions of weights on 300 photos?",
    "b": "with this many labels, overfitting the body is no longer the risk, and the pretrained weights "
         "are still a better start than random ones",
    "c": "look at the table you measured in this lesson: which variant was most accurate?",
    "d": "can convolutions made for 224x224 colour photos even read a 1-D signal?",
}


def _choice(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return _SYNONYMS.get(value.strip().lower().replace("_", "-").replace(" ", "-"))


@exercise("Lesson 11, exercise 3: frozen, fine-tuned or from scratch?")
def strategy(answer: dict[str, str]) -> Verdict:
    """Check a dict mapping each situation of :data:`SCENARIOS` (``"a"``..``"d"``) to one of :data:`CHOICES`.

    ``"head"``: freeze the pretrained body and train a new head; ``"finetune"``: train every layer, the
    body with a smaller learning rate; ``"scratch"``: start from random weights.

    Example:
        >>> strategy(dict.fromkeys(SCENARIOS, "finetune")).status  # one choice cannot fit every situation
        'wrong'
        >>> strategy(dict.fromkeys(SCENARIOS, ...)).status
        'unanswered'
    """
    if not isinstance(answer, dict):
        return wrong(f"expected a dict such as {{'a': 'head', ...}}, one entry per situation; "
                     f"got {type(answer).__name__}")
    missing = [key for key in SCENARIOS if key not in answer or answer[key] is ...]
    if len(missing) == len(SCENARIOS):
        return unanswered("replace each ... with 'head', 'finetune' or 'scratch', then run the cell again")
    if missing:
        return wrong(f"situation(s) {', '.join(missing)} have no answer yet; give one of "
                     f"{', '.join(CHOICES)} for each")
    unknown = [key for key in SCENARIOS if _choice(answer[key]) is None]
    if unknown:
        key = unknown[0]
        return wrong(f"situation {key}: {answer[key]!r} is not one of {', '.join(CHOICES)}")
    mistakes = [key for key in SCENARIOS if _choice(answer[key]) != _ANSWERS[key]]
    if mistakes:
        hints = " ".join(f"({key}) {_HINTS[key]}." for key in mistakes)
        return wrong(f"{len(SCENARIOS) - len(mistakes)} of {len(SCENARIOS)} right. Think again about "
                     f"{', '.join(mistakes)}: {hints}")
    return correct("all four right. Transfer pays when the pretraining data is much larger than yours and "
                   "close to it: freeze when your labels are few, fine-tune when they are many. When the "
                   "pretraining was small or of another kind of input, start from scratch, and measure.")
