"""The shared devnet fixture: every action the simulator intended is in the receipts, history included."""

from __future__ import annotations

import pytest

from devnet import truth as truthmod
from devnet.nodes import rpc_batch
from devnet.world import TRUTH_FILE

pytestmark = pytest.mark.devnet

CATALOGUE = {  # every kind of event the issue asks the simulator to produce
    "trade", "fee_set", "timelock_schedule", "timelock_cancel", "setter_reverted", "upgrade",
    "inference", "settlement_individual", "settlement_batch", "settlement_v1",
    "tee_registered", "heartbeat", "tee_disabled", "pcr_revoked", "validator_set",
}


@pytest.fixture(scope="module")
def records(devnet_snapshot):
    return list(truthmod.read(devnet_snapshot / TRUTH_FILE))


def test_catalogue_is_complete(records) -> None:
    kinds = {r["kind"] for r in records}
    assert CATALOGUE <= kinds, CATALOGUE - kinds
    paths = {r["intent"].get("path") for r in records if r["kind"] == "fee_set"}
    assert {"direct", "timelock", "multisig", "batcher"} <= paths, paths
    assert any(r["intent"].get("beyond_cap") for r in records if r["kind"] == "fee_set")
    assert sum(r["kind"] in ("trade", "batch_trade", "twin_create") for r in records) >= 2000
    assert sum(r["kind"] == "inference" for r in records) >= 2000


def test_every_record_is_in_the_receipts_of_the_restored_chain(devnet_world, records) -> None:
    by_chain: dict[str, list[dict]] = {}
    for r in records:
        by_chain.setdefault(r["chain"], []).append(r)
    for key, rows in by_chain.items():
        url = devnet_world.chains[key].url
        for i in range(0, len(rows), 500):
            chunk = rows[i:i + 500]
            receipts = rpc_batch(url, [("eth_getTransactionReceipt", [r["tx"]]) for r in chunk])
            for r, rec in zip(chunk, receipts, strict=True):
                assert rec is not None, f"{key}: {r['kind']} tx {r['tx']} not on the restored chain"
                assert int(rec["blockNumber"], 16) == r["block"] and rec["blockHash"] == r["block_hash"]
                assert int(rec["status"], 16) == r["status"] == int(r["expect_success"])
                got = [(int(lg["logIndex"], 16), lg["address"].lower(), lg["topics"][0] if lg["topics"] else None)
                       for lg in rec["logs"]]
                want = [(lg["log_index"], lg["address"].lower(), lg["topic0"]) for lg in r["logs"]]
                assert got == want, f"{key}: logs of {r['tx']} differ from the ground truth"


def test_history_survives_the_restore(devnet_world, records) -> None:
    fee_sets = [r for r in records if r["kind"] == "fee_set" and r["chain"] == "bsc" and r["status"] == 1]
    assert fee_sets
    for r in fee_sets:
        ch = devnet_world.chains["bsc"]
        getter = r["intent"]["field"]
        if getter not in ("protocolFeePercent", "subjectFeePercent"):
            continue
        before = ch.call(r["intent"]["market"], "DigitalTwinSharesV1", getter, block=r["block"] - 1)
        after = ch.call(r["intent"]["market"], "DigitalTwinSharesV1", getter, block=r["block"])
        assert (before, after) == (int(r["intent"]["old"]), int(r["intent"]["new"]))


def test_ground_truth_covers_every_log_on_every_chain(devnet_world, records) -> None:
    known = {(r["chain"], r["tx"], lg["log_index"]) for r in records for lg in r["logs"]}
    for key, ch in devnet_world.chains.items():
        logs = ch.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"})
        assert logs
        missing = [lg for lg in logs if (key, lg["transactionHash"], int(lg["logIndex"], 16)) not in known]
        assert not missing, f"{key}: {len(missing)} logs the ground truth does not know, e.g. {missing[0]}"
