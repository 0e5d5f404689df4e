"""The lessons: one Jupyter notebook per step of the guide's path, in order.

The notebooks live in ``dendrite/lessons/notebooks/`` so that an installed package carries them (the
repository's ``lessons/`` folder is a link to it); their exercise checkers in
:mod:`dendrite.lessons.exercises`. ``dendrite lessons`` lists them, ``dendrite lessons open N`` starts
Jupyter on your own copy, ``dendrite lessons export N DIR`` copies one out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["LESSONS", "NOTEBOOKS", "Lesson", "lesson"]

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


@dataclass(frozen=True)
class Lesson:
    """One lesson: its place on the path, its notebook and what it teaches.

    Example:
        >>> first = LESSONS[0]
        >>> first.number, first.filename
        (1, '01-first-look.ipynb')
        >>> first.path.name == first.filename
        True
    """

    number: int
    slug: str
    title: str
    summary: str

    @property
    def filename(self) -> str:
        """The notebook's file name, ``NN-slug.ipynb``."""
        return f"{self.number:02d}-{self.slug}.ipynb"

    @property
    def path(self) -> Path:
        """Where the packaged notebook is (read-only for the learner: work on a copy)."""
        return NOTEBOOKS / self.filename


LESSONS: tuple[Lesson, ...] = (
    Lesson(1, "first-look", "What deep learning is, and when not to use it",
           "a linear model and a simple baseline against an MLP, on tabular data and on a spiral"),
    Lesson(2, "feedforward", "Feedforward networks",
           "neurons, layers and shapes; a forward pass by hand; an MLP trained on digits"),
    Lesson(3, "backprop", "Backpropagation by hand",
           "a tiny scalar autograd of your own, checked against dendrite's gradients and its backward code"),
    Lesson(4, "convolutional", "Convolutional networks",
           "convolution by hand, filters and feature maps, a small CNN against an MLP"),
    Lesson(5, "recurrent", "Recurrent networks",
           "state over time, the vanishing gradient, LSTM and GRU against a plain RNN"),
    Lesson(6, "autoencoders", "Autoencoders",
           "compression and the latent space, denoising, a variational autoencoder's manifold"),
    Lesson(7, "gans", "Generative adversarial networks",
           "generator against discriminator on 2-D points, mode collapse and its cure (the GAN lab)"),
    Lesson(8, "initialization", "Initialization",
           "why the scale of the first weights decides whether signals survive (the init explorer)"),
    Lesson(9, "optimization", "Optimization",
           "learning rates, momentum, Adam and schedules on loss surfaces (the optimisation explorer)"),
    Lesson(10, "common-issues", "Common issues: why is my network not training?",
           "inject the classic bugs, see their symptoms, read the doctor's diagnosis"),
    Lesson(11, "transfer-learning", "Transfer learning",
           "a pretrained network frozen or fine-tuned, honestly compared with training from scratch"),
)


def lesson(ref: int | str) -> Lesson:
    """The lesson numbered ``ref`` (``3`` or ``"3"`` or ``"03"``) or with slug ``ref`` (``"backprop"``).

    Raises ``ValueError`` naming the lessons there are when ``ref`` matches none.

    Example:
        >>> lesson("03").slug, lesson("backprop").number
        ('backprop', 3)
        >>> lesson(12)
        Traceback (most recent call last):
        ...
        ValueError: no lesson 12: lessons are numbered 1 to 11, or named by slug (first-look, ...)
    """
    text = str(ref).strip()
    for candidate in LESSONS:
        if (text.isdigit() and int(text) == candidate.number) or text == candidate.slug:
            return candidate
    slugs = ", ".join(candidate.slug for candidate in LESSONS)
    raise ValueError(f"no lesson {text}: lessons are numbered 1 to {len(LESSONS)}, "
                     f"or named by slug ({slugs})")
