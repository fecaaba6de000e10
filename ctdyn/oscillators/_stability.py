r"""Stability of binary states of an oscillator Ising machine.

The machine is :math:`\dot\phi_i = -K \sum_j J_{ij} \sin(\phi_i - \phi_j)
- K_s \sin(2\phi_i)` with :math:`J = -A`. Every binary state
:math:`\phi_i \in \{0, \pi\}` (spin :math:`s_i = \cos\phi_i`) is an
equilibrium, and its Jacobian is

.. math:: \mathcal J(s) = K M(s) - 2 K_s I, \qquad
          M(s) = S J S - \operatorname{diag}(S J S \mathbf 1), \quad S = \operatorname{diag}(s).

:math:`\mathcal J` is symmetric, so the state is exponentially stable iff
:math:`2 K_s I - K M(s)` is positive definite, i.e. iff
:math:`K_s > K \lambda_{\max}(M(s)) / 2`, the *threshold* of the state
(proofs/oscillator_ising.md). It is unstable when :math:`K_s` is below the
threshold, because :math:`\mathcal J` then has a positive eigenvalue; its
eigenvector is the unstable direction.

Every verdict is checked exactly: positive definiteness by rational LDL^T
(:func:`ctdyn.verify.is_positive_definite_exact`) up to
:data:`EXACT_SIZE_LIMIT` nodes, by an outward-rounded floating Cholesky
bound up to :data:`INTERVAL_SIZE_LIMIT`, and by Gershgorin discs with a
rounding bound above; a refutation by the exact rational value of
:math:`v^T (2K_s I - K M) v < 0` for an integer vector :math:`v`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
import scipy.linalg
import scipy.sparse as sps
import scipy.sparse.linalg

from .._exact import UNIT_ROUNDOFF, gamma, round_up
from ..certify._certificate import CERTIFIED, INCONCLUSIVE, REFUTED, Certificate
from ..errors import InvalidModelError
from ..verify import is_positive_definite_exact, is_positive_definite_interval
from ._graph import Graph, _python_scalar, _spin_array, cut_value

__all__ = ["Threshold", "binary_state_matrix", "stability_threshold", "certify_binary_state",
           "stability_ladder", "EXACT_SIZE_LIMIT", "INTERVAL_SIZE_LIMIT"]

logger = logging.getLogger(__name__)

# Rational LDL^T (python-flint fflu) of a sparse integer-like matrix.
EXACT_SIZE_LIMIT = 120
# Dense float Cholesky with an a priori rounding bound: n = 2,000 takes about a second.
INTERVAL_SIZE_LIMIT = 5000
# The exact characteristic polynomial (the threshold as an algebraic number).
POLYNOMIAL_SIZE_LIMIT = 40
# The exact LDL^T runs only when every weight is a fraction of at most this
# many bits (integers, and doubles from about 2^-200 to 2^200). Weights of
# 1e100 beside 1e-300 on 120 nodes took 232 s there, while the
# rounding-bounded Cholesky decides them at once.
EXACT_BIT_LIMIT = 256
# Largest coefficient size, in bits, of the integer characteristic polynomial
# that is factored. Integer weights of a few thousand on 40 nodes stay below
# 1,000 bits.
POLYNOMIAL_BIT_LIMIT = 2000
# Brute-force enumeration of all 2^(n-1) states in stability_ladder.
LADDER_SIZE_LIMIT = 16
_DENSE_EIGEN_LIMIT = 3000


def binary_state_matrix(graph: Graph, spins) -> sps.csr_array:
    r"""Return :math:`M(s) = S J S - \operatorname{diag}(S J S \mathbf 1)` with :math:`J = -A`."""
    spins = _spin_array(spins, graph.n)
    signed = -spins[graph.rows] * spins[graph.cols] * graph.weights
    off = sps.csr_array((np.concatenate([signed, signed]),
                         (np.concatenate([graph.rows, graph.cols]),
                          np.concatenate([graph.cols, graph.rows]))), shape=(graph.n, graph.n))
    return (off - sps.diags_array(off.sum(axis=1))).tocsr()


def _top_eigenpair(matrix: sps.csr_array) -> tuple[float, np.ndarray]:
    n = matrix.shape[0]
    if n <= _DENSE_EIGEN_LIMIT:
        values, vectors = scipy.linalg.eigh(matrix.toarray(), subset_by_index=[n - 1, n - 1])
        return float(values[0]), vectors[:, 0]
    values, vectors = scipy.sparse.linalg.eigsh(matrix, k=1, which="LA", tol=1e-10)
    return float(values[0]), vectors[:, 0]


@dataclass(frozen=True)
class Threshold:
    r"""The injection threshold of one binary state.

    Attributes
    ----------
    value : float
        :math:`K\lambda_{\max}(M(s))/2` in floating point.
    lower, upper : float
        Proven bounds: ``lower <= threshold <= upper``.
    polynomial : list of int or None
        Integer coefficients, constant term first, of the minimal polynomial
        of the threshold (an algebraic number), for graphs of up to
        :data:`POLYNOMIAL_SIZE_LIMIT` nodes.
    direction : ndarray
        Unit eigenvector of :math:`\lambda_{\max}(M(s))`: the direction that
        turns unstable first as :math:`K_s` decreases.
    checked : {"exact", "interval"}
        How the upper bound was proved.
    """

    value: float
    lower: float
    upper: float
    polynomial: list[int] | None
    direction: np.ndarray
    checked: str

    def to_dict(self) -> dict:
        record = {"value": self.value, "lower": self.lower, "upper": self.upper,
                  "checked": self.checked}
        if self.polynomial is not None:
            record["minimal_polynomial"] = self.polynomial
        return record


def stability_threshold(graph: Graph, spins, *, coupling: float = 1.0) -> Threshold:
    r"""Return the threshold on :math:`K_s` above which the binary state ``spins`` is stable.

    Parameters
    ----------
    graph : Graph
    spins : array of +1/-1
    coupling : float
        :math:`K > 0`.
    """
    coupling = _positive(coupling, "coupling")
    matrix = binary_state_matrix(graph, spins)
    eigenvalue, vector = _top_eigenpair(matrix)
    half = Fraction(coupling) / 2

    # Lower bound: any Rayleigh quotient is at most lambda_max, computed exactly.
    integer_vector = _integer_direction(vector)
    numerator = _quadratic_form_exact(graph, _spin_array(spins, graph.n), integer_vector)
    norm = sum(value * value for value in integer_vector)
    lower = half * Fraction(numerator) / norm if norm else Fraction(0)

    # Upper bound: t I - M positive definite proves lambda_max < t.
    scale = max(1.0, abs(eigenvalue), float(np.abs(graph.weights).max(initial=0.0)))
    upper = None
    checked = "interval"
    for widening in (1e-10, 1e-7, 1e-4):
        candidate = Fraction(eigenvalue + widening * scale)
        check = _definite_shifted(graph, spins, candidate, Fraction(1))
        if check.passed:
            upper, checked = half * candidate, check.checked
            break
    if upper is None:
        # Gershgorin: lambda_max <= max_i 2 sum_j |A_ij| always holds.
        upper = half * Fraction(round_up(2 * float(np.max(abs(matrix).sum(axis=1)))
                                         * (1 + 4 * gamma(graph.n + 2))))
        checked = "interval"

    polynomial = None
    if graph.n <= POLYNOMIAL_SIZE_LIMIT:
        polynomial = _threshold_polynomial(graph, spins, Fraction(coupling), eigenvalue)
    # M(s) 1 = 0 exactly, so lambda_max >= 0 and the threshold is at least 0.
    lower, upper = max(_round_down(lower), 0.0), max(round_up(upper), 0.0)
    # The floating eigenvalue can stray outside the proved bounds by rounding
    # (it is -1.1e-17 for a threshold of exactly 0), so it is clamped into them.
    value = min(max(float(coupling) * eigenvalue / 2, lower), upper)
    return Threshold(value=value, lower=lower,
                     upper=upper, polynomial=polynomial,
                     direction=vector / np.linalg.norm(vector), checked=checked)


def _threshold_polynomial(graph: Graph, spins, coupling: Fraction,
                          eigenvalue: float) -> list[int] | None:
    """Return the minimal polynomial of K lambda_max / 2 from the exact characteristic polynomial."""
    if _exact_weight_bits(graph) > EXACT_BIT_LIMIT:
        return None
    matrix = _rational_state_matrix(graph, spins)
    characteristic = matrix.charpoly()
    denominator = characteristic.denom()
    integer_polynomial = flint.fmpz_poly([int(c * denominator) for c in characteristic.coeffs()])
    size = max(abs(int(c)).bit_length() for c in integer_polynomial.coeffs())
    if size > POLYNOMIAL_BIT_LIMIT:
        # Weights such as 1e300 next to 1e-300 give coefficients of thousands of
        # bits, and root isolation then runs for many minutes.
        logger.info("threshold polynomial skipped: coefficients of %d bits", size)
        return None
    _, factors = integer_polynomial.factor()
    best = None
    for factor, _ in factors:
        for root, _ in factor.complex_roots():
            if not root.imag.contains(0):
                continue
            value = float(root.real.mid())
            if best is None or abs(value - eigenvalue) < abs(best[1] - eigenvalue):
                best = (factor, value)
    if best is None:
        return None
    # Substitute lambda = 2 t / K: coefficient c_k becomes c_k (2/K)^k.
    coefficients = [Fraction(int(c)) * (2 / coupling) ** k for k, c in enumerate(best[0].coeffs())]
    common = math.lcm(*(value.denominator for value in coefficients))
    integers = [int(value * common) for value in coefficients]
    divisor = math.gcd(*integers)
    integers = [value // divisor for value in integers]
    if integers[-1] < 0:
        integers = [-value for value in integers]
    return integers


def _rational_state_matrix(graph: Graph, spins) -> flint.fmpq_mat:
    spins = _spin_array(spins, graph.n)
    n = graph.n
    entries = [[flint.fmpq(0)] * n for _ in range(n)]
    for i, j, weight in zip(graph.rows.tolist(), graph.cols.tolist(), graph.weights.tolist()):
        fraction = Fraction(weight)
        value = flint.fmpq(fraction.numerator, fraction.denominator) * int(-spins[i] * spins[j])
        entries[i][j] += value
        entries[j][i] += value
        entries[i][i] -= value
        entries[j][j] -= value
    return flint.fmpq_mat(entries)


def _definite_shifted(graph: Graph, spins, shift: Fraction, scale: Fraction):
    r"""Test :math:`\mathrm{shift}\, I - \mathrm{scale}\, M(s) \succ 0` exactly or with a rounding bound."""
    n = graph.n
    if n <= EXACT_SIZE_LIMIT and _exact_weight_bits(graph) <= EXACT_BIT_LIMIT:
        matrix = _rational_state_matrix(graph, spins) * flint.fmpq(-scale.numerator,
                                                                   scale.denominator)
        for i in range(n):
            matrix[i, i] += flint.fmpq(shift.numerator, shift.denominator)
        return is_positive_definite_exact(matrix)
    if n <= INTERVAL_SIZE_LIMIT:
        return _definite_interval(graph, spins, shift, scale)
    return _definite_gershgorin(graph, spins, shift, scale)


def _exact_weight_bits(graph: Graph) -> int:
    """Return the largest bit size of a weight's numerator or denominator as a fraction."""
    bits = 0
    for weight in np.unique(np.abs(graph.weights)).tolist():
        numerator, denominator = weight.as_integer_ratio()
        bits = max(bits, numerator.bit_length(), denominator.bit_length())
    return bits


