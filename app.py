"""ogwatch dashboard entry point: `streamlit run app.py` (or `ogwatch serve`).

One page per watch, declared here in one list; pages only display data from ogwatch.ui.data.
"""

import streamlit as st

st.set_page_config(page_title="ogwatch", page_icon=":material/visibility:", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("pages/fees.py", title="Fee watch", icon=":material/percent:", url_path="fees"),
    st.Page("pages/verification.py", title="Verification", icon=":material/verified:", url_path="verification"),
    st.Page("pages/settlements.py", title="Settlements", icon=":material/receipt_long:", url_path="settlements"),
    st.Page("pages/decentralization.py", title="Decentralization", icon=":material/hub:",
            url_path="decentralization"),
    st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications:", url_path="alerts"),
    st.Page("pages/health.py", title="Data health", icon=":material/monitor_heart:", url_path="health"),
]

st.navigation(PAGES).run()
