r"""Smooth convex parts f of min f(x) + g(x): a least-squares loss or a symbolic expression.

:class:`QuadraticLoss` is :math:`f(x) = \frac12\|Ax - b\|^2 + \frac{\rho}{2}\|x\|^2`
(:math:`\rho` the ridge weight). :class:`SymbolicLoss` takes an expression in
``x0, ..., x{n-1}``, parsed by the whitelist parser, and derives its gradient
and Hessian with sympy. A symbolic f with a constant Hessian is a quadratic
and gets the same exact curvature bounds as :class:`QuadraticLoss`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy as sp

from ..errors import InvalidModelError
from ..models._expression import parse_expression

__all__ = ["QuadraticLoss", "SymbolicLoss", "MAX_SYMBOLIC_DIMENSION"]

logger = logging.getLogger(__name__)

# sympy differentiates n^2 Hessian entries; above this size that takes minutes.
MAX_SYMBOLIC_DIMENSION = 60
# Random points at which a non-quadratic symbolic Hessian is tested for convexity.
_CONVEXITY_SAMPLES = 64


@dataclass(frozen=True, eq=False)
class QuadraticLoss:
    r"""The least-squares loss :math:`\frac12\|Ax - b\|^2 + \frac{\rho}{2}\|x\|^2`.

    Attributes
    ----------
    A : ndarray, shape (m, n)
    b : ndarray, shape (m,)
    ridge : float
        :math:`\rho \ge 0`.
    """

    A: np.ndarray
    b: np.ndarray
    ridge: float = 0.0

    @property
    def n(self) -> int:
        return self.A.shape[1]

    @property
    def quadratic(self) -> bool:
        return True

    def value(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        residual = x @ self.A.T - self.b
        return 0.5 * (residual**2).sum(axis=-1) + 0.5 * self.ridge * (x**2).sum(axis=-1)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Return the gradient A^T (A x - b) + ridge x of each row of ``x``."""
        return (x @ self.A.T - self.b) @ self.A + self.ridge * x

    def linear_term(self) -> np.ndarray:
        """Return c = A^T b, so that the gradient is H x - c."""
        return self.A.T @ self.b

    def hessian(self) -> np.ndarray:
        return self.A.T @ self.A + self.ridge * np.eye(self.n)

    def to_dict(self) -> dict:
        record = {"kind": "least_squares", "rows": int(self.A.shape[0])}
        if self.ridge:
            record["ridge"] = self.ridge
        return record


