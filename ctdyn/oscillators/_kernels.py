r"""Compiled inner loops of the MaxCut solver (Numba).

Every kernel works on one replica at a time and runs the replicas in
parallel threads. The graph is the symmetric adjacency matrix in CSR form
(``indptr``, ``indices``, ``weights``, each undirected edge stored twice).
Spins are float64 +1/-1 so that fields and gains need no conversions.

Random numbers come from one xorshift64* stream per replica, seeded from a
NumPy generator by the caller, so a run gives the same result for the same
seed whatever the number of threads.

The kernels do a bounded amount of work per call (a chunk of steps or
flips) and keep their state in the arrays they are given. The caller checks
the clock between calls, because compiled code cannot read it.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_CACHE = True

# 2**-53: turns the top 53 bits of a 64-bit word into a double in [0, 1).
_UNIT = 1.0 / 9007199254740992.0


@numba.njit(cache=_CACHE, inline="always")
def _next(states, r):
    """Advance replica r's xorshift64* state; return a double uniform in [0, 1)."""
    x = states[r]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    states[r] = x
    return float((x * np.uint64(2685821657736338717)) >> np.uint64(11)) * _UNIT


@numba.njit(cache=_CACHE, parallel=True)
def anneal(indptr, indices, weights, coupling, phases, step_start, step_stop, steps, dt,
           injection_final, noise_initial, round_from, round_every, states, best_cuts,
           best_spins, node_steps):
    r"""Advance every replica's phases by Euler-Maruyama steps ``step_start .. step_stop - 1``.

    Step ``k`` of ``steps`` uses :math:`K_s = K_{s,final} k / steps` and
    noise :math:`\sigma = \sigma_0 (1 - k / steps)`. From step ``round_from`` on, every
    ``round_every`` steps and at the last step of the run, the phases are
    rounded to spins and a replica keeps its best cut in ``best_cuts`` and
    ``best_spins``.
    """
    replicas, n = phases.shape
    root_dt = math.sqrt(dt)
    for r in numba.prange(replicas):
        phi = phases[r]
        cosine = np.empty(n)
        sine = np.empty(n)
        for step in range(step_start, step_stop):
            fraction = step / steps
            injection = injection_final * fraction
            # Uniform noise on (-sqrt(3), sqrt(3)) has variance 1.
            spread = 2.0 * math.sqrt(3.0) * noise_initial * (1.0 - fraction) * root_dt
            for i in range(n):
                cosine[i] = math.cos(phi[i])
                sine[i] = math.sin(phi[i])
            for i in range(n):
                sum_cos = 0.0
                sum_sin = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    j = indices[k]
                    sum_cos += weights[k] * cosine[j]
                    sum_sin += weights[k] * sine[j]
                drift = coupling * (sine[i] * sum_cos - cosine[i] * sum_sin) \
                    - 2.0 * injection * sine[i] * cosine[i]
                phi[i] += dt * node_steps[i] * drift
                if spread > 0.0:
                    phi[i] += spread * math.sqrt(node_steps[i]) * (_next(states, r) - 0.5)
            last = step == steps - 1
            if last or (step >= round_from and (step - round_from) % round_every == 0):
                # The sine buffer is recomputed at the next step, so it can store the spins.
                for i in range(n):
                    sine[i] = 1.0 if math.cos(phi[i]) >= 0.0 else -1.0
                cut = 0.0
                for i in range(n):
                    for k in range(indptr[i], indptr[i + 1]):
                        cut += weights[k] * (1.0 - sine[i] * sine[indices[k]])
                cut *= 0.25
                if cut > best_cuts[r]:
                    best_cuts[r] = cut
                    for i in range(n):
                        best_spins[r, i] = sine[i]


@numba.njit(cache=_CACHE, parallel=True)
def fields_of(indptr, indices, weights, spins):
    """Return :math:`A s` for every replica (rows of ``spins``)."""
    replicas, n = spins.shape
    fields = np.zeros((replicas, n))
    for r in numba.prange(replicas):
        for i in range(n):
            total = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                total += weights[k] * spins[r, indices[k]]
            fields[r, i] = total
    return fields


