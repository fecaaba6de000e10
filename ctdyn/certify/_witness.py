r"""Witnesses that refute contraction of a network.

Why a witness refutes
---------------------
Suppose :math:`\|x(t) - y(t)\| \le e^{-ct}\|x(0) - y(0)\|` for all
solutions, in some norm, with :math:`c > 0`.

* At a state :math:`x_0` where :math:`f` is differentiable, take
  :math:`y(0) = x_0 + \varepsilon v`: to first order in :math:`h` and
  :math:`\varepsilon`, :math:`\|(I + h\,Df(x_0)) v\| \le e^{-ch}\|v\|`, so
  the log-norm satisfies :math:`\mu(Df(x_0)) \le -c` and every eigenvalue
  has :math:`\operatorname{Re}\lambda(Df(x_0)) \le \mu(Df(x_0)) \le -c < 0`.
  The log-norm is continuous, so the same holds for every limit of
  Jacobians of the model (a vertex of the slope box when the box is exact).
  A Jacobian with :math:`\operatorname{Re}\lambda \ge 0` at a state, or
  approached by Jacobians at states, therefore refutes contraction in every
  norm.
* Two equilibria :math:`x^* \ne y^*` would satisfy
  :math:`\|x^* - y^*\| \le e^{-ct}\|x^* - y^*\|` for all :math:`t`, which
  is impossible, so two distinct equilibria refute contraction as well.

How witnesses are checked
-------------------------
``"exact"``: the Jacobian is a rational matrix (slopes exactly rational at
the chosen state), and its characteristic polynomial, computed exactly by
python-flint, fails the Routh-Hurwitz test. A real monic polynomial has all
roots in the open left half plane iff every entry of the first column of
its Routh array is positive, so a failure means an eigenvalue with
:math:`\operatorname{Re}\lambda \ge 0`.
``"interval"``: two equilibria enclosed by Krawczyk's test in disjoint
boxes (this relies on the libm accuracy assumption of
:mod:`ctdyn.certify._equilibrium`).
``"float"``: a floating-point eigenvalue or Newton residuals only.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from functools import lru_cache
from itertools import combinations

import flint
import numpy as np
import scipy.sparse as sps
import sympy as sp
from threadpoolctl import threadpool_limits

from ..errors import InvalidModelError
from ..models._activation import X, _intervals, _pieces
from ..verify import rational_matrix
from ._equilibrium import Equilibrium, enclose_equilibrium, find_equilibria

__all__ = ["contraction_witness", "is_hurwitz", "routh_hurwitz"]

logger = logging.getLogger(__name__)

WITNESS_KINDS = ("unstable_jacobian", "two_equilibria")
# Largest n whose Jacobian is tested exactly (characteristic polynomial and
# Routh array over the rationals); larger ones get a float eigenvalue.
EXACT_LIMIT = 80
# A float eigenvalue counts as unstable when Re lambda exceeds this times
# max(1, |J|_inf).
FLOAT_TOLERANCE = 1e-9
# Slope-box vertices screened in floating point before the exact test.
ALL_VERTICES_LIMIT = 10
_EXACT_CANDIDATES = 3


def contraction_witness(network, *, equilibria=None, seed: int = 0,
                        kinds=WITNESS_KINDS, exact_limit: int = EXACT_LIMIT) -> dict | None:
    r"""Search for a witness that the network is not contracting in any norm.

    Witnesses checked exactly or by intervals come first, in this order:

    1. a Jacobian with an eigenvalue of nonnegative real part at a state
       where every slope is an extreme slope of the activation;
    2. such a Jacobian at a vertex of the slope box, approached by real
       states (only when ``jacobian_set.exact_box``);
    3. two equilibria in disjoint enclosures.

    If none is found, float-checked versions of these follow, and finally a
    float eigenvalue at random states.

    Parameters
    ----------
    network : FiringRateNetwork or HopfieldNetwork
    equilibria : sequence of Equilibrium or array_like, optional
        Initial states for the equilibrium search (for example stored
        patterns and their negatives); by default zero and seeded random
        states.
    seed : int
        Seed of the random states and vertices tried.
    kinds : sequence of str
        Witness kinds to look for: ``"unstable_jacobian"``,
        ``"two_equilibria"``.
    exact_limit : int
        Largest ``n`` for the exact Routh-Hurwitz test.

    Returns
    -------
    dict or None
        ``{"kind", "state", "eigenvalue", "checked", "note", ...}``:
        ``state`` is the state (a list) whose Jacobian is unstable, or the
        first of two equilibria (``states`` holds both), or None for an
        approached box vertex; ``eigenvalue`` is ``[re, im]`` of the
        rightmost float eigenvalue (None for two equilibria); ``checked`` is
        ``"exact"``, ``"interval"`` or ``"float"``. None when no witness was
        found, which proves nothing.
    """
    kinds = _check_kinds(kinds)
    # Competing BLAS thread pools slow the many small eigenvalue problems down.
    with threadpool_limits(limits=1):
        return _search(network, equilibria, np.random.default_rng(seed), kinds,
                       exact=network.n <= exact_limit)


def _search(network, equilibria, rng, kinds: tuple[str, ...], *, exact: bool) -> dict | None:
    unchecked: list[dict] = []

    if "unstable_jacobian" in kinds:
        for search in (_extreme_slope_witness, _vertex_witness):
            witness = search(network, rng=rng, exact=exact)
            if witness is not None and witness["checked"] == "exact":
                return witness
            if witness is not None:
                unchecked.append(witness)

    if "two_equilibria" in kinds:
        witness = _two_equilibria_witness(network, equilibria, rng)
        if witness is not None and witness["checked"] == "interval":
            return witness
        if witness is not None:
            unchecked.append(witness)

    if "unstable_jacobian" in kinds and not unchecked:
        witness = _random_state_witness(network, rng)
        if witness is not None:
            unchecked.append(witness)
    return unchecked[0] if unchecked else None


def _check_kinds(kinds) -> tuple[str, ...]:
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [kind for kind in kinds if kind not in WITNESS_KINDS]
    if unknown or not kinds:
        raise InvalidModelError("kinds", f"a non-empty selection of {WITNESS_KINDS}", kinds,
                                "Remove the unknown witness kinds.")
    return kinds


# -- Routh-Hurwitz -------------------------------------------------------------


def routh_hurwitz(coefficients) -> list:
    r"""Return the first column of the Routh array of a polynomial.

    Parameters
    ----------
    coefficients : sequence of rationals
        :math:`a_n, a_{n-1}, \dots, a_0` (highest degree first),
        :math:`a_n > 0`; exact types (``Fraction``, ``flint.fmpq``) keep
        the test exact.

    Returns
    -------
    list
        The first-column entries computed until the first one that is not
        positive (included). All :math:`n + 1` of them are positive iff
        every root has negative real part.
    """
    coefficients = list(coefficients)
    degree = len(coefficients) - 1
    previous, current = coefficients[0::2], coefficients[1::2]
    column = [previous[0]]
    for row in range(1, degree + 1):
        column.append(current[0])
        if not current[0] > 0 or row == degree:
            break
        ratio = previous[0] / current[0]
        following = []
        for j in range(len(previous) - 1):
            below = current[j + 1] if j + 1 < len(current) else 0
            following.append(previous[j + 1] - ratio * below)
        previous, current = current, following
    return column


def is_hurwitz(matrix: flint.fmpq_mat) -> bool:
    r"""Decide exactly whether every eigenvalue of a rational matrix has negative real part."""
    coefficients = matrix.charpoly().coeffs()[::-1]
    if any(not coefficient > 0 for coefficient in coefficients):
        # Hurwitz polynomials have positive coefficients (Stodola's condition).
        return False
    column = routh_hurwitz(coefficients)
    return len(column) == len(coefficients) and all(entry > 0 for entry in column)


# -- witness 1: a state with extreme slopes --------------------------------------


def _extreme_slope_witness(network, *, rng, exact: bool) -> dict | None:
    bounds = network.activation.slope_bounds
    for bound, attained in ((bounds.upper, bounds.upper_attained),
                            (bounds.lower, bounds.lower_attained)):
        # Slope bounds are sympy numbers derived by ctdyn, never user text.
        if not attained or not isinstance(bound, sp.Rational):
            continue
        point = extreme_slope_point(network.activation.expression, sp.Rational(bound))
        if point is None:
            continue
        slope = Fraction(int(sp.Rational(bound).p), int(sp.Rational(bound).q))
        witness = _uniform_slope_witness(network, point, slope, exact=exact)
        if witness is not None:
            return witness
    return None


def _uniform_slope_witness(network, point: Fraction, slope: Fraction, *,
                           exact: bool) -> dict | None:
    state, state_exact = _state_with_preactivation(network, point, exact=exact)
    if state is None:
        return None
    weights = _dense(network.weights)
    jacobian = float(slope) * weights - np.diag(network.leak)
    eigenvalue = _rightmost_eigenvalue(jacobian)
    where = (f"at this state every preactivation equals {point} and every slope "
             f"phi'({point}) = {slope}, so the Jacobian is -C + {slope} W")
    if exact:
        exact_jacobian = rational_matrix(weights) * _fmpq(slope) - _exact_diagonal(network.leak)
        if is_hurwitz(exact_jacobian):
            return None
        note = (where + "; its exact characteristic polynomial fails the Routh-Hurwitz test, "
                "so an eigenvalue has Re >= 0, impossible under contraction")
        witness = _unstable_witness(state, eigenvalue, "exact", note, [slope] * network.n)
        witness["state_exact"] = state_exact
        return witness
    if eigenvalue.real <= _float_tolerance(jacobian):
        return None
    note = where + "; its rightmost float eigenvalue has Re > 0"
    return _unstable_witness(state, eigenvalue, "float", note, [slope] * network.n)


def _state_with_preactivation(network, point: Fraction, *, exact: bool):
    """Return a state whose preactivations all equal ``point`` (float and exact strings)."""
    n = network.n
    if network.side == "right":
        return [float(point)] * n, [str(point)] * n
    weights = _dense(network.weights)
    if exact:
        solution = _exact_particular_solution(weights, [point - Fraction(float(value))
                                                        for value in network.input])
        if solution is None:
            return None, None
        return [float(value) for value in solution], [str(value) for value in solution]
    target = float(point) - network.input
    state, *_ = np.linalg.lstsq(weights, target, rcond=None)
    if np.max(np.abs(weights @ state - target)) > 1e-10 * max(1.0, float(np.max(np.abs(target)))):
        return None, None
    return state.tolist(), None


def _exact_particular_solution(weights: np.ndarray, right_side: list[Fraction]):
    r"""Solve :math:`Wx = b` exactly (W may be singular); None if inconsistent.

    The solution is re-checked by substituting it with Python fractions.
    """
    n = weights.shape[0]
    augmented = flint.fmpq_mat(n, n + 1)
    exact_weights = rational_matrix(weights)
    for i in range(n):
        for j in range(n):
            augmented[i, j] = exact_weights[i, j]
        augmented[i, n] = _fmpq(right_side[i])
    reduced, rank = augmented.rref()
    solution = [Fraction(0)] * n
    for row in range(rank):
        pivot = next(j for j in range(n + 1) if reduced[row, j] != 0)
        if pivot == n:
            return None
        value = reduced[row, n]
        solution[pivot] = Fraction(int(value.p), int(value.q))

    for i in range(n):
        total = sum((Fraction(float(weights[i, j])) * solution[j] for j in range(n)
                     if weights[i, j] != 0), Fraction(0))
        if total != right_side[i]:
            raise ArithmeticError("exact solve of W x = b failed its own re-check")
    return solution


@lru_cache(maxsize=64)
def extreme_slope_point(expression: sp.Expr, slope: sp.Rational) -> Fraction | None:
    r"""Return a rational :math:`z` with :math:`\phi'(z) = \text{slope}` exactly, or None.

    :math:`\phi` must be differentiable at :math:`z`: points inside a smooth
    piece qualify, and so do break points where both one-sided derivatives
    equal ``slope``. The candidate of smallest magnitude is returned.
    """
    candidates = []
    breakpoints = set()
    for piece, domain in _pieces(expression):
        derivative = sp.diff(piece, X)
        for interval in _intervals(domain):
            interior = sp.Interval.open(interval.start, interval.end)
            try:
                solutions = sp.solveset(sp.Eq(derivative, slope), X, domain=interior)
            except (NotImplementedError, ValueError, TypeError):
                solutions = sp.S.EmptySet
            candidates += [z for z in _rational_points(solutions)
                           if sp.simplify(derivative.subs(X, z) - slope) == 0]
            breakpoints |= {end for end in (interval.start, interval.end) if end.is_finite}
    candidates += [b for b in breakpoints if b.is_Rational
                   and _both_sides_have_slope(expression, b, slope)]
    if not candidates:
        return None
    best = min(candidates, key=lambda z: (abs(z), z))
    return Fraction(int(best.p), int(best.q))


def _both_sides_have_slope(expression: sp.Expr, point: sp.Rational, slope: sp.Rational) -> bool:
    sides = []
    for piece, domain in _pieces(expression):
        derivative = sp.diff(piece, X)
        for interval in _intervals(domain):
            if interval.end == point:
                sides.append(sp.limit(derivative, X, point, "-"))
            if interval.start == point:
                sides.append(sp.limit(derivative, X, point, "+"))
    return len(sides) >= 2 and all(sp.simplify(side - slope) == 0 for side in sides)


def _rational_points(solutions: sp.Set) -> list[sp.Rational]:
    """Pick rational points of a solution set: its rational elements or interior points."""
    if isinstance(solutions, sp.FiniteSet):
        return [z for z in solutions if z.is_Rational]
    if isinstance(solutions, sp.Union):
        return [z for part in solutions.args for z in _rational_points(part)]
    if not isinstance(solutions, sp.Interval):
        return []
    start, end = solutions.start, solutions.end
    if solutions.contains(0) == sp.true:
        return [sp.Integer(0)]
    if start == -sp.oo:
        point = sp.floor(end) - 1
    elif end == sp.oo:
        point = sp.ceiling(start) + 1
    else:
        point = sp.Rational(sp.floor((start + end) / 2 * 2**20), 2**20)
    return [point] if solutions.contains(point) == sp.true else []


# -- witness 2: a vertex of the slope box ------------------------------------------


def _vertex_witness(network, *, rng, exact: bool) -> dict | None:
    structure = network.jacobian_set
    if not structure.exact_box:
        return None
    low, high = network.activation.slope_bounds.inward()
    if low > high:
        return None
    vertices = _vertex_sample(structure.n, rng)
    if not len(vertices):
        return None
    slopes = np.where(vertices, float(high), float(low))
    jacobians = np.stack([structure.at(row) for row in slopes])
    abscissae = np.array([_rightmost_eigenvalue(jacobian).real for jacobian in jacobians])
    order = np.argsort(-abscissae, kind="stable")

    for index in order[:_EXACT_CANDIDATES]:
        jacobian = jacobians[index]
        if abscissae[index] < -_float_tolerance(jacobian):
            break
        exact_slopes = [high if bit else low for bit in vertices[index]]
        eigenvalue = _rightmost_eigenvalue(jacobian)
        note = ("approached: the slope box is exact, so this vertex is a limit of Jacobians at "
                "real states (slopes at the inward-rounded bounds)")
        if exact:
            if is_hurwitz(_exact_vertex_jacobian(network, exact_slopes)):
                continue
            note += "; its exact characteristic polynomial fails the Routh-Hurwitz test"
            return _unstable_witness(None, eigenvalue, "exact", note, exact_slopes)
        if eigenvalue.real > _float_tolerance(jacobian):
            return _unstable_witness(None, eigenvalue, "float",
                                     note + "; its rightmost float eigenvalue has Re > 0",
                                     exact_slopes)
    return None


def _vertex_sample(n: int, rng) -> np.ndarray:
    """Return vertices as boolean rows (True = upper slope): all, or a seeded sample."""
    if n <= ALL_VERTICES_LIMIT:
        return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    count = 0
    if n <= 100:
        count = 64
    elif n <= 400:
        count = 8
    uniform = np.array([np.ones(n, dtype=bool), np.zeros(n, dtype=bool)])
    return np.concatenate([uniform, rng.random((count, n)) < 0.5])


def _exact_vertex_jacobian(network, slopes: list[Fraction]) -> flint.fmpq_mat:
    n = network.n
    diagonal = flint.fmpq_mat(n, n)
    for i, slope in enumerate(slopes):
        diagonal[i, i] = _fmpq(slope)
    weights = rational_matrix(_dense(network.weights))
    product = diagonal * weights if network.side == "left" else weights * diagonal
    return product - _exact_diagonal(network.leak)


# -- witness 3: two equilibria -------------------------------------------------------


def _two_equilibria_witness(network, equilibria, rng, *, max_enclosed: int = 8) -> dict | None:
    starts = _equilibrium_starts(network, equilibria, rng)
    # Newton's method alone: the flow fallback is costly on networks with
    # oscillating or chaotic trajectories, which are common among these.
    found = find_equilibria(network, starts, flow=False)
    if len(found) < 2:
        return None
    found = found[:max_enclosed]
    enclosures = [enclose_equilibrium(network, point.x) for point in found]
    for i, j in combinations(range(len(found)), 2):
        first, second = enclosures[i], enclosures[j]
        if first is not None and second is not None and _disjoint(first, second):
            note = ("both equilibria are enclosed by Krawczyk's test in disjoint boxes, "
                    "so the network has two distinct equilibria")
            return _pair_witness(found[i], found[j], "interval", note,
                                 [first.radius, second.radius])
    note = "two Newton solutions with small residuals that are far apart (not enclosed)"
    return _pair_witness(found[0], found[1], "float", note, None)


def _equilibrium_starts(network, equilibria, rng) -> list[np.ndarray]:
    if equilibria is not None:
        return [item.x if isinstance(item, Equilibrium) else np.asarray(item, dtype=float)
                for item in equilibria]
    starts = [np.zeros(network.n)]
    for _ in range(4):
        state = rng.normal(size=network.n)
        starts += [state, -state]
    return starts


def _disjoint(first, second) -> bool:
    """Return whether two boxes are disjoint, decided with outward rounding."""
    gap = np.nextafter(np.abs(first.center - second.center), -np.inf)
    reach = np.nextafter(first.radii + second.radii, np.inf)
    return bool(np.any(gap > reach))


def _pair_witness(first: Equilibrium, second: Equilibrium, checked: str, note: str,
                  radii) -> dict:
    return {
        "kind": "two_equilibria",
        "state": first.x.tolist(),
        "states": [first.x.tolist(), second.x.tolist()],
        "residuals": [first.residual, second.residual],
        "enclosure_radii": radii,
        "eigenvalue": None,
        "checked": checked,
        "note": note,
    }


# -- last resort: random states, float only ----------------------------------------


def _random_state_witness(network, rng) -> dict | None:
    n = network.n
    if n > 400:
        return None
    # Each state costs a dense eigenvalue problem, so large networks get few.
    count = 32 if n <= 100 else 4
    scales = np.repeat([0.5, 1.0, 2.0, 4.0], count)[:, None]
    states = rng.normal(size=(len(scales), n)) * scales
    jacobians = network.jacobian(states)
    eigenvalues = [_rightmost_eigenvalue(jacobian) for jacobian in jacobians]
    best = int(np.argmax([value.real for value in eigenvalues]))
    if eigenvalues[best].real <= _float_tolerance(jacobians[best]):
        return None
    note = "a random state whose Jacobian has a float eigenvalue with Re > 0"
    return _unstable_witness(states[best].tolist(), eigenvalues[best], "float", note,
                             network.slopes(states[best]).tolist())


# -- helpers -------------------------------------------------------------------------


def _unstable_witness(state, eigenvalue: complex, checked: str, note: str, slopes) -> dict:
    return {
        "kind": "unstable_jacobian",
        "state": state,
        "eigenvalue": [float(eigenvalue.real), float(eigenvalue.imag)],
        "checked": checked,
        "note": note,
        "slopes": [float(slope) for slope in slopes],
        "slopes_exact": [str(slope) for slope in slopes] if checked == "exact" else None,
        "approached": state is None,
    }


def _rightmost_eigenvalue(jacobian: np.ndarray) -> complex:
    eigenvalues = np.linalg.eigvals(jacobian)
    return complex(eigenvalues[np.argmax(eigenvalues.real)])


def _float_tolerance(jacobian: np.ndarray) -> float:
    return FLOAT_TOLERANCE * max(1.0, float(np.max(np.sum(np.abs(jacobian), axis=1))))


def _dense(weights) -> np.ndarray:
    return weights.toarray() if sps.issparse(weights) else np.asarray(weights, dtype=float)


def _exact_diagonal(values: np.ndarray) -> flint.fmpq_mat:
    n = len(values)
    diagonal = flint.fmpq_mat(n, n)
    for i, value in enumerate(values):
        diagonal[i, i] = _fmpq(Fraction(float(value)))
    return diagonal


def _fmpq(value: Fraction) -> flint.fmpq:
    return flint.fmpq(value.numerator, value.denominator)
