"""Live, read-only price check of one market: the contract's own price views, asked over JSON-RPC now.

This is the one live-view module the UI data layer may use (everything else reads the store). It only
issues `eth_blockNumber` and `eth_call` at that block: the curve price and the after-fee prices for a
chosen amount, plus the current fee percents. Worst-case prices are pure integer arithmetic on the curve
price and fee percents (1e18 = 100 %), exactly as the contracts charge them.

Errors: `LiveUnavailable` (RPC down, timeout, missing URL secret; one redacted line) and `ValueError`
for bad input (amount below 1, malformed twin id or subject address, unknown network or market kind).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from web3 import Web3

from collectors import abis
from collectors.pool import RpcPool
from collectors.probe import network_urls
from collectors.rpc import RpcError
from ogwatch.config import Config
from ogwatch.secrets import MissingSecret, redact

WAD = 10**18  # fee percents are scaled by 1e18 (1e18 = 100 %); amounts are in wei
ABI_BY_KIND = {
    "twinfun_market": "DigitalTwinSharesV1",
    "twinfun_docs_market": "DigitalTwinSharesV1",
    "friendtech_market": "FriendtechSharesV1",
}
_TWIN_ID = re.compile(r"^(0x)?[0-9a-fA-F]{32}$")


class LiveUnavailable(RuntimeError):
    """The live views could not be read (RPC down or too slow); the message is one redacted line."""


@dataclass(frozen=True)
class Quote:
    """The market's own answer for `amount` shares at `block` (wei, and fee percents scaled by 1e18).

    Sell fields are None when selling that many is impossible (the view reverts: supply too small).
    """

    buy_after_fee: int
    sell_after_fee: int | None
    buy_price: int
    sell_price: int | None
    protocol_fee_pct: int
    subject_fee_pct: int
    block: int


@dataclass(frozen=True)
class WorstCase:
    """Prices after the highest fees allowed: what a buyer pays and a seller gets back (wei)."""

    buy: int
    sell: int | None
    sell_returns_nothing: bool  # the fees take 100 % or more of the sale


def subject_arg(kind: str, subject: str) -> bytes | str:
    """The market's subject argument: a bytes16 twin id (hex) for Twin.fun, a checksummed address otherwise."""
    text = subject.strip()
    if kind not in ABI_BY_KIND:
        raise ValueError(f"not a market kind: {kind!r}")
    if kind == "friendtech_market":
        if not Web3.is_address(text):
            raise ValueError(f"not an address: {text!r}")
        return str(Web3.to_checksum_address(text))
    if not _TWIN_ID.match(text):
        raise ValueError(f"not a twin id (16 bytes as 32 hex digits): {text!r}")
    return bytes.fromhex(text.removeprefix("0x").removeprefix("0X"))


def _one_line(err: BaseException) -> str:
    return " ".join(redact(str(err)).split()) or type(err).__name__


def _reverted(err: RpcError) -> bool:
    return err.kind == "rpc" and (err.code == 3 or "revert" in str(err).lower())


def _uint(result: Any, what: str) -> int:
    if not isinstance(result, str) or not result.startswith("0x") or len(result) < 3:
        raise LiveUnavailable(f"{what}: the contract gave no answer (no code at the address?)")
    return int(result[:66], 16)


def quote(cfg: Config, network: str, market: str, kind: str, subject: str, amount: int, *,
          timeout: float = 5.0) -> Quote:
    """Ask the market's views, at one block, what `amount` shares cost to buy and return when sold."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise ValueError(f"amount must be a whole number of at least 1, not {amount!r}")
    if network not in cfg.networks:
        raise ValueError(f"unknown network: {network!r}")
    if not Web3.is_address(market):
        raise ValueError(f"not a market address: {market!r}")
    arg = subject_arg(kind, subject)
    abi = ABI_BY_KIND[kind]
    to = str(Web3.to_checksum_address(market))
    try:
        pool = RpcPool(network_urls(cfg.networks[network]), timeout=timeout, max_retries=1, base_delay=0.05)
        block = int(str(pool.call("eth_blockNumber")), 16)
        tag = hex(block)

        def view(fn: str, args: list[Any]) -> int | None:
            try:
                res = pool.call("eth_call", [{"to": to, "data": abis.calldata(abi, fn, args)}, tag])
            except RpcError as err:
                if _reverted(err):
                    return None
                raise
            return _uint(res, f"{network} {to} {fn}")

        def must(fn: str, args: list[Any]) -> int:
            value = view(fn, args)
            if value is None:
                raise LiveUnavailable(f"{network} {to} {fn} reverted")
            return value

        return Quote(
            buy_after_fee=must("getBuyPriceAfterFee", [arg, amount]),
            sell_after_fee=view("getSellPriceAfterFee", [arg, amount]),
            buy_price=must("getBuyPrice", [arg, amount]),
            sell_price=view("getSellPrice", [arg, amount]),
            protocol_fee_pct=must("protocolFeePercent", []),
            subject_fee_pct=must("subjectFeePercent", []),
            block=block,
        )
    except (RpcError, MissingSecret, ValueError) as err:  # ValueError: no URL configured, or a garbled answer
        raise LiveUnavailable(f"{network}: {_one_line(err)}") from None


def fee_of(price: int, fee_pcts: Sequence[int]) -> int:
    """The fees the contract charges on `price`: each percent applied on its own, rounded down."""
    for pct in fee_pcts:
        if pct < 0:
            raise ValueError(f"a fee percent cannot be negative: {pct}")
    return sum(price * pct // WAD for pct in fee_pcts)


def worst_case(buy_price: int, sell_price: int | None, fee_pcts: Sequence[int]) -> WorstCase:
    """Buy and sell after the given (worst-case) fee percents, from the curve prices; sell floored at 0."""
    buy = buy_price + fee_of(buy_price, fee_pcts)
    if sell_price is None:
        return WorstCase(buy, None, sum(fee_pcts) >= WAD)
    sell = max(0, sell_price - fee_of(sell_price, fee_pcts))
    return WorstCase(buy, sell, sum(fee_pcts) >= WAD)


def pct_to_wad(percent: float) -> int:
    """A percent as shown (e.g. 10.0 for 10 %) as the contracts' 1e18-scaled fee percent, exactly as written."""
    if percent < 0:
        raise ValueError(f"a fee percent cannot be negative: {percent}")
    return int(Decimal(str(percent)) * WAD / 100)


def wad_to_pct(value: int) -> str:
    """A 1e18-scaled fee percent as a percent string without rounding (3e16 -> "3")."""
    text = format(Decimal(value) * 100 / WAD, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_amount(wei: int, symbol: str) -> str:
    """Wei in the chain's token with all 18 decimals (exact)."""
    sign = "-" if wei < 0 else ""
    wei = abs(wei)
    return f"{sign}{wei // WAD}.{wei % WAD:018d} {symbol}"
