r"""Certificates: a claim, its status and the evidence to re-check it.

Status semantics, shared by every method and family:

``certified``
    The claim holds. A floating-point proposal was re-checked in exact
    rational arithmetic (``checked="exact"``) or with a rigorous
    outward-rounded bound (``checked="interval"``). ``margin`` is the slack
    left in the checked inequality.
``refuted``
    The claim is false, shown by ``witness`` (two equilibria, a Jacobian with
    an eigenvalue of nonnegative real part, a state where the energy grows).
    ``checked`` states how the witness was checked; ``"float"`` means by
    floating-point residuals only.
``inconclusive``
    Neither; ``reason`` says why (a solver status, a rate that is not
    positive in this metric, a size limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

# Claim names shared by the API, model files and the JSON report.
from ..models import CLAIMS

__all__ = ["Certificate", "CERTIFIED", "REFUTED", "INCONCLUSIVE", "CLAIMS"]

CERTIFIED = "certified"
REFUTED = "refuted"
INCONCLUSIVE = "inconclusive"

Status = Literal["certified", "refuted", "inconclusive"]
Checked = Literal["exact", "interval", "float"]


@dataclass
class Certificate:
    r"""The result of one certificate method.

    Attributes
    ----------
    method : str
        ``log_norm_inf``, ``log_norm_1``, ``lmi_euclidean``, ``lmi_diagonal``,
        ``energy`` or ``linearization``.
    claim : str
        One of :data:`CLAIMS`.
    status : {"certified", "refuted", "inconclusive"}
    rate : float or None
        Certified contraction or decay rate :math:`c`, meaning
        :math:`\|x(t) - y(t)\| \le e^{-ct}\|x(0) - y(0)\|` in ``metric``.
        For a certified rate this float is at most the exactly checked
        rational rate ``evidence["rate_exact"]``.
    metric : dict
        The norm: ``{"norm": "l_inf", "weights": [...]}`` with
        :math:`\|x\| = \max_i |x_i| / \eta_i`, ``{"norm": "l_1", "weights":
        [...]}`` with :math:`\|x\| = \sum_i |x_i| / \eta_i`, or
        ``{"norm": "quadratic", "P": [[...]]}`` with :math:`\|x\|^2 = x^T P x`.
    checked : {"exact", "interval", "float"} or None
    margin : float or None
        Slack of the checked inequality (positive when certified).
    reason : str
        Why the result is inconclusive, or a short account of the result.
    witness : dict or None
        Evidence of a refutation.
    evidence : dict
        What an independent check needs (weights, P, multipliers, the
        rational rate).
    details : dict
        Further figures (unweighted rate, solver status, timings).
    """

    method: str
    claim: str
    status: Status
    rate: float | None = None
    metric: dict | None = None
    checked: Checked | None = None
    margin: float | None = None
    reason: str = ""
    witness: dict | None = None
    evidence: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in (CERTIFIED, REFUTED, INCONCLUSIVE):
            raise ValueError(f"unknown status {self.status!r}")
        if self.status == CERTIFIED and self.checked not in ("exact", "interval"):
            raise ValueError("a certified result must be checked exactly or by intervals, "
                             f"not {self.checked!r}")
        if self.status == REFUTED and not self.witness:
            raise ValueError("a refuted result needs a witness")
        if self.status == INCONCLUSIVE and not self.reason:
            raise ValueError("an inconclusive result needs a reason")

    @property
    def certified(self) -> bool:
        return self.status == CERTIFIED

    def to_dict(self, *, include_evidence: bool = True) -> dict[str, Any]:
        """Return a JSON-ready dictionary (large arrays are kept whole)."""
        record: dict[str, Any] = {
            "method": self.method,
            "claim": self.claim,
            "status": self.status,
            "rate": self.rate,
            "checked": self.checked,
            "margin": self.margin,
        }
        if self.metric is not None:
            record["metric"] = self.metric
        if self.reason:
            record["reason"] = self.reason
        if self.witness is not None:
            record["witness"] = self.witness
        if include_evidence and self.evidence:
            record["evidence"] = self.evidence
        if self.details:
            record["details"] = self.details
        return to_json_value(record)

    def summary(self) -> str:
        """Return one line for the terminal."""
        parts = [f"{self.method}: {self.claim} {self.status}"]
        if self.rate is not None and self.status == CERTIFIED:
            parts.append(f"rate {self.rate:.6g}")
        if self.checked:
            parts.append(f"checked {self.checked}")
        if self.reason and self.status != CERTIFIED:
            parts.append(self.reason)
        return ", ".join(parts)


def to_json_value(value: Any) -> Any:
    """Convert numpy values, fractions and non-finite floats to JSON values."""
    if isinstance(value, dict):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_json_value(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if value is None or isinstance(value, str):
        return value
    return str(value)
