r"""Measured storage capacity of dense associative memories, and the theory beside it.

The capacity at a corruption fraction f is the largest number K of random
:math:`\pm 1` patterns of length N such that corrupted copies of stored
patterns (``round(f N)`` bits flipped) are retrieved by the asynchronous rule
with a mean bit error rate of at most 1%.

Theory:

* classical Hopfield network: :math:`K \approx 0.138 N` (Amit, Gutfreund and
  Sompolinsky, Phys. Rev. Lett. 55, 1530 (1985)), where retrieval already
  carries about 1.5% bit errors;
* :math:`F(x) = x^n`: :math:`K_{max} = N^{n-1} / (2 (2n-3)!! \ln N)`
  patterns retrieved without errors (Krotov and Hopfield, NeurIPS 2016,
  NeurIPS 2016), a stricter criterion than 1% bit errors;
* exponential F: capacity exponential in N (Demircigil et al., J. Stat.
  Phys. 168, 288 (2017)); ctdyn reports no formula for it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidModelError
from ._discrete import DenseAssociativeMemory

__all__ = ["CapacityResult", "measure_capacity", "theory_capacity", "krotov_hopfield_capacity",
           "amit_gutfreund_sompolinsky_capacity", "bit_error_rate", "corrupt",
           "ERROR_THRESHOLD"]

logger = logging.getLogger(__name__)

ERROR_THRESHOLD = 0.01
AGS_RATIO = 0.138
DEFAULT_CORRUPTION = 0.1
DEFAULT_TRIALS = 5
DEFAULT_QUERIES = 20
DEFAULT_MAX_PATTERNS = 5000


def krotov_hopfield_capacity(neurons: int, degree: int) -> float:
    r"""Return :math:`N^{n-1} / (2 (2n-3)!! \ln N)`, Krotov and Hopfield (NeurIPS 2016)."""
    if degree < 2 or neurons < 2:
        raise InvalidModelError("degree", "a degree of at least 2 and N >= 2",
                                (degree, neurons), "Use for example degree 3.")
    double_factorial = math.prod(range(2 * degree - 3, 0, -2))
    return neurons ** (degree - 1) / (2 * double_factorial * math.log(neurons))


def amit_gutfreund_sompolinsky_capacity(neurons: int) -> float:
    """Return 0.138 N, the classical Hopfield capacity (Amit, Gutfreund, Sompolinsky 1985)."""
    return AGS_RATIO * neurons


def theory_capacity(energy: str, neurons: int, degree: int | None = None) -> dict:
    """Return the theory values to print beside a measured capacity, as a JSON-ready dict."""
    if energy == "classical" or (energy == "polynomial" and degree == 2):
        return {"amit_gutfreund_sompolinsky": amit_gutfreund_sompolinsky_capacity(neurons),
                "krotov_hopfield_no_errors": krotov_hopfield_capacity(neurons, 2),
                "source": "0.138 N (Amit, Gutfreund, Sompolinsky 1985); N / (2 ln N) "
                          "(Krotov and Hopfield 2016, n = 2)"}
    if energy in ("polynomial", "rectified_polynomial"):
        n = 3 if degree is None else degree
        return {"krotov_hopfield_no_errors": krotov_hopfield_capacity(neurons, n),
                "source": f"N^(n-1) / (2 (2n-3)!! ln N) with n = {n} (Krotov and Hopfield "
                          "2016; derived for F = x^n)"}
    return {"growth": "exponential in N",
            "source": "Demircigil et al. 2017; no closed form is reported here"}


def corrupt(patterns: np.ndarray, fraction: float, generator: np.random.Generator) -> np.ndarray:
    """Return copies of ``patterns`` with ``round(fraction * N)`` distinct bits flipped in each."""
    patterns = np.asarray(patterns, dtype=float)
    count, neurons = patterns.shape
    flips = int(round(fraction * neurons))
    corrupted = patterns.copy()
    if flips == 0:
        return corrupted
    chosen = np.argsort(generator.random((count, neurons)), axis=1)[:, :flips]
    rows = np.arange(count)[:, None]
    corrupted[rows, chosen] *= -1.0
    return corrupted


def bit_error_rate(retrieved: np.ndarray, targets: np.ndarray) -> float:
    """Return the fraction of bits where ``retrieved`` differs from ``targets``."""
    return float(np.mean(np.asarray(retrieved) != np.asarray(targets)))


@dataclass
class CapacityResult:
    """A capacity measurement.

    Attributes
    ----------
    capacity : int
        Largest K with bit error rate <= 1% among the K tried (0 if even K = 1 failed).
    bounded : bool
        True when some tried K failed, so the capacity lies below it; False
        when every K up to ``max_patterns`` passed (the capacity is then at
        least ``capacity``).
    curve : list of dict
        ``{"patterns": K, "bit_error_rate": e}`` for every K tried, by K.
    theory : dict
    settings : dict
    """

    capacity: int
    bounded: bool
    curve: list[dict]
    theory: dict
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"capacity": self.capacity, "bounded": self.bounded, "curve": self.curve,
                "theory": self.theory, "settings": self.settings}


def error_at(energy: str, neurons: int, patterns: int, *, degree: int | None = None,
             beta: float | None = None, corruption: float = DEFAULT_CORRUPTION,
             trials: int = DEFAULT_TRIALS, queries: int = DEFAULT_QUERIES,
             seed: int = 0, max_sweeps: int = 30) -> float:
    """Return the mean bit error rate of retrieval with ``patterns`` random patterns.

    Each of ``trials`` draws stores new random patterns and retrieves
    ``min(patterns, queries)`` corrupted stored patterns together.
    """
    errors = []
    for trial in range(trials):
        generator = np.random.default_rng([seed, neurons, patterns, trial])
        stored = generator.choice([-1, 1], size=(patterns, neurons)).astype(np.int8)
        memory = DenseAssociativeMemory(stored, energy=energy, degree=degree, beta=beta)
        chosen = generator.choice(patterns, size=min(patterns, queries), replace=False)
        targets = stored[chosen].astype(float)
        result = memory.retrieve(corrupt(targets, corruption, generator), max_sweeps=max_sweeps)
        errors.append(bit_error_rate(result.states, targets))
    return float(np.mean(errors))


def measure_capacity(energy: str, neurons: int, *, degree: int | None = None,
                     beta: float | None = None, corruption: float = DEFAULT_CORRUPTION,
                     trials: int = DEFAULT_TRIALS, queries: int = DEFAULT_QUERIES, seed: int = 0,
                     max_patterns: int = DEFAULT_MAX_PATTERNS,
                     progress: Callable[[str, float], None] | None = None) -> CapacityResult:
    r"""Measure the capacity by doubling K until retrieval fails, then bisecting.

    The error rate is a random function of K, so the bisection assumes it is
    monotone near the threshold; the curve contains every K tried so that a
    reader can see the noise.

    Raises
    ------
    InvalidModelError
        For N < 2, a corruption outside [0, 0.5), or non-positive counts.
    """
    _check_settings(neurons, corruption, trials, queries, max_patterns)
    report = progress or (lambda stage, fraction: None)
    options = dict(degree=degree, beta=beta, corruption=corruption, trials=trials,
                   queries=queries, seed=seed)
    curve: dict[int, float] = {}

    def passes(count: int) -> bool:
        if count not in curve:
            curve[count] = error_at(energy, neurons, count, **options)
            logger.info("%s N = %d, K = %d: bit error rate %.4f", energy, neurons, count,
                        curve[count])
            report(f"K = {count}", min(len(curve) / 25.0, 0.99))
        return curve[count] <= ERROR_THRESHOLD

    # Double K until retrieval fails, then bisect between the last pass and the first failure.
    good, bad = 0, None
    count = 1
    while count <= max_patterns:
        if passes(count):
            good = count
            count *= 2
        else:
            bad = count
            break
    if bad is None and good < max_patterns:
        if passes(max_patterns):
            good = max_patterns
        else:
            bad = max_patterns
    if bad is not None:
        while bad - good > 1:
            middle = (good + bad) // 2
            if passes(middle):
                good = middle
            else:
                bad = middle
    report("done", 1.0)
    points = [{"patterns": k, "bit_error_rate": curve[k]} for k in sorted(curve)]
    settings = {"energy": energy, "neurons": neurons, "degree": degree, "beta": beta,
                "corruption": corruption, "trials": trials, "queries": queries, "seed": seed,
                "max_patterns": max_patterns, "error_threshold": ERROR_THRESHOLD}
    return CapacityResult(capacity=good, bounded=bad is not None, curve=points,
                          theory=theory_capacity(energy, neurons, degree), settings=settings)


def _check_settings(neurons, corruption, trials, queries, max_patterns) -> None:
    if not isinstance(neurons, int) or neurons < 2:
        raise InvalidModelError("neurons", "an integer N >= 2", neurons, "Use for example 100.")
    if not (isinstance(corruption, (int, float)) and 0 <= corruption < 0.5):
        raise InvalidModelError("corruption", "a fraction in [0, 0.5)", corruption,
                                "Flip at most half the bits, for example 0.1.")
    for name, value in (("trials", trials), ("queries", queries), ("max_patterns", max_patterns)):
        if not isinstance(value, int) or value < 1:
            raise InvalidModelError(name, "a positive integer", value, "Use for example 5.")
