r"""Run the proximal families' certificates and challenge them by simulation."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
from threadpoolctl import threadpool_limits

from ..analysis import (
    Analysis,
    SimulationSummary,
    _observe_contraction,
    _store_bound_check,
    integrate_batch,
)
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
    from ..simulate import check_contraction_bound, energy_traces, spread_initial_states

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
    result, summary = integrate_batch(model.vector_field, x0, t_final=t_final)
    if result is None:
        return summary
    metric = {"norm": "l_2"}
    if trajectories >= 2:
        observation = _observe_contraction(summary, result, metric, seed=seed)
        if best is not None:
            check = check_contraction_bound(observation, best.rate)
            _store_bound_check(summary, check, best.rate)
            if not check.consistent:
                logger.error("simulation beats the certified rate %.6g: pair %s at t = %.4g",
                             best.rate, check.pair, check.time)
                summary.notes.append(f"trajectories {check.pair} violate the certified rate at "
                                     f"t = {check.time:.4g}")

    # The cost f + g never increases along trajectories (a theorem for every gamma > 0).
    trace = energy_traces(result, _trajectory_cost(model, summary.rtol, summary.atol))
    energy_check = _check_cost_decrease(model, result, trace)
    summary.energies = trace.energies
    summary.energy_consistent = bool(energy_check.consistent)
    if not energy_check.consistent:
        logger.error("simulation shows f + g increasing: trajectory %d at t = %.4g",
                     energy_check.trajectory, energy_check.time)
        summary.notes.append(f"f + g increases along trajectory {energy_check.trajectory} at "
                             f"t = {energy_check.time:.4g}")
    return summary


def _trajectory_cost(model, rtol: float, atol: float):
    """Return f + g as a function of simulated states, robust to the integration error.

    The exact flow of the proximal_gradient family stays in dom g, but the
    integrator's states do not: at a corner of a box they overshoot by about
    rtol |x| + atol, so the default slack of ``Regularizer.contains`` (1e-9)
    would make g infinite. States within ENERGY_SAFETY (rtol + atol) times
    max(1, |x|_inf) of dom g count as inside, the allowance that
    ``check_energy_decrease`` gives the integration error. The LCA's outputs
    prox(u) lie in dom g up to rounding, so the slack does not change them.
    """
    from ..simulate._observe import ENERGY_SAFETY

    slack = max(ENERGY_SAFETY * (rtol + atol), 1e-9)

    def cost(states: np.ndarray) -> np.ndarray:
        x = model.output(states) if model.family == "lca" else states
        return model.loss.value(x) + model.regularizer.value(x, slack=slack)

    return cost


def _evaluation_size(model, x: np.ndarray) -> np.ndarray:
    r"""Return the size of the terms summed when f + g is evaluated at each row of ``x``.

    For a least-squares f it is :math:`\frac12\|\,|A||x| + |b|\,\|^2 +
    \frac{\rho}{2}\|x\|^2`; for f given as an expression, :math:`|f(x)|`.
    The norm terms of g add :math:`\lambda\|x\|_1 + \frac{l_2}{2}\|x\|^2`.
    """
    from ._losses import QuadraticLoss

    loss = model.loss
    reg = model.regularizer
    if isinstance(loss, QuadraticLoss):
        magnitude = np.abs(x) @ np.abs(loss.A).T + np.abs(loss.b)
        size = 0.5 * (magnitude**2).sum(axis=-1) + 0.5 * loss.ridge * (x**2).sum(axis=-1)
    else:
        size = np.abs(loss.value(x))
    return size + reg.lam * np.abs(x).sum(axis=-1) + 0.5 * reg.l2 * (x**2).sum(axis=-1)


def _check_cost_decrease(model, result, trace):
    """Check that f + g does not increase, allowing the rounding error of its evaluation.

    ``check_energy_decrease`` scales its allowance by max_t |f + g|, which is
    about 1e-32 on a trajectory that starts at a minimizer with f + g = 0,
    so round-off would count as an increase. Each trajectory therefore gets
    an extra absolute allowance of 4 (m + n + 4) eps times the largest term
    size of the evaluation along it (:func:`_evaluation_size`), passed to the
    check as a relative tolerance. An increase above that still fails.
    """
    from ..simulate import EnergyTrace, check_energy_decrease

    states = result.states
    if model.family == "lca":
        states = model.output(states.reshape(-1, model.n)).reshape(states.shape)
    rows = getattr(model.loss, "A", np.zeros((0, model.n))).shape[0]
    factor = 4 * (rows + model.n + 4) * np.finfo(float).eps
    sizes = _evaluation_size(model, states.reshape(-1, model.n)).reshape(states.shape[:2])
    allowance = factor * sizes.max(axis=0)
    scale = np.max(np.abs(trace.energies), axis=0)
    safe_scale = np.where(scale > 0, scale, 1.0)

    worst = None
    for b in range(trace.energies.shape[1]):
        single = EnergyTrace(t=trace.t, energies=trace.energies[:, b:b + 1],
                             state_sizes=trace.state_sizes[b:b + 1], rtol=trace.rtol,
                             atol=trace.atol)
        check = dataclasses.replace(
            check_energy_decrease(single, tolerance=float(allowance[b] / safe_scale[b])),
            trajectory=b)
        excess = check.max_increase - check.allowed
        if worst is None or excess > worst[0]:
            worst = (excess, check)
    return worst[1]
