r"""Certificates of the proximal families: the contraction rate and optimality of the equilibrium.

``proximal_rate``
    Contraction in the Euclidean norm at rate
    :math:`1 - \kappa\max(|1-\gamma\mu|, |1-\gamma L|)` from proved bounds
    :math:`\mu, L` (see :mod:`._curvature`), evaluated in exact rationals.
    A step outside :math:`(0, 2/L)` or an f that is not strongly convex gives
    ``inconclusive`` with the reason and what still holds.
``optimality``
    The equilibrium minimizes f + g. For a quadratic f and a polyhedral g the
    optimality conditions are solved on the active set and checked in exact
    rationals. Otherwise, when the rate is certified, the distance to the
    unique minimizer is bounded by the fixed-point residual,
    :math:`\|x - x^*\| \le \|x - T(x)\| / (1 - \ell)`, evaluated with a
    priori rounding bounds.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction

import flint
import numpy as np

from ..certify._certificate import CERTIFIED, INCONCLUSIVE, Certificate
from ..verify import UNIT_ROUNDOFF, gamma, is_positive_definite_exact, matmul_error_bound, round_up
from ..verify._rational import rational_matrix
from ._curvature import contraction_factor, optimal_step
from ._losses import QuadraticLoss, exact_hessian
from ._solve import active_set

__all__ = ["rate_certificate", "optimality_certificate", "OPTIMALITY_TOLERANCE",
           "local_rate_on_support"]

logger = logging.getLogger(__name__)

# The interval route certifies optimality when the proved distance to the
# minimizer is at most this, relative to max(|x|_2, 1).
OPTIMALITY_TOLERANCE = 1e-9
# The exact route builds rational matrices of A; above this many entries of
# A it is skipped. A 1,000 x 4,000 LASSO took 15.6 s on 2 cores (python-flint 0.9).
EXACT_OPTIMALITY_ENTRIES = 2_000_000
# Restricted eigenvalue bounds are checked exactly up to this support size.
EXACT_SUPPORT_LIMIT = 60


def _fraction_text(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _round_down(value: Fraction) -> float:
    approximate = float(value)
    if Fraction(approximate) > value:
        approximate = float(np.nextafter(approximate, -np.inf))
    return approximate


def rate_certificate(model) -> Certificate:
    """Certify the Euclidean contraction rate of the model's dynamics, or return the reason it fails."""
    curvature = model.curvature
    if curvature.L is None:
        return Certificate(method="proximal_rate", claim="contraction", status=INCONCLUSIVE,
                           reason=curvature.reason, details={"still_holds": _still_holds(model)})
    step = Fraction(model.step)
    mu = curvature.mu
    L = curvature.L
    kappa = model.regularizer.prox_lipschitz(model.step)
    factor = contraction_factor(step, mu, L, kappa)
    rate = 1 - factor
    best_step = optimal_step(mu, L)
    if mu == 0 and L > 0 and model.regularizer.name == "elastic_net" and model.regularizer.l2 > 0:
        best_step = 2 / L
    best_rate = 1 - contraction_factor(Fraction(float(best_step)), mu, L,
                                       model.regularizer.prox_lipschitz(float(best_step)))
    evidence = {
        "mu": _fraction_text(mu), "L": _fraction_text(L), "step": _fraction_text(step),
        "prox_lipschitz": _fraction_text(kappa), "factor": _fraction_text(factor),
        "rate_exact": _fraction_text(rate),
    }
    details = {
        "mu": float(mu), "L": float(L), "step": model.step, "step_source": model.step_source,
        # With L = 0 (f affine) every positive step keeps the factor at most kappa.
        "step_interval": [0.0, float(2 / L) if L > 0 else math.inf],
        "rate_optimal_step": float(best_step), "rate_at_optimal_step": _round_down(best_rate),
        **curvature.details,
    }
    coordinates = "u (internal state)" if model.family == "lca" else "x"
    metric = {"norm": "l_2", "weights": [1.0] * model.n}
    if rate > 0:
        return Certificate(method="proximal_rate", claim="contraction", status=CERTIFIED,
                           rate=_round_down(rate), metric=metric, checked=curvature.checked,
                           margin=_round_down(rate),
                           reason=f"Euclidean contraction in {coordinates}: rate 1 - "
                                  f"max(|1 - gamma mu|, |1 - gamma L|) with mu = {float(mu):.6g}, "
                                  f"L = {float(L):.6g}, gamma = {model.step:.6g}",
                           evidence=evidence, details=details)

    reasons = []
    if L == 0:
        reasons.append("f is affine (L = 0), so every step gives the same factor and the "
                       f"step {model.step:.6g} is as good as any")
    if mu == 0:
        reasons.append("f is not strongly convex (mu = 0: A^T A is singular, for example with "
                       "more unknowns than measurements), so there is no global rate")
    if step * L >= 2:
        reasons.append(f"the step gamma = {model.step:.6g} is outside (0, 2/L) = (0, "
                       f"{float(2 / L):.6g})")
    if not reasons:
        reasons.append(f"the bound 1 - max(|1 - gamma mu|, |1 - gamma L|) = {float(rate):.6g} "
                       "is not positive")
    details["still_holds"] = _still_holds(model, factor=factor)
    return Certificate(method="proximal_rate", claim="contraction", status=INCONCLUSIVE,
                       reason="; ".join(reasons) + "; still holds: "
                              + "; ".join(item["claim"] for item in details["still_holds"]),
                       evidence=evidence, details=details)


