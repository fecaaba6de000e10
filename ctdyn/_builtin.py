r"""Built-in example of ``ctdyn certify``: a Hopfield memory of handwritten digits.

Two Hopfield networks :math:`\dot x = -x + W \tanh(g x)` share the weights of
a memory that stores four 8x8 digits from scikit-learn's ``load_digits``
(the first image of each of the digits 0, 1, 2 and 3, pixel value > 7 as
:math:`+1`, else :math:`-1`, so :math:`n = 64`):

* the memory, gain :math:`g = 4`: its energy decreases along every
  trajectory (certified, since :math:`W = W^T` and :math:`\tanh` is
  increasing), contraction is refuted because the Jacobian
  :math:`-I + 4W` at the origin has an eigenvalue with positive real part,
  and it retrieves each stored digit from a copy with 10% of its pixels
  flipped;
* the same weights at the low gain :math:`g = 0.9 / \alpha(|W|)`, with
  :math:`\alpha(|W|)` the spectral abscissa of the Metzler majorant of
  :math:`W` (diagonal :math:`w_{ii}`, off-diagonal :math:`|w_{ij}|`; here
  the diagonal is zero, so the majorant is :math:`|W|`). The worst weighted
  :math:`\ell_\infty` log-norm of :math:`-I + W D` over slopes
  :math:`d_i \in [0, g]` is then :math:`-1 + g\,\alpha(|W|) = -0.1`, so
  the network is certified contracting and its unique equilibrium is the
  origin. Every corrupted digit decays to 0: no memory, the price of
  contraction.

Learning rule. The Hebbian rule :math:`W = \frac1n \sum_\mu \xi^\mu
\xi^{\mu T}` with zero diagonal fails on these patterns. Binarized digits are
strongly correlated: the overlaps :math:`\xi^\mu \cdot \xi^\nu` of the four
images are 18 to 34 out of 64, because most pixels are background. With the
Hebbian rule none of the four corrupted digits was retrieved, and all four
runs (seed 0, t = 30) ended 3 pixels from the stored "1". The example
therefore uses the projection (pseudo-inverse) rule :math:`W = \Xi^T (\Xi
\Xi^T)^{-1} \Xi` with zero diagonal. Before the diagonal is removed,
:math:`W \xi = \xi` for every stored pattern. After it,
:math:`\xi_i (W \xi)_i = 1 - P_{ii}` with :math:`P` the projection, positive
unless the unit vector :math:`e_i` lies in the span of the patterns, so
:math:`\operatorname{sign}(W\xi) = \xi` (the smallest value here is 0.84).
In a check with scipy's ``solve_ivp`` (flips drawn as in
:func:`corrupt_patterns` with seeds 0 to 9, t = 30), the projection rule
retrieved all 40 corrupted copies without a pixel error at gains 2, 4 and 8.
:math:`W` stays symmetric, so the energy certificate applies unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .models import HopfieldNetwork
from .simulate import integrate

__all__ = [
    "DigitsExample",
    "Retrieval",
    "build_digits_example",
    "digit_patterns",
    "projection_weights",
    "majorant_abscissa",
    "contracting_gain",
    "corrupt_patterns",
    "format_retrieval_table",
    "format_images",
    "describe_example",
    "example_record",
    "BUILTIN_METHODS",
    "DIGITS",
    "MEMORY_GAIN",
    "FLIP_FRACTION",
    "RETRIEVAL_TIME",
    "CONTRACTION_MARGIN",
]

# Methods the example runs unless --methods names others. The LMI methods are
# left out for time: lmi_diagonal took 362 s on the contracting network
# (n = 64, Clarabel, one BLAS thread, 2-core machine), and lmi_euclidean is
# above its size limit of 60.
BUILTIN_METHODS = ("log_norm_inf", "log_norm_1", "energy", "linearization")
DIGITS = (0, 1, 2, 3)
IMAGE_SIDE = 8
MEMORY_GAIN = 4
FLIP_FRACTION = 0.1
RETRIEVAL_TIME = 30.0
# The low gain makes g * alpha(|W|) equal to this number (at most), so the
# certified weighted l_inf rate is 1 - CONTRACTION_MARGIN = 0.1.
CONTRACTION_MARGIN = 0.9
_GAIN_DIGITS = 4  # significant digits of the low gain, rounded down
# A final state with every |x_i| below this is read as the origin: no pattern.
# Retrieved patterns have |x_i| near 1. The contracting network ended at
# max |x_i| of about 2e-6 at t = 30 (measured, seed 0).
ORIGIN_THRESHOLD = 1e-2
_BINARIZE_ABOVE = 7  # load_digits pixels are integers 0..16


@dataclass(frozen=True)
class Retrieval:
    r"""One corrupted stored pattern and the state it ended in.

    Attributes
    ----------
    pattern : int
        Index of the stored pattern that was corrupted.
    corrupted : ndarray, shape (64,)
        Initial state: the pattern with ``flipped`` pixels negated.
    flipped : tuple of int
        Indices of the flipped pixels.
    final_state : ndarray, shape (64,)
        State at ``t = RETRIEVAL_TIME``.
    hamming : tuple of int
        Number of pixels where :math:`\operatorname{sign}(x)` differs from
        each stored pattern (a zero coordinate differs from both signs).
    """

    pattern: int
    corrupted: np.ndarray
    flipped: tuple[int, ...]
    final_state: np.ndarray
    hamming: tuple[int, ...]

    @property
    def amplitude(self) -> float:
        r""":math:`\max_i |x_i|` of the final state."""
        return float(np.max(np.abs(self.final_state)))

    @property
    def at_origin(self) -> bool:
        return self.amplitude < ORIGIN_THRESHOLD

    @property
    def retrieved(self) -> int | None:
        """Index of the nearest stored pattern, or None when the state decayed to the origin."""
        if self.at_origin:
            return None
        return int(np.argmin(self.hamming))


@dataclass(frozen=True)
class DigitsExample:
    r"""The two networks of the built-in example and their retrieval runs.

    Attributes
    ----------
    digits : tuple of int
        The stored digits, in pattern order.
    image_indices : tuple of int
        Index of each pattern's image in ``load_digits``.
    patterns : ndarray, shape (4, 64)
        Stored :math:`\pm 1` patterns, row-major 8x8 images.
    weights : ndarray, shape (64, 64)
        Projection-rule weights with zero diagonal, exactly symmetric.
    memory : HopfieldNetwork
        Gain :data:`MEMORY_GAIN`.
    contracting : HopfieldNetwork
        Gain :attr:`low_gain`.
    low_gain : float
        :math:`g \le 0.9 / \alpha(|W|)`, rounded down to 4 significant digits.
    abscissa : float
        :math:`\alpha(|W|)`, the spectral abscissa of the Metzler majorant
        (floating point; the certificate itself is checked exactly).
    memory_runs, contracting_runs : tuple of Retrieval
        One run per stored pattern from the same corrupted copies.
    """

    digits: tuple[int, ...]
    image_indices: tuple[int, ...]
    patterns: np.ndarray
    weights: np.ndarray
    memory: HopfieldNetwork
    contracting: HopfieldNetwork
    low_gain: float
    abscissa: float
    memory_runs: tuple[Retrieval, ...]
    contracting_runs: tuple[Retrieval, ...]


def digit_patterns(digits=DIGITS) -> tuple[np.ndarray, tuple[int, ...]]:
    """Return the binarized first image of each digit and the images' indices.

    Returns
    -------
    patterns : ndarray, shape (len(digits), 64)
        ``+1`` where the pixel value (0 to 16) exceeds 7, else ``-1``.
    indices : tuple of int
        Index of each image in ``sklearn.datasets.load_digits()``.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    indices = tuple(int(np.flatnonzero(data.target == digit)[0]) for digit in digits)
    images = data.images[list(indices)].reshape(len(digits), -1)
    return np.where(images > _BINARIZE_ABOVE, 1.0, -1.0), indices


