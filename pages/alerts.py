"""Alerts: firing and resolved alerts with their evidence, silences, and every webhook delivery."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ogwatch.ui import alerts_data as ad
from ogwatch.ui import data, shell
from ogwatch.ui import evidence as ev

SHOWN_FIRING = 50  # firing alerts rendered with their evidence; all of them are in the History tab and its CSV
SEVERITY_ICON = {"critical": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}


def q(name: str, **params: Any) -> pd.DataFrame:
    """A cached named query's rows (empty when the store is missing or busy)."""
    return data.query(name, **params).df


def show_alert(a: dict[str, Any]) -> None:
    """One alert: summary, labels, where its data came from, and the evidence rows."""
    head = f"[{a['severity']}] {a['summary']}" + (" (silenced)" if a["silenced"] else "")
    with st.expander(head, icon=SEVERITY_ICON.get(a["severity"])):
        st.caption(f"rule `{a['rule']}` · fingerprint `{a['fingerprint']}` · first fired "
                   f"{ev.utc_relative(a['first_fired_at'])} · last seen {ev.utc_relative(a['last_seen_at'])}")
        if pd.notna(a["source_chain"]):
            block = ev.link(data.config(), a["source_chain"], "block", a["source_block"])
            where = f"[block {int(a['source_block'])}]({block})" if block else f"block {int(a['source_block'])}"
            st.caption(f"data from chain {int(a['source_chain'])}, {where}"
                       f" (chain time at evaluation: {a['chain_time']})")
        st.json(a["labels"], expanded=False)
        st.json(a["evidence"], expanded=True)
        ev.json_button("alert", {k: a[k] for k in ("rule", "severity", "status", "summary", "fingerprint",
                                                   "first_fired_at", "last_seen_at", "resolved_at", "labels")},
                       {"evidence": a["evidence"], "source_chain": a["source_chain"],
                        "source_block": a["source_block"], "chain_time": a["chain_time"]},
                       f"alert_{a['fingerprint']}", f"alert_json_{a['fingerprint']}")


def show_firing(rows: list[dict[str, Any]]) -> None:
    """Firing alerts, worst first."""
    firing = [a for a in rows if a["status"] == "firing"]
    if not firing:
        st.success("Nothing is firing.", icon=":material/check_circle:")
    for a in firing[:SHOWN_FIRING]:
        show_alert(a)
    if len(firing) > SHOWN_FIRING:
        st.caption(f"Showing the worst {SHOWN_FIRING} of {len(firing):,} firing alerts with their evidence; "
                   "the History tab's CSV has all of them.")


def show_history(rows: list[dict[str, Any]]) -> None:
    """Resolved and retracted alerts, then every transition."""
    ended = [a for a in rows if a["status"] != "firing"]
    st.markdown("#### Resolved and retracted")
    st.dataframe(ad.table(ended), hide_index=True, width="stretch")
    if rows:
        st.download_button("Download all alerts (CSV)", lambda: ad.table(rows).to_csv(index=False),
                           file_name="alerts.csv", mime="text/csv", key="alerts_csv")
    st.markdown("#### Transitions")
    st.dataframe(q("alerts_history", limit=500), hide_index=True, width="stretch")


def show_silences() -> None:
    """Stored silences and those from the config."""
    st.dataframe(ad.silences(q), hide_index=True, width="stretch")
    from_config = [s.model_dump() for s in data.config().alerts.silences]
    if from_config:
        st.markdown("From the config:")
        st.dataframe(pd.DataFrame(from_config), hide_index=True, width="stretch")
    st.caption("Add one with `ogwatch alerts silence RULE --for 2h --match key=value`.")


def show_deliveries() -> None:
    """Per channel: delivered, pending, dead-lettered; then dead letters, notifications and attempts."""
    d = ad.deliveries(q)
    st.dataframe(d["summary"], hide_index=True, width="stretch")
    if not d["dead"].empty:
        st.warning(f"{len(d['dead'])} notification(s) dead-lettered: `ogwatch alerts replay` sends them again "
                   "with the same ids.", icon=":material/mail:")
        st.dataframe(d["dead"], hide_index=True, width="stretch")
    st.markdown("#### Notifications")
    st.dataframe(d["outbox"], hide_index=True, width="stretch")
    st.markdown("#### Attempts")
    st.dataframe(d["attempts"], hide_index=True, width="stretch")


shell.page("Alerts", "What ogwatch would page you about, and what it already sent.")
result = data.query("alerts_list", status=None)
if result.missing or result.error or result.empty:
    shell.empty_state(
        "No alerts yet",
        "Firing and resolved alerts (fee hikes, queued fee changes, ceiling and control changes, stale or failing "
        "collectors) with their evidence, and every signed webhook delivery. Alerts appear once the scheduler "
        "(`ogwatch run`) has evaluated the rules; routes in `[alerts]` send them to webhooks.",
    )
rows = ad.alerts(q)
run = ad.last_run(q)
c = ad.counts(rows)
cols = st.columns(4)
cols[0].metric("Critical firing", c["critical"])
cols[1].metric("Warning firing", c["warning"])
cols[2].metric("Silenced", c["silenced"])
cols[3].metric("Last evaluation", str(run["evaluated_at"])[:19] if run else "never")
if run and run["errors"]:
    st.error("Rules that failed in the last pass: " + "; ".join(f"{k}: {v}" for k, v in run["errors"].items()))
tabs = st.tabs(["Firing", "History", "Silences", "Deliveries"])
with tabs[0]:
    show_firing(rows)
with tabs[1]:
    show_history(rows)
with tabs[2]:
    show_silences()
with tabs[3]:
    show_deliveries()
