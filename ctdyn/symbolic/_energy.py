r"""Energy functions of symmetric Hopfield and firing-rate networks.

Hopfield network :math:`\dot x = -C x + W \Phi(x) + u` with
:math:`C = \operatorname{diag}(c) > 0` and symmetric :math:`W`. The energy
(Hopfield 1984, PNAS 81:3088, eq. 7; Cohen and Grossberg 1983, IEEE Trans.
SMC 13:815), written in the state :math:`x` rather than in the rates
:math:`V = \Phi(x)`, is

.. math::

    E(x) = -\tfrac12 \Phi(x)^T W \Phi(x) - u^T \Phi(x) + \sum_i c_i G(x_i),
    \qquad G(s) = \int_0^s r\,\phi'(r)\,dr .

Because :math:`G'(s) = s\,\phi'(s)` and :math:`W = W^T`,

.. math::

    \nabla E(x) = -\operatorname{diag}(\phi'(x))\, f(x), \qquad
    \dot E = \nabla E^T f = -\sum_i \phi'(x_i)\, f_i(x)^2 \le 0

whenever :math:`\phi' \ge 0`. The inequality is non-strict: the energy never
increases, and it is constant exactly on trajectories where every term
vanishes.

Firing-rate network :math:`\dot x = -c x + \Phi(W x + u)` with symmetric
:math:`W` and a uniform leak :math:`c`: the variable :math:`z = W x + u`
obeys :math:`\dot z = -c z + W \Phi(z) + c u`, a Hopfield network with leak
:math:`c` and input :math:`c u`, so :math:`E(x) = E_H(W x + u)` and

.. math::

    \nabla E(x) = -W \operatorname{diag}(\phi'(z))\, W f(x), \qquad
    \dot E = -\sum_i \phi'(z_i)\, \big((W f(x))_i\big)^2 \le 0 .

With a non-uniform leak, :math:`W C x` is not a function of :math:`z` of the
diagonal form above, so no energy of this form exists and
:func:`energy_function` rejects the model.

For piecewise-smooth activations (ReLU, hardtanh) the identities hold on
each smooth piece. Along a trajectory :math:`t \mapsto E(x(t))` is locally
Lipschitz, so :math:`\dot E \le 0` almost everywhere still makes it
non-increasing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.integrate
import sympy as sp
from scipy import special

from ..errors import InvalidModelError
from ..models import MAX_SYMBOLIC_SIZE, Activation, FiringRateNetwork, HopfieldNetwork

__all__ = ["EnergyFunction", "IdentityProof", "Primitive", "energy_function",
           "prove_energy_identity", "derive_primitive", "integrate_primitive", "vanishes",
           "weight_asymmetry"]

logger = logging.getLogger(__name__)

# The activation's variable (equal to ctdyn.models' symbol: same name and
# assumptions) and the argument of the primitive G.
X = sp.Symbol("x", real=True)
S = sp.Symbol("s", real=True)

# Relative tolerance of the numeric challenge of a lambdified primitive.
_PRIMITIVE_TOLERANCE = 1e-8
# The small probes catch a closed form whose terms of order s cancel to a G of
# order s**4 (phi(s) = s - tanh(s)): the agreement is relative there too.
_PRIMITIVE_PROBES = np.array([-7.0, -3.0, -1.5, -1.0, -0.4, -1e-2, -1e-3, 0.0, 1e-3, 1e-2, 0.3,
                              1.0, 1.7, 4.0, 9.0])


# -- zero tests ------------------------------------------------------------


def vanishes(expression: sp.Expr) -> tuple[bool, str]:
    r"""Decide whether an expression is identically zero; return the deciding step.

    ``cancel`` comes first. It puts the expression over one denominator and
    treats ``tanh(x0)`` and the like as independent generators, so it never
    reports a false zero. ``expand`` alone reports false non-zeros on
    rational functions. ``cancel`` leaves ``Piecewise`` objects alone, so
    each distinct one is first replaced by a fresh symbol, which is sound:
    a rational function that is zero in free symbols stays zero at any
    values. What remains (typically ``sinh/cosh - tanh`` or two Piecewise
    forms of one function of a single variable) goes through
    ``expand_func``, a rewrite in ``exp``, a Piecewise fold checked branch by
    branch, and finally ``simplify``.

    Returns
    -------
    (bool, str)
        Whether zero was shown, and the name of the step that showed it.
        ``False`` means "not shown", not "shown non-zero".
    """
    generators = {piece: sp.Dummy(f"piece{index}")
                  for index, piece in enumerate(expression.atoms(sp.Piecewise))}
    remainder = sp.cancel(expression.xreplace(generators))
    if remainder == 0:
        return True, "cancel"
    remainder = remainder.xreplace({symbol: piece for piece, symbol in generators.items()})
    if remainder.has(sp.Piecewise):
        return _piecewise_vanishes(remainder)
    return _smooth_vanishes(remainder)


def _smooth_vanishes(expression: sp.Expr) -> tuple[bool, str]:
    if sp.cancel(sp.expand_func(expression)) == 0:
        return True, "expand_func"
    if sp.cancel(expression.rewrite(sp.exp)) == 0:
        return True, "rewrite as exp"
    if sp.simplify(expression) == 0:
        return True, "simplify"
    return False, "not shown by cancel or simplify"


def _piecewise_vanishes(expression: sp.Expr) -> tuple[bool, str]:
    folded = sp.piecewise_fold(expression)
    if not isinstance(folded, sp.Piecewise):
        return _smooth_vanishes(folded)
    for branch, condition in folded.args:
        if _is_unsatisfiable(condition):
            continue
        zero, step = vanishes(branch)
        if not zero:
            return False, f"branch {condition} not shown zero ({step})"
    return True, "piecewise_fold"


def _is_unsatisfiable(condition) -> bool:
    if condition == sp.false:
        return True
    if len(condition.free_symbols) != 1:
        return False  # multivariate: check the branch rather than guess
    try:
        return condition.as_set() == sp.S.EmptySet
    except (NotImplementedError, TypeError, ValueError):
        return False


# -- the primitive G ---------------------------------------------------------


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


def as_piecewise(expression: sp.Expr) -> sp.Expr:
    """Rewrite Abs, Max, Min, sign and Heaviside as one folded Piecewise."""
    if expression.has(sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign, sp.Piecewise):
        return sp.piecewise_fold(expression.rewrite(sp.Piecewise))
    return expression


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


def _numeric_primitive(expression: sp.Expr, activation: Activation):
    """Return a numpy function for G: lambdified when it agrees with quadrature."""
    quadrature = _quadrature_primitive(activation)
    if expression.has(sp.Integral):
        return quadrature
    try:
        # lambdify prints a sympy tree that ctdyn derived itself; no user text
        # reaches it.
        function = sp.lambdify(S, expression, modules=["numpy", "scipy"])
        with np.errstate(all="ignore"):
            values = np.asarray(function(_PRIMITIVE_PROBES), dtype=float)
    except (NameError, TypeError, ValueError, AttributeError) as error:
        logger.info("lambdify failed for G(s) = %s (%s); using quadrature", expression, error)
        return quadrature
    reference = quadrature(_PRIMITIVE_PROBES)
    scale = np.abs(reference) + np.finfo(float).tiny
    if values.shape != reference.shape or not np.all(np.abs(values - reference)
                                                     <= _PRIMITIVE_TOLERANCE * scale):
        # G' = s phi'(s) is proved symbolically elsewhere, so a mismatch here is
        # cancellation in floating point (log(1 + tanh(4 s)) for s << 0), not a
        # wrong G; quadrature is accurate, so this is no warning.
        logger.info("the closed form G(s) = %s of activation %r loses accuracy in floating "
                    "point; evaluating G by quadrature", expression, activation.name)
        return quadrature
    return function


def _quadrature_primitive(activation: Activation):
    r"""Return :math:`G(s) = s^2 \int_0^1 t\,\phi'(s t)\,dt`, by adaptive quadrature."""

    def evaluate(values):
        values = np.asarray(values, dtype=float)
        flat = values.ravel()
        result, _ = scipy.integrate.quad_vec(
            lambda t: flat**2 * t * activation.derivative(flat * t), 0.0, 1.0, epsrel=1e-12,
            norm="max")
        return result.reshape(values.shape)

    return evaluate


# -- printing helpers --------------------------------------------------------


class PhiPrime(sp.Function):
    r"""The activation slope :math:`\phi'` as an undefined function, for printing."""

    def _sympystr(self, printer):
        return f"phi'({printer._print(self.args[0])})"

    def _latex(self, printer, exp=None):
        base = rf"\phi'\left({printer._print(self.args[0])}\right)"
        return base if exp is None else rf"{base}^{{{exp}}}"


PHI = sp.Function("phi")
G_FUNCTION = sp.Function("G")


def _decimal_rational(value: float) -> sp.Rational:
    # The shortest decimal of the float (0.2 as 1/5), as the networks'
    # symbolic methods write their weights.
    return sp.Rational(repr(float(value)))


# -- the energy function -----------------------------------------------------


def energy_function(network: HopfieldNetwork | FiringRateNetwork) -> "EnergyFunction":
    r"""Build the energy of a symmetric Hopfield or firing-rate network.

    Parameters
    ----------
    network : HopfieldNetwork or FiringRateNetwork
        ``weights`` must equal their transpose exactly (float by float). A
        firing-rate network must have a uniform leak :math:`C = cI`.

    Returns
    -------
    EnergyFunction

    Raises
    ------
    InvalidModelError
        If ``network`` is of another type, if :math:`W \ne W^T`, or if a
        firing-rate network has a non-uniform leak. No energy of the form in
        this module's docstring exists for those models.
    """
    validate_energy_model(network)
    return EnergyFunction(network)


def validate_energy_model(network) -> None:
    """Raise InvalidModelError unless the network has an energy of Hopfield form."""
    if not isinstance(network, (HopfieldNetwork, FiringRateNetwork)):
        raise InvalidModelError("network", "a HopfieldNetwork or FiringRateNetwork",
                                type(network).__name__,
                                "Build the model with ctdyn.models.")
    if not network.is_symmetric:
        size, row, column = weight_asymmetry(network)
        raise InvalidModelError(
            "weights", "a symmetric matrix (W equal to W.T entry by entry)",
            f"|w_{row},{column} - w_{column},{row}| = {size:.6g} at (i, j) = ({row}, {column})",
            "An energy of Hopfield form needs symmetric weights; symmetrize W or use a "
            "contraction certificate.")
    if isinstance(network, FiringRateNetwork) and not network.has_uniform_leak:
        raise InvalidModelError(
            "leak", "a uniform leak (one value for every neuron) for a firing-rate network",
            f"leak values from {network.leak.min():.6g} to {network.leak.max():.6g}",
            "With z = W x + u the term W C x is not diagonal in z, so no energy of Hopfield "
            "form exists; use a uniform leak or a contraction certificate.")


def weight_asymmetry(network) -> tuple[float, int, int]:
    r"""Return :math:`\max |w_{ij} - w_{ji}|` and the first ``(i, j)`` where it occurs."""
    difference = network.weights - network.weights.T
    if network.is_sparse:
        difference = difference.tocoo()
        if difference.nnz == 0:
            return 0.0, 0, 0
        magnitudes = np.abs(difference.data)
        index = int(np.argmax(magnitudes))
        return float(magnitudes[index]), int(difference.row[index]), int(difference.col[index])
    magnitudes = np.abs(difference)
    row, column = np.unravel_index(int(np.argmax(magnitudes)), magnitudes.shape)
    return float(magnitudes[row, column]), int(row), int(column)


class EnergyFunction:
    r"""The energy :math:`E`, its gradient and :math:`\dot E` of one network.

    Build it with :func:`energy_function`. Formulas are in this module's
    docstring; :func:`prove_energy_identity` proves the gradient identity.

    Attributes
    ----------
    network : HopfieldNetwork or FiringRateNetwork
    primitive : Primitive
        :math:`G(s) = \int_0^s r\,\phi'(r)\,dr`, derived by sympy.
    structured_energy, structured_time_derivative : sympy.Expr
        :math:`E` and :math:`\dot E` as sums up to ``n - 1`` over the
        ``IndexedBase`` symbols ``x``, ``W``, ``u`` and ``c``. Firing-rate
        networks use ``z = W x + u`` in place of ``x``. The size of these
        expressions does not grow with ``n``.
        ``phi``, ``phi'`` and ``G`` appear as undefined functions, defined in
        :attr:`definitions`.
    structured_gradient : sympy.Expr
        Component :math:`\partial E / \partial x_i` in the free index ``i``.
    """

    def __init__(self, network: HopfieldNetwork | FiringRateNetwork):
        self.network = network
        self.n = network.n
        self.is_hopfield = isinstance(network, HopfieldNetwork)
        self.primitive = derive_primitive(network.activation)
        self.slope_expression = sp.diff(network.activation.expression, X)
        (self.structured_energy, self.structured_gradient,
         self.structured_time_derivative) = _structured_forms(self.n, self.is_hopfield)

    @property
    def definitions(self) -> dict[str, sp.Lambda]:
        """``phi``, ``phi'`` and ``G`` as sympy Lambdas of one variable."""
        return {
            "phi": sp.Lambda(S, self.network.activation.expression.subs(X, S)),
            "phi'": sp.Lambda(S, self.slope_expression.subs(X, S)),
            "G": sp.Lambda(S, self.primitive.expression),
        }

    # -- concrete sympy forms (n <= MAX_SYMBOLIC_SIZE) ----------------------

    @property
    def symbols(self) -> sp.Matrix:
        """The state symbols ``x0, ..., x{n-1}``."""
        return self.network.symbols()

    @cached_property
    def _concrete(self) -> "_ConcreteEnergy":
        if self.n > MAX_SYMBOLIC_SIZE:
            raise InvalidModelError(
                "n", f"at most {MAX_SYMBOLIC_SIZE} neurons for the expanded sympy energy",
                self.n, "Use structured_energy, structured_gradient and "
                "structured_time_derivative, which keep sums over indices at any size.")
        return build_concrete_energy(self.network, self.network.activation.expression,
                                     self.primitive.expression)

    @property
    def expression(self) -> sp.Expr:
        """:math:`E` in the states ``x0, ..., x{n-1}`` with exact rational weights."""
        return self._concrete.energy_in_states

    @property
    def gradient(self) -> sp.Matrix:
        r""":math:`\nabla E` as a column: :math:`-\operatorname{diag}(\phi'(x)) f(x)`
        for Hopfield, :math:`-W \operatorname{diag}(\phi'(z)) W f(x)` for
        firing-rate networks (proved equal to the derivative of
        :attr:`expression` by :func:`prove_energy_identity`)."""
        return self._concrete.gradient

    @property
    def time_derivative(self) -> sp.Expr:
        r""":math:`\dot E = -\sum_i \phi'(x_i) f_i(x)^2` (Hopfield) or
        :math:`-\sum_i \phi'(z_i) ((W f(x))_i)^2` (firing-rate)."""
        return self._concrete.time_derivative

    # -- strings -------------------------------------------------------------

    def plain(self, *, structured: bool | None = None) -> str:
        """Return E, its gradient and dE/dt as plain text, one per line.

        Parameters
        ----------
        structured : bool, optional
            Write sums over indices instead of the expanded network. Default:
            structured when n > ``MAX_SYMBOLIC_SIZE``.
        """
        return "\n".join(self._lines(sp.sstr, structured, plain=True))

    def latex(self, *, structured: bool | None = None) -> str:
        """Return E, its gradient and dE/dt as a LaTeX ``aligned`` block."""
        lines = self._lines(sp.latex, structured, plain=False)
        body = " \\\\\n".join(lines)
        return "\\begin{aligned}\n" + body + "\n\\end{aligned}"

    def _lines(self, printer, structured: bool | None, *, plain: bool) -> list[str]:
        if structured is None:
            structured = self.n > MAX_SYMBOLIC_SIZE
        if plain:
            names = ("E(x) = ", "dE/dx[i] = ", "dE/dt = ", "where ")
        else:
            names = ("E(x) &= ", r"\frac{\partial E}{\partial x_i} &= ",
                     r"\frac{dE}{dt} &= ", r"&\text{where } ")
        if structured:
            lines = [names[0] + printer(self.structured_energy),
                     names[1] + printer(self.structured_gradient),
                     names[2] + printer(self.structured_time_derivative)]
        else:
            concrete = self._concrete
            lines = [names[0] + printer(concrete.energy_display)]
            lines += [_component_name(index, plain) + printer(component)
                      for index, component in enumerate(concrete.gradient_display)]
            lines.append(names[2] + printer(concrete.time_derivative_display))
        lines.append(names[3] + self._definitions_text(printer, structured, plain))
        return lines

    def _definitions_text(self, printer, structured: bool, plain: bool) -> str:
        definitions = self.definitions
        parts = [f"{name}(s) = {printer(definitions[name].expr)}" if plain
                 else rf"{_latex_name(name)}(s) = {printer(definitions[name].expr)}"
                 for name in ("phi", "phi'", "G")]
        if not self.is_hopfield:
            if structured:
                parts.append("z = W x + u")
            else:
                parts += [f"{symbol} = {printer(value)}"
                          for symbol, value in self._concrete.substitution.items()]
            parts.append(f"c = {printer(_decimal_rational(self.network.leak[0]))}")
        return ", ".join(parts)

    # -- numeric ---------------------------------------------------------------

    def value(self, x) -> np.ndarray | float:
        """Evaluate E for one state ``(n,)`` or a batch ``(batch, n)``."""
        states, single = _as_states(x, self.n)
        values = self._hopfield_energy(*self._hopfield_coordinates(states))
        return float(values[0]) if single else values

    def gradient_value(self, x) -> np.ndarray:
        """Evaluate the gradient of E for one state or a batch."""
        states, single = _as_states(x, self.n)
        flow = self.network.vector_field(states)
        slopes = self.network.slopes(states)
        if self.is_hopfield:
            gradients = -slopes * flow
        else:
            gradients = -_matvec(self.network.weights, slopes * _matvec(self.network.weights, flow))
        return gradients[0] if single else gradients

    def time_derivative_value(self, x) -> np.ndarray | float:
        r"""Evaluate :math:`\dot E` along the flow for one state or a batch."""
        states, single = _as_states(x, self.n)
        flow = self.network.vector_field(states)
        if not self.is_hopfield:
            flow = _matvec(self.network.weights, flow)
        values = -np.sum(self.network.slopes(states) * flow**2, axis=1)
        return float(values[0]) if single else values

    def _hopfield_coordinates(self, states: np.ndarray):
        """Return the Hopfield state, leak and input whose energy equals E."""
        network = self.network
        if self.is_hopfield:
            return states, network.leak, network.input
        preactivation = _matvec(network.weights, states) + network.input[None, :]
        return preactivation, network.leak, network.leak * network.input

    def _hopfield_energy(self, states: np.ndarray, leak: np.ndarray, inputs: np.ndarray):
        rates = self.network.activation(states)
        quadratic = np.sum(rates * _matvec(self.network.weights, rates), axis=1)
        return (-0.5 * quadratic - rates @ inputs
                + np.sum(leak[None, :] * self.primitive(states), axis=1))

    def __repr__(self) -> str:
        return (f"EnergyFunction({type(self.network).__name__}, n={self.n}, "
                f"activation={self.network.activation.name!r}, G by {self.primitive.method})")


