"""One twin (Twin.fun) or subject (friend.tech) of a market, for `ogwatch fees MARKET --twin ID`.

What the store knows about it (trades, last supply), and what buying and selling `amount` shares costs now and
at the worst-case fees, from the market's own views (`collectors.live_prices`, read-only). A malformed id or a
twin without any indexed trade raises `UnknownTwin` with one line for the user; a node that cannot be reached
gives a `price` of {"unavailable": reason} instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd

from collectors import live_prices
from collectors.live_prices import WAD, LiveUnavailable
from ogwatch.config import Config
from ogwatch.ui.fees_format import clean

Runner = Callable[..., pd.DataFrame]


class UnknownTwin(ValueError):
    """The twin id is malformed, or no trade of it is indexed on this market."""


def twin_key(kind: str, twin: str) -> str:
    """The id as stored: 0x + 32 lowercase hex digits (Twin.fun) or the lowercase subject address."""
    try:
        arg = live_prices.subject_arg(kind, twin)
    except ValueError as err:
        raise UnknownTwin(str(err)) from None
    return ("0x" + arg.hex()) if isinstance(arg, bytes) else arg.lower()


def worst_wad(worst_case: dict[str, Any]) -> int:
    """The worst-case total fee in 1e18 precision: the bound when there is one, else 100 %."""
    if not worst_case.get("bounded") or worst_case.get("max_total_percent") is None:
        return WAD
    return int(Decimal(str(worst_case["max_total_percent"])) * WAD / 100)


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def price_check(cfg: Config, market: dict[str, Any], twin: str, amount: int, total_wad: int) -> dict[str, Any]:
    """Buy and sell after fees for `amount` shares now (the views) and at `total_wad` (exact wei, as text)."""
    try:
        q = live_prices.quote(cfg, str(market["network"]), str(market["address"]), str(market["kind"]), twin, amount)
    except LiveUnavailable as err:
        return {"unavailable": str(err)}
    worst = live_prices.worst_case(q.buy_price, q.sell_price, [total_wad])
    return {"block": q.block, "amount": amount,
            "current_total_percent": live_prices.wad_to_pct(q.protocol_fee_pct + q.subject_fee_pct),
            "buy_after_fee": str(q.buy_after_fee), "sell_after_fee": _text(q.sell_after_fee),
            "worst_total_percent": live_prices.wad_to_pct(total_wad), "worst_buy": str(worst.buy),
            "worst_sell": _text(worst.sell), "sell_returns_nothing": worst.sell_returns_nothing}


def twin_view(cfg: Config, run: Runner, market: dict[str, Any], twin: str, amount: int,
              worst_case: dict[str, Any]) -> dict[str, Any]:
    """The twin's indexed trades and supply, and its live price check; UnknownTwin when nothing is indexed."""
    key = twin_key(str(market["kind"]), twin)
    rows = run("fee_twin", chain_id=int(market["chain_id"]), address=str(market["address"]), twin=key)
    found = {str(k): clean(v) for k, v in rows.iloc[0].items()} if len(rows) else {}
    if not found.get("trades"):
        what = "subject" if market["kind"] == "friendtech_market" else "twin"
        raise UnknownTwin(f"unknown {what} {twin!r} on {market['label']}: no trade of it is indexed")
    return {"id": key, **{k: found.get(k) for k in ("trades", "buys", "sells", "supply", "first_trade_block",
                                                    "last_trade_block")},
            "price": price_check(cfg, market, key, amount, worst_wad(worst_case))}


__all__ = ["UnknownTwin", "price_check", "twin_key", "twin_view", "worst_wad"]
