"""Data health: how fresh and complete the indexed data is, per collector and network."""

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
    st.dataframe(health.df, hide_index=True, width="stretch")