def projection_weights(patterns: np.ndarray) -> np.ndarray:
    r"""Return :math:`W = \Xi^T (\Xi \Xi^T)^{-1} \Xi` with zero diagonal, exactly symmetric.

    The float product is symmetrized as :math:`(W + W^T)/2`, which is
    symmetric bit for bit because float addition is commutative.
    """
    patterns = np.asarray(patterns, dtype=float)
    weights = patterns.T @ np.linalg.solve(patterns @ patterns.T, patterns)
    weights = (weights + weights.T) / 2
    np.fill_diagonal(weights, 0.0)
    return weights


def majorant_abscissa(weights: np.ndarray) -> float:
    r"""Return the spectral abscissa of the Metzler majorant of ``weights`` (floating point)."""
    majorant = np.abs(weights)
    np.fill_diagonal(majorant, np.diag(weights))
    return float(np.max(np.linalg.eigvals(majorant).real))


def contracting_gain(weights: np.ndarray) -> tuple[float, str]:
    r"""Return the low gain :math:`g` and its decimal text, :math:`g\,\alpha(|W|) \le 0.9`.

    The gain is rounded down to 4 significant digits so that its decimal
    text, which becomes part of the activation expression, is short.
    """
    abscissa = majorant_abscissa(weights)
    target = CONTRACTION_MARGIN / abscissa
    exponent = math.floor(math.log10(target)) - (_GAIN_DIGITS - 1)
    scaled = math.floor(target / 10.0**exponent)
    decimals = max(0, -exponent)
    text = f"{scaled * 10.0**exponent:.{decimals}f}"
    return float(text), text


