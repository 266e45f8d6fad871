"""The real dashboard in a real browser: `ogwatch serve` on localhost, Debian Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from store.db import Store
from tests.conftest import ROOT, write_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                                 reason="Debian chromium not installed (.ci/run installs it)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dashboard(tmp_path):
    cfg = write_config(tmp_path)
    with Store(tmp_path / "ogwatch.duckdb", serve=False) as s, s.transaction() as cur:
        cur.execute("INSERT INTO collector_health (collector, chain_id, observed_at, ok, head_block, indexed_block) "
                    "VALUES ('fees', 31337, now(), true, 5000, 4990)")
        cur.execute("INSERT INTO service_heartbeats VALUES (1, 1, now())")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ogwatch", "--config", str(cfg), "serve", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "dashboard did not start"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_dashboard_in_chromium(dashboard, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{dashboard}/fees?network=local&window=24h", timeout=60_000)
        page.get_by_text("Fee watch", exact=True).first.wait_for(timeout=60_000)
        page.get_by_text("Last indexed block").wait_for(timeout=30_000)
        body = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "fees.png"), full_page=True)
        assert "4,990" in body  # the strip shows the seeded collector's indexed block
        assert "No markets indexed yet" in body
        assert "window=24h" in page.url and "network=local" in page.url
        page.locator("[data-testid=stSidebarNavLink]", has_text="Data health").click()
        page.get_by_text("Last indexed block, lag and errors of every collector.").wait_for(timeout=30_000)
        assert "window=24h" in page.url  # filters survive moving between pages
        browser.close()
