r"""Activation functions with slope bounds derived by sympy.

An activation :math:`\phi:\mathbb{R}\to\mathbb{R}` enters every certificate
only through its slope interval

.. math:: d_{\min} = \inf_z \phi'(z), \qquad d_{\max} = \sup_z \phi'(z),

taken over the points where :math:`\phi` is differentiable. For a Lipschitz
:math:`\phi` every difference quotient lies in :math:`[d_{\min}, d_{\max}]`
(mean value theorem piece by piece), so the Jacobian of a network lies in the
slope box for all states, kinks included. The bounds are computed from the
expression by sympy (``function_range`` on each smooth piece), never typed
in, and then challenged by sampling the derivative numerically.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp
from scipy import special
from sympy.calculus.util import continuous_domain, function_range

from ..errors import ExpressionError, InvalidModelError
from ._expression import parse_expression

__all__ = ["Activation", "SlopeBounds", "make_activation", "BUILTIN_ACTIVATIONS"]

X = sp.Symbol("x", real=True)

# Sample grid that challenges the derived slope bounds numerically.
_SAMPLE_POINTS = np.concatenate([np.linspace(-60.0, 60.0, 24001), np.geomspace(1e-8, 1e3, 200),
                                 -np.geomspace(1e-8, 1e3, 200)])
_SAMPLE_TOLERANCE = 1e-7


@dataclass(frozen=True)
class SlopeBounds:
    r"""Exact slope interval of an activation.

    Attributes
    ----------
    lower, upper : sympy.Expr
        Exact :math:`\inf \phi'` and :math:`\sup \phi'` (finite).
    lower_attained, upper_attained : bool
        Whether some real :math:`z` has :math:`\phi'(z)` equal to the bound
        (one-sided derivatives at kinks count).
    """

    lower: sp.Expr
    upper: sp.Expr
    lower_attained: bool
    upper_attained: bool

    @property
    def lower_float(self) -> float:
        return float(self.outward()[0])

    @property
    def upper_float(self) -> float:
        return float(self.outward()[1])

    def outward(self) -> tuple[Fraction, Fraction]:
        """Return rationals ``(lo, hi)`` with ``lo <= lower`` and ``hi >= upper``.

        Rational bounds come back exactly; irrational ones are rounded
        outward to a multiple of 2**-60, which keeps every certificate that
        uses them sound.
        """
        return _round_rational(self.lower, down=True), _round_rational(self.upper, down=False)

    def inward(self) -> tuple[Fraction, Fraction]:
        """Return rationals ``(lo, hi)`` inside the exact interval.

        Refutation witnesses use these, so a witness slope is one the
        activation really has (or approaches).
        """
        return _round_rational(self.lower, down=False), _round_rational(self.upper, down=True)

    def to_dict(self) -> dict:
        return {
            "lower": float(self.lower),
            "upper": float(self.upper),
            "lower_exact": str(self.lower),
            "upper_exact": str(self.upper),
            "lower_attained": self.lower_attained,
            "upper_attained": self.upper_attained,
        }


def _round_rational(value: sp.Expr, *, down: bool) -> Fraction:
    value = sp.nsimplify(value) if value.is_Float else value
    if value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    scale = sp.Integer(2) ** 60
    scaled = sp.floor(value * scale) if down else sp.ceiling(value * scale)
    return Fraction(int(scaled), 2**60)


class Activation:
    r"""A scalar activation :math:`\phi` with exact slope bounds.

    Use :func:`make_activation` to build one from a name or an expression.

    Attributes
    ----------
    name : str
        The built-in name or the expression text.
    expression : sympy.Expr
        :math:`\phi(x)` in the real symbol ``x``.
    slope_bounds : SlopeBounds
        Derived from ``expression`` by sympy.
    """

    def __init__(self, name: str, expression: sp.Expr, value=None, derivative=None):
        self.name = name
        self.expression = expression
        with _time_limit(SLOPE_DERIVATION_SECONDS, name):
            self.slope_bounds = derive_slope_bounds(expression, name=name)
        self._value = value or _lambdify(expression)
        self._derivative = derivative or _lambdify(sp.diff(_as_piecewise(expression), X))
        self._slope_range = (float(self.slope_bounds.lower), float(self.slope_bounds.upper))
        self._clip_slopes = False
        _challenge_bounds(self)
        self._clip_slopes = derivative is None

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Evaluate :math:`\\phi` elementwise."""
        z = np.asarray(z, dtype=float)
        with np.errstate(all="ignore"):
            # Piecewise numerics evaluate every branch; discarded branches may overflow.
            values = np.asarray(self._value(z), dtype=float)
        return np.broadcast_to(values, z.shape).copy()

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """Evaluate :math:`\\phi'` elementwise (one-sided value at kinks)."""
        z = np.asarray(z, dtype=float)
        with np.errstate(all="ignore"):
            slopes = np.asarray(self._derivative(z), dtype=float)
        slopes = np.broadcast_to(slopes, z.shape).copy()
        if self._clip_slopes:
            # Only at kinks can evaluation leave the derived interval (see
            # _challenge_bounds); any value in it is a generalized slope there.
            np.clip(slopes, self._slope_range[0], self._slope_range[1], out=slopes)
        return slopes

    @property
    def is_increasing(self) -> bool:
        """Whether :math:`\\phi' \\ge 0` everywhere (exactly)."""
        return bool(self.slope_bounds.lower >= 0)

    def latex(self) -> str:
        return sp.latex(self.expression)

    def __repr__(self) -> str:
        bounds = self.slope_bounds
        return f"Activation({self.name!r}, slopes in [{bounds.lower}, {bounds.upper}])"


