r"""The primitive :math:`G(s) = \int_0^s r\,\phi'(r)\,dr` of an activation.

Built-in activations get a closed form that is checked by differentiation.
Every other activation is integrated by sympy piece by piece, and an
unevaluated ``Integral`` remains where sympy finds no antiderivative.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy import special

from ..models import Activation
from ._quadrature import _numeric_primitive
from ._symbols import S, X, as_piecewise
from ._zero import vanishes

__all__ = ["Primitive", "derive_primitive", "integrate_primitive"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Primitive:
    r"""The primitive :math:`G(s) = \int_0^s r\,\phi'(r)\,dr` of one activation.

    Attributes
    ----------
    expression : sympy.Expr
        :math:`G` in the real symbol ``s``. It may contain an unevaluated
        ``Integral`` when sympy finds no closed form.
    method : str
        ``"closed form"`` (a built-in activation, verified by
        differentiation), ``"sympy integral"`` or ``"unevaluated integral"``.
    numeric : callable
        Vectorized numpy evaluation of :math:`G`: a stable closed form for
        built-ins, the lambdified ``expression`` otherwise, or adaptive
        quadrature when sympy left an ``Integral``.
    """

    expression: sp.Expr
    method: str
    numeric: Callable[[np.ndarray], np.ndarray]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Evaluate :math:`G` elementwise on an array."""
        values = np.asarray(values, dtype=float)
        with np.errstate(all="ignore"):
            result = np.asarray(self.numeric(values), dtype=float)
        return np.broadcast_to(result, values.shape).copy()


def _log_cosh(s):
    magnitude = np.abs(s)
    return magnitude + np.log1p(np.exp(-2.0 * magnitude)) - np.log(2.0)


def _softplus_primitive(s):
    # G(s) = s softplus(s) + Li2(-e^s) + pi^2/12, with scipy's
    # spence(z) = Li2(1 - z). For s > 0 the inversion formula
    # Li2(-e^s) = -pi^2/6 - s^2/2 - Li2(-e^-s) keeps e^s from overflowing.
    s = np.asarray(s, dtype=float)
    head = s * np.logaddexp(0.0, s)
    negative = head + special.spence(1.0 + np.exp(np.minimum(s, 0.0))) + np.pi**2 / 12
    positive = (head - s**2 / 2 - np.pi**2 / 12
                - special.spence(1.0 + np.exp(-np.maximum(s, 0.0))))
    return np.where(s > 0, positive, negative)


# name -> (G as sympy, G as a numerically stable numpy function). Each entry is
# verified by differentiation against the activation before use.
_CLOSED_FORMS = {
    "tanh": (S * sp.tanh(S) - sp.log(sp.cosh(S)),
             lambda s: s * np.tanh(s) - _log_cosh(s)),
    "sigmoid": (S / (1 + sp.exp(-S)) - sp.log(1 + sp.exp(S)) + sp.log(2),
                lambda s: s * special.expit(s) - np.logaddexp(0.0, s) + np.log(2.0)),
    "relu": (sp.Piecewise((0, S < 0), (S**2 / 2, True)),
             lambda s: 0.5 * np.maximum(s, 0.0) ** 2),
    "hardtanh": (sp.Piecewise((sp.Rational(1, 2), S < -1), (S**2 / 2, S <= 1),
                              (sp.Rational(1, 2), True)),
                 lambda s: 0.5 * np.clip(s, -1.0, 1.0) ** 2),
    "softplus": (S * sp.log(1 + sp.exp(S)) + sp.polylog(2, -sp.exp(S)) + sp.pi**2 / 12,
                 _softplus_primitive),
    "identity": (S**2 / 2, lambda s: 0.5 * np.asarray(s, dtype=float) ** 2),
}

_PRIMITIVE_CACHE: dict[tuple[str, str], Primitive] = {}


def derive_primitive(activation: Activation) -> Primitive:
    r"""Derive :math:`G(s) = \int_0^s r\,\phi'(r)\,dr` for an activation.

    Built-in activations get a closed form that is checked here:
    :math:`G(0) = 0` and :math:`G'(s) - s\,\phi'(s) = 0` identically (see
    :func:`vanishes`). Every other activation is integrated by sympy piece by
    piece (:func:`integrate_primitive`). When sympy finds no closed form, the
    primitive stays an unevaluated ``Integral`` and numeric values come from
    adaptive quadrature.
    """
    key = (activation.name, sp.srepr(activation.expression))
    if key in _PRIMITIVE_CACHE:
        return _PRIMITIVE_CACHE[key]
    primitive = _closed_form_primitive(activation)
    if primitive is None:
        expression = integrate_primitive(activation.expression)
        method = "unevaluated integral" if expression.has(sp.Integral) else "sympy integral"
        primitive = Primitive(expression, method, _numeric_primitive(expression, activation))
    _PRIMITIVE_CACHE[key] = primitive
    return primitive


