r"""MaxCut by an oscillator Ising machine: annealed injection, noise, many replicas.

Each replica integrates

.. math:: d\phi_i = \Big[K \sum_j A_{ij} \sin(\phi_i - \phi_j) - K_s(t) \sin(2\phi_i)\Big]dt
          + \sigma(t)\, dW_i

by Euler-Maruyama, with uniform increments of the same variance in place of
Gaussian ones. Each replica runs in its own thread over the sparse rows of
:math:`A` (compiled kernels, :mod:`._kernels`), with the coupling written as
:math:`\sin\phi_i (A\cos\phi)_i - \cos\phi_i (A\sin\phi)_i`.
The injection :math:`K_s` ramps up from 0 while the noise decays, so the
phases first spread over the circle and then move towards 0 or pi. Spins are
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

Gains are in units of the median weighted degree :math:`\bar d` of the
nodes with edges: :math:`K = 1/\bar d`, so the coupling term is of order
one on any graph. The drift and the noise variance of node :math:`i` are
divided by :math:`p_i = \max(1, K d_i)` (:math:`d_i = \sum_j |A_{ij}|`), so
that a hub or a node with a heavy edge does not take Euler steps too large
for its coupling. This diagonal preconditioning leaves the equilibria and
their stability unchanged: the Jacobian :math:`-PH` at an equilibrium is
similar to :math:`-P^{1/2} H P^{1/2}`, which is congruent to :math:`-H`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

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
        log-uniformly. In 5 s trials on Gset the range 0.02 to 0.15 gave
        G22 its best-known cut, which 0.05 to 0.15 missed, and cost G14 at
        most 2.
    polish_steps : int
        With polish: steps per run in place of ``steps`` (0: ``steps``).
        Shorter runs give the local search more starting states.
    polish_first_steps : int
        With polish: steps of the first run, shorter still so that the local
        search gets its first states early (0: as the other runs).

    The defaults come from 5 s trials on Gset G1, G14 and G22 (2 seeds, 64
    replicas, no polish): a final injection of 0.1 with initial noise 0.3
    gave the best raw cuts among final injections 0.05 to 0.8, initial
    noise 0.05 to 0.5 and 100 to 2000 steps. With polish, 16 replicas, runs
    of 100 steps and 500 n tabu flips from the best 4 states reached 99.5%
    of the best-known cuts soonest. Tabu search from the best 8 took up to
    0.05 s longer and ended higher on G22.
    """

    steps: int = 500
    dt: float = 1.0
    injection_final: float = 0.1
    noise_initial: float = 0.3
    restart_spread: float = 1.0
    tabu_replicas: int = 8
    tabu_iterations: int = 500
    tabu_tenure: float | tuple[float, float] = (0.02, 0.15)
    polish_steps: int = 100
    polish_first_steps: int = 30


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


