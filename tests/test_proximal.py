"""Proximal gradient dynamics and the LCA: certificates, optimality, real data and bad input."""

from __future__ import annotations

import json
from fractions import Fraction

import cvxpy as cp
import numpy as np
import pytest

import ctdyn
from ctdyn.cli import main
from ctdyn.errors import InvalidModelError
from ctdyn.proximal import (
    analyze,
    competitive_network,
    contraction_factor,
    lca,
    make_regularizer,
    minimize,
    optimal_step,
    optimality_certificate,
    proximal_gradient,
    rate_certificate,
)

# Closed forms to 1e-9; solver comparisons to 1e-6 relative.
CLOSED_FORM = 1e-9
SOLVER_RELATIVE = 1e-6

# Reference LASSO (shared reference cases of the project, closed form):
# min 1/2 |A x - b|^2 + lambda |x|_1 with A = diag(1, 2), b = (3, 1), lambda = 1
# has x* = (2, 0.25); mu = 1, L = 4; the rate at gamma = 0.4 is
# 1 - max(|1 - 0.4|, |1 - 1.6|) = 0.4; the LCA state is u* = (3, 1.25).
REFERENCE_A = [[1.0, 0.0], [0.0, 2.0]]
REFERENCE_B = [3.0, 1.0]
REFERENCE_X = [2.0, 0.25]
REFERENCE_U = [3.0, 1.25]


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# -- the reference case ------------------------------------------------------------


def test_reference_curvature_and_rate():
    model = proximal_gradient(REFERENCE_A, REFERENCE_B, lam=1.0, step=0.4)
    assert model.curvature.mu == 1
    assert model.curvature.L == 4
    certificate = rate_certificate(model)
    assert certificate.certified
    assert certificate.checked == "exact"
    assert certificate.rate == pytest.approx(0.4, abs=CLOSED_FORM)
    assert certificate.rate <= Fraction(certificate.evidence["rate_exact"])


def test_reference_default_step_is_rate_optimal():
    model = proximal_gradient(REFERENCE_A, REFERENCE_B, lam=1.0)
    assert model.step_source == "rate-optimal"
    assert model.step == pytest.approx(2 / (1 + 4), abs=CLOSED_FORM)
    assert optimal_step(Fraction(1), Fraction(4)) == Fraction(2, 5)


def test_reference_equilibrium_exact():
    analysis = analyze(proximal_gradient(REFERENCE_A, REFERENCE_B, lam=1.0), simulate=False)
    assert analysis.equilibrium["x"] == pytest.approx(REFERENCE_X, abs=CLOSED_FORM)
    optimality = next(c for c in analysis.certificates if c.method == "optimality")
    assert optimality.certified
    assert optimality.checked == "exact"


def test_reference_lca_state():
    analysis = analyze(lca(REFERENCE_A, REFERENCE_B, lam=1.0), simulate=True, trajectories=4)
    assert analysis.equilibrium["x"] == pytest.approx(REFERENCE_X, abs=CLOSED_FORM)
    assert analysis.equilibrium["u"] == pytest.approx(REFERENCE_U, abs=CLOSED_FORM)
    # gamma = 1 > 2/L = 0.5: reported, not certified.
    rate = next(c for c in analysis.certificates if c.method == "proximal_rate")
    assert rate.status == "inconclusive"
    assert "outside (0, 2/L)" in rate.reason
    assert analysis.simulation.energy_consistent


def test_reference_cli_json(tmp_path):
    model = write(tmp_path / "lasso.toml", """[model]
family = "proximal_gradient"
A = [[1, 0], [0, 2]]
b = [3, 1]
regularizer = "l1"
lam = 1.0
step = 0.4
""")
    out = tmp_path / "out.json"
    assert main(["certify", str(model), "--json", str(out), "--require", "contraction",
                 "--require", "optimality"]) == 0
    record = json.loads(out.read_text())
    methods = {c["method"]: c for c in record["certificates"]}
    assert methods["proximal_rate"]["status"] == "certified"
    assert methods["proximal_rate"]["rate"] == pytest.approx(0.4, abs=CLOSED_FORM)
    assert methods["optimality"]["status"] == "certified"
    assert record["equilibrium"]["x"] == pytest.approx(REFERENCE_X, abs=CLOSED_FORM)
    assert record["simulation"]["consistent"] is True


