"""Short versions of the soak and crash commands (bench/soak.py, bench/crash.py), run as the real commands.

The soak: a fresh live devnet behind seeded faults for half a minute, `ogwatch run`, the dashboard and a
webhook receiver; nothing missing or doubled against truth.jsonl and cryo, every alert delivered with one id.
The crash: one cycle of SIGKILLs on the saved world; the file always opens and the crashed store, alerts
included, equals an uninterrupted run. The full-length figures are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.devnet


def _bench(module: str, *args: str, timeout: float) -> dict:
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout[: proc.stdout.rindex("\n" + module.split(".")[-1] + ":")])


def test_short_soak(tmp_path) -> None:
    fig = _bench("bench.soak", "--minutes", "0.5", "--catchup-minutes", "4", "--port", "8598",
                 "--out", str(tmp_path / "soak.json"), "--work", str(tmp_path / "w"), timeout=600)
    assert fig["failed"] == [] and fig["converged"]
    assert fig["events_stored"] == fig["events_truth"] == fig["events_cryo"] > 300
    assert fig["missing_vs_truth"] == fig["missing_vs_cryo"] == fig["duplicated"] == 0
    a = fig["alerts"]
    assert a["outbox"] > 0 and a["outbox_status"] == {"delivered": a["outbox"]}
    assert a["received_ids"] == a["outbox"] and a["bodies_with_two_ids"] == 0 and a["unsigned"] == 0
    assert sum(v for k, v in fig["proxy_stats"].items() if k not in ("http_requests", "calls", "forwarded")) > 0
    assert fig["pages"]["renders"] > 0 and fig["pages"]["errors"] == 0
    assert fig["check_memory"] is False and fig["rss_samples"] > 0  # too short to judge memory; still sampled


def test_short_crash(devnet_snapshot, tmp_path) -> None:
    fig = _bench("bench.crash", "--minutes", "0", "--out", str(tmp_path / "crash.json"),
                 "--work", str(tmp_path / "w"), timeout=600)
    assert fig["failed"] == [] and fig["open_failures"] == 0
    assert fig["kills_total"] >= 8 and fig["opens_checked"] >= 4
    cycle = fig["cycles"][0]
    for table in ("trades", "inferences", "settlements", "checkpoints", "blocks", "market_state@latest",
                  "market_control@latest", "ceilings", "tee_state@latest", "tee_pcrs@latest", "tee_events"):
        assert cycle["tables"][table]["equal"], table
    assert cycle["tables"]["trades"]["rows"] > 2000
    assert cycle["alerts"]["equal"] and cycle["alerts"]["rows"] > 0  # tee_health among them (fired on the world)
