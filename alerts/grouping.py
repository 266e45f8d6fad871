"""Grouping: per (channel, group) one notification for what changed, never a storm of single messages.

A group that has something new (an alert firing that its last notification did not carry, or one that
resolved or was retracted since) is sent `group_wait` after it first became dirty (0 when a critical alert
fires, and for retractions), then at most every `group_interval`; a group still firing with nothing new is
repeated every `repeat_interval`. Resolutions are sent only with `send_resolved`; silenced alerts never.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from alerts import outbox
from alerts.routing import channels_for
from ogwatch.config import AlertSettings

_COLS = ("fingerprint", "rule", "severity", "status", "silenced", "summary", "labels", "evidence", "source_chain",
         "source_block", "chain_time", "first_fired_at", "resolved_at", "group_key")


@dataclass(frozen=True)
class Group:
    """One (channel, group) with what its last notification carried."""

    channel: str
    key: str
    dirty_since: datetime | None
    last_sent_at: datetime | None
    sent_firing: frozenset[str]


def _alerts(cur: duckdb.DuckDBPyConnection, extra: set[str]) -> dict[str, dict[str, Any]]:
    rows = cur.execute(f"SELECT {', '.join(_COLS)} FROM alerts WHERE status = 'firing' "  # noqa: S608 - constant
                       "OR fingerprint IN (SELECT unnest(?))", [sorted(extra)]).fetchall()
    return {r[0]: dict(zip(_COLS, r, strict=True)) for r in rows}


def _groups(cur: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], Group]:
    rows = cur.execute("SELECT channel, group_key, dirty_since, last_sent_at, sent_firing FROM alert_groups").fetchall()
    return {(c, k): Group(c, k, d, s, frozenset(json.loads(f))) for c, k, d, s, f in rows}


def _public(a: dict[str, Any]) -> dict[str, Any]:
    out = {k: a[k] for k in _COLS if k not in ("group_key", "silenced")}
    out["labels"], out["evidence"] = json.loads(a["labels"]), json.loads(a["evidence"])
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items()}


def _due(g: Group, new: list[dict[str, Any]], retracted: bool, settings: AlertSettings, now: datetime) -> bool:
    urgent = retracted or any(a["severity"] == "critical" for a in new)
    since = g.dirty_since or now
    if g.last_sent_at is None:
        return urgent or now >= since + timedelta(seconds=settings.group_wait_seconds)
    return urgent or now >= g.last_sent_at + timedelta(seconds=settings.group_interval_seconds)


def _save(cur: duckdb.DuckDBPyConnection, g: Group, dirty: datetime | None, sent: datetime | None,
          firing: set[str]) -> None:
    cur.execute("INSERT OR REPLACE INTO alert_groups VALUES (?, ?, ?, ?, ?)",
                [g.channel, g.key, dirty, sent, json.dumps(sorted(firing))])


def _flush_one(cur: duckdb.DuckDBPyConnection, g: Group, members: list[dict[str, Any]], settings: AlertSettings,
               now: datetime) -> int:
    firing = {a["fingerprint"] for a in members if a["status"] == "firing" and not a["silenced"]}
    new = [a for a in members if a["fingerprint"] in firing - g.sent_firing]
    ended = [a for a in members if a["fingerprint"] in g.sent_firing - firing and a["status"] != "firing"]
    told = [a for a in ended if a["status"] == "retracted" or settings.send_resolved]
    if not new and not told:
        every = timedelta(seconds=settings.repeat_interval_seconds)
        repeat = firing and g.last_sent_at and now >= g.last_sent_at + every
        if not repeat:
            if firing != g.sent_firing:  # silent changes (silenced, unsent resolutions) just update the memory
                _save(cur, g, None, g.last_sent_at, firing)
            return 0
        kind = "repeat"
    else:
        if not _due(g, new, any(a["status"] == "retracted" for a in told), settings, now):
            _save(cur, g, g.dirty_since or now, g.last_sent_at, set(g.sent_firing))
            return 0
        kind = "firing" if new else ("retracted" if any(a["status"] == "retracted" for a in told) else "resolved")
    body = [_public(a) for a in members if a["fingerprint"] in firing] + [_public(a) for a in told]
    outbox.enqueue(cur, g.channel, kind, g.key, body, now)
    _save(cur, g, None, now, firing)
    return 1


def flush(cur: duckdb.DuckDBPyConnection, settings: AlertSettings, now: datetime) -> int:
    """Write every notification that is due to the outbox; returns how many."""
    groups = _groups(cur)
    alerts = _alerts(cur, set().union(*(g.sent_firing for g in groups.values())) if groups else set())
    members: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in alerts.values():
        for ch in channels_for(settings, a["rule"], a["severity"]):
            members.setdefault((ch, a["group_key"]), []).append(a)
    for key in groups:
        members.setdefault(key, [])
    sent = 0
    for key, group_members in sorted(members.items()):
        g = groups.get(key) or Group(key[0], key[1], None, None, frozenset())
        sent += _flush_one(cur, g, group_members, settings, now)
    return sent

