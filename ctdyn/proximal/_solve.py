r"""Solvers for min f + g: discrete proximal gradient, FISTA, active-set polishing, and integrators of the dynamics.

Forward Euler with step h on :math:`\dot x = -x + T(x)` is
:math:`x_{k+1} = (1 - h)x_k + h\,T(x_k)`; at :math:`h = 1` it is exactly
discrete proximal gradient descent :math:`x_{k+1} = T(x_k)`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ._losses import QuadraticLoss
from ._model import ProximalGradientDynamics

__all__ = ["SolveResult", "proximal_gradient_descent", "fista", "euler_dynamics",
           "adaptive_dynamics", "minimize", "polish", "active_set"]

logger = logging.getLogger(__name__)


@dataclass
class SolveResult:
    """An approximate minimizer, the iterations or vector-field evaluations spent, and the last residual."""

    x: np.ndarray
    iterations: int
    residual: float
    converged: bool


def _residual(model: ProximalGradientDynamics, x: np.ndarray) -> float:
    """Return |x - T(x)| / max(|x|, 1), the relative fixed-point residual."""
    return float(np.linalg.norm(x - model.proximal_gradient_map(x))
                 / max(np.linalg.norm(x), 1.0))


def proximal_gradient_descent(model, x0=None, *, tol: float = 1e-12, max_iterations: int = 100000,
                              stop=None) -> SolveResult:
    """Iterate x <- T(x), until ``stop(x)`` is true or the fixed-point residual is below ``tol``."""
    return euler_dynamics(model, x0, step=1.0, tol=tol, max_iterations=max_iterations, stop=stop)


def euler_dynamics(model, x0=None, *, step: float = 1.0, tol: float = 1e-12,
                   max_iterations: int = 100000, stop=None) -> SolveResult:
    r"""Integrate :math:`\dot x = -x + T(x)` by forward Euler with a fixed step ``step`` in (0, 1]."""
    x = np.zeros(model.n) if x0 is None else np.array(x0, dtype=float)
    for iteration in range(1, max_iterations + 1):
        mapped = model.proximal_gradient_map(x)
        change = np.linalg.norm(mapped - x) / max(np.linalg.norm(x), 1.0)
        x = x + step * (mapped - x)
        if (stop is not None and stop(x)) or (stop is None and change <= tol):
            return SolveResult(x, iteration, change, True)
    return SolveResult(x, max_iterations, change, False)


def fista(model, x0=None, *, tol: float = 1e-12, max_iterations: int = 100000,
          stop=None) -> SolveResult:
    """Run FISTA (Beck and Teboulle 2009) with gradient-based adaptive restart.

    FISTA needs a step of at most 1/L, so a larger model step is replaced by
    1/L when L is proved (:func:`solver_view`).
    """
    model = solver_view(model)
    x = np.zeros(model.n) if x0 is None else np.array(x0, dtype=float)
    y = x.copy()
    t = 1.0
    for iteration in range(1, max_iterations + 1):
        x_new = model.proximal_gradient_map(y)
        change = np.linalg.norm(x_new - y) / max(np.linalg.norm(x_new), 1.0)
        # Restart when the momentum points uphill (O'Donoghue and Candes 2015).
        if np.dot(y - x_new, x_new - x) > 0:
            t = 1.0
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        y = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
        if (stop is not None and stop(x)) or (stop is None and change <= tol):
            return SolveResult(x, iteration, change, True)
    return SolveResult(x, max_iterations, change, False)


def adaptive_dynamics(model, x0=None, *, t_final: float, rtol: float = 1e-6, atol: float = 1e-9,
                      stop=None) -> SolveResult:
    """Integrate the dynamics with the adaptive Dormand-Prince 5(4) method of ctdyn.simulate.

    ``iterations`` counts vector-field evaluations.
    Integration runs to ``t_final``; ``stop`` is tested on the final state.
    """
    from ..simulate import integrate

    x = np.zeros(model.n) if x0 is None else np.array(x0, dtype=float)
    result = integrate(model.vector_field, x[None, :], t_final=t_final, rtol=rtol, atol=atol,
                       max_steps=10**6, t_eval=[0.0, t_final])
    final = result.final_states[0]
    evaluations = result.stats["evaluations"]
    converged = bool(stop(final)) if stop is not None else True
    return SolveResult(final, evaluations, _residual(model, final), converged)


def active_set(model, x: np.ndarray) -> dict:
    r"""Classify the coordinates of an approximate minimizer for a polyhedral g.

    Returns a dict with ``free`` (indices solved for), ``fixed`` (index ->
    value), ``target`` (the value the gradient of f, plus the elastic net's
    :math:`l_2 x`, must take on each free coordinate) and ``simplex``
    (whether the free coordinates must also sum to the radius, with a
    common multiplier in place of ``target``).
    """
    reg = model.regularizer
    scale = max(float(np.abs(x).max()), 1.0)
    threshold = 1e-9 * scale
    free, fixed, target = [], {}, []
    for i, value in enumerate(x):
        if reg.name in ("l1", "elastic_net"):
            if abs(value) > threshold:
                free.append(i)
                target.append(-reg.lam * np.sign(value))
            else:
                fixed[i] = 0.0
        elif reg.name in ("nonnegative", "nonnegative_l1", "simplex"):
            if value > threshold:
                free.append(i)
                target.append(-reg.lam if reg.name == "nonnegative_l1" else 0.0)
            else:
                fixed[i] = 0.0
        elif reg.name == "box":
            lower, upper = reg.lower[i], reg.upper[i]
            if abs(value - lower) <= threshold:
                fixed[i] = float(lower)
            elif abs(value - upper) <= threshold:
                fixed[i] = float(upper)
            else:
                free.append(i)
                target.append(0.0)
        else:
            raise ValueError(f"no active set for {reg.name}")
    return {"free": free, "fixed": fixed, "target": target, "simplex": reg.name == "simplex"}


def polish(model, x: np.ndarray) -> np.ndarray:
    """Solve the optimality conditions on the active set of ``x`` in floating point."""
    if not model.regularizer.polyhedral or not model.loss.quadratic:
        return x
    structure = active_set(model, x)
    free = structure["free"]
    result = np.zeros(model.n)
    for i, value in structure["fixed"].items():
        result[i] = value
    if not free:
        return result

    reg = model.regularizer
    block = _hessian_block(model.loss, free, free)
    if reg.name == "elastic_net":
        block = block + reg.l2 * np.eye(len(free))
    rhs = model.loss.linear_term()[free] + np.asarray(structure["target"])
    nonzero_fixed = [i for i in structure["fixed"] if result[i] != 0]
    if nonzero_fixed:
        rhs = rhs - _hessian_block(model.loss, free, nonzero_fixed) @ result[nonzero_fixed]

    if structure["simplex"]:
        k = len(free)
        bordered = np.zeros((k + 1, k + 1))
        bordered[:k, :k] = block
        bordered[:k, k] = -1.0
        bordered[k, :k] = 1.0
        solution = np.linalg.lstsq(bordered, np.append(rhs, reg.radius), rcond=None)[0][:k]
    else:
        solution = np.linalg.lstsq(block, rhs, rcond=None)[0]
    result[free] = solution
    return result


def _hessian_block(loss, rows: list[int], columns: list[int]) -> np.ndarray:
    """Return the block H[rows, columns] of a quadratic f, without forming all of A^T A."""
    if isinstance(loss, QuadraticLoss):
        block = loss.A[:, rows].T @ loss.A[:, columns]
        if loss.ridge:
            block = block + loss.ridge * (np.asarray(rows)[:, None] == np.asarray(columns)[None, :])
        return block
    return loss.hessian()[np.ix_(rows, columns)]


def solver_view(model) -> ProximalGradientDynamics:
    """Return the model with the step 1/L, safe for the discrete iterations, when L is proved.

    The minimizers do not depend on the step, but the discrete iteration
    diverges for steps above 2/L (the LCA's default step 1 often is).
    """
    L = model.curvature.L
    if L is None or L <= 0 or model.step * L <= 1:
        return model
    return ProximalGradientDynamics(loss=model.loss, regularizer=model.regularizer,
                                    step=float(1 / L), step_source="solver",
                                    curvature=model.curvature)


def minimize(model, *, tol: float = 1e-13, max_iterations: int = 200000) -> SolveResult:
    """Return a minimizer of f + g by FISTA, then polished on its active set when g is polyhedral."""
    model = solver_view(model)
    result = fista(model, tol=tol, max_iterations=max_iterations)
    if model.regularizer.polyhedral and model.loss.quadratic:
        polished = polish(model, result.x)
        if _residual(model, polished) <= max(result.residual, 1e-15) * 10:
            result = SolveResult(polished, result.iterations, _residual(model, polished), True)
    logger.info("minimizer found in %d FISTA iterations, residual %.3g", result.iterations,
                result.residual)
    return result