def _as_states(x, n: int) -> tuple[np.ndarray, bool]:
    states = np.asarray(x, dtype=float)
    single = states.ndim == 1
    states = np.atleast_2d(states)
    if states.ndim != 2 or states.shape[1] != n:
        raise InvalidModelError("x", f"a state of shape ({n},) or (batch, {n})",
                                f"shape {np.shape(x)}", "Pass states with n entries each.")
    return states, single


def _matvec(weights, states: np.ndarray) -> np.ndarray:
    """Return ``W x`` for each row ``x`` of ``states``, dense or sparse ``W``."""
    return np.asarray((weights @ states.T).T)


def _component_name(index: int, plain: bool) -> str:
    return f"dE/dx{index} = " if plain else rf"\frac{{\partial E}}{{\partial x_{{{index}}}}} &= "


def _latex_name(name: str) -> str:
    return {"phi": r"\phi", "phi'": r"\phi'", "G": "G"}[name]


# -- sympy forms ---------------------------------------------------------------


def _structured_forms(n: int, is_hopfield: bool) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Return E, dE/dx_i and dE/dt as sums over indices up to n - 1."""
    i, j, k = sp.symbols("i j k", integer=True)
    weights = sp.IndexedBase("W")
    inputs = sp.IndexedBase("u")
    last = n - 1
    if is_hopfield:
        state = sp.IndexedBase("x")
        leak = sp.IndexedBase("c")

        def leak_of(row):
            return leak[row]

        def input_of(row):
            return inputs[row]
    else:
        state = sp.IndexedBase("z")
        uniform_leak = sp.Symbol("c", positive=True)

        def leak_of(row):
            return uniform_leak

        def input_of(row):
            return uniform_leak * inputs[row]

    def drive(row, inner):
        # f_row(x) for Hopfield, (W f(x))_row = -c z_row + (W phi(z))_row + c u_row otherwise.
        return (-leak_of(row) * state[row]
                + sp.Sum(weights[row, inner] * PHI(state[inner]), (inner, 0, last)) + input_of(row))

    energy = (-sp.Sum(weights[i, j] * PHI(state[i]) * PHI(state[j]), (i, 0, last), (j, 0, last)) / 2
              - sp.Sum(input_of(i) * PHI(state[i]), (i, 0, last))
              + sp.Sum(leak_of(i) * G_FUNCTION(state[i]), (i, 0, last)))
    if is_hopfield:
        gradient = -PhiPrime(state[i]) * drive(i, j)
    else:
        gradient = -sp.Sum(weights[i, j] * PhiPrime(state[j]) * drive(j, k), (j, 0, last))
    time_derivative = -sp.Sum(PhiPrime(state[i]) * drive(i, j) ** 2, (i, 0, last))
    return energy, gradient, time_derivative


@dataclass(frozen=True)
class HopfieldParts:
    r"""Energy, drive and slopes of a Hopfield network in given state symbols.

    ``drive`` is :math:`f(x) = -C x + W \Phi(x) + u`. The energy reads only
    the upper triangle of ``weights``, so it is the energy of the symmetric
    matrix with that triangle. The drive reads whole rows.
    """

    energy: sp.Expr
    drive: list
    slopes: list


def hopfield_parts(states, weights: sp.Matrix, leak, inputs, activation: sp.Expr,
                   primitive: sp.Expr) -> HopfieldParts:
    """Build the Hopfield energy, drive and slopes from explicit sympy entries."""
    n = len(states)
    rates = [activation.subs(X, state) for state in states]
    slope = sp.diff(activation, X)
    terms = []
    for row in range(n):
        terms.append(-weights[row, row] * rates[row] ** 2 / 2)
        terms += [-weights[row, column] * rates[row] * rates[column]
                  for column in range(row + 1, n) if weights[row, column] != 0]
        terms.append(-inputs[row] * rates[row] + leak[row] * primitive.subs(S, states[row]))
    drive = [-leak[row] * states[row] + inputs[row]
             + sp.Add(*[weights[row, column] * rates[column] for column in range(n)
                        if weights[row, column] != 0])
             for row in range(n)]
    return HopfieldParts(sp.Add(*terms), drive, [slope.subs(X, state) for state in states])


@dataclass(frozen=True)
class _ConcreteEnergy:
    states: sp.Matrix
    substitution: dict
    energy_display: sp.Expr
    gradient_display: sp.Matrix
    time_derivative_display: sp.Expr
    energy_in_states: sp.Expr
    gradient: sp.Matrix
    time_derivative: sp.Expr


def rational_model(network) -> tuple[sp.Matrix, list, list]:
    """Return W, the leak and the input as exact rationals (shortest decimals)."""
    dense = network.dense_weights()
    n = network.n
    weights = sp.Matrix(n, n, lambda row, column: _decimal_rational(dense[row, column]))
    leak = [_decimal_rational(value) for value in network.leak]
    inputs = [_decimal_rational(value) for value in network.input]
    return weights, leak, inputs


def build_concrete_energy(network, activation: sp.Expr, primitive: sp.Expr) -> _ConcreteEnergy:
    """Expand E, its gradient and dE/dt for the network's own weights."""
    states = network.symbols()
    weights, leak, inputs = rational_model(network)
    n = network.n
    if isinstance(network, HopfieldNetwork):
        parts = hopfield_parts(list(states), weights, leak, inputs, activation, primitive)
        gradient = sp.Matrix([-parts.slopes[row] * parts.drive[row] for row in range(n)])
        time_derivative = -sp.Add(*[parts.slopes[row] * parts.drive[row] ** 2 for row in range(n)])
        return _ConcreteEnergy(states, {}, parts.energy, gradient, time_derivative,
                               parts.energy, gradient, time_derivative)

    # Firing-rate network: the Hopfield form in z = W x + u, leak c, input c u.
    hopfield_states = sp.Matrix(sp.symbols(f"z0:{n}", real=True))
    preactivation = weights * states + sp.Matrix(inputs)
    substitution = dict(zip(hopfield_states, preactivation))
    uniform = [leak[0]] * n
    parts = hopfield_parts(list(hopfield_states), weights, uniform,
                           [leak[0] * value for value in inputs], activation, primitive)
    slopes_times_drive = sp.Matrix([parts.slopes[row] * parts.drive[row] for row in range(n)])
    gradient_display = -weights * slopes_times_drive
    time_derivative = -sp.Add(*[parts.slopes[row] * parts.drive[row] ** 2 for row in range(n)])
    return _ConcreteEnergy(
        states, substitution, parts.energy, gradient_display, time_derivative,
        parts.energy.xreplace(substitution), gradient_display.xreplace(substitution),
        time_derivative.xreplace(substitution))


