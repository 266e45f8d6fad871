"""Decentralization watch: how concentrated TEE operators and validators are, side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from ogwatch.ui import concentration_charts as cc
from ogwatch.ui import concentration_data as cd
from ogwatch.ui import data, shell
from ogwatch.ui import decentralization_data as dd
from ogwatch.ui import evidence as ev
from store.errors import StoreError

VIEWS = {"per_entity": "per entity (config grouping)", "per_identifier": "per identifier (address)"}


def metric_row(prefix: str, m: dict[str, Any] | None) -> None:
    """The headline metrics of one measure, or 'no data' when its total is zero."""
    if m is None:
        st.info(f"**{prefix}: no data.** The total is zero, so no concentration can be measured (not zero).")
        return
    n = m["nakamoto"]
    cols = st.columns(3)
    cols[0].metric(f"{prefix} Nakamoto", " · ".join(str(n.get(k, "n/a")) for k in ("1/3", "1/2", "2/3")),
                   help="Fewest participants holding strictly more than 1/3 · 1/2 · 2/3 of the total.")
    cols[1].metric(f"{prefix} HHI", f"{m['hhi']:,.0f}", help=f"0..10,000; band: {m['band']}.")
    cols[2].metric(f"{prefix} Gini", f"{m['gini']:.3f}", help="0 = equal shares.")
    st.markdown(f"**{m['band']}** · top-1 {m['top1']:.1%} · top-3 {m['top3']:.1%} · {m['count']} with weight "
                f"(of {m['participants']})")


def measure(prefix: str, title: str, layer: dict[str, Any], view: str, key: str) -> None:
    """Metrics, share bars and the Lorenz curve of one measure in the chosen view."""
    part = layer[view]
    st.markdown(f"**{title}**")
    metric_row(prefix, part["metrics"])
    if part["metrics"] is None:
        return
    label = "entity" if view == "per_entity" else "identifier"
    st.plotly_chart(cc.share_bars(part["rows"], label, f"{title}: shares"), key=f"bars_{key}")
    st.plotly_chart(cc.lorenz(part["lorenz"], f"{title}: Lorenz curve"), key=f"lorenz_{key}")


def work_coverage(cov: dict[str, Any]) -> None:
    """How much of the settled work can be attributed to a TEE, next to the work chart."""
    share = "n/a" if cov["share"] is None else f"{cov['share']:.1%}"
    st.metric("Work coverage", share, help=f"{cov['attributable']:,.0f} of {cov['settled']:,.0f} settled inferences "
              "carry a TEE id (individual settlements" + (" and verified batch leaves)." if cov["batch_leaves"]
                                                            else "; batch leaves not available)."))


def method_note(summary: dict[str, Any]) -> None:
    """What the numbers mean and where the bands come from."""
    low, high = summary["hhi_bands"]
    st.caption(f"{summary['thresholds']} HHI is the sum of squared percent shares (0..10,000): above {low:,.0f} "
               f"moderately, above {high:,.0f} highly concentrated, per the {summary['hhi_band_source']} "
               "(bands set in the config). Gini over every participant listed (0 = equal). A zero total is shown "
               "as no data, not as zeros.")


def layers(summary: dict[str, Any], view: str) -> None:
    """Execution layer (TEE operators) and consensus layer (validators), side by side."""
    left, right = st.columns(2)
    lay = summary["layers"]
    with left:
        st.subheader("Execution: TEE operators")
        measure("TEE", "Active TEEs per operator", lay["tee_active"], view, "tee_active")
        work_coverage(lay["tee_work"]["coverage"])
        measure("Work", "Settled inferences per operator", lay["tee_work"], view, "tee_work")
    with right:
        st.subheader("Consensus: validators")
        src = lay["validators"]["source"]
        st.caption(f"Voting power from {src or 'no source yet'}, read at block {lay['validators']['read_block']}.")
        measure("Validator", "Voting power per validator", lay["validators"], view, "validators")


def trends(frames: dict[str, pd.DataFrame], view: str) -> None:
    """Nakamoto and HHI after every change of each layer (at most cd.TREND_POINTS points per line)."""
    st.subheader("Trends")
    want = "entity" if view == "per_entity" else "identifier"
    left, mid, right = st.columns(3)
    for col, df, title, key in ((left, frames["tee"], "Active TEEs per operator", "t_tee"),
                                (mid, frames["work"], "Settled inferences (cumulative)", "t_work"),
                                (right, frames["validators"], "Validator power", "t_val")):
        part = df[df["view"] == want] if not df.empty else df
        if part.empty:
            col.info(f"No history yet for {title.lower()}.")
        else:
            col.plotly_chart(cc.trend(part, f"{title}: after each change"), key=key)


def liveness(cfg: Any, f: shell.Filters) -> None:
    """Every TEE's liveness; missed heartbeats and revoked builds are spelled out, not only coloured."""
    st.subheader("TEE liveness")
    tees = data.query("tee_current", chain_id=f.chain_id).df
    if tees.empty:
        shell.empty_state("No TEEs read yet", "The registry reader has not stored any TEE.")
        return
    em = cd.entity_map(cfg)
    rows = cc.liveness_rows(tees, lambda owner: em.resolve(str(owner))[0])
    stale = rows[rows["status"].str.contains("MISSED")]
    if not stale.empty:
        st.warning(f"**{len(stale)} TEE(s) missed heartbeats:** " + ", ".join(stale["TEE"]), icon=":material/warning:")
    st.dataframe(rows.drop(columns=["tee_id"]), hide_index=True, key="liveness")
    regs = data.query("tee_registries", chain_id=f.chain_id).df
    if not regs.empty:
        st.caption("Registries: " + "; ".join(
            f"{r['registry']} ({r['shape']}, read at block {r['block_number']}; "
            f"heartbeat max age {_max_age(r['heartbeat_max_age'])}; missing views: {r['missing'] or 'none'})"
            for r in regs.to_dict("records")))


