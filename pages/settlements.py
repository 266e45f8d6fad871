"""Settlements: do LLM proofs settle on chain, how fast, how late, and can the batches be checked."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from ogwatch.ui import data, shell
from ogwatch.ui import evidence as ev
from ogwatch.ui import settlements_data as sd

CHECK_COLUMNS = ["block_number", "block_time", "relay_version", "batch_size", "status", "reason", "leaves",
                 "proof_ok", "merkle_root", "rebuilt_root", "walrus_blob_id", "attempts", "checked_at", "tx_hash"]
HOUR_MS = 3_600_000  # bar width on a date axis is in milliseconds
SHOWN_ROWS = 500  # rows rendered in a table; the CSV button exports them all
LIST_COLUMNS = ["block_number", "block_time", "relay_version", "event", "mode", "batch_size", "tee_id",
                "signer_time", "lag_s", "leaf_tees", "lag_min_s", "lag_median_s", "lag_max_s", "blob_status", "tx_hash"]


def big_table(df: pd.DataFrame, total: int, name: str, key: str, label: str,
              every: Callable[[], pd.DataFrame] | None = None) -> None:
    """The newest SHOWN_ROWS rows with explorer links, and a CSV of all `total` rows built only when downloaded.

    `every` gives all rows for the CSV when `df` holds only the newest ones.
    """
    cfg = data.config()
    shown = ev.with_links(cfg, df.head(SHOWN_ROWS), "chain_id", tx_hash="tx", block_number="block")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=ev.link_config(shown), key=key)
    if total > SHOWN_ROWS:
        st.caption(f"Showing the newest {SHOWN_ROWS:,} of {total:,} rows; the CSV has them all.")
    if not df.empty:
        rows = every or (lambda: df)
        st.download_button(label, lambda: ev.with_links(cfg, rows(), "chain_id", tx_hash="tx", block_number="block")
                           .to_csv(index=False), file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv")


BOX_COLUMNS = ("lag_min_s", "lag_q1_s", "lag_median_s", "lag_q3_s", "lag_max_s")


def lag_box(box: pd.DataFrame) -> go.Figure:
    """Lag per mode as boxes from the store's quartiles (whiskers at min and max): exact at any sample count."""
    fig = go.Figure()
    rows = {str(r["mode"]): r for r in box.to_dict("records")}
    for mode in [m for m in sd.MODES if m in rows]:
        q = [float(rows[mode][c]) for c in BOX_COLUMNS]
        fig.add_trace(go.Box(x=[mode], name=mode, lowerfence=[q[0]], q1=[q[1]], median=[q[2]], q3=[q[3]],
                             upperfence=[q[4]], boxpoints=False))
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      yaxis_title="lag (s)")
    return fig


def show_headline(t: dict[str, object]) -> None:
    """Totals and lag percentiles of the selection (all time)."""
    st.markdown(f"**{sd.headline(t)}**")
    c = st.columns(4)
    c[0].metric("Settled inferences", f"{t['settled_inferences']:,}", help=f"in {t['settlements']} settlements")
    c[1].metric("Lag p50", sd.duration(t["lag_p50_s"]), help="Block time minus the TEE's signing time.")
    c[2].metric("Lag p95", sd.duration(t["lag_p95_s"]), help=str(t["lags_note"]) or None)
    c[3].metric("Lag max", sd.duration(t["lag_max_s"]), help=str(t["lags_note"]) or None)
    st.caption(f"Last settlement {ev.utc_relative(t['last_settlement_ts'])}.")
    st.caption("All time. Lags come from individual settlements (the event's timestamp) and from every leaf of "
               "each verified batch (its tree dump on Walrus); relay v1 events carry no timestamp.")


def show_throughput(f: shell.Filters) -> None:
    """Settled inferences per hour, stacked by mode."""
    st.markdown("#### Throughput by mode")
    hourly = sd.windowed("settlement_hourly", f.chain_id, f.since)
    if hourly.empty:
        st.caption("No settlements in this time window.")
        return
    per = hourly.groupby(["hour", "mode"], as_index=False)[["settled_inferences", "settlements"]].sum()
    fig = px.bar(per, x="hour", y="settled_inferences", color="mode", pattern_shape="mode",
                 category_orders={"mode": list(sd.MODES)}, labels={"settled_inferences": "settled inferences"},
                 hover_data=["settlements"], height=320)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"}, barmode="stack")
    st.plotly_chart(fig, key="throughput_chart")
    by_mode = per.groupby("mode")[["settled_inferences", "settlements"]].sum().reset_index()
    st.dataframe(by_mode, hide_index=True, key="throughput_table")


