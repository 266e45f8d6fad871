"""Every page of the dashboard shell renders (AppTest): empty states, health strip, shareable filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from store.db import Store
from tests.conftest import ROOT, dashboard_on, write_config

PAGE_FILES = sorted(re.findall(r'st\.Page\("(pages/\w+\.py)"', (ROOT / "app.py").read_text()))


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    cfg = write_config(tmp_path, extra='\n[networks.bsc]\nname="BNB Smart Chain"\nchain_id=56\n')
    with dashboard_on(cfg, monkeypatch):
        yield tmp_path


def _run(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_every_page_is_registered() -> None:
    files = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))
    assert PAGE_FILES == files and len(files) == 7


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_empty_store(app_env, page) -> None:
    at = _run(page)
    assert len(at.title) == 1
    assert any("no store yet" in w.value for w in at.warning)
    infos = " ".join(i.value for i in at.info)
    assert ("will appear" in infos) or ("No " in infos), infos


def _seed(path) -> None:
    now = datetime.now(UTC)
    with Store(path, serve=False) as s, s.transaction() as cur:
        cur.execute("INSERT INTO service_heartbeats VALUES (1, 1, ?)", [now - timedelta(seconds=3)])
        rows = [("fees", 56, now - timedelta(minutes=30), False, 1230, 1200, "timeout"),
                ("fees", 56, now - timedelta(seconds=5), True, 1240, 1234, None),
                ("settlement", 10740, now - timedelta(seconds=5), True, 900, 880, None)]
        for r in rows:
            cur.execute("INSERT INTO collector_health (collector, chain_id, observed_at, ok, head_block, "
                        "indexed_block, "
                        "error) VALUES (?, ?, ?, ?, ?, ?, ?)", list(r))


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_with_data_shows_health_strip(app_env, page) -> None:
    _seed(app_env / "ogwatch.duckdb")
    at = _run(page, network="bsc")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Last indexed block"] == "1,234"
    assert metrics["Lag (blocks)"] == "6"
    assert metrics["Errors (1 h)"] == "1"
    assert metrics["Scheduler pulse"].endswith("s ago")
    assert not at.warning


def test_all_networks_takes_worst_lag(app_env) -> None:
    _seed(app_env / "ogwatch.duckdb")
    metrics = {m.label: m.value for m in _run("pages/health.py").metric}
    assert metrics["Lag (blocks)"] == "20"
    assert metrics["Last indexed block"] == "1,234"


def test_every_tick_failed_shows_na(app_env) -> None:
    """During an RPC outage no collector knows its block: the strip says n/a instead of failing the page."""
    now = datetime.now(UTC)
    with Store(app_env / "ogwatch.duckdb", serve=False) as s, s.transaction() as cur:
        cur.execute("INSERT INTO service_heartbeats VALUES (1, 1, ?)", [now])
        cur.execute("INSERT INTO collector_health (collector, chain_id, observed_at, ok, head_block, indexed_block, "
                    "error) VALUES ('fees', 56, ?, false, NULL, NULL, 'connection refused')", [now])
    metrics = {m.label: m.value for m in _run("pages/health.py").metric}
    assert metrics["Last indexed block"] == "n/a" and metrics["Lag (blocks)"] == "n/a"
    assert metrics["Errors (1 h)"] == "1"


def test_filters_come_from_and_go_to_the_url(app_env) -> None:
    at = _run("pages/fees.py", network="bsc", window="24h")
    assert at.sidebar.selectbox[0].value == "bsc"
    assert at.sidebar.radio[0].value == "24h"
    assert at.query_params["network"] == ["bsc"] or at.query_params["network"] == "bsc"
    at.sidebar.radio[0].set_value("30d").run()
    assert at.query_params["window"] in ("30d", ["30d"])


def test_bad_url_filters_fall_back_to_defaults(app_env) -> None:
    at = _run(None, network="'; DROP TABLE blocks; --", window="forever")
    assert at.sidebar.selectbox[0].value == "all"
    assert at.sidebar.radio[0].value == "7d"
