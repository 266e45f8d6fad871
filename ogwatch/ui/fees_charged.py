"""Fee actually charged: every Trade of one market checked against the rate in effect at its position.

Reads the store only through `ogwatch.ui.data.query`; the rules live in analysis/charged_fees.py. When the
first trades come before any known rate, the rate is read live from historical state at the block before the
first trade (`collectors.fee_history`, cached) if the node still has it; otherwise they stay "unknown-rate" and
the page says why.
"""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import streamlit as st

from analysis.charged_fees import (
    Timeline,
    TradePositions,
    after_hike,
    check_trades,
    needs_history,
    rate_timeline,
    trade_positions,
    with_history,
)
from collectors import fee_history
from ogwatch.config import Config
from ogwatch.ui.data import config, query

VERDICTS = ("ok", "mismatch", "n/a", "unknown-rate")
READS = ("charged_trades", "charged_setter_events", "charged_fee_changes", "charged_fee_readings")
SHOWN_ROWS = 500  # rows of a large table drawn on the page (downloads hold every row)
EMITS_SETTER_EVENTS = frozenset({"twinfun_market"})  # every fee change emits an event (the BSC Twin.fun market)
VERDICT_TEXT = {
    "ok": "charged exactly the expected fee",
    "mismatch": "charged a fee other than the rate in effect gives",
    "n/a": "zero price: no fee to check",
    "unknown-rate": "the rate at this trade is not known",
}
CAPTION = ("**unknown-rate**: a fee change found from state is only placed to a block or a block range (or a "
           "transaction without its log), so trades inside that span cannot be checked; trades before the first "
           "known rate use the node's historical state when it still has it. "
           "**n/a**: the trade's price was zero, so no fee was due. "
           "Expected fee = price × rate / 10¹⁸, floored, in exact integers.")
MISMATCH_COLUMNS = ["block_number", "tx_index", "log_index", "tx_hash", "protocol_expected", "protocol_charged",
                    "protocol_verdict", "subject_expected", "subject_charged", "subject_verdict"]


@st.cache_data(ttl=60, show_spinner=False)
def past_rates(_cfg: Config, net_key: str, network: str, address: str, kind: str,
               block: int) -> fee_history.PastRates:
    """`fee_history.rates_at`, cached for 60 s per network settings, market and block."""
    return fee_history.rates_at(_cfg, network, address, kind, block)


def _market_of(cfg: Config, chain_id: int, address: str) -> tuple[str, str] | None:
    """(network key, kind) of a configured market."""
    nets = {key for key, n in cfg.networks.items() if n.chain_id == chain_id}
    for c in cfg.contracts:
        if c.network in nets and c.address.lower() == address.lower() and c.kind.endswith("_market"):
            return c.network, c.kind
    return None


def add_history(trades: pd.DataFrame, timeline: Timeline,
                at: TradePositions | None = None) -> tuple[Timeline, list[dict[str, Any]]]:
    """The timeline with historical rates before each market's first trade where needed, and what was read."""
    cfg, notes = config(), []
    for (chain_id, address), first in needs_history(trades, timeline, at).items():
        where = _market_of(cfg, chain_id, address)
        if where is None:
            past = fee_history.PastRates(first - 1, None, "the market is not in the config: no node to ask")
        else:
            net = cfg.networks[where[0]].model_dump_json(include={"chain_id", "rpc_urls", "rpc_url_env"})
            past = past_rates(cfg, net, where[0], address, where[1], first - 1)
        timeline = with_history(timeline, (chain_id, address), past.block, past.rates, past.reason,
                                events_complete=where is not None and where[1] in EMITS_SETTER_EVENTS)
        notes.append({"address": address, "block": past.block, "read": past.rates is not None,
                      "reason": past.reason})
    return timeline, notes


class _NotCached(Exception):
    """Raised by `charged_summary` on a peek that missed (exceptions are never cached)."""


_peek = threading.local()


Summary = tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]


def cached(chain_id: int, address: str, n_blocks: int = 3) -> Summary | None:
    """`charged_summary`'s cached result, or None when it is not cached (nothing is computed here)."""
    _peek.on = True
    try:
        return charged_summary(chain_id, address, n_blocks)
    except _NotCached:
        return None
    finally:
        _peek.on = False


