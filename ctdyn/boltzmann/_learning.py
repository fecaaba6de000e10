r"""Learning: the Boltzmann learning rule, contrastive divergence and RBM scores.

Boltzmann learning rule. For data rows :math:`x_k` the mean log-likelihood
:math:`L = \frac1N \sum_k \log p(x_k)` of a fully visible Boltzmann machine
has the gradient

.. math:: \frac{\partial L}{\partial w_{ij}} = \frac{1}{T}\big(\langle s_i s_j
          \rangle_{\text{data}} - \langle s_i s_j \rangle_{\text{model}}\big),
          \qquad
          \frac{\partial L}{\partial b_i} = \frac{1}{T}\big(\langle s_i
          \rangle_{\text{data}} - \langle s_i \rangle_{\text{model}}\big)

(Ackley, Hinton and Sejnowski, Cognitive Science 9 (1985) 147-169), where
:math:`w_{ij} = w_{ji}` is one parameter for :math:`i < j`. Here the model
statistics are exact (enumeration), so the gradient is exact.

Contrastive divergence CD-k (Hinton, Neural Computation 14 (2002)
1771-1800) replaces the model statistics of an RBM by those after ``k``
block Gibbs steps started at the data. Persistent contrastive divergence
(PCD, Tieleman, ICML 2008) starts them instead at chains carried over from
the previous update.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, log_expit

from ..errors import InvalidModelError
from ._enumerate import _check_data, exact_statistics, free_energy, log_likelihood
from ._model import BoltzmannMachine, RestrictedBoltzmannMachine

__all__ = ["boltzmann_gradient", "fit_boltzmann", "train_rbm", "TrainingHistory",
           "pseudo_likelihood", "reconstruction_error", "rbm_from_sklearn", "sample_rbm"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


def boltzmann_gradient(model: BoltzmannMachine, data) -> tuple[np.ndarray, np.ndarray]:
    r"""Return the exact gradient of the mean log-likelihood in ``(weights, bias)``.

    The weight gradient is symmetric with a zero diagonal; entry
    :math:`(i, j)` is the derivative in the tied parameter
    :math:`w_{ij} = w_{ji}`.
    """
    data = _check_data(model, data)
    statistics = exact_statistics(model, correlations=True)
    data_correlations = data.T @ data / data.shape[0]
    weight_gradient = (data_correlations - statistics.correlations) / model.temperature
    np.fill_diagonal(weight_gradient, 0.0)
    bias_gradient = (data.mean(axis=0) - statistics.marginals) / model.temperature
    return weight_gradient, bias_gradient


def fit_boltzmann(model: BoltzmannMachine, data, *, epochs: int = 100,
                  learning_rate: float = 0.1, progress: Progress | None = None
                  ) -> tuple[BoltzmannMachine, list[float]]:
    """Ascend the exact log-likelihood; return the trained machine and the log-likelihoods."""
    history = []
    for epoch in range(epochs):
        weight_gradient, bias_gradient = boltzmann_gradient(model, data)
        model = BoltzmannMachine(model.weights + learning_rate * weight_gradient,
                                 bias=model.bias + learning_rate * bias_gradient,
                                 temperature=model.temperature, states=model.states)
        history.append(log_likelihood(model, data))
        if progress is not None:
            progress("boltzmann learning", (epoch + 1) / epochs)
    return model, history


@dataclass
class TrainingHistory:
    """Per-epoch scores of an RBM training run."""

    pseudo_likelihood: list[float] = field(default_factory=list)
    reconstruction_error: list[float] = field(default_factory=list)


def train_rbm(data, n_hidden: int, *, method: str = "pcd", k: int = 1, epochs: int = 10,
              learning_rate: float = 0.1, batch_size: int = 10, seed: int = 0,
              score: bool = True, progress: Progress | None = None
              ) -> tuple[RestrictedBoltzmannMachine, TrainingHistory]:
    r"""Train a {0,1} RBM at T = 1 by CD-k or persistent contrastive divergence.

    Initialization and updates follow scikit-learn's ``BernoulliRBM``
    (version 1.9.1, ``sklearn/neural_network/_rbm.py``): weights drawn from
    N(0, 0.01^2), zero biases, persistent hidden chains starting at zero,
    and mini-batch mean gradients scaled by ``learning_rate``. So the two can
    be compared epoch for epoch.

    Parameters
    ----------
    data : array_like, shape (samples, visible)
        Rows of 0/1 values.
    n_hidden : int
    method : {"cd", "pcd"}
    k : int
        Block Gibbs steps per update.
    epochs, learning_rate, batch_size, seed
    score : bool
        Record the pseudo-likelihood and reconstruction error after every
        epoch (two passes over the data; off for timing).
    progress : callable(stage, fraction), optional
    """
    if method not in ("cd", "pcd"):
        raise InvalidModelError("method", "\"cd\" or \"pcd\"", method,
                                "Choose CD-k or persistent contrastive divergence.")
    for name, value in (("n_hidden", n_hidden), ("k", k), ("epochs", epochs),
                        ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidModelError(name, "a positive integer", value, "Give a whole number.")
    data = np.asarray(data, dtype=float)
    rng = np.random.default_rng(seed)
    n_visible = data.shape[1]
    weights = rng.normal(0.0, 0.01, size=(n_visible, n_hidden))
    visible_bias = np.zeros(n_visible)
    hidden_bias = np.zeros(n_hidden)
    model = RestrictedBoltzmannMachine(weights, visible_bias=visible_bias,
                                       hidden_bias=hidden_bias)
    _check_data(model, data)
    chains = np.zeros((batch_size, n_hidden))
    history = TrainingHistory()
    batches = max(1, int(np.ceil(data.shape[0] / batch_size)))
    for epoch in range(epochs):
        order = rng.permutation(data.shape[0])
        for batch in range(batches):
            rows = data[order[batch * batch_size:(batch + 1) * batch_size]]
            chains = _update(model, rows, chains, method=method, k=k,
                             learning_rate=learning_rate, rng=rng)
        if score:
            history.pseudo_likelihood.append(pseudo_likelihood(model, data))
            history.reconstruction_error.append(reconstruction_error(model, data))
            logger.info("rbm epoch %d: pseudo-likelihood %.4f, reconstruction error %.4f",
                        epoch + 1, history.pseudo_likelihood[-1],
                        history.reconstruction_error[-1])
        if progress is not None:
            progress(f"rbm epoch {epoch + 1}", (epoch + 1) / epochs)
    return model, history


def _update(model: RestrictedBoltzmannMachine, visible: np.ndarray, chains: np.ndarray, *,
            method: str, k: int, learning_rate: float, rng) -> np.ndarray:
    """Apply one mini-batch update in place; return the persistent hidden chains."""
    positive_hidden = expit(visible @ model.weights + model.hidden_bias)
    if method == "pcd":
        hidden = chains[:visible.shape[0]]
    else:
        hidden = (rng.random(positive_hidden.shape) < positive_hidden).astype(float)
    for _ in range(k):
        negative_visible = (rng.random((hidden.shape[0], model.n_visible))
                            < expit(hidden @ model.weights.T + model.visible_bias)).astype(float)
        negative_hidden = expit(negative_visible @ model.weights + model.hidden_bias)
        hidden = (rng.random(negative_hidden.shape) < negative_hidden).astype(float)
    size = visible.shape[0]
    model.weights += learning_rate * (visible.T @ positive_hidden
                                      - negative_visible.T @ negative_hidden) / size
    model.visible_bias += learning_rate * (visible.mean(axis=0) - negative_visible.mean(axis=0))
    model.hidden_bias += learning_rate * (positive_hidden.mean(axis=0)
                                          - negative_hidden.mean(axis=0))
    if method == "pcd":
        chains = chains.copy()
        chains[:size] = hidden
    return chains


def pseudo_likelihood(model: RestrictedBoltzmannMachine, data) -> float:
    r"""Return the mean log pseudo-likelihood :math:`\frac1N \sum_k \sum_i \log p(v_i \mid v_{-i})`.

    Every bit is flipped in turn: :math:`\log p(v_i \mid v_{-i}) =
    \log\sigma(F(\tilde v^{(i)}) - F(v))` with :math:`\tilde v^{(i)}` the
    row with bit ``i`` flipped. scikit-learn's ``BernoulliRBM.score_samples``
    estimates the same sum from one random bit times the number of bits.
    """
    data = _check_data(model, data)
    energy = free_energy(model, data)
    total = np.zeros(data.shape[0])
    for i in range(model.n_visible):
        flipped = data.copy()
        flipped[:, i] = 1.0 - flipped[:, i] if model.states == "01" else -flipped[:, i]
        total += log_expit((free_energy(model, flipped) - energy))
    return float(np.mean(total))


def reconstruction_error(model: RestrictedBoltzmannMachine, data) -> float:
    r"""Return the mean squared error of :math:`E[v \mid h = E[h \mid v]]` against v."""
    data = _check_data(model, data)
    hidden = expit((data @ model.weights + model.hidden_bias) / model.temperature)
    visible = expit((hidden @ model.weights.T + model.visible_bias) / model.temperature)
    return float(np.mean((visible - data) ** 2))


def rbm_from_sklearn(estimator) -> RestrictedBoltzmannMachine:
    """Return the RBM of a fitted ``sklearn.neural_network.BernoulliRBM``."""
    return RestrictedBoltzmannMachine(np.asarray(estimator.components_).T,
                                      visible_bias=estimator.intercept_visible_,
                                      hidden_bias=estimator.intercept_hidden_)


def sample_rbm(model: RestrictedBoltzmannMachine, start, *, steps: int = 1000,
               seed: int = 0) -> np.ndarray:
    """Run block Gibbs chains from visible rows ``start``; return E[v | h] of the last step."""
    rng = np.random.default_rng(seed)
    visible = np.array(start, dtype=float)
    for _ in range(steps):
        hidden = (rng.random((visible.shape[0], model.n_hidden))
                  < expit(visible @ model.weights + model.hidden_bias)).astype(float)
        means = expit(hidden @ model.weights.T + model.visible_bias)
        visible = (rng.random(means.shape) < means).astype(float)
    return means
