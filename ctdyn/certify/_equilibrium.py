r"""Equilibria of network models: damped Newton and rigorous enclosures.

Both families have the form :math:`f(x) = -C x + (\text{drive})`:

* ``side="left"`` (firing-rate network): :math:`f(x) = -Cx + \Phi(Wx + u)`,
  preactivation :math:`z = Wx + u`, Jacobian :math:`-C + D(x) W`;
* ``side="right"`` (Hopfield network): :math:`f(x) = -Cx + W\Phi(x) + u`,
  preactivation :math:`z = x`, Jacobian :math:`-C + W D(x)`;

with :math:`D(x) = \operatorname{diag}(\phi'(z))`.

Enclosure (Krawczyk operator)
-----------------------------
Let :math:`\tilde x` be an approximate zero, :math:`A` the floating Jacobian
at :math:`\tilde x`, :math:`Y \approx A^{-1}` and
:math:`X = \{x : |x - \tilde x| \le r\}` a box (componentwise, :math:`r > 0`).
For :math:`x \in X` the mean value theorem, applied to :math:`\phi` one
component at a time, gives :math:`f(x) - f(\tilde x) = S\,(x - \tilde x)`
with a *slope matrix* :math:`S = -C + \operatorname{diag}(s) W` (or
:math:`-C + W\operatorname{diag}(s)`), where each :math:`s_i` is a difference
quotient of :math:`\phi` between two preactivations of the box. For a
Lipschitz :math:`\phi` the difference quotient is an average of
:math:`\phi'`, so :math:`s_i` lies in the range of :math:`\phi'` over the
preactivation interval of the box. If :math:`|S - A| \le B` componentwise
for every such :math:`S` and

.. math:: k := |Y|\,|f(\tilde x)| + \bigl(|I - YA| + |Y| B\bigr)\, r < r
          \quad\text{(strictly, in every component),}

then :math:`g(x) = x - Y f(x)` maps :math:`X` into itself (Brouwer: it has a
fixed point), the nonnegative matrix :math:`M = |I - YA| + |Y|B` has
spectral radius below 1 (Perron-Frobenius, since :math:`Mr < r` with
:math:`r > 0`), so :math:`Y` is nonsingular and the fixed point is a zero of
:math:`f`. Two zeros :math:`x, y \in X` would give
:math:`x - y = (I - YS')(x - y)` with :math:`|I - YS'| \le M`, hence
:math:`x = y`: the zero is unique in :math:`X`. This is Krawczyk's operator
with slope matrices in place of derivative matrices.

Rigor of the floating-point evaluation
--------------------------------------
Matrix products are bounded a priori with
:func:`ctdyn.verify.matmul_error_bound`; elementwise operations are rounded
outward with ``np.nextafter`` or a :math:`\gamma_k` factor. The range of
:math:`\phi'` over an interval :math:`[z - \rho, z + \rho]` inside one
smooth piece of :math:`\phi` is enclosed by
:math:`\phi'(z) \pm L\rho`, with :math:`L` an upper bound of
:math:`\sup|\phi''|` on that piece derived by sympy's ``function_range``.
When the interval touches a kink, or sympy cannot bound :math:`\phi''`, the
global slope interval of the activation is used instead.

NOTE: the evaluation of :math:`\phi` and :math:`\phi'` itself (numpy's
``tanh``, ``exp``, scipy's ``expit`` and lambdified expressions) is not
outward rounded. These enclosures *assume* each evaluation is accurate to
:data:`LIBM_ULPS` units of roundoff relative to the size of the terms it
combines (``|value| + |phi(0)| + max|phi'| |z|`` for values, and
``|value| + max|phi'|`` for slopes). This is an assumption that ctdyn does
not check: common libm implementations of ``tanh`` and ``exp`` are accurate
to a few ulps, far inside that margin, but an activation expression whose
evaluation cancels catastrophically beyond it is not covered. Every result
that depends on these enclosures is labelled ``checked="interval"``, never
``"exact"``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla
import sympy as sp
from scipy import integrate
from sympy.calculus.util import function_range
from threadpoolctl import threadpool_limits

from ..errors import InvalidModelError
from ..models._activation import X, _intervals, _pieces
from ..verify import UNIT_ROUNDOFF, gamma, matmul_error_bound, round_up

__all__ = [
    "Equilibrium",
    "EquilibriumEnclosure",
    "find_equilibrium",
    "find_equilibria",
    "enclose_equilibrium",
    "LIBM_ULPS",
    "DENSE_NEWTON_LIMIT",
]

logger = logging.getLogger(__name__)

# Assumed accuracy of elementwise activation evaluations, in units of roundoff.
LIBM_ULPS = 64
# Above this size, or for sparse weights, Newton steps use GMRES with exact
# Jacobian-vector products instead of a dense LU factorization.
DENSE_NEWTON_LIMIT = 3000

_U = UNIT_ROUNDOFF
# Absolute slack for underflow in elementwise bounds.
_TINY = 2.0**-1000


@dataclass
class Equilibrium:
    r"""An approximate equilibrium :math:`f(x) \approx 0`.

    Attributes
    ----------
    x : ndarray, shape (n,)
    residual : float
        :math:`\|f(x)\|_\infty` evaluated in floating point.
    converged : bool
        Whether ``residual <= tol * max(1, |Cx|_inf, |f(x) + Cx|_inf)``.
    iterations : int
        Newton iterations of the final run.
    error_estimate : float
        :math:`\|J(x)^{-1} f(x)\|_\infty`, the first-order distance to the
        nearby zero (infinite when the Jacobian is singular). An estimate,
        not a bound; :func:`enclose_equilibrium` gives a bound.
    method : str
        ``"newton"``, ``"newton-krylov"``, or either preceded by ``"flow+"``
        when the flow was integrated first.
    """

    x: np.ndarray
    residual: float
    converged: bool
    iterations: int
    error_estimate: float = math.inf
    method: str = "newton"

    def to_dict(self) -> dict:
        return {
            "x": self.x.tolist(),
            "residual": self.residual,
            "converged": self.converged,
            "iterations": self.iterations,
            "error_estimate": self.error_estimate,
            "method": self.method,
        }


@dataclass(frozen=True, eq=False)
class EquilibriumEnclosure:
    r"""A box that contains exactly one equilibrium, proved by Krawczyk's test.

    Attributes
    ----------
    center : ndarray, shape (n,)
    radii : ndarray, shape (n,)
        Componentwise radii :math:`r`: the box
        :math:`\{x : |x - \text{center}| \le r\}` contains one equilibrium and
        no other.
    slopes_low, slopes_high : ndarray, shape (n,)
        Enclosure of :math:`\phi'` (and of every difference quotient of
        :math:`\phi`) over the preactivations of the box.
    jacobian : ndarray, shape (n, n)
        The floating Jacobian at ``center`` that the test used.
    jacobian_error : ndarray, shape (n, n)
        Componentwise bound :math:`B` with :math:`|S - \texttt{jacobian}| \le
        B` for every slope matrix :math:`S` of the box, in particular for the
        Jacobian at the enclosed equilibrium.
    iterations : int
        Inflation steps until the test passed.
    """

    center: np.ndarray
    radii: np.ndarray
    slopes_low: np.ndarray
    slopes_high: np.ndarray
    jacobian: np.ndarray
    jacobian_error: np.ndarray
    iterations: int

    @property
    def radius(self) -> float:
        """Largest componentwise radius (the box fits in this max-norm ball)."""
        return float(np.max(self.radii))

    def jacobian_error_norm(self) -> float:
        r"""Return an upper bound :math:`\delta \ge \|S - \texttt{jacobian}\|_2`.

        Uses :math:`\|E\|_2 \le \|B\|_2 \le \sqrt{\|B\|_1 \|B\|_\infty}` for
        :math:`|E| \le B`, rounded up.
        """
        bound = self.jacobian_error
        n = bound.shape[0]
        column_sum = float(np.max(np.sum(bound, axis=0)))
        row_sum = float(np.max(np.sum(bound, axis=1)))
        product = column_sum * row_sum * (1.0 + 2 * gamma(n + 2))
        return round_up(math.sqrt(product) * (1.0 + 4 * _U) + _TINY)

    def contains(self, x) -> bool:
        """Return whether the box contains the point ``x`` (decided in floating point)."""
        x = np.asarray(x, dtype=float)
        return bool(np.all(np.abs(x - self.center) <= self.radii))

    def to_dict(self) -> dict:
        return {
            "center": self.center.tolist(),
            "radii": self.radii.tolist(),
            "radius": self.radius,
            "slopes_low": self.slopes_low.tolist(),
            "slopes_high": self.slopes_high.tolist(),
            "iterations": self.iterations,
        }


# -- Newton's method ---------------------------------------------------------


def find_equilibrium(network, x0=None, *, tol: float = 1e-12, max_iterations: int = 100,
                     flow: bool = True) -> Equilibrium:
    r"""Find an equilibrium by damped Newton iteration.

    Dense networks up to :data:`DENSE_NEWTON_LIMIT` neurons take Newton steps
    with an LU factorization of the analytic Jacobian. Larger or sparse ones
    solve each step by GMRES with exact Jacobian-vector products. Steps are
    halved until :math:`\|f\|_2` decreases by the Armijo factor
    :math:`1 - 10^{-4} t`. If Newton's method fails from ``x0``, the flow
    :math:`\dot x = f(x)` is integrated from ``x0`` (which approaches a
    stable equilibrium, if any) and Newton's method restarts from its end.

    Parameters
    ----------
    network : FiringRateNetwork or HopfieldNetwork
    x0 : array_like, shape (n,), optional
        Initial state (default zero).
    tol : float
        Relative tolerance: converged when
        :math:`\|f(x)\|_\infty \le \texttt{tol}\,\max(1, \|Cx\|_\infty,
        \|f(x) + Cx\|_\infty)`, the scale of the two terms of :math:`f`.
    max_iterations : int
        Newton iterations per run.
    flow : bool
        Whether to integrate the flow and retry when Newton's method fails.

    Returns
    -------
    Equilibrium
        With ``converged=False`` if every run failed; the state with the
        smallest residual is returned then.
    """
    _check_tolerance(tol)
    start = _initial_state(network, x0)
    # Competing BLAS thread pools slow small dense solves down many times over.
    with threadpool_limits(limits=1):
        first = _newton(network, start, tol=tol, max_iterations=max_iterations)
        if first.converged or not flow:
            return first

        logger.info("Newton's method stalled at residual %.3g after %d iterations; "
                    "integrating the flow before a second run", first.residual, first.iterations)
        flowed = _integrate_flow(network, start)
        second = _newton(network, flowed, tol=tol, max_iterations=max_iterations)
    second.method = "flow+" + second.method
    if second.converged or second.residual < first.residual:
        return second
    return first


def find_equilibria(network, initial_states, *, tol: float = 1e-12, separation: float = 100.0,
                    flow: bool = True) -> list[Equilibrium]:
    r"""Find the distinct equilibria reached from several initial states.

    Two converged results :math:`a, b` count as the same equilibrium unless

    .. math:: \|x_a - x_b\|_\infty > \texttt{separation}\,(e_a + e_b)
              + 10^{-9}\,(1 + \max(\|x_a\|_\infty, \|x_b\|_\infty)),

    with :math:`e` the Newton error estimates. This is a floating-point
    judgement; :func:`enclose_equilibrium` with disjoint boxes proves that
    two equilibria differ.

    Parameters
    ----------
    network : FiringRateNetwork or HopfieldNetwork
    initial_states : array_like, shape (m, n), or a sequence of states
    tol : float
        As for :func:`find_equilibrium`.
    separation : float
        Factor on the error estimates in the test above.
    flow : bool
        As for :func:`find_equilibrium`.

    Returns
    -------
    list of Equilibrium
        Converged and distinct, in the order first reached.
    """
    found: list[Equilibrium] = []
    for state in _as_state_list(network, initial_states):
        candidate = find_equilibrium(network, state, tol=tol, flow=flow)
        if not candidate.converged:
            logger.info("no equilibrium from one initial state (residual %.3g)", candidate.residual)
            continue
        if not any(_same_equilibrium(candidate, known, separation) for known in found):
            found.append(candidate)
    return found


def _same_equilibrium(a: Equilibrium, b: Equilibrium, separation: float) -> bool:
    distance = float(np.max(np.abs(a.x - b.x)))
    scale = 1.0 + max(float(np.max(np.abs(a.x))), float(np.max(np.abs(b.x))))
    return not distance > separation * (a.error_estimate + b.error_estimate) + 1e-9 * scale


def _newton(network, x: np.ndarray, *, tol: float, max_iterations: int) -> Equilibrium:
    dense = network.n <= DENSE_NEWTON_LIMIT and not sps.issparse(network.weights)
    method = "newton" if dense else "newton-krylov"
    values = network.vector_field(x)
    iterations = 0
    while not _is_converged(network, x, values, tol) and iterations < max_iterations:
        step = _newton_step(network, x, values, dense=dense)
        if step is None:
            break
        accepted = _line_search(network, x, values, step)
        if accepted is None:
            break
        x, values = accepted
        iterations += 1

    residual = float(np.max(np.abs(values)))
    step = _newton_step(network, x, values, dense=dense)
    estimate = float(np.max(np.abs(step))) if step is not None else math.inf
    return Equilibrium(x=x, residual=residual, converged=_is_converged(network, x, values, tol),
                       iterations=iterations, error_estimate=estimate, method=method)


def _is_converged(network, x: np.ndarray, values: np.ndarray, tol: float) -> bool:
    if not np.all(np.isfinite(values)):
        return False
    leak_term = np.abs(network.leak * x)
    drive = np.abs(values + network.leak * x)
    scale = max(1.0, float(np.max(leak_term)), float(np.max(drive)))
    return float(np.max(np.abs(values))) <= tol * scale


def _newton_step(network, x: np.ndarray, values: np.ndarray, *, dense: bool) -> np.ndarray | None:
    """Solve J(x) step = -f(x); None when the system is singular or non-finite."""
    if not np.all(np.isfinite(values)):
        return None
    if dense:
        try:
            step = np.linalg.solve(network.jacobian(x), -values)
        except np.linalg.LinAlgError:
            return None
    else:
        operator = _jacobian_operator(network, x)
        step, info = spla.gmres(operator, -values, rtol=1e-10, atol=0.0, maxiter=50)
        if info < 0:
            return None
    return step if np.all(np.isfinite(step)) else None


def _jacobian_operator(network, x: np.ndarray) -> spla.LinearOperator:
    """Return v -> J(x) v without forming J (one product with W per call)."""
    slopes = network.slopes(x)
    leak = network.leak
    weights = network.weights
    if network.side == "left":
        def matvec(v):
            return slopes * (weights @ v) - leak * v
    else:
        def matvec(v):
            return weights @ (slopes * v) - leak * v
    n = network.n
    return spla.LinearOperator((n, n), matvec=lambda v: matvec(np.ravel(v)), dtype=float)


def _line_search(network, x: np.ndarray, values: np.ndarray, step: np.ndarray):
    norm = float(np.linalg.norm(values))
    fraction = 1.0
    while fraction >= 2.0**-30:
        trial = x + fraction * step
        trial_values = network.vector_field(trial)
        if np.all(np.isfinite(trial_values)) and \
                float(np.linalg.norm(trial_values)) <= (1.0 - 1e-4 * fraction) * norm:
            return trial, trial_values
        fraction /= 2.0
    return None


def _integrate_flow(network, start: np.ndarray) -> np.ndarray:
    """Integrate x' = f(x) over 50 leak time constants (RK45, loose tolerances)."""
    horizon = 50.0 / float(np.min(network.leak))
    solution = integrate.solve_ivp(lambda t, state: network.vector_field(state), (0.0, horizon),
                                   start, method="RK45", rtol=1e-6, atol=1e-9)
    end = solution.y[:, -1]
    return end if np.all(np.isfinite(end)) else start