def _still_holds(model, factor: Fraction | None = None) -> list[dict]:
    """Return the claims that hold without a positive global rate, with how each is checked."""
    claims = [
        {"claim": "f + g never increases along trajectories", "checked": "theorem",
         "condition": "f convex, gamma > 0 (proofs/proximal_gradient.md)"},
        {"claim": "the equilibria are exactly the minimizers of f + g", "checked": "theorem",
         "condition": "f convex, g convex, gamma > 0"},
    ]
    if factor is not None and factor <= 1:
        claims.append({"claim": "distances between trajectories never increase (rate 0)",
                       "checked": "exact", "condition": "gamma L <= 2"})
    return claims


# -- optimality ----------------------------------------------------------------


def optimality_certificate(model, x: np.ndarray, *, rate: Certificate | None = None
                           ) -> tuple[Certificate, np.ndarray]:
    """Certify that ``x`` (or the exact point polished from it) minimizes f + g.

    Returns the certificate and the equilibrium to report: the float
    rounding of the exact minimizer when the exact route succeeds, else ``x``.
    """
    residual = float(np.linalg.norm(x - model.proximal_gradient_map(x)))
    scale = max(float(np.linalg.norm(x)), 1.0)
    details = {"fixed_point_residual": residual, "relative_residual": residual / scale,
               "subgradient_residual": residual / model.step, "tolerance": OPTIMALITY_TOLERANCE}

    exact = _exact_route(model, x)
    if exact is not None and exact[0]:
        _, candidate, margin, support = exact
        reported = np.array([float(v) for v in candidate])
        details.update({"support_size": len(support), "distance_to_float": float(
            np.linalg.norm(reported - x))})
        evidence = {"strict_complementarity_margin": None if margin is None else float(margin),
                    "support": support}
        return (Certificate(method="optimality", claim="optimality", status=CERTIFIED,
                            checked="exact", margin=None if margin is None else _round_down(margin),
                            reason="the optimality conditions -grad f(x) in the subdifferential "
                                   "of g hold exactly at the rational point solved on the "
                                   "active set",
                            evidence=evidence, details=details), reported)
    if exact is not None:
        details["exact_check"] = exact[1]

    # The a priori rounding bound of the proximal map covers the elementwise
    # maps and the norm scalings, not the sort-based simplex projection.
    if rate is not None and rate.certified and isinstance(model.loss, QuadraticLoss) \
            and model.family == "proximal_gradient" and model.regularizer.name != "simplex":
        factor = 1 - Fraction(rate.evidence["rate_exact"])
        bound = _residual_upper_bound(model, x)
        if bound is not None:
            distance = round_up(Fraction(bound) / (1 - factor))
            details["distance_bound"] = distance
            if distance <= OPTIMALITY_TOLERANCE * scale:
                return (Certificate(method="optimality", claim="optimality", status=CERTIFIED,
                                    checked="interval",
                                    margin=OPTIMALITY_TOLERANCE * scale - distance,
                                    reason=f"|x - x*| <= {distance:.3g} (fixed-point residual / "
                                           "(1 - contraction factor), rounding bounded a priori)",
                                    details=details), x)
            return (Certificate(method="optimality", claim="optimality", status=INCONCLUSIVE,
                                reason=f"the proved distance bound {distance:.3g} exceeds the "
                                       f"tolerance {OPTIMALITY_TOLERANCE:g} relative",
                                details=details), x)
    reason = ("no exact optimality check for this f and g, and no certified rate to bound the "
              f"distance to the minimizer; the relative fixed-point residual is "
              f"{residual / scale:.3g}")
    if "exact_check" in details:
        reason = f"the exact check failed ({details['exact_check']}); " + reason
    return Certificate(method="optimality", claim="optimality", status=INCONCLUSIVE,
                       reason=reason, details=details), x


