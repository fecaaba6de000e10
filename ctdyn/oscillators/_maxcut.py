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
steps in the second half of a run and the best cut is kept. From the second
run on, half of the replicas start near the best state found so far (warm
restart).

The optional polish works on the rounded states of each run: a greedy pass
flips single spins while that increases the cut, then a 1-flip tabu search
(:func:`tabu_search`) starts from the best few of them. Its result is
reported separately from the raw one. With polish on, the warm restarts
start near the best polished state when it beats the raw one, so the raw
cut then comes from oscillators started near a polished state.

Gains are in units of the mean weighted degree :math:`\bar d` of the graph:
:math:`K = 1/\bar d`, so the coupling term is of order one on any graph.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sps

from ..errors import InvalidModelError
from ._graph import Graph, cut_values

__all__ = ["MaxCutResult", "solve_maxcut", "greedy_polish", "tabu_search", "Schedule"]

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
    tabu_replicas : int
        With polish: how many of the best greedy-polished states of a run the
        tabu search starts from (0 turns tabu search off).
    tabu_iterations : int
        With polish: tabu flips per replica and run, in multiples of the
        number of nodes.
    tabu_tenure : float or (float, float)
        With polish: base tabu tenure as a fraction of the number of nodes,
        or a range from which each replica draws its own fraction
        log-uniformly. In 10 s trials on Gset, G1 and G22 did best near
        0.05 to 0.1 and the sparse G11 and G14 near 0.15, so the default
        range covers both.
    polish_first_steps : int
        With polish: steps of the first run, shorter than ``steps`` so that
        the local search gets its first states early (0: ``steps``).
    """

    steps: int = 500
    dt: float = 1.0
    injection_final: float = 0.4
    noise_initial: float = 0.1
    restart_spread: float = 1.0
    tabu_replicas: int = 8
    tabu_iterations: int = 10
    tabu_tenure: float | tuple[float, float] = (0.05, 0.15)
    polish_first_steps: int = 100


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
        Best cut after greedy 1-flip polish and tabu search, or None without
        polish.
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
        Apply greedy 1-flip local search to every rounded state and then tabu
        search to the best of them (see :class:`Schedule`).
    schedule : Schedule, optional
    max_runs : int, optional
        Stop after this many runs even if time remains.
    progress : callable(stage, fraction), optional
    """
    _check_options(time_limit, replicas, seed)
    if replicas * graph.n > MAX_PHASES:
        raise InvalidModelError(
            "replicas", f"at most {MAX_PHASES // graph.n:,} replicas for {graph.n:,} nodes "
            f"(at most {MAX_PHASES:,} phases in all)", replicas,
            "Ask for fewer replicas; 64 is the default.")
    schedule = schedule or Schedule()
    rng = np.random.default_rng(seed)
    adjacency = graph.adjacency()
    degree = float(np.mean(np.asarray(abs(adjacency).sum(axis=1)).ravel()))
    coupling = 1.0 / degree if degree > 0 else 1.0
    report = progress or (lambda stage, fraction: None)
    start = time.perf_counter()
    deadline = start + time_limit

    rows = _adjacency_rows(graph) if polish else None
    best_raw = (-math.inf, None)
    best_polished = (-math.inf, None)
    history = []
    runs = 0
    while True:
        incumbent = best_polished[1] if best_polished[0] > best_raw[0] else best_raw[1]
        run_schedule = schedule
        if polish and runs == 0 and schedule.polish_first_steps:
            run_schedule = dataclasses.replace(schedule, steps=schedule.polish_first_steps)
        spins, cuts = _run(graph, adjacency, coupling, run_schedule, replicas, rng, deadline,
                           start_spins=incumbent)
        runs += 1
        index = int(np.argmax(cuts))
        if cuts[index] > best_raw[0]:
            best_raw = (float(cuts[index]), spins[index].copy())
        now = time.perf_counter()
        if not history or best_raw[0] > history[-1][1]:
            history.append((now - start, best_raw[0]))
        if polish:
            polished, polished_cuts = _polish(graph, rows, spins, schedule, rng, deadline,
                                              start, history)
            index = int(np.argmax(polished_cuts))
            if polished_cuts[index] > best_polished[0]:
                best_polished = (float(polished_cuts[index]), polished[index].copy())
        best = max(best_raw[0], best_polished[0])
        now = time.perf_counter()
        if best > history[-1][1]:
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