def _check_tolerance(tol: float) -> None:
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise InvalidModelError("tol", "a positive finite number", tol,
                                "Use for example tol=1e-12.")


def _initial_state(network, x0, *, field: str = "x0") -> np.ndarray:
    if x0 is None:
        return np.zeros(network.n)
    if isinstance(x0, Equilibrium):
        x0 = x0.x
    state = np.asarray(x0, dtype=float)
    if state.shape != (network.n,) or not np.all(np.isfinite(state)):
        raise InvalidModelError(field, f"a finite state of shape ({network.n},)",
                                f"shape {state.shape}" if state.shape != (network.n,) else x0,
                                f"Give {network.n} finite numbers.")
    return state


def _as_state_list(network, initial_states) -> list[np.ndarray]:
    if isinstance(initial_states, np.ndarray) and initial_states.ndim == 2:
        return [_initial_state(network, row, field="initial_states")
                for row in initial_states]
    return [_initial_state(network, state, field="initial_states") for state in initial_states]


# -- rigorous enclosure ------------------------------------------------------


def enclose_equilibrium(network, x, *, max_radius: float = 1e-6, max_size: int = 2000,
                        max_iterations: int = 40) -> EquilibriumEnclosure | None:
    r"""Prove that a box around ``x`` contains exactly one equilibrium.

    Runs Krawczyk's test (module docstring) on boxes
    :math:`|x' - x| \le r` that grow from the Newton correction until the
    test passes or :math:`\max_i r_i` exceeds
    :math:`\texttt{max\_radius}\,(1 + \|x\|_\infty)`.

    Parameters
    ----------
    network : FiringRateNetwork or HopfieldNetwork
    x : array_like or Equilibrium
        The approximate equilibrium, the center of every box tried.
    max_radius : float
        Largest relative box radius tried; a point farther than this from
        every equilibrium is not enclosed.
    max_size : int
        Largest ``n`` handled (the test costs a dense inverse and a few
        dense products).
    max_iterations : int
        Box inflations tried.

    Returns
    -------
    EquilibriumEnclosure or None
        None when the test fails (no equilibrium near ``x``, a singular or
        ill-conditioned Jacobian, or ``n > max_size``).

    Notes
    -----
    The result assumes the accuracy of activation evaluations stated in the
    module docstring (:data:`LIBM_ULPS` units of roundoff).
    """
    if x is None:
        raise InvalidModelError("x", "a state or an Equilibrium", None,
                                "Pass the approximate equilibrium, e.g. from find_equilibrium.")
    center = _initial_state(network, x, field="x")
    if network.n > max_size:
        logger.info("no enclosure attempted: n = %d exceeds max_size = %d", network.n, max_size)
        return None
    with threadpool_limits(limits=1):
        return _krawczyk_search(network, center, max_radius=max_radius,
                                max_iterations=max_iterations)


