"""The real dashboard in a real browser: `ogwatch serve` on localhost, Debian Chromium via Playwright.

Two stores: a tiny seeded one (the shell), and the session devnet indexed by `ogwatch collect`, the fee
watch's tick and one alert evaluation, where every page is opened and its numbers compared with the
simulator's ground truth and the devnet contracts' own views. A screenshot of each page goes to
data/screenshots/ (git-ignored); `OGWATCH_UPDATE_SCREENSHOTS=1` writes them to docs/screenshots/ instead,
to refresh the committed ones.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from store.db import Store
from tests.conftest import ROOT, ogwatch, write_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / ("docs" if os.environ.get("OGWATCH_UPDATE_SCREENSHOTS") == "1" else "data") / "screenshots"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                                 reason="Debian chromium not installed (.ci/run installs it)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(cfg: Path) -> Iterator[str]:
    """`ogwatch serve` on a free localhost port until the block ends."""
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


@contextmanager
def chromium(height: int = 900) -> Iterator[Any]:
    """A headless Chromium page (tall pages: the app scrolls inside its own container, so size the window)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": height})
        finally:
            browser.close()


@pytest.fixture
def dashboard(tmp_path):
    cfg = write_config(tmp_path)
    with Store(tmp_path / "ogwatch.duckdb", serve=False) as s, s.transaction() as cur:
        cur.execute("INSERT INTO collector_health (collector, chain_id, observed_at, ok, head_block, indexed_block) "
                    "VALUES ('fees', 31337, now(), true, 5000, 4990)")
        cur.execute("INSERT INTO service_heartbeats VALUES (1, 1, now())")
    with serve(cfg) as url:
        yield url


def test_dashboard_in_chromium(dashboard, tmp_path) -> None:
    with chromium() as page:
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


# ---- every page on the indexed session devnet ----