def _closed_form_primitive(activation: Activation) -> Primitive | None:
    if activation.name not in _CLOSED_FORMS:
        return None
    expression, numeric = _CLOSED_FORMS[activation.name]
    slope = sp.diff(as_piecewise(activation.expression), X).subs(X, S)
    zero_at_origin = sp.simplify(expression.subs(S, 0)) == 0
    derivative_matches, _ = vanishes(sp.diff(expression, S) - S * slope)
    if not (zero_at_origin and derivative_matches):
        logger.info("closed-form primitive of %s does not match its expression; integrating",
                    activation.name)
        return None
    return Primitive(expression, "closed form", numeric)


def integrate_primitive(expression: sp.Expr) -> sp.Expr:
    r"""Integrate :math:`G(s) = \int_0^s r\,\phi'(r)\,dr` with sympy, piece by piece.

    The activation is split into smooth pieces on intervals. Each piece is
    integrated from its end nearest to 0, and the value there is carried over
    from the neighbouring piece, so the result is continuous. A piece on the
    negative half-line is integrated in :math:`t = -r \ge 0`, which keeps
    sympy's logarithms real (``log(1 + t)`` rather than ``log(r - 1)``).

    Returns
    -------
    sympy.Expr
        A Piecewise in ``s`` for piecewise activations, a single expression
        otherwise; it contains an unevaluated ``Integral`` where sympy finds
        no antiderivative.
    """
    pieces = _smooth_pieces(as_piecewise(expression))
    if len(pieces) == 1:
        slope = sp.diff(pieces[0][0], X)
        return _integral_from(slope, sp.Integer(0), sp.Interval(-sp.oo, sp.oo))

    values_at_ends = {}
    branches = {}
    order = sorted(range(len(pieces)), key=lambda index: _distance_from_origin(pieces[index][1]))
    for index in order:
        piece, interval = pieces[index]
        anchor = _anchor(interval)
        start_value = values_at_ends.get(anchor, sp.Integer(0))
        branch = start_value + _integral_from(sp.diff(piece, X), anchor, interval)
        branches[index] = branch
        for end in (interval.start, interval.end):
            if end.is_finite and end != anchor:
                values_at_ends[end] = _value_at(branch, end)
    return sp.Piecewise(*[(branches[index], S < interval.end) if interval.end.is_finite
                          else (branches[index], True)
                          for index, (_, interval) in enumerate(pieces)])


def _smooth_pieces(expression: sp.Expr) -> list[tuple[sp.Expr, sp.Interval]]:
    """Split a Piecewise into (expression, interval) pairs sorted along the line."""
    if not isinstance(expression, sp.Piecewise):
        return [(expression, sp.Interval(-sp.oo, sp.oo))]
    pieces = []
    remaining = sp.S.Reals
    for piece, condition in expression.args:
        domain = sp.Intersection(condition.as_set(), remaining)
        remaining = sp.Complement(remaining, domain)
        pieces.extend((piece, interval) for interval in _intervals(domain))
    return sorted(pieces, key=lambda pair: pair[1].start)


def _intervals(domain: sp.Set) -> list[sp.Interval]:
    if isinstance(domain, sp.Interval):
        return [domain]
    if isinstance(domain, sp.Union):
        return [part for argument in domain.args for part in _intervals(argument)]
    return []  # isolated points carry no mass in the integral


def _distance_from_origin(interval: sp.Interval) -> sp.Expr:
    if interval.contains(0) == sp.true or interval.start == 0 or interval.end == 0:
        return sp.Integer(0)
    return min(abs(interval.start), abs(interval.end))


def _anchor(interval: sp.Interval) -> sp.Expr:
    """Return the point of the closed interval nearest to 0."""
    if interval.start <= 0 <= interval.end:
        return sp.Integer(0)
    return interval.start if interval.start > 0 else interval.end


def _integral_from(slope: sp.Expr, anchor: sp.Expr, interval: sp.Interval) -> sp.Expr:
    r"""Return :math:`\int_{anchor}^s r\,\mathrm{slope}(r)\,dr` for ``s`` in the interval."""
    if interval.end <= 0:
        # r = -t with t >= 0: int_a^s r p(r) dr = int_{-a}^{-s} t p(-t) dt.
        t = sp.Symbol("t", nonnegative=True)
        antiderivative = _antiderivative(t * slope.subs(X, -t), t)
        upper, lower = -S, -anchor
    else:
        r = sp.Symbol("r", nonnegative=True) if interval.start >= 0 else sp.Symbol("r", real=True)
        t = r
        antiderivative = _antiderivative(r * slope.subs(X, r), r)
        upper, lower = S, anchor
    if antiderivative is None:
        r = sp.Symbol("r", real=True)
        return sp.Integral(r * slope.subs(X, r), (r, anchor, S))
    return antiderivative.subs(t, upper) - _value_at(antiderivative, lower, variable=t)


def _antiderivative(integrand: sp.Expr, variable: sp.Symbol) -> sp.Expr | None:
    result = sp.integrate(integrand, variable)
    if result.has(sp.Integral):
        return None
    return result


def _value_at(expression: sp.Expr, point: sp.Expr, *, variable: sp.Symbol = S) -> sp.Expr:
    value = expression.subs(variable, point)
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        value = sp.limit(expression, variable, point)
    return sp.simplify(value)
