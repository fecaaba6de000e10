r"""Proximal gradient dynamics and the locally competitive algorithm (LCA).

:class:`ProximalGradientDynamics` is

.. math:: \dot x = -x + \mathrm{prox}_{\gamma g}(x - \gamma\nabla f(x)),

whose equilibria are the minimizers of :math:`f + g` for every
:math:`\gamma > 0`. :class:`LCADynamics` is the same flow seen through
:math:`u = x - \gamma\nabla f(x)`:

.. math:: \dot u = -u + a - \gamma\nabla f(a), \qquad a = \mathrm{prox}_{\gamma g}(u).

With :math:`f = \frac12\|\Phi a - y\|^2`, :math:`\gamma = 1` and
:math:`g = \lambda\|\cdot\|_1` this is Rozell's LCA
:math:`\dot u = -u + \Phi^Ty - (\Phi^T\Phi - I)T_\lambda(u)`; with
:math:`g = \lambda\|\cdot\|_1 + \iota_{x\ge0}` the x-dynamics is the positive
firing-rate competitive network
:math:`\dot x = -x + \mathrm{ReLU}((I - \Phi^T\Phi)x + \Phi^Ty - \lambda 1)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import InvalidModelError
from ._curvature import CurvatureBounds, curvature_bounds, optimal_step
from ._losses import QuadraticLoss, SymbolicLoss
from ._regularizers import Regularizer, make_regularizer

__all__ = ["ProximalGradientDynamics", "LCADynamics", "proximal_gradient", "lca",
           "competitive_network"]


@dataclass(eq=False)
class ProximalGradientDynamics:
    r"""The flow :math:`\dot x = -x + \mathrm{prox}_{\gamma g}(x - \gamma\nabla f(x))`.

    Attributes
    ----------
    loss : QuadraticLoss or SymbolicLoss
        The smooth convex part f.
    regularizer : Regularizer
        The proximable part g.
    step : float
        :math:`\gamma > 0`.
    step_source : str
        ``"given"`` or ``"rate-optimal"`` (chosen from the proved curvature bounds).
    curvature : CurvatureBounds
        Proved bounds on the Hessian of f.
    """

    loss: QuadraticLoss | SymbolicLoss
    regularizer: Regularizer
    step: float
    step_source: str
    curvature: CurvatureBounds
    family: str = "proximal_gradient"

    @property
    def n(self) -> int:
        return self.regularizer.n

    def proximal_gradient_map(self, x: np.ndarray) -> np.ndarray:
        r"""Return :math:`T(x) = \mathrm{prox}_{\gamma g}(x - \gamma\nabla f(x))`."""
        return self.regularizer.prox(x - self.step * self.loss.gradient(x), self.step)

    def vector_field(self, x: np.ndarray) -> np.ndarray:
        """Return -x + T(x) for each row of ``x``."""
        return -x + self.proximal_gradient_map(x)

    def objective(self, x: np.ndarray) -> np.ndarray:
        """Return f(x) + g(x) for each row of ``x``."""
        return self.loss.value(x) + self.regularizer.value(x)

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "dimension": self.n,
            "f": self.loss.to_dict(),
            "regularizer": self.regularizer.to_dict(),
            "step": self.step,
            "step_source": self.step_source,
        }


@dataclass(eq=False)
class LCADynamics(ProximalGradientDynamics):
    r"""The LCA :math:`\dot u = -u + a - \gamma\nabla f(a)`, :math:`a = \mathrm{prox}_{\gamma g}(u)`.

    Its state is the internal (membrane) variable u; the output x = a.
    """

    family: str = "lca"

    def vector_field(self, u: np.ndarray) -> np.ndarray:
        output = self.regularizer.prox(u, self.step)
        return -u + output - self.step * self.loss.gradient(output)

    def output(self, u: np.ndarray) -> np.ndarray:
        """Return the output a = prox(u) of internal states u."""
        return self.regularizer.prox(u, self.step)

    def internal_state(self, x: np.ndarray) -> np.ndarray:
        r"""Return :math:`u = x - \gamma\nabla f(x)`, the LCA state whose output at equilibrium is x."""
        return x - self.step * self.loss.gradient(x)

    def objective(self, u: np.ndarray) -> np.ndarray:
        """Return f + g at the output of each row of ``u``."""
        output = self.output(u)
        return self.loss.value(output) + self.regularizer.value(output)


def _build(cls, loss, regularizer: Regularizer, step: float | None, *,
           default_step: Fraction | None) -> ProximalGradientDynamics:
    curvature = curvature_bounds(loss)
    if step is None:
        if default_step is None:
            if curvature.L is None:
                raise InvalidModelError("step", "a positive step size", "nothing",
                                        "No curvature bound could be proved for f ("
                                        + curvature.reason + "), so give step = ... explicitly.")
            mu = curvature.mu or Fraction(0)
            if curvature.L == 0:
                # f is affine, so every step gives the same factor; 1 is the LCA's default.
                default_step = Fraction(1)
                source = "any step (L = 0)"
            elif mu == 0 and regularizer.name == "elastic_net" and regularizer.l2 > 0:
                default_step = 2 / curvature.L
                source = "rate-optimal"
            else:
                default_step = optimal_step(mu, curvature.L)
                source = "rate-optimal"
        else:
            source = "default"
        step = float(default_step)
    else:
        source = "given"
    if not (isinstance(step, (int, float)) and np.isfinite(step) and step > 0):
        raise InvalidModelError("step", "a finite positive step size gamma", step,
                                "Omit the key for the rate-optimal step 2/(mu + L).")
    return cls(loss=loss, regularizer=regularizer, step=float(step), step_source=source,
               curvature=curvature)


def _loss(A, b, ridge: float, f: str | None, dimension: int | None):
    from ._losses import make_symbolic_loss

    if f is not None:
        if A is not None or b is not None:
            raise InvalidModelError("f", "either f or A and b, not both", "both",
                                    "Delete A and b, or delete f.")
        if dimension is None:
            raise InvalidModelError("dimension", "the number of variables of f", "nothing",
                                    "Add dimension = n; f is written in x0, ..., x{n-1}.")
        return make_symbolic_loss(f, dimension)
    A = _matrix(A, "A")
    b = _vector(b, A.shape[0], "b")
    if not (np.isfinite(ridge) and ridge >= 0):
        raise InvalidModelError("ridge", "a finite ridge weight >= 0", ridge, "Use 0 for none.")
    return QuadraticLoss(A, b, float(ridge))


def _matrix(A, field: str) -> np.ndarray:
    if A is None:
        raise InvalidModelError(field, "an m x n matrix", "nothing", f"Give {field}.")
    array = np.asarray(A, dtype=float)
    if array.ndim != 2 or 0 in array.shape:
        raise InvalidModelError(field, "a non-empty m x n matrix", f"shape {array.shape}",
                                "Give a list of rows of equal length.")
    if not np.all(np.isfinite(array)):
        raise InvalidModelError(field, "finite entries", "NaN or inf", "Replace them by numbers.")
    return array


def _vector(b, m: int, field: str) -> np.ndarray:
    if b is None:
        raise InvalidModelError(field, f"{m} numbers", "nothing", f"Give {field}.")
    array = np.asarray(b, dtype=float)
    if array.shape != (m,):
        raise InvalidModelError(field, f"{m} numbers (one per row of A)", f"shape {array.shape}",
                                "Give one entry per row of A.")
    if not np.all(np.isfinite(array)):
        raise InvalidModelError(field, "finite entries", "NaN or inf", "Replace them by numbers.")
    return array


def proximal_gradient(A=None, b=None, *, regularizer: str = "l1", lam: float = 0.0,
                      l2: float = 0.0, lower=None, upper=None, radius: float = 1.0, groups=None,
                      step: float | None = None, ridge: float = 0.0, f: str | None = None,
                      dimension: int | None = None) -> ProximalGradientDynamics:
    r"""Build proximal gradient dynamics for :math:`\min f + g`.

    f is :math:`\frac12\|Ax-b\|^2 + \frac{\rho}{2}\|x\|^2` (``ridge`` is
    :math:`\rho`), or the expression ``f`` in ``x0..x{dimension-1}``. g is
    the named regularizer with its parameters. ``step`` defaults to the
    rate-optimal :math:`2/(\mu + L)` from the proved curvature bounds.

    Raises
    ------
    InvalidModelError
        On mismatched shapes, non-finite entries, :math:`\lambda < 0`, an
        empty box, a nonconvex f or a nonpositive step.
    """
    loss = _loss(A, b, ridge, f, dimension)
    reg = make_regularizer(regularizer, loss.n, lam=lam, l2=l2, lower=lower, upper=upper,
                           radius=radius, groups=groups)
    return _build(ProximalGradientDynamics, loss, reg, step, default_step=None)


def lca(Phi=None, y=None, *, lam: float = 0.0, regularizer: str = "l1",
        step: float | None = None, **options) -> LCADynamics:
    r"""Build the LCA :math:`\dot u = -u + \gamma\Phi^Ty - (\gamma\Phi^T\Phi - I)\,a`.

    ``step`` :math:`\gamma` defaults to 1, Rozell's LCA. Other options are
    those of :func:`proximal_gradient`.
    """
    loss = _loss(Phi, y, options.pop("ridge", 0.0), options.pop("f", None),
                 options.pop("dimension", None))
    reg = make_regularizer(regularizer, loss.n, lam=lam, **options)
    return _build(LCADynamics, loss, reg, step, default_step=Fraction(1))


def competitive_network(Phi, y, lam: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Return (W, input) of the positive firing-rate competitive network.

    :math:`\dot x = -x + \mathrm{ReLU}(Wx + \text{input})` with
    :math:`W = I - \Phi^T\Phi` and :math:`\text{input} = \Phi^Ty - \lambda 1`;
    pass them to :class:`ctdyn.FiringRateNetwork` with ``activation="relu"``.
    It is the x-dynamics of :func:`proximal_gradient` with
    ``regularizer="nonnegative_l1"`` and ``step=1``.
    """
    Phi = _matrix(Phi, "Phi")
    y = _vector(y, Phi.shape[0], "y")
    return np.eye(Phi.shape[1]) - Phi.T @ Phi, Phi.T @ y - lam
