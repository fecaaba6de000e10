r"""Phase-locked states of Kuramoto networks on graphs: Newton and rigorous enclosures.

In the frame rotating at the mean frequency, with :math:`\nu = \omega - \bar\omega`,
a phase-locked state is a zero of

.. math:: f_i(\theta) = \nu_i - K \sum_j a_{ij} \sin(\theta_i - \theta_j).

Every zero comes with a line of zeros :math:`\theta + c\mathbf 1`, so one
node :math:`g` (the ground) is fixed at :math:`\theta_g = 0` and only the
other :math:`n - 1` equations are solved. The remaining equation then
follows, because :math:`a` is symmetric and so
:math:`\sum_i f_i = \sum_i \nu_i = 0`.

The Jacobian is minus a weighted Laplacian, :math:`J(\theta) = -L(w)` with
edge weights :math:`w_{ij} = K a_{ij} \cos(\theta_i - \theta_j)`.

Enclosure
---------
Let :math:`\tilde\theta` be the Newton solution, :math:`A` a floating
approximation of the reduced Jacobian at it, :math:`Y \approx A^{-1}` and
:math:`X` the box :math:`|\theta_i - \tilde\theta_i| \le r_i` (:math:`r_g = 0`).
For :math:`\theta, \xi \in X`, :math:`|\cos(\xi_i - \xi_j) - \cos(\theta_i -
\theta_j)| \le r_i + r_j` (cosine is 1-Lipschitz), which bounds every
Jacobian of the box: :math:`|J(\xi) - A| \le B`. If the Krawczyk image

.. math:: k = |Y|\,|f(\tilde\theta)| + \bigl(|I - YA| + |Y| B\bigr)\, r

satisfies :math:`k < r` in every component, the box contains exactly one zero
of the reduced system (the argument of :mod:`ctdyn.certify._equilibrium`:
Brouwer, then Perron-Frobenius for the nonsingularity of :math:`Y`). This
dense test runs up to :data:`KRAWCZYK_SIZE_LIMIT` nodes. Above, the sparse
M-matrix test of :func:`enclose_cohesive_state` proves locked states whose
edges all keep :math:`|\theta_i - \theta_j| < \pi/2` on the box.

Rigor of the floating-point evaluation
--------------------------------------
Sines and cosines of the node phases are enclosed by python-flint's ``arb``
balls, and :math:`\sin(\theta_i - \theta_j) = s_i c_j - c_i s_j` turns the
coupling sums into two matrix-vector products, bounded a priori with the
:math:`\gamma_k` factors of :func:`ctdyn.verify.matmul_error_bound`.
:math:`\nu` is rounded from its exact rational value with a recorded error.
No libm accuracy is assumed, so the enclosure is rigorous
(``checked="interval"``).

Stability (proofs/oscillator_networks.md, section 5)
-----------------------------------------------------
If every edge has :math:`\cos(\theta_i - \theta_j) > 0` on the whole box and
the graph is connected, the Jacobian at the enclosed zero is minus a
Laplacian with positive weights on a connected graph. It has a simple
eigenvalue 0 (the rotation) and all others negative, so the locked state is
locally exponentially stable up to the rotation. A direction :math:`v` with
:math:`v^T L(w) v < 0` for every weight in the box, checked in rational
arithmetic, proves an eigenvalue of the Jacobian above 0: the locked state in
the box is unstable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.sparse as sps
import scipy.sparse.csgraph
import scipy.sparse.linalg as spla

from ..certify._equilibrium import _up, _upper_product
from ..verify import UNIT_ROUNDOFF, gamma, matmul_error_bound
from ._models import KuramotoNetwork

__all__ = ["LockedState", "LockedEnclosure", "KRAWCZYK_SIZE_LIMIT", "SPARSE_SIZE_LIMIT",
           "find_locked_state", "enclose_locked_state", "enclose_cohesive_state",
           "unstable_direction", "exact_frequency_offsets", "component_refutation",
           "locked_laplacian"]

logger = logging.getLogger(__name__)

# Largest n for the dense Krawczyk test: it inverts the (n-1) x (n-1)
# Jacobian and forms three dense products. At n = 2000,
# benchmarks/bench_kuramoto_graphs.py measured 2 to 2.7 s for the test on
# one core of a 2-core Xeon, and both certificates of a G(2000, 0.5) network
# took 7 s with a peak resident size of 0.74 GB.
KRAWCZYK_SIZE_LIMIT = 2000
# Above this many edges the exact rational check of an unstable direction
# is skipped, because it sums one Fraction per edge.
REFUTATION_EDGE_LIMIT = 20000
# Largest n for the sparse M-matrix test of cohesive locked states. On a
# random graph with n = 10**5 and 6 * 10**5 edges, benchmarks/bench_kuramoto_graphs.py
# measured 1.2 s for Newton and 1.4 s for the test on one core.
SPARSE_SIZE_LIMIT = 10**5
# Graphs with more edges than this fraction of n^2 use dense Newton solves.
_DENSE_FRACTION = 0.1
# Sparse systems up to this size, or with an estimated banded factoring
# work up to this many operations, are solved directly; others by MINRES.
_DIRECT_SIZE = 1000
_DIRECT_WORK_LIMIT = 2 * 10**8
_MINRES_ITERATIONS = 5000
_U = UNIT_ROUNDOFF
_TINY = 2.0**-1000


@dataclass
class LockedState:
    r"""An approximate phase-locked state in the rotating frame.

    Attributes
    ----------
    phases : ndarray, shape (n,)
        :math:`\tilde\theta` with ``phases[ground] == 0``.
    ground : int
        The node whose phase is fixed at 0.
    residual : float
        :math:`\|f(\tilde\theta)\|_\infty` in floating point.
    converged : bool
        Whether the residual is below the Newton tolerance.
    method : str
        ``"newton"`` or ``"flow+newton"`` (the flow integrated first).
    """

    phases: np.ndarray
    ground: int
    residual: float
    converged: bool
    method: str

    def to_dict(self) -> dict:
        return {"ground": self.ground, "residual": self.residual, "converged": self.converged,
                "method": self.method}


@dataclass
class LockedEnclosure:
    r"""A box :math:`|\theta - \tilde\theta| \le r` proved to contain exactly one locked state.

    Attributes
    ----------
    center, radii : ndarray, shape (n,)
        :math:`\tilde\theta` and :math:`r`; ``radii[ground] == 0``.
    ground : int
    cos_lower, cos_upper : ndarray, shape (m,)
        Bounds of :math:`\cos(\theta_i - \theta_j)` over the box, one per edge
        in the graph's edge order.
    iterations : int
        Box inflations until the test passed.
    method : {"krawczyk", "m_matrix"}
        The dense Krawczyk test or the sparse M-matrix test.
    """

    center: np.ndarray
    radii: np.ndarray
    ground: int
    cos_lower: np.ndarray
    cos_upper: np.ndarray
    iterations: int
    method: str = "krawczyk"

    @property
    def width(self) -> float:
        """Largest edge length of the box, :math:`2 \\max_i r_i`."""
        return 2.0 * float(np.max(self.radii))

    def to_dict(self) -> dict:
        return {"width": self.width, "ground": self.ground, "iterations": self.iterations,
                "method": self.method,
                "cos_lower_min": float(np.min(self.cos_lower, initial=1.0)),
                "cos_upper_min": float(np.min(self.cos_upper, initial=1.0))}


# -- exact refutations ------------------------------------------------------------------


def exact_frequency_offsets(network: KuramotoNetwork) -> list[Fraction]:
    r"""Return :math:`\nu_i = \omega_i - \bar\omega` as exact fractions."""
    omega = [Fraction(float(value)) for value in network.frequencies]
    mean = sum(omega) / len(omega)
    return [value - mean for value in omega]


def component_refutation(network: KuramotoNetwork) -> dict | None:
    r"""Return a witness when a connected component's offsets do not sum to 0, else None.

    Summing :math:`f_i = 0` over a component :math:`C` cancels every coupling
    term, so a locked state needs :math:`\sum_{i \in C} \nu_i = 0`, checked
    exactly.
    """
    count, labels = scipy.sparse.csgraph.connected_components(network.graph.adjacency(),
                                                              directed=False)
    if count == 1:
        return None
    offsets = exact_frequency_offsets(network)
    sums = [Fraction(0)] * count
    for node, label in enumerate(labels.tolist()):
        sums[label] += offsets[node]
    for label, total in enumerate(sums):
        if total != 0:
            nodes = np.flatnonzero(labels == label)
            return {"kind": "component_frequency_sum", "component": nodes.tolist(),
                    "frequency_offset_sum": float(total), "checked": "exact",
                    "note": "a locked state needs sum of omega_i - mean(omega) = 0 over every "
                            "connected component"}
    return None


# -- Newton -----------------------------------------------------------------------------


def find_locked_state(network: KuramotoNetwork, *, tol: float = 1e-13,
                      max_iterations: int = 60) -> LockedState:
    r"""Compute a phase-locked state by Newton's method, preferring the cohesive branch.

    Newton starts at the linearized solution :math:`K^{-1} L^+ \nu` (the
    locked state of :math:`\sin x \approx x`). When it fails, or ends with an
    edge at :math:`|\theta_i - \theta_j| \ge \pi/2`, the rotating-frame flow is
    integrated from the same start and Newton restarts from its end. The flow
    settles only at stable locked states, so this favours the cohesive branch.
    A cohesive result is returned when either run finds one. Above
    :data:`KRAWCZYK_SIZE_LIMIT` nodes the flow is not integrated, because an
    adaptive integration of a large stiff network can take minutes.
    """
    graph = network.graph
    ground = int(np.argmax(network.degrees()))
    nu = network.frequencies - np.mean(network.frequencies)
    start = _linearized_state(network, nu, ground)
    first = _newton(network, nu, start, ground, tol=tol, max_iterations=max_iterations,
                    method="newton")
    if first.converged and _is_cohesive(graph, first.phases):
        return first
    if network.n > KRAWCZYK_SIZE_LIMIT:
        return first
    logger.info("Newton from the linearized state %s, so the flow is integrated first",
                "failed" if not first.converged else "found a non-cohesive locked state")
    settled = _integrate_flow(network, nu, start)
    second = _newton(network, nu, settled - settled[ground], ground, tol=tol,
                     max_iterations=max_iterations, method="flow+newton")
    if second.converged and (_is_cohesive(graph, second.phases) or not first.converged):
        return second
    return first


def _residual(network: KuramotoNetwork, nu: np.ndarray, phases: np.ndarray) -> np.ndarray:
    return nu - network.coupling * network.coupling_terms(phases)


def _weighted_laplacian(network: KuramotoNetwork, phases: np.ndarray, *, dense: bool):
    graph = network.graph
    weights = network.coupling * graph.weights * np.cos(phases[graph.rows] - phases[graph.cols])
    n = network.n
    off = sps.coo_array((np.concatenate([weights, weights]),
                         (np.concatenate([graph.rows, graph.cols]),
                          np.concatenate([graph.cols, graph.rows]))), shape=(n, n)).tocsr()
    laplacian = sps.diags_array(np.asarray(off.sum(axis=1)).ravel()) - off
    return laplacian.toarray() if dense else laplacian.tocsc()


def _reduced_solve(laplacian, right: np.ndarray, ground: int) -> np.ndarray | None:
    """Solve L x = right with x[ground] = 0 and row ``ground`` dropped."""
    keep = np.arange(right.size) != ground
    solution = np.zeros(right.size)
    if sps.issparse(laplacian):
        values = _solve_symmetric(laplacian[keep][:, keep], right[keep], rtol=1e-13)
        if values is None:
            return None
    else:
        try:
            values = scipy.linalg.solve(laplacian[np.ix_(keep, keep)], right[keep],
                                        assume_a="sym", check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            return None
    if not np.all(np.isfinite(values)):
        return None
    solution[keep] = values
    return solution


def _solve_symmetric(matrix, right: np.ndarray, *, rtol: float) -> np.ndarray | None:
    """Solve a sparse symmetric system by SuperLU when factoring is cheap, else by MINRES.

    The factoring work is estimated as n times the squared bandwidth after
    reverse Cuthill-McKee ordering: small for paths and rings, large for
    random expanders, whose well-conditioned Laplacians suit MINRES.
    Returns None when the solve fails or gives non-finite values.
    """
    matrix = sps.csr_array(matrix)
    n = matrix.shape[0]
    if n <= _DIRECT_SIZE or _banded_work(matrix) <= _DIRECT_WORK_LIMIT:
        try:
            solution = spla.spsolve(matrix.tocsc(), right)
        except RuntimeError:
            return None
    else:
        scale = np.abs(matrix.diagonal())
        scale[scale == 0] = 1.0
        preconditioner = spla.LinearOperator((n, n), matvec=lambda v: v / scale, dtype=float)
        solution, info = spla.minres(matrix, right, M=preconditioner, rtol=rtol,
                                     maxiter=_MINRES_ITERATIONS)
        if info != 0:
            logger.info("MINRES stopped after %d iterations without reaching rtol %.1e",
                        _MINRES_ITERATIONS, rtol)
    solution = np.atleast_1d(solution)
    return solution if np.all(np.isfinite(solution)) else None


def _banded_work(matrix: sps.csr_array) -> int:
    """Return n times the squared bandwidth after reverse Cuthill-McKee ordering."""
    order = scipy.sparse.csgraph.reverse_cuthill_mckee(matrix, symmetric_mode=True)
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    coo = matrix.tocoo()
    bandwidth = int(np.max(np.abs(position[coo.row] - position[coo.col]), initial=0))
    return matrix.shape[0] * (bandwidth + 1) ** 2


def _uses_dense(network: KuramotoNetwork) -> bool:
    return network.graph.m > _DENSE_FRACTION * network.n**2


def _linearized_state(network: KuramotoNetwork, nu: np.ndarray, ground: int) -> np.ndarray:
    laplacian = _weighted_laplacian(network, np.zeros(network.n), dense=_uses_dense(network))
    solution = _reduced_solve(laplacian, nu, ground)
    return np.zeros(network.n) if solution is None else solution


def _newton(network, nu, phases, ground, *, tol, max_iterations, method) -> LockedState:
    dense = _uses_dense(network)
    scale = 1.0 + network.coupling * float(np.max(network.degrees()))
    values = _residual(network, nu, phases)
    norm = float(np.max(np.abs(values)))
    # Two more steps after the tolerance is met shrink the residual toward
    # roundoff, which the enclosure tests of ill-conditioned rings need.
    polishing_steps = 2
    for _ in range(max_iterations):
        if norm <= tol * scale:
            if polishing_steps == 0:
                break
            polishing_steps -= 1
        laplacian = _weighted_laplacian(network, phases, dense=dense)
        step = _reduced_solve(laplacian, values, ground)
        if step is None:
            break
        # f(theta + step) ~ f - L step = 0; halve the step until the residual drops.
        length = 1.0
        while length > 1e-4:
            trial = phases + length * step
            trial_values = _residual(network, nu, trial)
            trial_norm = float(np.max(np.abs(trial_values)))
            if trial_norm < norm:
                break
            length /= 2
        else:
            break
        phases, values, norm = trial, trial_values, trial_norm
    phases = phases - phases[ground]
    norm = float(np.max(np.abs(_residual(network, nu, phases))))
    return LockedState(phases=phases, ground=ground, residual=norm,
                       converged=norm <= tol * scale * 10, method=method)


def _integrate_flow(network: KuramotoNetwork, nu: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Integrate the rotating-frame flow for 50 / (K min degree) time units."""
    degrees = network.degrees()
    positive = degrees[degrees > 0]
    horizon = 50.0 / (network.coupling * float(np.min(positive, initial=1.0)))
    solution = scipy.integrate.solve_ivp(lambda t, y: _residual(network, nu, y), (0.0, horizon),
                                         start, method="RK45", rtol=1e-8, atol=1e-10)
    return solution.y[:, -1]


