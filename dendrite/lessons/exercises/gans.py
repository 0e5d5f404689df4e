"""Checkers for lesson 7, generative adversarial networks.

1. :func:`discriminator_loss`: the discriminator's loss from its logits on real and generated samples,
   ``BCE(D(x), 1) + BCE(D(G(z)), 0)`` averaged over each batch (the GAN lab's loss).
2. :func:`generator_loss`: the non-saturating generator loss ``-mean log sigmoid(D(G(z)))``.
3. :func:`modes_covered`: count the modes of a mixture that generated samples cover (the lab's judge:
   a mode counts when at least 2 % of the samples lie within 3 sigma = 0.3 of its centre).

The learner's functions get NumPy arrays of logits (or points) and return one number.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dendrite.lessons.checking import as_number
from dendrite.lessons.verdict import Verdict, correct, exercise, wrong

__all__ = ["discriminator_loss", "generator_loss", "modes_covered"]

_RADIUS = 0.3  # 3 sigma of the lab's modes (sigma = 0.1)
_MIN_SHARE = 0.02


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _near(got: float, expected: float) -> bool:
    return bool(np.isclose(got, expected, rtol=1e-5, atol=1e-6))


def _logits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return (rng.normal(1.0, 2.0, 16), rng.normal(-1.0, 2.0, 16),  # batches of 16
            rng.normal(0.5, 2.0, 48), rng.normal(-0.5, 2.0, 48))  # and of 48


def _reference_d(real: np.ndarray, fake: np.ndarray) -> float:
    return float(_softplus(-real).mean() + _softplus(fake).mean())


@exercise("Lesson 7, exercise 1: the discriminator's loss")
def discriminator_loss(answer: Callable) -> Verdict:
    """Check ``answer(real_logits, fake_logits)``: D's binary cross-entropy, real labelled 1 and fake 0.

    Example:
        >>> import numpy as np
        >>> def d_loss(real, fake):
        ...     p_real, p_fake = 1 / (1 + np.exp(-real)), 1 / (1 + np.exp(-fake))
        ...     return -np.mean(np.log(p_real)) - np.mean(np.log(1 - p_fake))
        >>> discriminator_loss(d_loss).status
        'correct'
        >>> discriminator_loss(lambda real, fake: np.mean(real) - np.mean(fake)).status
        'wrong'
    """
    real, fake, real48, fake48 = _logits()
    got = as_number(answer(real.copy(), fake.copy()))
    if got is None:
        return wrong("return one number (the loss averaged over the batch), not an array or a tuple")
    expected = _reference_d(real, fake)
    if _near(got, expected):
        got48 = as_number(answer(real48.copy(), fake48.copy()))
        if got48 is not None and _near(got48, _reference_d(real48, fake48)):
            return correct("right: D is a binary classifier, -log D(x) on real samples plus "
                           "-log(1 - D(G(z))) on generated ones. It is lowest when D says 'real' "
                           "to every real point and 'fake' to every generated one.")
        return wrong("right on a batch of 16 but not on a batch of 48: use the mean over each batch, "
                     "so the loss does not depend on the batch size")
    if _near(got, -expected):
        return wrong("your loss has the wrong sign: it is negative, but a cross-entropy is -log p, "
                     "which is never below 0")
    if _near(got, expected / 2):
        return wrong("your loss is half the expected one: this lesson (and the GAN lab) adds the two "
                     "cross-entropies, real and fake, rather than averaging them")
    if _near(got, float(_softplus(real).mean() + _softplus(-fake).mean())):
        return wrong("the labels are swapped: your D is rewarded for calling real samples fake. "
                     "Real samples have label 1 (D(x) should be near 1), generated ones label 0")
    if _near(got, float(_softplus(-real).sum() + _softplus(fake).sum())):
        return wrong("you summed over the batch: take the mean of each term instead")
    if _near(got, float(_softplus(-real).mean())) or _near(got, float(_softplus(fake).mean())):
        return wrong("only one of the two terms is there: D's loss has one term for the real batch and "
                     "one for the generated batch")
    if got < 0:
        return wrong(f"your loss is {got:.4g}, below 0: a cross-entropy -log p is never negative. "
                     "Turn the logits into probabilities with the sigmoid, then take -log")
    return wrong(f"your loss is {got:.4g}, not the expected value on these logits. Turn each logit into a "
                 "probability p = sigmoid(logit); the real batch costs -log p, the generated one "
                 "-log(1 - p); average each over its batch and add the two")


def _reference_g(fake: np.ndarray) -> float:
    return float(_softplus(-fake).mean())


@exercise("Lesson 7, exercise 2: the non-saturating generator loss")
def generator_loss(answer: Callable) -> Verdict:
    """Check ``answer(fake_logits)``: the non-saturating generator loss ``-mean log sigmoid(logit)``.

    Example:
        >>> import numpy as np
        >>> generator_loss(lambda fake: -np.mean(np.log(1 / (1 + np.exp(-fake))))).status
        'correct'
        >>> generator_loss(lambda fake: np.mean(np.log(1 - 1 / (1 + np.exp(-fake))))).status
        'wrong'
    """
    _, fake, _, fake48 = _logits()
    got = as_number(answer(fake.copy()))
    if got is None:
        return wrong("return one number (the loss averaged over the batch), not an array or a tuple")
    expected = _reference_g(fake)
    if _near(got, expected):
        got48 = as_number(answer(fake48.copy()))
        if got48 is not None and _near(got48, _reference_g(fake48)):
            return correct("right: G wants D to call its samples real, so it minimises -log D(G(z)). "
                           "Where D rejects a fake confidently (logit -5) this loss is steep, so G still "
                           "gets a strong gradient; the minimax form is flat there.")
        return wrong("right on a batch of 16 but not on a batch of 48: use the mean over the batch")
    minimax = float(-_softplus(fake).mean())  # mean log(1 - sigmoid(f))
    if _near(got, minimax):
        return wrong("that is the original minimax loss, log(1 - D(G(z))): G minimises what D maximises. "
                     "Its gradient vanishes exactly when D rejects the fakes confidently. The "
                     "non-saturating loss changes what G minimises: it asks D to say 'real'")
    if _near(got, -minimax):
        return wrong("your loss, -log(1 - D(G(z))), is lowest when D calls the fakes fake: it trains G to "
                     "look fake. G's loss should be lowest when D(G(z)) is near 1")
    if _near(got, -expected):
        return wrong("the sign is wrong: your loss is negative, but -log p is never below 0")
    if _near(got, float(_softplus(-fake).sum())):
        return wrong("you summed over the batch: take the mean instead")
    return wrong(f"your loss is {got:.4g}, not the expected value. Turn each logit into p = sigmoid(logit) "
                 "(D's probability 'real'); G's loss is -log p averaged over the batch")


def _reference_modes(samples: np.ndarray, centres: np.ndarray) -> int:
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    near = distances.min(axis=1) < _RADIUS
    counts = np.bincount(distances.argmin(axis=1)[near], minlength=len(centres))
    return int((counts >= _MIN_SHARE * len(samples)).sum())


def _ring(n: int = 8, radius: float = 2.0) -> np.ndarray:
    angles = 2 * np.pi * np.arange(n) / n
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1)


def _mode_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, samples, centres): cases that separate the rule from its usual misreadings."""
    rng = np.random.default_rng(3)
    centres = _ring()

    def around(index: int, count: int, std: float = 0.08) -> np.ndarray:
        return centres[index] + rng.normal(0.0, std, (count, 2))

    collapsed = np.concatenate([around(3, 400), rng.normal(0.0, 0.3, (100, 2))])  # 1 mode + junk at 0
    stray = np.concatenate([around(i, 120) for i in range(5)] + [around(6, 3)])  # mode 6: 3 of 603 (<2%)
    spread = np.concatenate([around(i, 100) for i in range(8)])
    between = np.concatenate([around(0, 200), around(1, 200),
                              (centres[4] + centres[5]) / 2 + rng.normal(0.0, 0.05, (200, 2))])
    return [("collapsed", collapsed, centres), ("stray", stray, centres), ("spread", spread, centres),
            ("between", between, centres), ("grid", np.concatenate([around(2, 50), around(7, 50)]) * 0.5,
                                            centres * 0.5)]