# -- the identity proof ------------------------------------------------------


@dataclass(frozen=True)
class IdentityProof:
    r"""A symbolic proof of the gradient identity of the energy.

    Attributes
    ----------
    family : str
        ``"hopfield"`` or ``"firing_rate"``.
    activation : str
    steps : tuple of str
        Each claim that was checked, with the sympy step that showed it.
    shown : tuple of bool
        Whether each step was shown. ``False`` means that sympy did not show
        the difference to be zero, not that it is non-zero.
    """

    family: str
    activation: str
    steps: tuple[str, ...]
    shown: tuple[bool, ...]

    @property
    def proved(self) -> bool:
        """Whether every step was shown (and there is at least one)."""
        return bool(self.shown) and all(self.shown)

    def to_dict(self) -> dict:
        return {"family": self.family, "activation": self.activation, "proved": self.proved,
                "steps": list(self.steps), "shown": list(self.shown)}


def prove_energy_identity(network: HopfieldNetwork | FiringRateNetwork, *,
                          concrete: bool = True) -> IdentityProof:
    r"""Prove the gradient identity of the energy for the network's activation.

    Hopfield: :math:`\nabla E(x) = -\operatorname{diag}(\phi'(x)) f(x)`.
    Firing-rate: the same identity for :math:`E_H` in :math:`z = W x + u`
    (leak :math:`c`, input :math:`c u`), the change of variables
    :math:`W f(x) = -c z + W \Phi(z) + c u`, and their composition
    :math:`\nabla E(x) = -W \operatorname{diag}(\phi'(z)) W f(x)` by the
    chain rule :math:`\nabla_x E = W^T \nabla_z E_H`.

    Each claim is checked component by component on a generic 3-neuron
    network: symbols :math:`w_{ij} = w_{ji}`, :math:`c_i > 0` (one
    :math:`c` for firing-rate networks), :math:`u_i`, and the model's
    activation. It is then checked on the user's network with exact rational
    weights when ``concrete`` and :math:`n \le` ``MAX_SYMBOLIC_SIZE``.
    Zero is decided by :func:`vanishes`.

    Why three neurons cover every :math:`n`: the difference
    :math:`\delta_k = \partial E/\partial x_k + \phi'(x_k) f_k(x)` involves
    only row :math:`k` of :math:`W`. It is a diagonal term
    :math:`d(x_k, w_{kk}, c_k, u_k)` plus one term
    :math:`e(x_k, x_j, w_{kj})` for each :math:`j \ne k`, proportional to
    :math:`w_{kj}`. Terms of :math:`E` without :math:`x_k` (weights
    :math:`w_{jl}` with :math:`j, l \ne k`) differentiate to zero; the third
    neuron checks exactly that through :math:`w_{12}`. On three neurons
    :math:`\delta_0 = d + e(x_0, x_1, w_{01}) + e(x_0, x_2, w_{02}) \equiv 0`
    in independent symbols. Setting :math:`w_{01} = w_{02} = 0` gives
    :math:`d \equiv 0`, hence :math:`e \equiv 0`, hence :math:`\delta_k
    \equiv 0` for any :math:`n`. The change of variables is linear and row by
    row in the same way, and the chain rule is valid at every size.

    Returns
    -------
    IdentityProof

    Raises
    ------
    InvalidModelError
        As :func:`energy_function` (non-symmetric weights, non-uniform leak
        of a firing-rate network).
    """
    validate_energy_model(network)
    activation = as_piecewise(network.activation.expression)
    primitive = derive_primitive(network.activation).expression
    is_hopfield = isinstance(network, HopfieldNetwork)
    steps: list[tuple[str, bool]] = [_primitive_step(activation, primitive)]

    steps += _generic_steps(activation, primitive, is_hopfield)
    if concrete and network.n <= MAX_SYMBOLIC_SIZE:
        steps += _concrete_steps(network)
    elif concrete:
        steps.append((f"user network not expanded: n = {network.n} > MAX_SYMBOLIC_SIZE = "
                      f"{MAX_SYMBOLIC_SIZE}; the generic proof covers it", True))
    logger.info("energy identity for %s with %s: %d steps, %d shown",
                network.family, network.activation.name, len(steps),
                sum(shown for _, shown in steps))
    return IdentityProof(network.family, network.activation.name,
                         tuple(text for text, _ in steps), tuple(shown for _, shown in steps))


