r"""Dense associative memories: energies, update rules, certificates and capacity.

* :class:`DenseAssociativeMemory`: discrete states, :math:`E = -\sum_\mu
  F(\xi^\mu \cdot x)` with a polynomial, rectified polynomial or exponential
  F, asynchronous and synchronous updates.
* :class:`ModernHopfield`: the log-sum-exp energy and the update
  :math:`\xi \leftarrow X \operatorname{softmax}(\beta X^T \xi)`.
* :class:`TwoLayerMemory`: the continuous two-layer form with Lagrangians,
  the model of the ``dense_memory`` model-file family, with the
  ``pattern_stability`` and ``basin`` certificates.
* :mod:`ctdyn.memory.lagrangian`: the vector field and energy derived by
  sympy from the Lagrangians, and the proof of :math:`\dot E \le 0`.
* :func:`measure_capacity` and :func:`krotov_hopfield_capacity`: measured
  and theoretical capacity; :func:`digits_retrieval`: scikit-learn digits.
"""

from ._capacity import (
    CapacityResult,
    amit_gutfreund_sompolinsky_capacity,
    bit_error_rate,
    corrupt,
    krotov_hopfield_capacity,
    measure_capacity,
    theory_capacity,
)
from ._certify import basin_certificate, check_patterns, stability_certificate
from ._continuous import TwoLayerMemory
from ._digits import DigitsRetrieval, binarized_digits, digits_retrieval
from ._discrete import DenseAssociativeMemory, ModernHopfield, Retrieval, synchronous_two_cycle
from ._family import analyze, read_model
from ._functions import ENERGIES, SeparationFunction, make_separation_function

__all__ = [
    "DenseAssociativeMemory",
    "ModernHopfield",
    "Retrieval",
    "TwoLayerMemory",
    "SeparationFunction",
    "ENERGIES",
    "make_separation_function",
    "synchronous_two_cycle",
    "check_patterns",
    "stability_certificate",
    "basin_certificate",
    "analyze",
    "read_model",
    "CapacityResult",
    "measure_capacity",
    "theory_capacity",
    "krotov_hopfield_capacity",
    "amit_gutfreund_sompolinsky_capacity",
    "bit_error_rate",
    "corrupt",
    "DigitsRetrieval",
    "binarized_digits",
    "digits_retrieval",
]