@exercise("Lesson 7, exercise 3: count the modes covered")
def modes_covered(answer: Callable) -> Verdict:
    """Check ``answer(samples, centres)``: how many centres have >= 2 % of the samples within 0.3 of them.

    Example:
        >>> import numpy as np
        >>> def covered(samples, centres):
        ...     d = np.linalg.norm(samples[:, None] - centres[None], axis=2)
        ...     near = (d < 0.3).sum(axis=0)
        ...     return int((near >= 0.02 * len(samples)).sum())
        >>> modes_covered(covered).status
        'correct'
        >>> modes_covered(lambda samples, centres: len(centres)).status
        'wrong'
    """
    for name, samples, centres in _mode_cases():
        raw = answer(samples.copy(), centres.copy())
        got = as_number(raw)
        expected = _reference_modes(samples, centres)
        if got is None or got != int(got):
            if got is not None and 0 < got < 1:
                return wrong(f"you returned {got:g}, a fraction: return how many modes are covered "
                             f"(a whole number from 0 to {len(centres)})")
            return wrong(f"return one whole number (how many modes are covered), got {raw!r}")
        got = int(got)
        if got == expected:
            continue
        if got == len(centres):
            return wrong(f"you count all {got} modes, but some have no samples near them: count only the "
                         "centres with at least 2 % of the samples within 0.3")
        if name == "collapsed":
            return wrong(f"all the samples sit on one mode or at the centre of the ring, far from every "
                         f"mode, yet you count {got}: a sample only counts for a mode when it lies within "
                         f"0.3 of that mode's centre, not merely nearest to it")
        if name == "stray":
            return wrong(f"you count {got} modes where {expected} are covered: one mode has only 3 of the "
                         "603 samples near it. A mode counts only when at least 2 % of all the samples "
                         "lie within 0.3 of it")
        if name == "between":
            return wrong(f"you count {got} modes where {expected} are covered: a third of the samples lie "
                         "half way between two modes, within 0.3 of neither, so they cover nothing")
        return wrong(f"you count {got} modes where {expected} are covered (samples: {len(samples)}, "
                     f"{len(centres)} centres): count the centres with at least 2 % of the samples "
                     "within 0.3 of them")
    return correct("right: this is the GAN lab's judge. A collapsed generator can make very realistic points "
                   "and still cover a single mode: the count, not the look of one sample, shows collapse.")