def test_lca_cli_json_has_u(tmp_path):
    model = write(tmp_path / "lca.toml", """[model]
family = "lca"
A = [[1, 0], [0, 2]]
b = [3, 1]
lam = 1.0
""")
    out = tmp_path / "out.json"
    assert main(["certify", str(model), "--json", str(out), "--no-simulate"]) == 0
    record = json.loads(out.read_text())
    assert record["equilibrium"]["u"] == pytest.approx(REFERENCE_U, abs=CLOSED_FORM)
    assert record["model"]["family"] == "lca"


# -- soundness against brute force and simulation --------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_certified_rate_sound_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    m, n = 8, 4
    A = rng.normal(size=(m, n))
    b = rng.normal(size=m)
    step = float(rng.uniform(0.05, 0.6))
    model = proximal_gradient(A, b, lam=0.3, step=step)
    eigenvalues = np.linalg.eigvalsh(A.T @ A)
    assert float(model.curvature.mu) <= eigenvalues[0] * (1 + 1e-12)
    assert float(model.curvature.L) >= eigenvalues[-1] * (1 - 1e-12)
    true_factor = max(abs(1 - step * eigenvalues[0]), abs(1 - step * eigenvalues[-1]))
    certificate = rate_certificate(model)
    if step * eigenvalues[-1] >= 2 * (1 + 1e-9):
        assert not certificate.certified
    if not certificate.certified:
        return
    assert certificate.rate <= 1 - true_factor + 1e-12
    # Brute force: the proximal gradient map is Lipschitz with the certified factor.
    factor = 1 - certificate.rate
    points = rng.normal(scale=3.0, size=(400, n))
    images = model.proximal_gradient_map(points)
    for i in range(0, 400, 2):
        distance = np.linalg.norm(points[i] - points[i + 1])
        assert np.linalg.norm(images[i] - images[i + 1]) <= factor * distance * (1 + 1e-12)


def test_step_outside_interval_not_certified():
    model = proximal_gradient(REFERENCE_A, REFERENCE_B, lam=1.0, step=0.5)  # 2/L = 0.5
    certificate = rate_certificate(model)
    assert certificate.status == "inconclusive"
    assert "outside (0, 2/L)" in certificate.reason
    # gamma = 0.49 is inside and certified: rate 1 - max(0.51, 0.96) = 0.04.
    inside = rate_certificate(proximal_gradient(REFERENCE_A, REFERENCE_B, lam=1.0, step=0.49))
    assert inside.certified
    assert inside.rate == pytest.approx(0.04, abs=CLOSED_FORM)


def test_contraction_factor_exact():
    assert contraction_factor(Fraction(2, 5), Fraction(1), Fraction(4)) == Fraction(3, 5)


def test_simulation_consistent_with_certified_rate():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(12, 5))
    analysis = analyze(proximal_gradient(A, rng.normal(size=12), lam=0.2), trajectories=6)
    assert analysis.best_contraction() is not None
    assert analysis.simulation.consistent
    assert analysis.simulation.observed_rate >= analysis.best_contraction().rate
    assert analysis.simulation.energy_consistent
    assert analysis.exit_status(("contraction", "optimality")) == 0


def test_underdetermined_reports_what_still_holds():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(10, 30))
    x_true = np.zeros(30)
    x_true[[2, 11, 25]] = [1.5, -2.0, 1.0]
    model = proximal_gradient(A, A @ x_true, lam=0.05)
    analysis = analyze(model, simulate=False)
    rate = next(c for c in analysis.certificates if c.method == "proximal_rate")
    assert rate.status == "inconclusive"
    assert "not strongly convex" in rate.reason
    claims = [item["claim"] for item in rate.details["still_holds"]]
    assert any("never increases" in claim for claim in claims)
    assert any("minimizers" in claim for claim in claims)
    assert any("local exponential stability on the support" in claim for claim in claims)
    optimality = next(c for c in analysis.certificates if c.method == "optimality")
    assert optimality.certified
    assert optimality.checked == "exact"


# -- the regularizers' proximal maps against cvxpy ------------------------------------


