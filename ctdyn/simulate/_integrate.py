r"""Batch integration of autonomous vector fields by Dormand-Prince 5(4).

The integrator advances a whole batch of trajectories of
:math:`\dot x = f(x)` with one shared step size. Each stage is then a single
call ``vector_field(states)`` on an array of shape ``(batch, n)``, which for
the networks of :mod:`ctdyn.models` is one matrix-matrix product.

Method (Hairer, Norsett and Wanner, *Solving Ordinary Differential Equations
I*, 2nd ed., Springer 1993): the Dormand-Prince pair of orders 5 and 4
(Table II.5.2, the method behind ``DOPRI5`` and scipy's ``RK45``) with local
extrapolation and the first-same-as-last property. Error norm and step-size
controller follow Section II.4, eq. (4.11) and (4.13):

.. math::

    \mathrm{err}_b = \Big(\frac1n \sum_{i=1}^n
        \Big(\frac{\hat e_{b,i}}{\mathrm{atol} + \mathrm{rtol}
        \max(|x_{b,i}|, |x^{\mathrm{new}}_{b,i}|)}\Big)^2\Big)^{1/2},
    \qquad \mathrm{err} = \max_b \mathrm{err}_b,

a step is accepted when :math:`\mathrm{err} \le 1` (not strict), and the next
step is :math:`h \min(10, \max(0.2, 0.9\,\mathrm{err}^{-1/5}))`, with the
factor capped at 1 right after a rejection. Taking the maximum over the batch
makes every trajectory at least as accurate as it would be if integrated
alone. The starting step follows the algorithm of Section II.4 ("Starting
step size"), applied per trajectory and minimized over the batch. Output at
``t_eval`` uses the 4th-order continuous extension of Shampine (1986), the
dense output of ``DOPRI5`` (Section II.6).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InvalidModelError, SolverError
from ..models._validate import finite_number

__all__ = ["Trajectories", "integrate", "spread_initial_states", "ERROR_NORMS"]

logger = logging.getLogger(__name__)

# Dormand-Prince 5(4) tableau (Hairer, Norsett, Wanner I, Table II.5.2).
_NODES = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
_STAGE_WEIGHTS = (
    np.array([]),
    np.array([1 / 5]),
    np.array([3 / 40, 9 / 40]),
    np.array([44 / 45, -56 / 15, 32 / 9]),
    np.array([19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729]),
    np.array([9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]),
)
# 5th-order weights. The 7th stage is f at the new state (first same as last).
_SOLUTION_WEIGHTS = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
# Difference of the 5th- and 4th-order weights: the embedded local error estimate.
_ERROR_WEIGHTS = np.array([71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200,
                           22 / 525, -1 / 40])
# Shampine's (1986) dense output coefficients, as used by DOPRI5 (HNW I, II.6).
_DENSE_WEIGHTS = np.array([-12715105075 / 11282082432, 0.0, 87487479700 / 32700410799,
                           -10690763975 / 1880347072, 701980252875 / 199316789632,
                           -1453857185 / 822651844, 69997945 / 29380423])

_ERROR_EXPONENT = -1 / 5  # -1 / (q + 1) with q = 4, the lower order of the pair
_SAFETY = 0.9
_FACTOR_MIN = 0.2
_FACTOR_MAX = 10.0
# Consecutive non-finite trial steps tolerated before the state counts as diverged;
# each retry shrinks the step by _FACTOR_MIN, 20 retries by about 1e-14.
_NONFINITE_RETRIES = 20
# Accepted steps between two progress reports and DEBUG log records.
_PROGRESS_INTERVAL = 50

# Norms whose per-step sums of local error estimates Trajectories records, in order.
ERROR_NORMS = ("l_1", "l_2", "l_inf")


@dataclass(frozen=True, eq=False)
class Trajectories:
    r"""A batch of trajectories sampled at common times.

    Attributes
    ----------
    t : ndarray, shape (n_times,)
        Output times, increasing. Without ``t_eval`` these are 0 and the end
        of every accepted step.
    states : ndarray, shape (n_times, batch, n)
        ``states[k, b]`` is trajectory ``b`` at time ``t[k]``.
    local_error_sums : ndarray, shape (n_times, batch, 3)
        For each output time and trajectory, the sum over the accepted steps
        up to that time of the norms of the embedded local error estimates
        :math:`\hat e`, in the norms :data:`ERROR_NORMS` (l_1, l_2, l_inf).
        A time strictly inside a step also counts that step's estimate once
        more, for the error of the 4th-order dense output. If the flow does
        not expand distances in a norm, the global error in that norm is at
        most the sum of the local errors. ctdyn.simulate turns these sums,
        with a safety factor, into error bounds and distance floors.
    rtol, atol : float
        Tolerances of the error control.
    t_final : float
        End of the integration interval (starting at 0).
    steps, rejected, evaluations : int
        Accepted steps, rejected steps and calls of ``vector_field``.
    """

    t: np.ndarray
    states: np.ndarray
    local_error_sums: np.ndarray
    rtol: float
    atol: float
    t_final: float
    steps: int
    rejected: int
    evaluations: int

    @property
    def batch(self) -> int:
        return self.states.shape[1]

    @property
    def n(self) -> int:
        return self.states.shape[2]

    @property
    def final_states(self) -> np.ndarray:
        """States at the last output time, shape (batch, n)."""
        return self.states[-1]

    @property
    def stats(self) -> dict[str, int]:
        """Step counts: accepted ``steps``, ``rejected`` and ``evaluations``."""
        return {"steps": self.steps, "rejected": self.rejected, "evaluations": self.evaluations}


def integrate(vector_field: Callable[[np.ndarray], np.ndarray], x0, *, t_final: float,
              rtol: float = 1e-8, atol: float = 1e-10, max_steps: int = 100000,
              t_eval=None, progress: Callable[[float], None] | None = None) -> Trajectories:
    r"""Integrate :math:`\dot x = f(x)` for a batch of initial states on :math:`[0, t_{final}]`.

    Parameters
    ----------
    vector_field : callable
        Maps states of shape ``(batch, n)`` to derivatives of the same shape,
        for example ``FiringRateNetwork.vector_field``.
    x0 : array_like, shape (batch, n) or (n,)
        Initial states. A single state of shape ``(n,)`` is a batch of one.
    t_final : float
        End time, finite and positive.
    rtol, atol : float
        Relative and absolute tolerance of the local error control. The
        scale of component ``i`` is :math:`\mathrm{atol} + \mathrm{rtol}\,|x_i|`.
        ``rtol`` must lie in :math:`[100\varepsilon, 1)` with
        :math:`\varepsilon` the float64 machine epsilon, and ``atol`` must be
        positive.
    max_steps : int
        Maximum number of attempted steps (accepted plus rejected).
    t_eval : array_like, optional
        Increasing output times in :math:`[0, t_{final}]`. Default: 0 and the
        end of every accepted step.
    progress : callable, optional
        Called with the fraction :math:`t / t_{final}` of the interval done,
        every few accepted steps and once with 1.0 at the end.

    Returns
    -------
    Trajectories

    Raises
    ------
    InvalidModelError
        If ``x0`` is not a finite non-empty array of shape ``(batch, n)`` or
        ``(n,)``, if ``t_final``, the tolerances, ``max_steps`` or
        ``t_eval`` are invalid, or if ``vector_field`` returns an array of
        another shape.
    SolverError
        If the state or its derivative becomes non-finite, if the step size
        falls below the resolution of the time axis, or if ``max_steps`` is
        exhausted. The message names the time reached.
    """
    states = _validate_initial_states(x0)
    t_final = finite_number("t_final", t_final, positive=True)
    rtol, atol = _validate_tolerances(rtol, atol)
    max_steps = _validate_max_steps(max_steps)
    output_times = _validate_t_eval(t_eval, t_final)

    derivative = _evaluate(vector_field, states, expected_shape=states.shape, t=0.0)
    run = _Run(vector_field, states, derivative, rtol=rtol, atol=atol, t_final=t_final,
               max_steps=max_steps, output_times=output_times, progress=progress)
    return run.solve()


class _Run:
    """State of one integration: current point, step size, counters and output."""

    def __init__(self, vector_field, states, derivative, *, rtol, atol, t_final, max_steps,
                 output_times, progress):
        self.vector_field = vector_field
        self.rtol = rtol
        self.atol = atol
        self.t_final = t_final
        self.max_steps = max_steps
        self.progress = progress
        self.output_times = output_times

        self.t = 0.0
        self.states = states
        self.derivative = derivative
        self.error_sums = np.zeros((states.shape[0], len(ERROR_NORMS)))
        self.steps = 0
        self.rejected = 0
        self.evaluations = 1

        self.out_t: list[float] = []
        self.out_states: list[np.ndarray] = []
        self.out_errors: list[np.ndarray] = []
        self.next_output = 0
        self._record_initial()

    # -- main loop -------------------------------------------------------

    def solve(self) -> Trajectories:
        step = self._initial_step()
        while self.t < self.t_final:
            step = self._advance(step)
            if self.steps % _PROGRESS_INTERVAL == 0:
                self._report()
        if self.progress is not None:
            self.progress(1.0)
        logger.debug("integration done: %d steps, %d rejected, %d evaluations",
                     self.steps, self.rejected, self.evaluations)
        return Trajectories(
            t=np.array(self.out_t),
            states=np.stack(self.out_states),
            local_error_sums=np.stack(self.out_errors),
            rtol=self.rtol, atol=self.atol, t_final=self.t_final,
            steps=self.steps, rejected=self.rejected, evaluations=self.evaluations)

    def _advance(self, step: float) -> float:
        """Take one accepted step, retrying with smaller steps, and return the next step size."""
        rejected_here = False
        nonfinite_trials = 0
        while True:
            if self.steps + self.rejected >= self.max_steps:
                raise SolverError(
                    f"integration stopped at t = {self.t:.9g} of t_final = {self.t_final:.9g}: "
                    f"max_steps = {self.max_steps} attempted steps were used. Raise max_steps, "
                    "loosen rtol/atol, or shorten t_final.")
            step = self._clip_step(step, nonfinite=nonfinite_trials > 0)
            t_new = min(self.t + step, self.t_final)
            step = t_new - self.t
            stages, new_states, error = _dormand_prince_step(
                self.vector_field, self.states, self.derivative, step)
            self.evaluations += 6
            norm = self._error_norm(error, new_states)

            if not np.isfinite(norm):
                nonfinite_trials += 1
                self.rejected += 1
                rejected_here = True
                if nonfinite_trials > _NONFINITE_RETRIES:
                    raise SolverError(
                        f"the state or its derivative became non-finite after t = {self.t:.9g} "
                        f"(trial step {step:.3g}). The solution may blow up in finite time. "
                        "Check the model or shorten t_final.")
                step *= _FACTOR_MIN
                continue

            if norm <= 1.0:
                factor = _step_factor(norm)
                if rejected_here:
                    factor = min(factor, 1.0)
                self._accept(t_new, step, stages, new_states, error)
                return step * factor

            self.rejected += 1
            rejected_here = True
            step *= max(_FACTOR_MIN, _SAFETY * norm**_ERROR_EXPONENT)

    def _clip_step(self, step: float, *, nonfinite: bool) -> float:
        smallest = 10 * abs(np.nextafter(self.t, np.inf) - self.t)
        if step >= smallest:
            return step
        if nonfinite:
            raise SolverError(
                f"the state or its derivative became non-finite just after t = {self.t:.9g}, "
                f"and steps down to {step:.3g} did not avoid it. Check the model near the "
                "state reached, or shorten t_final.")
        raise SolverError(
            f"the step size fell to {step:.3g} at t = {self.t:.9g}, below the resolution "
            f"{smallest:.3g} of the time axis. The solution may blow up, or the system may be "
            "too stiff for an explicit method. Check the model or loosen rtol/atol.")

    def _error_norm(self, error: np.ndarray, new_states: np.ndarray) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            scale = self.atol + self.rtol * np.maximum(np.abs(self.states), np.abs(new_states))
            per_trajectory = np.sqrt(np.mean((error / scale) ** 2, axis=1))
        if not np.all(np.isfinite(new_states)):
            return np.inf
        return float(np.max(per_trajectory))

    def _accept(self, t_new, step, stages, new_states, error) -> None:
        step_error_norms = _norms_of(error)
        self._record_dense(t_new, step, stages, new_states, step_error_norms)
        self.error_sums = self.error_sums + step_error_norms
        self.t = t_new
        self.states = new_states
        self.derivative = stages[6]
        self.steps += 1
        if self.output_times is None:
            self._record(t_new, new_states, self.error_sums)

    # -- output ----------------------------------------------------------

    def _record(self, t: float, states: np.ndarray, error_sums: np.ndarray) -> None:
        self.out_t.append(t)
        self.out_states.append(states)
        self.out_errors.append(error_sums)

    def _record_initial(self) -> None:
        if self.output_times is None:
            self._record(0.0, self.states, self.error_sums)
            return
        while self.next_output < len(self.output_times) and self.output_times[self.next_output] == 0.0:
            self._record(0.0, self.states, self.error_sums)
            self.next_output += 1

    def _record_dense(self, t_new, step, stages, new_states, step_error_norms) -> None:
        """Record the requested output times inside the step ``(t, t_new]``."""
        if self.output_times is None:
            return
        stop = int(np.searchsorted(self.output_times, t_new, side="right"))
        if stop <= self.next_output:
            return
        times = self.output_times[self.next_output:stop]
        theta = (times - self.t) / step
        values = _dense_output(theta, self.states, new_states, stages, step)
        for time, fraction, value in zip(times, theta, values):
            if fraction >= 1.0:
                self._record(float(time), new_states, self.error_sums + step_error_norms)
            else:
                self._record(float(time), value, self.error_sums + 2 * step_error_norms)
        self.next_output = stop

    def _report(self) -> None:
        fraction = self.t / self.t_final
        logger.debug("t = %.6g of %.6g (%.0f%%): %d steps, %d rejected, %d evaluations",
                     self.t, self.t_final, 100 * fraction, self.steps, self.rejected,
                     self.evaluations)
        if self.progress is not None:
            self.progress(fraction)

    # -- starting step ---------------------------------------------------

    def _initial_step(self) -> float:
        r"""Return the starting step of HNW I, Section II.4, minimized over the batch.

        With :math:`d_0 = \|x_0\|`, :math:`d_1 = \|f(x_0)\|` in the scaled RMS
        norm, :math:`h_0 = 0.01\, d_0 / d_1` (or :math:`10^{-6}` when either is
        below :math:`10^{-5}`), :math:`d_2 = \|f(x_0 + h_0 f(x_0)) - f(x_0)\| / h_0`
        and :math:`h_1 = (0.01 / \max(d_1, d_2))^{1/5}`, the step is
        :math:`\min(100 h_0, h_1)`.
        """
        scale = self.atol + self.rtol * np.abs(self.states)
        size = _rms(self.states / scale)
        slope = _rms(self.derivative / scale)
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.where((size < 1e-5) | (slope < 1e-5), 1e-6, 0.01 * size / slope)
        first_step = float(np.min(first))

        trial = self.states + first_step * self.derivative
        trial_derivative = _evaluate(self.vector_field, trial, expected_shape=trial.shape,
                                     t=first_step)
        self.evaluations += 1
        curvature = _rms((trial_derivative - self.derivative) / scale) / first_step
        largest = np.maximum(slope, curvature)
        with np.errstate(divide="ignore"):
            second = np.where(largest <= 1e-15, np.maximum(1e-6, first_step * 1e-3),
                              (0.01 / largest) ** (1 / 5))
        step = float(np.min(np.minimum(100 * first_step, second)))
        return min(step, self.t_final)


def _dormand_prince_step(vector_field, states, derivative, step):
    """Return the seven stages, the 5th-order state and the local error estimate."""
    stages = np.empty((7,) + states.shape)
    stages[0] = derivative
    with np.errstate(over="ignore", invalid="ignore"):
        for index in range(1, 6):
            increment = np.tensordot(_STAGE_WEIGHTS[index], stages[:index], axes=1)
            stages[index] = vector_field(states + step * increment)
        new_states = states + step * np.tensordot(_SOLUTION_WEIGHTS, stages[:6], axes=1)
        stages[6] = vector_field(new_states)
        error = step * np.tensordot(_ERROR_WEIGHTS, stages, axes=1)
    return stages, new_states, error


def _dense_output(theta, states, new_states, stages, step):
    r"""Evaluate the continuous extension at fractions ``theta`` of the step.

    With :math:`\Delta = x_1 - x_0`, :math:`b = h k_1 - \Delta`,
    :math:`c = \Delta - h k_7 - b` and :math:`d = h \sum_i d_i k_i`, the
    interpolant is :math:`x_0 + \theta(\Delta + (1-\theta)(b + \theta(c +
    (1-\theta) d)))`. It matches :math:`x_0, x_1` and the derivatives
    :math:`k_1, k_7` at both ends.
    """
    difference = new_states - states
    start_term = step * stages[0] - difference
    end_term = difference - step * stages[6] - start_term
    correction = step * np.tensordot(_DENSE_WEIGHTS, stages, axes=1)
    theta = np.asarray(theta)[:, None, None]
    rest = 1.0 - theta
    return states + theta * (difference + rest * (start_term + theta * (end_term + rest * correction)))


def _step_factor(norm: float) -> float:
    if norm == 0.0:
        return _FACTOR_MAX
    return min(_FACTOR_MAX, max(_FACTOR_MIN, _SAFETY * norm**_ERROR_EXPONENT))


def _rms(values: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(values**2, axis=1))


def _norms_of(error: np.ndarray) -> np.ndarray:
    magnitude = np.abs(error)
    return np.stack([magnitude.sum(axis=1), np.sqrt((magnitude**2).sum(axis=1)),
                     magnitude.max(axis=1)], axis=1)


def _evaluate(vector_field, states, *, expected_shape, t) -> np.ndarray:
    """Call ``vector_field`` once, checking the shape and finiteness of the result."""
    values = np.asarray(vector_field(states), dtype=float)
    if values.shape != expected_shape:
        raise InvalidModelError(
            "vector_field", f"a function returning shape {expected_shape} for states of that "
            "shape", f"shape {values.shape}",
            "Make vector_field map a (batch, n) array of states to a (batch, n) array.")
    if not np.all(np.isfinite(values)):
        raise SolverError(f"vector_field returned non-finite values at t = {t:.9g}. "
                          "Check the model and the initial states.")
    return values


# -- input checks ------------------------------------------------------------

def _validate_initial_states(x0) -> np.ndarray:
    try:
        states = np.array(x0, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidModelError("x0", "an array of numbers of shape (batch, n)", x0,
                                "Pass initial states as a numeric array.") from error
    if states.ndim == 1:
        states = states[None, :]
    if states.ndim != 2 or states.size == 0:
        raise InvalidModelError("x0", "a non-empty array of shape (batch, n) or (n,)",
                                f"shape {np.shape(x0)}", "Stack one initial state per row.")
    if not np.all(np.isfinite(states)):
        row, column = np.argwhere(~np.isfinite(states))[0]
        raise InvalidModelError("x0", "finite numbers", f"{states[row, column]} at ({int(row)}, {int(column)})",
                                "Replace NaN and infinite entries by finite values.")
    return states


def _validate_tolerances(rtol, atol) -> tuple[float, float]:
    rtol = finite_number("rtol", rtol, positive=True)
    atol = finite_number("atol", atol, positive=True)
    smallest = 100 * np.finfo(float).eps
    if not smallest <= rtol < 1:
        raise InvalidModelError("rtol", f"a relative tolerance in [{smallest:.3g}, 1)", rtol,
                                "Below 100 machine epsilons rounding errors dominate the "
                                "error estimate. Use rtol >= 1e-13.")
    return rtol, atol


def _validate_max_steps(max_steps) -> int:
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise InvalidModelError("max_steps", "a positive integer", max_steps,
                                "Give the maximum number of steps as an int, e.g. 100000.")
    return int(max_steps)


def _validate_t_eval(t_eval, t_final: float) -> np.ndarray | None:
    if t_eval is None:
        return None
    try:
        times = np.array(t_eval, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidModelError("t_eval", "a 1-D array of times", t_eval,
                                "Pass output times as numbers.") from error
    if times.ndim != 1 or times.size == 0:
        raise InvalidModelError("t_eval", "a non-empty 1-D array of times", f"shape {times.shape}",
                                "Pass output times as a flat list.")
    if not np.all(np.isfinite(times)) or times[0] < 0 or times[-1] > t_final:
        raise InvalidModelError("t_eval", f"finite times in [0, t_final = {t_final:.9g}]",
                                f"range [{times.min():.9g}, {times.max():.9g}]",
                                "Drop output times outside the integration interval.")
    if np.any(np.diff(times) <= 0):
        raise InvalidModelError("t_eval", "strictly increasing times", t_eval,
                                "Sort the output times and remove duplicates.")
    return times


# -- initial conditions ------------------------------------------------------

def spread_initial_states(n: int, count: int, *, scale: float = 1.0, seed: int = 0,
                          center=None) -> np.ndarray:
    r"""Return ``count`` initial states spread over the box ``center + [-scale, scale]^n``.

    The first two states are the opposite corners :math:`c \pm s\mathbf 1`
    (``c`` the center, ``s`` the scale). They are the pair farthest apart
    in every l_p norm, with the largest initial distance. Each further state is
    :math:`c + s\,(\sigma \odot \rho)` with independent uniform random signs
    :math:`\sigma_i \in \{-1, 1\}` and radii :math:`\rho_i` uniform on
    :math:`[0, 1)`. That is a uniform sample of the box, drawn so that each
    orthant around the center is equally likely. The result depends only on
    the arguments: the same seed gives the same states.

    Parameters
    ----------
    n : int
        State dimension, positive.
    count : int
        Number of states, positive.
    scale : float
        Half-width of the box, finite and positive.
    seed : int
        Seed of ``numpy.random.default_rng``.
    center : array_like, shape (n,), optional
        Center of the box (default the origin), e.g. an equilibrium.

    Returns
    -------
    ndarray, shape (count, n)
    """
    for field, value in (("n", n), ("count", count)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidModelError(field, "a positive integer", value,
                                    f"Give {field} as an int of at least 1.")
    scale = finite_number("scale", scale, positive=True)
    offset = np.zeros(n) if center is None else np.array(center, dtype=float)
    if offset.shape != (n,) or not np.all(np.isfinite(offset)):
        raise InvalidModelError("center", f"a finite vector of length {n}", center,
                                f"Give {n} finite numbers or leave center unset.")

    generator = np.random.default_rng(seed)
    signs = generator.choice(np.array([-1.0, 1.0]), size=(count, n))
    radii = generator.uniform(0.0, 1.0, size=(count, n))
    directions = signs * radii
    directions[0] = 1.0
    if count > 1:
        directions[1] = -1.0
    return offset[None, :] + scale * directions
