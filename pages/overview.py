"""Overview: the headline facts of every watch at a glance, each linking to its page with the same filters."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ogwatch.ui import data, shell
from ogwatch.ui import evidence as ev
from ogwatch.ui import fees_data as fd
from ogwatch.ui import overview_data as od
from ogwatch.ui import settlements_data as sd
from ogwatch.ui import verification_data as vd

FLAG_WORDS = {"uncapped": "no fee ceiling", "upgradeable": "code can be replaced", "raised": "fee raised recently"}
SEVERITY = {"critical": ":material/error: critical", "warning": ":material/warning: warning",
            "info": ":material/info: info"}


def run(name: str, **params: Any) -> pd.DataFrame:
    """A named query through the dashboard's cache (store trouble reads as no rows)."""
    return data.query(name, **params).df


def go(target: od.Link, label: str) -> None:
    """A link to the page holding the detail, with the filters in its URL."""
    st.markdown(":material/arrow_forward: " + target.markdown(label))


def at_a_glance(markets: pd.DataFrame, facts: dict[str, Any]) -> None:
    """One row: each watch's headline number, words beside every number (never colour alone)."""
    h, t, layers = facts["verification"]["headline"], facts["settlement"], facts["nakamoto"]
    c = st.columns(5)
    c[0].metric("Markets flagged", f"{len(facts['markets'])} of {len(markets)}",
                help="Uncapped or upgradeable fees, a raise in the window, or a queued change.")
    c[1].metric("Vanilla in production", vd.pct(h["vanilla_share"]) if h["status"] == "ok" else "n/a",
                help=f"n = {h['n']:,} production inferences.")
    c[2].metric("Settlement lag p95", sd.duration(t["lag_p95_s"]) if t else "n/a",
                help=f"exact: {t['lag_p95_s']} s" if t else "No settlement indexed.")
    val = layers["validators"]
    c[3].metric("Validators Nakamoto (1/3)", str(val["nakamoto"].get("1/3")) if val else "no data",
                help="Fewest entities with strictly more than a third of consensus power.")
    c[4].metric("Alerts firing", f"{len(facts['alerts'])}", help="Not silenced.")


def show_fees(f: shell.Filters, markets: pd.DataFrame, flagged: list[od.MarketFlag]) -> None:
    """Markets with uncapped, upgradeable or recently raised fees and queued changes."""
    st.subheader("Fees: markets to check before trading")
    if markets.empty:
        shell.empty_state("No markets indexed yet", "Markets appear when the fee collector has run.")
        return
    if not flagged:
        st.success(f"All {len(markets)} market(s) have capped, non-upgradeable fees, no recent raise and nothing "
                   "queued.", icon=":material/check_circle:")
    for m in flagged:
        words = ", ".join(FLAG_WORDS.get(x, x.replace("queued", "change(s) queued")) for x in m.flags)
        where = od.link("fees", f.network, f.window, market=m.label).markdown("details")
        code = ev.link(data.config(), m.chain_id, "address", m.address)
        where += f" · [contract on the explorer]({code})" if code else ""
        st.markdown(f":material/warning: **{m.label}** ({m.network}): protocol {m.protocol}, subject {m.subject}; "
                    f"**{words}**. Worst case: {m.worst_case}. {where}")
    st.caption(f"{len(flagged)} of {len(markets)} market(s) flagged. Fees are percent of each trade.")
    go(od.link("fees", f.network, f.window), "All markets on the Fee watch")


def show_verification(f: shell.Filters, view: dict[str, Any]) -> None:
    """The production Vanilla share with its n, and what the modes promise."""
    st.subheader("Verification: unverified AI in production")
    h = view["headline"]
    c1, c2 = st.columns(2)
    c1.metric("Vanilla share in production", vd.pct(h["vanilla_share"]) if h["status"] == "ok" else "n/a",
              help=f"{h['vanilla']} of n = {h['n']} production inferences ran Vanilla.")
    c2.metric("Production inferences (n)", f"{h['n']:,}", help=f"All inferences: {view['all']['n']:,}.")
    st.markdown(f"{h['text']}.")
    st.caption("Vanilla: " + vd.PROMISES["VANILLA"] + " TEE: " + vd.PROMISES["TEE"] + " ZKML: " + vd.PROMISES["ZKML"])
    go(od.link("verification", f.network, f.window), "Verification page")


