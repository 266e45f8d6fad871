"""The README's start command, for about a minute: services up, chains advance, dashboard answers, clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from devnet import nodes
from tests.conftest import ROOT, ogwatch

pytestmark = pytest.mark.devnet
RUN_FOR_S = 60


def _pids_with(fragment: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if fragment in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_demo_runs_and_stops_cleanly(tmp_path) -> None:
    port = nodes.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ogwatch", "demo", "--port", str(port), "--interval", "0.5"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while not any("Ctrl-C stops everything" in ln for ln in lines):
            assert proc.poll() is None, "".join(lines)[-3000:]
            assert time.monotonic() < deadline, "demo did not come up in 180 s:\n" + "".join(lines)[-3000:]
            time.sleep(0.5)
        started = time.monotonic()
        urls = dict(re.findall(r"chain (\w+)\s+(http://127\.0\.0\.1:\d+)", "".join(lines)))
        assert set(urls) == set(nodes.CHAINS)
        heads = {k: int(nodes.rpc(u, "eth_blockNumber"), 16) for k, u in urls.items()}
        chain_ids = {k: int(nodes.rpc(u, "eth_chainId"), 16) for k, u in urls.items()}
        assert chain_ids == nodes.CHAINS

        dash = f"http://127.0.0.1:{port}"
        _wait(lambda: requests.get(f"{dash}/_stcore/health", timeout=2).status_code == 200, 60, "dashboard health")
        assert "<title>" in requests.get(dash, timeout=5).text.lower() or requests.get(dash, timeout=5).ok
        cfg = tmp_path / "data" / "demo" / "config.toml"
        assert cfg.exists()
        _wait(lambda: (tmp_path / "data" / "demo" / "ogwatch.duckdb.owner.json").exists(), 60, "scheduler")

        time.sleep(max(0.0, RUN_FOR_S - (time.monotonic() - started)))
        later = {k: int(nodes.rpc(u, "eth_blockNumber"), 16) for k, u in urls.items()}
        assert sum(later[k] - heads[k] for k in urls) >= 10, (heads, later)  # the live trickle mines blocks
        out = ogwatch("--config", str(cfg), "query", "service_heartbeat", "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)[0]["beats"] >= 1
        truth = (tmp_path / "data" / "demo" / "truth.jsonl").read_text().splitlines()
        assert len(truth) > 50
        ports = [u.rsplit(":", 1)[1] for u in urls.values()]
    finally:
        proc.send_signal(signal.SIGINT)
        code = _stopped(proc, lines)
    assert code == 0, "".join(lines)[-3000:]
    time.sleep(0.5)
    for p in ports:
        assert not _pids_with(f"--port {p} "), f"anvil on port {p} outlived the demo"
    assert not _pids_with(f"--server.port {port}"), "the dashboard outlived the demo"


def _stopped(proc: subprocess.Popen[str], lines: list[str]) -> int:
    """The demo's exit code after Ctrl-C; if it has not stopped within 60 s, its threads' stacks (SIGUSR1, see
    ogwatch/cli.py) and output tail go into the failure, and it is killed."""
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)
        time.sleep(3)
        proc.kill()
        proc.wait()
        time.sleep(0.5)
        raise AssertionError("the demo did not stop within 60 s of Ctrl-C:\n" + "".join(lines)[-8000:]) from None


def _wait(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{what} not up after {seconds} s"
        time.sleep(0.5)
