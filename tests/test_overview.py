"""The Overview page on an empty and a migrated-but-empty store (AppTest), its links, and the evidence helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ogwatch import config as configmod
from ogwatch.ui import evidence as ev
from ogwatch.ui import overview_data as od
from store.db import Store
from tests.conftest import ROOT, dashboard_on, write_config

BSC = ('\n[networks.bsc]\nname="BNB Smart Chain"\nchain_id=56\nnative_symbol="BNB"\n'
       'explorer_tx_url="https://bscscan.com/tx/{tx}"\nexplorer_address_url="https://bscscan.com/address/{address}"\n'
       'explorer_block_url="https://bscscan.com/block/{block}"\n')


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    cfg = write_config(tmp_path, extra=BSC)
    with dashboard_on(cfg, monkeypatch):
        yield tmp_path


def _run(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "overview.py"), default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_no_store_says_what_will_appear(app_env) -> None:
    at = _run()
    assert [w.value for w in at.warning][0].startswith("**Data health:** no store yet")
    assert "Headline facts will appear here" in at.info[0].value
    assert not at.metric and not at.subheader


def test_empty_store_every_fact_reads_as_none(app_env) -> None:
    with Store(app_env / "ogwatch.duckdb", serve=False) as s, s.transaction() as cur:
        cur.execute("INSERT INTO service_heartbeats VALUES (1, 1, now())")
    at = _run(network="bsc", window="24h")
    m = {x.label: x.value for x in at.metric}
    assert m["Markets flagged"] == "0 of 0"
    assert m["Vanilla in production"] == "n/a" and m["Vanilla share in production"] == "n/a"
    assert m["Production inferences (n)"] == "0"
    assert m["Settlement lag p95"] == "n/a"
    assert m["Validators Nakamoto (1/3)"] == "no data"
    assert m["Validators (consensus power) Nakamoto"] == "no data"
    assert m["TEE operators (active TEEs) Nakamoto"] == "no data"
    assert m["Alerts firing"] == "0"
    infos = " ".join(i.value for i in at.info)
    assert "No markets indexed yet" in infos and "No settlements indexed yet" in infos
    text = " ".join(x.value for x in at.markdown)
    assert "no production-tagged source (n = 0 inferences, none of them production)" in text
    for page in ("verification", "settlements", "decentralization", "alerts"):
        assert f"(/{page}?network=bsc&window=24h)" in text  # each fact links to its page with the filters
    assert "Nothing is firing." in [s.value for s in at.success]
    assert "Vanilla: a signed record" in " ".join(c.value for c in at.caption)


def test_market_flags_from_rows() -> None:
    markets = pd.DataFrame([
        {"label": "A", "network": "bsc", "chain_id": 56, "address": "0xA", "protocol_fee": str(5 * 10**16),
         "subject_fee": str(3 * 10**16), "protocol_ceiling": "uncapped", "subject_ceiling": "capped",
         "subject_max": str(10**17), "upgradeable": False, "last_change_field": "protocolFeePercent",
         "last_change_old": str(4 * 10**16), "last_change_new": str(5 * 10**16),
         "last_change_time": datetime(2026, 1, 2, tzinfo=UTC), "last_change_block": 9, "read_block": 10},
        {"label": "B", "network": "bsc", "chain_id": 56, "address": "0xB", "protocol_fee": str(10**16),
         "subject_fee": str(10**16), "protocol_ceiling": "capped", "subject_ceiling": "capped",
         "protocol_max": str(2 * 10**16), "subject_max": str(2 * 10**16), "upgradeable": False,
         "last_change_field": None, "last_change_old": None, "last_change_new": None, "last_change_time": None,
         "last_change_block": None, "read_block": 10}])
    queued = pd.DataFrame([{"chain_id": 56, "address": "0xb", "field": "protocolFeePercent",
                            "new_value": str(2 * 10**16), "eta": 1_900_000_000}])

    def run(name: str, **_p: Any) -> pd.DataFrame:
        assert name == "fee_queued"
        return queued

    got = {f.label: f for f in od.market_flags(run, markets, None, None)}
    assert got["A"].flags == ("uncapped", "raised") and got["A"].protocol == "5 %"
    assert got["B"].flags == ("1 queued",) and got["B"].worst_case.startswith("at most 4 % per trade")
    later = od.market_flags(run, markets, None, datetime(2026, 2, 1, tzinfo=UTC))
    assert [f.flags for f in later] == [("uncapped",), ("1 queued",)]  # the raise is older than the window


def test_links_keep_filters_and_encode_the_market() -> None:
    link = od.link("fees", "bsc", "7d", market="Twin.fun market (eoa-owned)")
    assert link.url == "/fees?network=bsc&window=7d&market=Twin.fun+market+%28eoa-owned%29"
    assert link.page == "pages/fees.py" and link.query["market"] == "Twin.fun market (eoa-owned)"
    assert link.markdown("x") == f"[x]({link.url})"


def test_evidence_links_units_and_exports(tmp_path) -> None:
    cfg = configmod.load(write_config(tmp_path, extra=BSC))
    tx = "0x" + "ab" * 32
    assert ev.link(cfg, 56, "tx", tx) == f"https://bscscan.com/tx/{tx}"
    assert ev.link(cfg, 56, "block", 123) == "https://bscscan.com/block/123"
    assert ev.link(cfg, 31337, "tx", tx) is None  # the local network has no explorer: no guessed link
    assert ev.link(cfg, 999, "tx", tx) is None and ev.link(cfg, 56, "tx", None) is None
    df = ev.with_links(cfg, pd.DataFrame({"chain_id": [56, 31337], "tx_hash": [tx, tx], "block_number": [7, 8]}),
                       tx_hash="tx", block_number="block")
    assert list(df["tx_hash_url"]) == [f"https://bscscan.com/tx/{tx}", None]
    assert list(df["block_number_url"]) == ["https://bscscan.com/block/7", None]
    assert ev.symbol(cfg, 56) == "BNB" and ev.amount(1.5, "BNB") == "1.5 BNB" and ev.amount(None, "BNB") == "n/a"
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert ev.utc_relative("2026-11-25T11:48:00Z", now) == "2026-11-25 11:48:00 UTC (12 min ago)"
    assert ev.utc_relative(pd.Timestamp("2026-11-23 12:00:00"), now) == "2026-11-23 12:00:00 UTC (2 d ago)"
    assert ev.utc_relative(None, now) == "n/a"
    doc = json.loads(ev.finding_json("fee_change", {"block": pd.NA, "at": pd.Timestamp("2026-01-01", tz="UTC")},
                                     [{"tx": tx, "n": pd.Series([3]).iloc[0]}]))
    assert doc == {"kind": "fee_change", "finding": {"block": None, "at": "2026-01-01T00:00:00+00:00"},
                   "evidence": [{"tx": tx, "n": 3}]}
