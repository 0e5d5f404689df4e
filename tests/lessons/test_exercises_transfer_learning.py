"""The checkers of lesson 11 (transfer learning): reference answers pass, typical wrong answers fail with
a message that says what is wrong, placeholders are unanswered, learner code that raises is wrong."""

from __future__ import annotations

import numpy as np

import dendrite
import dendrite.models
from dendrite import nn
from dendrite.lessons.exercises import transfer_learning as check


def _trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# exercise 1: freeze all but the head

def _freeze_body(model):
    dendrite.freeze(model.features)
    return _trainable(model)


def test_head_only_accepts_the_reference_and_an_equivalent_answer():
    assert check.head_only(_freeze_body).status == "correct"

    def by_hand(model):
        for p in model.features.parameters():
            p.requires_grad_(False)
        return int(np.sum([p.numel() for p in model.classifier.parameters()]))

    assert check.head_only(by_hand).status == "correct"


def test_head_only_rejects_wrong_freezing():
    verdict = check.head_only(lambda model: _trainable(model))  # froze nothing
    assert verdict.status == "wrong" and "body are still trainable" in verdict.message
    verdict = check.head_only(lambda model: _trainable(dendrite.freeze(model)))  # froze everything
    assert verdict.status == "wrong" and "head is frozen too" in verdict.message

    def only_last_layer_trained(model):
        dendrite.freeze(model)
        dendrite.unfreeze(model.classifier[4])
        return _trainable(model)

    verdict = check.head_only(only_last_layer_trained)
    assert verdict.status == "wrong" and "classifier.1.weight" in verdict.message


def test_head_only_rejects_wrong_counts_with_what_was_counted():
    def freeze_then(count):
        def answer(model):
            dendrite.freeze(model.features)
            return count(model)
        return answer

    verdict = check.head_only(freeze_then(lambda m: sum(p.numel() for p in m.parameters())))
    assert verdict.status == "wrong" and "frozen ones included" in verdict.message
    verdict = check.head_only(freeze_then(lambda m: len([p for p in m.parameters() if p.requires_grad])))
    assert verdict.status == "wrong" and "tensors" in verdict.message and "numel" in verdict.message
    verdict = check.head_only(freeze_then(lambda m: sum(p.numel() for p in m.features.parameters())))
    assert verdict.status == "wrong" and "frozen parameters" in verdict.message
    verdict = check.head_only(freeze_then(lambda m: 12345))
    assert verdict.status == "wrong" and "12,345" in verdict.message
    verdict = check.head_only(freeze_then(lambda m: "33541"))
    assert verdict.status == "wrong" and "returned str" in verdict.message
    assert "33,541" not in check.head_only(freeze_then(lambda m: 1)).message  # the answer is not given


def test_head_only_placeholder_and_raising_code():
    assert check.head_only(...).status == "unanswered"
    assert check.head_only(lambda model: ...).status == "unanswered"
    verdict = check.head_only(lambda model: model.head.parameters())  # LeNet has no .head
    assert verdict.status == "wrong" and "AttributeError" in verdict.message
    verdict = check.head_only(33541)
    assert verdict.status == "wrong" and "expected a function" in verdict.message


# exercise 2: a new head

def _replace_last(model, num_classes):
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


def test_new_head_accepts_a_new_last_layer_a_new_classifier_and_an_in_place_change():
    assert check.new_head(_replace_last).status == "correct"

    def whole_classifier(model, num_classes):
        model.classifier = dendrite.models.LeNet((8, 8), num_classes).classifier
        return model

    assert check.new_head(whole_classifier).status == "correct"

    def in_place(model, num_classes):
        model.classifier[4] = nn.Linear(128, num_classes)  # forgot to return: still judged

    assert check.new_head(in_place).status == "correct"


def test_new_head_rejects_the_typical_mistakes():
    def set_out_features(model, num_classes):
        model.classifier[-1].out_features = num_classes
        return model

    verdict = check.new_head(set_out_features)
    assert verdict.status == "wrong" and "still returns 10 scores" in verdict.message
    verdict = check.new_head(lambda model, num_classes: _replace_last(model, 5))  # hard-coded
    assert verdict.status == "wrong" and "(4, 5)" in verdict.message and "num_classes" in verdict.message
    verdict = check.new_head(lambda model, num_classes: dendrite.models.LeNet((8, 8), num_classes))
    assert verdict.status == "wrong" and "not the pretrained ones" in verdict.message

    def frozen_head(model, num_classes):
        return dendrite.freeze(_replace_last(model, num_classes))

    verdict = check.new_head(frozen_head)
    assert verdict.status == "wrong" and "frozen" in verdict.message

    def drops_features(model, num_classes):
        return nn.Sequential(nn.Flatten(), nn.Linear(64, num_classes))

    verdict = check.new_head(drops_features)
    assert verdict.status == "wrong" and ".features" in verdict.message
    verdict = check.new_head(lambda model, num_classes: model.state_dict())
    assert verdict.status == "wrong" and "expected the model" in verdict.message


def test_new_head_placeholder_raising_code_and_rng_kept():
    assert check.new_head(...).status == "unanswered"
    assert check.new_head(None).status == "unanswered"
    assert check.new_head(lambda model, num_classes: None).status == "unanswered"
    verdict = check.new_head(lambda model, num_classes: _replace_last(model.fc, num_classes))
    assert verdict.status == "wrong" and "AttributeError" in verdict.message
    dendrite.manual_seed(5)
    expected = dendrite.rand(2).numpy()
    dendrite.manual_seed(5)
    check.new_head(_replace_last)
    assert np.array_equal(dendrite.rand(2).numpy(), expected)


# exercise 3: frozen, fine-tuned or from scratch

REFERENCE = {"a": "head", "b": "finetune", "c": "scratch", "d": "scratch"}


def test_strategy_accepts_the_reference_and_synonyms():
    assert check.strategy(REFERENCE).status == "correct"
    assert check.strategy({"a": "Frozen", "b": "fine-tune", "c": "from scratch", "d": "scratch"}).status \
        == "correct"


def test_strategy_rejects_typical_mistakes_with_hints_not_answers():
    verdict = check.strategy({**REFERENCE, "c": "finetune"})  # "pretrained always helps"
    assert verdict.status == "wrong" and "3 of 4" in verdict.message
    assert "table you measured" in verdict.message
    verdict = check.strategy({**REFERENCE, "a": "finetune"})
    assert verdict.status == "wrong" and "300 photos" in verdict.message
    verdict = check.strategy({**REFERENCE, "b": "head", "d": "head"})
    assert verdict.status == "wrong" and "2 of 4" in verdict.message and "1-D signal" in verdict.message
    for message in (check.strategy({key: "finetune" for key in REFERENCE}).message,):
        assert "'scratch'" not in message and "'head'" not in message


def test_strategy_rejects_incomplete_or_malformed_answers():
    verdict = check.strategy({**REFERENCE, "d": ...})
    assert verdict.status == "wrong" and "d have no answer" in verdict.message
    verdict = check.strategy({**REFERENCE, "b": "transfer"})
    assert verdict.status == "wrong" and "'transfer' is not one of" in verdict.message
    verdict = check.strategy(["head", "finetune", "scratch", "scratch"])
    assert verdict.status == "wrong" and "expected a dict" in verdict.message


def test_strategy_placeholder():
    assert check.strategy(...).status == "unanswered"
    assert check.strategy({key: ... for key in REFERENCE}).status == "unanswered"
