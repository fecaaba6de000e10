r"""Write examples/data/digits_hebbian.npy, the weights of digits_memory.toml.

Four 8 x 8 digit images from scikit-learn's bundled ``load_digits`` (the
first image of each of the digits 0, 1, 2 and 3) become patterns
:math:`\xi^\mu \in \{-1, +1\}^{64}`: a pixel above 7 (on the 0-16 grey scale)
is +1, any other pixel -1. The Hebbian rule stores them as

.. math:: W = \frac{1}{n} \sum_{\mu} \xi^\mu (\xi^\mu)^T, \quad w_{ii} = 0,
          \quad n = 64.

Run ``python examples/make_digits_weights.py`` from any folder. It overwrites
the .npy file next to this script.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

DIGITS = (0, 1, 2, 3)
THRESHOLD = 7
OUTPUT = Path(__file__).resolve().parent / "data" / "digits_hebbian.npy"


def digit_patterns(digits=DIGITS) -> np.ndarray:
    """Return one +-1 pattern per digit (rows), from its first image in the data set."""
    data = load_digits()
    first_images = [data.data[np.flatnonzero(data.target == digit)[0]] for digit in digits]
    return np.where(np.array(first_images) > THRESHOLD, 1.0, -1.0)


def hebbian_weights(patterns: np.ndarray) -> np.ndarray:
    """Return (1/n) sum_mu xi xi^T with a zero diagonal, for patterns in rows."""
    n = patterns.shape[1]
    weights = patterns.T @ patterns / n
    np.fill_diagonal(weights, 0.0)
    return weights


def main() -> None:
    weights = hebbian_weights(digit_patterns())
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    np.save(OUTPUT, weights, allow_pickle=False)
    print(f"wrote {OUTPUT} ({weights.shape[0]} x {weights.shape[1]})")


if __name__ == "__main__":
    main()