def solve_maxcut(graph: Graph, *, time_limit: float = 10.0, seed: int = 0, replicas: int = 16,
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
            "Ask for fewer replicas; 16 is the default.")
    schedule = schedule or Schedule()
    rng = np.random.default_rng(seed)
    csr = _Csr.of(graph)
    degrees = csr.weighted_degrees()
    # The median over nodes with edges: one heavy edge or hub does not weaken
    # the coupling of every other node, as it would with the mean.
    degree = float(np.median(degrees[degrees > 0])) if np.any(degrees > 0) else 0.0
    coupling = 1.0 / degree if degree > 0 else 1.0
    node_steps = 1.0 / np.maximum(1.0, coupling * degrees)
    report = progress or (lambda stage, fraction: None)
    _prepare_kernels(report)
    start = time.perf_counter()
    deadline = start + time_limit

    best_raw = (-math.inf, None)
    best_polished = (-math.inf, None)
    history = []
    runs = 0
    while True:
        incumbent = best_polished[1] if best_polished[0] > best_raw[0] else best_raw[1]
        run_schedule = schedule
        if polish:
            steps = schedule.polish_first_steps if runs == 0 else 0
            steps = steps or schedule.polish_steps or schedule.steps
            run_schedule = dataclasses.replace(schedule, steps=steps)
        spins, cuts = _run(csr, coupling, node_steps, run_schedule, replicas, rng, deadline,
                           start_spins=incumbent)
        runs += 1
        index = int(np.argmax(cuts))
        if cuts[index] > best_raw[0]:
            best_raw = (float(cuts[index]), spins[index].copy())
        now = time.perf_counter()
        if not history or best_raw[0] > history[-1][1]:
            history.append((now - start, best_raw[0]))
        if polish:
            polished, polished_cuts = _polish(graph, csr, spins, schedule, rng, deadline,
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

    # The kernels sum cut changes in floats, so the reported cuts are recomputed
    # from the spins. The polished state is returned only when it is better.
    raw_spins = best_raw[1].astype(int)
    raw_cut = float(cut_values(graph, raw_spins[None, :])[0])
    cut, spins, polished_cut = raw_cut, raw_spins, None
    if polish:
        polished_spins = best_polished[1].astype(int)
        polished_cut = float(cut_values(graph, polished_spins[None, :])[0])
        if polished_cut > raw_cut:
            cut, spins = polished_cut, polished_spins
    return MaxCutResult(
        cut=cut, spins=spins, raw_cut=raw_cut, raw_spins=raw_spins,
        polished_cut=polished_cut, coupling=coupling,
        injection=schedule.injection_final, time_s=time.perf_counter() - start,
        runs=runs, replicas=replicas, seed=seed, history=history)


def _prepare_kernels(report: Callable[[str, float], None] | None = None) -> None:
    """Compile or load the kernels, so that the time limit counts the search only."""
    from . import _kernels

    if report is not None:
        report("preparing the compiled kernels", 0.0)
    seconds = _kernels.prepare()
    if seconds > 1.0:
        logger.info("compiled the MaxCut kernels in %.1f s (once per installation)", seconds)


@dataclass(frozen=True)
class _Csr:
    """The symmetric adjacency matrix as the kernels take it."""

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray

    @classmethod
    def of(cls, graph: Graph) -> _Csr:
        adjacency = graph.adjacency()
        return cls(np.ascontiguousarray(adjacency.indptr, dtype=np.int64),
                   np.ascontiguousarray(adjacency.indices, dtype=np.int64),
                   np.ascontiguousarray(adjacency.data, dtype=np.float64))

    def integer_weights(self) -> bool:
        """Return whether every weight is an integer and every cut is exact in floats."""
        weights = self.weights
        return bool(weights.size) and bool(np.all(weights == np.round(weights))) \
            and float(np.abs(weights).sum()) <= 2.0**53

    def integer_gain_limit(self) -> int | None:
        """Return the largest weighted degree when the weights are integers of moderate size.

        Flip gains are then integers in ``[-limit, limit]``, and the tabu
        search keeps them in buckets. None means that the search scans all
        gains at every move instead.
        """
        if not self.integer_weights():
            return None
        limit = int(self.weighted_degrees().max())
        return limit if limit <= _MAX_BUCKET_GAIN else None

    def weighted_degrees(self) -> np.ndarray:
        r"""Return :math:`\sum_j |A_{ij}|` for every node."""
        n = self.indptr.size - 1
        return np.bincount(np.repeat(np.arange(n), np.diff(self.indptr)), np.abs(self.weights),
                           n)

    def work_per_row(self, n: int) -> int:
        """Operations of one pass over all nodes and edges of one replica."""
        return n + self.weights.size


# Above this weighted degree the bucket lists of the tabu search would take
# more memory than the scan saves (each replica keeps 2 limit + 1 heads).
_MAX_BUCKET_GAIN = 2**20

# Kernel calls are sized to about this many inner operations, so that the
# clock is checked every few tens of milliseconds.
_CHUNK_WORK = 20_000_000


def _stream_states(rng: np.random.Generator, count: int) -> np.ndarray:
    """Return nonzero seeds for the kernels' per-replica random streams."""
    return rng.integers(1, 2**63, size=count, dtype=np.uint64)


def _run(csr: _Csr, coupling: float, node_steps: np.ndarray, schedule: Schedule, replicas: int,
         rng: np.random.Generator, deadline: float,
         start_spins: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integrate one annealing run; return the best rounded spins and cut of each replica.

    With ``start_spins``, half of the replicas start near that binary state
    (phases 0 or pi plus Gaussian noise of ``schedule.restart_spread``) and
    the rest uniformly on the circle.
    """
    from . import _kernels

    n = csr.indptr.size - 1
    phases = rng.uniform(-math.pi, math.pi, size=(replicas, n))
    if start_spins is not None and schedule.restart_spread > 0:
        warm = replicas // 2
        center = np.where(start_spins > 0, 0.0, math.pi)[None, :]
        phases[:warm] = center + schedule.restart_spread * rng.standard_normal((warm, n))
    best_cuts = np.full(replicas, -math.inf)
    best_spins = np.ones((replicas, n))
    states = _stream_states(rng, replicas)
    steps = schedule.steps
    chunk = max(1, _CHUNK_WORK // (replicas * csr.work_per_row(n)))
    round_every = max(steps // 40, 1)
    step = 0
    while step < steps:
        stop = min(step + chunk, steps)
        if time.perf_counter() >= deadline:
            # Stopped by the clock: the last step rounds the phases.
            step, stop = steps - 1, steps
        _kernels.anneal(csr.indptr, csr.indices, csr.weights, coupling, phases, step, stop,
                        steps, schedule.dt, schedule.injection_final, schedule.noise_initial,
                        steps // 2, round_every, states, best_cuts, best_spins, node_steps)
        step = stop
    return best_spins, best_cuts


def _polish(graph: Graph, csr: _Csr, spins: np.ndarray, schedule: Schedule,
            rng: np.random.Generator, deadline: float, start: float,
            history: list) -> tuple[np.ndarray, np.ndarray]:
    """Greedy-polish all rounded states, then tabu-search the best few of them."""
    polished, cuts = _greedy(csr, spins, cut_values(graph, spins), deadline)
    if schedule.tabu_iterations <= 0 or schedule.tabu_replicas <= 0:
        return polished, cuts
    if history and cuts.max() > history[-1][1]:
        history.append((time.perf_counter() - start, float(cuts.max())))
    top = np.argsort(cuts)[::-1][:schedule.tabu_replicas]
    improvements = []
    searched, searched_cuts = _tabu(
        graph, csr, polished[top], iterations=schedule.tabu_iterations * graph.n,
        rng=rng, tenure=schedule.tabu_tenure, deadline=deadline, improvements=improvements,
        clock_start=start)
    for seconds, cut in improvements:
        if cut > history[-1][1]:
            history.append((seconds, cut))
    return searched, searched_cuts


def greedy_polish(graph: Graph, spins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Flip single spins while a flip increases the cut, in every replica.

    Flipping :math:`s_i` changes the cut by :math:`s_i (A s)_i`; each sweep
    visits the nodes in order and flips every spin of positive gain, until
    a sweep flips none. The result is a 1-flip local optimum, except that
    with non-integer weights a gain below 1e-9 times the largest weight is
    not counted. Returns the polished spins and their cuts.
    """
    spins = np.array(_check_spins(graph, spins), dtype=float)
    _prepare_kernels()
    return _greedy(_Csr.of(graph), spins, cut_values(graph, spins))


def _greedy(csr: _Csr, spins: np.ndarray, cuts: np.ndarray,
            deadline: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    from . import _kernels

    spins = np.array(spins, dtype=float)
    cuts = np.array(cuts, dtype=float)
    fields = _kernels.fields_of(csr.indptr, csr.indices, csr.weights, spins)
    tolerance = _gain_tolerance(csr)
    # Every flip raises the cut by more than the tolerance, so the sweeps end;
    # the bound on their number only guards against float trouble. The clock
    # is read between batches of sweeps.
    sweeps = 0
    while sweeps < 10 * spins.shape[1] + 10:
        improving = _kernels.greedy(csr.indptr, csr.indices, csr.weights, spins, fields, cuts,
                                    tolerance, _GREEDY_BATCH)
        sweeps += _GREEDY_BATCH
        if improving == 0 or (deadline is not None and time.perf_counter() >= deadline):
            break
    return spins, cuts


# Greedy sweeps per kernel call between two readings of the clock.
_GREEDY_BATCH = 4


def _gain_tolerance(csr: _Csr) -> float:
    """Return the smallest cut change the local searches count as a gain.

    Integer weights give integer gains, so any gain of at least 1 counts.
    Other weights give gains summed in floats, and a gain must exceed 1e-9
    times the largest weight so that rounding cannot make a flip look
    better than its reverse.
    """
    if csr.integer_weights():
        return 0.5
    scale = float(np.abs(csr.weights).max()) if csr.weights.size else 1.0
    return 1e-9 * scale


def tabu_search(graph: Graph, spins: np.ndarray, *, iterations: int,
                seed: int | np.random.Generator = 0,
                tenure: float | tuple[float, float] = (0.02, 0.15), deadline: float | None = None,
                improvements: list | None = None, clock_start: float | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
    r"""Improve every replica by 1-flip tabu search; return the best spins and cut of each.

    Each iteration flips, in every replica, the spin of largest gain
    :math:`s_i (A s)_i` among those not flipped in the last
    ``tenure * n + U{0..9}`` iterations; ties go to a random node. A tabu
    spin is still allowed when its flip gives a cut above the best of that
    replica (aspiration). The fields :math:`A s` are kept up to date by
    adding one column of :math:`A` per flip. The returned cut of a replica
    is never below the cut of its input spins.

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
        the best cut over all replicas improves (read between batches of
        flips, so a time is at most a few tens of milliseconds late).
    clock_start : float, optional
        Origin of the times in ``improvements`` (default: the call).

    Raises
    ------
    InvalidModelError
        If ``spins`` is not a ``(replicas, n)`` array of +1/-1, ``iterations``
        is not a nonnegative integer or a tenure is not in (0, 1].
    """
    spins = _check_tabu_options(graph, spins, iterations, tenure)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    spins = np.asarray(spins, dtype=float)
    _prepare_kernels()
    return _tabu(graph, _Csr.of(graph), spins, iterations=iterations,
                 rng=rng, tenure=tenure, deadline=deadline, improvements=improvements,
                 clock_start=clock_start)


def _tabu(graph: Graph, csr: _Csr, spins: np.ndarray, *, iterations: int,
          rng: np.random.Generator, tenure: float | tuple[float, float],
          deadline: float | None, improvements: list | None,
          clock_start: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Run :func:`tabu_search` with the adjacency matrix in kernel form."""
    from . import _kernels

    clock_start = time.perf_counter() if clock_start is None else clock_start
    start_spins = np.asarray(spins, dtype=float)
    start_cuts = cut_values(graph, start_spins)
    spins = start_spins.copy()
    cuts = start_cuts.copy()
    replicas, n = spins.shape
    fields = _kernels.fields_of(csr.indptr, csr.indices, csr.weights, spins)
    best_cuts = cuts.copy()
    best_spins = spins.copy()
    overall = float(best_cuts.max())
    tabu_until = np.zeros((replicas, n), dtype=np.int64)
    if np.ndim(tenure) == 1:
        low, high = tenure
        fractions = np.exp(rng.uniform(math.log(low), math.log(high), replicas))
    else:
        fractions = np.full(replicas, float(tenure))
    base_tenure = np.maximum((fractions * n).astype(np.int64), 1)
    states = _stream_states(rng, replicas)
    tolerance = _gain_tolerance(csr)
    limit = csr.integer_gain_limit()
    per_flip = (n if limit is None else 2 * n // max(int(base_tenure.mean()), 1)) \
        + csr.weights.size // max(n, 1)
    # Short batches: improvements are timed between them.
    chunk = max(1, _CHUNK_WORK // 10 // (replicas * per_flip))
    done = 0
    while done < iterations:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        flips = min(chunk, iterations - done)
        if limit is not None:
            _kernels.tabu_integer(csr.indptr, csr.indices, csr.weights, spins, fields, cuts,
                                  tabu_until, base_tenure, done, flips, best_cuts, best_spins,
                                  states, limit)
        else:
            _kernels.tabu(csr.indptr, csr.indices, csr.weights, spins, fields, cuts, tabu_until,
                          base_tenure, done, flips, best_cuts, best_spins, states, tolerance)
        done += flips
        if improvements is not None and best_cuts.max() > overall:
            overall = float(best_cuts.max())
            improvements.append((time.perf_counter() - clock_start, overall))
    # Sums of float gains can drift on non-integer weights, so the cuts are
    # recomputed exactly, and a replica whose start was better keeps its start.
    best_cuts = cut_values(graph, best_spins)
    worse = best_cuts < start_cuts
    best_spins[worse] = start_spins[worse]
    best_cuts[worse] = start_cuts[worse]
    return best_spins, best_cuts


def _check_spins(graph: Graph, spins) -> np.ndarray:
    array = np.asarray(spins)
    if array.ndim != 2 or array.shape[1] != graph.n or array.shape[0] == 0:
        raise InvalidModelError("spins", f"a (replicas, {graph.n}) array", f"shape {array.shape}",
                                "Give one row of +1/-1 per replica, one column per node.")
    if not np.all((array == 1) | (array == -1)):
        raise InvalidModelError("spins", "entries +1 or -1", "other values",
                                "Round phases to spins with sign(cos(phi)).")
    return array


def _check_tabu_options(graph: Graph, spins, iterations, tenure) -> np.ndarray:
    array = _check_spins(graph, spins)
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) \
            or iterations < 0:
        raise InvalidModelError("iterations", "a nonnegative integer", iterations,
                                "Use for example 10 times the number of nodes.")
    bounds = np.atleast_1d(np.asarray(tenure, dtype=float))
    if bounds.size not in (1, 2) or not np.all((bounds > 0) & (bounds <= 1)) \
            or bounds[0] > bounds[-1]:
        raise InvalidModelError("tenure", "a fraction in (0, 1] or a range (low, high) of them",
                                tenure, "Use for example (0.02, 0.15).")
    return array


# The solver keeps a few replicas x n float64 arrays; 2**26 phases is
# 512 MiB per array.
MAX_PHASES = 2**26


def _check_options(time_limit: float, replicas: int, seed: int) -> None:
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) \
            or not math.isfinite(time_limit) or time_limit <= 0:
        raise InvalidModelError("time_limit", "a positive number of seconds", time_limit,
                                "Use for example 10.")
    if isinstance(replicas, bool) or not isinstance(replicas, (int, np.integer)) or replicas < 1:
        raise InvalidModelError("replicas", "a positive integer", replicas, "Use for example 16.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidModelError("seed", "a nonnegative integer", seed, "Use for example 0.")
