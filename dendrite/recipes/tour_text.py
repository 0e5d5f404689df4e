"""The words of the tour report: what each entry trains, what its metric means, what every picture shows.

One table per kind of text, so a sentence lives in one place: :data:`ENTRY_TEXT`
(model and data, per tour entry), :data:`METRIC_TEXT` (meaning, good value and
baseline, per headline metric), :data:`PICTURE_TEXT` (a caption per picture
file, with per-entry overrides in :data:`ENTRY_PICTURE_TEXT`) and :data:`ENTRY_LESSON`
(the lesson that teaches each entry's network). :func:`explain` puts them together
for one row of the tour's summary.
"""

from __future__ import annotations

from dendrite.lessons import Lesson, lesson

__all__ = ["ENTRY_TEXT", "METRIC_TEXT", "PICTURE_TEXT", "ENTRY_PICTURE_TEXT", "ENTRY_LESSON", "explain",
           "caption", "lesson_of"]

_DIGITS = ("the 8x8 handwritten digits 0-9 (1,437 training and 360 test images; the data has no "
           "separate validation part)")

ENTRY_TEXT: dict[str, str] = {
    "mlp-spiral": "A multilayer perceptron (three hidden layers of 64) learns to tell apart two interleaved "
                  "spiral arms of 2-D points (800 training points, 200 test points).",
    "mlp-digits": f"A multilayer perceptron (two hidden layers of 256, dropout) reads the 64 pixels of "
                  f"{_DIGITS} as one flat vector and names the digit.",
    "cnn-digits": f"A small convolutional network (LeNet: convolutions, pooling, then dense layers) names "
                  f"{_DIGITS}. Its filters see neighbouring pixels together, which a flat MLP has to learn.",
    "lstm-digits": f"An LSTM reads {_DIGITS} one row of 8 pixels at a time, as a sequence of 8 steps, and "
                   "names the digit from its last state.",
    "charlm-pytext": "A recurrent character language model reads Python standard-library source code and "
                     "learns to predict the next character; the last 10% of the text is held out to score "
                     "it. Below the numbers is text it generated.",
    "forecast-mackey-glass": "A GRU reads a window of 20 values of the chaotic Mackey-Glass series and "
                             "predicts the next value (one step ahead). The test part is the end of the "
                             "series.",
    "gan-ring8": "A generative adversarial network: a generator turns random noise into 2-D points and a "
                 "discriminator learns to tell them from real ones. The real data are 8 small blobs on a "
                 "circle (the 8 modes).",
    "gan-digits": "A generative adversarial network with MLP generator and discriminator learns to draw "
                  "8x8 handwritten digits from random noise.",
    "vae-digits": "A variational autoencoder compresses each 8x8 digit to a point in a 2-D latent space and "
                  "decodes it back; decoding random latent points draws new digits.",
}

