r"""MaxCut by an oscillator Ising machine: annealed injection, noise, many replicas.

Each replica integrates

.. math:: d\phi_i = \Big[K \sum_j A_{ij} \sin(\phi_i - \phi_j) - K_s(t) \sin(2\phi_i)\Big]dt
          + \sigma(t)\, dW_i

by Euler-Maruyama, with uniform increments of the same variance in place of
Gaussian ones. All replicas advance together: the phases are an
``(n, replicas)`` array and the coupling is two sparse matrix products,
:math:`\sin\phi_i (A\cos\phi)_i - \cos\phi_i (A\sin\phi)_i`, per step.
The injection :math:`K_s` ramps up from 0 while the noise decays, so the
phases first spread over the circle and then lock to 0 or pi. Spins are
:math:`s_i = \operatorname{sign}\cos\phi_i`; the state is rounded every few
steps in the second half of a run and the best cut is kept. An optional
greedy polish flips single spins while that increases the cut; its result
is reported separately from the raw one. From the second run on, half of
the replicas start near the best state found so far (warm restart).

Gains are in units of the mean weighted degree :math:`\bar d` of the graph:
:math:`K = 1/\bar d`, so the coupling term is of order one on any graph.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sps

from ..errors import InvalidModelError
from ._graph import Graph, cut_values

__all__ = ["MaxCutResult", "solve_maxcut", "greedy_polish", "Schedule"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    r"""The annealing schedule of one run, in units where :math:`K \bar d = 1`.

    Attributes
    ----------
    steps : int
        Euler-Maruyama steps per run.
    dt : float
        Step size.
    injection_final : float
        :math:`K_s` at the end of the run (it ramps linearly from 0).
    noise_initial : float
        :math:`\sigma` at the start; it decays linearly to 0.
    restart_spread : float
        Standard deviation of the phase noise around the best state so far
        for the warm-started half of the replicas (0 turns warm restarts off).
    """

    steps: int = 500
    dt: float = 1.0
    injection_final: float = 0.4
    noise_initial: float = 0.1
    restart_spread: float = 1.0


@dataclass
class MaxCutResult:
    r"""The best cut found, with the phases' rounding and the optional polish.

    Attributes
    ----------
    cut : float
        Best cut reported (the polished one when polish ran).
    spins : ndarray of int
        +1/-1 per node in file order, giving ``cut``.
    raw_cut : float
        Best cut of the rounded oscillator phases, before any polish.
    raw_spins : ndarray of int
    polished_cut : float or None
        Best cut after greedy 1-flip polish, or None without polish.
    coupling, injection : float
        The gains :math:`K` and final :math:`K_s` of the machine, for the
        stability certificate of the returned state.
    time_s : float
        Wall-clock seconds.
    runs, replicas : int
        Runs completed and replicas per run.
    history : list of (float, float)
        (seconds, best cut so far) each time the best improved.
    """

    cut: float
    spins: np.ndarray
    raw_cut: float
    raw_spins: np.ndarray
    polished_cut: float | None
    coupling: float
    injection: float
    time_s: float
    runs: int
    replicas: int
    seed: int
    history: list = field(default_factory=list)


def solve_maxcut(graph: Graph, *, time_limit: float = 10.0, seed: int = 0, replicas: int = 64,
                 polish: bool = False, schedule: Schedule | None = None, max_runs: int | None = None,
                 progress: Callable[[str, float], None] | None = None) -> MaxCutResult:
    r"""Search for a maximum cut with an oscillator Ising machine.

    Parameters
    ----------
    graph : Graph
    time_limit : float
        Seconds of wall-clock time; runs repeat until it is spent. A run
        stopped by the limit is rounded at its current phases.
    seed : int
        Seed of the initial phases and the noise.
    replicas : int
        Replicas integrated together in one array.
    polish : bool
        Apply greedy 1-flip local search to every rounded state.
    schedule : Schedule, optional
    max_runs : int, optional
        Stop after this many runs even if time remains.
    progress : callable(stage, fraction), optional
    """
    _check_options(time_limit, replicas, seed)
    schedule = schedule or Schedule()
    rng = np.random.default_rng(seed)
    adjacency = graph.adjacency()
    degree = float(np.mean(np.asarray(abs(adjacency).sum(axis=1)).ravel()))
    coupling = 1.0 / degree if degree > 0 else 1.0
    report = progress or (lambda stage, fraction: None)
    start = time.perf_counter()
    deadline = start + time_limit

    best_raw = (-math.inf, None)
    best_polished = (-math.inf, None)
    history = []
    runs = 0
    while True:
        incumbent = best_polished[1] if best_polished[0] > best_raw[0] else best_raw[1]
        spins, cuts = _run(graph, adjacency, coupling, schedule, replicas, rng, deadline,
                           start_spins=incumbent)
        runs += 1
        index = int(np.argmax(cuts))
        if cuts[index] > best_raw[0]:
            best_raw = (float(cuts[index]), spins[index].copy())
        if polish:
            polished, polished_cuts = greedy_polish(graph, spins)
            index = int(np.argmax(polished_cuts))
            if polished_cuts[index] > best_polished[0]:
                best_polished = (float(polished_cuts[index]), polished[index].copy())
        best = max(best_raw[0], best_polished[0])
        now = time.perf_counter()
        if not history or best > history[-1][1]:
            history.append((now - start, best))
        report(f"run {runs}, best cut {best:g}", min((now - start) / time_limit, 1.0))
        logger.info("run %d: best raw cut %g, best polished cut %g after %.2f s", runs,
                    best_raw[0], best_polished[0], now - start)
        if now >= deadline or (max_runs is not None and runs >= max_runs):
            break

    cut, spins = best_polished if polish and best_polished[0] >= best_raw[0] else best_raw
    return MaxCutResult(
        cut=cut, spins=spins.astype(int), raw_cut=best_raw[0], raw_spins=best_raw[1].astype(int),
        polished_cut=best_polished[0] if polish else None, coupling=coupling,
        injection=schedule.injection_final, time_s=time.perf_counter() - start,
        runs=runs, replicas=replicas, seed=seed, history=history)


def _run(graph: Graph, adjacency: sps.csr_array, coupling: float, schedule: Schedule,
         replicas: int, rng: np.random.Generator, deadline: float,
         start_spins: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integrate one annealing run; return the best rounded spins and cut of each replica.

    With ``start_spins``, half of the replicas start near that binary state
    (phases 0 or pi plus Gaussian noise of ``schedule.restart_spread``) and
    the rest uniformly on the circle.
    """
    n = graph.n
    # float32 phases: rounding to spins needs little precision, and the
    # elementwise sin and cos dominate the cost of a step.
    phases = rng.uniform(-math.pi, math.pi, size=(n, replicas)).astype(np.float32)
    if start_spins is not None and schedule.restart_spread > 0:
        warm = replicas // 2
        center = np.where(start_spins > 0, 0.0, math.pi)[:, None]
        phases[:, :warm] = center + schedule.restart_spread * rng.standard_normal((n, warm))
    adjacency = adjacency.astype(np.float32)
    scale = coupling * float(np.mean(np.asarray(abs(adjacency).sum(axis=1)).ravel()) or 1.0)
    best_cuts = np.full(replicas, -math.inf)
    best_spins = np.ones((replicas, n))
    steps = schedule.steps
    dt = schedule.dt / scale
    round_every = max(steps // 40, 1)
    noise_buffer = np.empty_like(phases)
    for step in range(steps):
        fraction = step / steps
        injection = schedule.injection_final * scale * fraction
        noise = schedule.noise_initial * math.sqrt(scale) * (1.0 - fraction)
        cosine, sine = np.cos(phases), np.sin(phases)
        drift = sine * (adjacency @ cosine)
        drift -= cosine * (adjacency @ sine)
        drift *= np.float32(coupling * dt)
        drift -= np.float32(2.0 * injection * dt) * sine * cosine
        phases += drift
        if noise > 0:
            # Uniform noise of variance 1, sqrt(3) (2U - 1), instead of Gaussian:
            # it costs several times less to draw, and the annealing only needs
            # its variance.
            rng.random(out=noise_buffer, dtype=np.float32)
            noise_buffer -= np.float32(0.5)
            noise_buffer *= np.float32(2 * math.sqrt(3) * noise * math.sqrt(dt))
            phases += noise_buffer
        last = step == steps - 1 or time.perf_counter() >= deadline
        if (step >= steps // 2 and step % round_every == 0) or last:
            spins = np.where(np.cos(phases) >= 0, 1.0, -1.0).T
            cuts = cut_values(graph, spins)
            better = cuts > best_cuts
            best_cuts[better] = cuts[better]
            best_spins[better] = spins[better]
        if last:
            break
    return best_spins, best_cuts


def greedy_polish(graph: Graph, spins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Flip single spins while a flip increases the cut, in every replica at once.

    Flipping :math:`s_i` changes the cut by :math:`s_i (A s)_i`; each
    iteration flips the spin of largest gain in each replica that still has
    a positive one. Returns the polished spins and their cuts.
    """
    adjacency = graph.adjacency()
    spins = np.array(spins, dtype=float, copy=True)
    replicas = spins.shape[0]
    fields = (adjacency @ spins.T).T
    active = np.arange(replicas)
    for _ in range(10 * graph.n + 10):
        gains = spins[active] * fields[active]
        chosen = np.argmax(gains, axis=1)
        improving = gains[np.arange(active.size), chosen] > 1e-12
        if not np.any(improving):
            break
        active, chosen = active[improving], chosen[improving]
        spins[active, chosen] *= -1
        update = sps.csr_array((2.0 * spins[active, chosen], (np.arange(active.size), chosen)),
                               shape=(active.size, graph.n))
        fields[active] += (update @ adjacency).toarray()
    return spins, cut_values(graph, spins)


def _check_options(time_limit: float, replicas: int, seed: int) -> None:
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) \
            or not math.isfinite(time_limit) or time_limit <= 0:
        raise InvalidModelError("time_limit", "a positive number of seconds", time_limit,
                                "Use for example 10.")
    if isinstance(replicas, bool) or not isinstance(replicas, (int, np.integer)) or replicas < 1:
        raise InvalidModelError("replicas", "a positive integer", replicas, "Use for example 64.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidModelError("seed", "a nonnegative integer", seed, "Use for example 0.")
