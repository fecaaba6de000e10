r"""Kuramoto synchronization: frequency distributions, critical coupling, r(K), certificates.

Mean-field theory (Kuramoto's self-consistency argument, 1975). For :math:`n \to \infty` all-to-all oscillators with a
symmetric unimodal frequency density :math:`g` centred at 0, the stationary
order parameter solves the self-consistency equation

.. math:: 1 = K \int_{-\pi/2}^{\pi/2} \cos^2\theta\, g(K r \sin\theta)\, d\theta ,

which has a solution :math:`r > 0` iff :math:`K > K_c = 2/(\pi g(0))`. For the
Lorentzian :math:`g(\omega) = \gamma / (\pi(\gamma^2 + \omega^2))` it gives
:math:`K_c = 2\gamma` and :math:`r = \sqrt{1 - 2\gamma/K}`.

Finite all-to-all networks (:math:`a_{ij} = 1/n`), proofs/kuramoto.md.
With :math:`\nu = \omega - \bar\omega`, a phase-locked state exists if
:math:`F(u) = \frac Kn \sum_i \sqrt{1 - \nu_i^2/u^2} - u \ge 0` for some
:math:`u_0 \in [\max_i|\nu_i|, K]`: then :math:`F` has a root :math:`u^* \ge u_0`
and :math:`\theta_i = \arcsin(\nu_i / u^*)` is locked. If moreover
:math:`\arcsin(\nu_{\max}/u_0) - \arcsin(\nu_{\min}/u_0) < \pi/2`, every pair
of phases differs by less than :math:`\pi/2` and the locked state is
exponentially stable up to a common rotation. Both inequalities are
evaluated with mpmath interval arithmetic, so a ``certified`` status is
rigorous. On any graph, a locked state needs
:math:`|\nu_i| \le K \sum_j a_{ij}` for every node; a node that violates it
refutes synchronization, checked in exact rational arithmetic.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
import scipy.integrate
import scipy.optimize
import scipy.sparse.csgraph

from ..certify._certificate import CERTIFIED, INCONCLUSIVE, REFUTED, Certificate
from ..errors import InvalidModelError
from ._locking import (
    KRAWCZYK_SIZE_LIMIT,
    SPARSE_SIZE_LIMIT,
    LockedEnclosure,
    component_refutation,
    enclose_cohesive_state,
    enclose_locked_state,
    find_locked_state,
    locked_laplacian,
    unstable_direction,
)
from ._models import KuramotoNetwork, order_parameter

__all__ = ["FrequencyDistribution", "critical_coupling", "stationary_order_parameter",
           "simulate_kuramoto", "synchronization_certificate", "locked_state_certificate",
           "KuramotoTrajectory", "locked_state_on_graph"]

logger = logging.getLogger(__name__)

DISTRIBUTIONS = ("lorentzian", "gaussian", "uniform", "given")


@dataclass(frozen=True)
class FrequencyDistribution:
    r"""A natural-frequency distribution.

    Attributes
    ----------
    kind : {"lorentzian", "gaussian", "uniform", "given"}
    scale : float
        Half-width :math:`\gamma` (Lorentzian), standard deviation
        :math:`\sigma` (Gaussian) or half-width :math:`w` of the support
        :math:`[-w, w]` (uniform); unused for ``given``.
    center : float
        The centre; the theory works in the frame rotating at it.
    values : tuple of float
        The frequencies, for ``given``.
    """

    kind: str
    scale: float = 1.0
    center: float = 0.0
    values: tuple = ()

    def __post_init__(self):
        if self.kind not in DISTRIBUTIONS:
            raise InvalidModelError("distribution", "one of " + ", ".join(DISTRIBUTIONS),
                                    self.kind, "Check the spelling.")
        if self.kind != "given" and not (math.isfinite(self.scale) and self.scale > 0):
            raise InvalidModelError("scale", "a positive finite number", self.scale,
                                    "Give the width of the distribution, for example 1.0.")
        if not math.isfinite(self.center):
            raise InvalidModelError("center", "a finite number", self.center,
                                    "Give the centre frequency, for example 0.")

    def density(self, omega) -> np.ndarray:
        r"""Return :math:`g(\omega)` around the centre (``given`` has no density)."""
        x = np.asarray(omega, dtype=float) - self.center
        if self.kind == "lorentzian":
            return self.scale / (math.pi * (self.scale**2 + x**2))
        if self.kind == "gaussian":
            return np.exp(-x**2 / (2 * self.scale**2)) / (math.sqrt(2 * math.pi) * self.scale)
        if self.kind == "uniform":
            return np.where(np.abs(x) <= self.scale, 1 / (2 * self.scale), 0.0)
        raise InvalidModelError("distribution", "a distribution with a density", "given",
                                "The infinite-n theory needs lorentzian, gaussian or uniform.")

    def sample(self, n: int, *, seed: int = 0) -> np.ndarray:
        """Draw n frequencies (``given`` returns its values)."""
        if self.kind == "given":
            return np.asarray(self.values, dtype=float)
        rng = np.random.default_rng(seed)
        if self.kind == "lorentzian":
            draws = self.scale * rng.standard_cauchy(n)
        elif self.kind == "gaussian":
            draws = self.scale * rng.standard_normal(n)
        else:
            draws = rng.uniform(-self.scale, self.scale, n)
        return self.center + draws

    def to_dict(self) -> dict:
        record = {"kind": self.kind, "center": self.center}
        if self.kind != "given":
            record["scale"] = self.scale
            record["critical_coupling"] = critical_coupling(self)
        return record


def critical_coupling(distribution: FrequencyDistribution) -> float:
    r"""Return Kuramoto's :math:`K_c = 2 / (\pi g(0))` for a density centred at 0."""
    return 2.0 / (math.pi * float(distribution.density(distribution.center)))