# Per headline metric: what it measures, which direction is good, and what it is compared to.
# "{…}" fields are filled from the run's numbers (see explain()).
METRIC_TEXT: dict[str, dict[str, str]] = {
    "test_accuracy": {
        "meaning": "test_accuracy is the share of test examples whose most likely class is the true one "
                   "(examples the model never trained on).",
        "good": "Higher is better; 1.0 means every test example is right.",
        "baseline": "Guessing gives chance accuracy 1/k for k classes: {chance}. test_loss is the plain "
                    "cross-entropy on the test split in nats (lower is better; guessing uniformly gives "
                    "ln k).",
    },
    "val_bits_per_char": {
        "meaning": "val_bits_per_char is the average number of bits the model needs to encode each next "
                   "character of the held-out text (its cross-entropy in bits).",
        "good": "Lower is better; 0 would mean it always knows the next character.",
        "baseline": "The baseline is the unigram model, which knows only how often each character occurs: "
                    "{unigram}. Anything below it has learnt some structure of the text.",
    },
    "test_nrmse": {
        "meaning": "test_nrmse is the root-mean-square error on the test part divided by the spread "
                   "(standard deviation) of the test targets, so it does not depend on units.",
        "good": "Lower is better: 0 is perfect, 1 is no better than always predicting the mean.",
        "baseline": "The baseline repeats the last value seen (tomorrow equals today): repeat_last_nrmse "
                    "{repeat_last}. A forecaster has to beat it to have learnt the dynamics.",
    },
    "modes_covered": {
        "meaning": "modes_covered counts how many of the 8 blobs the generator reproduces: a blob counts "
                   "when at least 20 of 2,500 generated points fall within 3 standard deviations of its "
                   "centre.",
        "good": "Higher is better; 8 out of 8 is full coverage. A GAN that draws only some blobs has "
                "suffered mode collapse.",
        "baseline": "The real data cover 8 of 8; a collapsed generator covers 1. high_quality_fraction is "
                    "the share of generated points that lie near any centre (1.0 is best).",
    },
    "frechet_distance": {
        "meaning": "frechet_distance is an FID-like score: a small digit classifier turns images into "
                   "features, and the distance compares the mean and spread of the generated images' "
                   "features with those of real test images.",
        "good": "Lower is better: 0 would mean the generated images are statistically indistinguishable from "
                "real ones (in the classifier's eyes).",
        "baseline": "Real training images score frechet_distance_real {real}, the floor a perfect generator "
                    "would reach. classes_covered says how many of the 10 digits appear among the samples.",
    },
    "test_neg_elbo": {
        "meaning": "test_neg_elbo is the negative evidence lower bound on test images, in nats per image: "
                   "the reconstruction error plus the KL term (how far the codes are from a standard "
                   "normal).",
        "good": "Lower is better: the model explains the test digits with fewer nats.",
        "baseline": "It is the sum of test_reconstruction {reconstruction} and test_kl {kl}; a smaller "
                    "reconstruction term means sharper copies, a smaller KL a tidier latent space.",
    },
}

_CLASSIFIER_CURVES = (
    "Training curves per epoch. Left, the loss: the solid line is the training split, whose loss is the "
    "training objective (cross-entropy with label smoothing 0.1, which never reaches 0 by design); the "
    "dashed line is the test split (there is no validation part) with plain cross-entropy, and its last "
    "point is the printed test_loss. Middle, accuracy on both splits; right, the learning rate."
)

PICTURE_TEXT: dict[str, str] = {
    "curves.png": "Loss per epoch: solid is the training split, dashed the held-out part.",
    "confusion.png": "Confusion matrix on the test split: row = true class, column = predicted class. "
                     "A perfect classifier has numbers only on the diagonal.",
    "decision_boundary.png": "The decision regions the model learnt over the plane (colours), with the "
                             "test points on top, coloured by their true class.",
    "gradient_flow.png": "How much the input at each of the 8 time steps (the rows of the digit) still moves "
                         "the loss, |dL/dx_t|, at initialisation and after training: a curve falling "
                         "towards the early steps shows vanishing gradients.",
    "prediction.png": "The test part of the series (truth) and the model's one-step-ahead predictions, in "
                      "the series' own units.",
    "samples.png": "Samples drawn by the trained generator.",
    "samples_over_training.png": "The same random noise vectors decoded by the generator at several points "
                                 "in training: how the samples took shape.",
    "losses.png": "The generator's and discriminator's losses per epoch. In a GAN they fight each other, so "
                  "they do not fall together; steady curves mean a stable game.",
    "reconstructions.png": "Test digits (top) and the decoder's copies of them (bottom) after passing "
                           "through the 2-D latent code.",
    "latent.png": "Where the encoder places each test digit in the 2-D latent space, coloured by its true "
                  "class: the digits form regions without ever being told the labels.",
    "manifold.png": "Digits decoded from a regular grid of latent points: walking across the latent space "
                    "morphs one digit into another.",
}