def show_settlement(f: shell.Filters, t: dict[str, Any]) -> None:
    """How much settled and how late."""
    st.subheader("Settlements: how late proofs land")
    if not t:
        shell.empty_state("No settlements indexed yet", "Lag appears once a settlement relay has been indexed.")
    else:
        c = st.columns(4)
        c[0].metric("Settled inferences", f"{t['settled_inferences']:,}", help=f"in {t['settlements']:,} settlements")
        c[1].metric("Lag p50", sd.duration(t["lag_p50_s"]), help=f"exact: {t['lag_p50_s']} s")
        c[2].metric("Lag p95", sd.duration(t["lag_p95_s"]), help=f"exact: {t['lag_p95_s']} s")
        c[3].metric("Lag max", sd.duration(t["lag_max_s"]), help=f"exact: {t['lag_max_s']} s")
        st.caption(f"Last settlement {ev.utc_relative(t['last_settlement_ts'])}. Lag = block time minus the TEE's "
                   "signing time. " + str(t["lags_note"]))
    go(od.link("settlements", f.network, f.window), "Settlements page")


def show_nakamoto(f: shell.Filters, layers: dict[str, dict[str, Any] | None]) -> None:
    """Nakamoto coefficients of both layers, per entity."""
    st.subheader("Decentralization: how few could collude")
    cols = st.columns(2)
    for col, (key, title) in zip(cols, od.LAYERS.items(), strict=True):
        m = layers[key]
        if m is None:
            col.metric(f"{title} Nakamoto", "no data", help="Nothing indexed: the total is zero.")
        else:
            col.metric(f"{title} Nakamoto", od.nakamoto_text(m["nakamoto"]),
                       help=f"Fewest entities holding strictly more than 1/3 · 1/2 · 2/3 of {m['total']:,.0f} "
                            f"({m['count']} with weight; HHI band: {m['band']}).")
    st.caption("Thresholds 1/3 · 1/2 · 2/3, per entity (config grouping). 1 means one entity alone can halt or "
               "control.")
    go(od.link("decentralization", f.network, f.window), "Decentralization page")


def show_alerts(f: shell.Filters, firing: list[dict[str, Any]]) -> None:
    """Firing alerts, worst first."""
    st.subheader("Alerts firing")
    if not firing:
        st.success("Nothing is firing.", icon=":material/check_circle:")
    for a in firing[:8]:
        block = ev.link(data.config(), a["source_chain"], "block", a["source_block"])
        where = f" · [block {int(a['source_block'])}]({block})" if block else ""
        st.markdown(f"{SEVERITY.get(a['severity'], a['severity'])}: {a['summary']} "
                    f"(since {ev.utc_relative(a['first_fired_at'])}){where}")
    if len(firing) > 8:
        st.caption(f"and {len(firing) - 8} more")
    go(od.link("alerts", f.network, f.window), f"Alerts page ({len(firing)} firing)")


f = shell.page("ogwatch", "Fees, verification and concentration of OpenGradient and Twin.fun, with evidence.")
since = f.since  # one window start for every read of this render (f.since moves with the clock)
data.prefetch(od.wanted(data.config(), f.chain_id, since))  # one request for the page's independent reads
res = fd.markets(f.chain_id)
if res.missing or res.error:
    shell.empty_state(
        "Headline facts will appear here",
        res.error or "Markets with uncapped, upgradeable or recently raised fees; the share of production "
        "inference running Vanilla (with n); settlement lag; Nakamoto coefficients of TEE operators and "
        "validators; firing alerts. They appear once the collectors have indexed the configured networks.",
    )
    st.stop()
facts = od.facts(data.config(), run, res.df, f.chain_id, since)
at_a_glance(res.df, facts)
show_fees(f, res.df, facts["markets"])
show_verification(f, facts["verification"])
show_settlement(f, facts["settlement"])
show_nakamoto(f, facts["nakamoto"])
show_alerts(f, facts["alerts"])
