"""The alerts page over a store with alerts in every state, a silence, deliveries and a dead letter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from alerts import delivery, evaluate, outbox
from alerts.model import Finding
from alerts.rules import Rule
from store.db import Store
from tests.conftest import ROOT, dashboard_on, write_config
from tests.test_alerts_state import cfg_of

NOW = datetime.now(UTC)


@pytest.fixture
def page_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    cfgfile = write_config(tmp_path)
    cfg = cfg_of(group_wait_seconds=0)
    found = [Finding("scripted", ("a",), "critical", "fee went up a lot", {"m": "a"}, {"tx": "0xfeed"}, 1, 7),
             Finding("scripted", ("b",), "warning", "collector slow", {"m": "b"})]
    rule = Rule("scripted", "test", {"enabled": True}, lambda ctx: list(found))
    with Store(tmp_path / "ogwatch.duckdb", serve=False) as store:
        evaluate.run_pass(store, cfg, NOW - timedelta(minutes=2), [(rule, {})])
        found.pop()
        evaluate.run_pass(store, cfg, NOW - timedelta(minutes=1), [(rule, {})])
        with store.transaction() as cur:
            cur.execute("INSERT INTO silences VALUES ('s1', 'fee_hike', '{}', ?, ?, 'maintenance')",
                        [NOW, NOW + timedelta(hours=1)])
            outbox.enqueue(cur, "hook", "firing", "g", [], NOW)
        w = delivery.Worker(store, {}, schedule=(0.0,))
        w.deliver_due()  # no such channel configured: refused, and with a one-step schedule, dead at once
    with dashboard_on(cfgfile, monkeypatch):
        yield tmp_path


def test_alerts_page_shows_state_evidence_and_deliveries(page_env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "alerts.py"), default_timeout=60)
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Critical firing"] == "1" and metrics["Warning firing"] == "0"
    labels = [e.label for e in at.expander]
    assert labels == ["[critical] fee went up a lot"]
    assert any('"0xfeed"' in j.value for j in at.json)
    frames = [df.value for df in at.dataframe]
    text = " ".join(f.to_csv() for f in frames)
    assert "collector slow" in text and "resolved" in text  # history tab
    assert "maintenance" in text  # the silence
    assert "webhook hook is no longer configured" in text  # the dead letter and its attempt
    # the pass's own notification and the extra one: both refused, both dead with a one-step schedule
    assert any(w.value.startswith("2 notification(s) dead-lettered") for w in at.warning)


def test_alerts_page_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGWATCH_CONFIG", str(write_config(tmp_path)))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "alerts.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("No alerts yet" in i.value for i in at.info)
