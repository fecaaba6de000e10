"""Write notebooks/boltzmann_machines.ipynb from the cells below, outputs stripped.

The notebook is kept as source here so that a diff shows its text; run this
script after editing a cell. tests/test_notebook.py executes the notebook.
"""

from pathlib import Path

import nbformat

CELLS = [
    ("markdown", r"""# Boltzmann machines

A Boltzmann machine on states $s \in \{-1,1\}^n$ (or $\{0,1\}^n$) has the energy $E(s) = -\tfrac12 s^T W s - b^T s$ with $W$ symmetric and zero on the diagonal, and the Gibbs distribution $p(s) = e^{-E(s)/T}/Z$ at temperature $T$. This notebook

1. computes $\log Z$ and the marginals exactly by enumeration (the reference for everything else),
2. checks Gibbs sampling and parallel tempering against them,
3. certifies the mean-field dynamics $\dot m = -m + \tanh((Wm + b)/T)$ contracting above a temperature, and refutes it with two fixed points below,
4. learns: the Boltzmann rule with exact gradients, an RBM on scikit-learn digits beside `BernoulliRBM`, and equilibrium propagation checked against the exact gradient."""),
    ("code", r"""import math

import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ctdyn.boltzmann import (BoltzmannMachine, exact_statistics, gibbs_sample,
                             parallel_tempering, mean_field_certificate, mean_field_network,
                             contraction_temperature, log_likelihood)
from ctdyn.certify._equilibrium import find_equilibrium"""),
    ("markdown", r"""## Exact statistics

A periodic Ising ring of 12 spins with coupling $J$ has $Z = (2\cosh K)^n + (2\sinh K)^n$, $K = J/T$ (transfer matrix; Baxter, *Exactly Solved Models in Statistical Mechanics*, 1982, section 2.1). Enumeration of the $2^{12}$ states reproduces it:"""),
    ("code", r"""def ring(n, coupling):
    weights = np.zeros((n, n))
    for i in range(n):
        weights[i, (i + 1) % n] = weights[(i + 1) % n, i] = coupling
    return weights

n, coupling = 12, 1.0
for temperature in (0.5, 1.0, 2.0):
    k = coupling / temperature
    closed_form = math.log((2 * math.cosh(k)) ** n + (2 * math.sinh(k)) ** n)
    exact = exact_statistics(BoltzmannMachine(ring(n, coupling), temperature=temperature))
    print(f"T = {temperature}: enumeration {exact.log_partition:.12f}, transfer matrix {closed_form:.12f}")"""),
    ("markdown", r"""## Sampling against the exact marginals

Strong random couplings at a low temperature make single-site Gibbs sampling mix slowly; parallel tempering exchanges states with hotter copies. The standard errors come from 16 independent chains."""),
    ("code", r"""rng = np.random.default_rng(3)
weights = np.triu(rng.normal(0.0, 3.0 / math.sqrt(10), size=(10, 10)), 1)
glassy = BoltzmannMachine(weights + weights.T, bias=rng.normal(0.0, 0.3, size=10), temperature=0.5)
exact = exact_statistics(glassy).marginals
gibbs = gibbs_sample(glassy, sweeps=2000, chains=16, seed=1)
tempering = parallel_tempering(glassy, sweeps=2000, chains=16, seed=1)
for name, result in (("gibbs", gibbs), ("parallel tempering", tempering)):
    error = np.abs(result.marginals - exact)
    print(f"{name:>18}: max |error| {error.max():.4f}, max error / standard error "
          f"{np.max(error / result.standard_error):.2f}")
print("swap acceptance:", np.round(tempering.acceptance, 2))"""),
    ("markdown", r"""Chains of plain Gibbs sampling that stay in different valleys give a large error, but also a large spread between chains, so the standard error shows the failure. Parallel tempering reaches the exact marginals within a few hundredths."""),
    ("markdown", r"""## Mean field: certified above a temperature, refuted below

The mean-field dynamics are the firing-rate network $\dot m = -m + \tanh(W m / T + b / T)$. Their Jacobians $-I + DW/T$ with $0 \le D \le I$ have Euclidean log-norm at most $-1 + \|W\|_2/T$, so for $T > \|W\|_2$ they contract with rate $1 - \|W\|_2/T$ (proofs/boltzmann.md); ctdyn proves $\rho I \pm W \succ 0$ for a $\rho$ just above $\|W\|_2$ in rational arithmetic. Below, it looks for two fixed points enclosed by Krawczyk's test.

A ferromagnetic ring in a small field: its mean-field magnetization against the exact one."""),
    ("code", r"""weights = ring(10, 1.0)
print("certificate applies above T =", contraction_temperature(BoltzmannMachine(weights)))
temperatures = np.linspace(1.2, 4.0, 15)
mean_field, exact_mean, statuses = [], [], []
for temperature in temperatures:
    model = BoltzmannMachine(weights, bias=0.05, temperature=temperature)
    certificate = mean_field_certificate(model)
    statuses.append(certificate.status)
    point = find_equilibrium(mean_field_network(model), np.full(10, 0.9))
    mean_field.append(point.x.mean())
    exact_mean.append(exact_statistics(model).marginals.mean())
for temperature, status in zip(temperatures[::2], statuses[::2]):
    print(f"T = {temperature:.2f}: {status}")

figure, axis = plt.subplots(figsize=(6, 3.5))
axis.plot(temperatures, mean_field, "o-", label="mean field (from m = 0.9)")
axis.plot(temperatures, exact_mean, "s-", label="exact <s_i>")
axis.axvline(2.0, color="gray", linestyle="--", label="||W||_2 = 2")
axis.set_xlabel("T"); axis.set_ylabel("magnetization"); axis.legend()
plt.show()"""),
    ("markdown", r"""Below $T = 2$ the mean field predicts a spontaneous magnetization that the exact distribution of a finite ring does not have; the certificate is refuted there by two distinct fixed points:"""),
    ("code", r"""cold = mean_field_certificate(BoltzmannMachine(weights, temperature=1.5))
print(cold.status, "-", cold.reason)
first, second = (np.array(state) for state in cold.witness["states"])
print("fixed points:", np.round(first[:4], 4), "...", np.round(second[:4], 4), "...")
print("enclosure radii:", cold.witness["enclosure_radii"])"""),
    ("markdown", r"""## Boltzmann learning with exact gradients

$\partial L/\partial w_{ij} = (\langle s_i s_j\rangle_{\text{data}} - \langle s_i s_j\rangle_{\text{model}})/T$, with the model statistics computed exactly. Here a student learns samples of a teacher machine; the log-likelihood rises monotonically."""),
    ("code", r"""from ctdyn.boltzmann import fit_boltzmann

teacher_weights = np.triu(np.random.default_rng(5).normal(0, 0.8, size=(6, 6)), 1)
teacher = BoltzmannMachine(teacher_weights + teacher_weights.T)
samples = gibbs_sample(teacher, sweeps=1, chains=500, burn_in=500, seed=2).last_states
student, history = fit_boltzmann(BoltzmannMachine(np.zeros((6, 6))), samples, epochs=80,
                                 learning_rate=0.2)
print(f"log-likelihood: untrained {history[0]:.4f} (first step) -> trained {history[-1]:.4f}; "
      f"teacher {log_likelihood(teacher, samples):.4f}")"""),
    ("markdown", r"""## An RBM on scikit-learn digits, beside `BernoulliRBM`

The 8x8 digits binarized at 8/16; 64 hidden units; both models trained by persistent contrastive divergence with the same rate, batch size and number of epochs, and scored by the same functions: the pseudo-log-likelihood (every bit flipped in turn) and the reconstruction error."""),
    ("code", r"""from sklearn.datasets import load_digits
from sklearn.neural_network import BernoulliRBM
from ctdyn.boltzmann import (train_rbm, pseudo_likelihood, reconstruction_error,
                             rbm_from_sklearn, sample_rbm)

data = (load_digits().data / 16.0 > 0.5).astype(float)
epochs = 5
ours, ours_history = train_rbm(data, 64, method="pcd", epochs=epochs, learning_rate=0.05, seed=0)
theirs = rbm_from_sklearn(BernoulliRBM(n_components=64, learning_rate=0.05, batch_size=10,
                                       n_iter=epochs, random_state=0).fit(data))
for name, model in (("ctdyn", ours), ("scikit-learn", theirs)):
    print(f"{name:>12}: pseudo-log-likelihood {pseudo_likelihood(model, data):.2f}, "
          f"reconstruction error {reconstruction_error(model, data):.4f}")"""),
    ("code", r"""figure, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for index, axis in enumerate(axes[0]):
    axis.imshow(ours.weights[:, index].reshape(8, 8), cmap="RdBu")
    axis.axis("off")
starts = data[np.random.default_rng(0).choice(len(data), 8, replace=False)]
samples = sample_rbm(ours, starts, steps=200, seed=0)
for sample, axis in zip(samples, axes[1]):
    axis.imshow(sample.reshape(8, 8), cmap="gray_r")
    axis.axis("off")
axes[0][0].set_title("filters (weights of 8 hidden units)", loc="left")
axes[1][0].set_title("samples after 200 Gibbs steps", loc="left")
plt.show()"""),
    ("markdown", r"""## Equilibrium propagation

A continuous Hopfield network with 5 free units (2 outputs) settles to a minimum of $E$; the nudged phase adds $\beta C$ with $C = \tfrac12\|s_{\text{out}} - y\|^2$. Scellier and Bengio's identity turns the difference of $\partial E/\partial\theta$ between the phases into the gradient of $C$. The symmetric quotient with $\pm\beta$ approaches the exact gradient (implicit differentiation) like $\beta^2$:"""),
    ("code", r"""from ctdyn.boltzmann import HopfieldParameters, ep_gradient, exact_gradient

rng = np.random.default_rng(1)
free_weights = np.triu(rng.normal(0.0, 0.5, size=(5, 5)), 1)
parameters = HopfieldParameters(free_weights + free_weights.T, rng.normal(0, 1, size=(5, 3)),
                                rng.normal(0, 0.5, size=5), n_output=2)
x, y = np.array([0.5, -1.0, 0.3]), np.array([0.2, 0.9])
exact = exact_gradient(parameters, x, y)
for beta in (1e-1, 1e-2, 1e-3):
    estimate = ep_gradient(parameters, x, y, beta=beta)
    error = max(np.max(np.abs(estimate[name] - exact[name])) for name in exact)
    print(f"beta = {beta:g}: max |EP - exact| = {error:.2e}")"""),
    ("markdown", r"""## What to take away

- Enumeration up to $n = 24$ gives exact answers that sampling, mean field and learning can be checked against.
- The mean-field certificate is a contraction certificate for a firing-rate network: above $T = s\|W\|_2$ ($s = 1$ for $\pm1$ units, $1/4$ for $\{0,1\}$ units) the fixed point is unique and globally attracting; below, ctdyn exhibits two fixed points when it can find them.
- Learning rules are gradients that can be checked: exactly for Boltzmann learning, against the implicit-function gradient for equilibrium propagation."""),
]


def build() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    for kind, source in CELLS:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        notebook.cells.append(cell)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


if __name__ == "__main__":
    path = Path(__file__).with_name("boltzmann_machines.ipynb")
    nbformat.write(build(), path)
    print(f"wrote {path}")
