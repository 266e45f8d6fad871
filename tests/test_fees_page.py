"""The fee watch page and `ogwatch fees` over the shared devnet, indexed into a temporary store.

Fees are held against the contracts' own views (eth_call on the devnet), not against ogwatch's decoding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from collectors import runner
from ogwatch.ui import fees_data as fd
from store.db import Store
from tests.conftest import ROOT, dashboard_on, ogwatch
from tests.engine_helpers import backfill, world_config

# market key -> (network, expected ceiling label, owner kind)
MARKETS = {
    "twin_eoa": ("bsc", "uncapped", "eoa"),
    "twin_timelock": ("bsc", "capped-but-upgradeable", "timelock"),
    "twin_docs": ("base_sepolia", "uncapped", "eoa"),
    "friendtech": ("base", "uncapped", "eoa"),
}


@pytest.fixture(scope="module")
def indexed(devnet_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The shared world backfilled and fee-ticked into a fresh store, with its config file."""
    tmp = tmp_path_factory.mktemp("fees")
    path = tmp / "ogwatch.duckdb"
    cfg = world_config(devnet_world, path)
    (tmp / "config.toml").write_text(devnet_world.config_toml(str(path)))
    backfill(cfg, path)
    with Store(path, serve=False) as store:
        nets = sorted({t.network for t in runner.targets(cfg)})
        for job in runner.fee_jobs(cfg, store, runner.pools(cfg, nets)):
            job.tick()
    labels = {c.address.lower() + "/" + c.network: c.label for c in cfg.contracts}
    yield {"cfg": cfg, "config": tmp / "config.toml", "labels": labels}