def _is_cohesive(graph, phases: np.ndarray) -> bool:
    return bool(np.all(np.cos(phases[graph.rows] - phases[graph.cols]) > 0))


# -- rigorous enclosure -----------------------------------------------------------------


def enclose_locked_state(network: KuramotoNetwork, state: LockedState, *,
                         max_radius: float = 1e-6,
                         max_iterations: int = 40) -> LockedEnclosure | None:
    r"""Prove that a box around ``state.phases`` contains exactly one locked state.

    Runs the Krawczyk test (module docstring) on boxes that grow from the
    Newton correction. Returns None when the test fails (no locked state
    nearby, a singular Jacobian at a saddle-node, or ``n`` above
    :data:`KRAWCZYK_SIZE_LIMIT`).
    """
    if network.n > KRAWCZYK_SIZE_LIMIT:
        logger.info("no enclosure attempted: n = %d exceeds %d", network.n, KRAWCZYK_SIZE_LIMIT)
        return None
    center = np.asarray(state.phases, dtype=float)
    ground = state.ground
    if center[ground] != 0.0:
        raise ValueError("the ground node's phase must be exactly 0")
    data = _CenterBounds.build(network, center, ground)
    if data is None:
        return None
    keep = data.keep
    limit = max_radius * (1.0 + float(np.max(np.abs(center))))
    radii = np.zeros(network.n)
    radii[keep] = _up(2.0 * data.newton_bound + 16 * _U * (1.0 + np.abs(center[keep])))
    for iteration in range(1, max_iterations + 1):
        if float(np.max(radii)) > limit:
            break
        image = _krawczyk_image(data, radii)
        if np.all(image < radii[keep]):
            cos_lower, cos_upper = data.point.edge_cosine_bounds(radii)
            return LockedEnclosure(center=center, radii=radii, ground=ground,
                                   cos_lower=cos_lower, cos_upper=cos_upper,
                                   iterations=iteration)
        radii[keep] = _up(2.0 * np.maximum(image, radii[keep]))
    logger.info("Krawczyk test failed around the locked state (box radius limit %.3g)", limit)
    return None