ENTRY_PICTURE_TEXT: dict[tuple[str, str], str] = {
    ("mlp-spiral", "curves.png"): (
        "Training curves per epoch. Left, the loss: the solid line is the training split, the dashed line "
        "the test split (there is no validation part); both are plain cross-entropy, and the last test "
        "point is the printed test_loss. Middle, accuracy on both splits; right, the learning rate."),
    ("mlp-digits", "curves.png"): _CLASSIFIER_CURVES,
    ("cnn-digits", "curves.png"): _CLASSIFIER_CURVES,
    ("lstm-digits", "curves.png"): _CLASSIFIER_CURVES,
    ("charlm-pytext", "curves.png"): "Bits per character during training: training text (solid), the first "
                                     "part of the held-out text (dots), and the unigram baseline (dashed).",
    ("forecast-mackey-glass", "curves.png"): "Mean squared error per epoch on standardised values: training "
                                             "split (solid) and test split (dashed; there is no "
                                             "validation part).",
    ("gan-ring8", "samples.png"): "2,500 points drawn by the trained generator; the crosses are the 8 real "
                                  "centres. Every cross should have its own cloud.",
    ("gan-digits", "samples.png"): "100 digits drawn by the trained generator from random noise.",
    ("vae-digits", "samples.png"): "Digits decoded from random latent points z drawn from a standard normal.",
    ("vae-digits", "curves.png"): "Per epoch on the training split: the loss (negative ELBO) and its two "
                                  "parts, reconstruction error and KL term.",
}


# The lesson (dendrite.lessons, number) that teaches each entry's kind of network.
ENTRY_LESSON: dict[str, int] = {
    "mlp-spiral": 2, "mlp-digits": 2, "cnn-digits": 4, "lstm-digits": 5, "charlm-pytext": 5,
    "forecast-mackey-glass": 5, "gan-ring8": 7, "gan-digits": 7, "vae-digits": 6,
}


def lesson_of(label: str) -> Lesson:
    """The lesson that teaches tour entry ``label``'s network.

    Example:
        >>> lesson_of("cnn-digits").title
        'Convolutional networks'
    """
    if label not in ENTRY_LESSON:
        raise KeyError(f"no lesson for tour entry {label!r}; add it to ENTRY_LESSON in "
                       f"dendrite/recipes/tour_text.py (entries: {sorted(ENTRY_LESSON)})")
    return lesson(ENTRY_LESSON[label])


def _number(final: dict, key: str) -> str:
    value = final.get(key)
    return f"{key} = {value:.4g}" if isinstance(value, (int, float)) else "not measured in this run"


def explain(row: dict) -> dict[str, str]:
    """The report's words for one summary row: ``{"about", "meaning", "good", "baseline"}``.

    Shapes: ``row`` as in :func:`dendrite.recipes.tour.run_tour`'s ``runs`` (label, headline, final).

    Example:
        >>> row = {"label": "mlp-digits", "headline": "test_accuracy", "final": {}, "num_classes": 10}
        >>> "chance accuracy 1/k for k classes: 1/10 = 0.1." in explain(row)["baseline"]
        True
    """
    if row["label"] not in ENTRY_TEXT or row["headline"] not in METRIC_TEXT:
        raise KeyError(f"no report text for entry {row['label']!r} with metric {row['headline']!r}; "
                       f"add it to dendrite/recipes/tour_text.py (entries: {sorted(ENTRY_TEXT)})")
    final = row.get("final") or {}
    classes = row.get("num_classes")
    fields = {
        "chance": f"1/{classes} = {1 / classes:.3g}" if classes else "1/k",
        "unigram": _number(final, "unigram_bits_per_char"),
        "repeat_last": _number(final, "repeat_last_nrmse").removeprefix("repeat_last_nrmse "),
        "real": _number(final, "frechet_distance_real").removeprefix("frechet_distance_real "),
        "reconstruction": _number(final, "test_reconstruction").removeprefix("test_reconstruction "),
        "kl": _number(final, "test_kl").removeprefix("test_kl "),
    }
    text = METRIC_TEXT[row["headline"]]
    return {"about": ENTRY_TEXT[row["label"]], "meaning": text["meaning"], "good": text["good"],
            "baseline": text["baseline"].format(**fields)}


def caption(label: str, picture: str) -> str:
    """What ``picture`` (a file name) of tour entry ``label`` shows; a plain fallback for unknown files.

    Example:
        >>> caption("gan-ring8", "losses.png").split(".")[0]
        "The generator's and discriminator's losses per epoch"
    """
    known = ENTRY_PICTURE_TEXT.get((label, picture)) or PICTURE_TEXT.get(picture)
    return known or f"The picture {picture} written by this run."
