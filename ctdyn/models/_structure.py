r"""The structure that certifiers consume: a Jacobian set over a slope box.

Both network families have Jacobians of the form

.. math:: J(D) = -C + L\,D\,R, \qquad D = \operatorname{diag}(d),\;
          d_i \in [d_{\min}, d_{\max}],

with :math:`C` a positive diagonal leak. Firing-rate networks have
:math:`L = I, R = W` (``side="left"``: :math:`-C + DW`); Hopfield networks
have :math:`L = W, R = I` (``side="right"``: :math:`-C + WD`). Certifiers read
this object and never a family's name, so a new family that produces a
:class:`JacobianSet` gets every certificate for free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction
from typing import Literal

import numpy as np
import scipy.sparse as sps

__all__ = ["JacobianSet"]


@dataclass(frozen=True, eq=False)
class JacobianSet:
    r"""The set :math:`\{-C + D W\}` or :math:`\{-C + W D\}` over a slope box.

    Attributes
    ----------
    weights : ndarray or scipy.sparse.csr_array, shape (n, n)
    leak : ndarray, shape (n,)
        Diagonal of :math:`C`, every entry positive.
    side : {"left", "right"}
        ``"left"`` for :math:`-C + DW`, ``"right"`` for :math:`-C + WD`.
    slope_min, slope_max : Fraction
        Outward-rounded rational slope bounds; every Jacobian of the model is
        in this set.
    exact_box : bool
        True when every :math:`D` of the box is a limit of Jacobians the model
        attains, so a box vertex with an unstable eigenvalue refutes
        contraction of the model itself, not just of the box. Computed on
        first use, since for firing-rate networks it needs an exact rank.
    """

    weights: np.ndarray | sps.csr_array
    leak: np.ndarray
    side: Literal["left", "right"]
    slope_min: Fraction
    slope_max: Fraction
    exact_box_test: Callable[[], bool] | None = field(default=None, repr=False)

    @cached_property
    def exact_box(self) -> bool:
        return bool(self.exact_box_test()) if self.exact_box_test is not None else False

    @property
    def n(self) -> int:
        return self.weights.shape[0]

    @property
    def is_sparse(self) -> bool:
        return sps.issparse(self.weights)

    def dense_weights(self) -> np.ndarray:
        return self.weights.toarray() if self.is_sparse else np.asarray(self.weights)

    def transpose(self) -> "JacobianSet":
        r"""Return the set of transposed Jacobians.

        :math:`(-C + DW)^T = -C + W^T D`, so the l_1 log-norm of one side is
        the l_inf log-norm of the other.
        """
        return JacobianSet(
            weights=self.weights.T.tocsr() if self.is_sparse else np.ascontiguousarray(self.weights.T),
            leak=self.leak,
            side="right" if self.side == "left" else "left",
            slope_min=self.slope_min,
            slope_max=self.slope_max,
            exact_box_test=self.exact_box_test,
        )

    def at(self, slopes: np.ndarray) -> np.ndarray:
        """Return the dense Jacobian :math:`J(D)` for one slope vector ``d``."""
        weights = self.dense_weights()
        slopes = np.asarray(slopes, dtype=float)
        if self.side == "left":
            product = slopes[:, None] * weights
        else:
            product = weights * slopes[None, :]
        return product - np.diag(self.leak)

    def vertices(self):
        """Yield every slope vector of the box's 2**n vertices (small n only)."""
        if self.n > 20:
            raise ValueError(f"vertex enumeration of 2**{self.n} slope vectors is too large; "
                             "use n <= 20")
        low, high = float(self.slope_min), float(self.slope_max)
        for index in range(2**self.n):
            bits = (index >> np.arange(self.n)) & 1
            yield np.where(bits == 1, high, low)
