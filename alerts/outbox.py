"""The outbox: every notification is a row first (same transaction as the state that caused it), then sent.

Its id (the `webhook-id`) is fixed here, once, so every retry and every restart resends the same id; the
per-channel sequence number lets receivers order and deduplicate.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import duckdb


def next_seq(cur: duckdb.DuckDBPyConnection, channel: str) -> int:
    """The channel's next sequence number (1, 2, ...)."""
    row = cur.execute("SELECT coalesce(max(seq), 0) + 1 FROM outbox WHERE channel = ?", [channel]).fetchone()
    return int(row[0]) if row else 1


def enqueue(cur: duckdb.DuckDBPyConnection, channel: str, kind: str, group: str, alerts: list[dict[str, Any]],
            now: datetime, extra: dict[str, Any] | None = None) -> str:
    """Write one notification to the outbox, due now; returns its webhook-id."""
    msg_id = "msg_" + uuid.uuid4().hex
    seq = next_seq(cur, channel)
    fps = [a["fingerprint"] for a in alerts]
    body = {"type": f"ogwatch.alert.{kind}" if alerts else f"ogwatch.{kind}", "id": msg_id, "channel": channel,
            "seq": seq, "kind": kind, "group": group, "created_at": now.isoformat(), "fingerprints": fps,
            "fingerprint": fps[0] if len(fps) == 1 else None, "alerts": alerts, **(extra or {})}
    cur.execute("INSERT INTO outbox (id, channel, seq, kind, group_key, fingerprints, body, created_at, status, "
                "attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                [msg_id, channel, seq, kind, group, json.dumps(fps), json.dumps(body, sort_keys=True, default=str),
                 now, now])
    return msg_id