class _ExactQuadratic:
    """Exact rational H and c of a quadratic f, with the gradient H x - c."""

    def __init__(self, loss):
        if isinstance(loss, QuadraticLoss):
            self.A = rational_matrix(loss.A)
            self.b = rational_matrix(loss.b.reshape(-1, 1))
            self.ridge = flint.fmpq(*Fraction(loss.ridge).as_integer_ratio())
            self.H = None
        else:
            hessian = exact_hessian(loss)
            self.H = flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator) for v in row]
                                     for row in hessian])
            gradient_zero = loss.gradient_at_zero
            self.c = flint.fmpq_mat([[-flint.fmpq(int(v.p), int(v.q))] for v in gradient_zero])
        self.n = loss.n

    def block(self, rows: list[int], columns: list[int]) -> flint.fmpq_mat:
        if self.H is not None:
            return flint.fmpq_mat([[self.H[i, j] for j in columns] for i in rows])
        left = _columns(self.A, rows)
        right = _columns(self.A, columns)
        result = left.transpose() * right
        for a, i in enumerate(rows):
            for column, j in enumerate(columns):
                if i == j:
                    result[a, column] += self.ridge
        return result

    def linear(self, rows: list[int]) -> flint.fmpq_mat:
        if self.H is not None:
            return flint.fmpq_mat([[self.c[i, 0]] for i in rows])
        return _columns(self.A, rows).transpose() * self.b

    def gradient(self, x: list[flint.fmpq]) -> list[flint.fmpq]:
        vector = flint.fmpq_mat([[v] for v in x])
        if self.H is not None:
            product = self.H * vector - self.c
        else:
            support = [i for i, v in enumerate(x) if v != 0]
            if support:
                fitted = _columns(self.A, support) * flint.fmpq_mat([[x[i]] for i in support])
            else:
                fitted = flint.fmpq_mat(self.A.nrows(), 1)
            product = self.A.transpose() * (fitted - self.b)
            if self.ridge != 0:
                product = product + vector * self.ridge
        return [product[i, 0] for i in range(self.n)]


def _columns(matrix: flint.fmpq_mat, columns: list[int]) -> flint.fmpq_mat:
    return flint.fmpq_mat([[matrix[i, j] for j in columns] for i in range(matrix.nrows())])


def _exact_route(model, x: np.ndarray):
    """Solve the active-set system exactly and check the optimality conditions.

    Returns None when the route does not apply, ``(False, detail)`` when the
    check fails, else ``(True, candidate, margin, support)``.
    """
    reg = model.regularizer
    if not reg.polyhedral or not model.loss.quadratic:
        return None
    if isinstance(model.loss, QuadraticLoss) and model.loss.A.size > EXACT_OPTIMALITY_ENTRIES:
        return None
    structure = active_set(model, model.proximal_gradient_map(x))
    free = structure["free"]
    quadratic = _ExactQuadratic(model.loss)
    candidate = [flint.fmpq(0)] * model.n
    for i, value in structure["fixed"].items():
        candidate[i] = flint.fmpq(*Fraction(value).as_integer_ratio())
    if free:
        fixed = sorted(structure["fixed"])
        block = quadratic.block(free, free)
        if reg.name == "elastic_net":
            l2 = flint.fmpq(*Fraction(reg.l2).as_integer_ratio())
            for k in range(len(free)):
                block[k, k] += l2
        rhs = quadratic.linear(free)
        for k, value in enumerate(structure["target"]):
            rhs[k, 0] += flint.fmpq(*Fraction(float(value)).as_integer_ratio())
        nonzero_fixed = [i for i in fixed if candidate[i] != 0]
        if nonzero_fixed:
            rhs = rhs - quadratic.block(free, nonzero_fixed) * flint.fmpq_mat(
                [[candidate[i]] for i in nonzero_fixed])
        k = len(free)
        try:
            if structure["simplex"]:
                bordered = flint.fmpq_mat(k + 1, k + 1)
                for a in range(k):
                    for column in range(k):
                        bordered[a, column] = block[a, column]
                    bordered[a, k] = -1
                    bordered[k, a] = 1
                extended = flint.fmpq_mat(k + 1, 1)
                for a in range(k):
                    extended[a, 0] = rhs[a, 0]
                extended[k, 0] = flint.fmpq(*Fraction(reg.radius).as_integer_ratio())
                solution = bordered.solve(extended)
            else:
                solution = block.solve(rhs)
        except ZeroDivisionError:
            return False, "the active-set system is singular"
        for a, i in enumerate(free):
            candidate[i] = solution[a, 0]
    gradient = quadratic.gradient(candidate)
    as_fractions = [Fraction(int(v.p), int(v.q)) for v in candidate]
    gradient_fractions = [Fraction(int(v.p), int(v.q)) for v in gradient]
    satisfied, margin, detail = reg.kkt_exact(as_fractions, gradient_fractions)
    if not satisfied:
        logger.info("exact optimality check failed: %s", detail)
        return False, detail
    return True, as_fractions, margin, free