@numba.njit(cache=_CACHE, parallel=True)
def greedy(indptr, indices, weights, spins, fields, cuts, tolerance, max_sweeps):
    r"""Flip, sweep after sweep, every spin whose flip raises the cut by more than ``tolerance``.

    Updates ``spins``, ``fields`` (:math:`A s`) and ``cuts`` in place; stops
    for a replica after a sweep without a flip or after ``max_sweeps``
    sweeps. Returns the number of replicas that were still improving.
    """
    replicas, n = spins.shape
    unfinished = np.zeros(replicas, dtype=np.int64)
    for r in numba.prange(replicas):
        for _ in range(max_sweeps):
            flipped = False
            for i in range(n):
                gain = spins[r, i] * fields[r, i]
                if gain > tolerance:
                    spins[r, i] = -spins[r, i]
                    cuts[r] += gain
                    change = 2.0 * spins[r, i]
                    for k in range(indptr[i], indptr[i + 1]):
                        fields[r, indices[k]] += change * weights[k]
                    flipped = True
            if not flipped:
                break
        else:
            unfinished[r] = 1
    return unfinished.sum()


@numba.njit(cache=_CACHE, parallel=True)
def tabu(indptr, indices, weights, spins, fields, cuts, tabu_until, base_tenure, step_start,
         flips, best_cuts, best_spins, states, tolerance):
    r"""Make ``flips`` 1-flip tabu moves in every replica, from move number ``step_start``.

    A move flips the spin of largest gain :math:`s_i (A s)_i` among those
    not flipped in the last ``base_tenure[r] + U{0..9}`` moves. A tabu spin
    is still allowed when its flip lifts the cut above the replica's best by
    more than ``tolerance`` (aspiration). The scan for the largest gain starts at
    a random node, so ties go to a random node. State (``spins``,
    ``fields``, ``cuts``, ``tabu_until``, ``best_*``) is updated in place.
    """
    replicas, n = spins.shape
    for r in numba.prange(replicas):
        for move in range(step_start, step_start + flips):
            allowance = best_cuts[r] - cuts[r] + tolerance
            offset = int(_next(states, r) * n)
            chosen = -1
            best_gain = -np.inf
            for position in range(n):
                i = position + offset
                if i >= n:
                    i -= n
                gain = spins[r, i] * fields[r, i]
                if gain > best_gain and (tabu_until[r, i] <= move or gain > allowance):
                    best_gain = gain
                    chosen = i
            if chosen < 0:
                chosen = offset
                best_gain = spins[r, chosen] * fields[r, chosen]
            spins[r, chosen] = -spins[r, chosen]
            cuts[r] += best_gain
            change = 2.0 * spins[r, chosen]
            for k in range(indptr[chosen], indptr[chosen + 1]):
                fields[r, indices[k]] += change * weights[k]
            tabu_until[r, chosen] = move + base_tenure[r] + int(_next(states, r) * 10.0)
            if cuts[r] > best_cuts[r] + tolerance:
                best_cuts[r] = cuts[r]
                for i in range(n):
                    best_spins[r, i] = spins[r, i]


@numba.njit(cache=_CACHE, inline="always")
def _link(node, bucket, head, after, before):
    """Put ``node`` first in the list of ``bucket``."""
    first = head[bucket]
    after[node] = first
    before[node] = -1
    if first >= 0:
        before[first] = node
    head[bucket] = node


@numba.njit(cache=_CACHE, inline="always")
def _unlink(node, bucket, head, after, before):
    """Take ``node`` out of the list of ``bucket``."""
    if before[node] >= 0:
        after[before[node]] = after[node]
    else:
        head[bucket] = after[node]
    if after[node] >= 0:
        before[after[node]] = before[node]