def _max_age(value: Any) -> str:
    return "no view, documented default 1800 s used" if value is None or pd.isna(value) else f"{int(value)} s"


def pcrs(f: shell.Filters) -> None:
    """Approved builds, revoked ones, and TEEs still running a build that is not approved."""
    st.subheader("PCRs (enclave builds)")
    df = data.query("tee_pcrs", chain_id=f.chain_id).df
    if df.empty:
        shell.empty_state("No PCRs known yet", "PCR approvals appear once a registry has been read.")
        return
    shown = df.assign(status=df["approved"].map({True: "approved", False: "✖ REVOKED"}),
                      registry=df["registry"].map(cc.short))
    st.dataframe(shown[["status", "version", "tee_type", "tees_running", "registry", "source", "changed_block",
                        "pcr_hash"]],
                 hide_index=True, key="pcrs")
    tees = data.query("tee_current", chain_id=f.chain_id).df
    bad = tees[tees["pcr_approved"] == False] if not tees.empty else tees  # noqa: E712 - pandas mask
    for t in bad.to_dict("records"):
        st.error(f"TEE {cc.short(t['tee_id'])} of {t['owner']} runs a build that is not approved "
                 f"({t['pcr_version'] or t['pcr_hash']}).", icon=":material/gpp_bad:")
    roles = data.query("tee_roles", chain_id=f.chain_id).df
    if not roles.empty:
        st.markdown("**Who administers the registries** (current role holders, from RoleGranted / RoleRevoked)")
        names = {"0x" + "00" * 32: "DEFAULT_ADMIN_ROLE", cd.TEE_OPERATOR_ROLE: "TEE_OPERATOR_ROLE"}
        st.dataframe(roles.assign(role=roles["role"].map(lambda r: names.get(r, r)),
                                  registry=roles["registry"].map(cc.short))[["registry", "role", "account",
                                                                             "block_number"]],
                     hide_index=True, key="roles")