def cvxpy_regularizer(name, x, **parameters):
    lam = parameters.get("lam", 0.0)
    if name == "l1":
        return lam * cp.norm1(x), []
    if name == "elastic_net":
        return lam * cp.norm1(x) + parameters["l2"] / 2 * cp.sum_squares(x), []
    if name == "nonnegative":
        return 0, [x >= 0]
    if name == "nonnegative_l1":
        return lam * cp.sum(x), [x >= 0]
    if name == "box":
        return 0, [x >= parameters["lower"], x <= parameters["upper"]]
    if name == "simplex":
        return 0, [x >= 0, cp.sum(x) == parameters["radius"]]
    if name == "l2_ball":
        return 0, [cp.norm(x, 2) <= parameters["radius"]]
    if name == "group_l1":
        groups = np.asarray(parameters["groups"])
        return lam * sum(cp.norm(x[groups == g], 2) for g in np.unique(groups)), []
    raise AssertionError(name)


CASES = [
    ("l1", {"lam": 0.7}),
    ("elastic_net", {"lam": 0.5, "l2": 0.8}),
    ("nonnegative", {}),
    ("nonnegative_l1", {"lam": 0.4}),
    ("box", {"lower": [-0.5, 0.0, -1.0, 0.2, -2.0, 0.0], "upper": [0.5, 1.0, 0.0, 0.3, 2.0, 0.1]}),
    ("simplex", {"radius": 2.0}),
    ("l2_ball", {"radius": 0.8}),
    ("group_l1", {"lam": 0.9, "groups": [0, 0, 1, 1, 1, 2]}),
]


@pytest.mark.parametrize("name,parameters", CASES, ids=[case[0] for case in CASES])
def test_prox_matches_cvxpy(name, parameters):
    rng = np.random.default_rng(5)
    n, step = 6, 0.7
    regularizer = make_regularizer(name, n, **parameters)
    for _ in range(3):
        v = rng.normal(scale=2.0, size=n)
        x = cp.Variable(n)
        term, constraints = cvxpy_regularizer(name, x, **parameters)
        cp.Problem(cp.Minimize(term + cp.sum_squares(x - v) / (2 * step)), constraints).solve(
            solver=cp.CLARABEL)
        assert regularizer.prox(v, step) == pytest.approx(x.value, abs=1e-6)


@pytest.mark.parametrize("name,parameters", CASES, ids=[case[0] for case in CASES])
def test_equilibrium_matches_cvxpy(name, parameters):
    rng = np.random.default_rng(7)
    A = rng.normal(size=(9, 6))
    b = rng.normal(size=9) * 2
    model = proximal_gradient(A, b, regularizer=name, **parameters)
    analysis = analyze(model, simulate=False)
    x = cp.Variable(6)
    term, constraints = cvxpy_regularizer(name, x, **parameters)
    problem = cp.Problem(cp.Minimize(cp.sum_squares(A @ x - b) / 2 + term), constraints)
    if model.regularizer.polyhedral:
        problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    else:
        # Clarabel 0.11 stops 1e-6 short on these second-order cone problems
        # (status optimal_inaccurate); SCS reaches 1e-12.
        problem.solve(solver=cp.SCS, eps_abs=1e-12, eps_rel=1e-12, max_iters=100000)
    assert problem.status == cp.OPTIMAL
    found = np.asarray(analysis.equilibrium["x"])
    assert np.linalg.norm(found - x.value) <= 1e-6 * max(np.linalg.norm(x.value), 1.0)
    optimality = next(c for c in analysis.certificates if c.method == "optimality")
    assert optimality.certified, optimality.reason
    expected_check = "exact" if model.regularizer.polyhedral else "interval"
    assert optimality.checked == expected_check


def test_optimality_rejects_wrong_point():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(10, 20))
    model = proximal_gradient(A, rng.normal(size=10), lam=0.3)
    wrong = rng.normal(size=20)
    certificate, reported = optimality_certificate(model, wrong, rate=rate_certificate(model))
    truth = minimize(model).x
    if certificate.certified:
        # The exact route replaced the point by the exact minimizer of its active set.
        assert np.linalg.norm(reported - truth) <= 1e-8 * max(np.linalg.norm(truth), 1.0)
    else:
        assert certificate.status == "inconclusive"