@numba.njit(cache=_CACHE, parallel=True)
def tabu_integer(indptr, indices, weights, spins, fields, cuts, tabu_until, base_tenure,
                 step_start, flips, best_cuts, best_spins, states, limit):
    r"""Make the moves of :func:`tabu` for integer weights, with the gains kept in buckets.

    Every gain is an integer in ``[-limit, limit]`` (``limit`` bounds the
    weighted degrees), so the nodes are kept in one doubly linked list per
    gain value. The best allowed move is the first node, walking down from
    the highest nonempty bucket, that is not tabu or passes the aspiration
    test. A flip moves the flipped node and its neighbours to their new
    buckets. A move costs the node's degree plus the tabu nodes
    skipped, instead of a scan of all ``n`` gains. Nodes enter a list at its
    head, so ties go to the node whose gain changed last.
    """
    replicas, n = spins.shape
    size = 2 * limit + 1
    for r in numba.prange(replicas):
        bucket = np.empty(n, dtype=np.int64)
        after = np.empty(n, dtype=np.int64)
        before = np.empty(n, dtype=np.int64)
        head = np.full(size, -1, dtype=np.int64)
        top = 0
        # Nodes enter in a random rotation, so that equal gains start in random order.
        offset = int(_next(states, r) * n)
        for position in range(n):
            i = position + offset
            if i >= n:
                i -= n
            b = int(round(spins[r, i] * fields[r, i])) + limit
            bucket[i] = b
            _link(i, b, head, after, before)
            if b > top:
                top = b
        for move in range(step_start, step_start + flips):
            allowance = best_cuts[r] - cuts[r]
            while top > 0 and head[top] < 0:
                top -= 1
            chosen = -1
            b = top
            while b >= 0 and chosen < 0:
                # The aspiration test is the same for the whole bucket.
                aspires = b - limit > allowance + 0.5
                i = head[b]
                while i >= 0:
                    if aspires or tabu_until[r, i] <= move:
                        chosen = i
                        break
                    i = after[i]
                b -= 1
            if chosen < 0:
                chosen = int(_next(states, r) * n)
            gain = bucket[chosen] - limit
            spins[r, chosen] = -spins[r, chosen]
            cuts[r] += gain
            _unlink(chosen, bucket[chosen], head, after, before)
            bucket[chosen] = limit - gain
            _link(chosen, bucket[chosen], head, after, before)
            if bucket[chosen] > top:
                top = bucket[chosen]
            sign = spins[r, chosen]
            for k in range(indptr[chosen], indptr[chosen + 1]):
                j = indices[k]
                _unlink(j, bucket[j], head, after, before)
                bucket[j] += int(round(2.0 * weights[k] * sign * spins[r, j]))
                _link(j, bucket[j], head, after, before)
                if bucket[j] > top:
                    top = bucket[j]
            tabu_until[r, chosen] = move + base_tenure[r] + int(_next(states, r) * 10.0)
            if cuts[r] > best_cuts[r] + 0.5:
                best_cuts[r] = cuts[r]
                for i in range(n):
                    best_spins[r, i] = spins[r, i]
        for i in range(n):
            fields[r, i] = spins[r, i] * (bucket[i] - limit)


_READY = []


def prepare() -> float:
    """Compile every kernel, or load it from Numba's cache, before any clock starts.

    The first use after installation compiles for several seconds; later
    processes load the cached machine code. Returns the seconds spent (0
    after the first call in a process).
    """
    if _READY:
        return 0.0
    import time

    start = time.perf_counter()
    indptr = np.array([0, 1, 2], dtype=np.int64)
    indices = np.array([1, 0], dtype=np.int64)
    weights = np.array([1.0, 1.0])
    spins = np.ones((1, 2))
    states = np.ones(1, dtype=np.uint64)
    anneal(indptr, indices, weights, 1.0, np.zeros((1, 2)), 0, 2, 2, 1.0, 0.1, 0.1, 0, 1, states,
           np.full(1, -np.inf), np.ones((1, 2)), np.ones(2))
    fields = fields_of(indptr, indices, weights, spins)
    greedy(indptr, indices, weights, spins.copy(), fields.copy(), np.zeros(1), 1e-9, 2)
    base = np.ones(1, dtype=np.int64)
    for kernel, last in ((tabu, 1e-9), (tabu_integer, 1)):
        kernel(indptr, indices, weights, spins.copy(), fields.copy(), np.zeros(1),
               np.zeros((1, 2), dtype=np.int64), base, 0, 2, np.zeros(1), spins.copy(), states,
               last)
    _READY.append(True)
    return time.perf_counter() - start