def corrupt_patterns(patterns: np.ndarray, *, fraction: float = FLIP_FRACTION,
                     seed: int = 0) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Flip ``round(fraction * n)`` distinct pixels of each pattern, chosen by a seeded generator."""
    generator = np.random.default_rng(seed)
    count, n = patterns.shape
    flips = round(fraction * n)
    corrupted = np.array(patterns, dtype=float)
    flipped = []
    for index in range(count):
        chosen = np.sort(generator.choice(n, size=flips, replace=False))
        corrupted[index, chosen] *= -1.0
        flipped.append(tuple(int(pixel) for pixel in chosen))
    return corrupted, flipped


def _run_retrieval(network: HopfieldNetwork, patterns: np.ndarray, corrupted: np.ndarray,
                   flipped: list[tuple[int, ...]]) -> tuple[Retrieval, ...]:
    trajectories = integrate(network.vector_field, corrupted, t_final=RETRIEVAL_TIME,
                             t_eval=[0.0, RETRIEVAL_TIME])
    runs = []
    for index, final_state in enumerate(trajectories.final_states):
        signs = np.sign(final_state)
        hamming = tuple(int(np.sum(signs != pattern)) for pattern in patterns)
        runs.append(Retrieval(index, corrupted[index], flipped[index], final_state.copy(), hamming))
    return tuple(runs)


def build_digits_example(*, seed: int = 0) -> DigitsExample:
    """Build both networks and run retrieval from corrupted copies of every stored digit.

    Parameters
    ----------
    seed : int
        Seed of the pixel flips.
    """
    patterns, indices = digit_patterns(DIGITS)
    weights = projection_weights(patterns)
    low_gain, low_gain_text = contracting_gain(weights)
    memory = HopfieldNetwork(weights, activation=f"tanh({MEMORY_GAIN}*x)")
    contracting = HopfieldNetwork(weights, activation=f"tanh({low_gain_text}*x)")

    corrupted, flipped = corrupt_patterns(patterns, seed=seed)
    return DigitsExample(
        digits=DIGITS, image_indices=indices, patterns=patterns, weights=weights,
        memory=memory, contracting=contracting, low_gain=low_gain,
        abscissa=majorant_abscissa(weights),
        memory_runs=_run_retrieval(memory, patterns, corrupted, flipped),
        contracting_runs=_run_retrieval(contracting, patterns, corrupted, flipped),
    )


# -- text output ---------------------------------------------------------------


def describe_example(example: DigitsExample) -> str:
    """Return the paragraph that introduces the example's two networks."""
    return "\n".join([
        f"Built-in example: Hopfield memory x' = -x + W tanh(g x) of the 8x8 digits "
        f"{', '.join(map(str, example.digits))} (scikit-learn load_digits, images "
        f"{', '.join(map(str, example.image_indices))}; pixel > {_BINARIZE_ABOVE} -> +1, else -1; "
        f"n = {example.patterns.shape[1]}).",
        "Weights: projection rule W = Xi^T (Xi Xi^T)^-1 Xi with zero diagonal (the Hebbian rule "
        "retrieves none of these correlated digits).",
        f"Memory network: gain g = {MEMORY_GAIN}.",
        f"Contracting network: gain g = {example.low_gain:g} <= {CONTRACTION_MARGIN} / "
        f"alpha(|W|), where alpha(|W|) = {example.abscissa:.10g} is the spectral abscissa of the "
        "Metzler majorant of W; expected weighted l_inf rate "
        f"1 - g alpha(|W|) = {1 - example.low_gain * example.abscissa:.6g}.",
    ])