# -- the LCA and the positive competitive network ------------------------------------


def test_lca_and_competitive_network_share_equilibria():
    rng = np.random.default_rng(4)
    Phi = rng.normal(size=(6, 8)) / np.sqrt(6)
    y = rng.normal(size=6)
    lam = 0.1
    model = lca(Phi, y, lam=lam, regularizer="nonnegative_l1")
    analysis = analyze(model, simulate=False)
    x_star = np.asarray(analysis.equilibrium["x"])
    u_star = np.asarray(analysis.equilibrium["u"])
    assert model.vector_field(u_star[None, :]) == pytest.approx(np.zeros((1, 8)), abs=1e-9)
    assert model.output(u_star) == pytest.approx(x_star, abs=1e-12)

    weights, input_ = competitive_network(Phi, y, lam)
    network = ctdyn.FiringRateNetwork(weights, input=input_, activation="relu")
    assert network.vector_field(x_star[None, :]) == pytest.approx(np.zeros((1, 8)), abs=1e-9)
    # Simulated from a spread of states, the firing-rate network reaches the same point.
    from ctdyn.simulate import integrate, spread_initial_states

    x0 = np.abs(spread_initial_states(8, 4, scale=2.0, seed=0))
    final = integrate(network.vector_field, x0, t_final=300.0).final_states
    assert final == pytest.approx(np.tile(x_star, (4, 1)), abs=1e-5)


# -- symbolic f -------------------------------------------------------------------------


def test_symbolic_quadratic_exact_curvature():
    # Hessian [[2, 1], [1, 2]]: eigenvalues 1 and 3, so the optimal step is 1/2, rate 1/2.
    model = proximal_gradient(f="(x0 - 1)**2 + x0*x1 + x1**2", dimension=2,
                              regularizer="nonnegative")
    assert model.curvature.mu == 1
    assert model.curvature.L == 3
    assert model.step == pytest.approx(0.5, abs=CLOSED_FORM)
    analysis = analyze(model, trajectories=4)
    assert analysis.verdict() == "certified"
    # Minimizer over x >= 0: x1 = 0, x0 = 1 (gradient (0, 1) >= 0 on the boundary).
    assert analysis.equilibrium["x"] == pytest.approx([1.0, 0.0], abs=CLOSED_FORM)


def test_symbolic_nonquadratic_rate_inconclusive():
    model = proximal_gradient(f="log(1 + exp(x0)) + x0**2/2 + (x1 - 1)**2/2", dimension=2,
                              regularizer="l1", lam=0.1, step=0.5)
    certificate = rate_certificate(model)
    assert certificate.status == "inconclusive"
    assert "depends on x" in certificate.reason


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("options,field", [
    ({"lam": -1.0}, "lam"),
    ({"regularizer": "box", "lower": [1.0, 0.0], "upper": [0.0, 1.0]}, "lower[0]"),
    ({"regularizer": "huber"}, "regularizer"),
    ({"step": -0.1}, "step"),
    ({"regularizer": "l2_ball", "radius": 0.0}, "radius"),
])
def test_bad_parameters_rejected(options, field):
    with pytest.raises(InvalidModelError) as error:
        proximal_gradient(REFERENCE_A, REFERENCE_B, **options)
    assert error.value.field == field


def test_mismatched_shapes_rejected():
    with pytest.raises(InvalidModelError, match="one entry per row"):
        proximal_gradient(REFERENCE_A, [1.0, 2.0, 3.0], lam=1.0)


@pytest.mark.parametrize("text", ["x0**2 - x1**2", "sin(x0) + x1**2"])
def test_nonconvex_f_rejected(text):
    with pytest.raises(InvalidModelError, match="convex"):
        proximal_gradient(f=text, dimension=2, regularizer="l1", lam=1.0, step=0.1)


@pytest.mark.parametrize("line,field", [
    ("lam = -1.0", "model.lam"),
    ("A = [[1, 0], [0]]", "model.A[1]"),
    ("regularizer = \"lasso\"", "model.regularizer"),
    ("b = [1, nan]", "model.b[1]"),
    ("bogus = 1", "model.bogus"),
])
def test_model_file_errors_exit_2(tmp_path, capsys, line, field):
    lines = {"A": "A = [[1, 0], [0, 2]]", "b": "b = [3, 1]", "lam": "lam = 1.0"}
    key = line.split("=")[0].strip()
    lines[key] = line
    path = write(tmp_path / "bad.toml", "[model]\nfamily = \"proximal_gradient\"\n"
                 + "\n".join(lines.values()) + "\n")
    assert main(["certify", str(path)]) == 2
    assert field in capsys.readouterr().err