def _definite_interval(graph: Graph, spins, shift: Fraction, scale: Fraction):
    state = binary_state_matrix(graph, spins)
    dense = float(shift) * np.eye(graph.n) - float(scale) * state.toarray()
    dense = (dense + dense.T) / 2
    # Each off-diagonal entry is one product (relative error u); each diagonal
    # entry is a sum of degree + 2 terms (gamma bound), plus the rounding of
    # shift and scale to floats. A row sum of |error| bounds the 2-norm.
    magnitude = abs(state)
    degree = np.diff(state.indptr)
    row_magnitude = np.asarray(magnitude.sum(axis=1)).ravel()
    g = gamma(int(degree.max(initial=0)) + 6)
    shift_error = abs(float(Fraction(float(shift)) - shift))
    scale_error = abs(float(Fraction(float(scale)) - scale))
    per_row = (g * (abs(float(shift)) + 2 * float(abs(scale)) * row_magnitude)
               + scale_error * 2 * row_magnitude + shift_error)
    error = round_up(Fraction(float(np.max(per_row))) * (1 + 8 * Fraction(UNIT_ROUNDOFF))
                     + Fraction(4 * graph.n) * Fraction(2.0**-1074))
    return is_positive_definite_interval(dense, error)


@dataclass(frozen=True)
class _GershgorinCheck:
    passed: bool
    checked: str
    margin: float
    failed_index: int | None = None
    detail: str = ""


