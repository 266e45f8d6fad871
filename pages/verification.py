"""Verification watch: which proof each inference used (Vanilla, TEE, ZKML), in production and overall."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ogwatch.ui import data, shell
from ogwatch.ui import evidence as ev
from ogwatch.ui import parallel_data as pdata
from ogwatch.ui import verification_data as vd

COLORS = {"VANILLA": "#d62728", "TEE": "#1f77b4", "ZKML": "#2ca02c"}
PATTERNS = {"VANILLA": "", "TEE": "/", "ZKML": "."}  # not colour alone
MODEL_COLUMNS = ["model", "kind", "n", "vanilla", "tee", "zkml", "other", "vanilla_share", "simulations",
                 "production_n", "production_vanilla"]
CALLER_COLUMNS = ["label", "caller", "production_tagged", "n", "vanilla", "tee", "zkml", "vanilla_share",
                  "simulations", "production_n", "production_vanilla", "precision", "senders", "chain_id"]


def run(name: str, **params: Any) -> pd.DataFrame:
    """A named query through the UI cache (store trouble was checked first, so it reads as no rows)."""
    return data.query(name, **params).df


def stacked(series: pd.DataFrame, scope: str) -> go.Figure:
    """Stacked shares of each mode per bucket, n in the hover."""
    part = series[series["scope"] == scope]
    fig = go.Figure()
    for mode in sorted(set(part["mode"]), key=lambda m: (m not in COLORS, m)):
        rows = part[part["mode"] == mode]
        fig.add_trace(go.Bar(x=rows["bucket"], y=rows["share"] * 100, name=str(mode),
                             marker={"color": COLORS.get(str(mode), "#7f7f7f"),
                                     "pattern": {"shape": PATTERNS.get(str(mode), "x")}},
                             customdata=rows[["inferences", "n"]].to_numpy(),
                             hovertemplate="%{y:.1f} % (%{customdata[0]} of n = %{customdata[1]})"))
    fig.update_layout(barmode="stack", yaxis_title="share of inferences (%)", height=340,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"})
    return fig


def show_headline(view: dict[str, Any]) -> None:
    """The headline with n and its trend, and the mode split beside it."""
    h, t = view["headline"], view["trend"]
    delta = None
    if h["status"] == "ok" and t["change"] is not None:
        delta = f"{t['change'] * 100:+.1f} pts vs previous {t['bucket']}"
    c1, c2, c3 = st.columns(3)
    c1.metric("Vanilla share in production", vd.pct(h["vanilla_share"]) if h["status"] == "ok" else vd.NO_SOURCE
              if h["status"] == vd.NO_SOURCE else "no production inference", delta=delta, delta_color="inverse",
              help="Production inferences that ran Vanilla (a signed record, no proof).")
    c2.metric("Production inferences (n)", f"{h['n']:,}")
    c3.metric("All inferences (n)", f"{view['all']['n']:,}")
    st.markdown(f"**{h['text']}.**")
    if h["status"] != "ok":
        st.warning(h["text"])
    if t["latest"] is not None and h["status"] == "ok":
        prev = (f", previous {t['bucket']} {vd.pct(t['previous']['share'])} (n = {t['previous']['n']})"
                if t["previous"] else "; only one bucket so far, no trend yet")
        st.caption(f"Trend: latest {t['bucket']} {vd.pct(t['latest']['share'])} (n = {t['latest']['n']}){prev}.")
    st.caption(f"Production definition in use: {view['production_definition']['text']}")
    ev.json_button("verification_headline", view["headline"],
                   {k: view[k] for k in ("production", "all", "trend", "production_definition", "coverage")},
                   "verification_headline", "v_json")
    for scope in ("production", "all"):
        s = view[scope]
        st.caption(f"{scope.capitalize()}: " + ", ".join(f"{m} {v['count']:,} ({vd.pct(v['share'])})"
                                                        for m, v in s["modes"].items()) + f" [n = {s['n']:,}]")


def show_tables(cfg: Any, models: pd.DataFrame, callers: pd.DataFrame) -> None:
    """Per-model and per-caller tables, each share with its n."""
    st.markdown("#### Per model")
    if models.empty:
        st.caption("No inference in this selection.")
    else:
        st.dataframe(models[MODEL_COLUMNS], hide_index=True, width="stretch")
        ev.csv_button(models[MODEL_COLUMNS], "verification_models", "v_models_csv")
    st.markdown("#### Per caller")
    if callers.empty:
        st.caption("No inference in this selection.")
    else:
        ev.table(cfg, callers[CALLER_COLUMNS], "verification_callers", "v_callers", caller="address")
        st.caption("Caller = the contract that called the hub, from the node's call traces (precision `trace`), "
                   "else the transaction's `to` (precision `tx_to`: inside a batching contract it names the "
                   "batcher, not the inner caller).")


def explain() -> None:
    """What each mode promises and does not promise, and what cannot be seen."""
    st.markdown("#### What the modes promise")
    for mode, text in vd.PROMISES.items():
        st.markdown(f"- **{mode}**: {text}")
    st.caption(vd.PRIVATE_NOTE)


f = shell.page("Verification", "How much AI runs unverified (Vanilla) in production, and with which proof the rest.")
cfg = data.config()
cov = data.query("verification_coverage", chain_id=f.chain_id)
if cov.missing or cov.error:
    shell.empty_state("No inferences indexed yet",
                      cov.error or "Shares of Vanilla, TEE and ZKML inference appear once the inference collectors "
                      "have run (`ogwatch run`, or `ogwatch demo` for the local devnet).")
    explain()
    st.stop()
bucket = st.radio("Trend bucket", ["hour", "day"], horizontal=True, key="v_bucket")
got = pdata.gather({"view": lambda: vd.headline(cfg, run, f.chain_id, f.since, bucket),  # independent reads
                    "series": lambda: vd.series(cfg, run, f.chain_id, f.since, bucket),
                    "models": lambda: vd.by_model(cfg, run, f.chain_id, f.since),
                    "callers": lambda: vd.by_caller(cfg, run, f.chain_id, f.since)})
view = got["view"]
if view["all"]["n"] == 0:
    shell.empty_state("No inference in this selection",
                      f"Indexed so far: {view['coverage']['indexed']:,} inference logs, "
                      f"{view['coverage']['derived']:,} with callers resolved. Widen the time window or pick "
                      "another network.")
    st.caption(f"Production definition in use: {view['production_definition']['text']}")
    explain()
    st.stop()
show_headline(view)
st.markdown("#### Shares over time")
series = got["series"]
scope = st.radio("Scope", ["production", "all"], horizontal=True, key="v_scope")
if series[series["scope"] == scope].empty if not series.empty else True:
    st.caption(f"No {scope} inference with a block time in this selection.")
else:
    st.plotly_chart(stacked(series, scope), key="v_stacked")
show_tables(cfg, got["models"], got["callers"])
c = view["coverage"]
st.caption(f"Coverage: {c['derived']:,} of {c['indexed']:,} indexed inferences have callers resolved "
           f"({c['pending']:,} pending); from traces {c['caller_from_trace']:,}, from the tx `to` "
           f"{c['caller_from_tx_to']:,}; workflow repeats linked {c['workflow_linked']:,} of "
           f"{c['workflow_results']:,} (never counted twice).")
explain()
