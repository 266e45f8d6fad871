"""Render every dashboard page with Streamlit's AppTest in a loop until stopped (a load for the soak).

    .venv/bin/python -m bench.soak_pages CONFIG OUT.json [--every 60]

Each round renders app.py and switches to each page; an exception is counted and its first line kept.
The counts are rewritten to OUT.json after every round. SIGTERM ends the loop after the current round.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Loop over the pages; write counts after each round."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("config")
    ap.add_argument("out")
    ap.add_argument("--every", type=float, default=60.0)
    a = ap.parse_args()
    os.environ["OGWATCH_CONFIG"] = str(Path(a.config).resolve())
    os.chdir(ROOT)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    pages = sorted(re.findall(r'st\.Page\("(pages/\w+\.py)"', (ROOT / "app.py").read_text()))
    counts: dict[str, object] = {"rounds": 0, "renders": 0, "errors": 0, "last_errors": []}
    while not stop.is_set():
        errors: list[str] = []
        for page in pages:
            st.cache_data.clear()
            try:
                at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
                at.run()
                at.switch_page(page).run()
                if at.exception:
                    errors.append(f"{page}: {str(at.exception[0].message).splitlines()[0][:200]}")
            except Exception as exc:  # a render that blows up is what we count
                errors.append(f"{page}: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
            counts["renders"] = int(str(counts["renders"])) + 1
        counts["rounds"] = int(str(counts["rounds"])) + 1
        counts["errors"] = int(str(counts["errors"])) + len(errors)
        if errors:
            counts["last_errors"] = errors[:5]
        Path(a.out).write_text(json.dumps(counts))
        stop.wait(a.every)
    time.sleep(0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