def _definite_gershgorin(graph: Graph, spins, shift: Fraction, scale: Fraction):
    # Row i of shift I - scale M: diagonal shift + scale sum_j s_i s_j A_ij ... minus
    # the disc radius scale sum_j |A_ij|; positive in every row proves definiteness.
    spins = _spin_array(spins, graph.n)
    state = binary_state_matrix(graph, spins)
    magnitude = np.asarray(abs(state).sum(axis=1)).ravel()
    diagonal = state.diagonal()
    degree = np.diff(state.indptr)
    g = gamma(int(degree.max(initial=0)) + 6)
    bound = float(scale) * (magnitude + np.abs(diagonal)) * (1 + g) + 1e-300
    lower = float(shift) - float(scale) * diagonal - float(scale) * (magnitude - np.abs(diagonal))
    lower -= bound * 4 * g + abs(float(Fraction(float(shift)) - shift))
    passed = bool(np.all(lower > 0))
    return _GershgorinCheck(passed, "interval", float(lower.min()) if passed else 0.0, None,
                            "Gershgorin discs with a rounding bound")


# -- exact quadratic forms --------------------------------------------------------------------


def _integer_direction(vector: np.ndarray, bits: int = 40) -> list[int]:
    largest = float(np.max(np.abs(vector))) if vector.size else 0.0
    if largest == 0:
        return [0] * vector.size
    return [int(v) for v in np.round(vector / largest * 2.0**bits).astype(np.int64)]


