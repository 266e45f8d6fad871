"""Settlement data for the page: the `settlement_*` named queries (store/queries_settlements.py), cached.

Every call goes through `ogwatch.ui.data.query` (st.cache_data, never raises for store trouble). The helpers
below only shape and word what the queries return: durations, the headline, whether the blob check is on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from ogwatch import config as configmod
from ogwatch.ui import data

MODES = ("batch", "individual")
STATUSES = ("verified", "mismatch", "unavailable", "unchecked")


def summary(chain_id: int | None) -> data.Result:
    """Per chain: settlements, settled inferences, lag p50/p95/max, last settlement, blob checks."""
    return data.query("settlement_summary", chain_id=chain_id)


def windowed(name: str, chain_id: int | None, since: datetime | None) -> pd.DataFrame:
    """A `settlement_*` query that takes a time window (rows, or none on store trouble)."""
    return data.query(name, chain_id=chain_id, since=since).df


def recent(chain_id: int | None, since: datetime | None, limit: int) -> pd.DataFrame:
    """The newest `limit` settlements of the window (settlement_list_recent; none on store trouble)."""
    return data.query("settlement_list_recent", chain_id=chain_id, since=since, limit=limit).df


def recent_checks(chain_id: int | None, limit: int) -> pd.DataFrame:
    """The first `limit` rows of settlement_blob_checks (settlement_blob_checks_recent; none on store trouble)."""
    return data.query("settlement_blob_checks_recent", chain_id=chain_id, limit=limit).df


def window_count(hourly: pd.DataFrame, total: int, since: datetime | None) -> int:
    """Settlements in the window: all of them when unbounded, else the hourly counts added up."""
    return total if since is None else int(hourly["settlements"].sum()) if not hourly.empty else 0


def per_chain(name: str, chain_id: int | None) -> pd.DataFrame:
    """A `settlement_*` query that takes only the chain (rows, or none on store trouble)."""
    return data.query(name, chain_id=chain_id).df


def duration(seconds: Any) -> str:
    """Seconds as a short human duration ('n/a' when unknown)."""
    if seconds is None or pd.isna(seconds):
        return "n/a"
    secs = float(seconds)
    sign, secs = ("-" if secs < 0 else ""), abs(secs)
    if secs < 120:
        return f"{sign}{secs:g} s"
    if secs < 7200:
        return f"{sign}{secs / 60:.1f} min"
    if secs < 172800:
        return f"{sign}{secs / 3600:.1f} h"
    return f"{sign}{secs / 86400:.1f} d"


def totals(df: pd.DataFrame) -> dict[str, Any]:
    """The summary rows of all selected chains added up (lags: the worst chain's, when several)."""
    if df.empty:
        return {}
    one = len(df) == 1
    out: dict[str, Any] = {k: int(df[k].sum()) for k in ("settlements", "settled_inferences", "blobs_verified",
                                                          "blobs_mismatch", "blobs_unavailable")}
    for k in ("lag_p50_s", "lag_p95_s", "lag_max_s"):
        out[k] = df[k].iloc[0] if one else df[k].max()
    out["last_settlement_ts"] = df["last_settlement_ts"].max()
    out["lags_note"] = "" if one else "worst chain's value (several chains selected)"
    return out


def headline(t: dict[str, Any]) -> str:
    """One sentence: how much settled and how late."""
    if not t:
        return ""
    return (f"{t['settled_inferences']:,} inferences settled in {t['settlements']:,} settlements; "
            f"lag p50 {duration(t['lag_p50_s'])}, p95 {duration(t['lag_p95_s'])}, max {duration(t['lag_max_s'])}.")


def blob_check_networks(cfg: configmod.Config, chain_id: int | None) -> dict[str, bool]:
    """Per network with a settlement relay (in the selection): is the Walrus blob check on?"""
    out = {}
    for key, net in cfg.networks.items():
        if chain_id is not None and net.chain_id != chain_id:
            continue
        if any(c.kind in ("settlement_relay", "settlement_relay_v1") for c in cfg.contracts_on(key)):
            out[key] = bool(net.walrus_aggregator_url)
    return out


def coverage_text(cov: pd.DataFrame) -> str:
    """'checked of batches' over the selection, with the counts per status."""
    if cov.empty:
        return "no batch settlements yet"
    n = {k: int(cov[k].sum()) for k in ("batches", "checked", "verified", "mismatch", "unavailable", "unchecked")}
    pct = f" ({100 * n['checked'] / n['batches']:.0f} %)" if n["batches"] else ""
    return (f"{n['checked']} of {n['batches']} batches checked{pct}: {n['verified']} verified, "
            f"{n['mismatch']} mismatch, {n['unavailable']} unavailable, {n['unchecked']} not checked yet")