def test_model_file_empty_box(tmp_path):
    path = write(tmp_path / "box.toml", """[model]
family = "proximal_gradient"
A = [[1, 0], [0, 2]]
b = [3, 1]
regularizer = "box"
lower = [0, 2]
upper = [1, 1]
""")
    with pytest.raises(InvalidModelError) as error:
        ctdyn.models.load_model(path)
    assert error.value.field == "model.lower[1]"


def test_one_sided_box_exact_optimality():
    rng = np.random.default_rng(8)
    A = rng.normal(size=(7, 5))
    b = rng.normal(size=7) * 3
    analysis = analyze(proximal_gradient(A, b, regularizer="box", upper=0.5), simulate=False)
    optimality = next(c for c in analysis.certificates if c.method == "optimality")
    assert optimality.certified
    assert optimality.checked == "exact"
    x = cp.Variable(5)
    cp.Problem(cp.Minimize(cp.sum_squares(A @ x - b) / 2), [x <= 0.5]).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    assert np.asarray(analysis.equilibrium["x"]) == pytest.approx(x.value, abs=1e-6)
    assert max(analysis.equilibrium["x"]) == pytest.approx(0.5, abs=1e-12)


def test_report_folder_written(tmp_path):
    model = write(tmp_path / "lasso.toml", """[model]
family = "proximal_gradient"
A = [[1, 0], [0, 2]]
b = [3, 1]
lam = 1.0
""")
    folder = tmp_path / "report"
    assert main(["certify", str(model), "--report", str(folder)]) == 0
    text = (folder / "report.md").read_text()
    assert "| optimality | certified |" in text
    assert "energy_decrease" not in text


def test_interval_curvature_bounds_sound():
    rng = np.random.default_rng(11)
    A = rng.normal(size=(80, 50))  # a 50 x 50 Gram matrix exceeds the exact limit of 40
    model = proximal_gradient(A, rng.normal(size=80), lam=0.1)
    assert model.curvature.checked == "interval"
    eigenvalues = np.linalg.eigvalsh(A.T @ A)
    assert 0 < float(model.curvature.mu) <= eigenvalues[0]
    assert float(model.curvature.L) >= eigenvalues[-1]
    assert float(model.curvature.L) <= eigenvalues[-1] * (1 + 1e-6)
    assert rate_certificate(model).certified


def test_elastic_net_certified_without_strong_convexity():
    rng = np.random.default_rng(12)
    A = rng.normal(size=(5, 12))
    model = proximal_gradient(A, rng.normal(size=5), regularizer="elastic_net", lam=0.2, l2=0.5)
    assert model.curvature.mu == 0
    certificate = rate_certificate(model)
    assert certificate.certified
    # At gamma = 2/L the factor is 1 / (1 + 2 l2 / L).
    L = float(model.curvature.L)
    assert certificate.rate == pytest.approx(1 - 1 / (1 + 2 * 0.5 / L), rel=1e-9)


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_matrix_file_loads(tmp_path, suffix):
    matrix = np.array(REFERENCE_A)
    if suffix == ".npy":
        np.save(tmp_path / "A.npy", matrix)
    else:
        np.savetxt(tmp_path / "A.csv", matrix, delimiter=",")
    path = write(tmp_path / "model.toml", f"""[model]
family = "proximal_gradient"
A_file = "A{suffix}"
b = [3, 1]
lam = 1.0
""")
    spec = ctdyn.models.load_model(path)
    assert spec.network.loss.A.tolist() == REFERENCE_A


def test_missing_matrix_file_exit_2(tmp_path, capsys):
    path = write(tmp_path / "model.toml", """[model]
family = "proximal_gradient"
A_file = "absent.npy"
b = [3, 1]
""")
    assert main(["certify", str(path)]) == 2
    assert "model.A_file" in capsys.readouterr().err
