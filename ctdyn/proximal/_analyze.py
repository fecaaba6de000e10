r"""Run the proximal families' certificates and challenge them by simulation."""

from __future__ import annotations

import logging

import numpy as np
from threadpoolctl import threadpool_limits

from ..analysis import SIMULATION_ATOL, SIMULATION_RTOL, Analysis, SimulationSummary
from ..errors import SolverError
from ._certify import local_rate_on_support, optimality_certificate, rate_certificate
from ._solve import minimize

__all__ = ["analyze"]

logger = logging.getLogger(__name__)

CLAIMS = ("contraction", "optimality")


def analyze(model, *, methods=None, simulate: bool = True, trajectories: int = 8,
            t_final: float | None = None, seed: int = 0, progress=None) -> Analysis:
    r"""Certify the rate and optimality of proximal gradient dynamics or an LCA, then simulate.

    Returns an :class:`~ctdyn.analysis.Analysis` whose ``equilibrium`` has
    ``x`` (the minimizer) and, for the LCA, ``u`` (its internal state).
    """
    methods = tuple(methods or ("proximal_rate", "optimality"))
    report = progress or (lambda stage, fraction: None)
    certificates = []
    lines = []
    with threadpool_limits(limits=1, user_api="blas"):
        rate = None
        if "proximal_rate" in methods:
            report("proximal_rate", 0.0)
            rate = rate_certificate(model)
            certificates.append(rate)

        report("equilibrium", 0.3)
        solution = minimize(model)
        x = solution.x
        optimality = None
        if "optimality" in methods:
            report("optimality", 0.5)
            optimality, x = optimality_certificate(model, x, rate=rate)
            certificates.append(optimality)

        if rate is not None and not rate.certified and optimality is not None \
                and optimality.certified and optimality.checked == "exact":
            local = local_rate_on_support(model, x, optimality.evidence.get("support", []),
                                          optimality.evidence.get("strict_complementarity_margin"))
            if local is not None:
                rate.details.setdefault("still_holds", []).append(local)
                rate.reason += "; " + local["claim"]

    equilibrium = {"x": x.tolist(), "residual": float(np.linalg.norm(
        model.vector_field(model.internal_state(x)) if model.family == "lca"
        else model.vector_field(x), ord=np.inf)),
        "objective": float(model.loss.value(x)[0] + model.regularizer.value(x)[0]),
        "unique": bool(rate is not None and rate.certified)}
    if model.family == "lca":
        equilibrium["u"] = model.internal_state(x).tolist()
    if rate is not None and not rate.certified:
        for item in rate.details.get("still_holds", []):
            lines.append(f"still holds:  {item['claim']} ({item['checked']})")

    analysis = Analysis(model, certificates, equilibrium, None, None, claims=CLAIMS, lines=lines)
    if simulate:
        report("simulation", 0.7)
        analysis.simulation = _simulate(model, analysis, trajectories=trajectories,
                                        t_final=t_final, seed=seed)
    report("done", 1.0)
    return analysis


def _simulate(model, analysis: Analysis, *, trajectories: int, t_final: float | None,
              seed: int) -> SimulationSummary:
    """Integrate a batch, check the certified rate in the l_2 norm and the decrease of f + g."""
    from ..simulate import (
        check_contraction_bound,
        check_energy_decrease,
        energy_traces,
        integrate,
        observed_contraction,
        spread_initial_states,
    )

    best = analysis.best_contraction()
    if t_final is None:
        t_final = float(np.clip(5.0 / best.rate, 5.0, 50.0)) if best is not None else 20.0
    key = "u" if model.family == "lca" else "x"
    center = np.asarray(analysis.equilibrium[key], dtype=float)
    scale = 1.0 + float(np.abs(center).max())
    x0 = spread_initial_states(model.n, max(trajectories, 1), scale=scale, seed=seed,
                               center=center)
    if model.family == "proximal_gradient":
        # Start inside the domain of g, which is forward invariant, so that f + g is finite.
        x0 = model.regularizer.prox(x0, model.step)
    x0[0] = center  # the equilibrium itself must stay put
    rtol, atol = SIMULATION_RTOL, SIMULATION_ATOL
    t_eval = np.linspace(0.0, t_final, 201)
    try:
        result = integrate(model.vector_field, x0, t_final=t_final, rtol=rtol, atol=atol,
                           t_eval=t_eval)
    except SolverError as error:
        logger.warning("simulation stopped: %s", error)
        return SimulationSummary(times=np.zeros(1), states=x0[None], metric=None,
                                 claimed_rate=None, observed_rate=None, consistent=True,
                                 energy_consistent=None, worst_excess=None, tolerance=None,
                                 rtol=rtol, atol=atol, notes=[f"simulation stopped: {error}"])
    summary = SimulationSummary(times=result.t, states=result.states, metric=None,
                                claimed_rate=None, observed_rate=None, consistent=True,
                                energy_consistent=None, worst_excess=None, tolerance=None,
                                rtol=rtol, atol=atol)
    metric = {"norm": "l_2"}
    if trajectories >= 2:
        observation = observed_contraction(result, metric, seed=seed)
        summary.metric = metric
        summary.observed_rate = float(observation.rate)
        summary.log_distance_ratios = observation.log_ratios
        if best is not None:
            check = check_contraction_bound(observation, best.rate)
            summary.claimed_rate = best.rate
            summary.consistent = bool(check.consistent)
            summary.worst_excess = float(check.worst_excess)
            summary.tolerance = float(check.tolerance)
            if not check.consistent:
                logger.error("simulation beats the certified rate %.6g: pair %s at t = %.4g",
                             best.rate, check.pair, check.time)
                summary.notes.append(f"trajectories {check.pair} violate the certified rate at "
                                     f"t = {check.time:.4g}")

    # The cost f + g never increases along trajectories (a theorem for every gamma > 0).
    trace = energy_traces(result, model.objective)
    energy_check = check_energy_decrease(trace)
    summary.energies = trace.energies
    summary.energy_consistent = bool(energy_check.consistent)
    if not energy_check.consistent:
        logger.error("simulation shows f + g increasing: trajectory %d at t = %.4g",
                     energy_check.trajectory, energy_check.time)
        summary.notes.append(f"f + g increases along trajectory {energy_check.trajectory} at "
                             f"t = {energy_check.time:.4g}")
    return summary