def _primitive_step(activation: sp.Expr, primitive: sp.Expr) -> tuple[str, bool]:
    slope = sp.diff(activation, X).subs(X, S)
    at_origin = sp.simplify(primitive.subs(S, 0)) == 0
    derivative_ok, method = vanishes(sp.diff(primitive, S) - S * slope)
    text = f"G(0) = 0 and G'(s) - s*phi'(s) = 0 for G(s) = {sp.sstr(primitive)} ({method})"
    return text, bool(at_origin and derivative_ok)


def _generic_symbols(count: int = 3):
    states = list(sp.symbols(f"x0:{count}", real=True))
    weights = sp.Matrix(count, count, lambda row, column: sp.Symbol(
        f"w{min(row, column)}{max(row, column)}", real=True))
    inputs = list(sp.symbols(f"u0:{count}", real=True))
    return states, weights, inputs


def _generic_steps(activation, primitive, is_hopfield: bool) -> list[tuple[str, bool]]:
    states, weights, inputs = _generic_symbols()
    if is_hopfield:
        leak = list(sp.symbols("c0:3", positive=True))
        label = "generic 3-neuron Hopfield network (w_ij = w_ji, c_i > 0, u_i)"
        return _gradient_steps(states, weights, leak, inputs, activation, primitive, label)

    uniform = sp.Symbol("c", positive=True)
    hopfield_states = list(sp.symbols("z0:3", real=True))
    label = "generic 3-neuron Hopfield form in z (w_ij = w_ji, leak c > 0, input c*u_i)"
    steps = _gradient_steps(hopfield_states, weights, [uniform] * 3,
                            [uniform * value for value in inputs], activation, primitive, label)
    steps += _change_of_variables_steps(states, hopfield_states, weights, uniform, inputs,
                                        "generic 3-neuron firing-rate network")
    steps += _chain_rule_steps(states, hopfield_states, weights, uniform, inputs)
    return steps


