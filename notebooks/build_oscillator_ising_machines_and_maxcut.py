"""Write notebooks/oscillator_ising_machines_and_maxcut.ipynb from the cells below, outputs stripped.

The notebook is kept as source here so that a diff shows its text; run this
script after editing a cell. tests/test_notebook.py executes the notebook.
"""

from pathlib import Path

import nbformat

CELLS = [
    ("markdown", r"""# Oscillator Ising machines and MaxCut

An oscillator Ising machine (OIM) is a network of phase oscillators

$$\dot\phi_i = -K\sum_j J_{ij}\sin(\phi_i - \phi_j) - K_s\sin(2\phi_i), \qquad J = -A,$$

where $A$ is the weighted adjacency matrix of a graph. The second-harmonic injection $K_s$ pushes each phase to $0$ or $\pi$, a spin $s_i = \cos\phi_i = \pm 1$. The flow is a gradient flow of an energy that, at binary states, equals $-2K$ times the cut: the machine descends towards large cuts.

This notebook derives the energy with sympy, computes the exact injection threshold above which a cut is stable, certifies stability in exact rational arithmetic, and runs the machine as a MaxCut solver."""),
    ("code", r"""import math
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ctdyn.oscillators import (OscillatorIsingMachine, as_graph, brute_force_max_cut,
                               certify_binary_state, derive_energy, solve_maxcut,
                               stability_ladder, stability_threshold)"""),
    ("markdown", r"""## The energy, derived

sympy integrates $-\int_0^1 f(t\phi)\cdot\phi\,dt$ for a generic 3-oscillator machine and checks that its gradient is $-f$, that $\dot E = -|f|^2$, and that the Jacobian at each binary state is $K(SJS - \operatorname{diag}(SJS\mathbf 1)) - 2K_sI$."""),
    ("code", r"""derivation = derive_energy("oscillator_ising", 3)
print(derivation.energy)
print(derivation.identities)"""),
    ("markdown", r"""## The Petersen graph

Ten nodes, fifteen edges, maximum cut 12. Every binary state is an equilibrium; it is stable iff $K_s$ exceeds its threshold $K\lambda_{\max}(M(s))/2$."""),
    ("code", r"""edges = [(i, (i + 1) % 5) for i in range(5)] + [(i, i + 5) for i in range(5)] \
    + [(5 + i, 5 + (i + 2) % 5) for i in range(5)]
adjacency = np.zeros((10, 10))
for i, j in edges:
    adjacency[i, j] = adjacency[j, i] = 1.0
graph = as_graph(adjacency)
best, spins = brute_force_max_cut(graph)
threshold = stability_threshold(graph, spins, coupling=1.0)
print("maximum cut:", best)
print("threshold:", threshold.value, "proved in", [threshold.lower, threshold.upper])
print("minimal polynomial of the threshold (constant first):", threshold.polynomial)
print("(sqrt(17) - 3)/4 =", (math.sqrt(17) - 3) / 4)"""),
    ("markdown", r"""Certificates on either side of the threshold: above, $2K_sI - KM(s)$ is positive definite by rational LDLᵀ; below, an integer vector $v$ with $v^TDf\,v > 0$ (computed exactly) is the unstable direction."""),
    ("code", r"""for injection in (0.28, 0.2808):
    certificate = certify_binary_state(graph, spins, coupling=1.0, injection=injection)
    print(injection, certificate.summary())"""),
    ("markdown", r"""## Designing the injection

Enumerating all $2^9$ cuts shows where each cut value becomes stable. Between the two printed thresholds the maximum cuts are the *only* stable binary states: a machine run there cannot get stuck in a worse binary state."""),
    ("code", r"""ladder = stability_ladder(graph)
print("maximum cuts stable above", ladder["optimal_stable_above"])
print("suboptimal cuts stable above", ladder["suboptimal_stable_above"])
for row in ladder["cuts"][:5]:
    print(row)"""),
    ("markdown", r"""## The energy decreases along the flow"""),
    ("code", r"""machine = OscillatorIsingMachine(graph, coupling=1.0, injection=0.5)
rng = np.random.default_rng(0)
phases = rng.uniform(-math.pi, math.pi, (10, 6))
energies = [machine.energy(phases)]
for _ in range(2000):
    phases = phases + 0.01 * machine.vector_field(phases)
    energies.append(machine.energy(phases))
energies = np.array(energies)
final_spins = np.where(np.cos(phases) >= 0, 1, -1)
print("cuts reached:", [int(sum(final_spins[i, k] != final_spins[j, k] for i, j in edges))
                        for k in range(6)])
figure, axes = plt.subplots(figsize=(6, 3))
axes.plot(np.arange(len(energies)) * 0.01, energies)
axes.set_xlabel("t"); axes.set_ylabel("E(phi(t))")
print("energy never increases:", bool(np.all(np.diff(energies, axis=0) <= 1e-12)))"""),
    ("markdown", r"""## MaxCut with many replicas

`solve_maxcut` anneals $K_s$ from 0 while noise decays, integrates many replicas in parallel threads over the sparse couplings (compiled with Numba), and rounds $\operatorname{sign}\cos\phi$. Its final injection is small ($0.1$ with $K\bar d = 1$) because that gave the best cuts on Gset, so the rounded state need not be a stable equilibrium at the final gains; the threshold says from which $K_s$ on it is. On the dodecahedral graph (maximum cut 24, by brute force):"""),
    ("code", r"""n = 10
dodecahedral = []
for i in range(n):
    dodecahedral += [(i, (i + 1) % n), (i, n + i), (n + i, n + (i + 2) % n)]
matrix = np.zeros((2 * n, 2 * n))
for i, j in dodecahedral:
    matrix[i, j] = matrix[j, i] = 1.0
graph20 = as_graph(matrix)
result = solve_maxcut(graph20, time_limit=5, seed=0, replicas=32, max_runs=2)
print("cut", result.cut, "of", brute_force_max_cut(graph20)[0])
print(certify_binary_state(graph20, result.spins, coupling=result.coupling,
                           injection=result.injection).summary())
needed = stability_threshold(graph20, result.spins, coupling=result.coupling)
print(f"stable for K_s above {needed.value:.6g} (proved bounds {needed.lower:.6g}, {needed.upper:.6g})")
print(certify_binary_state(graph20, result.spins, coupling=result.coupling,
                           injection=1.01 * needed.upper).summary())"""),
    ("markdown", r"""The command line does the same on Gset files: `ctdyn maxcut G1.txt --time-limit 30 --polish --json cut.json`."""),
]


def build() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    for kind, source in CELLS:
        cell = (nbformat.v4.new_markdown_cell(source) if kind == "markdown"
                else nbformat.v4.new_code_cell(source))
        notebook.cells.append(cell)
    return notebook


if __name__ == "__main__":
    path = Path(__file__).resolve().parent / "oscillator_ising_machines_and_maxcut.ipynb"
    nbformat.write(build(), path)
    print(f"wrote {path}")
