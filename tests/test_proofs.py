"""Checks of the symbolic steps stated in proofs/*.md.

Each section names the proof file whose steps it checks. Exact steps use
sympy or fractions; numeric ones name their tolerance.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdyn.symbolic import vanishes

PROOFS = Path(__file__).resolve().parent.parent / "proofs"
PROOF_FILES = ["log_norm_contraction.md", "metzler_weights.md", "slope_box_lmi.md",
               "hopfield_energy.md", "linearization.md", "rigorous_checks.md"]

# Closed forms to 1e-9; float matrix functions to 1e-12 relative.
CLOSED_FORM_TOLERANCE = 1e-9
FLOAT_TOLERANCE = 1e-12
UNIT_ROUNDOFF = Fraction(1, 2**53)


def gamma(k: int) -> Fraction:
    """Return gamma_k = k u / (1 - k u) exactly."""
    return k * UNIT_ROUNDOFF / (1 - k * UNIT_ROUNDOFF)


@pytest.mark.parametrize("name", PROOF_FILES)
def test_proof_file_names_sources(name):
    text = (PROOFS / name).read_text(encoding="utf-8")
    assert "## Sources" in text
    assert "## Checked by" in text
    assert "tests/test_proofs.py" in text


# -- log_norm_contraction.md ----------------------------------------------------


def weighted_inf_log_norm(matrix: np.ndarray, weights: np.ndarray) -> float:
    scaled = np.abs(matrix) * weights[None, :] / weights[:, None]
    return float(np.max(np.diag(matrix) + scaled.sum(axis=1) - np.abs(np.diag(matrix))))


def weighted_one_log_norm(matrix: np.ndarray, weights: np.ndarray) -> float:
    scaled = np.abs(matrix) * weights[None, :] / weights[:, None]
    return float(np.max(np.diag(matrix) + scaled.sum(axis=0) - np.abs(np.diag(matrix))))


def test_inf_log_norm_row_limit_symbolic():
    # One row of the 2x2 definition with symbolic entries:
    # lim (|1 + h a| + h |b| eta2/eta1 - 1)/h = a + |b| eta2/eta1.
    h = sp.Symbol("h", positive=True)
    a, b = sp.symbols("a b", real=True)
    eta1, eta2 = sp.symbols("eta1 eta2", positive=True)
    limit = sp.limit((sp.Abs(1 + h * a) + sp.Abs(h * b) * eta2 / eta1 - 1) / h, h, 0, "+")
    assert sp.simplify(limit - (a + sp.Abs(b) * eta2 / eta1)) == 0


@pytest.mark.parametrize("size", [2, 3])
def test_weighted_log_norms_match_limit_definition(size):
    rng = np.random.default_rng(size)
    h = sp.Symbol("h", positive=True)
    for _ in range(4):
        entries = rng.integers(-9, 10, size=(size, size))
        denominators = rng.integers(1, 6, size=(size, size))
        matrix = sp.Matrix(size, size, lambda i, j: sp.Rational(int(entries[i, j]),
                                                                int(denominators[i, j])))
        weights = [sp.Rational(int(value), 3) for value in rng.integers(1, 9, size=size)]
        step = sp.eye(size) + h * matrix

        inf_norm = sp.Max(*[sum(sp.Abs(step[i, j]) * weights[j] / weights[i] for j in range(size))
                            for i in range(size)])
        inf_formula = max(matrix[i, i] + sum(abs(matrix[i, j]) * weights[j] / weights[i]
                                             for j in range(size) if j != i)
                          for i in range(size))
        assert sp.limit((inf_norm - 1) / h, h, 0, "+") == inf_formula

        one_norm = sp.Max(*[sum(sp.Abs(step[i, j]) * weights[j] / weights[i] for i in range(size))
                            for j in range(size)])
        one_formula = max(matrix[j, j] + sum(abs(matrix[i, j]) * weights[j] / weights[i]
                                             for i in range(size) if i != j)
                          for j in range(size))
        assert sp.limit((one_norm - 1) / h, h, 0, "+") == one_formula


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 6))
def test_log_norm_properties(seed, size):
    rng = np.random.default_rng(seed)
    first = rng.normal(size=(size, size))
    second = rng.normal(size=(size, size))
    weights = rng.uniform(0.1, 10.0, size=size)
    slack = FLOAT_TOLERANCE * (1 + np.abs(first).sum() + np.abs(second).sum())

    # mu_{1,eta}(A) = mu_{inf,1/eta}(A^T)
    assert weighted_one_log_norm(first, weights) == pytest.approx(
        weighted_inf_log_norm(first.T, 1 / weights), abs=slack)
    # subadditivity
    assert (weighted_inf_log_norm(first + second, weights)
            <= weighted_inf_log_norm(first, weights) + weighted_inf_log_norm(second, weights)
            + slack)
    # mu(A) >= Re(lambda) for every eigenvalue
    assert np.max(np.linalg.eigvals(first).real) <= weighted_inf_log_norm(first, weights) + slack


def test_contraction_example_exact():
    t = sp.Symbol("t", nonnegative=True)
    matrix = sp.Matrix([[-2, 1], [0, -3]])
    exponential = sp.simplify((matrix * t).exp())
    expected = sp.Matrix([[sp.exp(-2 * t), sp.exp(-2 * t) - sp.exp(-3 * t)], [0, sp.exp(-3 * t)]])
    assert sp.simplify(exponential - expected) == sp.zeros(2, 2)
    # e^-t - (2 e^-2t - e^-3t) = e^-t (1 - e^-t)^2 >= 0: the l_inf bound e^{mu t}, mu = -1.
    difference = sp.exp(-t) - (2 * sp.exp(-2 * t) - sp.exp(-3 * t))
    assert sp.simplify(difference - sp.exp(-t) * (1 - sp.exp(-t)) ** 2) == 0


# -- metzler_weights.md ---------------------------------------------------------------


def test_perron_value_of_two_by_two_majorant():
    w12, w21 = sp.symbols("w12 w21", positive=True)
    majorant = sp.Matrix([[0, w12], [w21, 0]])
    assert max(majorant.eigenvals(), key=lambda value: value.subs({w12: 2, w21: 3})) == sp.sqrt(
        w12 * w21)
    perron = sp.Matrix([sp.sqrt(w12), sp.sqrt(w21)])
    assert sp.simplify(majorant * perron - sp.sqrt(w12 * w21) * perron) == sp.zeros(2, 1)
    # The two row ratios multiply to w12 w21, so their max is >= sqrt(w12 w21).
    ratio = sp.Symbol("t", positive=True)  # t = eta2 / eta1
    assert sp.simplify((w12 * ratio) * (w21 / ratio) - w12 * w21) == 0


def test_perron_weights_equalize_row_ratios():
    a, d = sp.symbols("a d", real=True)
    b, c = sp.symbols("b c", positive=True)
    majorant = sp.Matrix([[a, b], [c, d]])
    abscissa = (a + d) / 2 + sp.sqrt(((a - d) / 2) ** 2 + b * c)
    perron = sp.Matrix([b, abscissa - a])  # positive because abscissa > a
    for row in range(2):
        ratio = (majorant * perron)[row] / perron[row]
        assert sp.simplify(ratio - abscissa) == 0


def test_weighted_rate_of_reference_matrix():
    # W = [[0, 2], [0.1, 0]]: alpha = sqrt(0.2) = 0.4472135955 with weights
    # proportional to (sqrt(20), 1) for |x| = max |x_i| / eta_i.
    weights = np.array([math.sqrt(20.0), 1.0])
    weights_matrix = np.array([[0.0, 2.0], [0.1, 0.0]])
    assert weighted_inf_log_norm(weights_matrix, weights) == pytest.approx(
        0.4472135955, abs=CLOSED_FORM_TOLERANCE)
    assert weighted_inf_log_norm(weights_matrix, np.ones(2)) == pytest.approx(2.0)


def metzler_abscissa(matrix: np.ndarray) -> float:
    return float(np.max(np.linalg.eigvals(matrix).real))


def test_product_family_minimax_equals_max_abscissa():
    # Row options of an irreducible 2x2 Metzler product family.
    first_rows = [np.array([-1.0, 2.0]), np.array([0.5, 0.7])]
    second_rows = [np.array([0.3, -2.0]), np.array([1.5, 0.4])]
    family = [np.vstack([first, second]) for first in first_rows for second in second_rows]
    largest = max(metzler_abscissa(member) for member in family)

    # With t = eta2/eta1, row 1 ratios a + b t increase and row 2 ratios
    # c/t + d decrease, so the minimax sits where the two maxima cross.
    def worst_row_gap(log_ratio):
        ratio = math.exp(log_ratio)
        first = max(row[0] + row[1] * ratio for row in first_rows)
        second = max(row[0] / ratio + row[1] for row in second_rows)
        return first - second

    crossing = math.exp(scipy.optimize.brentq(worst_row_gap, -20, 20, xtol=1e-15))
    minimax = max(row[0] + row[1] * crossing for row in first_rows)
    assert minimax == pytest.approx(largest, abs=CLOSED_FORM_TOLERANCE)

    # The Perron vector of the maximizer attains it for every member.
    maximizer = max(family, key=metzler_abscissa)
    values, vectors = np.linalg.eig(maximizer)
    perron = np.abs(vectors[:, np.argmax(values.real)].real)
    assert max(weighted_inf_log_norm(member, perron) for member in family) == pytest.approx(
        largest, abs=CLOSED_FORM_TOLERANCE)


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-0.5, 0.25), (-1.0, 0.0)])
@pytest.mark.parametrize("side", ["left", "right"])
def test_slope_box_row_formulas_match_vertices(side, low, high):
    rng = np.random.default_rng(17)
    size = 4
    weights_matrix = rng.normal(size=(size, size))
    leak = rng.uniform(0.5, 2.0, size=size)
    weights = rng.uniform(0.2, 5.0, size=size)
    off_diagonal = (np.abs(weights_matrix) * weights[None, :] / weights[:, None]).sum(axis=1) \
        - np.abs(np.diag(weights_matrix))
    diagonal = np.diag(weights_matrix)

    def jacobian(slopes):
        product = slopes[:, None] * weights_matrix if side == "left" else weights_matrix * slopes
        return product - np.diag(leak)

    vertex_worst = max(weighted_inf_log_norm(jacobian(np.array(vertex)), weights)
                       for vertex in itertools.product([low, high], repeat=size))
    if side == "left":
        rows = [max(-leak + slope * diagonal + abs(slope) * off_diagonal) for slope in (low, high)]
        formula = max(rows)
    else:
        formula = np.max(-leak + np.maximum(low * diagonal, high * diagonal)
                         + max(abs(low), abs(high)) * off_diagonal)
    assert formula == pytest.approx(vertex_worst, abs=FLOAT_TOLERANCE)

    inside = rng.uniform(low, high, size=(200, size))
    assert max(weighted_inf_log_norm(jacobian(slopes), weights) for slopes in inside) \
        <= formula + FLOAT_TOLERANCE


# -- slope_box_lmi.md --------------------------------------------------------------------


def symbolic_two_by_two():
    p11, p12, p22, c1, c2, rate = sp.symbols("p11 p12 p22 c1 c2 c", real=True)
    weights = sp.Matrix(2, 2, sp.symbols("w11 w12 w21 w22", real=True))
    metric = sp.Matrix([[p11, p12], [p12, p22]])
    leak = sp.diag(c1, c2)
    return metric, weights, leak, rate


@pytest.mark.parametrize("side", ["left", "right"])
def test_lmi_is_affine_in_slopes(side):
    metric, weights, leak, rate = symbolic_two_by_two()
    d1, d2, theta = sp.symbols("d1 d2 theta", real=True)
    e1, e2 = sp.symbols("e1 e2", real=True)

    def lmi(first, second):
        slopes = sp.diag(first, second)
        jacobian = -leak + (slopes * weights if side == "left" else weights * slopes)
        return jacobian.T * metric + metric * jacobian + 2 * rate * metric

    condition = lmi(d1, d2)
    for first, second in ((d1, d1), (d2, d2), (d1, d2)):
        assert sp.expand(sp.diff(condition, first, second)) == sp.zeros(2, 2)
    mixed = lmi(theta * d1 + (1 - theta) * e1, theta * d2 + (1 - theta) * e2)
    combination = theta * lmi(d1, d2) + (1 - theta) * lmi(e1, e2)
    assert sp.expand(mixed - combination) == sp.zeros(2, 2)


def test_s_procedure_quadratic_form_identity():
    metric, weights, leak, rate = symbolic_two_by_two()
    low, high = sp.symbols("a b", real=True)
    multipliers = sp.diag(*sp.symbols("lambda1 lambda2", real=True))
    p = sp.Matrix(sp.symbols("p1 p2", real=True))
    y = sp.Matrix(sp.symbols("y1 y2", real=True))

    top_left = -leak * metric - metric * leak + 2 * rate * metric - low * high * multipliers
    top_right = metric * weights + (low + high) / 2 * multipliers
    block = sp.BlockMatrix([[top_left, top_right], [top_right.T, -multipliers]]).as_explicit()
    stacked = p.col_join(y)
    form = (stacked.T * block * stacked)[0]

    quadratic = (p.T * (-leak * metric - metric * leak + 2 * rate * metric) * p)[0] \
        + 2 * (p.T * metric * weights * y)[0]
    sectors = sum(multipliers[i, i] * (y[i] - low * p[i]) * (high * p[i] - y[i]) for i in range(2))
    assert sp.expand(form - quadratic - sectors) == 0


def test_sector_at_slope_factorizes():
    p, d, low, high = sp.symbols("p d a b", real=True)
    sector = (d * p - low * p) * (high * p - d * p)
    assert sp.expand(sector - p**2 * (d - low) * (high - d)) == 0


def test_max_eigenvalue_at_vertex():
    rng = np.random.default_rng(23)
    size = 3
    weights = rng.normal(size=(size, size))
    factor = rng.normal(size=(size, size))
    metric = factor @ factor.T + size * np.eye(size)
    low, high = -0.3, 1.0

    def largest_eigenvalue(slopes):
        jacobian = -np.eye(size) + weights * slopes[None, :]
        return np.linalg.eigvalsh(jacobian.T @ metric + metric @ jacobian)[-1]

    vertex_max = max(largest_eigenvalue(np.array(vertex))
                     for vertex in itertools.product([low, high], repeat=size))
    samples = rng.uniform(low, high, size=(300, size))
    assert max(largest_eigenvalue(slopes) for slopes in samples) <= vertex_max + FLOAT_TOLERANCE


# -- hopfield_energy.md ----------------------------------------------------------------


def generic_hopfield(symmetric: bool):
    """Return states, E and f of a 3-neuron Hopfield network with undefined phi."""
    phi = sp.Function("phi")
    states = sp.symbols("x0:3", real=True)
    leak = sp.symbols("c0:3", positive=True)
    inputs = sp.symbols("u0:3", real=True)
    r = sp.Symbol("r", real=True)
    weights = sp.Matrix(3, 3, lambda i, j: sp.Symbol(
        f"w{min(i, j)}{max(i, j)}" if symmetric else f"w{i}{j}", real=True))
    rates = sp.Matrix([phi(state) for state in states])

    def primitive(state):
        return sp.Integral(r * sp.diff(phi(r), r), (r, 0, state))

    energy = (-(rates.T * weights * rates)[0] / 2 - sum(inputs[i] * rates[i] for i in range(3))
              + sum(leak[i] * primitive(states[i]) for i in range(3)))
    flow = [-leak[i] * states[i] + (weights * rates)[i] + inputs[i] for i in range(3)]
    return states, energy, flow, phi


def test_energy_gradient_identity_any_activation():
    states, energy, flow, phi = generic_hopfield(symmetric=True)
    for index, state in enumerate(states):
        difference = sp.diff(energy, state) + sp.diff(phi(state), state) * flow[index]
        assert vanishes(difference.doit())[0]


def test_energy_identity_fails_without_symmetry():
    states, energy, flow, phi = generic_hopfield(symmetric=False)
    difference = sp.diff(energy, states[0]) + sp.diff(phi(states[0]), states[0]) * flow[0]
    assert vanishes(difference.doit())[0] is False


def test_firing_rate_change_of_variables():
    phi = sp.Function("phi")
    states = sp.Matrix(sp.symbols("x0:3", real=True))
    inputs = sp.Matrix(sp.symbols("u0:3", real=True))
    leak = sp.Symbol("c", positive=True)
    weights = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"w{min(i, j)}{max(i, j)}", real=True))
    preactivation = weights * states + inputs
    rates = preactivation.applyfunc(phi)
    flow = -leak * states + rates
    # z' = W x' = -c z + W phi(z) + c u
    difference = weights * flow - (-leak * preactivation + weights * rates + leak * inputs)
    assert sp.expand(difference) == sp.zeros(3, 1)


def test_tanh_primitive_matches_hopfield_form():
    s = sp.Symbol("s", real=True)
    v = sp.Symbol("v", real=True)
    hopfield_form = sp.integrate(sp.atanh(v), (v, 0, sp.tanh(s)))
    # sympy 1.14 leaves atanh(tanh(s)), which is s for every real s.
    hopfield_form = hopfield_form.subs(sp.atanh(sp.tanh(s)), s)
    state_form = s * sp.tanh(s) - sp.log(sp.cosh(s))
    assert sp.simplify((hopfield_form - state_form).subs(s, 0)) == 0
    assert vanishes(sp.diff(hopfield_form - state_form, s))[0]


# -- linearization.md -----------------------------------------------------------------


def test_lyapunov_solution_for_symbolic_hurwitz_matrix():
    a11, a12, a21, a22 = sp.symbols("a11 a12 a21 a22", real=True)
    matrix = sp.Matrix([[a11, a12], [a21, a22]])
    p1, p2, p3 = sp.symbols("p1 p2 p3")
    metric = sp.Matrix([[p1, p2], [p2, p3]])
    solution = sp.solve(list(matrix.T * metric + metric * matrix + sp.eye(2)), [p1, p2, p3],
                        dict=True)[0]
    metric = metric.subs(solution)
    assert sp.simplify(matrix.T * metric + metric * matrix + sp.eye(2)) == sp.zeros(2, 2)

    # Hurwitz 2x2 <=> tau = -trace > 0 and delta = det > 0. Then
    # 2 tau delta P11 = delta + a21^2 + a22^2 > 0 and
    # 4 tau^2 delta det(P) = tau^2 + (a12 - a21)^2 > 0, so P > 0 (Sylvester).
    tau = -(a11 + a22)
    delta = matrix.det()
    assert sp.simplify(2 * tau * delta * metric[0, 0] - (delta + a21**2 + a22**2)) == 0
    assert sp.simplify(4 * tau**2 * delta * metric.det() - (tau**2 + (a12 - a21) ** 2)) == 0


def test_lyapunov_integral_formula_diagonal():
    t = sp.Symbol("t", nonnegative=True)
    matrix = sp.diag(-1, -2)
    integrand = (matrix.T * t).exp() * (matrix * t).exp()
    metric = integrand.applyfunc(lambda entry: sp.integrate(entry, (t, 0, sp.oo)))
    assert metric == sp.diag(sp.Rational(1, 2), sp.Rational(1, 4))
    assert matrix.T * metric + metric * matrix == -sp.eye(2)


def test_jordan_block_needs_epsilon():
    t = sp.Symbol("t", nonnegative=True)
    matrix = sp.Matrix([[-1, 1], [0, -1]])
    exponential = sp.simplify((matrix * t).exp())
    assert sp.simplify(exponential - sp.exp(-t) * sp.Matrix([[1, t], [0, 1]])) == sp.zeros(2, 2)
    # l_inf norm e^-t (1 + t) > e^-t for t > 0: rate |alpha| = 1 needs k > 1 or epsilon.
    assert sp.simplify(sp.exp(-t) * (1 + t) - sp.exp(-t) - t * sp.exp(-t)) == 0


# -- rigorous_checks.md ---------------------------------------------------------------


def exact_pivots(matrix: list[list[Fraction]]) -> list[Fraction]:
    """Return the LDL^T pivots, stopping after the first non-positive one."""
    work = [row[:] for row in matrix]
    size = len(work)
    pivots = []
    for k in range(size):
        pivot = work[k][k]
        pivots.append(pivot)
        if pivot <= 0:
            break
        for i in range(k + 1, size):
            factor = work[i][k] / pivot
            for j in range(k + 1, size):
                work[i][j] -= factor * work[k][j]
    return pivots


def test_pivots_are_ratios_of_leading_minors():
    entries = sp.symbols("a11 a12 a13 a22 a23 a33", real=True)
    a11, a12, a13, a22, a23, a33 = entries
    matrix = sp.Matrix([[a11, a12, a13], [a12, a22, a23], [a13, a23, a33]])
    minors = [sp.Integer(1)] + [matrix[:k, :k].det() for k in (1, 2, 3)]
    work = matrix.copy()
    for k in range(3):
        pivot = work[k, k]
        assert sp.cancel(pivot - minors[k + 1] / minors[k]) == 0
        for i in range(k + 1, 3):
            work[i, :] = work[i, :] - work[i, k] / pivot * work[k, :]


def test_exact_pivot_test_matches_eigenvalues():
    rng = np.random.default_rng(29)
    decided = 0
    for _ in range(40):
        factor = rng.integers(-4, 5, size=(4, 4))
        matrix = factor @ factor.T - int(rng.integers(0, 6)) * np.eye(4, dtype=int)
        eigenvalues = np.linalg.eigvalsh(matrix.astype(float))
        if np.min(np.abs(eigenvalues)) < 1e-6:
            continue  # singular cases: eigenvalues in floats cannot decide the sign
        exact = [[Fraction(int(value)) for value in row] for row in matrix]
        pivots = exact_pivots(exact)
        is_definite = len(pivots) == 4 and all(pivot > 0 for pivot in pivots)
        assert is_definite == bool(eigenvalues[0] > 0)
        decided += 1
    assert decided >= 20


def test_rank_one_norm_is_squared_length():
    vector = sp.Matrix(sp.symbols("v1 v2 v3", real=True))
    eigenvalues = (vector * vector.T).eigenvals()
    length = (vector.T * vector)[0]
    assert any(sp.simplify(value - length) == 0 for value in eigenvalues)
    assert all(sp.simplify(value) == 0 or sp.simplify(value - length) == 0
               for value in eigenvalues)


def float_cholesky_succeeds(matrix: np.ndarray) -> bool:
    """Run the textbook column Cholesky in floats; report whether every pivot is positive."""
    size = matrix.shape[0]
    factor = np.zeros_like(matrix)
    for j in range(size):
        pivot = matrix[j, j] - sum(factor[k, j] * factor[k, j] for k in range(j))
        if not pivot > 0:
            return False
        factor[j, j] = math.sqrt(pivot)
        for i in range(j + 1, size):
            factor[j, i] = (matrix[j, i] - sum(factor[k, j] * factor[k, i] for k in range(j))) \
                / factor[j, j]
    return True


def shifted_cholesky_certifies(matrix: np.ndarray) -> bool:
    """Apply the criterion of part (b), with its inequality checked in rationals."""
    size = matrix.shape[0]
    factor = gamma(size + 1) / (1 - gamma(size + 1))
    trace_bound = sum(Fraction(abs(value)) for value in np.diag(matrix))
    shift = float(2 * factor * trace_bound) + 1e-300
    shifted = matrix - shift * np.eye(size)
    if not float_cholesky_succeeds(shifted):
        return False
    trace = sum(Fraction(value) for value in np.diag(shifted))
    rounding = UNIT_ROUNDOFF * max(abs(Fraction(value) - Fraction(shift)) for value in np.diag(matrix))
    return Fraction(shift) >= factor * trace + rounding


def test_shifted_cholesky_criterion_is_sound():
    rng = np.random.default_rng(31)
    size = 5
    certified = 0
    for smallest in [1e-3, 1e-9, 1e-13, 1e-15, 0.0, -1e-15, -1e-13, -1e-9]:
        for _ in range(5):
            orthogonal, _ = np.linalg.qr(rng.normal(size=(size, size)))
            eigenvalues = np.concatenate([[smallest], rng.uniform(0.5, 2.0, size=size - 1)])
            matrix = (orthogonal * eigenvalues) @ orthogonal.T
            matrix = (matrix + matrix.T) / 2
            exact = [[Fraction(value) for value in row] for row in matrix]
            pivots = exact_pivots(exact)
            exactly_definite = len(pivots) == size and all(pivot > 0 for pivot in pivots)
            if shifted_cholesky_certifies(matrix):
                certified += 1
                assert exactly_definite
    assert certified >= 10  # the well-conditioned cases are certified


def test_rounding_lemma_exact():
    for k in range(1, 201):
        assert (1 + UNIT_ROUNDOFF) ** k - 1 <= gamma(k)
        assert 1 - (1 - UNIT_ROUNDOFF) ** k <= gamma(k)
        assert (1 - UNIT_ROUNDOFF) ** -k - 1 <= gamma(k)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False,
                                 allow_infinity=False), min_size=1, max_size=60))
def test_recursive_summation_bound(values):
    computed = 0.0
    for value in values:
        computed += value
    exact = sum(Fraction(value) for value in values)
    magnitude = sum(abs(Fraction(value)) for value in values)
    assert abs(Fraction(computed) - exact) <= gamma(max(len(values) - 1, 0)) * magnitude