def _gradient_steps(states, weights, leak, inputs, activation, primitive, label):
    parts = hopfield_parts(states, weights, leak, inputs, activation, primitive)
    steps = []
    for row, (state, terms) in enumerate(zip(states, _terms_by_state(parts.energy, states))):
        # Terms of E without this state have derivative zero; skipping them
        # saves most of the time of sp.diff on a large network.
        derivative = sp.Add(*[sp.diff(term, state) for term in terms])
        zero, method = vanishes(derivative + parts.slopes[row] * parts.drive[row])
        steps.append((f"{label}: dE/d{state} + phi'({state})*f_{row} = 0 ({method})", zero))
    return steps


def _terms_by_state(energy: sp.Expr, states) -> list[list[sp.Expr]]:
    positions = {state: index for index, state in enumerate(states)}
    buckets: list[list[sp.Expr]] = [[] for _ in states]
    for term in sp.Add.make_args(energy):
        for symbol in term.free_symbols:
            if symbol in positions:
                buckets[positions[symbol]].append(term)
    return buckets


def _firing_rate_flow(states, weights, uniform, inputs, activation):
    preactivation = weights * sp.Matrix(states) + sp.Matrix(inputs)
    flow = [-uniform * states[row] + activation.subs(X, preactivation[row])
            for row in range(len(states))]
    return preactivation, flow