def enclose_cohesive_state(network: KuramotoNetwork, state: LockedState, *,
                           max_radius: float = 1e-3,
                           max_iterations: int = 20) -> LockedEnclosure | None:
    r"""Prove a cohesive locked state with sparse M-matrix bounds instead of a dense inverse.

    On a box :math:`X` where every edge has :math:`\cos(\theta_i - \theta_j) > 0`,
    every reduced Jacobian is :math:`-M` with :math:`M` a symmetric Z-matrix,
    and entrywise :math:`M \ge M_{\text{low}}`, built from the lower cosine
    bounds on the diagonal and the upper ones off it. A vector :math:`u > 0`
    with :math:`M_{\text{low}} u \ge |f(\tilde\theta)|`, checked with rounding
    bounds, makes :math:`M_{\text{low}}` and every such :math:`M` nonsingular
    M-matrices with :math:`0 \le M^{-1} \le M_{\text{low}}^{-1}`. The interval
    Newton map :math:`\tilde\theta - S^{-1} f(\tilde\theta)` then stays within
    :math:`u` of :math:`\tilde\theta`, so :math:`u < r` proves exactly one zero
    in :math:`X` (proofs/oscillator_networks.md, section 5). Needs sparse
    solves only, so it runs beyond :data:`KRAWCZYK_SIZE_LIMIT`; it cannot
    prove a locked state with an edge at :math:`|\theta_i - \theta_j| \ge \pi/2`.
    """
    center = np.asarray(state.phases, dtype=float)
    ground = state.ground
    if center[ground] != 0.0:
        raise ValueError("the ground node's phase must be exactly 0")
    keep = np.arange(network.n) != ground
    point = _PointBounds.build(network, center, dense=False)
    residual = point.residual_bound[keep]
    limit = max_radius * (1.0 + float(np.max(np.abs(center))))
    radii = np.zeros(network.n)
    radii[keep] = _up(16 * _U * (1.0 + np.abs(center[keep])))
    for iteration in range(1, max_iterations + 1):
        if float(np.max(radii)) > limit:
            break
        cos_lower, cos_upper = point.edge_cosine_bounds(radii)
        if np.min(cos_lower, initial=1.0) <= 0:
            logger.info("M-matrix test failed: an edge may reach |theta_i - theta_j| >= pi/2")
            return None
        lower_matrix = _lower_jacobian_bound(network, cos_lower, cos_upper)[keep][:, keep]
        bound = _verified_inverse_bound(lower_matrix.tocsr(), residual)
        if bound is None:
            return None
        if np.all(bound < radii[keep]):
            return LockedEnclosure(center=center, radii=radii, ground=ground,
                                   cos_lower=cos_lower, cos_upper=cos_upper,
                                   iterations=iteration, method="m_matrix")
        radii[keep] = _up(2.0 * np.maximum(bound, radii[keep]))
    logger.info("M-matrix test failed around the locked state (box radius limit %.3g)", limit)
    return None


