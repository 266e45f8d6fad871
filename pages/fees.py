"""Fee watch: each market's current fees, who can change them, the worst case, and every change."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ogwatch.ui import data, evidence, shell
from ogwatch.ui import fees_charged as fc
from ogwatch.ui import fees_data as fd
from ogwatch.ui.fees_price import render_price_check

DASH = {"protocol": "solid", "subject": "dash"}
SYMBOL = {"protocol": "circle", "subject": "diamond"}
CHANGE_COLUMNS = ["block_number", "block_time", "field", "old_percent", "new_percent", "old", "new", "tx_hash",
                  "precision", "detected_by", "path", "sender", "note"]


def step_chart(series: pd.DataFrame, title: str) -> go.Figure:
    """Fee percent over block as steps; line style, marker and legend tell the fees apart, not colour alone.
    The traces go into the figure at once: the same figure, built faster than with one `add_trace` each."""
    traces = []
    for name, part in series.groupby("name", sort=True):
        fee = str(part["fee"].iloc[0])
        traces.append(go.Scatter(x=part["block"], y=part["percent"], name=str(name), mode="lines+markers",
                                 line={"shape": "hv", "dash": DASH.get(fee, "dot")},
                                 marker={"symbol": SYMBOL.get(fee, "square"), "size": 8}))
    fig = go.Figure(data=traces)
    fig.update_layout(title=title, xaxis_title="block", yaxis_title="fee (%)", height=340,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h"})
    return fig


def show_market(m: dict[str, Any], charged: fc.Summary | None = None) -> None:
    """Everything about one market, for a trader before a trade (`charged`: its cached per-trade check)."""
    view = fd.market_view(m)
    st.subheader(f"{m['label']}")
    st.caption(f"{m['address']} on {m['network']} ({m['kind'] or 'kind unknown'}), read at block {m['read_block']}")

    cols = st.columns(3)
    for col, short in zip(cols, ("protocol", "subject"), strict=False):
        fee = view["fees"][short]
        col.metric(f"{short.capitalize()} fee", fd.fmt_percent(fee["value"]),
                   help=f"Exact value: {fee['value']} (1e18 = 100 %), read at block {m['read_block']}.")
    wc = view["worst_case"]
    cols[2].metric("Worst case (total)", f"{wc['max_total_percent']} %" if wc["bounded"] else "no limit",
                   help=wc["text"])

    for warning in view["warnings"]:
        st.warning(f"Warning: {warning}", icon=":material/warning:")
    if not view["warnings"]:
        st.success(f"No warnings. Worst case: {wc['text']}.", icon=":material/check_circle:")
    elif wc["bounded"]:
        st.info(f"Worst case: {wc['text']}.", icon=":material/info:")

    st.markdown("#### Who can change the fees")
    ctl = view["control"]
    st.markdown(f"**Owner kind: {ctl['owner_kind'] or 'unknown'}**. Fees can be changed by {ctl['summary']}.")
    rule = ctl["rule"]
    if rule.get("signers"):
        st.markdown(f"Multisig threshold {rule.get('threshold')} of {len(rule['signers'])} signers: "
                    + ", ".join(f"`{s}`" for s in rule["signers"]))
    if ctl["implementation"]:
        st.caption(f"Implementation: {ctl['implementation']}; fee destination: {view['fee_destination']}")
    if ctl["roles"]:
        st.dataframe(pd.DataFrame(ctl["roles"]), hide_index=True, width="stretch")

    st.markdown("#### Ceilings")
    ev = fd.page_run("fee_ceiling_evidence", chain_id=int(m["chain_id"]), address=m["address"])
    for field_name, short in fd.FEES.items():
        fee = view["fees"][short]
        label = fee["ceiling"] or "not evaluated yet"
        cap = f" at {fee['max_percent']} %" if fee["max_percent"] is not None else ""
        st.markdown(f"- {short.capitalize()} fee: **{label}**{cap}")
        rows = ev[ev["field"] == field_name] if not ev.empty else ev
        with st.expander(f"Evidence for the {short} fee ceiling ({len(rows)} simulated setter calls)"):
            if rows.empty:
                st.caption("No simulated calls recorded.")
            else:
                shown = rows.assign(percent=[fd.fmt_percent(v) for v in rows["value"]],
                                    outcome=["reverted" if r else "accepted" for r in rows["reverted"]])
                st.dataframe(shown[["seq", "caller", "value", "percent", "outcome", "block_number"]],
                             hide_index=True, width="stretch")

    st.markdown("#### Queued changes")
    if view["queued"]:
        for q in view["queued"]:
            st.markdown(f"**{q['text'][0].upper()}{q['text'][1:]}** (timelock `{q['timelock']}`).")
        st.dataframe(pd.DataFrame(view["queued"]).drop(columns=["text"]), hide_index=True, width="stretch")
    else:
        st.caption("No fee change is queued on a timelock for this market.")

    st.markdown("#### How changes were checked")
    cov = view["coverage"]
    if cov is None:
        st.caption("The fee watch has not compared any readings on this network yet.")
    else:
        tick = cov["last_tick"]
        st.markdown(f"Node: {cov['node']['summary']}. Last tick compared blocks {tick['block_from']} to "
                    f"{tick['block_number']}: {tick['note'] or 'no note'}.")

    st.markdown("#### Last change")
    last = view["last_change"]
    if last is None:
        st.caption("No fee change seen since indexing began.")
    else:
        old = fd.fmt_percent(last["old"]) if last["old"] is not None else "unknown"
        st.markdown(f"{fd.FEES[last['field']]} fee {old} -> {fd.fmt_percent(last['new'])} at block "
                    f"{last['block_number']} ({last['blocks_ago']} blocks ago, {fd.utc(last['time'])}), "
                    f"tx `{last['tx_hash'] or 'unknown'}`, detected by {last['detected_by']}.")

    trades = fd.page_run("fee_trades_summary", chain_id=int(m["chain_id"]), address=m["address"])
    if not trades.empty and int(trades["trades"].iloc[0]):
        t = trades.iloc[0]
        volume = evidence.amount(t["volume"], evidence.symbol(data.config(), m["chain_id"]))
        st.caption(f"Trades: {int(t['trades']):,} ({int(t['buys']):,} buys, {int(t['sells']):,} sells), volume "
                   f"{volume}, last at block {int(t['last_trade_block'])} ({fd.utc(t['last_trade_time'])}).")

    st.markdown("#### Price check (live)")
    last = {f"{short} fee": fd.fmt_percent(view["fees"][short]["value"]) for short in ("protocol", "subject")}
    render_price_check(data.config(), m["network"], m["address"], m["kind"],
                       float(wc["max_total_percent"]) if wc["bounded"] else None,
                       last_indexed={**last, "read at block": m["read_block"]})
    fc.render_charged(int(m["chain_id"]), m["address"], known=charged)

    st.markdown("#### Every change")
    changes = fd.market_changes(int(m["chain_id"]), m["address"])
    series = fd.step_series(changes, m)
    if not series.empty:
        st.plotly_chart(step_chart(series.assign(name=series["fee"] + " fee"), "Fee % over block"),
                        key="market_chart")
    if changes.empty:
        st.caption("No change recorded.")
    else:
        shown = evidence.with_links(data.config(), changes[["chain_id", *CHANGE_COLUMNS]], tx_hash="tx",
                                    block_number="block")
        st.dataframe(shown, hide_index=True, width="stretch", column_config=evidence.link_config(shown))
        st.download_button("Download changes (CSV)", changes.to_csv(index=False), file_name="fee_changes.csv",
                           mime="text/csv", key="dl_market")


def show_history(chain_id: int | None, network: str) -> None:
    """Fee changes across every market of the selected network."""
    st.subheader("History across markets")
    changes = fd.market_changes(chain_id)
    fees = changes[changes["field"].isin(list(fd.FEES))] if not changes.empty else changes
    if fees.empty:
        st.caption(f"No fee change recorded on {network}.")
        return
    points = fees.assign(fee=fees["field"].map(fd.FEES), block=fees["block_number"],
                         percent=[float(p or 0) for p in fees["new_percent"]])
    points = points.assign(name=points["label"] + " (" + points["network"] + ") " + points["fee"] + " fee")
    st.plotly_chart(step_chart(points, "Fee % after each change"), key="history_chart")
    shown = evidence.with_links(data.config(), changes[["label", "network", "chain_id", *CHANGE_COLUMNS]],
                                tx_hash="tx", block_number="block")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=evidence.link_config(shown))
    st.download_button("Download all changes (CSV)", changes.to_csv(index=False), file_name="fee_changes_all.csv",
                       mime="text/csv", key="dl_all")


f = shell.page("Fee watch", "For traders, before a trade: what fee will this market charge, and who can change it?")
res = fd.markets(f.chain_id)
if res.error:
    st.error(res.error)
elif res.empty:
    shell.empty_state(
        "No markets indexed yet",
        "For each Twin.fun or friend.tech market: protocol and subject fee, who can change them (owner, "
        "timelock, multisig, role holders), whether a ceiling exists, the worst-case fee, and every past "
        "change with block, transaction, old and new value. Markets appear when the fee collector has run "
        "on the selected network.",
    )
else:
    mk = res.df.reset_index(drop=True)
    options = list(range(len(mk)))
    names = [f"{label} ({net})" for label, net in zip(mk["label"].astype(str), mk["network"].astype(str), strict=True)]
    wanted = str(st.query_params.get("market") or "")
    hits = fd.resolve(mk, wanted) if wanted else mk.iloc[:0]
    start = int(list(hits.index)[0]) if len(hits) else 0
    if wanted and not len(hits):
        st.info(f"No market matches {wanted!r} on this network; showing the first one.")
    pick = st.selectbox("Market (label or address)", options, index=start, format_func=names.__getitem__,
                        key="sel_market")
    chosen = {str(k): v for k, v in mk.iloc[pick].items()}
    unique = len(fd.resolve(mk, str(chosen["label"]))) == 1
    st.query_params["market"] = str(chosen["label"] if unique else chosen["address"])
    known = fc.cached(int(chosen["chain_id"]), chosen["address"])  # the per-trade check, when cached
    data.prefetch(fd.wanted(chosen, f.chain_id) + ([] if known else fc.wanted(int(chosen["chain_id"]),
                                                                               chosen["address"])))
    show_market(chosen, known)
    show_history(f.chain_id, f.network)
