"""Write notebooks/dense_associative_memory.ipynb from the cells below, outputs stripped.

The notebook is kept as source here so that a diff shows its text; run this
script after editing a cell. tests/test_notebook.py executes the notebook.
"""

from pathlib import Path

import nbformat

CELLS = [
    ("markdown", r"""# Dense associative memory

A classical Hopfield network stores about $0.138 N$ random patterns in $N$ neurons. Dense associative memories (Krotov and Hopfield 2016) replace its quadratic energy by

$$E(x) = -\sum_\mu F(\xi^\mu \cdot x)$$

with a steeper separation function $F$ (a power $x^n$, a rectified power, an exponential), and store far more. This notebook

1. runs the discrete update rules and shows why only the asynchronous one is an energy descent,
2. derives the continuous two-layer network from its Lagrangians with sympy and proves $\dot E \le 0$,
3. certifies stored patterns as stable equilibria with certified basins, and challenges the certificates by simulation,
4. measures the capacity against the theory, and retrieves corrupted handwritten digits with each energy."""),
    ("code", r"""import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import sympy as sp

import ctdyn
from ctdyn.memory import (DenseAssociativeMemory, ModernHopfield, TwoLayerMemory, corrupt,
                          digits_retrieval, krotov_hopfield_capacity, measure_capacity,
                          synchronous_two_cycle)
from ctdyn.memory import lagrangian
from ctdyn.memory._digits import digits_figure"""),
    ("markdown", r"""## Update rules

The asynchronous rule sets one neuron to the sign of $E(x^{i-}) - E(x^{i+})$, so it moves to the lower of its two energies and never raises $E$. The synchronous rule updates all neurons at once from the old state. One pattern $(1, 1)$ with $F(h) = h^2/2$ already makes it cycle:"""),
    ("code", r"""cycle = synchronous_two_cycle()
for state, energy in zip(cycle["states"], cycle["energies"]):
    print(state, "E =", energy)
print("asynchronous from (1, -1):", cycle["asynchronous"], "E =", cycle["asynchronous_energy"])"""),
    ("markdown", r"""## Retrieval beyond the classical capacity

Thirty random patterns in 60 neurons are twice the classical capacity. From copies with 10% of their bits flipped, the classical energy loses many bits; the cubic one retrieves them."""),
    ("code", r"""rng = np.random.default_rng(0)
patterns = rng.choice([-1, 1], size=(30, 60))
queries = corrupt(patterns.astype(float), 0.1, rng)
for energy, degree in [("classical", None), ("polynomial", 3), ("exponential", None)]:
    memory = DenseAssociativeMemory(patterns, energy=energy, degree=degree)
    result = memory.retrieve(queries)
    print(f"{memory.separation.label():32s} bit error rate {np.mean(result.states != patterns):.4f}",
          f"after {result.sweeps} sweeps")"""),
    ("markdown", r"""## The two-layer network, derived from Lagrangians

Krotov and Hopfield (2021) write the memory as feature neurons $v$ and memory neurons $h$ with Lagrangians $L_v$, $L_h$, outputs $g = \nabla L_v$, $f = \nabla L_h$, and

$$\tau_f \dot v = \Xi^T f - v, \qquad \tau_h \dot h = \Xi g - h .$$

sympy derives the vector field and the energy from any Lagrangians and checks $\dot E = -\tau_f \dot v^T \nabla^2 L_v \dot v - \tau_h \dot h^T \nabla^2 L_h \dot h$, here for undefined functions $L_v$ and $L_h$:"""),
    ("code", r"""feature, memory_lagrangian, v, h = lagrangian.general_lagrangians(3, 2)
derivation = lagrangian.derive(feature, memory_lagrangian, v, h, [[1, -1, 1], [1, 1, -1]])
proof = lagrangian.prove_energy_decrease(derivation)
print("identity proved:", proof.proved, "by", proof.detail)
derivation.energy"""),
    ("markdown", r"""Eliminating the fast memory layer ($h = \Xi g$) with $L_h = \frac12 \sum h_\mu^2$ gives back the classical Hopfield network $\tau_f \dot v = \Xi^T \Xi \tanh(v) - v$:"""),
    ("code", r"""feature, memory_lagrangian, v, h = lagrangian.classical_lagrangians(3, 2)
derivation = lagrangian.derive(feature, memory_lagrangian, v, h, [[1, -1, 1], [1, 1, -1]])
field, energy = lagrangian.adiabatic_feature_dynamics(derivation)
sp.simplify(field)"""),
    ("markdown", r"""## Certified stored patterns

ctdyn's numeric model uses the hard tanh $g = \mathrm{clip}(v, -1, 1)$, so a pattern can be an exact equilibrium. `pattern_stability` decides exactly whether each pattern is one (then the Jacobian spectrum is $\{-1/\tau_f, -1/\tau_h\}$); `basin` certifies a ball in a weighted $\ell_\infty$ norm on which the log-norm of the Jacobian is negative. Simulation from the ball's boundary then challenges the certified rate."""),
    ("code", r"""model = TwoLayerMemory(rng.choice([-1, 1], size=(4, 24)), energy="rectified_polynomial", degree=3)
analysis = ctdyn.analyze(model, trajectories=6)
for certificate in analysis.certificates:
    print(certificate.summary()[:150])
print("simulation consistent:", analysis.simulation.consistent,
      "observed rate", round(analysis.simulation.observed_rate, 3))"""),
    ("markdown", r"""Overload the classical energy and some patterns stop being equilibria. The refutation names the pattern and the neuron whose field has the wrong sign:"""),
    ("code", r"""overloaded = TwoLayerMemory(rng.choice([-1, 1], size=(12, 16)), energy="classical")
refutation = ctdyn.analyze(overloaded, simulate=False).certificates[0]
print(refutation.status)
print({key: refutation.witness[key] for key in ("pattern", "neuron", "aligned_field")})"""),
    ("markdown", r"""## Capacity

The largest number of random patterns retrieved with at most 1% bit errors from 10% corruption, measured at small sizes here (`ctdyn capacity` and `benchmarks/bench_memory.py` go to N = 400):"""),
    ("code", r"""sizes = [30, 50, 70]
classical = [measure_capacity("classical", n, trials=2).capacity for n in sizes]
cubic = [measure_capacity("polynomial", n, degree=3, trials=2).capacity for n in sizes]
figure, axis = plt.subplots(figsize=(5, 3.5))
axis.plot(sizes, classical, "o-", label="classical, measured")
axis.plot(sizes, [0.138 * n for n in sizes], "--", label="0.138 N")
axis.plot(sizes, cubic, "s-", label="F = x^3, measured")
axis.plot(sizes, [krotov_hopfield_capacity(n, 3) for n in sizes], ":",
          label="N^2 / (6 ln N)")
axis.set_xlabel("neurons N")
axis.set_ylabel("patterns")
axis.set_yscale("log")
axis.legend()
print("classical:", classical, " cubic:", cubic)"""),
    ("markdown", r"""## Handwritten digits

The first image of each digit in scikit-learn's `load_digits`, binarized, gives ten strongly correlated patterns of 64 pixels. Exact-retrieval accuracy from 10-40% flipped pixels:"""),
    ("code", r"""digits = digits_retrieval(trials=10)
print(digits.table())"""),
    ("code", r"""figure = digits_figure(digits, "exponential")"""),
    ("markdown", r"""## What to take away

- The asynchronous rule is an energy descent for every $F$; the synchronous rule is not.
- The Lagrangian form gives one energy theorem for the classical, dense and modern Hopfield networks.
- Certificates say which stored patterns are stable equilibria and how far the currents may stray; retrieval from corrupted patterns is measured, and the dense energies win by far on correlated digits."""),
]


def build() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    for kind, source in CELLS:
        cell = (nbformat.v4.new_markdown_cell(source) if kind == "markdown"
                else nbformat.v4.new_code_cell(source))
        notebook.cells.append(cell)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


if __name__ == "__main__":
    path = Path(__file__).with_name("dense_associative_memory.ipynb")
    nbformat.write(build(), path)
    print(f"wrote {path}")
