"""Re-export of the exact conversions and rounding bounds kept in ``ctdyn._exact``."""

from .._exact import (  # noqa: F401
    UNIT_ROUNDOFF,
    _integer_scaled,
    float_to_fraction_matrix,
    fmpq_to_fraction,
    gamma,
    matmul_error_bound,
    rational_matrix,
    rational_vector,
    round_up,
)