def _quadratic_form_exact(graph: Graph, spins: np.ndarray, vector: list[int]) -> Fraction:
    r"""Return :math:`v^T M(s) v = \sum_{ij \in E} s_i s_j A_{ij} (v_i - v_j)^2` exactly."""
    total = Fraction(0)
    weights = {}
    for i, j, weight in zip(graph.rows.tolist(), graph.cols.tolist(), graph.weights.tolist()):
        difference = vector[i] - vector[j]
        if difference == 0:
            continue
        sign = int(spins[i] * spins[j])
        weights[weight] = weights.get(weight, 0) + sign * difference * difference
    for weight, count in weights.items():
        total += Fraction(weight) * count
    return total


# -- the certificate ----------------------------------------------------------------------------


def certify_binary_state(graph: Graph, spins, *, coupling: float = 1.0,
                         injection: float) -> Certificate:
    r"""Certify or refute the local stability of a binary state for given gains.

    Returns a ``binary_stability`` certificate for the claim
    ``local_stability``: ``certified`` when :math:`2K_s I - K M(s) \succ 0`
    is proved, ``refuted`` with the unstable direction :math:`v` when
    :math:`v^T(2K_s I - K M(s))v < 0` is checked exactly, ``inconclusive``
    otherwise (for example exactly at the threshold, where the Jacobian is
    singular).
    """
    coupling = _positive(coupling, "coupling")
    injection = _nonnegative(injection, "injection")
    spins = _spin_array(spins, graph.n)
    threshold = stability_threshold(graph, spins, coupling=coupling)
    details = {"threshold": threshold.to_dict(), "coupling": coupling, "injection": injection,
               "cut": cut_value(graph, spins)}
    shift = 2 * Fraction(injection)
    check = _definite_shifted(graph, spins, shift, Fraction(coupling))
    if check.passed:
        return Certificate(
            method="binary_stability", claim="local_stability", status=CERTIFIED,
            checked=check.checked, margin=check.margin,
            reason=f"K_s = {injection:.6g} > threshold {threshold.value:.10g}: "
                   "2 K_s I - K M(s) is positive definite",
            evidence={"spins": spins.astype(int), "test": check.detail}, details=details)

    vector = _integer_direction(threshold.direction)
    form = _quadratic_form_exact(graph, spins, vector)
    norm = sum(value * value for value in vector)
    value = shift * norm - Fraction(coupling) * form
    if norm and value < 0:
        eigenvalue = float(-value / norm)
        direction = np.array(vector, dtype=float)
        direction /= np.linalg.norm(direction)
        witness = {"kind": "unstable_direction", "direction": direction,
                   "jacobian_rayleigh_quotient": eigenvalue, "checked": "exact",
                   "note": "v^T J v > 0 for the Jacobian J at the binary state, computed in "
                           "exact rational arithmetic"}
        return Certificate(
            method="binary_stability", claim="local_stability", status=REFUTED, checked="exact",
            margin=-eigenvalue, witness=witness,
            reason=f"K_s = {injection:.6g} < threshold {threshold.value:.10g}",
            evidence={"spins": spins.astype(int)}, details=details)
    return Certificate(
        method="binary_stability", claim="local_stability", status=INCONCLUSIVE,
        reason=f"K_s = {injection:.6g} is within rounding of the threshold "
               f"{threshold.value:.10g}; the Jacobian is (nearly) singular",
        evidence={"spins": spins.astype(int)}, details=details)


