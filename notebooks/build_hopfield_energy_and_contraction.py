"""Write notebooks/hopfield_energy_and_contraction.ipynb from the cells below, outputs stripped.

The notebook is kept as source here so that a diff shows its text; run this
script after editing a cell. tests/test_notebook.py executes the notebook.
"""

from pathlib import Path

import nbformat

CELLS = [
    ("markdown", r"""# Hopfield energy and contraction

Two ways to prove that a continuous-time neural network settles down:

1. **Energy.** A symmetric Hopfield network $\dot x = -Cx + W\phi(x) + u$ has an energy $E$ that never increases along trajectories (Hopfield 1984; Cohen and Grossberg 1983). Every trajectory approaches the set of equilibria, and there may be many of them: that is what an associative memory needs.
2. **Contraction.** If the log-norm of the Jacobian is at most $-c < 0$ everywhere, any two trajectories approach each other at rate $c$, and there is exactly one equilibrium: a network that forgets.

This notebook derives the energy with sympy, proves $\dot E \le 0$, certifies contraction with weighted norms, and challenges every claim by simulation, all with ctdyn. Every certified claim below was re-checked in exact rational arithmetic or with rigorous rounding bounds."""),
    ("code", r"""import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

import ctdyn
from ctdyn.symbolic import energy_function, prove_energy_identity"""),
    ("markdown", r"""## A small symmetric Hopfield network

Three neurons, symmetric weights, $\phi = \tanh$. ctdyn derives the slope interval of the activation from its expression: $\tanh' \in (0, 1]$."""),
    ("code", r"""weights = np.array([[0.0, 0.8, -0.4],
                    [0.8, 0.0, 0.5],
                    [-0.4, 0.5, 0.0]])
network = ctdyn.HopfieldNetwork(weights, input=[0.2, 0.0, -0.1], activation="tanh")
print(network)
print("slope bounds:", network.activation.slope_bounds)"""),
    ("markdown", r"""## The energy, derived

With $G(s) = \int_0^s r\,\phi'(r)\,dr$ the energy is

$$E(x) = -\tfrac12 \phi(x)^T W \phi(x) - u^T \phi(x) + \sum_i c_i\,G(x_i),$$

and its gradient is $\nabla E = -\operatorname{diag}(\phi'(x))\,f(x)$, so $\dot E = -\sum_i \phi'(x_i) f_i(x)^2 \le 0$ whenever $\phi' \ge 0$. sympy derives $G$ from the activation and checks the gradient identity:"""),
    ("code", r"""energy = energy_function(network)
print(energy.plain())"""),
    ("code", r"""proof = prove_energy_identity(network)
for step, shown in zip(proof.steps, proof.shown):
    print("shown" if shown else "NOT SHOWN", "|", step)
print("identity proved:", proof.proved)"""),
    ("markdown", r"""## Certify, then challenge by simulation

`ctdyn.analyze` runs every certificate method, looks for refutations, and simulates a batch of trajectories. The energy must decrease along each of them."""),
    ("code", r"""analysis = ctdyn.analyze(network, trajectories=8, seed=1)
for certificate in analysis.certificates:
    print(certificate.summary())
print("simulation consistent with the certificates:", analysis.simulation.consistent,
      analysis.simulation.energy_consistent)"""),
    ("code", r"""simulation = analysis.simulation
figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(simulation.times, simulation.states[:, :, 0])
axes[0].set_xlabel("t"); axes[0].set_ylabel("$x_0(t)$"); axes[0].set_title("trajectories")
axes[1].plot(simulation.times, simulation.energies)
axes[1].set_xlabel("t"); axes[1].set_ylabel("E(x(t))"); axes[1].set_title("energy never increases")
figure.tight_layout()"""),
    ("markdown", r"""## Contraction in a weighted norm

For $J = -C + W D$ with slopes $d_i \in [0, 1]$, the worst weighted $\ell_\infty$ log-norm over the whole slope box is $\max_i (M\eta)_i/\eta_i$ for a Metzler matrix $M$, and the best weights $\eta$ are its Perron vector. The certified rate $c$ promises $\|x(t) - y(t)\|_\eta \le e^{-ct}\|x(0)-y(0)\|_\eta$. The simulation measures how fast pairs of trajectories actually approach each other:"""),
    ("code", r"""weighted = next(c for c in analysis.certificates if c.method == "log_norm_inf")
print(weighted.method, "rate", weighted.rate, "checked", weighted.checked)
print("weights eta:", np.round(weighted.metric["weights"], 4))

best = analysis.best_contraction()
print("best certified rate:", best.method, best.rate, best.metric["norm"])
print("observed rate in that metric:", simulation.observed_rate)
assert simulation.observed_rate >= best.rate"""),
    ("markdown", r"""The quadratic metrics ($\|x\|_P^2 = x^T P x$, from LMIs solved by cvxpy) often certify a faster rate than the diagonal weights; ctdyn simulates in the metric of the best certificate."""),
    ("markdown", r"""## A memory cannot contract

A Hebbian network storing patterns $\xi^\mu$ has $W = \frac1n \sum_\mu \xi^\mu {\xi^\mu}^T$ (zero diagonal). With a high gain, each stored pattern (and its negative) is an equilibrium, so the network has several equilibria and cannot contract in any norm. ctdyn finds a witness: at $x = 0$ the slopes are exactly the gain, and the Jacobian there is not Hurwitz (decided by an exact Routh-Hurwitz test on its rational characteristic polynomial). The energy certificate still holds."""),
    ("code", r"""rng = np.random.default_rng(0)
patterns = np.sign(rng.standard_normal((2, 16)))
hebbian = patterns.T @ patterns / 16
np.fill_diagonal(hebbian, 0.0)

memory = ctdyn.HopfieldNetwork(hebbian, activation="tanh(4*x)")
memory_analysis = ctdyn.analyze(memory, methods=["log_norm_inf", "energy"], seed=2)
for certificate in memory_analysis.certificates:
    print(certificate.summary()[:160])
print("witness kind:", memory_analysis.witness["kind"])"""),
    ("markdown", r"""Lowering the gain trades the memories for a guarantee. With gain $g$ the slope box is $[0, g]$; below $1/\alpha(M)$ the network contracts and its only equilibrium is the origin."""),
    ("code", r"""for gain in [0.5, 1.0, 4.0]:
    network_g = ctdyn.HopfieldNetwork(hebbian, activation=f"tanh({gain}*x)")
    result = ctdyn.analyze(network_g, methods=["log_norm_inf"], simulate=False)
    certificate = result.certificates[0]
    print(f"gain {gain}: contraction {certificate.status}",
          f"rate {certificate.rate:.4f}" if certificate.rate else "")"""),
    ("markdown", r"""## What to take away

- The energy identity is a symbolic fact, checked by sympy for the network's own activation.
- A contraction rate is a claim about every pair of trajectories; ctdyn checks it exactly, then confirms it by simulation.
- Memories and contraction exclude each other: several stable equilibria rule out contraction in every norm."""),
]


def build() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    for kind, source in CELLS:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        notebook.cells.append(cell)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


if __name__ == "__main__":
    path = Path(__file__).with_name("hopfield_energy_and_contraction.ipynb")
    nbformat.write(build(), path)
    print(f"wrote {path}")