def _lambdify(expression: sp.Expr):
    # lambdify prints a sympy tree that ctdyn built itself (whitelisted
    # functions, the symbol x, exact numbers); no user text reaches it.
    return sp.lambdify(X, expression, modules=["numpy", "scipy"])


def _as_piecewise(expression: sp.Expr) -> sp.Expr:
    if expression.has(sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign, sp.Piecewise):
        return sp.piecewise_fold(expression.rewrite(sp.Piecewise))
    return expression


def _pieces(expression: sp.Expr) -> list[tuple[sp.Expr, sp.Set]]:
    """Split an expression into smooth pieces with disjoint domains covering R."""
    expression = _as_piecewise(expression)
    if not isinstance(expression, sp.Piecewise):
        return [(expression, sp.S.Reals)]
    pieces = []
    remaining = sp.S.Reals
    for piece, condition in expression.args:
        domain = sp.Intersection(condition.as_set(), remaining)
        if domain is not sp.S.EmptySet:
            pieces.append((piece, domain))
        remaining = sp.Complement(remaining, domain)
    if remaining is not sp.S.EmptySet:
        raise ValueError(f"piecewise expression undefined on {remaining}")
    return pieces


def _intervals(domain: sp.Set) -> list[sp.Interval]:
    if isinstance(domain, sp.Interval):
        return [domain]
    if isinstance(domain, sp.Union):
        return [part for arg in domain.args for part in _intervals(arg)]
    if isinstance(domain, sp.FiniteSet):
        return []  # isolated points carry no slope
    raise ValueError(f"cannot split domain {domain} into intervals")


# sympy's function_range can run for minutes on a sum of shifted sigmoids
# ("sigmoid(x)-sigmoid(x-5)" took 387 s); past this limit the activation is
# rejected instead. The limit needs SIGALRM, so it applies on POSIX in the
# main thread, which is where the command line runs.
SLOPE_DERIVATION_SECONDS = 30.0


class _DerivationTimeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float, name: str):
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _DerivationTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _DerivationTimeout:
        raise ExpressionError("activation", f"an activation whose slope range sympy derives "
                              f"within {seconds:g} s", name,
                              "Simplify the expression, or use a built-in activation.") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def derive_slope_bounds(expression: sp.Expr, *, name: str = "activation") -> SlopeBounds:
    r"""Derive :math:`\inf \phi'` and :math:`\sup \phi'` over the reals with sympy.

    Raises
    ------
    ExpressionError
        If the activation is not defined and continuous on all of R, if its
        slope is unbounded, or if sympy cannot find the range of the slope.
    """
    field = "activation"
    if expression.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise ExpressionError(field, "a finite expression", name,
                              "It contains a division by zero or an infinite value.")
    if expression.free_symbols - {X}:
        raise ExpressionError(field, "an expression in x only", name,
                              "Replace other names by numbers.")
    try:
        pieces = _pieces(expression)
        ranges: list[sp.Set] = []
        for piece, domain in pieces:
            for interval in _intervals(domain):
                if not _is_continuous_on(piece, interval):
                    raise ExpressionError(field, "a function defined and continuous on all reals",
                                          name, f"It is undefined or discontinuous on part of {interval}.")
                ranges.append(function_range(sp.diff(piece, X), X, interval))
        _check_continuity(expression, pieces, name)
    except ExpressionError:
        raise
    except (NotImplementedError, ValueError, TypeError) as error:
        raise ExpressionError(field, "an activation whose slope range sympy can derive", name,
                              "Use a built-in activation or a simpler expression "
                              f"(sympy: {error}).") from error

    slope_range = sp.Union(*ranges)
    lower, upper = slope_range.inf, slope_range.sup
    if not (lower.is_finite and upper.is_finite):
        raise ExpressionError(
            field, "an activation with bounded slope", name,
            f"Its slope ranges over [{lower}, {upper}]; a Lipschitz activation is needed "
            "for contraction certificates.")
    return SlopeBounds(
        lower=sp.nsimplify(lower) if lower.is_Float else lower,
        upper=sp.nsimplify(upper) if upper.is_Float else upper,
        lower_attained=bool(slope_range.contains(lower) == sp.true),
        upper_attained=bool(slope_range.contains(upper) == sp.true),
    )