def stationary_order_parameter(coupling: float, distribution: FrequencyDistribution) -> float:
    r"""Return the infinite-n stationary :math:`r(K)` of the partially locked state (0 below K_c).

    Closed form for the Lorentzian; otherwise the largest root in (0, 1] of
    the self-consistency equation, by quadrature and Brent's method.
    """
    if distribution.kind == "lorentzian":
        return math.sqrt(max(0.0, 1.0 - 2.0 * distribution.scale / coupling))

    def excess(r: float) -> float:
        integrand = lambda theta: (math.cos(theta) ** 2  # noqa: E731
                                   * float(distribution.density(distribution.center + coupling
                                                                * r * math.sin(theta))))
        points = None
        if distribution.kind == "uniform" and coupling * r > distribution.scale:
            cutoff = math.asin(distribution.scale / (coupling * r))
            points = [-cutoff, cutoff]
        value, _ = scipy.integrate.quad(integrand, -math.pi / 2, math.pi / 2, points=points,
                                        epsabs=1e-13, epsrel=1e-13, limit=200)
        return coupling * value - 1.0

    grid = np.linspace(1.0, 1e-6, 2001)
    values = [excess(r) for r in grid]
    for k in range(len(grid) - 1):
        if values[k] <= 0 <= values[k + 1] or values[k] >= 0 >= values[k + 1]:
            if values[k] == 0:
                return float(grid[k])
            return float(scipy.optimize.brentq(excess, grid[k + 1], grid[k], xtol=1e-14,
                                               rtol=1e-14))
    return 0.0


@dataclass
class KuramotoTrajectory:
    """Phases and the order parameter r(t) of one simulation."""

    times: np.ndarray
    order: np.ndarray
    phases: np.ndarray
    energies: np.ndarray


def simulate_kuramoto(network: KuramotoNetwork, *, t_final: float = 50.0, dt: float = 0.02,
                      initial=None, seed: int = 0, samples: int = 200) -> KuramotoTrajectory:
    r"""Integrate the network with classical RK4 and record r(t) and the energy.

    Parameters
    ----------
    initial : array, optional
        Initial phases of shape (n,) or (n, batch); uniform on the circle by default.
    samples : int
        Number of recorded times.
    """
    rng = np.random.default_rng(seed)
    phases = (rng.uniform(-math.pi, math.pi, network.n) if initial is None
              else np.array(initial, dtype=float, copy=True))
    steps = max(int(math.ceil(t_final / dt)), 1)
    times, states = _integrate_rk4(network.vector_field, phases, t_final, steps, samples)
    orders = [order_parameter(state) for state in states]
    energies = [network.energy(state) for state in states]
    return KuramotoTrajectory(times, np.array(orders), states, np.array(energies))