def _krawczyk_search(network, center: np.ndarray, *, max_radius: float,
                     max_iterations: int) -> EquilibriumEnclosure | None:
    data = _CenterData.build(network, center)
    if data is None:
        return None

    limit = max_radius * (1.0 + float(np.max(np.abs(center))))
    radii = _up(2.0 * data.newton_bound + 16 * _U * (1.0 + np.abs(center)))
    for iteration in range(1, max_iterations + 1):
        if float(np.max(radii)) > limit:
            break
        low, high, bound = _box_slopes(network, data, radii)
        image = _krawczyk_radii(data, bound, radii)
        if np.all(image < radii):
            return EquilibriumEnclosure(center=center, radii=radii, slopes_low=low,
                                        slopes_high=high, jacobian=data.jacobian,
                                        jacobian_error=bound, iterations=iteration)
        radii = _up(2.0 * np.maximum(image, radii))
    logger.info("Krawczyk test failed around the given state (box radius limit %.3g)", limit)
    return None


@dataclass
class _CenterData:
    """Everything about the box center that the Krawczyk test reuses."""

    center: np.ndarray
    abs_weights: np.ndarray
    preactivation: np.ndarray        # computed z at the center
    preactivation_error: np.ndarray  # |true z - computed z|
    slopes: np.ndarray               # computed phi'(z)
    slope_error: np.ndarray          # assumed evaluation error of phi'(z)
    jacobian: np.ndarray             # floating Jacobian at the center
    inverse_abs: np.ndarray          # |Y|
    residual_matrix: np.ndarray      # upper bound of |I - Y A|
    newton_bound: np.ndarray         # upper bound of |Y| |f(center)|

    @classmethod
    def build(cls, network, center: np.ndarray) -> "_CenterData | None":
        weights = _dense(network.weights)
        abs_weights = np.abs(weights)
        activation = network.activation
        slope_scale = _slope_scale(activation)

        preactivation, preactivation_error = _preactivation(network, weights, center)
        slopes = activation.derivative(preactivation)
        slope_error = _up(LIBM_ULPS * _U * (np.abs(slopes) + slope_scale) + _TINY)
        residual_bound = _residual_bound(network, weights, center, preactivation,
                                         preactivation_error, slope_scale)
        if not (np.all(np.isfinite(slopes)) and np.all(np.isfinite(residual_bound))):
            return None

        jacobian = _jacobian_at(network, weights, slopes)
        try:
            inverse = np.linalg.inv(jacobian)
        except np.linalg.LinAlgError:
            logger.info("Krawczyk test skipped: the Jacobian at the center is singular")
            return None
        if not np.all(np.isfinite(inverse)):
            return None
        product = inverse @ jacobian
        identity = np.eye(network.n)
        residual_matrix = _up(np.abs(identity - product) + matmul_error_bound(inverse, jacobian)
                              + 2 * _U * (np.abs(product) + identity))
        inverse_abs = np.abs(inverse)
        newton_bound = _upper_product(inverse_abs, residual_bound)
        return cls(center, abs_weights, preactivation, preactivation_error, slopes, slope_error,
                   jacobian, inverse_abs, residual_matrix, newton_bound)


