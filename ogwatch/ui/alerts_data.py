"""Alerts data for the page: alerts with their evidence, history, silences, delivery status and dead letters.

Everything reads named queries (`alerts_*`, store/queries_alerts.py) through a `Runner` (name, **params) ->
DataFrame: the cached `ogwatch.ui.data.query` for the page. No URL or secret is ever in these tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

Runner = Callable[..., pd.DataFrame]
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
ALERT_COLUMNS = ["severity", "rule", "summary", "status", "silenced", "first_fired_at", "last_seen_at", "resolved_at",
                 "source_chain", "source_block", "fingerprint"]


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}


def alerts(query: Runner, status: str | None = None) -> list[dict[str, Any]]:
    """Alerts (firing first, then by severity) with labels and evidence as objects."""
    df = query("alerts_list", status=status)
    out: list[dict[str, Any]] = []
    for r in df.to_dict("records"):
        row = {str(k): v for k, v in r.items()}
        out.append({**row, "labels": _json(row["labels"]), "evidence": _json(row["evidence"])})
    return out


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Firing alerts by severity; silenced ones counted apart."""
    out = {"critical": 0, "warning": 0, "info": 0, "silenced": 0}
    for r in rows:
        if r["status"] == "firing":
            key = "silenced" if r["silenced"] else str(r["severity"])
            out[key] = out.get(key, 0) + 1
    return out


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Alerts as a display table."""
    return pd.DataFrame(rows, columns=ALERT_COLUMNS) if rows else pd.DataFrame(columns=ALERT_COLUMNS)


def silences(query: Runner, now: datetime | None = None) -> pd.DataFrame:
    """Stored silences with an `active` flag (config silences are listed by the page from the config)."""
    return query("alerts_silences", now=(now or datetime.now(UTC)).isoformat())


def deliveries(query: Runner) -> dict[str, pd.DataFrame]:
    """Per-channel summary, dead letters, recent notifications and recent attempts."""
    return {"summary": query("alerts_delivery_summary"), "dead": query("alerts_dead_letters"),
            "outbox": query("alerts_outbox", status=None, channel=None),
            "attempts": query("alerts_attempts", message_id=None)}


def last_run(query: Runner) -> dict[str, Any] | None:
    """The latest evaluation pass, with its rule errors as a dict."""
    df = query("alerts_last_run")
    if df.empty:
        return None
    r = {str(k): v for k, v in df.to_dict("records")[0].items()}
    return {**r, "errors": _json(r["errors"])}
