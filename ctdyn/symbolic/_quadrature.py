r"""Numeric values of the primitive G, checked against adaptive quadrature.

A closed form of :math:`G` from sympy can lose most of its digits in
floating point (``log(1 + tanh(4 s))`` for :math:`s \ll 0`). So the
lambdified form is used only when it agrees with quadrature of
:math:`G(s) = s^2 \int_0^1 t\,\phi'(s t)\,dt` at every probe point, and
the quadrature evaluates :math:`G` otherwise.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.integrate
import sympy as sp

from ..models import Activation
from ._symbols import S

logger = logging.getLogger(__name__)

# Relative tolerance of the numeric challenge of a lambdified primitive.
_PRIMITIVE_TOLERANCE = 1e-8
# The small probes catch a closed form whose terms of order s cancel to a G of
# order s**4 (phi(s) = s - tanh(s)): the agreement is relative there too.
_PRIMITIVE_PROBES = np.array([-7.0, -3.0, -1.5, -1.0, -0.4, -1e-2, -1e-3, 0.0, 1e-3, 1e-2, 0.3,
                              1.0, 1.7, 4.0, 9.0])


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