def _dense(weights) -> np.ndarray:
    return weights.toarray() if sps.issparse(weights) else np.asarray(weights, dtype=float)


def _slope_scale(activation) -> float:
    low, high = activation.slope_bounds.outward()
    return round_up(max(abs(low), abs(high)))


def _global_slopes(activation) -> tuple[float, float]:
    """Outward floats of the activation's slope interval."""
    low, high = activation.slope_bounds.outward()
    return -round_up(-low), round_up(high)


def _up(values) -> np.ndarray:
    """Round nonnegative floating results one ulp up (covers one rounding)."""
    return np.nextafter(np.asarray(values, dtype=float), np.inf)


def _down(values) -> np.ndarray:
    return np.nextafter(np.asarray(values, dtype=float), -np.inf)


def _upper_product(nonnegative_matrix: np.ndarray, nonnegative_vector: np.ndarray) -> np.ndarray:
    """Return an upper bound of a product of nonnegative factors."""
    computed = nonnegative_matrix @ nonnegative_vector
    return _up(computed + matmul_error_bound(nonnegative_matrix, nonnegative_vector))


def _preactivation(network, weights: np.ndarray, center: np.ndarray):
    """Return the computed preactivation at the center and a bound on its error."""
    if network.side == "right":
        return center.copy(), np.zeros(network.n)
    product = weights @ center
    preactivation = product + network.input
    error = matmul_error_bound(weights, center) + 2 * _U * (np.abs(product) + np.abs(network.input))
    return preactivation, _up(error + _TINY)


