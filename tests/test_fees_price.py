"""The trader's live price check: the market's own views over RPC, worst-case arithmetic, and RPC-down handling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from collectors import live_prices
from collectors.live_prices import WAD, LiveUnavailable
from devnet import nodes
from devnet import truth as truthmod
from ogwatch import config
from ogwatch.secrets import MASK
from tests.engine_helpers import world_config

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sekr3tPriceKey9"


def _created(snapshot: Path, chain: str) -> dict[str, Any]:
    for rec in truthmod.read(snapshot / "truth.jsonl"):
        if rec["kind"] == "twin_create" and rec["chain"] == chain and rec["status"] == 1:
            return dict(rec["intent"])
    raise AssertionError(f"no twin_create on {chain} in the ground truth")


def _down_config(devnet_world: Any, tmp_path: Path) -> config.Config:
    url = f"http://user:{SECRET}@127.0.0.1:{nodes.free_port()}/?apikey={SECRET}"
    return world_config(devnet_world, tmp_path / "x.duckdb", urls={"bsc": url, "base": url})


@pytest.mark.devnet
def test_twin_quote_matches_the_contract(devnet_world: Any, devnet_snapshot: Path, tmp_path: Path) -> None:
    cfg = world_config(devnet_world, tmp_path / "x.duckdb")
    intent = _created(devnet_snapshot, "bsc")
    twin, market = intent["twin"], devnet_world.dep.get("twin_eoa").address
    chain = devnet_world.chains["bsc"]
    for amount in (1, 3):
        q = live_prices.quote(cfg, "bsc", market, "twinfun_market", twin, amount)
        args = (bytes.fromhex(twin[2:]), amount)
        assert q.buy_after_fee == chain.call(market, "DigitalTwinSharesV1", "getBuyPriceAfterFee", *args)
        assert q.buy_price == chain.call(market, "DigitalTwinSharesV1", "getBuyPrice", *args)
        assert q.protocol_fee_pct == chain.call(market, "DigitalTwinSharesV1", "protocolFeePercent")
        assert q.subject_fee_pct == chain.call(market, "DigitalTwinSharesV1", "subjectFeePercent")
        if amount == 1:  # the twin has more than one share, so one can be sold
            assert q.sell_after_fee is not None and q.sell_price is not None
            assert q.sell_after_fee == chain.call(market, "DigitalTwinSharesV1", "getSellPriceAfterFee", *args)
        assert q.block > 0 and q.buy_after_fee >= q.buy_price
    # Selling more than the supply reverts in the contract: no sell price, no crash.
    huge = live_prices.quote(cfg, "bsc", market, "twinfun_market", twin, 1000)
    assert huge.sell_after_fee is None and huge.sell_price is None


@pytest.mark.devnet
def test_friendtech_quote_matches_the_contract(devnet_world: Any, devnet_snapshot: Path, tmp_path: Path) -> None:
    cfg = world_config(devnet_world, tmp_path / "x.duckdb")
    intent = _created(devnet_snapshot, "base")
    subject, market = intent["subject"], intent["market"]
    q = live_prices.quote(cfg, "base", market, "friendtech_market", subject.lower(), 1)
    chain = devnet_world.chains["base"]
    assert q.buy_after_fee == chain.call(market, "FriendtechSharesV1", "getBuyPriceAfterFee", subject, 1)
    assert q.buy_price == chain.call(market, "FriendtechSharesV1", "getBuyPrice", subject, 1)


@pytest.mark.devnet
def test_bad_input_is_a_value_error(devnet_world: Any, tmp_path: Path) -> None:
    cfg = world_config(devnet_world, tmp_path / "x.duckdb")
    market = devnet_world.dep.get("twin_eoa").address
    with pytest.raises(ValueError, match="at least 1"):
        live_prices.quote(cfg, "bsc", market, "twinfun_market", "0x" + "ab" * 16, 0)
    with pytest.raises(ValueError, match="twin id"):
        live_prices.quote(cfg, "bsc", market, "twinfun_market", "0x1234", 1)
    with pytest.raises(ValueError, match="address"):
        live_prices.quote(cfg, "base", market, "friendtech_market", "0x1234", 1)


def test_worst_case_arithmetic_is_exact() -> None:
    price = 10**18 + 7
    three = 3 * 10**16
    w = live_prices.worst_case(price, price, [three, three])
    assert w.buy == price + 2 * (price * three // WAD)
    assert w.sell == price - 2 * (price * three // WAD) and not w.sell_returns_nothing
    total = live_prices.worst_case(price, price, [live_prices.pct_to_wad(10.0)])
    assert total.buy == price + price // 10 and total.sell == price - price // 10
    full = live_prices.worst_case(price, price, [WAD])
    assert full.buy == 2 * price and full.sell == 0 and full.sell_returns_nothing
    over = live_prices.worst_case(price, price, [WAD, WAD])
    assert over.sell == 0 and over.sell_returns_nothing
    assert live_prices.worst_case(price, None, [WAD]).sell is None
    assert live_prices.pct_to_wad(0.1) == 10**15 and live_prices.wad_to_pct(three) == "3"
    assert live_prices.format_amount(10**18 + 7, "BNB") == "1.000000000000000007 BNB"
    assert live_prices.format_amount(5, "ETH") == "0.000000000000000005 ETH"


@pytest.mark.devnet
def test_rpc_down_is_one_redacted_line(devnet_world: Any, tmp_path: Path) -> None:
    cfg = _down_config(devnet_world, tmp_path)
    market = devnet_world.dep.get("twin_eoa").address
    with pytest.raises(LiveUnavailable) as info:
        live_prices.quote(cfg, "bsc", market, "twinfun_market", "0x" + "ab" * 16, 1, timeout=2.0)
    text = str(info.value)
    assert "\n" not in text and SECRET not in text and MASK in text and text.startswith("bsc:")


APP = """
import json
from ogwatch import config
from ogwatch.ui.fees_price import render_price_check