def _residual_upper_bound(model, x: np.ndarray) -> float | None:
    r"""Return a proved upper bound on :math:`\|x - T(x)\|_2` for a least-squares f.

    Every floating-point step gets an a priori bound (Higham, Lemma 3.1 and
    eq. 3.13): the products :math:`Ax` and :math:`A^T r` by
    :func:`ctdyn.verify.matmul_error_bound`, each subtraction and scaling by
    two unit roundoffs, and the proximal map, which is nonexpansive, by its
    own rounding of at most :math:`\gamma_{n+4}` times its input.
    """
    reg = model.regularizer
    loss = model.loss
    A, b, step = loss.A, loss.b, model.step
    u = UNIT_ROUNDOFF
    residual = A @ x - b
    error_residual = matmul_error_bound(A, x[:, None])[:, 0] + 2 * u * (np.abs(A) @ np.abs(x)
                                                                      + np.abs(b))
    gradient = A.T @ residual + loss.ridge * x
    error_gradient = (matmul_error_bound(A.T, residual[:, None])[:, 0]
                      + np.abs(A.T) @ error_residual + 2 * u * (np.abs(gradient)
                                                               + loss.ridge * np.abs(x)))
    v = x - step * gradient
    error_v = step * error_gradient * (1 + 4 * u) + 4 * u * (np.abs(x) + step * np.abs(gradient))
    mapped = reg.prox(v, step)
    prox_rounding = gamma(model.n + 4) * (np.abs(v) + step * reg.lam + float(
        np.linalg.norm(v)) + reg.radius)
    total_error = float(np.linalg.norm(error_v + prox_rounding))
    computed = float(np.linalg.norm(x - mapped))
    if not (math.isfinite(total_error) and math.isfinite(computed)):
        return None
    # A float 2-norm of n terms has relative error below (n + 2) u; 1e-10 covers n < 10^5.
    return round_up(Fraction(computed) * Fraction(1 + 1e-10) + Fraction(total_error)
                    * Fraction(1 + 1e-10) + Fraction(4 * u) * Fraction(float(np.linalg.norm(x))))


def local_rate_on_support(model, x: np.ndarray, support: list[int], margin) -> dict | None:
    r"""Return the local rate :math:`\min(\gamma\mu_S, 1)` near a strictly complementary minimizer.

    With g = lambda |x|_1 (or its nonnegative variants), strict
    complementarity keeps the support S and signs fixed near :math:`x^*`, so
    the dynamics is affine there with Jacobian
    :math:`\begin{pmatrix}-\gamma H_{SS} & -\gamma H_{SS^c}\\ 0 & -I\end{pmatrix}`.
    :math:`\mu_S` is proved by an exact check that :math:`H_{SS} - \mu_S I`
    is positive definite.
    """
    reg = model.regularizer
    if reg.name not in ("l1", "nonnegative_l1", "nonnegative") or margin is None or margin <= 0:
        return None
    if not support or len(support) > EXACT_SUPPORT_LIMIT or model.family != "proximal_gradient":
        return None
    quadratic = _ExactQuadratic(model.loss)
    block = quadratic.block(support, support)
    floats = np.array([[float(block[i, j]) for j in range(len(support))]
                       for i in range(len(support))])
    smallest = float(np.linalg.eigvalsh(floats)[0])
    proposal = Fraction(smallest * (1 - 1e-9))
    if proposal <= 0:
        return None
    shifted = flint.fmpq_mat(block)
    for k in range(len(support)):
        shifted[k, k] -= flint.fmpq(*Fraction(float(proposal)).as_integer_ratio())
    if not is_positive_definite_exact(shifted).passed:
        return None
    local = min(Fraction(model.step) * Fraction(float(proposal)), Fraction(1))
    return {"claim": "local exponential stability on the support, linearization rate "
                     f"min(gamma mu_S, 1) = {float(local):.6g}",
            "checked": "exact", "mu_S": float(proposal), "support_size": len(support),
            "condition": "strict complementarity margin "
                         f"{float(margin):.3g} > 0 (exact), H_SS - mu_S I positive definite"}