def _residual_bound(network, weights, center, preactivation, preactivation_error,
                    slope_scale: float) -> np.ndarray:
    r"""Return an upper bound of :math:`|f(\text{center})|`, the true residual."""
    activation = network.activation
    values = activation(preactivation)
    value_scale = abs(float(activation(np.zeros(1))[0])) + slope_scale * np.abs(preactivation)
    value_error = LIBM_ULPS * _U * (np.abs(values) + value_scale)
    leak_term = network.leak * center

    if network.side == "left":
        residual = values - leak_term
        # phi at the true preactivation differs by at most max|phi'| times its error.
        error = value_error + slope_scale * preactivation_error \
            + 2 * _U * (np.abs(leak_term) + np.abs(values) + np.abs(residual))
    else:
        drive = weights @ values
        residual = drive + network.input - leak_term
        error = matmul_error_bound(weights, values) + _upper_product(np.abs(weights), value_error) \
            + 3 * _U * (np.abs(leak_term) + np.abs(drive) + np.abs(network.input)
                        + np.abs(residual))
    return _up(np.abs(residual) + _up(error * (1 + 4 * _U) + _TINY))


def _jacobian_at(network, weights: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    # Each off-diagonal entry is one product, each diagonal entry a product
    # and a subtraction; _jacobian_bound accounts for exactly these roundings.
    if network.side == "left":
        jacobian = slopes[:, None] * weights
    else:
        jacobian = weights * slopes[None, :]
    jacobian[np.diag_indices_from(jacobian)] -= network.leak
    return jacobian


def _box_slopes(network, data: _CenterData, radii: np.ndarray):
    """Return the slope enclosure over the box and the bound B on |S - A|."""
    if network.side == "left":
        spread = _upper_product(data.abs_weights, radii) + data.preactivation_error
    else:
        spread = radii
    low, high = _slope_range(network.activation, data.preactivation, _up(spread),
                             data.slopes, data.slope_error)
    deviation = _up(np.maximum(_up(high - data.slopes), _up(data.slopes - low)))
    return low, high, _jacobian_bound(network, data, deviation)


def _jacobian_bound(network, data: _CenterData, deviation: np.ndarray) -> np.ndarray:
    r"""Return :math:`B \ge |S - A|` for every slope matrix of the box."""
    abs_slopes = np.abs(data.slopes)
    leak = np.diag(network.leak)
    if network.side == "left":
        slope_part = deviation[:, None] * data.abs_weights
        rounding = 3 * _U * (abs_slopes[:, None] * data.abs_weights + leak)
    else:
        slope_part = data.abs_weights * deviation[None, :]
        rounding = 3 * _U * (data.abs_weights * abs_slopes[None, :] + leak)
    return _up((slope_part + rounding) * (1 + 4 * _U) + _TINY)


def _krawczyk_radii(data: _CenterData, bound: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Return an upper bound of the Krawczyk image radii k (module docstring)."""
    contraction = _upper_product(data.residual_matrix, radii)
    perturbation = _upper_product(data.inverse_abs, _upper_product(bound, radii))
    return _up((data.newton_bound + contraction + perturbation) * (1 + 4 * _U))


def _slope_range(activation, centers: np.ndarray, spreads: np.ndarray, slopes: np.ndarray,
                 slope_error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Enclose :math:`\phi'` over :math:`[z - \rho, z + \rho]` for each component."""
    global_low, global_high = _global_slopes(activation)
    low = np.full(centers.shape, global_low)
    high = np.full(centers.shape, global_high)
    starts = _down(centers - spreads)
    ends = _up(centers + spreads)
    for piece in _smooth_pieces(activation.expression):
        if not math.isfinite(piece.lipschitz):
            continue
        inside = (starts > piece.start) & (ends < piece.end)
        if not np.any(inside):
            continue
        change = _up(_up(piece.lipschitz * spreads) * (1 + 2 * _U) + slope_error)
        low = np.where(inside, np.maximum(global_low, _down(slopes - change)), low)
        high = np.where(inside, np.minimum(global_high, _up(slopes + change)), high)
    return low, high


@dataclass(frozen=True)
class _SmoothPiece:
    """A piece of the activation with a bound on |phi''| (conservative ends)."""

    start: float
    end: float
    lipschitz: float


@lru_cache(maxsize=64)
def _smooth_pieces(expression: sp.Expr) -> tuple[_SmoothPiece, ...]:
    r"""Split :math:`\phi` into smooth pieces and bound :math:`|\phi''|` on each.

    ``start`` is rounded up and ``end`` down, so a float interval strictly
    between them lies inside the piece.
    """
    pieces = []
    for piece, domain in _pieces(expression):
        for interval in _intervals(domain):
            start = -math.inf if interval.start == -sp.oo else \
                float(np.nextafter(float(interval.start), np.inf))
            end = math.inf if interval.end == sp.oo else \
                float(np.nextafter(float(interval.end), -np.inf))
            pieces.append(_SmoothPiece(start, end, _second_derivative_bound(piece, interval)))
    return tuple(pieces)


def _second_derivative_bound(piece: sp.Expr, interval: sp.Interval) -> float:
    """Return a float at least sup |phi''| on the interval, or inf if unknown."""
    try:
        curvature = function_range(sp.diff(piece, X, 2), X, interval)
        ends = [curvature.inf, curvature.sup]
    except (NotImplementedError, ValueError, TypeError, AttributeError) as error:
        logger.info("no bound on phi'' for %s on %s (sympy: %s); using the global slope box",
                    piece, interval, error)
        return math.inf
    if not all(end.is_finite for end in ends):
        return math.inf
    # sympy evaluates the exact ends to 40 digits; the relative 1e-20 margin
    # covers that error before rounding up to a float.
    largest = max(abs(Fraction(str(sp.N(end, 40)))) for end in ends)
    return round_up(largest * (1 + Fraction(1, 10**20)))
