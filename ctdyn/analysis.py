r"""Run the certificate methods on a network, look for refutations, and simulate.

:func:`analyze` is the library's main entry point and what ``ctdyn
certify`` runs. It proceeds in named steps: contraction certificates, a
refutation witness when none of them succeeds, the equilibrium and its
linearization, the energy certificate, then simulation that challenges every
certified claim. A certified bound that simulation beats (beyond the stated
integration tolerance) makes :meth:`Analysis.exit_status` return 3: that is a
bug in ctdyn or in a solver it trusted, never a property of the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ._version import __version__
from .certify._certificate import (
    CERTIFIED,
    CLAIMS,
    INCONCLUSIVE,
    REFUTED,
    Certificate,
    to_json_value,
)
from ._families import PLUGIN_FAMILIES, family_module
from .errors import InvalidModelError, SolverError
from .models import METHODS

__all__ = ["analyze", "Analysis", "METHODS", "DEFAULT_METHODS", "CONTRACTION_METHODS"]

logger = logging.getLogger(__name__)

CONTRACTION_METHODS = ("log_norm_inf", "log_norm_1", "lmi_euclidean", "lmi_diagonal")
DEFAULT_METHODS = METHODS

# Generic SDP cost grows fast. Measured for one whole certificate (bisection
# included) on 2 cores: full P 8 s at n = 25 and about 60 s at n = 50 (SCS);
# diagonal P 4.6 s at n = 50 and 52 s at n = 100 (SCS). Above these sizes
# the LMI methods report inconclusive instead of running for minutes.
LMI_SIZE_LIMITS = {"lmi_euclidean": 30, "lmi_diagonal": 100}
# Refutation witnesses need dense eigenvalues or exact characteristic polynomials.
WITNESS_SIZE_LIMIT = 2000
# Newton with a dense Jacobian.
EQUILIBRIUM_SIZE_LIMIT = 5000
# The simulation stores trajectories x n floats per output time: at most this
# many in a batch (64 MiB per output time), and 2**27 floats (1 GiB) in all,
# by using fewer output times (down to 21) for large batches.
MAX_BATCH_ENTRIES = 2**23
MAX_STORED_ENTRIES = 2**27

Progress = Callable[[str, float], None]


@dataclass
class SimulationSummary:
    """Observations of one simulation, with the arrays the report plots."""

    times: np.ndarray
    states: np.ndarray
    metric: dict | None
    claimed_rate: float | None
    observed_rate: float | None
    consistent: bool
    energy_consistent: bool | None
    worst_excess: float | None
    tolerance: float | None
    rtol: float
    atol: float
    log_distance_ratios: np.ndarray | None = None
    energies: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return to_json_value({
            "trajectories": int(self.states.shape[1]),
            "t_final": float(self.times[-1]),
            "metric": self.metric,
            "claimed_rate": self.claimed_rate,
            "observed_rate": self.observed_rate,
            "consistent": self.consistent,
            "energy_consistent": self.energy_consistent,
            "worst_excess": self.worst_excess,
            "tolerance": self.tolerance,
            "rtol": self.rtol,
            "atol": self.atol,
            "notes": self.notes,
        })


@dataclass
class Analysis:
    """Certificates, equilibrium and simulation for one network."""

    network: Any
    certificates: list[Certificate]
    equilibrium: dict | None = None
    simulation: SimulationSummary | None = None
    witness: dict | None = None
    claims: tuple[str, ...] = CLAIMS
    extra: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def claim_status(self, claim: str) -> str:
        """Return the combined status of a claim over all methods.

        ``certified`` if any method certified it, else ``refuted`` if any
        refuted it, else ``inconclusive``; ``not_checked`` if no method
        addressed it.
        """
        statuses = [c.status for c in self.certificates if c.claim == claim]
        if not statuses:
            return "not_checked"
        for status in (CERTIFIED, REFUTED):
            if status in statuses:
                return status
        return INCONCLUSIVE

    def best_contraction(self) -> Certificate | None:
        certified = [c for c in self.certificates
                     if c.claim == "contraction" and c.status == CERTIFIED]
        return max(certified, key=lambda c: c.rate) if certified else None

    @property
    def contradicted(self) -> bool:
        simulation = self.simulation
        return bool(simulation is not None and (not simulation.consistent
                                                or simulation.energy_consistent is False))

    def verdict(self, require: Sequence[str] = ()) -> str:
        """Return ``certified``, ``refuted``, ``inconclusive`` or ``contradicted``.

        With ``require`` the verdict covers those claims; without, every
        claim that some method addressed.
        """
        if self.contradicted:
            return "contradicted"
        claims = list(require) or [claim for claim in self.claims
                                   if self.claim_status(claim) != "not_checked"]
        statuses = [self.claim_status(claim) for claim in claims]
        if statuses and all(status == CERTIFIED for status in statuses):
            return CERTIFIED
        if REFUTED in statuses:
            return REFUTED
        return INCONCLUSIVE

    def exit_status(self, require: Sequence[str] = ()) -> int:
        """Return 0 (done, required claims certified), 1 (a required claim not certified) or 3."""
        if self.contradicted:
            return 3
        if any(self.claim_status(claim) != CERTIFIED for claim in require):
            return 1
        return 0

    def to_dict(self, require: Sequence[str] = ()) -> dict[str, Any]:
        """Return the JSON report (the command-line contract)."""
        return to_json_value({
            "ctdyn_version": __version__,
            "model": self.network.to_dict(),
            "certificates": [c.to_dict() for c in self.certificates],
            "claims": {claim: self.claim_status(claim) for claim in self.claims},
            "equilibrium": self.equilibrium,
            "simulation": self.simulation.to_dict() if self.simulation is not None else None,
            "require": list(require),
            "verdict": self.verdict(require),
            **self.extra,
        })


def _trajectories(trajectories: int) -> int:
    if isinstance(trajectories, bool) or not isinstance(trajectories, (int, np.integer)) \
            or trajectories < 1:
        raise InvalidModelError("trajectories", "a positive integer", trajectories,
                                "Use for example 8.")
    return int(trajectories)


def _validate_methods(methods: Sequence[str] | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if methods is None:
        return allowed
    methods = tuple(methods)
    for index, method in enumerate(methods):
        if method not in allowed:
            raise InvalidModelError(f"methods[{index}]", "one of " + ", ".join(allowed), method,
                                    "Check the spelling of the method name; this model's "
                                    "family accepts only these.")
    if not methods:
        raise InvalidModelError("methods", "at least one method", [], "Name a method or omit the option.")
    return methods


def analyze(network, *, methods: Sequence[str] | None = None, simulate: bool = True,
            trajectories: int = 8, t_final: float | None = None, seed: int = 0,
            progress: Progress | None = None) -> Analysis:
    r"""Certify, refute and challenge a network's convergence claims.

    Parameters
    ----------
    network : FiringRateNetwork or HopfieldNetwork
    methods : sequence of str, optional
        Any of :data:`METHODS`, or of the family's methods for a family
        outside the core (:data:`ctdyn._families.PLUGIN_FAMILIES`); all by
        default.
    simulate : bool
        Integrate a batch of trajectories and compare them with every
        certified bound.
    trajectories : int
        Number of trajectories (at least 2 for contraction checks).
    t_final : float, optional
        Horizon; by default 5 / rate for a certified rate, clipped to [5, 50],
        else 20.
    seed : int
        Seed of the initial states.
    progress : callable(stage, fraction), optional
        Called as work advances (the command line draws a bar).

    Returns
    -------
    Analysis
    """
    family = getattr(network, "family", None)
    if family in PLUGIN_FAMILIES:
        plugin = PLUGIN_FAMILIES[family]
        # None is passed on unchanged so that the family can tell its defaults
        # from a request: it skips a default method that does not apply and
        # rejects a requested one.
        methods = None if methods is None else _validate_methods(methods, plugin.methods)
        return family_module(family).analyze(
            network, methods=methods, simulate=simulate, trajectories=_trajectories(trajectories),
            t_final=t_final, seed=seed, progress=progress)
    methods = _validate_methods(methods, METHODS)
    trajectories = _trajectories(trajectories)
    if simulate and trajectories * network.n > MAX_BATCH_ENTRIES:
        raise InvalidModelError(
            "trajectories", f"at most {MAX_BATCH_ENTRIES // network.n:,} trajectories for "
            f"n = {network.n:,} (a batch of at most {MAX_BATCH_ENTRIES:,} numbers)", trajectories,
            "Ask for fewer trajectories, or skip the simulation (--no-simulate).")
    report = progress or (lambda stage, fraction: None)
    certificates: list[Certificate] = []
    stages = len(methods) + (1 if simulate else 0)

    with threadpool_limits(limits=1, user_api="blas"):
        for index, method in enumerate(m for m in methods if m in CONTRACTION_METHODS):
            report(method, index / stages)
            certificates.append(_contraction_certificate(network, method))

        witness = None
        contraction_methods = [c for c in certificates if c.claim == "contraction"]
        if contraction_methods and not any(c.certified for c in contraction_methods):
            report("refutation", len(certificates) / stages)
            witness = _find_witness(network)
            if witness is not None:
                certificates = [_refute(c, witness) if c.claim == "contraction" else c
                                for c in certificates]

        contraction = next((c for c in certificates
                            if c.claim == "contraction" and c.certified), None)
        equilibrium = None
        if "linearization" in methods:
            report("linearization", len(certificates) / stages)
            certificate, equilibrium = _linearization(network, contraction)
            certificates.append(certificate)
        if "energy" in methods:
            report("energy", len(certificates) / stages)
            certificates.append(_energy(network))

    analysis = Analysis(network, certificates, equilibrium, None, witness)
    if simulate:
        report("simulation", len(certificates) / stages)
        analysis.simulation = _simulate(analysis, trajectories=trajectories,
                                        t_final=t_final, seed=seed)
    report("done", 1.0)
    return analysis


def _contraction_certificate(network, method: str) -> Certificate:
    from .certify._log_norm import log_norm_certificate

    jacobian_set = network.jacobian_set
    if method == "log_norm_inf":
        return log_norm_certificate(jacobian_set, norm="l_inf")
    if method == "log_norm_1":
        return log_norm_certificate(jacobian_set, norm="l_1")

    limit = LMI_SIZE_LIMITS[method]
    if network.n > limit:
        return Certificate(method=method, claim="contraction", status=INCONCLUSIVE,
                           reason=f"n = {network.n} exceeds this LMI's size limit of {limit}; "
                                  "use the log-norm methods at this size")
    from .certify._lmi import lmi_contraction

    metric = "full" if method == "lmi_euclidean" else "diagonal"
    try:
        return lmi_contraction(jacobian_set, metric=metric)
    except SolverError as error:
        return Certificate(method=method, claim="contraction", status=INCONCLUSIVE,
                           reason=f"solver failed: {error}")


def _find_witness(network) -> dict | None:
    if network.n > WITNESS_SIZE_LIMIT:
        logger.info("no refutation search above n = %d", WITNESS_SIZE_LIMIT)
        return None
    from .certify._witness import contraction_witness

    return contraction_witness(network)


def _refute(certificate: Certificate, witness: dict) -> Certificate:
    reason = ("contraction is impossible in any norm: " + _describe_witness(witness)
              + f"; this method's own bound was: {certificate.reason}")
    return Certificate(
        method=certificate.method, claim=certificate.claim, status=REFUTED,
        rate=None, metric=certificate.metric, checked=witness.get("checked", "float"),
        margin=certificate.margin, reason=reason, witness=witness,
        evidence=certificate.evidence, details=certificate.details,
    )


def _describe_witness(witness: dict) -> str:
    if witness.get("kind") == "unstable_jacobian":
        if witness.get("state") is None:
            where = "a slope-box vertex that real states approach"
        else:
            where = f"x = {_short_vector(witness['state'])}"
        if witness.get("checked") == "exact":
            return (f"the Jacobian at {where} is not Hurwitz (exact Routh-Hurwitz test on its "
                    "rational characteristic polynomial)")
        real = witness.get("eigenvalue", [float("nan"), 0.0])[0]
        return f"the Jacobian at {where} has an eigenvalue with real part {real:.6g} >= 0"
    if witness.get("kind") == "two_equilibria":
        return "the network has two distinct equilibria"
    return str(witness.get("kind", "witness"))


def _short_vector(values, limit: int = 4) -> str:
    values = list(values)
    shown = ", ".join(f"{float(v):.4g}" for v in values[:limit])
    return f"({shown}{', ...' if len(values) > limit else ''})"


def _linearization(network, contraction: Certificate | None):
    if network.n > EQUILIBRIUM_SIZE_LIMIT:
        return (Certificate(method="linearization", claim="local_stability", status=INCONCLUSIVE,
                            reason=f"n = {network.n} exceeds the dense Newton limit of "
                                   f"{EQUILIBRIUM_SIZE_LIMIT}"), None)
    from .certify._linearization import linearization_certificate

    certificate = linearization_certificate(network, contraction=contraction)
    equilibrium = certificate.evidence.get("equilibrium")
    if equilibrium is not None:
        equilibrium = dict(equilibrium)
        equilibrium["unique"] = contraction is not None
    return certificate, equilibrium


def _energy(network) -> Certificate:
    from .certify._energy import energy_certificate

    return energy_certificate(network)


def _simulate(analysis: Analysis, *, trajectories: int, t_final: float | None,
              seed: int) -> SimulationSummary:
    """Integrate a batch and challenge the certified contraction rate and energy decrease."""
    from .simulate import check_contraction_bound, check_energy_decrease, energy_traces

    network = analysis.network
    best = analysis.best_contraction()
    if t_final is None:
        t_final = float(np.clip(5.0 / best.rate, 5.0, 50.0)) if best is not None else 20.0
    x0 = initial_states(network, trajectories, seed=seed)
    rtol = SIMULATION_RTOL
    result, summary = integrate_batch(network.vector_field, x0, t_final=t_final)
    if result is None:
        return summary
    if trajectories >= 2:
        metric = best.metric if best is not None else {"norm": "l_2"}
        observation = _observe_contraction(summary, result, metric, seed=seed)
        if best is not None:
            check = check_contraction_bound(observation, best.rate)
            if not check.consistent:
                first = check
                check = _refine_contraction_check(network, x0, first, best, seed=seed)
                if check is not first:
                    summary.notes.append(
                        f"trajectories {first.pair} exceeded the bound by {first.worst_excess:.3g} "
                        f"(tolerance {first.tolerance:.3g}) at rtol {rtol:.0e}; integrated again "
                        f"at rtol {REFINED_RTOL:.0e} they keep to it")
            _store_bound_check(summary, check, best.rate)
            if not check.consistent:
                logger.error("simulation beats the certified rate %.6g of %s: pair %s at t = %.4g, "
                             "excess %.3g over tolerance %.3g", best.rate, best.method, check.pair,
                             check.time, check.worst_excess, check.tolerance)
                summary.notes.append(f"trajectories {check.pair} violate the bound of {best.method} "
                                     f"at t = {check.time:.4g}")

    energy = next((c for c in analysis.certificates
                   if c.claim == "energy_decrease" and c.certified), None)
    if energy is not None:
        from .symbolic import energy_function

        function = energy_function(network)
        try:
            trace = energy_traces(result, function.value)
        except InvalidModelError as error:
            # Energies overflow along a diverging trajectory; nothing to compare.
            summary.notes.append(f"energy not evaluated along the trajectories: {error}")
            return summary
        energy_check = check_energy_decrease(trace)
        if not energy_check.consistent:
            first = energy_check
            energy_check = _refine_energy_check(network, function, x0, first)
            if energy_check is not first:
                summary.notes.append(
                    f"the energy of trajectory {first.trajectory} rose at t = {first.time:.4g} "
                    f"at rtol {rtol:.0e}; integrated again at rtol {REFINED_RTOL:.0e} it does not")
        summary.energies = trace.energies
        summary.energy_consistent = bool(energy_check.consistent)
        if not energy_check.consistent:
            logger.error("simulation shows the certified energy increasing: trajectory %d at "
                         "t = %.4g", energy_check.trajectory, energy_check.time)
            summary.notes.append(f"energy increases along trajectory {energy_check.trajectory} "
                                 f"at t = {energy_check.time:.4g}")
    return summary


def _observe_contraction(summary: SimulationSummary, trajectories, metric: dict, *, seed: int):
    """Measure how fast pairs of the trajectories approach each other and store it in ``summary``.

    Returns the observation, which the caller checks against a certified rate.
    """
    from .simulate import observed_contraction

    observation = observed_contraction(trajectories, metric, seed=seed)
    summary.metric = metric
    summary.observed_rate = float(observation.rate)
    summary.log_distance_ratios = observation.log_ratios
    return observation


def _store_bound_check(summary: SimulationSummary, check, claimed_rate: float) -> None:
    """Store a certified rate and the outcome of its check against simulation in ``summary``."""
    summary.claimed_rate = claimed_rate
    summary.consistent = bool(check.consistent)
    summary.worst_excess = float(check.worst_excess)
    summary.tolerance = float(check.tolerance)


# Tight tolerances keep the distance floors of the consistency checks small.
SIMULATION_RTOL = 1e-8
SIMULATION_ATOL = 1e-10
# A failed check is repeated at these tolerances on the offending
# trajectories before it counts as a contradiction. The error estimates of an
# explicit Runge-Kutta pair assume a smooth vector field. At a kink of
# hardtanh or ReLU they can be too small by orders of magnitude: one run at
# 1e-8 exceeded a certified bound by 2.9e-5 against a derived tolerance of
# 2.8e-6. A false certificate keeps its excess as the tolerances shrink.
REFINED_RTOL = 1e-11
REFINED_ATOL = 1e-13


def _refine_contraction_check(network, x0: np.ndarray, check, best: Certificate, *, seed: int):
    """Integrate the offending pair again at tighter tolerances and check it alone."""
    from .simulate import check_contraction_bound, integrate, observed_contraction

    pair = list(check.pair)
    horizon = max(check.time, 1e-3) * 1.05
    result = integrate(network.vector_field, x0[pair], t_final=horizon, rtol=REFINED_RTOL,
                       atol=REFINED_ATOL, t_eval=np.linspace(0.0, horizon, 401))
    refined = check_contraction_bound(observed_contraction(result, best.metric, seed=seed),
                                      best.rate)
    logger.info("contraction check of pair %s repeated at rtol %.0e: excess %.3g, tolerance "
                "%.3g (first run: excess %.3g, tolerance %.3g)", check.pair, REFINED_RTOL,
                refined.worst_excess, refined.tolerance, check.worst_excess, check.tolerance)
    if not refined.consistent:
        return check
    return refined


def _refine_energy_check(network, function, x0: np.ndarray, check):
    """Integrate the offending trajectory again at tighter tolerances and check it alone."""
    from .simulate import check_energy_decrease, energy_traces, integrate

    horizon = max(check.time, 1e-3) * 1.05 + 1e-3
    result = integrate(network.vector_field, x0[[check.trajectory]], t_final=horizon,
                       rtol=REFINED_RTOL, atol=REFINED_ATOL,
                       t_eval=np.linspace(0.0, horizon, 401))
    refined = check_energy_decrease(energy_traces(result, function.value))
    logger.info("energy check of trajectory %d repeated at rtol %.0e: consistent %s",
                check.trajectory, REFINED_RTOL, refined.consistent)
    return check if not refined.consistent else refined


def integrate_batch(vector_field, x0: np.ndarray, *, t_final: float):
    """Integrate a batch at the simulation tolerances and start its summary.

    Returns ``(trajectories, summary)``. The summary has no checks filled in
    yet. When the integration stops (a diverging network), ``trajectories``
    is None and the summary notes the reason. A stopped integration is an
    observation, not invalid input, so it cannot contradict a certified bound.
    """
    from .simulate import integrate

    rtol, atol = SIMULATION_RTOL, SIMULATION_ATOL
    t_eval = np.linspace(0.0, t_final, _output_times(x0.shape[0], x0.shape[1]))
    try:
        result = integrate(vector_field, x0, t_final=t_final, rtol=rtol, atol=atol,
                           t_eval=t_eval)
    except SolverError as error:
        logger.warning("simulation stopped: %s", error)
        return None, SimulationSummary(
            times=np.zeros(1), states=x0[None], metric=None, claimed_rate=None,
            observed_rate=None, consistent=True, energy_consistent=None, worst_excess=None,
            tolerance=None, rtol=rtol, atol=atol, notes=[f"simulation stopped: {error}"])
    return result, SimulationSummary(
        times=result.t, states=result.states, metric=None, claimed_rate=None,
        observed_rate=None, consistent=True, energy_consistent=None, worst_excess=None,
        tolerance=None, rtol=rtol, atol=atol)


def _output_times(trajectories: int, n: int) -> int:
    """Return how many output times fit the stored states into MAX_STORED_ENTRIES floats."""
    return int(min(201, max(21, MAX_STORED_ENTRIES // (trajectories * n))))


def initial_states(network, trajectories: int, *, seed: int) -> np.ndarray:
    """Return the initial states that ``ctdyn certify`` and ``ctdyn simulate`` integrate.

    They are spread over a box around 0 whose half-width, 2 + max|u|,
    reaches the saturated parts of the activation; the same seed gives the
    same states in both commands.
    """
    from .simulate import spread_initial_states

    scale = 2.0 + float(np.max(np.abs(network.input)))
    return spread_initial_states(network.n, max(trajectories, 1), scale=scale, seed=seed)
