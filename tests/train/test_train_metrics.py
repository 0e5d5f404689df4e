"""Metric functions against scikit-learn / hand-computed values; streaming metrics equal the one-shot ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dendrite.train import metrics as M
from dendrite.train import running_metrics as S

sklearn_metrics = pytest.importorskip("sklearn.metrics")

rng = np.random.default_rng(1234)


def _labels_and_scores(n=200, classes=4, seed=0):
    generator = np.random.default_rng(seed)
    labels = generator.integers(0, classes, n)
    scores = generator.normal(size=(n, classes))
    scores[np.arange(n), labels] += 1.0  # better than chance, not perfect
    return labels, scores


def test_accuracy_from_labels_scores_and_binary_probabilities():
    labels, scores = _labels_and_scores()
    expected = sklearn_metrics.accuracy_score(labels, scores.argmax(1))
    assert M.accuracy(labels, scores) == pytest.approx(expected, abs=1e-12)
    assert M.accuracy(labels, scores.argmax(1)) == pytest.approx(expected, abs=1e-12)
    binary = (labels % 2).astype(np.float32)
    probabilities = rng.random(len(labels))
    expected_binary = sklearn_metrics.accuracy_score(binary, probabilities > 0.5)
    assert M.accuracy(binary, probabilities) == pytest.approx(expected_binary, abs=1e-12)
    assert M.accuracy(binary, probabilities[:, None]) == pytest.approx(expected_binary, abs=1e-12)
    logits = probabilities - 0.5
    assert M.accuracy(binary, logits, threshold=0.0) == pytest.approx(expected_binary, abs=1e-12)


def test_accuracy_class_axis_pytorch_layout_and_last_axis_layout():
    generator = np.random.default_rng(3)
    labels = generator.integers(0, 5, size=(6, 7))  # (N, T)
    scores_last = generator.normal(size=(6, 7, 5))  # (N, T, C)
    expected = np.mean(scores_last.argmax(-1) == labels)
    assert M.accuracy(labels, scores_last) == pytest.approx(expected)
    scores_torch = scores_last.transpose(0, 2, 1)  # (N, C, T): CrossEntropyLoss's layout
    assert M.accuracy(labels, scores_torch) == pytest.approx(expected)


def test_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"do not match"):
        M.accuracy([0, 1, 1], np.zeros((4, 3)))
    with pytest.raises(ValueError, match="whole numbers"):
        M.accuracy(np.array([0.5, 1.0]), np.array([0.2, 0.9]))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_sklearn(k):
    labels, scores = _labels_and_scores(classes=5, seed=k)
    expected = sklearn_metrics.top_k_accuracy_score(labels, scores, k=k, labels=np.arange(5))
    assert M.top_k_accuracy(labels, scores, k=k) == pytest.approx(expected, abs=1e-12)


def test_confusion_matrix_matches_sklearn():
    labels, scores = _labels_and_scores(classes=4, seed=5)
    predicted = scores.argmax(1)
    expected = sklearn_metrics.confusion_matrix(labels, predicted, labels=np.arange(4))
    np.testing.assert_array_equal(M.confusion_matrix(labels, predicted), expected)
    np.testing.assert_array_equal(M.confusion_matrix(labels, scores), expected)
    bigger = M.confusion_matrix(labels, predicted, num_classes=6)
    assert bigger.shape == (6, 6) and bigger[:4, :4].tolist() == expected.tolist() and bigger[4:].sum() == 0
    with pytest.raises(ValueError, match="num_classes=2"):
        M.confusion_matrix(labels, predicted, num_classes=2)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_precision_recall_f1_match_sklearn(average):
    labels, scores = _labels_and_scores(classes=5, seed=7)
    predicted = scores.argmax(1)
    predicted[predicted == 4] = 3  # class 4 is never predicted: zero_division paths matter
    for ours, theirs in ((M.precision, sklearn_metrics.precision_score),
                         (M.recall, sklearn_metrics.recall_score), (M.f1_score, sklearn_metrics.f1_score)):
        expected = theirs(labels, predicted, average=average, zero_division=0)
        assert ours(labels, predicted, average=average) == pytest.approx(expected, abs=1e-12), ours.__name__


def test_per_class_scores_match_sklearn():
    labels, scores = _labels_and_scores(classes=3, seed=8)
    expected = sklearn_metrics.f1_score(labels, scores.argmax(1), average=None, zero_division=0)
    np.testing.assert_allclose(M.f1_score(labels, scores, average=None), expected, atol=1e-12)


def test_regression_metrics_match_sklearn():
    target = rng.normal(size=(50, 3))
    prediction = target + rng.normal(scale=0.3, size=(50, 3))
    assert M.mse(target, prediction) == pytest.approx(sklearn_metrics.mean_squared_error(target, prediction))
    assert M.mae(target, prediction) == pytest.approx(sklearn_metrics.mean_absolute_error(target, prediction))
    assert M.r2_score(target, prediction) == pytest.approx(sklearn_metrics.r2_score(target, prediction))
    assert M.r2_score(target[:, 0], prediction[:, 0]) == pytest.approx(
        sklearn_metrics.r2_score(target[:, 0], prediction[:, 0]))
    # (N, 1) predictions for (N,) targets are accepted.
    assert M.mse(target[:, 0], prediction[:, :1]) == pytest.approx(
        sklearn_metrics.mean_squared_error(target[:, 0], prediction[:, 0]))


def test_r2_constant_target_follows_sklearn():
    constant = np.full(10, 2.0)
    assert M.r2_score(constant, constant) == sklearn_metrics.r2_score(constant, constant) == 1.0
    assert M.r2_score(constant, constant + 0.1) == sklearn_metrics.r2_score(constant, constant + 0.1) == 0.0


def test_bits_per_character_and_perplexity_hand_values():
    assert M.bits_per_character(math.log(2)) == pytest.approx(1.0)
    assert M.bits_per_character(2 * math.log(2)) == pytest.approx(2.0)
    assert M.perplexity(0.0) == 1.0
    assert M.perplexity(math.log(27)) == pytest.approx(27.0)
    assert M.perplexity(1e6) == math.inf


def test_metrics_accept_tensors():
    import dendrite

    scores = dendrite.tensor([[0.1, 0.9], [0.8, 0.2]], requires_grad=True)
    assert M.accuracy(dendrite.tensor([1, 1]), scores) == 0.5


# ----------------------------------------------------------------------------- streaming
def _batches(arrays, sizes):
    start = 0
    for size in sizes:
        yield tuple(array[start:start + size] for array in arrays)
        start += size


@pytest.mark.parametrize("name", ["accuracy", "top2_accuracy", "precision", "recall", "f1"])
def test_streaming_classification_equals_one_shot(name):
    labels, scores = _labels_and_scores(n=103, classes=4, seed=11)
    metric = S.get_metric(name)
    for batch_labels, batch_scores in _batches((labels, scores), [10, 40, 3, 50]):
        metric.update(batch_labels, batch_scores)
    one_shot = {
        "accuracy": lambda: M.accuracy(labels, scores),
        "top2_accuracy": lambda: M.top_k_accuracy(labels, scores, 2),
        "precision": lambda: M.precision(labels, scores.argmax(1)),
        "recall": lambda: M.recall(labels, scores.argmax(1)),
        "f1": lambda: M.f1_score(labels, scores.argmax(1)),
    }[name]()
    assert metric.compute() == pytest.approx(one_shot, abs=1e-12)
    metric.reset()
    with pytest.raises(ValueError, match="no samples"):
        metric.compute()


def test_streaming_confusion_grows_when_late_batches_bring_new_classes():
    metric = S.F1Score()
    metric.update([0, 0, 1], [0, 1, 1])
    metric.update([3, 2], [3, 0])
    labels, predicted = [0, 0, 1, 3, 2], [0, 1, 1, 3, 0]
    assert metric.compute() == pytest.approx(sklearn_metrics.f1_score(labels, predicted, average="macro"))


@pytest.mark.parametrize("name", ["mse", "mae", "r2"])
def test_streaming_regression_equals_one_shot(name):
    target = rng.normal(loc=5.0, size=(64, 2))
    prediction = target + rng.normal(scale=0.5, size=(64, 2))
    metric = S.get_metric(name)
    for batch in _batches((target, prediction), [16, 16, 30, 2]):
        metric.update(*batch)
    function = {"mse": M.mse, "mae": M.mae, "r2": M.r2_score}[name]
    assert metric.compute() == pytest.approx(function(target, prediction), rel=1e-9)


def test_streaming_perplexity_and_bpc_match_torch_cross_entropy():
    torch = pytest.importorskip("torch")
    generator = np.random.default_rng(2)
    logits = generator.normal(size=(4, 6, 9))  # (N, C, T)
    labels = generator.integers(0, 6, size=(4, 9))
    mean_ce = float(torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels)))
    perplexity, bpc = S.Perplexity(), S.BitsPerCharacter()
    for metric in (perplexity, bpc):
        metric.update(labels[:1], logits[:1])
        metric.update(labels[1:], logits[1:])
    assert perplexity.compute() == pytest.approx(math.exp(mean_ce), rel=1e-10)
    assert bpc.compute() == pytest.approx(mean_ce / math.log(2), rel=1e-10)


def test_mean_metric_weights_batches_by_size():
    metric = S.get_metric(lambda y_true, y_pred: float(np.mean(np.asarray(y_true) == np.asarray(y_pred))))
    metric.update([1, 1], [1, 1])  # 1.0 on 2 samples
    metric.update([0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1])  # 0.0 on 6 samples
    assert metric.compute() == pytest.approx(0.25)


def test_get_metric_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        S.get_metric("acuracy")