def _lower_jacobian_bound(network: KuramotoNetwork, cos_lower: np.ndarray,
                          cos_upper: np.ndarray) -> sps.csc_array:
    r"""Return :math:`M_{\text{low}}`, an entrywise lower bound of :math:`L(w)` over the box.

    Off the diagonal the true entry is :math:`-K a_{ij}\cos \ge -K a_{ij}\overline c_{ij}`;
    on it, :math:`K\sum_j a_{ij}\cos \ge K\sum_j a_{ij}\underline c_{ij}`. Each
    float result is pushed outward past its rounding error.
    """
    graph = network.graph
    n = network.n
    coupling = network.coupling
    off = _up(coupling * (graph.weights * cos_upper) * (1 + 4 * _U))
    # cos_lower > 0 here, so every term of the row sums is positive.
    terms = graph.weights * cos_lower
    sums = np.bincount(graph.rows, terms, minlength=n) + np.bincount(graph.cols, terms,
                                                                      minlength=n)
    inner = int(np.max(np.bincount(np.concatenate([graph.rows, graph.cols]), minlength=n)))
    diagonal = np.nextafter(coupling * sums * (1 - 2 * gamma(inner + 4)), -np.inf)
    diagonal = np.maximum(diagonal, 0.0)
    nodes = np.arange(n)
    return sps.coo_array((np.concatenate([-off, -off, diagonal]),
                          (np.concatenate([graph.rows, graph.cols, nodes]),
                           np.concatenate([graph.cols, graph.rows, nodes]))),
                         shape=(n, n)).tocsc()


