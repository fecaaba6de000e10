r"""Local stability of an equilibrium by linearization, checked with intervals.

Procedure
---------
1. Find the equilibrium by Newton's method and enclose it: Krawczyk's test
   (:func:`~ctdyn.certify._equilibrium.enclose_equilibrium`) proves a box
   :math:`X` around :math:`\tilde x` holding exactly one equilibrium
   :math:`x^*`, and bounds :math:`\|S - A\|_2 \le \delta` for the floating
   Jacobian :math:`A` at :math:`\tilde x` and every slope matrix :math:`S`
   of the box (:math:`f(x) - f(x^*) = S (x - x^*)` for :math:`x \in X`;
   the Jacobian at :math:`x^*` is one of them).
2. Read the poles of ``control.ss(A, I, I, 0)`` (the eigenvalues of
   :math:`A`) and the local decay rate :math:`-\max \operatorname{Re}
   \lambda(A)` (a floating-point figure, reported in ``details``).
3. Stable case: solve :math:`(A + sI)^T P + P (A + sI) + I = 0` with
   ``control.lyap`` for a shift :math:`0 \le s <` the decay rate, round
   :math:`P` to a symmetric float matrix and prove, exactly for
   :math:`n \le` ``exact_limit`` and otherwise with a rigorous rounding
   bound,

   .. math:: P \succ 0, \qquad \beta I - P \succ 0, \qquad
             -(A^T P + P A) - t I - 2 c P \succ 0, \quad t \ge 2\beta\delta

   (all strict). Then :math:`\|P\|_2 < \beta` and for every :math:`S` with
   :math:`\|S - A\|_2 \le \delta`,
   :math:`S^T P + P S \preceq A^T P + P A + 2\|P\|_2 \delta I \prec -2cP`.
   With :math:`e = x - x^*` and :math:`V(e) = e^T P e`, every solution that
   stays in :math:`X` has :math:`\dot V = e^T (S^T P + P S) e \le -2cV`.
   Sublevel sets of :math:`V` inside :math:`X` are therefore invariant, and
   :math:`\|x(t) - x^*\|_P \le e^{-ct} \|x(0) - x^*\|_P` for every
   :math:`x(0)` in the largest ellipsoid :math:`\{V \le \gamma\} \subset X`
   (not empty, since :math:`x^*` lies in the interior of :math:`X`). The
   rate :math:`c` is the largest one this :math:`P` proves,
   :math:`\tfrac12 \lambda_{\min}` of the pencil
   :math:`(-(A^TP + PA) - tI,\; P)`, lowered slightly; it is at least the
   cruder :math:`\lambda_{\min}(-(A^TP+PA) - tI) / (2\lambda_{\max}(P))`.
4. Unstable case: with :math:`\sigma = \max \operatorname{Re}\lambda(A)/2`,
   solve :math:`(A - \sigma I)^T P + P (A - \sigma I) - I = 0` and prove
   :math:`\beta I \mp P \succ 0`, :math:`v^T P v > 0` for a rational
   :math:`v`, and :math:`A^T P + P A - 2\sigma P - t I \succ 0` with
   :math:`t \ge 2\beta\delta`. For every :math:`S` near :math:`A`, then,
   :math:`(S - \sigma I)^T P + P (S - \sigma I) \succ 0`. Along
   :math:`\dot e = (S - \sigma I) e` from :math:`e(0) = v`, :math:`V` grows
   exponentially, which is impossible unless :math:`S` has an eigenvalue
   with :math:`\operatorname{Re}\lambda > \sigma > 0`. For the nonlinear
   system, :math:`\dot V > 0` wherever :math:`V > 0` in :math:`X`, so
   :math:`x^*` is unstable by Chetaev's instability theorem.

Every positive result depends on the equilibrium enclosure, whose
activation evaluations assume the libm accuracy stated in
:mod:`ctdyn.certify._equilibrium`; results are labelled
``checked="interval"`` for that reason, even when the matrix inequalities
were decided in exact rational arithmetic.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass
from fractions import Fraction

import control
import flint
import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from ..errors import CtdynWarning, InvalidModelError
from ..verify import (
    UNIT_ROUNDOFF,
    DefiniteCheck,
    gamma,
    is_positive_definite_exact,
    is_positive_definite_interval,
    matmul_error_bound,
    rational_matrix,
    rational_vector,
    round_up,
)
from ._certificate import CERTIFIED, INCONCLUSIVE, REFUTED, Certificate
from ._equilibrium import Equilibrium, EquilibriumEnclosure, enclose_equilibrium, find_equilibrium

__all__ = ["linearization_certificate", "solve_lyapunov"]

logger = logging.getLogger(__name__)

METHOD = "linearization"
CLAIM = "local_stability"
# Float eigenvalues closer than this (times max(1, |A|_inf)) to the imaginary
# axis are not classified.
AXIS_TOLERANCE = 1e-9
# Lyapunov shifts s tried, as fractions of the float decay rate.
SHIFT_FRACTIONS = (0.99, 0.9, 0.5, 0.0)
# Shifts sigma tried in the instability proof, as fractions of max Re lambda.
GROWTH_SHIFT_FRACTIONS = (0.5, 0.3, 0.7, 0.15, 0.85)
# Relative reductions of the proposed rate before each exact re-check.
RATE_BACKOFFS = (1e-6, 1e-3, 0.1, 0.5)
_U = UNIT_ROUNDOFF


def linearization_certificate(network, equilibrium=None, *, contraction: Certificate | None = None,
                              exact_limit: int = 60, tol: float = 1e-12) -> Certificate:
    r"""Certify or refute local exponential stability of an equilibrium.

    Parameters
    ----------
    network : FiringRateNetwork or HopfieldNetwork
    equilibrium : Equilibrium or array_like, optional
        The equilibrium to examine. An array is polished by Newton's method
        first; by default Newton's method starts at zero.
    contraction : Certificate, optional
        A contraction certificate of the same network. When it is certified,
        ``details["global_stability"]`` states that the equilibrium is the
        unique one and globally exponentially stable.
    exact_limit : int
        Largest ``n`` whose matrix inequalities are decided in exact rational
        arithmetic; larger ones use a Cholesky test with a priori rounding
        bounds.
    tol : float
        Newton tolerance, as for :func:`find_equilibrium`.

    Returns
    -------
    Certificate
        Method ``"linearization"``, claim ``"local_stability"``.
        ``evidence["equilibrium"]`` records the equilibrium (``x``,
        ``residual``, ``converged``, and ``enclosure_radius`` when enclosed).
        ``certified`` (checked ``"interval"``): ``rate`` is :math:`c` with
        :math:`\|x(t) - x^*\|_P \le e^{-ct}\|x(0) - x^*\|_P` near
        :math:`x^*`, and ``metric`` contains :math:`P`. ``refuted``: the Jacobian
        at the equilibrium has an eigenvalue with positive real part, proved
        (``"interval"``) or seen in floating point only (``"float"``).
        ``inconclusive``: Newton's method or the enclosure failed, an
        eigenvalue lies within rounding of the imaginary axis, or the
        re-check failed.
    """
    global_note = _global_stability_note(contraction)
    with threadpool_limits(limits=1):
        result = _examine(network, equilibrium, global_note, exact_limit=exact_limit, tol=tol)
    # The equilibrium record (x, residual, enclosure radius) belongs with the evidence.
    result.evidence["equilibrium"] = result.details.pop("equilibrium")
    if result.status == REFUTED and contraction is not None and contraction.certified:
        # A contracting network has only stable equilibria, so one of the two is wrong.
        warnings.warn(f"linearization refutes the stability of an equilibrium of a network "
                      f"certified contracting by {contraction.method}; please report this "
                      "contradiction as a ctdyn bug", CtdynWarning, stacklevel=2)
    return result


def _examine(network, equilibrium, global_note: str, *, exact_limit: int,
             tol: float) -> Certificate:
    point = _resolve_equilibrium(network, equilibrium, tol)
    details: dict = {"equilibrium": point.to_dict()}
    if global_note:
        details["global_stability"] = global_note
    if not point.converged:
        return _inconclusive(f"Newton's method did not converge (residual {point.residual:.3g})",
                             details)

    enclosure = enclose_equilibrium(network, point.x)
    jacobian = enclosure.jacobian if enclosure is not None else network.jacobian(point.x)
    poles = _spectrum(jacobian, details)
    leading = complex(poles[0])
    tolerance = AXIS_TOLERANCE * max(1.0, float(np.max(np.sum(np.abs(jacobian), axis=1))))
    if abs(leading.real) <= tolerance:
        return _inconclusive(f"an eigenvalue ({_format(leading)}) lies within rounding "
                             f"({tolerance:.2g}) of the imaginary axis", details)

    if enclosure is None:
        if leading.real > 0:
            return _refuted(point.x, leading, "float", None, details,
                            "the equilibrium could not be enclosed, so the unstable eigenvalue "
                            "is a floating-point finding at the Newton point")
        return _inconclusive("Krawczyk's test could not enclose the equilibrium, so the "
                             "Jacobian at the true equilibrium is not bounded", details)

    details["equilibrium"]["enclosure_radius"] = enclosure.radius
    details["enclosure"] = {"radius": enclosure.radius, "iterations": enclosure.iterations}
    exact = network.n <= exact_limit
    if leading.real < 0:
        return _certify_stable(point, enclosure, -leading.real, exact, details)
    return _refute_unstable(point, enclosure, poles, exact, details)


# -- stable case ---------------------------------------------------------------


@dataclass
class _Proof:
    """Figures of a passed set of matrix inequality checks."""

    rate: float
    margin: float
    norm_bound: float
    offset: float
    checked: str


def _certify_stable(point: Equilibrium, enclosure: EquilibriumEnclosure, decay: float,
                    exact: bool, details: dict) -> Certificate:
    jacobian = enclosure.jacobian
    delta = enclosure.jacobian_error_norm()
    identity = np.eye(jacobian.shape[0])
    failures = []
    for fraction in SHIFT_FRACTIONS:
        shift = fraction * decay
        lyapunov = solve_lyapunov(jacobian + shift * identity, identity)
        proof, failure = _prove_decay(jacobian, lyapunov.solution, delta, exact=exact)
        if proof is None:
            failures.append(f"shift {shift:.3g}: {failure}")
            continue

        details["lyapunov"] = lyapunov.to_dict(shift)
        evidence = _evidence(enclosure, lyapunov.solution, proof, delta, shift=shift)
        reason = (f"equilibrium enclosed in a box of radius {enclosure.radius:.2g}; "
                  f"V = e^T P e decays as dV/dt <= -2c V with c = {proof.rate:.6g} for every "
                  "Jacobian within the enclosure's error bound")
        details["rate_meaning"] = ("|x(t) - x*|_P <= exp(-rate t) |x(0) - x*|_P for x(0) in the "
                                   "largest P-ellipsoid around x* inside the enclosure box")
        return Certificate(method=METHOD, claim=CLAIM, status=CERTIFIED, rate=proof.rate,
                           metric={"norm": "quadratic", "P": lyapunov.solution.tolist()},
                           checked="interval", margin=proof.margin, reason=reason,
                           evidence=evidence, details=details)
    return _inconclusive("the Lyapunov matrix did not pass the re-check ("
                         + "; ".join(failures) + ")", details)


def _prove_decay(jacobian: np.ndarray, lyapunov: np.ndarray, delta: float, *,
                 exact: bool) -> tuple[_Proof | None, str]:
    r"""Prove :math:`S^TP + PS \prec -2cP` for all :math:`\|S - A\|_2 \le \delta`."""
    if not np.all(np.isfinite(lyapunov)):
        return None, "the Lyapunov solution is not finite"
    eigenvalues = np.linalg.eigvalsh(lyapunov)
    if not eigenvalues[0] > 0:
        return None, "P is not positive definite in floating point"
    norm_bound = _norm_bound(eigenvalues)
    for check in (_check_definite(lyapunov, exact=exact),
                  _check_norm_bound(lyapunov, norm_bound, sign=1, exact=exact)):
        if not check.passed:
            return None, f"P or beta I - P failed: {check.detail}"

    offset = round_up(2 * Fraction(norm_bound) * Fraction(delta))
    quadratic = -(jacobian.T @ lyapunov + lyapunov @ jacobian) - offset * np.eye(len(eigenvalues))
    try:
        pencil = scipy.linalg.eigh(quadratic, lyapunov, eigvals_only=True)
    except np.linalg.LinAlgError as error:
        return None, f"the generalized eigenvalue problem failed ({error})"
    proposed = float(pencil[0]) / 2
    if not proposed > 0:
        return None, f"the rate this P proves is not positive ({proposed:.3g})"

    detail = ""
    for backoff in RATE_BACKOFFS:
        rate = proposed * (1.0 - backoff)
        check = _check_lyapunov_inequality(jacobian, lyapunov, sign=-1, rate=rate, offset=offset,
                                           exact=exact)
        if check.passed:
            return _Proof(rate, check.margin, norm_bound, offset, check.checked), ""
        detail = check.detail
    return None, f"-(A^T P + P A) - t I - 2 c P > 0 failed ({detail})"


# -- unstable case -------------------------------------------------------------


def _refute_unstable(point: Equilibrium, enclosure: EquilibriumEnclosure, poles: np.ndarray,
                     exact: bool, details: dict) -> Certificate:
    jacobian = enclosure.jacobian
    leading = complex(poles[0])
    delta = enclosure.jacobian_error_norm()
    identity = np.eye(jacobian.shape[0])
    failures = []
    for shift in _growth_shifts(poles):
        lyapunov = solve_lyapunov(jacobian - shift * identity, -identity)
        failure = _prove_growth(jacobian, lyapunov.solution, delta, shift, exact=exact)
        if not failure:
            break
        failures.append(f"shift {shift:.3g}: {failure}")
    else:
        return _refuted(point.x, leading, "float", None, details,
                        "the interval proof of instability failed (" + "; ".join(failures)
                        + "); the eigenvalue is a floating-point finding")
    details["lyapunov"] = lyapunov.to_dict(-shift)
    note = (f"inside the enclosure box (radius {enclosure.radius:.2g}) every Jacobian has an "
            f"eigenvalue with real part > {shift:.6g}: (A - sI)^T P + P (A - sI) > 0 was proved "
            "with a P of positive inertia, so x* is unstable (Chetaev)")
    return _refuted(point.x, leading, "interval", enclosure, details, note)


def _growth_shifts(poles: np.ndarray) -> list[float]:
    r"""Return shifts :math:`\sigma \in (0, \max\operatorname{Re}\lambda)` to try.

    :math:`(A - \sigma I)^T P + P (A - \sigma I) = I` is singular when
    :math:`\operatorname{Re}(\lambda_i + \lambda_j) = 2\sigma` for a pair
    of eigenvalues, so shifts near such pairs are skipped.
    """
    real_parts = np.real(poles)
    abscissa = float(real_parts[0])
    pair_sums = np.add.outer(real_parts, real_parts).ravel()
    shifts = []
    for fraction in GROWTH_SHIFT_FRACTIONS:
        shift = fraction * abscissa
        if np.min(np.abs(pair_sums - 2 * shift)) > 1e-3 * abscissa:
            shifts.append(shift)
    return shifts


def _prove_growth(jacobian: np.ndarray, lyapunov: np.ndarray, delta: float, shift: float, *,
                  exact: bool) -> str:
    r"""Prove :math:`(S - \sigma I)^TP + P(S - \sigma I) \succ 0` near A with P not negative.

    Returns an empty string on success, else the reason of the failure.
    """
    if not np.all(np.isfinite(lyapunov)):
        return "the Lyapunov solution is not finite"
    eigenvalues, vectors = np.linalg.eigh(lyapunov)
    if not eigenvalues[-1] > 0:
        return "P has no positive eigenvalue in floating point"
    norm_bound = _norm_bound(np.abs(eigenvalues))
    for sign in (1, -1):
        check = _check_norm_bound(lyapunov, norm_bound, sign=sign, exact=exact)
        if not check.passed:
            return f"beta I -+ P failed: {check.detail}"
    if not _positive_quadratic_form(lyapunov, vectors[:, -1], exact=exact):
        return "v^T P v > 0 could not be proved"
    offset = round_up(2 * Fraction(norm_bound) * Fraction(delta))
    check = _check_lyapunov_inequality(jacobian, lyapunov, sign=1, rate=shift, offset=offset,
                                       exact=exact)
    return "" if check.passed else f"A^T P + P A - 2 s P - t I > 0 failed: {check.detail}"


# -- matrix inequality checks ------------------------------------------------------


def _norm_bound(absolute_eigenvalues: np.ndarray) -> float:
    """Return a float a little above the largest |eigenvalue|, proved later."""
    largest = float(np.max(absolute_eigenvalues))
    return round_up(Fraction(largest) * Fraction(1 + 2**-20) + Fraction(2.0**-900))


def _check_definite(matrix: np.ndarray, *, exact: bool) -> DefiniteCheck:
    """Prove a float matrix, taken as exact, positive definite."""
    if exact:
        return is_positive_definite_exact(rational_matrix(matrix))
    return is_positive_definite_interval(matrix)


def _check_norm_bound(lyapunov: np.ndarray, norm_bound: float, *, sign: int,
                      exact: bool) -> DefiniteCheck:
    r"""Prove :math:`\beta I - \text{sign}\,P \succ 0`."""
    n = lyapunov.shape[0]
    if exact:
        shifted = _identity(n) * _fmpq(Fraction(norm_bound)) - rational_matrix(lyapunov) * sign
        return is_positive_definite_exact(shifted)
    # Only the diagonal entries beta - sign p_ii are rounded, each by at most u |result|.
    shifted = norm_bound * np.eye(n) - sign * lyapunov
    largest = float(np.max(np.abs(np.diag(shifted))))
    return is_positive_definite_interval(shifted, round_up(Fraction(largest) * Fraction(2 * _U)))


def _check_lyapunov_inequality(jacobian: np.ndarray, lyapunov: np.ndarray, *, sign: int,
                               rate: float, offset: float, exact: bool) -> DefiniteCheck:
    r"""Check :math:`\pm(A^TP + PA) - 2\,\text{rate}\,P - \text{offset}\,I \succ 0`."""
    if exact:
        return is_positive_definite_exact(
            _exact_lyapunov_matrix(jacobian, lyapunov, sign=sign, rate=rate, offset=offset))
    matrix, error = _float_lyapunov_matrix(jacobian, lyapunov, sign=sign, rate=rate, offset=offset)
    return is_positive_definite_interval(matrix, error)


def _exact_lyapunov_matrix(jacobian, lyapunov, *, sign: int, rate: float, offset: float):
    a = rational_matrix(jacobian)
    p = rational_matrix(lyapunov)
    n = a.nrows()
    product = a.transpose() * p
    symmetric = product + product.transpose()
    identity = _identity(n)
    result = symmetric * sign - p * _fmpq(2 * Fraction(rate)) - identity * _fmpq(Fraction(offset))
    return result


def _float_lyapunov_matrix(jacobian, lyapunov, *, sign: int, rate: float, offset: float):
    r"""Return fl(M) and a bound on :math:`\|M - fl(M)\|_2` (Frobenius norm of the bound)."""
    n = jacobian.shape[0]
    product = jacobian.T @ lyapunov
    product_error = matmul_error_bound(jacobian.T, lyapunov)
    symmetric = product + product.T
    scaled = (2.0 * rate) * lyapunov
    identity = np.eye(n)
    matrix = sign * symmetric - scaled - offset * identity
    entry_error = (product_error + product_error.T) * (1 + 2 * _U) \
        + 4 * _U * (np.abs(symmetric) + np.abs(scaled) + offset * identity + np.abs(matrix))
    return matrix, _frobenius_upper(entry_error)


def _frobenius_upper(bound: np.ndarray) -> float:
    total = math.fsum(float(value) ** 2 for value in np.ravel(bound))
    total = round_up(Fraction(total) * Fraction(1 + 4 * _U)) if total else 0.0
    return round_up(math.sqrt(total) * (1 + 2 * _U))


def _positive_quadratic_form(matrix: np.ndarray, vector: np.ndarray, *, exact: bool) -> bool:
    if exact:
        v = rational_vector(vector)
        value = (v.transpose() * rational_matrix(matrix) * v)[0, 0]
        return value > 0
    product = matrix @ vector
    value = float(vector @ product)
    error = float(np.abs(vector) @ matmul_error_bound(matrix, vector)) \
        + gamma(len(vector) + 2) * float(np.abs(vector) @ np.abs(product))
    return value > 2 * error


def _identity(n: int) -> flint.fmpq_mat:
    identity = flint.fmpq_mat(n, n)
    for i in range(n):
        identity[i, i] = 1
    return identity


def _fmpq(value: Fraction) -> flint.fmpq:
    return flint.fmpq(value.numerator, value.denominator)


# -- python-control ------------------------------------------------------------


@dataclass
class LyapunovSolution:
    r"""Solution :math:`P` of :math:`M^T P + P M + Q = 0`, symmetrized.

    Attributes
    ----------
    solution : ndarray
    solver : str
        ``"control.lyap"`` or ``"scipy.linalg.solve_continuous_lyapunov"``.
    residual : float
        :math:`\max |M^T P + P M + Q|` in floating point.
    seconds : float
    """

    solution: np.ndarray
    solver: str
    residual: float
    seconds: float

    def to_dict(self, shift: float) -> dict:
        return {"solver": self.solver, "residual": self.residual, "solve_time_s": self.seconds,
                "shift": shift}


def solve_lyapunov(matrix: np.ndarray, q: np.ndarray) -> LyapunovSolution:
    r"""Solve :math:`M^T P + P M + Q = 0` with ``control.lyap``, else scipy.

    ``control.lyap(A, Q)`` solves :math:`A X + X A^T + Q = 0`
    (python-control 0.10), so it is called with :math:`A = M^T`. BLAS runs on
    one thread, because competing OpenBLAS pools slow these solves down many
    times over.
    """
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        try:
            solution = np.asarray(control.lyap(matrix.T, q), dtype=float)
            solver = "control.lyap"
        except (ValueError, TypeError, ImportError, NotImplementedError) as error:
            # NOTE: without slycot, python-control 0.10 solves with scipy itself,
            # so this branch runs only when slycot raises; no test reaches it.
            logger.warning("control.lyap failed (%s); using scipy.linalg.solve_continuous_lyapunov",
                           error)
            solution = scipy.linalg.solve_continuous_lyapunov(matrix.T, -q)
            solver = "scipy.linalg.solve_continuous_lyapunov"
    solution = (solution + solution.T) / 2
    residual = float(np.max(np.abs(matrix.T @ solution + solution @ matrix + q)))
    return LyapunovSolution(solution, solver, residual, time.perf_counter() - start)


def _spectrum(jacobian: np.ndarray, details: dict) -> np.ndarray:
    """Record the poles of ss(A, I, I, 0) in details; return them, rightmost first."""
    n = jacobian.shape[0]
    with threadpool_limits(limits=1):
        system = control.ss(jacobian, np.eye(n), np.eye(n), np.zeros((n, n)))
        poles = np.asarray(system.poles(), dtype=complex)
    order = np.argsort(-poles.real, kind="stable")
    poles = poles[order]
    details["eigenvalues"] = [[float(p.real), float(p.imag)] for p in poles]
    details["spectral_abscissa"] = float(poles[0].real)
    details["local_decay_rate"] = float(-poles[0].real)
    return poles


# -- results -----------------------------------------------------------------------


def _evidence(enclosure, lyapunov, proof: _Proof, delta: float, *, shift: float) -> dict:
    return {
        "P": lyapunov.tolist(),
        "rate_exact": str(Fraction(proof.rate)),
        "enclosure_radii": enclosure.radii.tolist(),
        "jacobian": enclosure.jacobian.tolist(),
        "jacobian_error_norm": delta,
        "norm_bound": proof.norm_bound,
        "offset": proof.offset,
        "lyapunov_shift": shift,
        "inequality_checked": proof.checked,
    }


def _refuted(x: np.ndarray, eigenvalue: complex, checked: str, enclosure, details: dict,
             note: str) -> Certificate:
    witness = {
        "kind": "unstable_jacobian",
        "state": x.tolist(),
        "eigenvalue": [float(eigenvalue.real), float(eigenvalue.imag)],
        "checked": checked,
        "note": note,
    }
    if enclosure is not None:
        witness["enclosure_radius"] = enclosure.radius
    reason = f"the Jacobian at the equilibrium has the eigenvalue {_format(eigenvalue)}"
    return Certificate(method=METHOD, claim=CLAIM, status=REFUTED, checked=checked,
                       reason=reason, witness=witness, details=details)


def _inconclusive(reason: str, details: dict) -> Certificate:
    return Certificate(method=METHOD, claim=CLAIM, status=INCONCLUSIVE, reason=reason,
                       details=details)


def _format(value: complex) -> str:
    return f"{value.real:.6g}{value.imag:+.6g}i"


def _resolve_equilibrium(network, equilibrium, tol: float) -> Equilibrium:
    if isinstance(equilibrium, Equilibrium):
        return equilibrium
    return find_equilibrium(network, equilibrium, tol=tol)


def _global_stability_note(contraction) -> str:
    if contraction is None:
        return ""
    if not isinstance(contraction, Certificate) or contraction.claim != "contraction":
        raise InvalidModelError("contraction", "a Certificate with claim 'contraction'",
                                contraction, "Pass the result of a contraction certifier, or None.")
    if contraction.status != CERTIFIED:
        return f"not established: the contraction certificate given is {contraction.status}"
    return (f"the equilibrium is unique and globally exponentially stable: {contraction.method} "
            f"certified contraction with rate {contraction.rate:.6g} in its metric, so every "
            "trajectory converges to it at that rate")