def _integrate_rk4(field, state: np.ndarray, t_final: float, steps: int,
                   samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Integrate with ``steps`` classical RK4 steps of equal size up to ``t_final``.

    Records the state at t = 0, after every ``max(steps // samples, 1)``
    steps and at ``t_final``, and returns the times and the stacked states.
    """
    dt = t_final / steps
    record_every = max(steps // samples, 1)
    times = [0.0]
    states = [state.copy()]
    for step in range(1, steps + 1):
        k1 = field(state)
        k2 = field(state + dt / 2 * k1)
        k3 = field(state + dt / 2 * k2)
        k4 = field(state + dt * k3)
        state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if step % record_every == 0 or step == steps:
            times.append(step * dt)
            states.append(state.copy())
    return np.array(times), np.array(states)


# -- certificates -----------------------------------------------------------------------


def synchronization_certificate(network: KuramotoNetwork) -> Certificate:
    r"""Certify or refute the existence of a phase-locked (frequency-synchronized) state."""
    details = _theory_details(network)
    refutation = _necessary_condition(network)
    if refutation is not None:
        return Certificate(method="synchronization", claim="synchronization", status=REFUTED,
                           checked="exact", witness=refutation, details=details,
                           reason=f"node {refutation['node']} has |omega_i - mean| > K sum_j a_ij")
    if not network.all_to_all:
        return _graph_synchronization(network, details)
    locked = _locked_all_to_all(network)
    details["locked_state"] = locked["record"]
    if locked["exists"]:
        return Certificate(method="synchronization", claim="synchronization", status=CERTIFIED,
                           checked="interval", margin=locked["record"]["F_lower"],
                           reason="F(u0) >= 0 proves a phase-locked state at u* in [u0, K]",
                           evidence={"u0": locked["record"]["u0"]}, details=details)
    return Certificate(method="synchronization", claim="synchronization", status=INCONCLUSIVE,
                       details=details, reason="no u0 with F(u0) >= 0 was found; the coupling "
                       "may be below the locking threshold of this finite network")


def locked_state_certificate(network: KuramotoNetwork) -> Certificate:
    r"""Certify that a phase-locked state exists and is stable up to rotation."""
    if not network.all_to_all:
        return _graph_stability(network)
    locked = _locked_all_to_all(network)
    record = locked["record"]
    if locked["exists"] and locked["cohesive"]:
        return Certificate(method="phase_locked_stability", claim="local_stability",
                           status=CERTIFIED, checked="interval",
                           margin=math.pi / 2 - record["spread_upper"],
                           reason="every pair of locked phases differs by less than pi/2",
                           evidence={"u0": record["u0"]}, details={"locked_state": record})
    reason = ("no phase-locked state was proved" if not locked["exists"] else
              "the proved bound on the phase spread is not below pi/2")
    return Certificate(method="phase_locked_stability", claim="local_stability",
                       status=INCONCLUSIVE, reason=reason, details={"locked_state": record})


def locked_state_on_graph(network: KuramotoNetwork) -> dict:
    r"""Compute and enclose a phase-locked state of a network on a graph.

    Returns a dict with ``state`` (:class:`LockedState` or None), ``enclosure``
    (:class:`LockedEnclosure` or None) and ``reason`` (why there is no
    enclosure, or None). The last result is cached on the network object,
    so the two certificates share one computation. Assigning new
    frequencies, a new coupling or a new graph invalidates the cache, but
    editing the graph's arrays in place does not.
    """
    key = (network.frequencies.tobytes(), network.coupling)
    cached = getattr(network, "_locked_cache", None)
    # The cache keeps the graph object itself, so a replaced graph never
    # matches, even when the new object reuses the old one's id.
    if cached is not None and cached[0] == key and cached[1] is network.graph:
        return cached[2]
    result = _compute_locked_state(network)
    network._locked_cache = (key, network.graph, result)
    return result


def _compute_locked_state(network: KuramotoNetwork) -> dict:
    graph = network.graph
    if np.any(graph.weights < 0):
        return {"state": None, "enclosure": None,
                "reason": "the graph has negative couplings; the locked-state check covers "
                          "nonnegative a_ij only"}
    if network.n > SPARSE_SIZE_LIMIT:
        return {"state": None, "enclosure": None,
                "reason": f"n = {network.n} is above {SPARSE_SIZE_LIMIT}, the size limit of "
                          f"the sparse M-matrix test"}
    components, _ = scipy.sparse.csgraph.connected_components(graph.adjacency(), directed=False)
    if components > 1:
        return {"state": None, "enclosure": None,
                "reason": f"the graph has {components} connected components, so locked states "
                          f"are not unique up to one rotation"}
    state = find_locked_state(network)
    if not state.converged:
        return {"state": state, "enclosure": None,
                "reason": f"Newton's method did not converge (residual {state.residual:.3g}); "
                          f"the coupling may be below the locking threshold"}
    if network.n <= KRAWCZYK_SIZE_LIMIT:
        enclosure = enclose_locked_state(network, state)
        failure = ("the Krawczyk test failed around the computed locked state (a singular or "
                   "ill-conditioned Jacobian, as near the locking threshold)")
    else:
        enclosure = enclose_cohesive_state(network, state)
        failure = (f"the sparse M-matrix test, used above n = {KRAWCZYK_SIZE_LIMIT}, failed "
                   f"around the computed locked state (it proves only states with every "
                   f"|theta_i - theta_j| < pi/2, and fails for ill-conditioned Laplacians "
                   f"such as long rings)")
    if enclosure is None:
        return {"state": state, "enclosure": None, "reason": failure}
    return {"state": state, "enclosure": enclosure, "reason": None}


def _locked_record(result: dict) -> dict:
    record: dict = {}
    if result["state"] is not None:
        record.update(result["state"].to_dict())
    if result["enclosure"] is not None:
        record["enclosure"] = result["enclosure"].to_dict()
    return record


def _graph_synchronization(network: KuramotoNetwork, details: dict) -> Certificate:
    refutation = component_refutation(network)
    if refutation is not None:
        return Certificate(method="synchronization", claim="synchronization", status=REFUTED,
                           checked="exact", witness=refutation, details=details,
                           reason="a connected component has frequency offsets that do not "
                                  "sum to 0")
    result = locked_state_on_graph(network)
    details["locked_state"] = _locked_record(result)
    enclosure = result["enclosure"]
    if enclosure is None:
        return Certificate(method="synchronization", claim="synchronization",
                           status=INCONCLUSIVE, details=details,
                           reason="the necessary condition is met, but " + result["reason"])
    test = "a Krawczyk test" if enclosure.method == "krawczyk" else "an M-matrix test"
    return Certificate(method="synchronization", claim="synchronization", status=CERTIFIED,
                       checked="interval", margin=None,
                       reason=f"{test} proved exactly one locked state in a box of "
                              f"width {enclosure.width:.3g}",
                       evidence={"phases": enclosure.center.tolist(),
                                 "radii": enclosure.radii.tolist()},
                       details=details)


def _graph_stability(network: KuramotoNetwork) -> Certificate:
    result = locked_state_on_graph(network)
    details = {"locked_state": _locked_record(result)}
    enclosure = result["enclosure"]
    if enclosure is None:
        return Certificate(method="phase_locked_stability", claim="local_stability",
                           status=INCONCLUSIVE, details=details,
                           reason="no phase-locked state was proved: " + result["reason"])
    evidence = {"phases": enclosure.center.tolist(), "radii": enclosure.radii.tolist()}
    cos_lower_min = float(np.min(enclosure.cos_lower))
    if cos_lower_min > 0:
        # The graph is connected (checked before Newton) and every a_ij > 0.
        details["algebraic_connectivity_estimate"] = _algebraic_connectivity(network, enclosure)
        return Certificate(method="phase_locked_stability", claim="local_stability",
                           status=CERTIFIED, checked="interval", margin=cos_lower_min,
                           reason="on the proved box every edge has cos(theta_i - theta_j) > 0, "
                                  "so the Jacobian is minus a connected Laplacian with positive "
                                  "weights",
                           evidence=evidence, details=details)
    if float(np.min(enclosure.cos_upper)) < 0:
        witness = unstable_direction(network, enclosure)
        if witness is not None:
            return Certificate(method="phase_locked_stability", claim="local_stability",
                               status=REFUTED, checked="exact", witness=witness,
                               evidence=evidence, details=details,
                               reason="the proved locked state is unstable: a direction v has "
                                      "v^T L(w) v < 0 on the whole box (other locked states "
                                      "are not examined)")
    return Certificate(method="phase_locked_stability", claim="local_stability",
                       status=INCONCLUSIVE, evidence=evidence, details=details,
                       reason="a locked state was proved, but an edge may have "
                              "|theta_i - theta_j| >= pi/2 and no unstable direction was proved")


def _algebraic_connectivity(network: KuramotoNetwork, enclosure: LockedEnclosure) -> float | None:
    """Return a float estimate of the Jacobian's slowest decay rate, for n <= 500."""
    if network.n > 500:
        return None
    return float(np.linalg.eigvalsh(locked_laplacian(network, enclosure.center))[1])


def locked_phases(network: KuramotoNetwork, u: float) -> np.ndarray:
    """Return the locked phases arcsin(nu_i / u) of an all-to-all network."""
    nu = network.frequencies - np.mean(network.frequencies)
    return np.arcsin(np.clip(nu / u, -1.0, 1.0))


def _theory_details(network: KuramotoNetwork) -> dict:
    details: dict = {}
    distribution = network.distribution
    # K_c and r(K) are mean-field results for all-to-all coupling. A ring, for
    # example, can lock with r near 0 at a coupling far above that K_c.
    if network.all_to_all and distribution is not None and distribution.kind != "given":
        k_c = critical_coupling(distribution)
        details["critical_coupling"] = k_c
        details["stationary_order_parameter"] = stationary_order_parameter(network.coupling,
                                                                           distribution)
    return details


def _necessary_condition(network: KuramotoNetwork) -> dict | None:
    omega = [Fraction(float(value)) for value in network.frequencies]
    mean = sum(omega) / len(omega)
    coupling = Fraction(network.coupling)
    if network.all_to_all:
        degrees = [Fraction(network.n - 1, network.n)] * network.n
    else:
        degrees = [Fraction(0)] * network.n
        graph = network.graph
        for i, j, weight in zip(graph.rows.tolist(), graph.cols.tolist(), graph.weights.tolist()):
            if weight < 0:
                # The bound K sum_j |a_ij| is valid for signed couplings too.
                weight = -weight
            degrees[i] += Fraction(weight)
            degrees[j] += Fraction(weight)
    for node, (value, degree) in enumerate(zip(omega, degrees)):
        if abs(value - mean) > coupling * degree:
            return {"kind": "frequency_exceeds_coupling", "node": node,
                    "frequency_offset": float(value - mean),
                    "coupling_bound": float(coupling * degree), "checked": "exact",
                    "note": "a locked state needs |omega_i - mean(omega)| <= K sum_j |a_ij|"}
    return None


def _locked_all_to_all(network: KuramotoNetwork) -> dict:
    nu = network.frequencies - np.mean(network.frequencies)
    coupling = network.coupling
    largest = float(np.max(np.abs(nu)))
    record: dict = {"u0": None, "F_lower": None, "spread_upper": None}
    if largest == 0:
        record.update(u0=coupling, F_lower=0.0, spread_upper=0.0)
        return {"exists": True, "cohesive": True, "record": record}
    if largest > coupling:
        return {"exists": False, "cohesive": False, "record": record}

    def excess(u: float) -> float:
        return coupling * float(np.mean(np.sqrt(np.maximum(1 - (nu / u) ** 2, 0.0)))) - u

    grid = np.linspace(largest, coupling, 400)
    values = np.array([excess(u) for u in grid])
    u0 = float(grid[int(np.argmax(values))])
    if values.max() > 0:
        # Move u0 toward the root so that the spread bound is as small as possible.
        index = int(np.argmax(values))
        positive = np.nonzero(values[index:] > 0)[0]
        u0 = float(grid[index + positive[-1]])
    f_lower, spread_upper = _interval_bounds(network.frequencies, coupling, u0)
    record.update(u0=u0, F_lower=f_lower, spread_upper=spread_upper)
    exists = f_lower >= 0
    return {"exists": exists, "cohesive": exists and spread_upper < math.pi / 2,
            "record": record}


def _interval_bounds(frequencies: np.ndarray, coupling: float, u0: float) -> tuple[float, float]:
    """Return a lower bound on F(u0) and an upper bound on the phase spread, by intervals."""
    iv = mpmath.iv
    with mpmath.workdps(30):
        # mpmath converts a float exactly, so these are point intervals.
        omega = [iv.mpf(float(value)) for value in frequencies]
        mean = sum(omega, iv.mpf(0)) / len(omega)
        nu = [value - mean for value in omega]
        u = iv.mpf(float(u0))
        k = iv.mpf(float(coupling))
        total = iv.mpf(0)
        for value in nu:
            ratio = value / u
            inside = 1 - ratio * ratio
            if inside.a < 0:
                return -math.inf, math.inf
            total += iv.sqrt(iv.mpf([max(inside.a, 0), inside.b]))
        f = k * total / len(nu) - u
        high = max(nu, key=lambda value: value.b) / u
        low = min(nu, key=lambda value: value.a) / u
        if high.b > 1 or low.a < -1:
            return float(f.a), math.inf
        spread = _asin_interval(high) - _asin_interval(low)
        return float(mpmath.mpf(f.a)), float(mpmath.mpf(spread.b))


def _asin_interval(value):
    # mpmath.iv has no asin; asin(x) = atan2(x, sqrt(1 - x^2)) for |x| <= 1, and
    # asin is increasing, so its values at the two ends bound it.
    iv = mpmath.iv
    ends = []
    for end in (value.a, value.b):
        point = iv.mpf(end)
        ends.append(iv.atan2(point, iv.sqrt(1 - point * point)))
    return iv.mpf([ends[0].a, ends[1].b])