@dataclass(eq=False)
class SymbolicLoss:
    r"""A smooth f given as an expression in ``x0, ..., x{n-1}``.

    The gradient and Hessian are derived by sympy. When the Hessian is
    constant, :attr:`hessian_exact` and :attr:`gradient_at_zero` hold it and
    :math:`\nabla f(0)` as exact rationals.
    """

    text: str
    n: int
    expression: sp.Expr = field(repr=False)
    symbols: tuple = field(repr=False)
    hessian_exact: sp.Matrix | None = field(default=None, repr=False)
    gradient_at_zero: sp.Matrix | None = field(default=None, repr=False)
    _value: object = field(default=None, repr=False)
    _gradient: object = field(default=None, repr=False)
    _hessian: object = field(default=None, repr=False)

    @property
    def quadratic(self) -> bool:
        return self.hessian_exact is not None

    def value(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        return np.asarray(self._value(*x.T), dtype=float) * np.ones(x.shape[0])

    def gradient(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        batch = np.atleast_2d(x)
        columns = [np.asarray(component, dtype=float) * np.ones(batch.shape[0])
                   for component in self._gradient(*batch.T)]
        return np.stack(columns, axis=-1).reshape(x.shape)

    def hessian_at(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._hessian(*np.asarray(x, dtype=float)), dtype=float)

    def hessian(self) -> np.ndarray:
        if self.hessian_exact is None:
            raise ValueError("the Hessian is not constant")
        return np.array(self.hessian_exact.tolist(), dtype=float)

    def linear_term(self) -> np.ndarray:
        """Return c with gradient H x - c (quadratic f only)."""
        return -np.array(self.gradient_at_zero.tolist(), dtype=float).ravel()

    def to_dict(self) -> dict:
        return {"kind": "symbolic", "f": self.text, "quadratic": self.quadratic}


def make_symbolic_loss(text: str, n: int, *, field_name: str = "model.f") -> SymbolicLoss:
    r"""Parse ``text`` in the variables ``x0..x{n-1}``, derive its gradient and Hessian, check convexity.

    Raises
    ------
    InvalidModelError
        If the expression is rejected by the parser, ``n`` exceeds
        :data:`MAX_SYMBOLIC_DIMENSION`, or f is not convex: a constant
        Hessian that is not positive semidefinite (decided exactly), or a
        Hessian with a negative eigenvalue at a sampled point.
    """
    if n > MAX_SYMBOLIC_DIMENSION:
        raise InvalidModelError("model.dimension", f"at most {MAX_SYMBOLIC_DIMENSION} for a "
                                "symbolic f", n, "Give f as a least-squares loss (A, b) instead.")
    symbols = tuple(sp.Symbol(f"x{i}", real=True) for i in range(n))
    expression = parse_expression(text, variables={str(s): s for s in symbols}, field=field_name)
    gradient = [sp.diff(expression, s) for s in symbols]
    hessian = sp.Matrix(n, n, lambda i, j: sp.diff(gradient[i], symbols[j]))
    loss = SymbolicLoss(text=text, n=n, expression=expression, symbols=symbols)
    loss._value = sp.lambdify(symbols, expression, "numpy")
    loss._gradient = sp.lambdify(symbols, gradient, "numpy")
    loss._hessian = sp.lambdify(symbols, hessian, "numpy")

    if all(entry.is_Rational for entry in hessian):
        loss.hessian_exact = hessian
        loss.gradient_at_zero = sp.Matrix([g.subs({s: 0 for s in symbols}) for g in gradient])
        if not _is_positive_semidefinite_exact(hessian):
            raise InvalidModelError(field_name, "a convex f (positive semidefinite Hessian)",
                                    text, "The Hessian has a negative eigenvalue (decided "
                                    "exactly); proximal gradient dynamics need a convex f.")
        return loss

    rng = np.random.default_rng(0)
    for point in rng.normal(scale=3.0, size=(_CONVEXITY_SAMPLES, n)):
        matrix = loss.hessian_at(point)
        if not np.all(np.isfinite(matrix)):
            continue
        smallest = float(np.linalg.eigvalsh((matrix + matrix.T) / 2)[0])
        if smallest < -1e-9 * max(1.0, float(np.abs(matrix).max())):
            raise InvalidModelError(field_name, "a convex f (positive semidefinite Hessian)", text,
                                    f"At x = {np.round(point, 4).tolist()} the Hessian has the "
                                    f"eigenvalue {smallest:.4g} < 0; proximal gradient dynamics "
                                    "need a convex f.")
    logger.info("f = %s has a nonconstant Hessian: convexity tested at %d points only",
                text, _CONVEXITY_SAMPLES)
    return loss


def _is_positive_semidefinite_exact(matrix: sp.Matrix) -> bool:
    """Decide exactly whether a symmetric rational matrix is positive semidefinite.

    The eigenvalues of a symmetric matrix are real, so by Descartes' rule of
    signs they are all nonnegative iff the coefficients of det(t I - H)
    alternate in sign (zeros allowed).
    """
    if matrix != matrix.T:
        return False
    import flint

    rational = flint.fmpq_mat([[flint.fmpq(int(sp.numer(e)), int(sp.denom(e))) for e in row]
                               for row in matrix.tolist()])
    coefficients = rational.charpoly().coeffs()  # constant term first
    n = matrix.shape[0]
    for k, coefficient in enumerate(coefficients):
        # The coefficient of t^k is (-1)^(n-k) e_{n-k}(eigenvalues).
        if coefficient * (-1) ** (n - k) < 0:
            return False
    return True


def exact_hessian(loss) -> list[list[Fraction]] | None:
    """Return the constant Hessian of a symbolic quadratic as Fractions, or None."""
    if getattr(loss, "hessian_exact", None) is None:
        return None
    return [[Fraction(int(sp.numer(e)), int(sp.denom(e))) for e in row]
            for row in loss.hessian_exact.tolist()]
