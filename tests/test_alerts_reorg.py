"""A reorg on anvil removes a fee hike: its alert is retracted and the receiver gets a signed `retracted`
notification (a fresh bsc devnet: snapshot, hike, index, revert, other blocks, index again)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alerts import channels, delivery, evaluate
from alerts.rules import configured
from collectors import runner
from devnet import world as worldmod
from ogwatch import config
from store.db import Store
from tests.engine_helpers import backfill, world_config
from tests.test_alerts_receiver import SECRET, Receiver

pytestmark = pytest.mark.devnet
ART = "DigitalTwinSharesV1"


def _cfg(w: Any, path: Path) -> config.Config:
    raw: dict[str, Any] = json.loads(world_config(w, path, confirmations=0).model_dump_json())
    raw["webhooks"] = {"hook": {"url_env": "OGW_T_HOOK_URL", "secret_env": "OGW_T_SECRET", "allow_private": True}}
    raw["alerts"] = {"routes": [{"channel": "hook", "rules": ["fee_hike"]}], "group_wait_seconds": 0}
    raw["rules"] = {"fee_hike": {"window_seconds": 0.0}}
    return config.parse(raw)


def _pass(path: Path, cfg: config.Config) -> tuple[evaluate.PassResult, dict[str, int]]:
    backfill(cfg, path)
    with Store(path, serve=False) as store:
        for job in runner.fee_jobs(cfg, store, runner.pools(cfg, ["bsc"])):
            job.tick()  # the fee watch from state: the first pass is the baseline reading
        rules = [rp for rp in configured(cfg) if rp[0].name == "fee_hike"]
        res = evaluate.run_pass(store, cfg, datetime.now(UTC), rules)
        return res, delivery.Worker(store, channels.channels(cfg)).deliver_due()


def test_a_reorg_retracts_the_fee_hike_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rx = Receiver()
    monkeypatch.setenv("OGW_T_HOOK_URL", rx.url)
    monkeypatch.setenv("OGW_T_SECRET", SECRET)
    w = worldmod.start(keys=["bsc"])
    try:
        ch, m, owner = w.chains["bsc"], w.dep.get("twin_eoa").address, w.dep.accounts["market_owner"]
        path = tmp_path / "r.duckdb"
        cfg = _cfg(w, path)
        before, _ = _pass(path, cfg)  # whatever the deployment did is the baseline
        snap = ch.rpc("evm_snapshot")
        old = int(ch.call(m, ART, "protocolFeePercent"))
        assert ch.transact(owner, m, ART, "setProtocolFeePercent", old + 10**16).status == 1
        hike_block = int(ch.head()["number"], 16)
        fired, sent = _pass(path, cfg)
        assert len(fired.fired) == 1 and sent == {"delivered": 1}
        assert ch.rpc("evm_revert", snap)
        for _ in range(3):  # a longer fork without the hike
            ch.rpc("evm_mine")
        gone, sent = _pass(path, cfg)
        assert gone.retracted == fired.fired and gone.resolved == [] and sent == {"delivered": 1}
    finally:
        w.stop()
        rx.close()
    firing, retracted = (r.json for r in rx.accepted()[-2:])
    assert (firing["kind"], retracted["kind"]) == ("firing", "retracted")
    assert retracted["seq"] == firing["seq"] + 1 and retracted["fingerprints"] == firing["fingerprints"]
    (a,) = retracted["alerts"]
    assert (a["status"], a["source_block"]) == ("retracted", hike_block)
    assert int(a["evidence"]["change"]["new"]) == old + 10**16
