r"""Figures of simulated trajectories, distance ratios and energies (PNG).

The figures are built on ``matplotlib.figure.Figure`` with the Agg canvas,
never through ``pyplot``, so no display and no global figure state are
involved and the caller's matplotlib backend is left alone.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._json import write_bytes_atomic

__all__ = [
    "trajectory_figure",
    "log_distance_figure",
    "energy_figure",
    "save_png",
    "MAX_PLOTTED_COORDINATES",
    "MAX_PLOTTED_TRAJECTORIES",
]

# More lines than this make the plots unreadable. The captions name the lines shown.
MAX_PLOTTED_COORDINATES = 4
MAX_PLOTTED_TRAJECTORIES = 8
_FIGURE_SIZE = (7.0, 4.0)  # inches
_DPI = 110


def _new_figure() -> tuple[Figure, object]:
    figure = Figure(figsize=_FIGURE_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def plotted_coordinates(n: int) -> list[int]:
    """Return the coordinates a trajectory figure shows: up to four, spread over ``0..n-1``."""
    count = min(n, MAX_PLOTTED_COORDINATES)
    return sorted(set(int(round(value)) for value in np.linspace(0, n - 1, count)))


def trajectory_figure(times: np.ndarray, states: np.ndarray, *, title: str = "") -> Figure:
    """Plot a few coordinates of each trajectory against time.

    Parameters
    ----------
    times : ndarray, shape (n_times,)
    states : ndarray, shape (n_times, batch, n)
        Coordinates :func:`plotted_coordinates` of the first
        ``MAX_PLOTTED_TRAJECTORIES`` trajectories are drawn, one color per
        coordinate.
    """
    times = np.asarray(times, dtype=float)
    states = np.asarray(states, dtype=float)
    figure, axes = _new_figure()
    batch = min(states.shape[1], MAX_PLOTTED_TRAJECTORIES)
    for color_index, coordinate in enumerate(plotted_coordinates(states.shape[2])):
        color = f"C{color_index}"
        for trajectory in range(batch):
            label = f"$x_{{{coordinate}}}$" if trajectory == 0 else None
            axes.plot(times, states[:, trajectory, coordinate], color=color, linewidth=1.0,
                      alpha=0.8, label=label)
    axes.set_xlabel("time t")
    axes.set_ylabel("state coordinate")
    axes.set_title(title or f"{batch} trajectories")
    axes.legend(loc="best", fontsize="small")
    axes.grid(True, alpha=0.3)
    return figure


def log_distance_figure(times: np.ndarray, log_ratios: np.ndarray, *, rate: float | None,
                        metric_label: str = "") -> Figure:
    r"""Plot :math:`\log(d(t)/d(0))` of each trajectory pair against the bound :math:`-ct`.

    Parameters
    ----------
    times : ndarray, shape (n_times,)
    log_ratios : ndarray, shape (n_times, n_pairs)
        ``NaN`` entries (pairs closer than the integration error floor) are
        left out of the lines.
    rate : float or None
        Certified contraction rate :math:`c`; ``None`` draws no bound.
    metric_label : str
        Name of the norm :math:`d` is measured in, for the axis label.
    """
    times = np.asarray(times, dtype=float)
    log_ratios = np.asarray(log_ratios, dtype=float)
    figure, axes = _new_figure()
    for pair in range(log_ratios.shape[1]):
        label = "trajectory pairs" if pair == 0 else None
        axes.plot(times, log_ratios[:, pair], color="C0", linewidth=0.8, alpha=0.6, label=label)
    if rate is not None:
        axes.plot(times, -rate * times, color="C3", linewidth=2.0, linestyle="--",
                  label=f"certified bound $-{rate:.4g}\\,t$")
    axes.set_xlabel("time t")
    axes.set_ylabel(r"$\log(d(t)/d(0))$" + (f" in {metric_label}" if metric_label else ""))
    axes.set_title("distance between trajectories")
    axes.legend(loc="best", fontsize="small")
    axes.grid(True, alpha=0.3)
    return figure


def energy_figure(times: np.ndarray, energies: np.ndarray) -> Figure:
    """Plot the energy of each trajectory against time.

    Parameters
    ----------
    times : ndarray, shape (n_times,)
    energies : ndarray, shape (n_times, batch)
    """
    times = np.asarray(times, dtype=float)
    energies = np.asarray(energies, dtype=float)
    figure, axes = _new_figure()
    batch = min(energies.shape[1], MAX_PLOTTED_TRAJECTORIES)
    for trajectory in range(batch):
        axes.plot(times, energies[:, trajectory], linewidth=1.0, color=f"C{trajectory % 10}")
    axes.set_xlabel("time t")
    axes.set_ylabel("energy E(x(t))")
    axes.set_title(f"energy along {batch} trajectories")
    axes.grid(True, alpha=0.3)
    return figure


def save_png(figure: Figure, path: str | os.PathLike) -> Path:
    """Render ``figure`` as PNG and write it to ``path`` atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return write_bytes_atomic(path, buffer.getvalue())
