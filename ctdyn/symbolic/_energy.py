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

from functools import cached_property

import numpy as np
import sympy as sp

from ..errors import InvalidModelError
from ..models import MAX_SYMBOLIC_SIZE, FiringRateNetwork, HopfieldNetwork
from ._forms import _ConcreteEnergy, _structured_forms, build_concrete_energy
from ._primitive import derive_primitive
from ._symbols import S, X, _decimal_rational

__all__ = ["EnergyFunction", "energy_function", "weight_asymmetry"]


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