# Functions of the whitelist that are continuous on all of R.
_CONTINUOUS_FUNCTIONS = (sp.exp, sp.tanh, sp.sinh, sp.cosh, sp.sin, sp.cos, sp.atan, sp.erf,
                         sp.Abs, sp.Max, sp.Min)


def _is_continuous_on(expression: sp.Expr, interval: sp.Interval) -> bool:
    """Decide whether a smooth piece is defined and continuous on an interval.

    sympy's ``continuous_domain`` decides most cases; for functions it does
    not know (it raises for ``erf``) each node of the tree is checked: a
    whitelisted continuous function of continuous arguments is continuous,
    a quotient needs a denominator without zeros, a root or a logarithm a
    positive argument.
    """
    try:
        return continuous_domain(expression, X, interval) == interval
    except NotImplementedError:
        pass
    if expression.is_number or expression == X:
        return True
    if isinstance(expression, (sp.Add, sp.Mul)) or isinstance(expression, _CONTINUOUS_FUNCTIONS):
        return all(_is_continuous_on(argument, interval) for argument in expression.args)
    if isinstance(expression, sp.Pow):
        base, exponent = expression.args
        if not _is_continuous_on(base, interval):
            return False
        if exponent.is_integer and exponent >= 0:
            return True
        base_range = function_range(base, X, interval)
        return bool(base_range.inf > 0) if not exponent.is_integer else \
            sp.S.Zero not in base_range
    if isinstance(expression, sp.log):
        argument = expression.args[0]
        return _is_continuous_on(argument, interval) and bool(
            function_range(argument, X, interval).inf > 0)
    return False


def _check_continuity(expression: sp.Expr, pieces, name: str) -> None:
    """Reject an activation with a jump, because a jump is an infinite slope.

    sympy's ``limit`` of a whole Piecewise is unreliable at the break points
    (sympy 1.14 returns 1 from both sides for sign-like pieces), so each
    smooth piece is taken to the break point on its own side.
    """
    one_sided: dict[sp.Expr, list[sp.Expr]] = {}
    for piece, domain in pieces:
        for interval in _intervals(domain):
            if interval.start.is_finite:
                one_sided.setdefault(interval.start, []).append(
                    sp.limit(piece, X, interval.start, "+"))
            if interval.end.is_finite:
                one_sided.setdefault(interval.end, []).append(
                    sp.limit(piece, X, interval.end, "-"))
    for point, values in one_sided.items():
        if any(sp.simplify(value - values[0]) != 0 for value in values[1:]):
            raise ExpressionError("activation", "a continuous function", name,
                                  f"It takes the values {sorted(set(values), key=str)} next to "
                                  f"x = {point}; a jump is an unbounded slope.")


