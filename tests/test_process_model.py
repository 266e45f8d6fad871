"""The process model, proven with real processes: scheduler (writer), dashboard and CLI reader at once.

For a minute the scheduler writes numbered heartbeats every 50 ms while a dashboard process renders
pages and CLI processes run `ogwatch query --json` back to back. Midway the scheduler is stopped and
started again, so reads go through the owner, then directly to the file, then through the new owner,
and the restarted writer must get the file back from direct readers. No read may fail and no write
may be lost: heartbeat numbers are contiguous and end where the writers said they ended.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import duckdb

from store.owner import owner_file
from tests.conftest import ROOT, ogwatch, write_config

DURATION_S = 60.0


def _start_writer(cfg) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ogwatch", "--config", str(cfg), "run"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop_writer(proc: subprocess.Popen[str]) -> int:
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    last = re.findall(r"last heartbeat seq (\d+)", out)
    assert last, out
    return int(last[-1])


def test_writer_dashboard_and_cli_together(tmp_path) -> None:
    cfg = write_config(tmp_path, beat=0.05)
    env = {**os.environ, "OGWATCH_CONFIG": str(cfg)}
    writer = _start_writer(cfg)
    owner = owner_file(tmp_path / "ogwatch.duckdb")
    deadline = time.monotonic() + 60  # the writer announces itself once its store is ready (slow under load)
    while not owner.exists() and writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert owner.exists(), "the writer never announced itself"
    dash_out = tmp_path / "dash.json"
    dash = subprocess.Popen([sys.executable, "-m", "tests.procs.dashboard_loop", str(DURATION_S), str(dash_out)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    start = time.monotonic()
    reads: list[int] = []
    failed: list[str] = []
    restarted = False
    writer_ends: list[int] = []
    while time.monotonic() - start < DURATION_S:
        if not restarted and time.monotonic() - start > DURATION_S / 2:
            writer_ends.append(_stop_writer(writer))
            for _ in range(3):  # reads with no owner: direct read-only access
                out = ogwatch("--config", str(cfg), "query", "service_heartbeat", "--json")
                if out.returncode != 0:
                    failed.append(out.stderr)
                else:
                    reads.append(json.loads(out.stdout)[0]["last_seq"])
            writer = _start_writer(cfg)
            restarted = True
        out = ogwatch("--config", str(cfg), "query", "service_heartbeat", "--json")
        if out.returncode != 0:
            failed.append(out.stderr)
            continue
        reads.append(json.loads(out.stdout)[0]["last_seq"] or 0)
    writer_ends.append(_stop_writer(writer))
    dash_stdout, _ = dash.communicate(timeout=120)
    assert dash.returncode == 0, dash_stdout[-3000:]

    assert not failed, failed[:3]
    assert len(reads) >= 20
    assert reads == sorted(reads), "a reader saw the heartbeat count go backwards"
    summary = json.loads(dash_out.read_text())
    assert summary["failures"] == []
    assert summary["renders"] >= 10
    assert all(p is not None for p in summary["pulses"])

    con = duckdb.connect(str(tmp_path / "ogwatch.duckdb"), read_only=True)
    seqs = [r[0] for r in con.execute("SELECT seq FROM service_heartbeats ORDER BY seq").fetchall()]
    pids = con.execute("SELECT count(DISTINCT pid) FROM service_heartbeats").fetchone()
    con.close()
    assert seqs == list(range(1, len(seqs) + 1)), "gap in heartbeat numbers: a write was lost"
    assert seqs[-1] == writer_ends[-1]
    assert writer_ends[0] < writer_ends[1]
    assert pids == (2,)
    assert writer_ends[0] >= 20 and writer_ends[1] - writer_ends[0] >= 20, writer_ends  # both wrote while read
