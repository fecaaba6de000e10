r"""Retrieval of binarized scikit-learn digits by each energy.

The stored patterns are the first image of each digit 0-9 in scikit-learn's
bundled ``load_digits`` (8 x 8 pixels with values 0-16), binarized as +1 for
a pixel value above 7 and -1 otherwise, so N = 64 and K = 10. These patterns
are strongly correlated (most pixels are background), which is where dense
energies beat the classical one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ._capacity import corrupt
from ._discrete import DenseAssociativeMemory, ModernHopfield

__all__ = ["DigitsRetrieval", "binarized_digits", "digits_retrieval", "DIGITS_ENERGIES",
           "digits_figure"]

logger = logging.getLogger(__name__)

BINARIZE_ABOVE = 7
CORRUPTIONS = (0.1, 0.2, 0.3, 0.4)
# (label, energy, degree, beta); "modern" is the modern Hopfield update with beta.
DIGITS_ENERGIES = (
    ("classical", "classical", None, None),
    ("polynomial n=3", "polynomial", 3, None),
    ("rectified n=5", "rectified_polynomial", 5, None),
    ("exponential", "exponential", None, 1.0),
    ("modern Hopfield", "modern", None, 0.5),
)


def binarized_digits() -> np.ndarray:
    """Return the 10 x 64 patterns: the first image of each digit, pixel > 7 as +1."""
    from sklearn.datasets import load_digits

    data = load_digits()
    first = [int(np.flatnonzero(data.target == digit)[0]) for digit in range(10)]
    return np.where(data.data[first] > BINARIZE_ABOVE, 1, -1).astype(np.int8)


@dataclass
class DigitsRetrieval:
    """Accuracy of each energy at each corruption, with example images.

    Attributes
    ----------
    patterns : ndarray, shape (10, 64)
    accuracy : dict
        ``accuracy[label][fraction]``: fraction of queries retrieved exactly.
    bit_errors : dict
        ``bit_errors[label][fraction]``: mean fraction of wrong pixels.
    examples : dict
        ``examples[label]``: (corrupted, retrieved, fraction) at the largest corruption.
    """

    patterns: np.ndarray
    accuracy: dict
    bit_errors: dict
    examples: dict
    trials: int

    def table(self) -> str:
        """Return a Markdown table of exact-retrieval accuracy."""
        fractions = sorted(next(iter(self.accuracy.values())))
        header = "| energy | " + " | ".join(f"{round(100 * f)}% flipped" for f in fractions) + " |"
        lines = [header, "|---" * (len(fractions) + 1) + "|"]
        for label, row in self.accuracy.items():
            lines.append(f"| {label} | " + " | ".join(f"{row[f]:.2f}" for f in fractions) + " |")
        return "\n".join(lines)


def _retrieve(label: str, energy: str, degree, beta, patterns: np.ndarray,
              queries: np.ndarray) -> np.ndarray:
    if energy == "modern":
        network = ModernHopfield(patterns, beta=beta)
        states = network.retrieve(queries).states
        return np.where(states >= 0, 1.0, -1.0)
    memory = DenseAssociativeMemory(patterns, energy=energy, degree=degree, beta=beta)
    return memory.retrieve(queries).states


def digits_retrieval(*, corruptions=CORRUPTIONS, trials: int = 20, seed: int = 0,
                     energies=DIGITS_ENERGIES) -> DigitsRetrieval:
    """Corrupt every stored digit ``trials`` times per fraction and retrieve it with each energy."""
    patterns = binarized_digits()
    targets = np.repeat(patterns.astype(float), trials, axis=0)
    accuracy, bit_errors, examples = {}, {}, {}
    for label, energy, degree, beta in energies:
        accuracy[label], bit_errors[label] = {}, {}
        for fraction in corruptions:
            generator = np.random.default_rng([seed, round(1000 * fraction)])
            queries = corrupt(targets, fraction, generator)
            retrieved = _retrieve(label, energy, degree, beta, patterns, queries)
            exact = np.all(retrieved == targets, axis=1)
            accuracy[label][fraction] = float(np.mean(exact))
            bit_errors[label][fraction] = float(np.mean(retrieved != targets))
            examples[label] = (queries[::trials], retrieved[::trials], fraction)
        logger.info("digits, %s: accuracy %s", label, accuracy[label])
    return DigitsRetrieval(patterns, accuracy, bit_errors, examples, trials)


def digits_figure(result: DigitsRetrieval, label: str):
    """Return a matplotlib figure: stored, corrupted and retrieved digits for one energy."""
    import matplotlib.pyplot as plt

    corrupted, retrieved, fraction = result.examples[label]
    figure, axes = plt.subplots(3, 10, figsize=(10, 3.3))
    for column in range(10):
        for row, images in enumerate((result.patterns, corrupted, retrieved)):
            axis = axes[row, column]
            axis.imshow(np.asarray(images[column]).reshape(8, 8), cmap="gray_r", vmin=-1, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
    for row, name in enumerate(("stored", "corrupted", "retrieved")):
        axes[row, 0].set_ylabel(name)
    figure.suptitle(f"{label}: each stored digit with {round(100 * fraction)}% of pixels flipped")
    figure.tight_layout()
    return figure
