r"""Continuous-time firing-rate and Hopfield networks.

Firing-rate network (FRN):

.. math:: \dot x = -C x + \Phi(W x + u), \qquad J(x) = -C + D(x) W,
          \; D(x) = \operatorname{diag}(\phi'(W x + u)).

Hopfield network (HNN):

.. math:: \dot x = -C x + W \Phi(x) + u, \qquad J(x) = -C + W D(x),
          \; D(x) = \operatorname{diag}(\phi'(x)).

Numeric methods take one state of shape ``(n,)`` or a batch of shape
``(batch, n)``. Symbolic methods return sympy objects; the full symbolic
Jacobian is built only for small ``n`` (see ``max_symbolic_size``), while
:meth:`structured_jacobian` keeps the form :math:`-C + DW` at any size.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sps
import sympy as sp

from .._exact import rational_matrix
from ..errors import InvalidModelError
from ._activation import Activation, make_activation
from ._structure import JacobianSet
from ._validate import as_leak, as_vector, as_weights

__all__ = ["FiringRateNetwork", "HopfieldNetwork", "MAX_SYMBOLIC_SIZE"]

# A full sympy Jacobian costs about 21 s at n = 50 (sympy 1.14, 2 cores).
MAX_SYMBOLIC_SIZE = 40
MAX_EXACT_RANK_SIZE = 300


class _Network:
    family: str = ""
    side: str = ""

    def __init__(self, weights, *, input=None, activation="tanh", leak=None):
        self.weights = as_weights(weights)
        self.n = self.weights.shape[0]
        self.input = as_vector(input, self.n, field="input", default=0.0)
        self.leak = as_leak(leak, self.n)
        self.activation: Activation = make_activation(activation)

    # -- structure -------------------------------------------------------

    @property
    def is_sparse(self) -> bool:
        return sps.issparse(self.weights)

    @property
    def is_symmetric(self) -> bool:
        """Whether W equals its transpose exactly."""
        difference = self.weights - self.weights.T
        if self.is_sparse:
            return difference.count_nonzero() == 0
        return not np.any(difference)

    @property
    def has_uniform_leak(self) -> bool:
        return bool(np.all(self.leak == self.leak[0]))

    @property
    def jacobian_set(self) -> JacobianSet:
        low, high = self.activation.slope_bounds.outward()
        return JacobianSet(
            weights=self.weights,
            leak=self.leak,
            side=self.side,
            slope_min=low,
            slope_max=high,
            exact_box_test=self._box_is_exact,
        )

    def _box_is_exact(self) -> bool:
        return True

    def dense_weights(self) -> np.ndarray:
        return self.weights.toarray() if self.is_sparse else self.weights

    def _matvec(self, states: np.ndarray) -> np.ndarray:
        """Return ``W x`` for each row ``x`` of ``states`` (one matrix product)."""
        return (self.weights @ states.T).T

    # -- numeric ---------------------------------------------------------

    def _as_states(self, x) -> tuple[np.ndarray, bool]:
        states = np.asarray(x, dtype=float)
        single = states.ndim == 1
        states = np.atleast_2d(states)
        if states.ndim != 2 or states.shape[1] != self.n:
            raise InvalidModelError("x", f"a state of shape ({self.n},) or (batch, {self.n})",
                                    f"shape {np.shape(x)}", "Pass states with n entries each.")
        return states, single

    def vector_field(self, x) -> np.ndarray:
        """Evaluate f(x) for one state or a batch of states."""
        states, single = self._as_states(x)
        values = self._vector_field(states)
        return values[0] if single else values

    def slopes(self, x) -> np.ndarray:
        """Return the diagonal of D(x), the activation slopes at each state."""
        states, single = self._as_states(x)
        values = self.activation.derivative(self._preactivation(states))
        return values[0] if single else values

    def jacobian(self, x) -> np.ndarray:
        """Return the dense Jacobian at one state, or a stack for a batch."""
        states, single = self._as_states(x)
        slopes = self.activation.derivative(self._preactivation(states))
        weights = self.dense_weights()
        if self.side == "left":
            jacobians = slopes[:, :, None] * weights[None, :, :]
        else:
            jacobians = weights[None, :, :] * slopes[:, None, :]
        jacobians -= np.diag(self.leak)[None, :, :]
        return jacobians[0] if single else jacobians

    # -- symbolic --------------------------------------------------------

    def symbols(self) -> sp.Matrix:
        return sp.Matrix(sp.symbols(f"x0:{self.n}", real=True))

    def _activation_of(self, argument: sp.Expr) -> sp.Expr:
        return self.activation.expression.subs(_x_symbol(), argument)

    def symbolic_vector_field(self, *, max_size: int = MAX_SYMBOLIC_SIZE) -> sp.Matrix:
        """Return f(x) as a sympy column with exact rational weights."""
        self._check_symbolic_size(max_size)
        return self._symbolic_vector_field(self.symbols())

    def symbolic_jacobian(self, *, max_size: int = MAX_SYMBOLIC_SIZE) -> sp.Matrix:
        """Return the full sympy Jacobian of f (small networks only)."""
        self._check_symbolic_size(max_size)
        states = self.symbols()
        return self._symbolic_vector_field(states).jacobian(states)

    def _check_symbolic_size(self, max_size: int) -> None:
        if self.n > max_size:
            raise InvalidModelError(
                "n", f"at most {max_size} neurons for a full symbolic Jacobian", self.n,
                "Use structured_jacobian() or jacobian_set, which keep -C + D W at any size, "
                "or raise max_size.")

    # Symbolic forms show each float by its shortest decimal (0.2 as 1/5),
    # which is the number the user wrote. Exact checks in ctdyn.verify use the
    # float's own binary value instead.
    def _rational_weights(self) -> sp.Matrix:
        dense = self.dense_weights()
        return sp.Matrix(self.n, self.n, lambda i, j: sp.Rational(repr(float(dense[i, j]))))

    def _rational_vector(self, values: np.ndarray) -> sp.Matrix:
        return sp.Matrix([sp.Rational(repr(float(value))) for value in values])

    def structured_jacobian(self) -> sp.Expr:
        r"""Return the Jacobian as a matrix expression, e.g. :math:`-C + D W`.

        Built from sympy ``MatrixSymbol`` objects, so its size does not grow
        with n.
        """
        n = self.n
        weights = sp.MatrixSymbol("W", n, n)
        leak = sp.MatrixSymbol("C", n, n)
        slopes = sp.MatrixSymbol("D", n, n)
        product = slopes * weights if self.side == "left" else weights * slopes
        return -leak + product

    # -- description -----------------------------------------------------

    def to_dict(self) -> dict:
        bounds = self.activation.slope_bounds
        return {
            "family": self.family,
            "dimension": self.n,
            "activation": self.activation.name,
            "slope_bounds": bounds.to_dict(),
            "symmetric_weights": self.is_symmetric,
            "sparse": self.is_sparse,
            "nonzeros": int(self.weights.nnz if self.is_sparse else np.count_nonzero(self.weights)),
            "leak": "uniform " + repr(float(self.leak[0])) if self.has_uniform_leak else "diagonal",
        }

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n={self.n}, activation={self.activation.name!r}, "
                f"slopes in [{self.activation.slope_bounds.lower}, "
                f"{self.activation.slope_bounds.upper}])")


def _x_symbol() -> sp.Symbol:
    from ._activation import X

    return X


class FiringRateNetwork(_Network):
    r"""Firing-rate network :math:`\dot x = -C x + \Phi(W x + u)`.

    Parameters
    ----------
    weights : array_like or scipy sparse matrix, shape (n, n)
    input : array_like, shape (n,) or scalar, optional
        External input :math:`u` (default 0).
    activation : str or Activation
        Built-in name or an expression in ``x`` (default ``"tanh"``).
    leak : array_like, shape (n,) or scalar, optional
        Positive diagonal of :math:`C` (default 1).
    """

    family = "firing_rate"
    side = "left"

    def _preactivation(self, states: np.ndarray) -> np.ndarray:
        return self._matvec(states) + self.input[None, :]

    def _vector_field(self, states: np.ndarray) -> np.ndarray:
        return -self.leak[None, :] * states + self.activation(self._preactivation(states))

    def _symbolic_vector_field(self, states: sp.Matrix) -> sp.Matrix:
        preactivation = self._rational_weights() * states + self._rational_vector(self.input)
        leak = self._rational_vector(self.leak)
        return sp.Matrix([-leak[i] * states[i] + self._activation_of(preactivation[i])
                          for i in range(self.n)])

    def _box_is_exact(self) -> bool:
        # D(x) = phi'(W x + u) reaches every point of the slope box only when
        # W x + u covers R^n, that is when W is invertible. The rank is exact
        # (floats scaled to integers); larger networks return False, which
        # only makes refutations look for a concrete state instead.
        if self.n > MAX_EXACT_RANK_SIZE:
            return False
        return rational_matrix(self.dense_weights()).rank() == self.n


class HopfieldNetwork(_Network):
    r"""Hopfield network :math:`\dot x = -C x + W \Phi(x) + u`.

    Parameters are as for :class:`FiringRateNetwork`; here :math:`u` is
    added after the weights.
    """

    family = "hopfield"
    side = "right"

    def _preactivation(self, states: np.ndarray) -> np.ndarray:
        return states

    def _vector_field(self, states: np.ndarray) -> np.ndarray:
        rates = self.activation(states)
        return -self.leak[None, :] * states + self._matvec(rates) + self.input[None, :]

    def _symbolic_vector_field(self, states: sp.Matrix) -> sp.Matrix:
        rates = sp.Matrix([self._activation_of(state) for state in states])
        leak = self._rational_vector(self.leak)
        drive = self._rational_weights() * rates + self._rational_vector(self.input)
        return sp.Matrix([-leak[i] * states[i] + drive[i] for i in range(self.n)])

