r"""Certificates for stored patterns of the continuous two-layer memory.

``pattern_stability`` (claim ``local_stability``)
    Pattern :math:`\xi` is an equilibrium with feature output
    :math:`g(v^*) = \xi` iff :math:`\xi_i v^*_i \ge 1` for all i, where
    :math:`h^* = \Xi \xi` and :math:`v^* = \Xi^T F'(h^*)` are the only
    candidates. The margin :math:`r_0 = \min_i \xi_i v^*_i - 1` is computed
    exactly (integers over :math:`N^{n-2}` for the polynomials) or as an arb
    ball (exponential). If :math:`r_0 > 0`, g is constant on a neighbourhood
    of :math:`v^*`, the Jacobian there is block upper triangular with
    diagonal blocks :math:`-I/\tau_f` and :math:`-I/\tau_h`, and its
    spectrum is exactly :math:`\{-1/\tau_f, -1/\tau_h\}`: certified, with
    that decay rate. If :math:`r_0 < 0` the pattern is refuted, and the
    witness is the neuron with :math:`\xi_i v^*_i < 1`. A margin that is
    exactly 0 (an equilibrium on the kink of the hard tanh) is inconclusive.
``basin`` (claim ``retrieval``)
    A ball :math:`\{x : \|x - x^*\|_\eta \le r\}` in the weighted norm
    :math:`\|x\|_\eta = \max_i |x_i| / \eta_i`, with :math:`\eta_v = 1` and
    memory weights :math:`\eta_{h_\nu} = w_\nu`, and :math:`r < r_0`. On the
    ball every feature neuron stays saturated, so :math:`g' = 0` and the
    weighted log-norm of the Jacobian is at most
    :math:`\max\bigl((-1 + \sum_\nu w_\nu S_\nu)/\tau_f,\; -1/\tau_h\bigr)`
    with :math:`S_\nu \ge \max |F''|` over the ball's range of
    :math:`h_\nu`. When this is :math:`-c < 0` (checked with arb balls), the
    ball is forward invariant and every trajectory from it converges to the
    pattern's equilibrium at rate c. The ball lies in the region where
    :math:`g(v) = \xi`, so it shows that the memory layer may start far from
    :math:`h^*` (radius :math:`r w_\nu`) and the feature currents far from
    :math:`v^*`, not that a corrupted feature output is repaired.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import flint
import numpy as np

from ..certify._certificate import CERTIFIED, INCONCLUSIVE, REFUTED, Certificate
from ._continuous import TwoLayerMemory

__all__ = ["PatternCheck", "check_patterns", "stability_certificate", "basin_certificate",
           "MAX_EXACT_WORK"]

logger = logging.getLogger(__name__)

# Exact products Xi^T F'(Xi Xi^T) cost about K * K * N big-integer or ball
# operations; above this many the certificates report inconclusive.
MAX_EXACT_WORK = 5 * 10**7
# The certified ball uses this fraction of the saturation margin r_0.
BASIN_FRACTION = 0.99
# Memory weights are halved until sum_nu w_nu S_nu <= 1/2 in floating point.
_WEIGHT_TARGET = 0.5
_MAX_HALVINGS = 2000


@dataclass
class PatternCheck:
    """Exact stability data of one stored pattern.

    Attributes
    ----------
    index : int
    margin : flint.fmpq or flint.arb
        :math:`r_0 = \\min_i \\xi_i v^*_i - 1`.
    sign : int or None
        Sign of the margin (1, 0 or -1), or None when the arb ball contains 0.
    worst_neuron : int
        A neuron attaining the minimum.
    checked : {"exact", "interval"}
    basin : dict or None
        Radius, memory weights and rate of the certified ball, once computed.
    """

    index: int
    margin: object
    sign: int | None
    worst_neuron: int
    checked: str
    basin: dict | None = field(default=None)

    @property
    def margin_float(self) -> float:
        if isinstance(self.margin, flint.fmpq):
            return int(self.margin.p) / int(self.margin.q)
        return float(self.margin.mid())


def check_patterns(model: TwoLayerMemory) -> list[PatternCheck] | str:
    """Return the exact margins of every stored pattern, or the reason they were not computed."""
    k, n = model.memories, model.neurons
    if k * k * n > MAX_EXACT_WORK:
        return (f"K^2 N = {k * k * n} exceeds the exact-arithmetic limit of {MAX_EXACT_WORK} "
                "for this certificate")
    xi = model.patterns.astype(np.int64)
    gram = xi @ xi.T  # exact: entries at most N in magnitude
    if model.separation.kind == "exponential":
        return _arb_margins(model, gram)
    return _exact_margins(model, gram)


def _exact_margins(model: TwoLayerMemory, gram: np.ndarray) -> list[PatternCheck]:
    n = model.separation.degree
    size = model.neurons
    bases = np.maximum(gram, 0) if model.separation.kind == "rectified_polynomial" else gram
    # powers[nu, mu] = F'(h*_nu of pattern mu) * N^(n-2), an exact integer.
    powers = flint.fmpz_mat([[int(value) ** (n - 1) for value in row] for row in bases.tolist()])
    transposed = flint.fmpz_mat(model.patterns.T.astype(np.int64).tolist())
    fields = transposed * powers  # N x K: v*_i of pattern mu, times N^(n-2)
    scale = size ** (n - 2)
    checks = []
    for mu in range(model.memories):
        aligned = [int(fields[i, mu]) * int(model.patterns[mu, i]) for i in range(size)]
        worst = int(np.argmin(aligned))
        margin = flint.fmpq(aligned[worst], scale) - 1
        sign = (margin > 0) - (margin < 0)
        checks.append(PatternCheck(mu, margin, sign, worst, "exact"))
    return checks


def _arb_margins(model: TwoLayerMemory, gram: np.ndarray) -> list[PatternCheck]:
    separation = model.separation
    values = flint.arb_mat([[separation.derivative_ball(int(h)) for h in row]
                            for row in gram.tolist()])
    transposed = flint.arb_mat(model.patterns.T.astype(np.int64).tolist())
    fields = transposed * values
    checks = []
    for mu in range(model.memories):
        aligned = [fields[i, mu] * int(model.patterns[mu, i]) for i in range(model.neurons)]
        worst = int(np.argmin([float(value.mid()) for value in aligned]))
        margin = aligned[0]
        for value in aligned[1:]:
            margin = margin.min(value)
        margin = margin - 1
        sign = None
        if margin > 0:
            sign = 1
        elif margin < 0:
            sign = -1
        if sign == -1:
            # The witness neuron must itself be certainly below 1.
            worst = next(i for i, value in enumerate(aligned) if value < 1)
        checks.append(PatternCheck(mu, margin, sign, worst, "interval"))
    return checks


def _decay_rate(model: TwoLayerMemory) -> float:
    return min(1.0 / model.tau_feature, 1.0 / model.tau_memory)


def stability_certificate(model: TwoLayerMemory, checks: list[PatternCheck] | str) -> Certificate:
    """Certify or refute that every stored pattern is a locally stable equilibrium."""
    method, claim = "pattern_stability", "local_stability"
    if isinstance(checks, str):
        return Certificate(method=method, claim=claim, status=INCONCLUSIVE, reason=checks)

    details = {"patterns": [_pattern_record(check) for check in checks]}
    refuted = [check for check in checks if check.sign == -1]
    if refuted:
        check = refuted[0]
        witness = _not_fixed_point_witness(model, check)
        return Certificate(
            method=method, claim=claim, status=REFUTED, checked=check.checked,
            margin=check.margin_float, witness=witness, details=details,
            reason=f"{len(refuted)} of {len(checks)} patterns are not equilibria; pattern "
                   f"{check.index}: xi_i v*_i = {check.margin_float + 1:.6g} < 1 at neuron "
                   f"{check.worst_neuron}, so the feature output there is not the pattern's sign")

    undecided = [check for check in checks if check.sign != 1]
    if undecided:
        check = undecided[0]
        return Certificate(
            method=method, claim=claim, status=INCONCLUSIVE, details=details,
            reason=f"pattern {check.index} has saturation margin {check.margin_float:.3g}, not "
                   "provably positive: the equilibrium sits on the kink of the hard tanh")

    checked = "exact" if all(check.checked == "exact" for check in checks) else "interval"
    rate = _decay_rate(model)
    margin = min(check.margin_float for check in checks)
    return Certificate(
        method=method, claim=claim, status=CERTIFIED, rate=rate, checked=checked, margin=margin,
        reason=f"all {len(checks)} patterns are equilibria with every feature neuron saturated; "
               f"the Jacobian spectrum there is {{-1/tau_f, -1/tau_h}}",
        evidence={"margins": [_exact_text(check.margin) for check in checks],
                  "spectrum": [-1.0 / model.tau_feature, -1.0 / model.tau_memory]},
        details=details)


def _not_fixed_point_witness(model: TwoLayerMemory, check: PatternCheck) -> dict:
    state = model.pattern_state(check.index)
    witness = {"kind": "not_a_fixed_point", "pattern": check.index, "neuron": check.worst_neuron,
               "aligned_field": check.margin_float + 1.0,
               "aligned_field_exact": _exact_text(check.margin + 1), "checked": check.checked}
    if model.n <= 200:
        witness["state"] = state.tolist()
    return witness


def _pattern_record(check: PatternCheck) -> dict:
    record = {"pattern": check.index, "margin": check.margin_float,
              "equilibrium": {1: True, -1: False}.get(check.sign), "worst_neuron": check.worst_neuron}
    if check.basin is not None:
        record["basin_radius"] = check.basin["radius"]
        record["basin_rate"] = check.basin["rate"]
    return record


def _exact_text(value) -> str:
    if isinstance(value, flint.fmpq):
        return f"{value.p}/{value.q}" if value.q != 1 else str(value.p)
    return value.str(radius=True)


# -- basin ---------------------------------------------------------------------------


def basin_certificate(model: TwoLayerMemory, checks: list[PatternCheck] | str) -> Certificate:
    """Certify a contracting ball around every stored pattern, or refute retrieval of one."""
    method, claim = "basin", "retrieval"
    if isinstance(checks, str):
        return Certificate(method=method, claim=claim, status=INCONCLUSIVE, reason=checks)

    refuted = [check for check in checks if check.sign == -1]
    if refuted:
        check = refuted[0]
        return Certificate(
            method=method, claim=claim, status=REFUTED, checked=check.checked,
            witness=_not_fixed_point_witness(model, check),
            details={"patterns": [_pattern_record(c) for c in checks]},
            reason=f"pattern {check.index} is not an equilibrium, so no trajectory settles on it")

    failures = []
    for check in checks:
        if check.sign != 1:
            failures.append(f"pattern {check.index}: saturation margin not provably positive")
            continue
        basin = _certify_ball(model, check)
        if basin is None:
            failures.append(f"pattern {check.index}: no weights made the log-norm negative")
        check.basin = basin

    details = {"patterns": [_pattern_record(check) for check in checks]}
    if failures:
        return Certificate(method=method, claim=claim, status=INCONCLUSIVE, details=details,
                           reason="; ".join(failures[:3]))

    slowest = min(checks, key=lambda check: check.basin["rate"])
    rate = slowest.basin["rate"]
    radius = min(check.basin["radius"] for check in checks)
    # The metric of the slowest ball; every ball's own weights are in the evidence.
    metric = {"norm": "l_inf", "pattern": slowest.index,
              "weights": [1.0] * model.neurons + slowest.basin["memory_weights"]}
    # arb balls bound F'' and the sums even for the polynomials.
    checked = "interval"
    return Certificate(
        method=method, claim=claim, status=CERTIFIED, rate=rate, checked=checked,
        margin=min(check.basin["log_norm_slack"] for check in checks),
        metric=metric,
        reason=f"every pattern attracts a ball of weighted radius at least {radius:.6g} "
               f"at rate {rate:.6g}",
        evidence={"balls": [{"pattern": check.index, **check.basin} for check in checks]},
        details=details)


def _certify_ball(model: TwoLayerMemory, check: PatternCheck) -> dict | None:
    separation = model.separation
    r0 = check.margin_float
    radius = float(BASIN_FRACTION * r0)
    margin = check.margin if isinstance(check.margin, flint.arb) else flint.arb(check.margin)
    if not flint.arb(radius) < margin:
        return None
    xi = model.patterns.astype(np.int64)
    centers = xi @ xi[check.index]
    weights = _memory_weights(separation, centers.astype(float), radius, model.memories)

    # Rigorous check of sum_nu w_nu S_nu < 1 with arb balls.
    total = flint.arb(0)
    exact_radius = flint.arb(radius)
    for center, weight in zip(centers.tolist(), weights.tolist()):
        spread = exact_radius * flint.arb(weight)
        bound = separation.max_abs_second_derivative(flint.arb(center) - spread,
                                                     flint.arb(center) + spread)
        total += flint.arb(weight) * bound
    if not total < 1:
        return None
    slack = 1 - total
    feature_rate = slack / flint.arb(model.tau_feature)
    memory_rate = 1 / flint.arb(model.tau_memory)
    rate_ball = feature_rate.min(memory_rate)
    rate = _round_down(rate_ball)
    if not rate > 0:
        return None
    return {"radius": radius, "rate": rate, "log_norm_slack": _round_down(slack),
            "memory_weights": weights.tolist(), "coupling_sum_upper": float(total.upper().mid())}


def _memory_weights(separation, centers: np.ndarray, radius: float, count: int) -> np.ndarray:
    """Choose w_nu with w_nu S_nu <= 1/(2K) in floating point; the caller proves the sum."""
    weights = np.full(centers.shape, float(separation.neurons) / radius)
    for _ in range(_MAX_HALVINGS):
        spread = radius * weights
        bounds = separation.max_abs_second_derivative_float(centers - spread, centers + spread)
        too_large = weights * bounds * count > _WEIGHT_TARGET
        if not np.any(too_large):
            break
        weights[too_large] *= 0.5
    return weights


def _round_down(value: flint.arb) -> float:
    """Return a float that is at most every point of the ball ``value``."""
    lower = float(value.lower().mid())
    while not flint.arb(lower) <= value:
        lower = math.nextafter(lower, -math.inf)
    return lower