@pytest.fixture(scope="module")
def devnet_dashboard(devnet_world: Any, devnet_snapshot: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The session devnet collected into a fresh store, fee-ticked and alert-evaluated, served."""
    info = shared_index(devnet_world, devnet_snapshot, tmp_path_factory)
    with serve(info["config"]) as url:
        yield {**info, "url": url}


def shared_index(world: Any, snapshot: Path, factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`index_world` once per test session (other modules' page tests reuse the same indexed store)."""
    tmp = factory.getbasetemp() / "indexed-devnet"
    marker = tmp / "expected.json"
    if not marker.exists():
        tmp.mkdir(exist_ok=True)
        info = index_world(world, snapshot, tmp)
        marker.write_text(json.dumps({**info, "config": str(info["config"])}))
    info = json.loads(marker.read_text())
    return {**info, "config": Path(info["config"])}


def index_world(world: Any, snapshot: Path, tmp: Path) -> dict[str, Any]:
    """Index the world with the real commands and work out, from the truth and the chains, what pages must show."""
    from analysis import concentration as cm
    from collectors import live_prices, runner
    from devnet import truth as truthmod
    from ogwatch import config as configmod
    from ogwatch.ui import fees_data as fd
    from ogwatch.ui import verification_data as vd
    from tests import concentration_helpers as ch
    from tests.test_verification_truth import inferences
    from tests.test_verification_views import expected, tagged_in

    path, cfg_file = tmp / "ogwatch.duckdb", tmp / "config.toml"
    cfg_file.write_text(world.config_toml(str(path)))
    out = ogwatch("--config", str(cfg_file), "collect", timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    cfg = configmod.load(cfg_file)
    with Store(path, serve=False) as store:
        for job in runner.fee_jobs(cfg, store, runner.pools(cfg, sorted({t.network for t in runner.targets(cfg)}))):
            job.tick()
    out = ogwatch("--config", str(cfg_file), "alerts", "evaluate", timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    labels = {(c.network, c.address.lower()): c.label for c in cfg.contracts}
    bsc, locked = world.chains["bsc"], world.dep.get("twin_locked")
    trades = [r for r in truthmod.read(snapshot / "truth.jsonl") if r["kind"] in ("trade", "twin_create")
              and r["intent"]["market_name"] == "twin_locked"]
    twin = trades[0]["intent"]["twin"]
    buy = bsc.call(locked.address, "DigitalTwinSharesV1", "getBuyPriceAfterFee", bytes.fromhex(twin[2:]), 1)
    truth = inferences(snapshot, world)
    n, vanilla = expected(truth, tagged_in({"d": cfg_file}, "d"))
    powers = {k: float(v) for k, v in ch.last_validator_powers(snapshot).items()}
    nak = cm.metrics(powers, cfg.concentration.hhi_bands)
    assert nak is not None and n > 0
    markets = [c.network for c in cfg.contracts if c.kind.endswith("_market")]
    return {"config": cfg_file, "twin": twin, "markets": len(markets), "bsc_markets": markets.count("bsc"),
            "vanilla_pct": vd.pct(vanilla / n), "all_n": len(truth),
            "vanilla_text": f"{vd.pct(vanilla / n)} of production inferences run Vanilla (n = {n})",
            "buy_after_fee": live_prices.format_amount(int(buy), cfg.networks["bsc"].native_symbol),
            "twin_eoa_label": labels[("bsc", world.dep.get("twin_eoa").address.lower())],
            "twin_locked_label": labels[("bsc", locked.address.lower())],
            "locked_protocol": fd.fmt_percent(bsc.call(locked.address, "DigitalTwinSharesV1", "protocolFeePercent")),
            "settled": f"{ch.work_truth(snapshot)[1]:,}",
            "nakamoto": " · ".join(str(nak.nakamoto[k]) for k in ("1/3", "1/2", "2/3"))}


def _open(page: Any, url: str, text: str) -> str:
    page.goto(url, timeout=60_000)
    page.get_by_text(text).first.wait_for(timeout=60_000)
    page.get_by_text("Last indexed block").first.wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")
    _settle(page)
    return str(page.inner_text("body"))


def _settle(page: Any) -> None:
    """Wait until Streamlit has finished the script run (no 'Running' indicator)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]') && "
                           "!document.querySelector('[data-stale=true]')", timeout=60_000)


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.devnet
def test_every_page_on_the_devnet(devnet_dashboard: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    d, url = devnet_dashboard, devnet_dashboard["url"]
    with chromium(height=2200) as page:
        body = _open(page, f"{url}/?network=all&window=all", "Fees: markets to check before trading")
        assert d["twin_eoa_label"] in body and "no fee ceiling" in body
        assert d["vanilla_text"] in body  # production Vanilla share with n, from the truth
        assert d["settled"] in body and d["nakamoto"] in body
        assert "Exception" not in body and "Traceback" not in body
        _shot(page, "overview")
        href = page.get_by_role("link", name="Verification page").get_attribute("href")  # opens a new tab
        assert href == "/verification?network=all&window=all", href
        eoa = page.get_by_role("link", name="details").nth(2).get_attribute("href")
        assert eoa is not None and eoa.startswith("/fees?network=all&window=all&market=Twin.fun+market+%28eoa")

        _open(page, f"{url}/fees?network=bsc&window=all", "Price check")
        page.locator("[data-testid=stSelectbox]", has_text="Market (label or address)").click()
        page.keyboard.type(d["twin_locked_label"])  # the trader types the market
        page.keyboard.press("Enter")
        page.wait_for_url("**market=*no+upgrades*", timeout=30_000)
        page.get_by_role("heading", name=d["twin_locked_label"]).first.wait_for(timeout=60_000)
        _settle(page)
        assert d["locked_protocol"] in page.inner_text("body")  # the market's own fee view, as a percent
        box = page.get_by_label("Twin id (0x + 32 hex digits)")
        expect(box).to_have_count(1, timeout=60_000)  # the previous market's section is gone
        box.fill(d["twin"])
        box.press("Enter")
        _settle(page)
        page.get_by_text(d["buy_after_fee"]).first.wait_for(timeout=60_000)  # the contract's own view
        _shot(page, "fees")

        body = _open(page, f"{url}/verification?network=all&window=all", "What the modes promise")
        assert d["vanilla_pct"] in body and f"{d['all_n']:,}" in body and "Download finding (JSON)" in body
        _shot(page, "verification")
        page.goto(f"{url}/verification?network=bsc&window=all", timeout=60_000)
        page.get_by_text("No inferences indexed yet").or_(page.get_by_text("No inference in this selection")) \
            .first.wait_for(timeout=60_000)
        assert "network=bsc" in page.url  # the network filter is in the URL and the numbers changed

        body = _open(page, f"{url}/settlements?network=all&window=all", "Throughput by mode")
        assert d["settled"] in body
        _shot(page, "settlements")

        body = _open(page, f"{url}/decentralization?network=all&window=all", "Decentralization")
        assert d["nakamoto"] in body
        _shot(page, "decentralization")

        body = _open(page, f"{url}/alerts?network=all&window=all", "Firing")
        assert "Critical firing" in body and "Last evaluation" in body
        _shot(page, "alerts")

        body = _open(page, f"{url}/health?network=all&window=all", "Data health")
        _shot(page, "health")
        page.get_by_role("radio", name="24h").first.click(force=True)
        page.wait_for_url("**window=24h**", timeout=30_000)