def _change_of_variables_steps(states, hopfield_states, weights, uniform, inputs, label):
    """Check W f(x) = -c z + W phi(z) + c u at z = W x + u, for an undefined phi.

    The identity is linear algebra and true for every activation, so phi
    stays an undefined function. This also keeps ``cancel`` away from
    ``exp`` of long sums, which it expands into products of generators.
    """
    activation = PHI(X)
    preactivation, flow = _firing_rate_flow(states, weights, uniform, inputs, activation)
    parts = hopfield_parts(hopfield_states, weights, [uniform] * len(states),
                           [uniform * value for value in inputs], activation, sp.Integer(0))
    substitution = dict(zip(hopfield_states, preactivation))
    weighted_flow = weights * sp.Matrix(flow)
    steps = []
    for row in range(len(states)):
        difference = weighted_flow[row] - parts.drive[row].xreplace(substitution)
        zero, method = vanishes(difference)
        steps.append((f"{label}: (W f(x))_{row} = -c z{row} + (W phi(z))_{row} + c u{row} "
                      f"at z = W x + u, any phi ({method})", zero))
    return steps


def _chain_rule_steps(states, hopfield_states, weights, uniform, inputs):
    """Check grad_x E_H(W x + u) = W^T (grad_z E_H)(W x + u) for undefined phi and G."""
    activation = PHI(X)
    primitive = G_FUNCTION(S)
    parts = hopfield_parts(hopfield_states, weights, [uniform] * len(states),
                           [uniform * value for value in inputs], activation, primitive)
    preactivation = weights * sp.Matrix(states) + sp.Matrix(inputs)
    substitution = dict(zip(hopfield_states, preactivation))
    energy = parts.energy.xreplace(substitution)
    # subs, not xreplace: Derivative(phi(z0), z0) must become a Subs object.
    gradient_in_z = [sp.diff(parts.energy, state).subs(substitution) for state in hopfield_states]
    steps = []
    for column, state in enumerate(states):
        pulled_back = sp.Add(*[weights[row, column] * gradient_in_z[row]
                               for row in range(len(states))])
        zero, method = vanishes(sp.diff(energy, state) - pulled_back)
        steps.append((f"generic 3-neuron firing-rate network, chain rule for any phi and G: "
                      f"dE/d{state} = (W^T grad_z E_H)_{column} ({method})", zero))
    return steps