# -- design: all states of a small graph --------------------------------------------------------


def stability_ladder(graph: Graph, *, coupling: float = 1.0) -> dict:
    r"""Enumerate every binary state of a small graph with its cut and threshold.

    States :math:`s` and :math:`-s` are the same cut, so :math:`s_0 = +1`
    is fixed. Returns the maximum cut, the threshold above which every
    maximum cut is stable (``optimal_stable_above``), the smallest threshold
    of a suboptimal state (``suboptimal_stable_above``), and one row per cut
    value: how many states and the range of their thresholds. For :math:`K_s`
    between the two thresholds, the optimal states are the only stable
    binary states. Thresholds here are floating-point eigenvalues.
    """
    coupling = _positive(coupling, "coupling")
    n = graph.n
    if n > LADDER_SIZE_LIMIT:
        raise InvalidModelError("graph", f"at most {LADDER_SIZE_LIMIT} nodes for enumeration",
                                n, "Use stability_threshold on chosen states instead.")
    count = 2 ** (n - 1)
    codes = np.arange(count, dtype=np.int64)
    bits = (codes[:, None] >> np.arange(n - 1)) & 1
    spins = np.concatenate([np.ones((count, 1)), 1.0 - 2.0 * bits], axis=1)
    cuts = np.round(_cut_batch(graph, spins), 12)
    adjacency = graph.dense()
    signed = -spins[:, :, None] * adjacency[None] * spins[:, None, :]
    matrices = signed - np.einsum("kij,ij->kij", np.broadcast_to(signed.sum(axis=2)[:, :, None],
                                                                   signed.shape),
                                  np.eye(n))
    thresholds = coupling * np.linalg.eigvalsh(matrices)[:, -1] / 2
    best = float(cuts.max())
    optimal = cuts == best
    rows = []
    for cut in np.unique(cuts)[::-1]:
        chosen = cuts == cut
        rows.append({"cut": float(cut), "states": int(2 * chosen.sum()),
                     "threshold_min": float(thresholds[chosen].min()),
                     "threshold_max": float(thresholds[chosen].max())})
    return {"max_cut": best, "optimal_states": int(2 * optimal.sum()),
            "optimal_stable_above": float(thresholds[optimal].max()),
            "suboptimal_stable_above": (float(thresholds[~optimal].min())
                                        if np.any(~optimal) else None),
            "cuts": rows}


def _cut_batch(graph: Graph, spins: np.ndarray) -> np.ndarray:
    agree = spins[:, graph.rows] * spins[:, graph.cols]
    return (1.0 - agree) @ graph.weights / 2.0


def _positive(value, field: str) -> float:
    value = _python_scalar(value)
    number = _number(value, field)
    if not number > 0:
        raise InvalidModelError(field, "a positive number", value, "Use for example 1.0.")
    return number


def _nonnegative(value, field: str) -> float:
    value = _python_scalar(value)
    number = _number(value, field)
    if number < 0:
        raise InvalidModelError(field, "a nonnegative number", value, "Use for example 0.5.")
    return number


def _number(value, field: str) -> float:
    value = _python_scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidModelError(field, "a number", value, "Give a finite number.")
    number = float(value)
    if not np.isfinite(number):
        raise InvalidModelError(field, "a finite number", value, "Replace nan or inf.")
    return number


def _round_down(value: Fraction) -> float:
    approximate = float(value)
    if Fraction(approximate) > value:
        approximate = float(np.nextafter(approximate, -np.inf))
    return approximate