def _run_cells(run: Retrieval, digits: tuple[int, ...]) -> str:
    if run.retrieved is None:
        return f"origin (max |x_i| = {run.amplitude:.2g})"
    digit = digits[run.retrieved]
    return f"digit {digit}, {run.hamming[run.retrieved]} pixels differ"


def format_retrieval_table(example: DigitsExample) -> str:
    """Return the retrieval table: for each corrupted digit, what each network ended in."""
    digits = example.digits
    distances = " ".join(f"to {digit:>2}" for digit in digits)
    header = (f"{'stored':<7} {'flipped':<8} {'gain ' + str(MEMORY_GAIN) + ': retrieved':<32} "
              f"{'Hamming ' + distances:<30} {'gain ' + format(example.low_gain, 'g') + ': final state'}")
    lines = [f"Retrieval from corrupted copies ({round(FLIP_FRACTION * 100)}% of pixels flipped, "
             f"simulated to t = {RETRIEVAL_TIME:g}; Hamming distance of sign(x) to each stored "
             "digit):", header, "-" * len(header)]
    for memory_run, contracting_run in zip(example.memory_runs, example.contracting_runs):
        hamming = " ".join(f"{distance:>5}" for distance in memory_run.hamming)
        lines.append(f"{digits[memory_run.pattern]:<7} {len(memory_run.flipped):<8} "
                     f"{_run_cells(memory_run, digits):<32} {'        ' + hamming:<30} "
                     f"{_run_cells(contracting_run, digits)}")
    return "\n".join(lines)


def _image_rows(values: np.ndarray) -> list[str]:
    """Render 64 values as 8 rows: '#' positive, '.' negative, ' ' near zero."""
    characters = np.where(np.asarray(values, dtype=float) > 0, "#", ".")
    characters[np.abs(values) < ORIGIN_THRESHOLD] = " "
    return ["".join(row) for row in characters.reshape(IMAGE_SIDE, IMAGE_SIDE)]


def format_images(example: DigitsExample) -> str:
    """Return the corrupted, retrieved and stored images side by side, one block per digit."""
    titles = ("corrupted", f"gain {MEMORY_GAIN}", f"gain {example.low_gain:g}", "stored")
    gap = "   "
    width = max(IMAGE_SIDE, *(len(title) for title in titles))
    lines = ["'#' pixel +1, '.' pixel -1, ' ' |x_i| < "
             f"{ORIGIN_THRESHOLD:g} (the state decayed to the origin)", ""]
    for memory_run, contracting_run in zip(example.memory_runs, example.contracting_runs):
        pattern = example.patterns[memory_run.pattern]
        images = [_image_rows(memory_run.corrupted), _image_rows(memory_run.final_state),
                  _image_rows(contracting_run.final_state), _image_rows(pattern)]
        lines.append(f"digit {example.digits[memory_run.pattern]}")
        lines.append(gap.join(title.ljust(width) for title in titles).rstrip())
        for row in range(IMAGE_SIDE):
            lines.append(gap.join(image[row].ljust(width) for image in images).rstrip())
        lines.append("")
    return "\n".join(lines).rstrip()


def _run_record(run: Retrieval, digits: tuple[int, ...]) -> dict:
    retrieved = run.retrieved
    return {
        "retrieved_digit": None if retrieved is None else digits[retrieved],
        "hamming": list(run.hamming),
        "max_abs_state": run.amplitude,
        "at_origin": run.at_origin,
    }


def example_record(example: DigitsExample) -> dict:
    """Return the example's settings and retrieval results as a JSON-ready dictionary."""
    digits = example.digits
    return {
        "example": "digits_memory",
        "digits": list(digits),
        "image_indices": list(example.image_indices),
        "learning_rule": "projection, zero diagonal",
        "memory_activation": example.memory.activation.name,
        "contracting_activation": example.contracting.activation.name,
        "majorant_abscissa": example.abscissa,
        "flip_fraction": FLIP_FRACTION,
        "retrieval_time": RETRIEVAL_TIME,
        "retrieval": [
            {"stored_digit": digits[memory_run.pattern],
             "flipped_pixels": list(memory_run.flipped),
             "memory": _run_record(memory_run, digits),
             "contracting": _run_record(contracting_run, digits)}
            for memory_run, contracting_run in zip(example.memory_runs, example.contracting_runs)
        ],
    }
