"""The demo's config turns on what the devnet offers: Walrus and CometBFT stand-ins and the tagged callers."""

from __future__ import annotations

import tomllib

from ogwatch import config as configmod
from ogwatch.demo import demo_config


def test_demo_config_has_stand_ins_and_callers(devnet_world) -> None:
    cfg = configmod.parse(tomllib.loads(demo_config(devnet_world)))
    og = cfg.networks["og_evm"]
    assert og.walrus_aggregator_url == devnet_world.walrus.url and og.cometbft_url == devnet_world.comet.url
    want = {(c.address, tuple(c.tags)) for c in devnet_world.dep.contracts if c.artifact == "InferenceCaller"}
    assert {(c.address, tuple(c.tags)) for c in cfg.callers} == want and len(want) == 3
    assert any(c.tags == ["production"] for c in cfg.callers)