def show_lags(f: shell.Filters) -> None:
    """Lag distribution per mode, with p50/p95/max and n."""
    st.markdown("#### Lag: block time minus the TEE's signing time")
    box = sd.windowed("settlement_lag_box", f.chain_id, f.since)
    if box.empty:
        st.caption("No lag samples in this time window (no individual settlement, no verified batch).")
        return
    st.plotly_chart(lag_box(box), key="lag_chart")
    st.caption(f"{int(box['n'].sum()):,} lag samples; boxes show the quartiles, whiskers the min and max.")
    stats = sd.windowed("settlement_lag_stats", f.chain_id, f.since)
    shown = stats.assign(**{k: [sd.duration(v) for v in stats[k]] for k in ("lag_p50_s", "lag_p95_s", "lag_max_s")})
    st.dataframe(shown[["chain_id", "mode", "n", "lag_p50_s", "lag_p95_s", "lag_max_s"]], hide_index=True,
                 key="lag_stats")


def show_backlog(f: shell.Filters) -> None:
    """Time since the last settlement and the hourly deficit against the recent rate (chain time)."""
    st.markdown("#### Backlog")
    back = sd.per_chain("settlement_backlog", f.chain_id)
    if back.empty:
        st.caption("No settlements yet: no backlog signal.")
        return
    row = back.sort_values("seconds_since_last", ascending=False).iloc[0]
    c = st.columns(4)
    c[0].metric("Since last settlement", sd.duration(row["seconds_since_last"]),
                help="Chain time: the newest indexed block's time minus the last settlement's block time.")
    c[1].metric("Settled in the last hour", f"{int(row['settled_last_hour']):,}")
    c[2].metric("Hourly rate, 24 h before", f"{float(row['hourly_rate_prev_24h']):.1f}")
    c[3].metric("Deficit (last hour)", f"{float(row['deficit_last_hour']):.1f}",
                help="The hourly rate of the 24 hours before minus the last hour's count (0 when not behind).")
    hourly = sd.windowed("settlement_backlog_hourly", f.chain_id, f.since)
    if not hourly.empty:
        fig = go.Figure([go.Bar(x=hourly["hour"], y=hourly["settled_inferences"], name="settled",
                                width=HOUR_MS * 0.8),
                         go.Scatter(x=hourly["hour"], y=hourly["recent_rate"], name="mean of the 24 h before",
                                    mode="lines", line={"dash": "dash"})])
        fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"},
                          yaxis_title="inferences per hour")
        st.plotly_chart(fig, key="backlog_chart")


def show_blobs(f: shell.Filters) -> None:
    """Walrus blob checks of batch settlements and their coverage."""
    st.markdown("#### Batch blobs on Walrus")
    nets = sd.blob_check_networks(data.config(), f.chain_id)
    off = [k for k, on in nets.items() if not on]
    if off:
        st.info(f"Blob check off for {', '.join(off)}: set `walrus_aggregator_url` for the network to rebuild "
                "each batch's Merkle root from its tree dump.")
    cov = sd.per_chain("settlement_blob_coverage", f.chain_id)
    st.markdown(f"**Coverage:** {sd.coverage_text(cov)}.")
    checks = sd.recent_checks(f.chain_id, SHOWN_ROWS)  # the counts come from the coverage above
    if checks.empty:
        return
    bad = int(cov["mismatch"].sum()) if not cov.empty else 0
    if bad:
        st.error(f"{bad} batch(es) whose published tree does not prove the root settled on chain.",
                 icon=":material/error:")
    total = int(cov["batches"].sum()) if not cov.empty else len(checks)
    big_table(check_columns(checks), total, "blob_checks", "blob_checks", "Download table (CSV)",
              lambda: check_columns(sd.per_chain("settlement_blob_checks", f.chain_id)))


def check_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns of the blob check table shown on the page and in its CSV."""
    return rows[[c for c in ["chain_id", *CHECK_COLUMNS] if c in rows]]


def list_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns of a settlement list shown on the page and in its CSV."""
    return rows[[c for c in ["chain_id", *LIST_COLUMNS] if c in rows]] if not rows.empty else pd.DataFrame()


def show_list(f: shell.Filters, total: int) -> None:
    """The settlements themselves, newest first (the newest SHOWN_ROWS; the CSV runs the full list)."""
    n = sd.window_count(sd.windowed("settlement_hourly", f.chain_id, f.since), total, f.since)
    with st.expander(f"Settlements in this window ({n})"):
        shown = list_columns(sd.recent(f.chain_id, f.since, SHOWN_ROWS))
        big_table(shown, n, "settlements_all", "settlement_list", f"Download all {n} (CSV)",
                  lambda: list_columns(sd.windowed("settlement_list", f.chain_id, f.since)))


f = shell.page("Settlements", "Do proofs settle, and how late? Throughput by mode, lag, backlog, blob checks.")
res = sd.summary(f.chain_id)
if res.error:
    st.error(f"Store unavailable: {res.error}")
elif res.empty:
    shell.empty_state(
        "No settlements indexed yet",
        "Settled inferences per hour by mode, lag p50/p95/max (block time minus the TEE's timestamp), backlog "
        "signals, and whether each batch's Merkle root could be rebuilt from its Walrus blob. Private-mode "
        "inferences leave no settlement on chain, so they never appear here.",
    )
else:
    head = sd.totals(res.df)
    show_headline(head)
    show_throughput(f)
    show_lags(f)
    show_backlog(f)
    show_blobs(f)
    show_list(f, int(head["settlements"]))
