r"""Proximal-descent dynamics for sparse and constrained reconstruction.

Families ``proximal_gradient`` (:math:`\dot x = -x + \mathrm{prox}_{\gamma
g}(x - \gamma\nabla f(x))`) and ``lca`` (the locally competitive
algorithm). Their certificates are ``proximal_rate`` (Euclidean contraction
rate from proved curvature bounds) and ``optimality`` (the equilibrium
minimizes f + g). See docs/proximal.md.
"""

from ._analyze import analyze
from ._certify import OPTIMALITY_TOLERANCE, optimality_certificate, rate_certificate
from ._curvature import CurvatureBounds, contraction_factor, curvature_bounds, optimal_step
from ._loading import read_model
from ._losses import QuadraticLoss, SymbolicLoss, make_symbolic_loss
from ._model import (
    LCADynamics,
    ProximalGradientDynamics,
    competitive_network,
    lca,
    proximal_gradient,
)
from ._regularizers import REGULARIZERS, Regularizer, make_regularizer, soft_threshold
from ._solve import (
    SolveResult,
    adaptive_dynamics,
    euler_dynamics,
    fista,
    minimize,
    proximal_gradient_descent,
)

__all__ = [
    "analyze", "read_model",
    "proximal_gradient", "lca", "competitive_network",
    "ProximalGradientDynamics", "LCADynamics",
    "QuadraticLoss", "SymbolicLoss", "make_symbolic_loss",
    "Regularizer", "REGULARIZERS", "make_regularizer", "soft_threshold",
    "CurvatureBounds", "curvature_bounds", "contraction_factor", "optimal_step",
    "rate_certificate", "optimality_certificate", "OPTIMALITY_TOLERANCE",
    "SolveResult", "minimize", "fista", "proximal_gradient_descent", "euler_dynamics",
    "adaptive_dynamics",
]
