r"""Proximable regularizers g: values, exact proximal maps and optimality conditions.

Each regularizer provides :math:`\mathrm{prox}_{\gamma g}(v) = \arg\min_x
g(x) + \frac{1}{2\gamma}\|x - v\|^2` in closed form, applied row by row to a
batch of states of shape ``(batch, n)``. Constraints are indicator
functions, whose proximal map is the Euclidean projection.

For the polyhedral regularizers, :meth:`Regularizer.kkt_exact` decides in
rational arithmetic whether :math:`-\nabla f(x) \in \partial g(x)`, the
optimality condition of :math:`\min f + g` for convex differentiable f.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import InvalidModelError

__all__ = ["Regularizer", "REGULARIZERS", "make_regularizer", "soft_threshold"]

REGULARIZERS = ("l1", "elastic_net", "nonnegative", "box", "simplex", "l2_ball", "group_l1",
                "nonnegative_l1")
# Regularizers whose optimality conditions are linear equalities and
# inequalities, so a rational candidate can be checked exactly.
POLYHEDRAL = ("l1", "elastic_net", "nonnegative", "box", "simplex", "nonnegative_l1")


def soft_threshold(v: np.ndarray, threshold: float) -> np.ndarray:
    """Return sign(v) max(|v| - threshold, 0), the proximal map of threshold |x|_1."""
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


@dataclass(frozen=True)
class Regularizer:
    r"""A convex regularizer g with an exact proximal map.

    Attributes
    ----------
    name : str
        One of :data:`REGULARIZERS`.
    n : int
        Dimension.
    lam : float
        Weight :math:`\lambda \ge 0` of the l1 or group term.
    l2 : float
        Weight of :math:`\frac{l_2}{2}\|x\|^2` in the elastic net.
    lower, upper : ndarray or None
        Bounds of the box.
    radius : float
        Radius of the l2 ball, or the sum of the simplex :math:`\{x \ge 0,
        \sum_i x_i = r\}`.
    groups : ndarray of int or None
        Group label of each coordinate for ``group_l1``.
    """

    name: str
    n: int
    lam: float = 0.0
    l2: float = 0.0
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    radius: float = 1.0
    groups: np.ndarray | None = field(default=None)

    @property
    def polyhedral(self) -> bool:
        return self.name in POLYHEDRAL

    def prox_lipschitz(self, step: float) -> Fraction:
        r"""Return an exact Lipschitz constant of :math:`\mathrm{prox}_{\gamma g}`.

        Every proximal map of a convex function is nonexpansive. The elastic
        net's map is :math:`\mathrm{soft}(v, \gamma\lambda) / (1 + \gamma l_2)`,
        a contraction by the factor :math:`1 / (1 + \gamma l_2)`.
        """
        if self.name == "elastic_net":
            return 1 / (1 + Fraction(step) * Fraction(self.l2))
        return Fraction(1)

    def prox(self, v: np.ndarray, step: float) -> np.ndarray:
        r"""Return :math:`\mathrm{prox}_{\gamma g}` of each row of ``v`` (shape ``(batch, n)`` or ``(n,)``)."""
        v = np.asarray(v, dtype=float)
        name = self.name

        if name == "l1":
            return soft_threshold(v, step * self.lam)
        if name == "elastic_net":
            return soft_threshold(v, step * self.lam) / (1.0 + step * self.l2)
        if name == "nonnegative":
            return np.maximum(v, 0.0)
        if name == "nonnegative_l1":
            return np.maximum(v - step * self.lam, 0.0)
        if name == "box":
            return np.clip(v, self.lower, self.upper)

        # Maps that act on whole vectors or groups, not coordinate by coordinate.
        if name == "simplex":
            return _project_simplex(v, self.radius)
        if name == "l2_ball":
            norms = np.linalg.norm(v, axis=-1, keepdims=True)
            scale = np.minimum(1.0, self.radius / np.maximum(norms, np.finfo(float).tiny))
            return v * scale
        if name == "group_l1":
            result = np.empty_like(v)
            for label in np.unique(self.groups):
                columns = self.groups == label
                block = v[..., columns]
                norms = np.linalg.norm(block, axis=-1, keepdims=True)
                shrink = np.maximum(1.0 - step * self.lam / np.maximum(norms, np.finfo(float).tiny),
                                    0.0)
                result[..., columns] = block * shrink
            return result
        raise AssertionError(f"unknown regularizer {name}")

    def value(self, x: np.ndarray, *, slack: float = 1e-9) -> np.ndarray:
        """Return g at each row of ``x``; ``inf`` outside the domain of a constraint, see :meth:`contains`."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        name = self.name
        if name == "l1":
            return self.lam * np.abs(x).sum(axis=-1)
        if name == "elastic_net":
            return self.lam * np.abs(x).sum(axis=-1) + 0.5 * self.l2 * (x**2).sum(axis=-1)
        if name == "group_l1":
            total = np.zeros(x.shape[0])
            for label in np.unique(self.groups):
                total += np.linalg.norm(x[:, self.groups == label], axis=-1)
            return self.lam * total
        inside = self.contains(x, slack=slack)
        values = np.where(inside, 0.0, np.inf)
        if name == "nonnegative_l1":
            values = values + self.lam * np.abs(x).sum(axis=-1)
        return values

    def contains(self, x: np.ndarray, *, slack: float = 1e-9) -> np.ndarray:
        """Return whether each row of ``x`` lies in the domain of g, up to ``slack`` times its scale."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        scale = slack * np.maximum(1.0, np.abs(x).max(axis=-1))
        if self.name in ("nonnegative", "nonnegative_l1"):
            return np.all(x >= -scale[:, None], axis=-1)
        if self.name == "box":
            return np.all((x >= self.lower - scale[:, None]) & (x <= self.upper + scale[:, None]),
                          axis=-1)
        if self.name == "simplex":
            return np.all(x >= -scale[:, None], axis=-1) & (
                np.abs(x.sum(axis=-1) - self.radius) <= scale * x.shape[-1])
        if self.name == "l2_ball":
            return np.linalg.norm(x, axis=-1) <= self.radius * (1.0 + slack)
        return np.ones(x.shape[0], dtype=bool)

    def kkt_exact(self, x: list[Fraction],
                  gradient: list[Fraction]) -> tuple[bool, Fraction | None, str]:
        r"""Decide exactly whether :math:`-\nabla f(x) \in \partial g(x)`.

        Parameters
        ----------
        x, gradient : list of Fraction
            The candidate and the exact gradient of f there.

        Returns
        -------
        (satisfied, margin, detail)
            ``margin`` is the smallest slack of the inequalities (strict
            complementarity when positive, None when no inequality is
            active); ``detail`` names the first
            violated condition.
        """
        name = self.name
        lam = Fraction(self.lam)
        margins: list[Fraction] = []
        if name == "simplex":
            return _simplex_kkt(x, gradient, Fraction(self.radius))
        for i, (xi, gi) in enumerate(zip(x, gradient)):
            if name in ("l1", "elastic_net"):
                if name == "elastic_net":
                    gi = gi + Fraction(self.l2) * xi
                if xi != 0:
                    sign = 1 if xi > 0 else -1
                    if gi != -lam * sign:
                        return False, Fraction(0), f"coordinate {i}: gradient {float(gi):.6g} != {-sign}*lambda"
                else:
                    margins.append(lam - abs(gi))
            elif name in ("nonnegative", "nonnegative_l1"):
                shift = lam if name == "nonnegative_l1" else Fraction(0)
                if xi < 0:
                    return False, Fraction(0), f"coordinate {i} is negative"
                if xi > 0:
                    if gi != -shift:
                        return False, Fraction(0), f"coordinate {i}: gradient not equal to {-float(shift):.6g}"
                else:
                    margins.append(gi + shift)
            elif name == "box":
                lower = _bound_fraction(self.lower[i])
                upper = _bound_fraction(self.upper[i])
                if (lower is not None and xi < lower) or (upper is not None and xi > upper):
                    return False, Fraction(0), f"coordinate {i} is outside the box"
                if (lower is None or lower < xi) and (upper is None or xi < upper):
                    if gi != 0:
                        return False, Fraction(0), f"coordinate {i}: interior but gradient nonzero"
                elif xi == lower and xi == upper:
                    continue
                elif xi == lower:
                    margins.append(gi)
                else:
                    margins.append(-gi)
            else:
                raise AssertionError(f"no exact KKT check for {name}")
            if margins and margins[-1] < 0:
                return False, margins[-1], f"coordinate {i}: subgradient condition violated"
        return True, (min(margins) if margins else None), "every subgradient condition holds exactly"

    def to_dict(self) -> dict:
        record: dict = {"name": self.name}
        if self.name in ("l1", "elastic_net", "group_l1", "nonnegative_l1"):
            record["lam"] = self.lam
        if self.name == "elastic_net":
            record["l2"] = self.l2
        if self.name == "box":
            record["lower"] = self.lower.tolist()
            record["upper"] = self.upper.tolist()
        if self.name in ("simplex", "l2_ball"):
            record["radius"] = self.radius
        if self.name == "group_l1":
            record["groups"] = self.groups.tolist()
        return record


def _bound_fraction(value: float) -> Fraction | None:
    """Return a finite box bound as a Fraction, or None for an infinite one."""
    return Fraction(float(value)) if math.isfinite(value) else None


def _simplex_kkt(x, gradient, radius) -> tuple[bool, Fraction, str]:
    # Minimizer over {x >= 0, sum x = r}: some nu has g_i = nu where x_i > 0 and g_i >= nu where x_i = 0.
    if any(xi < 0 for xi in x):
        return False, Fraction(0), "a coordinate is negative"
    if sum(x) != radius:
        return False, Fraction(0), "the coordinates do not sum to the radius"
    active = [gi for xi, gi in zip(x, gradient) if xi > 0]
    if not active or any(gi != active[0] for gi in active):
        return False, Fraction(0), "the gradient differs between positive coordinates"
    nu = active[0]
    margins = [gi - nu for xi, gi in zip(x, gradient) if xi == 0]
    margin = min(margins) if margins else None
    if margin is not None and margin < 0:
        return False, margin, "a zero coordinate has gradient below the multiplier"
    return True, margin, "every subgradient condition holds exactly"


def _project_simplex(v: np.ndarray, radius: float) -> np.ndarray:
    """Project each row onto {x >= 0, sum x = radius} (sort-based, Held, Wolfe and Crowder 1974)."""
    v2 = np.atleast_2d(v)
    ordered = -np.sort(-v2, axis=-1)
    cumulative = np.cumsum(ordered, axis=-1) - radius
    index = np.arange(1, v2.shape[-1] + 1)
    condition = ordered - cumulative / index > 0
    count = condition.shape[-1] - np.argmax(condition[:, ::-1], axis=-1)
    threshold = cumulative[np.arange(v2.shape[0]), count - 1] / count
    result = np.maximum(v2 - threshold[:, None], 0.0)
    return result.reshape(np.shape(v))


def make_regularizer(name: str, n: int, *, lam: float = 0.0, l2: float = 0.0, lower=None,
                     upper=None, radius: float = 1.0, groups=None, prefix: str = "") -> Regularizer:
    r"""Validate the parameters of a regularizer and return it.

    Raises
    ------
    InvalidModelError
        On an unknown name, :math:`\lambda < 0`, an empty box
        (``lower > upper``), a nonpositive radius, a box with lower = upper
        in every coordinate (a single point, like radius 0), or groups of
        the wrong length.
    """
    if name not in REGULARIZERS:
        raise InvalidModelError(f"{prefix}regularizer", "one of " + ", ".join(REGULARIZERS), name,
                                "Choose a regularizer from the list.")
    for key, value in (("lam", lam), ("l2", l2), ("radius", radius)):
        if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value)):
            raise InvalidModelError(f"{prefix}{key}", "a finite number", value, "Give a number.")
    if lam < 0:
        raise InvalidModelError(f"{prefix}lam", "lambda >= 0", lam,
                                "The weight of a norm must be nonnegative; use 0 to drop it.")
    if l2 < 0:
        raise InvalidModelError(f"{prefix}l2", "l2 >= 0", l2, "Use a nonnegative ridge weight.")
    # A single-point constraint set fixes the minimizer whatever f is, so there
    # is nothing to certify: radius 0 and a box with lower = upper in every
    # coordinate are rejected alike. A box that fixes only some coordinates is accepted.
    if name in ("simplex", "l2_ball") and radius <= 0:
        raise InvalidModelError(f"{prefix}radius", "a positive radius", radius,
                                "An empty or single-point set has no interior; give radius > 0.")
    lower_array = upper_array = None
    if name == "box":
        lower_array = _bound(lower, n, f"{prefix}lower", -np.inf)
        upper_array = _bound(upper, n, f"{prefix}upper", np.inf)
        empty = np.flatnonzero(lower_array > upper_array)
        if empty.size:
            i = int(empty[0])
            raise InvalidModelError(f"{prefix}lower[{i}]", f"at most upper[{i}] = {upper_array[i]}",
                                    float(lower_array[i]),
                                    "The box is empty: every lower bound must not exceed its "
                                    "upper bound.")
        if np.all(lower_array == upper_array):
            raise InvalidModelError(f"{prefix}upper", "a bound above lower in at least one "
                                    "coordinate", upper_array.tolist(),
                                    "The box is the single point x = lower, which is then the "
                                    "minimizer; widen at least one coordinate.")
    group_array = None
    if name == "group_l1":
        if groups is None:
            raise InvalidModelError(f"{prefix}groups", f"a list of {n} integer group labels",
                                    "nothing", "Add groups = [0, 0, 1, ...], one label per coordinate.")
        group_array = np.asarray(groups)
        if group_array.shape != (n,) or group_array.dtype.kind not in "iu":
            raise InvalidModelError(f"{prefix}groups", f"{n} integer group labels", groups,
                                    "Give one integer label per coordinate.")
    return Regularizer(name=name, n=n, lam=float(lam), l2=float(l2), lower=lower_array,
                       upper=upper_array, radius=float(radius), groups=group_array)


def _bound(value, n: int, field: str, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default)
    array = np.broadcast_to(np.asarray(value, dtype=float), (n,)) if np.ndim(value) == 0 \
        else np.asarray(value, dtype=float)
    if array.shape != (n,):
        raise InvalidModelError(field, f"a number or {n} numbers", value,
                                "Give one bound per coordinate or a single number.")
    if np.any(np.isnan(array)):
        raise InvalidModelError(field, "numbers, not NaN", value, "Replace NaN by a bound.")
    return array.copy()
