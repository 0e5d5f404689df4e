"""Lesson 7's checkers: the reference answers pass, the placeholder is unanswered, the usual mistakes
are wrong with a message that names them, and learner code that raises is a wrong verdict."""

from __future__ import annotations

import numpy as np
import pytest

from dendrite.lessons.exercises import gans as check


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def d_loss(real, fake):
    return -np.mean(np.log(sigmoid(real))) - np.mean(np.log(1 - sigmoid(fake)))


def g_loss(fake):
    return -np.mean(np.log(sigmoid(fake)))


def covered(samples, centres):
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    near = (distances < 0.3).sum(axis=0)
    return int((near >= 0.02 * len(samples)).sum())


def test_reference_answers_are_correct():
    assert check.discriminator_loss(d_loss).status == "correct"
    assert check.generator_loss(g_loss).status == "correct"
    assert check.modes_covered(covered).status == "correct"


@pytest.mark.parametrize("checker", [check.discriminator_loss, check.generator_loss, check.modes_covered])
def test_placeholders_are_unanswered(checker):
    assert checker(...).status == "unanswered"
    assert checker(lambda *args: ...).status == "unanswered"


@pytest.mark.parametrize("checker", [check.discriminator_loss, check.generator_loss, check.modes_covered])
def test_learner_code_that_raises_is_wrong(checker):
    def broken(*args):
        raise KeyError("oops")

    verdict = checker(broken)
    assert verdict.status == "wrong" and "KeyError" in verdict.message


@pytest.mark.parametrize("answer, words", [
    (lambda r, f: -d_loss(r, f), "wrong sign"),
    (lambda r, f: d_loss(r, f) / 2, "half"),
    (lambda r, f: d_loss(-r, -f), "labels are swapped"),
    (lambda r, f: -np.sum(np.log(sigmoid(r))) - np.sum(np.log(1 - sigmoid(f))), "summed"),
    (lambda r, f: -np.mean(np.log(sigmoid(r))), "one of the two terms"),
    (lambda r, f: np.mean(1 - sigmoid(r)) + np.mean(sigmoid(f)), "-log(1 - p)"),
    (lambda r, f: np.log(sigmoid(r)) + 0, "one number"),
    (lambda r, f: np.mean(f) - np.mean(r), "below 0"),  # a WGAN critic's loss
])
def test_discriminator_loss_mistakes(answer, words):
    verdict = check.discriminator_loss(answer)
    assert verdict.status == "wrong" and words in verdict.message, verdict.message


def test_discriminator_loss_that_depends_on_the_batch_size_is_wrong():
    verdict = check.discriminator_loss(lambda r, f: d_loss(r, f) if len(r) == 16 else 0.0)
    assert verdict.status == "wrong" and "batch of 48" in verdict.message


@pytest.mark.parametrize("answer, words", [
    (lambda f: np.mean(np.log(1 - sigmoid(f))), "minimax"),
    (lambda f: -np.mean(np.log(1 - sigmoid(f))), "look fake"),
    (lambda f: np.mean(np.log(sigmoid(f))), "sign"),
    (lambda f: -np.sum(np.log(sigmoid(f))), "summed"),
    (lambda f: -np.mean(sigmoid(f)), "-log p"),
    (lambda f: "0.5", "-log p"),
    (lambda f: [1.0, 2.0], "one number"),
])
def test_generator_loss_mistakes(answer, words):
    verdict = check.generator_loss(answer)
    assert verdict.status == "wrong" and words in verdict.message, verdict.message


def nearest_only(samples, centres):  # forgets the 0.3 radius
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    counts = np.bincount(distances.argmin(axis=1), minlength=len(centres))
    return int((counts >= 0.02 * len(samples)).sum())


def any_sample(samples, centres):  # forgets the 2 % share
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    return int(((distances < 0.3).sum(axis=0) > 0).sum())


@pytest.mark.parametrize("answer, words", [
    (nearest_only, "within 0.3"),
    (any_sample, "2 %"),
    (lambda s, c: covered(s, c) / len(c), "a fraction"),
    (lambda s, c: len(c), "all 8 modes"),
    (lambda s, c: "eight", "whole number"),
    (lambda s, c: covered(s, c) + 0.5, "whole number"),
])
def test_modes_covered_mistakes(answer, words):
    verdict = check.modes_covered(answer)
    assert verdict.status == "wrong" and words in verdict.message, verdict.message


def test_checkers_do_not_modify_the_learners_view_of_the_inputs():
    seen = []
    check.generator_loss(lambda f: seen.append(f.copy()) or g_loss(f))
    assert len(seen) == 2 and seen[0].shape == (16,)
