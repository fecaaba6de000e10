r"""Boltzmann machines: exact statistics, sampling, mean-field certificates and learning.

See docs/boltzmann.md for the model file, the methods and the JSON keys.
"""

from ._analyze import analyze, read_model
from ._enumerate import ExactResult, exact_statistics, free_energy, log_likelihood
from ._equilibrium_propagation import (
    HopfieldParameters,
    ep_gradient,
    exact_gradient,
    settle,
)
from ._learning import (
    TrainingHistory,
    boltzmann_gradient,
    fit_boltzmann,
    pseudo_likelihood,
    rbm_from_sklearn,
    reconstruction_error,
    sample_rbm,
    train_rbm,
)
from ._mean_field import (
    contraction_temperature,
    mean_field_certificate,
    mean_field_jacobian_set,
    mean_field_network,
)
from ._model import MAX_EXACT_UNITS, BoltzmannMachine, RestrictedBoltzmannMachine
from ._sampling import SampleResult, gibbs_sample, parallel_tempering

__all__ = [
    "BoltzmannMachine",
    "RestrictedBoltzmannMachine",
    "MAX_EXACT_UNITS",
    "ExactResult",
    "exact_statistics",
    "free_energy",
    "log_likelihood",
    "SampleResult",
    "gibbs_sample",
    "parallel_tempering",
    "mean_field_network",
    "mean_field_jacobian_set",
    "mean_field_certificate",
    "contraction_temperature",
    "boltzmann_gradient",
    "fit_boltzmann",
    "train_rbm",
    "TrainingHistory",
    "pseudo_likelihood",
    "reconstruction_error",
    "rbm_from_sklearn",
    "sample_rbm",
    "HopfieldParameters",
    "settle",
    "ep_gradient",
    "exact_gradient",
    "read_model",
    "analyze",
]
