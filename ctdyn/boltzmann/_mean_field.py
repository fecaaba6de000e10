r"""Mean-field dynamics of a Boltzmann machine and its contraction certificate.

The naive mean-field magnetizations :math:`m` of a Boltzmann machine follow

.. math:: \dot m = -m + \tanh\big((W m + b)/T\big) \quad (\{-1,1\} \text{ states}),
          \qquad \dot m = -m + \sigma\big((W m + b)/T\big) \quad (\{0,1\} \text{ states}),

a firing-rate network with weights :math:`W/T`, input :math:`b/T` and an
activation of slope at most :math:`s` (:math:`s = 1` for tanh and
:math:`s = 1/4` for the logistic :math:`\sigma`). Its fixed points are the
mean-field equations :math:`m = \tanh((Wm+b)/T)`.

Certificate. Every Jacobian is :math:`J = -I + D W / T` with :math:`D`
diagonal, :math:`0 \le D \le s I`. In the Euclidean norm the log-norm is
:math:`\mu_2(J) = \lambda_{\max}((J + J^T)/2) \le -1 + \|D W\|_2 / T \le -1
+ s \|W\|_2 / T`, and for symmetric :math:`W`, :math:`\|W\|_2 = \max_i
|\lambda_i(W)|`. So for every :math:`\rho \ge \|W\|_2` with :math:`T > s
\rho` the dynamics contract with rate :math:`c = 1 - s\rho/T`: the fixed
point is unique and attracts every trajectory exponentially. ctdyn takes
:math:`\rho` slightly above the computed spectral norm and proves
:math:`\rho I - W \succ 0` and :math:`\rho I + W \succ 0` exactly (rational
LDL^T pivots) or, above :data:`EXACT_SIZE_LIMIT` units, by the rigorous
floating-point test; :math:`c > 0` is then checked in rationals. The proof
is in proofs/boltzmann.md.

Below the bound the certificate looks for two distinct fixed points, each
enclosed by Krawczyk's test (:func:`ctdyn.certify._equilibrium.enclose_equilibrium`)
in disjoint boxes, which refutes contraction in every norm. Without such a
witness it runs the core LMI certificates on the exact Jacobian set
(:func:`mean_field_jacobian_set`), which may find a quadratic metric where
the Euclidean one fails.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction

import flint
import numpy as np

from .._exact import rational_matrix
from ..certify._certificate import CERTIFIED, INCONCLUSIVE, REFUTED, Certificate
from ..models import FiringRateNetwork, JacobianSet
from ..verify import is_positive_definite_exact, is_positive_definite_interval

__all__ = ["mean_field_network", "mean_field_certificate", "mean_field_jacobian_set", "slope_bound",
           "contraction_temperature", "EXACT_SIZE_LIMIT"]

logger = logging.getLogger(__name__)

# The exact check of rho I -/+ W grows fast with n: measured on 2 cores,
# 0.3 s at n = 64, 6 s at n = 128 and 63 s at n = 200 for Gaussian weights.
# Larger machines use the rigorous floating-point test.
EXACT_SIZE_LIMIT = 64
# rho = (1 + RHO_RELATIVE_SLACK) * ||W||_2 + RHO_ABSOLUTE_SLACK, so that the
# exact check passes despite the rounding of the float eigenvalues.
RHO_RELATIVE_SLACK = 1e-9
RHO_ABSOLUTE_SLACK = 1e-12
# Random starts tried for the fixed-point search below the bound.
_RANDOM_STARTS = 6


def slope_bound(states: str) -> Fraction:
    """Return the maximum slope of the mean-field activation: 1 for tanh, 1/4 for the logistic."""
    return Fraction(1) if states == "pm1" else Fraction(1, 4)


def mean_field_network(model) -> FiringRateNetwork:
    r"""Return the mean-field dynamics as a :class:`~ctdyn.models.FiringRateNetwork`.

    The weights are :math:`W/T` and the input :math:`b/T`, both rounded to
    double precision (exact when :math:`T` is a power of two).
    """
    temperature = model.temperature
    activation = "tanh" if model.states == "pm1" else "sigmoid"
    return FiringRateNetwork(model.full_weights / temperature, input=model.full_bias / temperature,
                             activation=activation)


def contraction_temperature(model) -> float:
    r"""Return :math:`s \|W\|_2`, the temperature above which the certificate applies (float)."""
    spectral_norm = _spectral_norm(model.full_weights)
    return float(slope_bound(model.states)) * spectral_norm


def _spectral_norm(weights: np.ndarray) -> float:
    eigenvalues = np.linalg.eigvalsh(weights)
    return float(np.max(np.abs(eigenvalues)))


def _prove_norm_bound(weights: np.ndarray, rho: float) -> tuple[bool, str, float]:
    r"""Prove :math:`\rho I \pm W \succ 0`; return (passed, checked, smallest margin)."""
    n = weights.shape[0]
    margins = []
    if n <= EXACT_SIZE_LIMIT:
        exact_weights = rational_matrix(weights)
        identity = flint.fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
        scaled = identity * flint.fmpq(*Fraction(rho).as_integer_ratio())
        for sign in (1, -1):
            check = is_positive_definite_exact(scaled - exact_weights * sign)
            if not check.passed:
                return False, "exact", check.margin
            margins.append(check.margin)
        return True, "exact", min(margins)
    # rho I - W and rho I + W are exact in floating point: W has a zero diagonal.
    for sign in (1, -1):
        matrix = rho * np.eye(n) - sign * weights
        check = is_positive_definite_interval(matrix, 0.0)
        if not check.passed:
            return False, "interval", check.margin
        margins.append(check.margin)
    return True, "interval", min(margins)


def _round_down(value: Fraction) -> float:
    number = float(value)
    return math.nextafter(number, -math.inf) if Fraction(number) > value else number


def mean_field_certificate(model, *, seed: int = 0) -> Certificate:
    r"""Certify or refute contraction of the mean-field dynamics.

    Returns
    -------
    Certificate
        ``certified`` with rate :math:`1 - s\rho/T` in the Euclidean norm
        when :math:`T > s\rho` is proved; ``refuted`` with two enclosed fixed
        points (or, failing that, an unstable Jacobian) as witness;
        ``certified`` in a quadratic metric when, without a witness, a core
        LMI certificate succeeds; ``inconclusive`` otherwise.
    """
    weights = model.full_weights
    slope = slope_bound(model.states)
    spectral_norm = _spectral_norm(weights)
    largest_eigenvalue = float(np.max(np.linalg.eigvalsh(weights)))
    rho = spectral_norm * (1.0 + RHO_RELATIVE_SLACK) + RHO_ABSOLUTE_SLACK
    temperature = Fraction(model.temperature)
    details = {
        "spectral_norm": spectral_norm,
        "largest_eigenvalue": largest_eigenvalue,
        "slope_bound": str(slope),
        "contraction_temperature": float(slope) * spectral_norm,
        "uniqueness_temperature": float(slope) * max(largest_eigenvalue, 0.0),
        "temperature": model.temperature,
    }
    rate_exact = 1 - slope * Fraction(rho) / temperature

    if rate_exact > 0:
        passed, checked, margin = _prove_norm_bound(weights, rho)
        if passed:
            evidence = {"rho": rho, "rho_exact": str(Fraction(rho)),
                        "rate_exact": str(rate_exact),
                        "checked_inequalities": "rho I - W > 0, rho I + W > 0, "
                                                "T > slope_bound * rho"}
            return Certificate(
                method="mean_field", claim="contraction", status=CERTIFIED,
                rate=_round_down(rate_exact), metric={"norm": "l_2"}, checked=checked,
                margin=margin,
                reason=f"T = {model.temperature:.6g} > {float(slope):g} * ||W||_2 = "
                       f"{float(slope) * spectral_norm:.6g}: the mean-field fixed point is "
                       "unique and globally attracting",
                evidence=evidence, details=details)
        logger.info("norm bound rho = %.17g not proved (%s margin %.3g)", rho, checked, margin)

    witness = _find_witness(model, seed=seed)
    if witness is None:
        metric_certificate = _lmi_certificate(model, details)
        if metric_certificate is not None:
            return metric_certificate
    if witness is not None:
        described = ("two distinct mean-field fixed points" if witness["kind"] == "two_equilibria"
                     else "a mean-field Jacobian with an eigenvalue of nonnegative real part")
        return Certificate(
            method="mean_field", claim="contraction", status=REFUTED,
            checked=witness.get("checked", "float"), witness=witness,
            reason=f"T = {model.temperature:.6g} <= {float(slope):g} * ||W||_2 = "
                   f"{float(slope) * spectral_norm:.6g} and the dynamics have {described}",
            details=details)
    return Certificate(
        method="mean_field", claim="contraction", status=INCONCLUSIVE,
        reason=f"T = {model.temperature:.6g} is not above {float(slope):g} * ||W||_2 = "
               f"{float(slope) * spectral_norm:.6g} (or the bound was not proved), no "
               "second fixed point or unstable Jacobian was found, and the LMI methods "
               "found no metric (they run up to 100 units)",
        details=details)


def mean_field_jacobian_set(model) -> JacobianSet:
    r"""Return the Jacobian set :math:`\{-I + D W : 0 \preceq D \preceq (s/T) I\}`.

    :math:`W` and :math:`s/T` are exact (a float matrix and a Fraction).

    Every Jacobian of the mean-field dynamics of the machine as written (not
    of the network with :math:`W/T` rounded) lies in this set, so the core
    certificates apply to it exactly.
    """
    weights = model.full_weights
    return JacobianSet(weights=weights, leak=np.ones(model.n), side="left",
                       slope_min=Fraction(0),
                       slope_max=slope_bound(model.states) / Fraction(model.temperature))


def _lmi_certificate(model, details: dict) -> Certificate | None:
    """Search a quadratic metric with the core LMI when the Euclidean bound fails."""
    from ..analysis import LMI_SIZE_LIMITS
    from ..certify._lmi import lmi_contraction
    from ..errors import SolverError

    for method, metric in (("lmi_euclidean", "full"), ("lmi_diagonal", "diagonal")):
        if model.n > LMI_SIZE_LIMITS[method]:
            continue
        try:
            certificate = lmi_contraction(mean_field_jacobian_set(model), metric=metric)
        except SolverError as error:
            logger.info("mean-field %s failed: %s", method, error)
            continue
        if certificate.certified:
            return Certificate(
                method="mean_field", claim="contraction", status=CERTIFIED,
                rate=certificate.rate, metric=certificate.metric, checked=certificate.checked,
                margin=certificate.margin,
                reason=f"T = {model.temperature:.6g} is below the Euclidean bound, but the "
                       f"core {method} certificate found a quadratic metric",
                evidence=certificate.evidence,
                details={**details, "metric_method": method, **certificate.details})
    return None


def _fixed_point_starts(model, rng) -> list[np.ndarray]:
    """Return starts that reach the ordered fixed points of ferromagnetic-like couplings."""
    n = model.n
    eigenvalues, vectors = np.linalg.eigh(model.full_weights)
    leading = vectors[:, int(np.argmax(eigenvalues))]
    directions = [np.sign(leading) + (leading == 0), leading / np.max(np.abs(leading))]
    directions += [rng.choice([-1.0, 1.0], size=n) for _ in range(_RANDOM_STARTS)]
    starts = [np.zeros(n)]
    for direction in directions:
        for sign in (1.0, -1.0):
            starts.append(0.9 * sign * direction)
    if model.states == "01":
        starts = [0.5 + 0.5 * start for start in starts]
    return starts


def _find_witness(model, *, seed: int) -> dict | None:
    from ..certify._witness import contraction_witness

    network = mean_field_network(model)
    rng = np.random.default_rng(seed)
    starts = _fixed_point_starts(model, rng)
    witness = contraction_witness(network, equilibria=starts, seed=seed,
                                  kinds=("two_equilibria",))
    if witness is None or witness.get("checked") == "float":
        unstable = contraction_witness(network, seed=seed, kinds=("unstable_jacobian",))
        if unstable is not None and (witness is None or unstable.get("checked") != "float"):
            witness = unstable
    if witness is not None:
        # NOTE: the enclosures and Jacobians are those of the network with
        # W/T and b/T rounded to double precision, not of the exact quotients.
        witness = dict(witness)
        witness["network"] = "m' = -m + phi(fl(W/T) m + fl(b/T))"
    return witness