@pytest.fixture
def page_env(indexed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The dashboard pointed at the indexed store."""
    with dashboard_on(indexed["config"], monkeypatch):
        yield indexed


def _chain_fees(world: Any, key: str) -> tuple[int, int, str]:
    deployed = world.dep.get(key)
    address, artifact = deployed.address, "DigitalTwinSharesV1" if key.startswith("twin_") else deployed.artifact
    chain = world.chains[MARKETS[key][0]]
    protocol = chain.call(address, artifact, "protocolFeePercent")  # the fee views share one ABI across variants
    subject = chain.call(address, artifact, "subjectFeePercent")
    return int(protocol), int(subject), address


def _label(indexed: dict[str, Any], key: str, address: str) -> str:
    return str(indexed["labels"][address.lower() + "/" + MARKETS[key][0]])


@pytest.mark.devnet
@pytest.mark.parametrize("key", list(MARKETS))
def test_page_shows_each_market_kind(devnet_world: Any, page_env: dict[str, Any], key: str) -> None:
    protocol, subject, address = _chain_fees(devnet_world, key)
    network, ceiling, owner_kind = MARKETS[key]
    at = AppTest.from_file(str(ROOT / "pages" / "fees.py"), default_timeout=60)
    at.query_params["market"] = _label(page_env, key, address)
    at.query_params["network"] = network
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m for m in at.metric}
    assert metrics["Protocol fee"].value == fd.fmt_percent(protocol)
    assert metrics["Subject fee"].value == fd.fmt_percent(subject)
    assert str(protocol) in (metrics["Protocol fee"].help or "")
    text = " ".join(m.value for m in at.markdown)
    assert f"**{ceiling}**" in text
    assert f"Owner kind: {owner_kind}" in text
    warnings = " ".join(w.value for w in at.warning)
    assert fd.WITHOUT_LIMIT in warnings  # every devnet market here is uncapped or capped-but-upgradeable
    assert (fd.REACH_100 in warnings) == (ceiling == "uncapped")
    assert metrics["Worst case (total)"].value == "no limit"


@pytest.mark.devnet
def test_page_by_address_and_history(devnet_world: Any, page_env: dict[str, Any]) -> None:
    address = devnet_world.dep.get("twin_eoa").address
    at = AppTest.from_file(str(ROOT / "pages" / "fees.py"), default_timeout=60)
    at.query_params["market"] = address.lower()
    at.query_params["network"] = "bsc"
    at.run()
    assert not at.exception, at.exception
    assert "eoa-owned" in at.selectbox(key="sel_market").format_func(at.selectbox(key="sel_market").value)
    assert any("fees were raised" in w.value for w in at.warning)  # the scenario raised twin_eoa's protocol fee
    assert len(at.get("plotly_chart")) == 2
    assert {b.key for b in at.get("download_button")} == {"dl_market", "dl_all", "charged_csv"}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["mismatch"] == "0"  # the fee actually charged agrees with the configured fee


@pytest.mark.devnet
@pytest.mark.parametrize("key", list(MARKETS))
def test_cli_matches_the_chain(devnet_world: Any, indexed: dict[str, Any], key: str) -> None:
    protocol, subject, address = _chain_fees(devnet_world, key)
    network, ceiling, owner_kind = MARKETS[key]
    out = ogwatch("--config", str(indexed["config"]), "fees", _label(indexed, key, address), "--json")
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["market"]["address"] == address and view["market"]["network"] == network
    assert view["fees"]["protocol"]["value"] == str(protocol)
    assert view["fees"]["subject"]["value"] == str(subject)
    assert view["fees"]["protocol"]["percent"] == fd.percent(protocol)
    assert view["fees"]["protocol"]["ceiling"] == ceiling == view["fees"]["subject"]["ceiling"]
    assert view["control"]["owner_kind"] == owner_kind
    assert view["worst_case"]["bounded"] is False


def _pending(world: Any, snapshot: Path) -> tuple[dict[str, Any], int, int]:
    """The ground truth's change queued on twin_locked, checked pending by the timelock's own views; its eta, cap."""
    from devnet import truth

    (sched,) = [r["intent"] for r in truth.read(snapshot / "truth.jsonl")
                if r["kind"] == "timelock_schedule" and r["intent"]["market_name"] == "twin_locked"]
    ch, op = world.chains["bsc"], bytes.fromhex(sched["id"][2:])
    assert ch.call(sched["timelock"], "DevTimelock", "isOperationPending", op) is True
    eta = int(ch.call(sched["timelock"], "DevTimelock", "getTimestamp", op))
    cap = int(ch.call(world.dep.get("twin_locked").address, "DigitalTwinSharesV1Locked", "maxFeePercent"))
    return sched, eta, cap


@pytest.mark.devnet
def test_capped_market_without_upgrade_path_and_its_queued_change(devnet_world: Any, devnet_snapshot: Path,
                                                                   page_env: dict[str, Any]) -> None:
    d, ch = devnet_world.dep.get("twin_locked"), devnet_world.chains["bsc"]
    sched, eta, cap = _pending(devnet_world, devnet_snapshot)
    protocol = int(ch.call(d.address, "DigitalTwinSharesV1", "protocolFeePercent"))
    queued = (f"queued change: protocol fee {fd.fmt_percent(protocol)} -> {fd.fmt_percent(int(sched['new']))} "
              f"executable at {fd.utc(eta)}")
    label = str(page_env["labels"][d.address.lower() + "/bsc"])
    out = ogwatch("--config", str(page_env["config"]), "fees", label, "--json")
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert {s: (f["ceiling"], f["max_accepted"]) for s, f in view["fees"].items()} == {
        "protocol": ("capped", str(cap)), "subject": ("capped", str(cap))}
    assert view["control"]["upgradeable"] is False and view["control"]["owner"] == d.owner
    assert view["worst_case"]["bounded"] is True and view["worst_case"]["reason"] == fd.NO_UPGRADE
    assert view["worst_case"]["max_total_percent"] == fd.percent(2 * cap)  # protocol cap + subject cap
    assert "no upgrade path" in view["worst_case"]["text"]
    (q,) = view["queued"]
    assert (q["operation_id"], q["timelock"], q["field"], q["new_value"], q["eta"], q["old_value"]) == (
        sched["id"], sched["timelock"], sched["field"], str(sched["new"]), eta, str(protocol))
    assert q["text"] == queued
    assert not any(fd.WITHOUT_LIMIT in w or fd.REACH_100 in w for w in view["warnings"])
    assert any(w.startswith(f"a fee change is queued for {fd.utc(eta)}") for w in view["warnings"])
    text = ogwatch("--config", str(page_env["config"]), "fees", label)
    assert text.returncode == 0 and f"  {queued}" in text.stdout.splitlines()
    ch.rpc("trace_filter", {"fromBlock": "0x1", "toBlock": "0x2"})  # the node itself: traces answer ...
    ch.rpc("eth_getBalance", d.owner, "0x0")  # ... and state reaches genesis
    node, tick = view["coverage"]["node"], view["coverage"]["last_tick"]
    assert (node["traces"], node["state_depth"], node["summary"]) == (True, None, "traces: yes; historical state: full")
    assert tick["block_number"] == view["read_block"] and tick["note"]

    at = AppTest.from_file(str(ROOT / "pages" / "fees.py"), default_timeout=60)
    at.query_params["market"] = label
    at.query_params["network"] = "bsc"
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m for m in at.metric}
    assert metrics["Worst case (total)"].value == f"{fd.percent(2 * cap)} %"
    assert fd.NO_UPGRADE in (metrics["Worst case (total)"].help or "")
    markdown = " ".join(m.value for m in at.markdown)
    assert "**capped**" in markdown and "capped-but-upgradeable" not in markdown
    assert f"**Q{queued[1:]}**" in markdown
    assert any(f"a fee change is queued for {fd.utc(eta)}" in w.value for w in at.warning)
    assert any(fd.NO_UPGRADE in i.value for i in at.info)
    assert f"Node: {node['summary']}. Last tick compared blocks {tick['block_from']} to" in markdown


@pytest.mark.devnet
def test_cli_twin_price_check_and_unknown_twins(devnet_world: Any, devnet_snapshot: Path,
                                                indexed: dict[str, Any]) -> None:
    from devnet import truth

    d, ch = devnet_world.dep.get("twin_locked"), devnet_world.chains["bsc"]
    records = [r for r in truth.read(devnet_snapshot / "truth.jsonl") if r["kind"] in ("trade", "twin_create")
               and r["intent"]["market_name"] == "twin_locked"]
    twin = records[0]["intent"]["twin"]
    mine = [r for r in records if r["intent"]["twin"] == twin]
    label, arg = str(indexed["labels"][d.address.lower() + "/bsc"]), bytes.fromhex(twin[2:])
    out = ogwatch("--config", str(indexed["config"]), "fees", label, "--twin", twin.upper().replace("0X", "0x"),
                  "--amount", "2", "--json")
    assert out.returncode == 0, out.stderr
    t = json.loads(out.stdout)["twin"]
    assert (t["id"], t["trades"], t["buys"]) == (twin.lower(), len(mine), sum(r["intent"]["is_buy"] for r in mine))
    assert t["supply"] == str(ch.call(d.address, "DigitalTwinSharesV1", "sharesSupply", arg))
    _sched, _eta, cap = _pending(devnet_world, devnet_snapshot)
    price = ch.call(d.address, "DigitalTwinSharesV1", "getBuyPrice", arg, 2)
    p = t["price"]
    assert p["buy_after_fee"] == str(ch.call(d.address, "DigitalTwinSharesV1", "getBuyPriceAfterFee", arg, 2))
    assert p["sell_after_fee"] == str(ch.call(d.address, "DigitalTwinSharesV1", "getSellPriceAfterFee", arg, 2))
    assert p["worst_total_percent"] == fd.percent(2 * cap) and p["amount"] == 2
    assert p["worst_buy"] == str(price + price * 2 * cap // 10**18)  # the contract's rounding, at both caps
    for bad, why in (("0x" + "ab" * 16, "unknown twin"), ("0x1234", "not a twin id")):
        res = ogwatch("--config", str(indexed["config"]), "fees", label, "--twin", bad)
        assert res.returncode == 2 and res.stdout == "" and len(res.stderr.strip().splitlines()) == 1
        assert why in res.stderr, res.stderr


@pytest.mark.devnet
def test_cli_changes_and_unknown_market(indexed: dict[str, Any]) -> None:
    out = ogwatch("--config", str(indexed["config"]), "fees", "--changes", "--json")
    assert out.returncode == 0, out.stderr
    changes = json.loads(out.stdout)
    assert changes and {"block_number", "tx_hash", "old", "new", "precision", "detected_by", "path"} <= set(changes[0])
    bad = ogwatch("--config", str(indexed["config"]), "fees", "no-such-market")
    assert bad.returncode == 2
    assert bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1 and "unknown market" in bad.stderr


def test_percent_and_worst_case_rules() -> None:
    assert fd.percent(45 * 10**15) == "4.5" and fd.percent("0") == "0" and fd.percent(None) is None
    capped = {"protocol_ceiling": "capped", "subject_ceiling": "capped", "protocol_max": str(5 * 10**16),
              "subject_max": str(5 * 10**16), "last_change_field": "subjectFeePercent", "last_change_old": "10",
              "last_change_new": "20", "last_change_block": 90, "read_block": 100}
    wc = fd.worst_case(capped, [{"field": "protocolFeePercent", "new_value": str(10**16), "eta": 0}])
    assert wc["bounded"] and wc["max_total_percent"] == "10"
    assert wc["warnings"][0].startswith("fees were raised 10 blocks ago")
    assert wc["warnings"][1].startswith("a fee change is queued for 1970-01-01 00:00:00 UTC")


def test_empty_store_shows_empty_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import write_config

    monkeypatch.setenv("OGWATCH_CONFIG", str(write_config(tmp_path)))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "fees.py"), default_timeout=30).run()
    assert not at.exception
    assert any("No markets indexed yet" in i.value for i in at.info)
    st.cache_data.clear()
    st.cache_resource.clear()
