r"""Equilibrium propagation on a small continuous Hopfield network.

Free units :math:`s \in \mathbb{R}^n` (the last ``n_output`` are outputs)
with input :math:`x` settle to a minimum of

.. math:: E(s) = \tfrac12 \|s\|^2 - \tfrac12 \rho(s)^T W \rho(s) - b^T\rho(s)
          - \rho(s)^T U x,

:math:`\rho` the logistic function and :math:`W` symmetric with zero
diagonal, along :math:`\dot s = -\nabla_s E`. The nudged phase minimizes
:math:`F = E + \beta C` with the cost :math:`C = \tfrac12 \|s_{\text{out}} -
y\|^2`. Scellier and Bengio (Front. Comput. Neurosci. 11:24, 2017,
Theorem 1) show

.. math:: \frac{d}{d\theta} C(s^0_\theta) = \lim_{\beta \to 0} \frac{1}{\beta}
          \Big(\frac{\partial E}{\partial \theta}(s^\beta) -
          \frac{\partial E}{\partial \theta}(s^0)\Big).

:func:`ep_gradient` uses the symmetric quotient with :math:`\pm\beta`
(error :math:`O(\beta^2)`); :func:`exact_gradient` differentiates the
equilibrium implicitly: with :math:`H = \nabla^2_s E` and
:math:`\lambda = H^{-1} \nabla_s C`,
:math:`dC/d\theta = -\lambda^T \partial_\theta \nabla_s E`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from ..errors import InvalidModelError, SolverError

__all__ = ["HopfieldParameters", "settle", "ep_gradient", "exact_gradient", "cost"]

# Newton polish after L-BFGS: stop when the gradient's max norm is below this.
_GRADIENT_TOLERANCE = 1e-13
_NEWTON_STEPS = 20


@dataclass
class HopfieldParameters:
    """Parameters of the network: ``W`` (n x n, symmetric, zero diagonal), ``U`` (n x inputs), ``b``.

    The last ``n_output`` of the n free units are the outputs.
    """

    weights: np.ndarray
    input_weights: np.ndarray
    bias: np.ndarray
    n_output: int

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=float)
        self.input_weights = np.atleast_2d(np.asarray(self.input_weights, dtype=float))
        self.bias = np.asarray(self.bias, dtype=float)
        n = self.weights.shape[0]
        if self.weights.shape != (n, n) or not np.array_equal(self.weights, self.weights.T) \
                or np.any(np.diag(self.weights) != 0):
            raise InvalidModelError("weights", "a symmetric square matrix with zero diagonal",
                                    f"shape {self.weights.shape}",
                                    "Symmetrize W and set its diagonal to 0.")
        if self.input_weights.shape[0] != n or self.bias.shape != (n,):
            raise InvalidModelError("input_weights", f"{n} rows, and a bias of length {n}",
                                    f"shapes {self.input_weights.shape}, {self.bias.shape}",
                                    "Match the number of free units.")
        if not 1 <= self.n_output <= n:
            raise InvalidModelError("n_output", f"an integer in [1, {n}]", self.n_output,
                                    "The outputs are the last n_output free units.")

    @property
    def n(self) -> int:
        return self.weights.shape[0]


def _drive(parameters: HopfieldParameters, s: np.ndarray, x: np.ndarray) -> np.ndarray:
    return parameters.weights @ expit(s) + parameters.bias + parameters.input_weights @ x


def energy(parameters, s, x) -> float:
    rho = expit(s)
    return float(0.5 * s @ s - 0.5 * rho @ parameters.weights @ rho - parameters.bias @ rho
                 - rho @ parameters.input_weights @ x)


def cost(parameters: HopfieldParameters, s, y) -> float:
    """Return :math:`\\tfrac12 \\|s_{out} - y\\|^2`."""
    return float(0.5 * np.sum((s[-parameters.n_output:] - y) ** 2))


def _gradient(parameters, s, x, y, beta) -> np.ndarray:
    rho = expit(s)
    slope = rho * (1.0 - rho)
    gradient = s - slope * _drive(parameters, s, x)
    gradient[-parameters.n_output:] += beta * (s[-parameters.n_output:] - y)
    return gradient


def _hessian(parameters, s, x, beta) -> np.ndarray:
    rho = expit(s)
    slope = rho * (1.0 - rho)
    curvature = slope * (1.0 - 2.0 * rho)
    hessian = (np.diag(1.0 - curvature * _drive(parameters, s, x))
               - slope[:, None] * parameters.weights * slope[None, :])
    output = np.arange(parameters.n - parameters.n_output, parameters.n)
    hessian[output, output] += beta
    return hessian


def settle(parameters: HopfieldParameters, x, y=None, *, beta: float = 0.0, s0=None) -> np.ndarray:
    r"""Return the minimum of :math:`E + \beta C` reached from ``s0`` (default 0).

    L-BFGS descends the energy (the end point of :math:`\dot s = -\nabla F`
    from generic starts), then Newton steps polish it to
    :math:`\|\nabla F\|_\infty \le 10^{-13}`.

    Raises
    ------
    SolverError
        If the polished point is not a strict local minimum.
    """
    x = np.asarray(x, dtype=float)
    y = np.zeros(parameters.n_output) if y is None else np.asarray(y, dtype=float)
    s = np.zeros(parameters.n) if s0 is None else np.array(s0, dtype=float)

    def objective(state):
        value = energy(parameters, state, x) + beta * cost(parameters, state, y)
        return value, _gradient(parameters, state, x, y, beta)

    result = minimize(objective, s, jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 10_000})
    s = result.x
    for _ in range(_NEWTON_STEPS):
        gradient = _gradient(parameters, s, x, y, beta)
        if np.max(np.abs(gradient)) <= _GRADIENT_TOLERANCE:
            break
        s = s - np.linalg.solve(_hessian(parameters, s, x, beta), gradient)
    if np.min(np.linalg.eigvalsh(_hessian(parameters, s, x, beta))) <= 0:
        raise SolverError("the settled state is not a strict minimum of the energy")
    return s


def _energy_derivatives(parameters: HopfieldParameters, s, x) -> dict[str, np.ndarray]:
    r"""Return :math:`\partial E / \partial \theta` (W entries tied in pairs, zero diagonal)."""
    rho = expit(s)
    weights = -np.outer(rho, rho)
    np.fill_diagonal(weights, 0.0)
    return {"weights": weights, "bias": -rho, "input_weights": -np.outer(rho, x)}


def ep_gradient(parameters: HopfieldParameters, x, y, *,
                beta: float = 1e-3) -> dict[str, np.ndarray]:
    """Estimate dC/dtheta by equilibrium propagation with nudges +beta and -beta."""
    if not beta > 0:
        raise InvalidModelError("beta", "a positive nudging strength", beta, "Use e.g. 1e-3.")
    free = settle(parameters, x)
    plus = settle(parameters, x, y, beta=beta, s0=free)
    minus = settle(parameters, x, y, beta=-beta, s0=free)
    high, low = _energy_derivatives(parameters, plus, x), _energy_derivatives(parameters, minus, x)
    return {name: (high[name] - low[name]) / (2.0 * beta) for name in high}


def exact_gradient(parameters: HopfieldParameters, x, y) -> dict[str, np.ndarray]:
    """Return dC/dtheta at the free equilibrium by implicit differentiation."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    s = settle(parameters, x)
    cost_gradient = np.zeros(parameters.n)
    cost_gradient[-parameters.n_output:] = s[-parameters.n_output:] - y
    adjoint = np.linalg.solve(_hessian(parameters, s, x, 0.0), cost_gradient)
    rho = expit(s)
    scaled = adjoint * rho * (1.0 - rho)
    weights = np.outer(scaled, rho) + np.outer(rho, scaled)
    np.fill_diagonal(weights, 0.0)
    return {"weights": weights, "bias": scaled, "input_weights": np.outer(scaled, x)}