def _verified_inverse_bound(matrix: sps.csr_array, right: np.ndarray) -> np.ndarray | None:
    r"""Return :math:`u > 0` with :math:`Mu \ge` ``right`` proved for the Z-matrix M, or None.

    ``right`` must be positive. The float product :math:`Mu` is bounded below by
    subtracting :math:`\gamma_{k+2}|M|u`, with k the largest row count.
    """
    # Aim above ``right`` by half its maximum, so that neither the solver's
    # residual nor rounding in M u can undercut it.
    target = right + 0.5 * float(np.max(right))
    solution = _solve_symmetric(matrix, target, rtol=1e-10)
    if solution is None or np.min(solution, initial=1.0) <= 0:
        # The lower bound matrix is then no M-matrix, as when the box is wide
        # compared with the smallest eigenvalue of an ill-conditioned Laplacian.
        logger.info("M-matrix test failed: the bound matrix has no positive solution u")
        return None
    candidate = _up(solution + _TINY)
    inner = int(np.max(np.diff(matrix.indptr), initial=1))
    product = matrix @ candidate
    error = _upper_matvec(abs(matrix), candidate, inner)
    error = _up(error * gamma(inner + 2) * (1 + 4 * _U) + _TINY)
    lower = np.nextafter(product - error, -np.inf)
    if np.all(lower >= right):
        return candidate
    logger.info("M-matrix test failed: M u >= |f| not proved (min slack %.3g)",
                float(np.min(lower - right)))
    return None


