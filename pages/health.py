"""Data health: how fresh and complete the indexed data is, per collector and network, and what nodes can do."""

import streamlit as st

from ogwatch.ui import data, shell

f = shell.page("Data health", "Last indexed block, lag and errors of every collector.")
health = data.query("collector_health_latest", chain_id=f.chain_id)
if health.missing:
    shell.empty_state("No store yet", "The store file does not exist: no collector has run.")
elif health.error:
    st.error(health.error)
elif health.empty:
    shell.empty_state("No collector has reported yet",
                      "Each collector writes one health row per tick: head, indexed block, lag and any error.")
else:
    st.subheader("Collectors")
    st.dataframe(health.df, hide_index=True, width="stretch", column_config={
        "observed_at": st.column_config.DatetimeColumn("last tick (UTC)"),
        "last_success": st.column_config.DatetimeColumn("last success (UTC)"),
        "head_ts": st.column_config.DatetimeColumn("head block time (UTC)"),
        "duration_ms": st.column_config.NumberColumn("tick ms", format="%.0f"),
    })
    caps = data.query("node_capabilities", chain_id=f.chain_id)
    if not caps.empty:
        st.subheader("Nodes")
        st.caption("What each RPC endpoint can do. Without traces or deep historical state some checks are "
                   "approximate; pages say which.")
        st.dataframe(caps.df, hide_index=True, width="stretch")
    reorgs = data.query("reorgs", chain_id=f.chain_id)
    st.subheader("Reorgs handled")
    if reorgs.empty:
        st.caption("None seen.")
    else:
        st.dataframe(reorgs.df, hide_index=True, width="stretch")
