"""Routing and silences: which channels an alert goes to, which alerts are muted now, and its group key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from alerts.model import severity_rank
from ogwatch.config import AlertSettings


@dataclass(frozen=True)
class Silence:
    """A rule ('*': any) and label matchers, active until `expires_at`."""

    rule: str
    matchers: dict[str, str]
    expires_at: datetime

    def matches(self, rule: str, labels: dict[str, str], now: datetime) -> bool:
        """Active now and matching the rule and every matcher."""
        if now >= self.expires_at or self.rule not in ("*", rule):
            return False
        return all(labels.get(k) == v for k, v in self.matchers.items())


def active_silences(cur: duckdb.DuckDBPyConnection, settings: AlertSettings, now: datetime) -> list[Silence]:
    """Stored silences and config silences that have not expired."""
    rows = cur.execute("SELECT rule, matchers, expires_at FROM silences WHERE expires_at > ?", [now]).fetchall()
    out = [Silence(str(r), json.loads(m), e) for r, m, e in rows]
    out += [Silence(s.rule, dict(s.matchers), s.until) for s in settings.silences if s.until > now]
    return out


def silenced(silences: list[Silence], rule: str, labels: dict[str, str], now: datetime) -> bool:
    """Whether any active silence mutes an alert."""
    return any(s.matches(rule, labels, now) for s in silences)


def channels_for(settings: AlertSettings, rule: str, severity: str) -> list[str]:
    """The channels whose routes take this rule at this severity (no routes: none)."""
    out: list[str] = []
    for r in settings.routes:
        if (not r.rules or rule in r.rules) and severity_rank(severity) >= severity_rank(r.min_severity):
            if r.channel not in out:
                out.append(r.channel)
    return out


def group_key(settings: AlertSettings, rule: str, labels: dict[str, str]) -> str:
    """The group an alert belongs to: `rule` and the configured labels."""
    return ",".join(f"{k}={rule if k == 'rule' else labels.get(k, '')}" for k in settings.group_by)
