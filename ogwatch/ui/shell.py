"""The dashboard shell every page uses: header, network and time-window filters, data-health strip.

Filters live in the URL (`?network=bsc&window=7d`) so any view can be shared, and in session state
so they survive moving between pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from ogwatch.ui import data

ALL = "all"
WINDOWS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7),
    "30d": timedelta(days=30), "all": None,
}
DEFAULT_WINDOW = "7d"


@dataclass(frozen=True)
class Filters:
    """What every page honours: one network (or all) and a time window."""

    network: str
    chain_id: int | None
    window: str

    @property
    def since(self) -> datetime | None:
        """Start of the window in UTC (None = all time)."""
        span = WINDOWS[self.window]
        return None if span is None else datetime.now(UTC) - span


def _param(key: str, allowed: list[str], default: str) -> str:
    value = st.query_params.get(key) or st.session_state.get(f"f_{key}") or default
    return value if value in allowed else default


def filters() -> Filters:
    """Sidebar selectors, initialised from the URL and written back to it."""
    cfg = data.config()
    nets = [ALL, *cfg.networks]
    names = {ALL: "All networks", **{k: f"{n.name} ({n.chain_id})" for k, n in cfg.networks.items()}}
    network = st.sidebar.selectbox("Network", nets, index=nets.index(_param("network", nets, ALL)),
                                   format_func=names.__getitem__, key="sel_network")
    wins = list(WINDOWS)
    window = st.sidebar.radio("Time window", wins, index=wins.index(_param("window", wins, DEFAULT_WINDOW)),
                              horizontal=True, key="sel_window")
    st.session_state["f_network"], st.session_state["f_window"] = network, window
    st.query_params["network"], st.query_params["window"] = network, window
    chain_id = None if network == ALL else cfg.networks[network].chain_id
    return Filters(network, chain_id, window)


def page(title: str, caption: str) -> Filters:
    """Standard page top: title, one-line purpose, filters and the data-health strip."""
    st.title(title)
    st.caption(caption)
    f = filters()
    health_strip(f)
    return f


def _age(ts: datetime | pd.Timestamp | None) -> str:
    if ts is None or pd.isna(ts):
        return "never"
    secs = int((datetime.now(UTC) - pd.Timestamp(ts).to_pydatetime()).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            return f"{secs // size} {unit} ago"
    return f"{max(secs, 0)} s ago"


def health_strip(f: Filters) -> None:
    """Last indexed block, its age, lag and recent errors for the selected network(s)."""
    health = data.query("collector_health_latest", chain_id=f.chain_id)
    beat = data.query("service_heartbeat")
    box = st.container(border=True)
    if health.missing or beat.missing:
        box.warning("**Data health:** no store yet. Nothing has been collected: start the collectors "
                    "(`ogwatch run`, or `ogwatch demo` for the local devnet).")
        return
    if health.error or beat.error:
        box.error(f"**Data health:** store unavailable: {health.error or beat.error}")
        return
    c1, c2, c3, c4 = box.columns(4)
    last_beat = beat.df["last_at"].iloc[0] if len(beat.df) else None
    c1.metric("Scheduler pulse", _age(last_beat), help="Wall-clock age of the scheduler's last heartbeat.")
    if health.empty:
        c2.metric("Last indexed block", "none", help="No collector has reported for this selection yet.")
        c3.metric("Lag (blocks)", "n/a")
        c4.metric("Errors (1 h)", "0")
        return
    df = health.df
    c2.metric("Last indexed block", _count(df["indexed_block"].max()),
              help=f"Reported {_age(df['observed_at'].max())} by {len(df)} collector(s).")
    c3.metric("Lag (blocks)", _count(df["lag_blocks"].max()),
              help="Head minus indexed block, worst collector (n/a while every last tick failed).")
    c4.metric("Errors (1 h)", f"{int(df['errors_1h'].sum())}", help="Failed collector ticks in the last hour.")
    for problem in df[(df["collector"] == "rpc_crosscheck") & ~df["ok"].astype(bool)]["error"].dropna():
        box.error(f"**RPC cross-check:** {problem}")  # URLs disagree or lag (collectors/crosscheck.py)


def _count(value: object) -> str:
    """A block number or count with separators; "n/a" when unknown (NaN/None, e.g. every tick failed)."""
    return "n/a" if value is None or pd.isna(value) else f"{int(value):,}"  # type: ignore[call-overload]


def empty_state(what: str, why: str) -> None:
    """Say what will appear here and why it is empty now."""
    st.info(f"**{what}**\n\n{why}")
