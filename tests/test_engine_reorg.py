"""Reorgs made on anvil (snapshot/revert, then different blocks), inside and beyond the confirmation depth."""

from __future__ import annotations

import time

import duckdb
import pytest

from devnet import world as worldmod
from devnet.chain import Chain
from tests.engine_helpers import backfill, read_count, world_config

pytestmark = pytest.mark.devnet
TWIN = b"\x42" * 16
ART = "DigitalTwinSharesV1"
TRADE_TOPIC = "0x311a52e66bed13064f865403cc4c02927bd6506c88460c4c66ed158c4279f130"


@pytest.fixture
def market_world():
    w = worldmod.start(keys=["bsc"])
    ch, m = w.chains["bsc"], w.dep.get("twin_eoa").address
    ch.transact(w.dep.accounts["trader_0"], m, ART, "createDigitalTwin", TWIN, "ipfs://twin",
                value=ch.call(m, ART, "getBuyPriceAfterFee", TWIN, 1))
    yield w
    w.stop()


def _trades(ch: Chain, market: str, traders: list[str], amounts: list[int]) -> None:
    for trader, amount in zip(traders, amounts, strict=True):
        rec = ch.transact(trader, market, ART, "buyShares", TWIN, amount,
                          value=ch.call(market, ART, "getBuyPriceAfterFee", TWIN, amount))
        assert rec.status == 1


def _orphans(path, ch: Chain) -> list[tuple[int, str]]:
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("SELECT DISTINCT block_number, block_hash FROM trades UNION "
                       "SELECT number, hash FROM blocks").fetchall()
    con.close()
    return [(n, h) for n, h in rows if ch.rpc("eth_getBlockByNumber", hex(n), False)["hash"] != h]


@pytest.mark.parametrize(("depth", "confirmations", "beyond"), [(6, 0, True), (6, 3, True), (2, 3, False)])
def test_reorg(market_world, tmp_path, depth, confirmations, beyond) -> None:
    w = market_world
    ch, m, acct = w.chains["bsc"], w.dep.get("twin_eoa").address, w.dep.accounts
    traders = [acct[f"trader_{i}"] for i in range(depth)]
    _trades(ch, m, traders[:1] * 4, [1] * 4)  # history both forks share
    snap = ch.rpc("evm_snapshot")
    fork_block = int(ch.head()["number"], 16)
    _trades(ch, m, traders, [2] * depth)  # the fork that will vanish
    path = tmp_path / "r.duckdb"
    cfg = world_config(w, path, confirmations=confirmations)
    backfill(cfg, path)
    before = read_count(path, "SELECT count(*) FROM trades")
    assert ch.rpc("evm_revert", snap)
    _trades(ch, m, list(reversed(traders)), [3] * depth)  # same height, different blocks
    _trades(ch, m, traders[:1], [1])  # and one more, so the new chain is longer
    backfill(cfg, path)

    reorgs = read_count(path, "SELECT count(*) FROM reorgs")
    if beyond:
        assert reorgs == 1
        assert read_count(path, "SELECT max(fork_block) FROM reorgs") == fork_block
    else:  # the reorg stayed inside the confirmation depth: nothing indexed was touched
        assert reorgs == 0
    assert not _orphans(path, ch), "rows from the abandoned fork are still stored"
    head = int(ch.head()["number"], 16)
    want = len(ch.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head - confirmations), "address": m,
                                      "topics": [[TRADE_TOPIC]]}))
    assert read_count(path, "SELECT count(*) FROM trades") == want
    assert before > 0


def test_changed_genesis_is_refused_on_real_networks_and_reset_on_the_demo(tmp_path) -> None:
    from collectors import runner
    from collectors.engine import GenesisChanged
    from store.db import Store

    path = tmp_path / "g.duckdb"
    first = worldmod.start(keys=["bsc"])
    try:
        backfill(world_config(first, path, reset_on_new_genesis=False), path)
        born = int(first.chains["bsc"].rpc("eth_getBlockByNumber", "0x0", False)["timestamp"], 16)
    finally:
        first.stop()
    # anvil's genesis is its start second: a node started within the same second has the same genesis
    while time.time() < born + 1:
        time.sleep(0.05)
    second = worldmod.start(keys=["bsc"])  # a new anvil: a new genesis at the same URL's chain id
    try:
        cfg = world_config(second, path, reset_on_new_genesis=False)
        with Store(path, serve=False) as store:
            eng = runner.engines(cfg, store)[0]
            with pytest.raises(GenesisChanged, match="genesis .* differs .* refusing"):
                eng.tick()
        backfill(world_config(second, path, reset_on_new_genesis=True), path)
        assert read_count(path, "SELECT count(*) FROM checkpoints") >= 1
        assert not _orphans(path, second.chains["bsc"])
    finally:
        second.stop()
