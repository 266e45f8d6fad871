"""A dashboard process for the concurrency proof: renders the real pages again and again.

Usage: python -m tests.procs.dashboard_loop SECONDS OUT.json (OGWATCH_CONFIG set). Each render runs
the real app with the data cache cleared, so every render reads the store. Writes a JSON summary.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ogwatch.ui import data

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    """Render pages until the time is up; record failures and what the health strip showed."""
    seconds, out = float(sys.argv[1]), Path(sys.argv[2])
    renders, failures, strips = 0, [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        data._cached.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
        at.switch_page("pages/health.py").run()
        renders += 1
        problems = [str(e.value) for e in at.exception] + [e.value for e in at.error]
        problems += [w.value for w in at.warning]  # "no store" or "unavailable" counts as a failed read
        if problems:
            failures.append(problems)
        strips.append({m.label: m.value for m in at.metric}.get("Scheduler pulse"))
    out.write_text(json.dumps({"renders": renders, "failures": failures, "pulses": strips}))


if __name__ == "__main__":
    main()