@dataclass
class _PointBounds:
    """Rigorous bounds at the box center that need no dense matrix."""

    network: KuramotoNetwork
    adjacency: object                # A, sparse or dense, nonnegative
    inner: int                       # max nonzeros per row of A
    cosine: np.ndarray               # float cos(theta_i), error <= node_error
    sine: np.ndarray                 # float sin(theta_i), error <= node_error
    node_error: float
    cos_error: float                 # bound on |cos(theta_i - theta_j) - computed| per edge
    residual_bound: np.ndarray       # upper bound of |f(center)|, per node

    @classmethod
    def build(cls, network, center, *, dense: bool) -> "_PointBounds":
        adjacency = network.graph.adjacency()
        if dense:
            adjacency = adjacency.toarray()
            inner = network.n
        else:
            inner = int(np.max(np.diff(adjacency.indptr), initial=1))
        cosine, sine, node_error = _node_trigonometry(center)
        residual_bound = _residual_bound(network, adjacency, inner, cosine, sine, node_error)
        # cos(theta_i - theta_j) = c_i c_j + s_i s_j: the node errors enter
        # each product once per factor, and the sum rounds twice.
        cos_error = float(_up(4 * node_error * (1 + node_error)
                              + 2 * gamma(2) * (1 + node_error) ** 2 + _TINY))
        return cls(network, adjacency, inner, cosine, sine, node_error, cos_error,
                   residual_bound)

    def edge_cosine_bounds(self, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Return bounds of :math:`\cos(\theta_i - \theta_j)` over the box, per edge."""
        graph = self.network.graph
        rows, cols = graph.rows, graph.cols
        computed = self.cosine[rows] * self.cosine[cols] + self.sine[rows] * self.sine[cols]
        slack = _up(self.cos_error + _up(radii[rows] + radii[cols]))
        slack = _up(slack * (1 + 4 * _U) + _TINY)
        lower = np.nextafter(computed - slack, -np.inf)
        upper = np.nextafter(computed + slack, np.inf)
        return np.maximum(lower, -1.0), np.minimum(upper, 1.0)


@dataclass
class _CenterBounds:
    """Bounds at the box center that the Krawczyk test reuses."""

    point: _PointBounds
    keep: np.ndarray                 # boolean mask of the n - 1 unknowns
    inverse_abs: np.ndarray          # |Y|
    residual_matrix: np.ndarray      # upper bound of |I - Y A|
    newton_bound: np.ndarray         # upper bound of |Y| |f(center)|
    jacobian_rounding: np.ndarray    # upper bound of |J(center) - A| on the diagonal, per row

    @classmethod
    def build(cls, network, center, ground) -> "_CenterBounds | None":
        n = network.n
        keep = np.arange(n) != ground
        point = _PointBounds.build(network, center, dense=_uses_dense(network))
        laplacian, rounding = _float_laplacian(network, point.cosine, point.sine)
        reduced = laplacian[np.ix_(keep, keep)]
        try:
            inverse = -np.linalg.inv(reduced)  # Y approximates the inverse of A = -L
        except np.linalg.LinAlgError:
            logger.info("Krawczyk test skipped: the reduced Jacobian is singular")
            return None
        if not np.all(np.isfinite(inverse)):
            return None
        jacobian = -reduced
        product = inverse @ jacobian
        identity = np.eye(n - 1)
        residual_matrix = _up(np.abs(identity - product) + matmul_error_bound(inverse, jacobian)
                              + 2 * _U * (np.abs(product) + identity))
        inverse_abs = np.abs(inverse)
        newton_bound = _upper_product(inverse_abs, point.residual_bound[keep])
        return cls(point, keep, inverse_abs, residual_matrix, newton_bound, rounding[keep])

    def slope_deviation(self, radii: np.ndarray) -> np.ndarray:
        r"""Return an upper bound of :math:`B r` on the unknowns, :math:`B \ge |J(\xi) - A|`.

        Off the diagonal, :math:`B_{ij} = K a_{ij}(r_i + r_j + \delta)`; on it,
        :math:`B_{ii} = \sum_j K a_{ij}(r_i + r_j + \delta)` plus the rounding of
        the float diagonal. :math:`\delta` bounds the error of the float cosine
        and of the products :math:`K a_{ij} \cos`.
        """
        point = self.point
        coupling = point.network.coupling
        delta = _up(point.cos_error + 2 * gamma(2) * (1 + point.cos_error))
        ones = np.ones(radii.size)
        degrees = _upper_matvec(point.adjacency, ones, point.inner)
        spread = _upper_matvec(point.adjacency, radii, point.inner)
        squares = _upper_matvec(point.adjacency, _up(radii * radii), point.inner)
        off_diagonal = _up(radii * spread + squares + delta * spread)
        diagonal_weight = _up(radii * degrees + spread + delta * degrees)
        total = _up(coupling * _up(off_diagonal + radii * diagonal_weight))
        total = _up(total * (1 + 8 * _U) + _TINY)
        return _up(total[self.keep] + self.jacobian_rounding * radii[self.keep])


def _node_trigonometry(center: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Return float cos and sin of each phase and one bound on all their errors (arb balls)."""
    cosine = np.empty(center.size)
    sine = np.empty(center.size)
    error = 0.0
    for index, value in enumerate(center.tolist()):
        # A float converts to an arb ball of radius 0, so each ball contains the true value.
        phase = flint.arb(value)
        for ball, target in ((phase.cos(), cosine), (phase.sin(), sine)):
            approximate = float(ball.mid())
            target[index] = approximate
            distance = (ball - flint.arb(approximate)).abs_upper()
            error = max(error, float(np.nextafter(float(distance), np.inf)))
    return cosine, sine, float(_up(error + _TINY))


def _upper_matvec(adjacency, vector: np.ndarray, inner: int) -> np.ndarray:
    """Return an upper bound of A v for a nonnegative matrix and vector."""
    computed = adjacency @ vector
    factor = (1.0 + gamma(inner + 2)) * (1.0 + 4 * _U)
    return _up(computed * factor + (inner + 1) * 4 * 2.0**-1074)


def _product_error(adjacency, vector: np.ndarray, inner: int) -> np.ndarray:
    """Return a bound of |fl(A v) - A v| for a matrix with nonnegative entries."""
    magnitude = _upper_matvec(adjacency, np.abs(vector), inner)
    return _up(magnitude * gamma(inner + 2) + (inner + 1) * 4 * 2.0**-1074)


def _frequency_offsets(network: KuramotoNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Return float offsets nu and a bound of their distance to the exact offsets."""
    exact = exact_frequency_offsets(network)
    rounded = np.array([float(value) for value in exact])
    errors = np.array([float(abs(Fraction(approximate) - value))
                       for approximate, value in zip(rounded.tolist(), exact)])
    return rounded, _up(errors)


def _residual_bound(network, adjacency, inner, cosine, sine, node_error) -> np.ndarray:
    r"""Return an upper bound of :math:`|f(\text{center})|`, the true residual.

    :math:`f_i = \nu_i - K(s_i (Ac)_i - c_i (As)_i)`, with each factor known
    up to a bound and each float operation rounded.
    """
    nu, nu_error = _frequency_offsets(network)
    coupling = network.coupling
    node_errors = np.full(cosine.size, node_error)
    cos_sum = adjacency @ cosine
    sin_sum = adjacency @ sine
    # |A c_true - fl(A c)| <= rounding of the product + |A| times the node errors.
    cos_sum_error = _up(_product_error(adjacency, cosine, inner)
                        + _upper_matvec(adjacency, node_errors, inner))
    sin_sum_error = _up(_product_error(adjacency, sine, inner)
                        + _upper_matvec(adjacency, node_errors, inner))
    coupling_terms = sine * cos_sum - cosine * sin_sum
    terms_error = (node_error * (np.abs(cos_sum) + cos_sum_error) + np.abs(sine) * cos_sum_error
                   + node_error * (np.abs(sin_sum) + sin_sum_error)
                   + np.abs(cosine) * sin_sum_error
                   + gamma(2) * (np.abs(sine * cos_sum) + np.abs(cosine * sin_sum)))
    terms_error = _up(terms_error * (1 + 8 * _U) + _TINY)
    values = nu - coupling * coupling_terms
    error = (nu_error + coupling * terms_error
             + gamma(2) * (np.abs(nu) + coupling * np.abs(coupling_terms)))
    return _up(np.abs(values) + _up(error * (1 + 8 * _U) + _TINY))


def _float_laplacian(network, cosine, sine) -> tuple[np.ndarray, np.ndarray]:
    r"""Return the dense float Laplacian :math:`L(w)` and a bound of its diagonal's rounding.

    Off-diagonal entries are :math:`-K a_{ij} \widetilde{\cos}_{ij}`, whose
    error :meth:`_CenterBounds.slope_deviation` covers through
    :math:`\delta`. Each diagonal entry is a float sum of the n entries of
    its row, which adds :math:`\gamma_{n} \sum_j |L_{ij}|`.
    """
    graph = network.graph
    cosines = cosine[graph.rows] * cosine[graph.cols] + sine[graph.rows] * sine[graph.cols]
    laplacian = _edge_laplacian(network, network.coupling * (graph.weights * cosines))
    magnitude = np.abs(laplacian).sum(axis=1)
    rounding = _up(gamma(network.n + 2) * magnitude * (1 + 4 * _U) + _TINY)
    return laplacian, rounding


def _edge_laplacian(network: KuramotoNetwork, weights: np.ndarray) -> np.ndarray:
    """Return the dense Laplacian with the given weight on each edge of the graph."""
    graph = network.graph
    n = network.n
    laplacian = np.zeros((n, n))
    # The graph lists each undirected edge once, so assignment does not lose a weight.
    laplacian[graph.rows, graph.cols] = -weights
    laplacian[graph.cols, graph.rows] = -weights
    laplacian[np.diag_indices(n)] = -laplacian.sum(axis=1)
    return laplacian


def locked_laplacian(network: KuramotoNetwork, phases: np.ndarray) -> np.ndarray:
    r"""Return the float Laplacian :math:`L(w)`, :math:`w_{ij} = K a_{ij}\cos(\theta_i - \theta_j)`.

    A float estimate for eigenvalues and search directions, not a bound.
    """
    graph = network.graph
    return _edge_laplacian(network, network.coupling * graph.weights
                           * np.cos(phases[graph.rows] - phases[graph.cols]))


def _krawczyk_image(data: _CenterBounds, radii: np.ndarray) -> np.ndarray:
    """Return an upper bound of the Krawczyk image radii k on the unknowns."""
    contraction = _upper_product(data.residual_matrix, radii[data.keep])
    perturbation = _upper_product(data.inverse_abs, data.slope_deviation(radii))
    return _up((data.newton_bound + contraction + perturbation) * (1 + 4 * _U))


# -- instability ------------------------------------------------------------------------


def unstable_direction(network: KuramotoNetwork, enclosure: LockedEnclosure) -> dict | None:
    r"""Return an integer direction :math:`v` with :math:`v^T L(w) v < 0` on the whole box, or None.

    :math:`v^T L(w) v = \sum_{\{i,j\}} K a_{ij} \cos(\theta_i - \theta_j)(v_i - v_j)^2`
    is bounded above with the upper cosine bound of each edge and summed in
    exact rational arithmetic, so a negative bound proves that the Jacobian
    :math:`-L(w)` at the enclosed locked state has a positive eigenvalue.
    """
    graph = network.graph
    if graph.m > REFUTATION_EDGE_LIMIT or network.n > KRAWCZYK_SIZE_LIMIT:
        return None
    eigenvalues, eigenvectors = np.linalg.eigh(locked_laplacian(network, enclosure.center))
    if eigenvalues[0] >= 0:
        return None
    vector = eigenvectors[:, 0]
    direction = np.rint(vector / np.max(np.abs(vector)) * 1000).astype(np.int64)
    total = Fraction(0)
    coupling = Fraction(network.coupling)
    for i, j, weight, upper in zip(graph.rows.tolist(), graph.cols.tolist(),
                                   graph.weights.tolist(), enclosure.cos_upper.tolist()):
        difference = int(direction[i] - direction[j])
        total += coupling * Fraction(weight) * Fraction(upper) * difference * difference
    if total >= 0:
        return None
    return {"kind": "unstable_direction", "direction": direction.tolist(),
            "quadratic_form_upper": float(total), "checked": "exact",
            "note": "v^T L(w) v < 0 for every edge weight K a_ij cos(theta_i - theta_j) "
                    "of the box, so the Jacobian -L(w) has a positive eigenvalue"}