def wanted(chain_id: int, address: str) -> list[tuple[str, dict[str, Any]]]:
    """The named queries `charged_summary` reads (for one batched prefetch with the rest of the page)."""
    return [(name, {"chain_id": int(chain_id), "address": address}) for name in READS]


@st.cache_data(ttl=10, show_spinner=False)
def charged_summary(chain_id: int, address: str, n_blocks: int = 3) -> Summary:
    """(summary, per-trade check, trades within n_blocks after a hike) for one market.

    summary: `trades`, one count per verdict, `after_hike` (rows), `n_blocks`, `history` (the historical reads
    made before the first known rate: address, block, read, reason), and `missing` / `error` when the store
    could not be read (the frames are then empty).
    """
    if getattr(_peek, "on", False):
        raise _NotCached(address)
    params = {"chain_id": int(chain_id), "address": address}
    results = {name: query(name, **params) for name in READS}
    missing = any(r.missing for r in results.values())
    error = next((r.error for r in results.values() if r.error), "")
    trades = results["charged_trades"].df.astype(object)  # plain Python values: the row-wise checks run faster
    history: list[dict[str, Any]] = []
    if missing or error or trades.empty:
        checked, hiked = check_trades(pd.DataFrame(), {}), after_hike(pd.DataFrame(), {}, n_blocks)
    else:
        timeline = rate_timeline(results["charged_setter_events"].df, results["charged_fee_changes"].df,
                                 results["charged_fee_readings"].df)
        at = trade_positions(trades)  # read once for the three passes over the trades
        timeline, history = add_history(trades, timeline, at)
        checked, hiked = check_trades(trades, timeline, at), after_hike(trades, timeline, n_blocks, at)
    counts = checked["verdict"].value_counts()
    summary: dict[str, Any] = {"trades": len(checked), **{v: int(counts.get(v, 0)) for v in VERDICTS},
                               "after_hike": len(hiked), "n_blocks": n_blocks, "history": history,
                               "missing": missing, "error": error}
    return summary, checked, hiked


def render_charged(chain_id: int, address: str, n_blocks: int = 3, known: Summary | None = None) -> None:
    """The "Fee actually charged" section for one market (`known`: the summary when the caller has it)."""
    st.subheader("Fee actually charged")
    summary, checked, hiked = known or charged_summary(chain_id, address, n_blocks)
    if summary["missing"]:
        st.info("No store yet: start the collectors to check charged fees.")
        return
    if summary["error"]:
        st.error(f"Could not read trades: {summary['error']}")
        return
    if checked.empty:
        st.info("No trades recorded for this market yet.")
        return
    cols = st.columns(len(VERDICTS))
    for col, verdict in zip(cols, VERDICTS, strict=True):
        col.metric(verdict, summary[verdict], help=VERDICT_TEXT[verdict])
    st.caption(CAPTION)
    for h in summary["history"]:
        if h["read"]:
            st.caption(f"Rates before the first known change: read from the node's state at block {h['block']}.")
        else:
            st.caption(f"Rates before the first known change: unknown ({h['reason']}).")
    if summary["mismatch"]:
        st.error(f"{summary['mismatch']} of {summary['trades']} trades were charged a fee that does not match "
                 "the rate in effect.")
        wrong = checked.loc[checked["verdict"] == "mismatch", MISMATCH_COLUMNS]
        if len(wrong) > SHOWN_ROWS:  # a table of tens of thousands of rows costs seconds; the CSV has them all
            st.caption(f"The first {SHOWN_ROWS} of {len(wrong)} mismatched trades; all are in the CSV below.")
        st.dataframe(wrong.head(SHOWN_ROWS), hide_index=True)
    else:
        st.success(f"No mismatches: {summary['ok']} of {summary['trades']} trades charged exactly the expected fee.")
    st.markdown(f"**Trades within {n_blocks} blocks after a fee hike:** {summary['after_hike']}")
    if not hiked.empty:
        st.dataframe(hiked, hide_index=True, key="charged_after_hike")
    st.download_button("Download per-trade check (CSV)", lambda: checked.to_csv(index=False).encode(),
                       file_name=f"charged-fees-{chain_id}-{address.lower()}.csv", mime="text/csv",
                       key="charged_csv")


__all__ = ["CAPTION", "READS", "VERDICTS", "Summary", "cached", "charged_summary", "render_charged", "wanted"]
