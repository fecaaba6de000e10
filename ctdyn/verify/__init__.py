"""Exact and rigorous re-checks: rational arithmetic and a priori error bounds.

This layer depends on no certificate type, so every certifier can call it
before it reports ``certified``.
"""

from ._definite import DefiniteCheck, is_positive_definite_exact, is_positive_definite_interval
from ._rational import (
    UNIT_ROUNDOFF,
    gamma,
    matmul_error_bound,
    rational_matrix,
    rational_vector,
    round_up,
)

__all__ = [
    "DefiniteCheck",
    "is_positive_definite_exact",
    "is_positive_definite_interval",
    "rational_matrix",
    "rational_vector",
    "matmul_error_bound",
    "gamma",
    "round_up",
    "UNIT_ROUNDOFF",
]