def entities(summary: dict[str, Any]) -> None:
    """Who is grouped with whom, and who is unmapped."""
    st.subheader("Entities")
    rows = [{"entity": r["entity"] if r["mapped"] else "(unmapped: counts as itself)", "identifier": r["identifier"],
             "layer": cd.MEASURES[k], "mapping source": r["mapping_source"]}
            for k, layer in summary["layers"].items() for r in layer["per_identifier"]["rows"]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="entities")


def _in_window(df: pd.DataFrame, f: shell.Filters) -> pd.DataFrame:
    """Rows whose block time is inside the page's time window (rows without a known time are kept)."""
    if df.empty or f.since is None:
        return df
    times = pd.to_datetime(df["block_time"], utc=True)
    return df[times.isna() | (times >= pd.Timestamp(f.since))]


def _csv(df: pd.DataFrame) -> Callable[[], str]:
    """A table's CSV, built when its download button is clicked (not on every render)."""
    return lambda: df.to_csv(index=False)


def changes(f: shell.Filters) -> None:
    """Every stored change of TEEs and validators."""
    st.subheader("Changes over time")
    st.caption(f"Within the time window ({f.window}), by chain time; current values above are not filtered.")
    left, right = st.columns(2)
    tee_hist = _in_window(data.query("tee_history", chain_id=f.chain_id).df, f)
    val_hist = _in_window(data.query("validator_history", chain_id=f.chain_id).df, f)
    left.caption("TEE changes, latest first (a row whenever a TEE's state changed between readings).")
    left.dataframe(tee_hist.iloc[::-1].head(200)[["block_number", "block_time", "tee_id", "owner", "enabled",
                                                  "active", "pcr_approved", "last_heartbeat_at"]]
                   if not tee_hist.empty else tee_hist, hide_index=True, key="tee_changes")
    right.caption("Validator power changes, latest first (present = false: left the set).")
    right.dataframe(val_hist.iloc[::-1].head(200)[["block_number", "source", "validator", "power", "present",
                                                   "operator_address"]]
                    if not val_hist.empty else val_hist, hide_index=True, key="validator_changes")
    for col, df, name in ((left, tee_hist, "tee_changes"), (right, val_hist, "validator_changes")):
        if not df.empty:  # the CSV of every row is built only when the button is clicked
            col.download_button("Download table (CSV)", _csv(df), file_name=f"{name}.csv", mime="text/csv",
                                key=f"{name}_csv")


f = shell.page("Decentralization", "Is a broad verification layer sitting on a narrow execution market?")
cfg = data.config()
probe = data.query("tee_registries", chain_id=f.chain_id)
vals = data.query("validators_current", chain_id=f.chain_id)
if probe.error or vals.error:
    st.error(f"Store unavailable: {probe.error or vals.error}")
elif probe.missing or (probe.empty and vals.empty):
    shell.empty_state(
        "No TEE registry or validator data yet",
        "TEE operators (from the registry and the settlements they sign) and validators (voting power), "
        "side by side: Nakamoto coefficients at 1/3, 1/2 and 2/3, HHI, Gini and top-N shares, per "
        "identifier and per entity. Data appears once the registry and validator collectors have run.",
    )
else:
    try:
        computed = dd.computed(f.chain_id)
    except StoreError as exc:
        st.error(f"Store unavailable: {exc}")
        st.stop()
    summary = computed["summary"]
    method_note(summary)
    view = st.radio("Count", list(VIEWS), format_func=VIEWS.__getitem__, horizontal=True, key="conc_view")
    st.dataframe(cd.comparison(summary, view), key="comparison")
    ev.json_button("concentration", {"view": view, "metrics": {k: v[view]["metrics"]
                                                               for k, v in summary["layers"].items()}},
                   summary, "concentration", "conc_json")
    layers(summary, view)
    trends(computed, view)
    liveness(cfg, f)
    pcrs(f)
    entities(summary)
    changes(f)
