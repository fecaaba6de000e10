"""Certificate methods: each proposes, re-checks exactly, and returns a Certificate.

Every function here consumes a model's structure (its ``jacobian_set``) or the
network's numeric and symbolic methods, never a family name, and reports
``certified`` only after an exact or rigorous floating-point check.
"""

from ._certificate import CERTIFIED, CLAIMS, INCONCLUSIVE, REFUTED, Certificate
from ._energy import energy_certificate
from ._equilibrium import Equilibrium, enclose_equilibrium, find_equilibria, find_equilibrium
from ._linearization import linearization_certificate, solve_lyapunov
from ._lmi import check_lmi_proposal, lmi_contraction
from ._log_norm import log_norm_certificate, optimal_weights
from ._vertex import vertex_contraction_rate, vertex_rate_for_metric
from ._witness import contraction_witness, is_hurwitz, routh_hurwitz

__all__ = [
    "Certificate",
    "CERTIFIED",
    "REFUTED",
    "INCONCLUSIVE",
    "CLAIMS",
    "log_norm_certificate",
    "optimal_weights",
    "lmi_contraction",
    "check_lmi_proposal",
    "vertex_contraction_rate",
    "vertex_rate_for_metric",
    "energy_certificate",
    "linearization_certificate",
    "solve_lyapunov",
    "find_equilibrium",
    "find_equilibria",
    "enclose_equilibrium",
    "Equilibrium",
    "contraction_witness",
    "is_hurwitz",
    "routh_hurwitz",
]