def _polish(graph: Graph, rows: Callable[[np.ndarray], np.ndarray], spins: np.ndarray,
            schedule: Schedule, rng: np.random.Generator, deadline: float, start: float,
            history: list) -> tuple[np.ndarray, np.ndarray]:
    """Greedy-polish all rounded states, then tabu-search the best few of them."""
    polished, cuts = greedy_polish(graph, spins)
    if schedule.tabu_iterations <= 0 or schedule.tabu_replicas <= 0:
        return polished, cuts
    if history and cuts.max() > history[-1][1]:
        history.append((time.perf_counter() - start, float(cuts.max())))
    top = np.argsort(cuts)[::-1][:schedule.tabu_replicas]
    improvements = []
    searched, searched_cuts = _tabu(
        graph, rows, polished[top], iterations=schedule.tabu_iterations * graph.n, seed=rng,
        tenure=schedule.tabu_tenure, deadline=deadline, improvements=improvements,
        clock_start=start)
    for seconds, cut in improvements:
        if cut > history[-1][1]:
            history.append((seconds, cut))
    return searched, searched_cuts


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


def tabu_search(graph: Graph, spins: np.ndarray, *, iterations: int,
                seed: int | np.random.Generator = 0,
                tenure: float | tuple[float, float] = (0.05, 0.15), deadline: float | None = None,
                improvements: list | None = None, clock_start: float | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
    r"""Improve every replica by 1-flip tabu search; return the best spins and cut of each.

    Each iteration flips, in every replica at once, the spin of largest gain
    :math:`s_i (A s)_i` among those not flipped in the last
    ``tenure * n + U{0..9}`` iterations. A tabu spin is still allowed when
    its flip gives a cut above the best of that replica (aspiration). The
    fields :math:`A s` are kept up to date by adding one row of :math:`A`
    per replica and flip. The returned cut of a replica is never below the
    cut of its input spins.

    Parameters
    ----------
    graph : Graph
    spins : ndarray
        ``(replicas, n)`` array of +1/-1 start states.
    iterations : int
        Flips per replica.
    seed : int or numpy Generator
        Source of the random tenures and of the random tie-breaking.
    tenure : float or (float, float)
        Base tabu tenure as a fraction of the number of nodes, or a range
        from which each replica draws its fraction log-uniformly.
    deadline : float, optional
        ``time.perf_counter()`` value at which the search stops early.
    improvements : list, optional
        When given, receives ``(seconds since clock_start, cut)`` each time
        the best cut over all replicas improves.
    clock_start : float, optional
        Origin of the times in ``improvements`` (default: the call).

    Raises
    ------
    InvalidModelError
        If ``spins`` is not a ``(replicas, n)`` array of +1/-1, ``iterations``
        is not a nonnegative integer or a tenure is not in (0, 1].
    """
    spins = _check_tabu_options(graph, spins, iterations, tenure)
    return _tabu(graph, _adjacency_rows(graph), spins, iterations=iterations, seed=seed,
                 tenure=tenure, deadline=deadline, improvements=improvements,
                 clock_start=clock_start)


def _tabu(graph: Graph, rows: Callable[[np.ndarray], np.ndarray], spins: np.ndarray, *,
          iterations: int, seed: int | np.random.Generator,
          tenure: float | tuple[float, float],
          deadline: float | None, improvements: list | None,
          clock_start: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Run :func:`tabu_search` with a prepared adjacency-row lookup."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    clock_start = time.perf_counter() if clock_start is None else clock_start
    spins_in = spins
    spins = np.array(spins, dtype=np.float32, copy=True)
    replicas, n = spins.shape
    fields = (graph.adjacency() @ spins.T).T.astype(np.float32)
    start_cuts = cut_values(graph, spins)
    cuts = start_cuts.copy()
    best_cuts = cuts.copy()
    best_spins = spins.copy()
    overall = float(best_cuts.max())
    tabu_until = np.zeros((replicas, n), dtype=np.int64)
    replica_index = np.arange(replicas)
    if np.ndim(tenure) == 1:
        low, high = tenure
        fractions = np.exp(rng.uniform(math.log(low), math.log(high), replicas))
    else:
        fractions = np.full(replicas, float(tenure))
    base_tenure = np.maximum((fractions * n).astype(np.int64), 1)
    tie_break = 0.5 * _smallest_gain_step(graph)
    jitter = np.empty((replicas, n), dtype=np.float32)
    for step in range(iterations):
        gains = spins * fields
        # Ties are common (unit weights); a random jitter below the smallest
        # gain difference breaks them at random instead of by node order.
        rng.random(out=jitter, dtype=np.float32)
        jitter *= np.float32(tie_break)
        jitter += gains
        # Aspiration: a tabu flip is allowed when it beats the replica's best cut
        # by more than float32 rounding error.
        allowed = tabu_until <= step
        allowed |= gains > (best_cuts - cuts)[:, None] + 1e-6
        chosen = np.argmax(np.where(allowed, jitter, -np.inf), axis=1)
        cuts += gains[replica_index, chosen]
        spins[replica_index, chosen] *= -1
        fields += (2 * spins[replica_index, chosen])[:, None] * rows(chosen)
        tabu_until[replica_index, chosen] = step + base_tenure + rng.integers(0, 10, replicas)
        better = cuts > best_cuts + 1e-6
        if better.any():
            best_cuts[better] = cuts[better]
            best_spins[better] = spins[better]
            if improvements is not None and best_cuts.max() > overall:
                overall = float(best_cuts.max())
                improvements.append((time.perf_counter() - clock_start, overall))
        if deadline is not None and step % 64 == 63 and time.perf_counter() >= deadline:
            break
    # Sums of float32 gains can drift on non-integer weights, so the cuts are
    # recomputed exactly, and a replica whose start was better keeps its start.
    start_spins = np.asarray(spins_in, dtype=float)
    best_spins = best_spins.astype(float)
    best_cuts = cut_values(graph, best_spins)
    worse = best_cuts < start_cuts
    best_spins[worse] = start_spins[worse]
    best_cuts[worse] = start_cuts[worse]
    return best_spins, best_cuts


def _check_tabu_options(graph: Graph, spins, iterations, tenure) -> np.ndarray:
    array = np.asarray(spins)
    if array.ndim != 2 or array.shape[1] != graph.n or array.shape[0] == 0:
        raise InvalidModelError("spins", f"a (replicas, {graph.n}) array", f"shape {array.shape}",
                                "Give one row of +1/-1 per replica, one column per node.")
    if not np.all((array == 1) | (array == -1)):
        raise InvalidModelError("spins", "entries +1 or -1", "other values",
                                "Round phases to spins with sign(cos(phi)).")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) \
            or iterations < 0:
        raise InvalidModelError("iterations", "a nonnegative integer", iterations,
                                "Use for example 10 times the number of nodes.")
    bounds = np.atleast_1d(np.asarray(tenure, dtype=float))
    if bounds.size not in (1, 2) or not np.all((bounds > 0) & (bounds <= 1)) \
            or bounds[0] > bounds[-1]:
        raise InvalidModelError("tenure", "a fraction in (0, 1] or a range (low, high) of them",
                                tenure, "Use for example (0.05, 0.15).")
    return array


def _smallest_gain_step(graph: Graph) -> float:
    """Return a lower bound on the difference of two unequal flip gains (0 if unknown).

    With integer weights all gains are even or odd integers, so two unequal
    gains differ by at least 1; with other weights no jitter is added.
    """
    weights = np.asarray(graph.weights, dtype=float)
    if weights.size and np.all(weights == np.round(weights)):
        return 1.0
    return 0.0


def _adjacency_rows(graph: Graph) -> Callable[[np.ndarray], np.ndarray]:
    """Return a function that gives dense float32 rows of the adjacency matrix."""
    adjacency = graph.adjacency()
    if graph.n <= _DENSE_ROWS_MAX_NODES:
        dense = np.zeros((graph.n, graph.n), dtype=np.float32)
        dense[graph.rows, graph.cols] = graph.weights
        dense[graph.cols, graph.rows] = graph.weights
        return lambda index: dense[index]
    sparse = sps.csr_array(adjacency, dtype=np.float32)
    return lambda index: sparse[index].toarray()


# Above this many nodes the tabu search gathers sparse rows instead of
# keeping a dense float32 copy of the adjacency matrix (64 MB at this size).
_DENSE_ROWS_MAX_NODES = 4096


# The solver keeps several replicas x n float32 arrays; 2**26 phases is
# 256 MiB per array.
MAX_PHASES = 2**26


def _check_options(time_limit: float, replicas: int, seed: int) -> None:
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) \
            or not math.isfinite(time_limit) or time_limit <= 0:
        raise InvalidModelError("time_limit", "a positive number of seconds", time_limit,
                                "Use for example 10.")
    if isinstance(replicas, bool) or not isinstance(replicas, (int, np.integer)) or replicas < 1:
        raise InvalidModelError("replicas", "a positive integer", replicas, "Use for example 64.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidModelError("seed", "a nonnegative integer", seed, "Use for example 0.")