def _challenge_bounds(activation: Activation) -> None:
    """Sample the numeric derivative; a slope outside the derived bounds is a bug."""
    slopes = activation.derivative(_SAMPLE_POINTS)
    # Beyond |x| = 60 a lambdified expression such as exp(x)/(1 + exp(x)) may
    # overflow to NaN; that is a limit of evaluation, not of the slope bounds.
    finite = np.isfinite(slopes) | (np.abs(_SAMPLE_POINTS) > 60.0)
    slopes = np.where(np.isfinite(slopes), slopes, 0.5 * (float(activation.slope_bounds.lower)
                                                          + float(activation.slope_bounds.upper)))
    lower = float(activation.slope_bounds.lower)
    upper = float(activation.slope_bounds.upper)
    scale = _SAMPLE_TOLERANCE * max(1.0, abs(lower), abs(upper))
    outside = finite & ((slopes < lower - scale) | (slopes > upper + scale))
    if np.any(outside):
        # At a kink such as x = 0 in min(x, 0) + 0.5*max(x, 0) the lambdified
        # derivative may return neither one-sided value (0 there, from
        # Heaviside(0)). A point is such a kink, not a wrong bound, when both
        # one-sided difference quotients lie in the interval.
        points = _SAMPLE_POINTS[outside]
        step = 1e-7 * np.maximum(1.0, np.abs(points))
        with np.errstate(all="ignore"):
            right = (activation(points + step) - activation(points)) / step
            left = (activation(points) - activation(points - step)) / step
        kink = np.all([(quotient >= lower - 1e-4 * max(1.0, abs(lower)))
                       & (quotient <= upper + 1e-4 * max(1.0, abs(upper)))
                       for quotient in (left, right)], axis=0)
        outside[np.flatnonzero(outside)[kink]] = False
    if np.any(outside) or not np.all(finite):
        bad = _SAMPLE_POINTS[outside | ~finite][0]
        raise ExpressionError(
            "activation", f"a slope in the derived interval [{lower:.6g}, {upper:.6g}]",
            activation.name,
            f"At x = {bad:.6g} the slope evaluates to {activation.derivative(np.array([bad]))[0]:.6g}; "
            "sympy's derivation disagrees with evaluation, so ctdyn does not use this activation.")


def _tanh_derivative(z):
    return 1.0 - np.tanh(z) ** 2


def _relu_derivative(z):
    return (np.asarray(z) > 0).astype(float)


def _hardtanh_derivative(z):
    return (np.abs(np.asarray(z)) < 1).astype(float)


# name -> (expression, numeric value, numeric derivative). Closed-form numerics
# are faster and more accurate than lambdified ones; tests compare both.
BUILTIN_ACTIVATIONS = {
    "tanh": (sp.tanh(X), np.tanh, _tanh_derivative),
    "sigmoid": (1 / (1 + sp.exp(-X)), special.expit,
                lambda z: special.expit(z) * special.expit(-z)),
    "relu": (sp.Piecewise((0, X < 0), (X, True)), lambda z: np.maximum(z, 0.0), _relu_derivative),
    "hardtanh": (sp.Piecewise((-1, X < -1), (X, X <= 1), (1, True)),
                 lambda z: np.clip(z, -1.0, 1.0), _hardtanh_derivative),
    "softplus": (sp.log(1 + sp.exp(X)), lambda z: np.logaddexp(0.0, z), special.expit),
    "identity": (X, lambda z: np.asarray(z, dtype=float), lambda z: np.ones_like(z, dtype=float)),
}
_ALIASES = {"logistic": "sigmoid", "saturated_linear": "hardtanh", "linear": "identity"}

_CACHE: dict[str, Activation] = {}


def make_activation(spec: str | Activation, *, field: str = "activation") -> Activation:
    """Build an activation from a built-in name or an expression in ``x``.

    Parameters
    ----------
    spec : str or Activation
        ``"tanh"``, ``"sigmoid"`` (logistic), ``"relu"``, ``"hardtanh"``
        (saturated linear), ``"softplus"``, ``"identity"``, or an expression
        such as ``"x/(1+abs(x))"``, parsed by the whitelist parser.
    """
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str):
        raise InvalidModelError(field, "a built-in name or an expression string", spec,
                                "Use for example \"tanh\" or \"x/(1+abs(x))\".")
    key = spec.strip()
    key = _ALIASES.get(key, key)
    if key in _CACHE:
        return _CACHE[key]
    if key in BUILTIN_ACTIVATIONS:
        expression, value, derivative = BUILTIN_ACTIVATIONS[key]
        activation = Activation(key, expression, value, derivative)
    else:
        expression = parse_expression(key, variables={"x": X}, field=field)
        if not expression.has(X):
            raise ExpressionError(field, "an expression in x, or one of "
                                  + ", ".join(sorted(BUILTIN_ACTIVATIONS)), spec,
                                  "Check the spelling of the activation name.")
        activation = Activation(key, expression)
    _CACHE[key] = activation
    return activation


