r"""Time batch simulation of firing-rate networks against scipy's RK45.

The network is :math:`\dot x = -x + \tanh(W x + u)` with a Gaussian random
:math:`W` scaled to spectral radius 0.9. ctdyn integrates a batch of initial
states with one shared step, at one matrix-matrix product per stage, while
the naive baseline runs ``scipy.integrate.solve_ivp(method="RK45")`` once per
trajectory.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from ctdyn.models import FiringRateNetwork
from ctdyn.simulate import integrate, spread_initial_states

__all__ = ["SimulationTiming", "time_simulation"]


class SimulationTiming(NamedTuple):
    """One benchmark row: wall-clock seconds for a batch, ctdyn against scipy."""

    n: int
    seconds_ctdyn: float
    seconds_scipy: float


def random_network(n: int, *, seed: int = 0, spectral_radius: float = 0.9) -> FiringRateNetwork:
    r"""Return a tanh firing-rate network with Gaussian weights of the given spectral radius.

    The spectral radius comes from dense ``numpy.linalg.eigvals``, which is
    :math:`O(n^3)`. This setup is not timed, and it dominates the run time for
    large n.
    """
    generator = np.random.default_rng(seed)
    weights = generator.normal(size=(n, n)) / np.sqrt(n)
    weights *= spectral_radius / np.max(np.abs(np.linalg.eigvals(weights)))
    inputs = generator.normal(size=n) * 0.5
    return FiringRateNetwork(weights, input=inputs, activation="tanh")


def time_simulation(n_values, *, batch: int = 8, t_final: float = 20.0, rtol: float = 1e-8,
                    atol: float = 1e-10, seed: int = 0, threads: int = 1,
                    repeats: int = 1) -> list[SimulationTiming]:
    r"""Time the integration of ``batch`` trajectories to ``t_final`` for each n.

    Parameters
    ----------
    n_values : iterable of int
        Network sizes.
    batch : int
        Number of trajectories, from :func:`ctdyn.simulate.spread_initial_states`.
    t_final, rtol, atol : float
        Passed unchanged to both integrators.
    seed : int
        Seed of the weights, inputs and initial states.
    threads : int
        BLAS threads for both integrators (``threadpoolctl``). On a 2-core
        machine, numpy's and scipy's OpenBLAS copies slow each other down
        when each uses its default thread count.
    repeats : int
        Each timing is the minimum over this many runs.

    Returns
    -------
    list of SimulationTiming
        ``seconds_ctdyn`` is one batched :func:`ctdyn.simulate.integrate`
        call. ``seconds_scipy`` is the time of one RK45 trajectory (the first
        initial state) multiplied by ``batch``. That is an estimate of running
        the trajectories one after another, not a measurement of all of them.
    """
    rows = []
    with threadpool_limits(limits=threads):
        for n in n_values:
            network = random_network(int(n), seed=seed)
            x0 = spread_initial_states(int(n), batch, seed=seed)
            ours = _best_time(lambda: integrate(network.vector_field, x0, t_final=t_final,
                                                rtol=rtol, atol=atol), repeats)
            single = _best_time(lambda: _solve_one(network, x0[0], t_final, rtol, atol), repeats)
            rows.append(SimulationTiming(int(n), ours, single * batch))
    return rows


def _solve_one(network: FiringRateNetwork, x0: np.ndarray, t_final: float, rtol: float,
               atol: float) -> None:
    result = solve_ivp(lambda t, y: network.vector_field(y), (0.0, t_final), x0, method="RK45",
                       rtol=rtol, atol=atol)
    if not result.success:
        raise RuntimeError(f"scipy RK45 failed: {result.message}")


def _best_time(run, repeats: int) -> float:
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best
