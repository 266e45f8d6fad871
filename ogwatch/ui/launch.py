"""Start the Streamlit server for app.py (what `ogwatch serve` runs).

Streamlit treats a `pages/` folder beside the entry script as old-style auto-discovered pages until
`st.navigation` has run once in the process, so the very first visit to a deep link
(`/fees?network=bsc`) would show file names instead of our navigation. Our navigation is always
declared in app.py, so the server is told so before it starts.
"""

from __future__ import annotations

import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli


def main() -> None:
    """Run `streamlit run <args>` with navigation taken from app.py only."""
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