def _concrete_steps(network) -> list[tuple[str, bool]]:
    r"""Check the gradient identity on the user's weights, for undefined phi and G.

    With phi and G left undefined, ``cancel`` reduces each component to
    :math:`\partial E/\partial x_k + \phi'(x_k) f_k = c_k (G'(x_k) - x_k
    \phi'(x_k))`, which the primitive step shows to be zero for the model's
    activation. Substituting a sigmoid into a 40-neuron energy instead puts
    every exp(-x_j) into one denominator, which takes minutes.
    """
    weights, leak, inputs = rational_model(network)
    n = network.n
    if isinstance(network, HopfieldNetwork):
        checks = _structural_steps(list(network.symbols()), weights, leak, inputs)
        return [_summarize(checks, f"user network ({n} neurons, rational weights): "
                           "dE/dx_k + phi'(x_k)*f_k(x) = c_k*(G'(x_k) - x_k*phi'(x_k)) "
                           "for every k, any phi and G")]
    hopfield_states = list(sp.symbols(f"z0:{n}", real=True))
    uniform = leak[0]
    checks = _structural_steps(hopfield_states, weights, [uniform] * n,
                               [uniform * value for value in inputs])
    changes = _change_of_variables_steps(list(network.symbols()), hopfield_states, weights,
                                         uniform, inputs, "user network")
    return [
        _summarize(checks, f"user network ({n} neurons, rational weights), Hopfield form in z: "
                   "dE_H/dz_k + phi'(z_k)*g_k(z) = c*(G'(z_k) - z_k*phi'(z_k)) for every k, "
                   "any phi and G"),
        _summarize(changes, f"user network ({n} neurons): W f(x) = -c z + W phi(z) + c u "
                   "at z = W x + u"),
    ]


def _structural_steps(states, weights, leak, inputs) -> list[tuple[str, bool]]:
    parts = hopfield_parts(states, weights, leak, inputs, PHI(X), G_FUNCTION(S))
    steps = []
    for row, (state, terms) in enumerate(zip(states, _terms_by_state(parts.energy, states))):
        derivative = sp.Add(*[sp.diff(term, state) for term in terms])
        slope = parts.slopes[row]
        remainder = leak[row] * (sp.diff(G_FUNCTION(state), state) - state * slope)
        zero, method = vanishes(derivative + slope * parts.drive[row] - remainder)
        steps.append((f"component {row} ({method})", zero))
    return steps


def _summarize(checks: list[tuple[str, bool]], claim: str) -> tuple[str, bool]:
    failures = [text for text, shown in checks if not shown]
    if failures:
        return f"{claim}: not shown for {len(failures)} of {len(checks)} ({failures[0]})", False
    return f"{claim} (cancel, {len(checks)} components)", True
