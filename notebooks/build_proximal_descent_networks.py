"""Write notebooks/proximal_descent_networks.ipynb from the cells below, outputs stripped.

The notebook is kept as source here so that a diff shows its text; run this
script after editing a cell. tests/test_notebook.py executes the notebook.
"""

from pathlib import Path

import nbformat

CELLS = [
    ("markdown", r"""# Proximal-descent networks for sparse reconstruction

A continuous-time network can solve $\min_x f(x) + g(x)$: the **proximal gradient dynamics**

$$\dot x = -x + \mathrm{prox}_{\gamma g}\big(x - \gamma\nabla f(x)\big)$$

has the minimizers of $f + g$ as its equilibria, for every step $\gamma > 0$. With $f = \frac12\|Ax - b\|^2$ and $g = \lambda\|x\|_1$ it solves the LASSO, and seen through $u = x - \gamma\nabla f(x)$ it is the **locally competitive algorithm** (LCA) of Rozell et al. (2008).

ctdyn certifies three things about such a network: that it contracts, and how fast; that its equilibrium is the minimizer (checked in exact rational arithmetic); and, when the problem is not strongly convex, what still holds."""),
    ("code", r"""import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ctdyn.proximal import analyze, lca, proximal_gradient"""),
    ("markdown", r"""## A two-variable LASSO

$A = \mathrm{diag}(1, 2)$, $b = (3, 1)$, $\lambda = 1$. The Hessian $A^TA = \mathrm{diag}(1, 4)$ gives $\mu = 1$ and $L = 4$, proved by an exact semidefiniteness test. The rate of the dynamics is $1 - \max(|1 - \gamma\mu|, |1 - \gamma L|)$, largest at $\gamma^* = 2/(\mu + L) = 0.4$, where it is $0.4$."""),
    ("code", r"""model = proximal_gradient([[1, 0], [0, 2]], [3, 1], lam=1.0)
print("mu =", model.curvature.mu, " L =", model.curvature.L, " step =", model.step, f"({model.step_source})")
analysis = analyze(model, trajectories=6, seed=0)
for certificate in analysis.certificates:
    print(certificate.summary())
print("x* =", analysis.equilibrium["x"])"""),
    ("code", r"""steps = np.linspace(0.01, 0.6, 200)
rates = 1 - np.maximum(np.abs(1 - steps * 1.0), np.abs(1 - steps * 4.0))
figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(steps, rates)
axes[0].axhline(0, color="gray", lw=0.5)
axes[0].axvline(0.4, ls="--", color="k")
axes[0].set_xlabel(r"step $\gamma$"); axes[0].set_ylabel("certified rate"); axes[0].set_title("rate-optimal step 2/(mu+L)")
simulation = analysis.simulation
axes[1].plot(simulation.times, simulation.energies)
axes[1].set_xlabel("t"); axes[1].set_ylabel("f + g"); axes[1].set_title("the cost never increases")
figure.tight_layout()"""),
    ("markdown", r"""Simulation challenges every certified claim: pairs of trajectories must approach each other at least at the certified rate, up to the integration tolerance, and the cost $f + g$ must never increase. Here the bound is tight: along the second coordinate the flow is linear with exactly the rate 0.4."""),
    ("code", r"""print("observed rate:", round(simulation.observed_rate, 4), " certified:", simulation.claimed_rate)
print("consistent:", simulation.consistent, " cost non-increasing:", simulation.energy_consistent)
assert simulation.consistent and simulation.energy_consistent"""),
    ("markdown", r"""## The LCA: the same equilibrium in other coordinates

Rozell's LCA $\dot u = -u + \Phi^Ty - (\Phi^T\Phi - I)T_\lambda(u)$ is the same flow at $\gamma = 1$, with internal state $u = x - \nabla f(x)$. Its output $T_\lambda(u^*)$ is the LASSO solution, and $u^* = (3, 1.25)$. At $\gamma = 1 > 2/L = 0.5$ the rate bound is not positive, so ctdyn reports the step as outside $(0, 2/L)$, certifies optimality, and lists what still holds."""),
    ("code", r"""network = lca([[1, 0], [0, 2]], [3, 1], lam=1.0)
lca_analysis = analyze(network, trajectories=4)
print("u* =", lca_analysis.equilibrium["u"], " x* =", lca_analysis.equilibrium["x"])
for certificate in lca_analysis.certificates:
    print(certificate.summary())
print("\n".join(lca_analysis.lines))"""),
    ("markdown", r"""## The LASSO path on the diabetes data

scikit-learn's `Lasso` minimizes $\frac{1}{2n}\|y - Xw\|^2 + \alpha\|w\|_1$, the same problem as $\frac12\|Aw - b\|^2 + \alpha\|w\|_1$ with $A = X/\sqrt n$, $b = y/\sqrt n$. For each $\alpha$ on the path ctdyn certifies the rate and the exact optimality of the equilibrium, and we compare it with scikit-learn."""),
    ("code", r"""from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso

X, y = load_diabetes(return_X_y=True)
y = y - y.mean()
samples = X.shape[0]
A, b = X / np.sqrt(samples), y / np.sqrt(samples)
alpha_max = np.max(np.abs(X.T @ y)) / samples
alphas = np.geomspace(0.9 * alpha_max, 1e-3 * alpha_max, 12)
path, worst = [], 0.0
for alpha in alphas:
    result = analyze(proximal_gradient(A, b, lam=alpha), simulate=False)
    assert all(c.certified for c in result.certificates)
    x = np.array(result.equilibrium["x"])
    reference = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=10**6).fit(X, y).coef_
    worst = max(worst, np.linalg.norm(x - reference) / np.linalg.norm(reference))
    path.append(x)
print(f"largest relative difference from scikit-learn over {len(alphas)} values: {worst:.2e}")
figure, axis = plt.subplots(figsize=(6, 3.5))
axis.semilogx(alphas, np.array(path))
axis.set_xlabel(r"$\alpha$"); axis.set_ylabel("coefficient"); axis.set_title("diabetes LASSO path (equilibria)")
figure.tight_layout()"""),
    ("markdown", r"""## More unknowns than measurements

With $A$ of size $10\times 30$, $A^TA$ is singular: $\mu = 0$ and no global rate exists. ctdyn says so and certifies what still holds: the cost decreases, equilibria are minimizers, distances never grow for $\gamma L \le 2$, and, at a minimizer with strict complementarity, local exponential stability with the restricted eigenvalue $\mu_S$ of $A_S^TA_S$."""),
    ("code", r"""rng = np.random.default_rng(1)
A = rng.normal(size=(10, 30))
signal = np.zeros(30); signal[[2, 11, 25]] = [1.5, -2.0, 1.0]
wide = analyze(proximal_gradient(A, A @ signal, lam=0.05), simulate=False)
for certificate in wide.certificates:
    print(certificate.summary())
print("\n".join(wide.lines))
print("recovered support:", np.flatnonzero(np.abs(wide.equilibrium["x"]) > 1e-9))"""),
]


def build() -> nbformat.NotebookNode:
    """Return the notebook with the cells above and no outputs."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    for kind, source in CELLS:
        if kind == "markdown":
            notebook.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            notebook.cells.append(nbformat.v4.new_code_cell(source))
    return notebook


if __name__ == "__main__":
    path = Path(__file__).resolve().parent / "proximal_descent_networks.ipynb"
    nbformat.write(build(), path)
    print(f"wrote {path}")
