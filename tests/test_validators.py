"""Validator voting power from the staking precompile stand-in (paged) and the CometBFT stand-in, with history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collectors import runner
from collectors.validators import ValidatorCollector, ValidatorReadError, read_cometbft, read_staking
from devnet.contracts_info import STAKING_PRECOMPILE
from store.db import Store
from tests import concentration_helpers as ch

pytestmark = pytest.mark.devnet


def _pool(cfg: Any) -> Any:
    return runner.pools(cfg, [ch.NET])[ch.NET]


def test_staking_pages_equal_the_stand_in_and_truth(devnet_world: Any, devnet_snapshot: Path, tmp_path: Path) -> None:
    cfg = ch.og_config(ch.og_toml(devnet_world, tmp_path / "s.duckdb"))
    og = devnet_world.chains[ch.NET]
    block = int(og.head()["number"], 16)
    rows, pages = read_staking(_pool(cfg), STAKING_PRECOMPILE, block, page_size=2)
    assert pages == 3 and len(rows) == 6  # six bonded validators, two per page, paged by offset
    want = ch.last_validator_powers(devnet_snapshot)
    assert {r.validator: r.power for r in rows} == want
    views, _page = og.call(STAKING_PRECOMPILE, "StakingPrecompileStandIn", "validators", "BOND_STATUS_BONDED",
                           (b"", 0, 100, True, False), block=block)
    assert [(r.validator, r.tokens, r.consensus_pubkey, r.moniker) for r in rows] == \
        [(v[0], v[4], v[1], v[6][0]) for v in views]


def test_cometbft_equals_the_stand_in(devnet_world: Any, devnet_snapshot: Path) -> None:
    height, rows, pages = read_cometbft(devnet_world.comet.url, per_page=4)
    assert pages == 2 and height >= 1
    assert [(r.validator, r.power, r.consensus_pubkey) for r in rows] == \
        [(v.address, v.voting_power, v.pub_key) for v in devnet_world.comet.validators()]
    with pytest.raises(ValidatorReadError, match="cannot connect"):
        read_cometbft("http://127.0.0.1:9")


def test_history_and_the_cometbft_join(devnet_world: Any, devnet_snapshot: Path, tmp_path: Path) -> None:
    path = tmp_path / "v.duckdb"
    cfg = ch.og_config(ch.og_toml(devnet_world, path))
    sets = [r for r in ch.records(devnet_snapshot) if r["kind"] == "validator_set"]
    with Store(path, serve=False) as store:
        col = ValidatorCollector(store, _pool(cfg), 10740, STAKING_PRECOMPILE, devnet_world.comet.url, 0, page_size=4)
        written = [col.tick(r["block"]) for r in sets]
        hist = store.query("validator_history", chain_id=10740)
        current = store.query("validators_current", chain_id=10740)
    assert [w["staking"] for w in written] == [1, 1, 1, 1, 1, 1, 1]  # one change per recorded action
    staking = hist[hist["source"] == "staking"]
    for r in sets:  # the power of every validator after each change, as the simulator set it
        at = staking[staking["block_number"] <= r["block"]].sort_values("block_number").groupby("validator").last()
        assert {v: int(p) for v, p in at["power"].items()} == r["intent"]["powers"]
    comet = current[current["source"] == "cometbft"]
    by_comet = {r["intent"]["comet_address"]: r["intent"]["operator_address"] for r in sets}
    assert dict(zip(comet["validator"], comet["operator_address"], strict=True)) == by_comet
    assert {o: int(p) for o, p in zip(comet["operator_address"], comet["power"], strict=True)} == \
        ch.last_validator_powers(devnet_snapshot)
