"""The shapes alerts work with: a rule's finding, a stored alert, severities and fingerprints."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SEVERITIES = ("info", "warning", "critical")


def severity_rank(severity: str) -> int:
    """0 info, 1 warning, 2 critical (unknown severities rank as info)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def fingerprint(rule: str, *key: Any) -> str:
    """A stable id of what an alert is about: the same rule and key always give the same fingerprint."""
    text = json.dumps([rule, *(str(k) for k in key)], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Finding:
    """One condition a rule finds true now (an alert that should be firing)."""

    rule: str
    key: tuple[Any, ...]                 # what the alert is about; hashed into the fingerprint
    severity: str
    summary: str
    labels: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    source_chain: int | None = None      # the chain data it came from: a reorg below it retracts the alert
    source_block: int | None = None
    chain_time: datetime | None = None   # head-block time of that chain at evaluation

    @property
    def fingerprint(self) -> str:
        """The alert's stable fingerprint."""
        return fingerprint(self.rule, *self.key)


@dataclass(frozen=True)
class AlertRow:
    """An alert as stored (the fields the state machine needs)."""

    fingerprint: str
    rule: str
    severity: str
    status: str
    group_key: str
    summary: str
    labels: dict[str, str]
    source_chain: int | None
    source_block: int | None
    first_fired_at: datetime
    silenced: bool


def jsonable(value: Any) -> Any:
    """Plain JSON for evidence: numpy scalars, timestamps and NaN made plain."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or str(value) in ("NaT", "nan", "<NA>"):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