cfg = config.parse(json.loads({raw!r}))
render_price_check(cfg, "bsc", {market!r}, "twinfun_market", 10.0, last_indexed={{"buy after fees": "0.1 BNB"}})
"""


@pytest.mark.devnet
def test_page_section_warns_when_rpc_is_down(devnet_world: Any, tmp_path: Path) -> None:
    cfg = _down_config(devnet_world, tmp_path)
    market = devnet_world.dep.get("twin_eoa").address
    script = tmp_path / "price_app.py"
    script.write_text(APP.format(raw=json.dumps(cfg.model_dump(mode="json")), market=market))
    at = AppTest.from_file(str(script), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert not at.warning  # nothing asked yet
    at.text_input[0].input("0x" + "ab" * 16).run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and warnings[0].startswith("Live prices unavailable (RPC down): ")
    assert SECRET not in warnings[0]
    assert len(at.table) == 1  # the last indexed values


@pytest.mark.devnet
def test_page_section_shows_prices(devnet_world: Any, devnet_snapshot: Path, tmp_path: Path) -> None:
    cfg = world_config(devnet_world, tmp_path / "x.duckdb")
    market = devnet_world.dep.get("twin_eoa").address
    script = tmp_path / "price_app.py"
    script.write_text(APP.format(raw=json.dumps(cfg.model_dump(mode="json")), market=market))
    at = AppTest.from_file(str(script), default_timeout=60)
    at.run()
    at.text_input[0].input(_created(devnet_snapshot, "bsc")["twin"]).run()
    assert not at.exception, at.exception
    assert not at.warning and len(at.table) == 1
    assert any("total fee of 10 %" in c.value for c in at.caption)
    table = at.table[0].value
    assert "Worst case (10 %)" in table.columns and any("BNB" in str(v) for v in table.iloc[0])
