"""A market's fee rates at one past block, for the charged-fee check of trades older than any known rate.

Read-only and live, like `collectors.live_prices`: the UI data layer asks it (cached) when a market's first
trades come before its first setter event, fee change or reading. It reads the market's own fee views at the
block with `eth_call` only when the node offers state that old (`capabilities.state_depth`: None = all the way
to genesis); otherwise, or when the RPC is down, it says why in one line and reads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from collectors import capabilities
from collectors.fee_state_read import read_states
from collectors.pool import RpcPool
from collectors.probe import network_urls
from collectors.rpc import RpcError
from ogwatch.config import Config
from ogwatch.secrets import MissingSecret, redact

FEE_FIELDS = ("protocolFeePercent", "subjectFeePercent")


@dataclass(frozen=True)
class PastRates:
    """The fee rates at the end of `block` (1e18 = 100 %), or None with the reason they could not be read."""

    block: int
    rates: dict[str, int] | None
    reason: str = ""
    state_depth: int | None = None  # the node's state window in blocks (None: full history)
    head: int | None = None


def _one_line(err: BaseException) -> str:
    return " ".join(redact(str(err)).split()) or type(err).__name__


def window_reason(block: int, head: int, depth: int | None) -> str:
    """Why the node cannot answer state at `block` ('' when it can): older than its state window."""
    if depth is None or head - block <= depth:
        return ""
    return (f"the node keeps state only for the last {depth:,} blocks (head {head:,}); "
            f"block {block:,} is older, so the rate before the first known change cannot be read")


def rates_at(cfg: Config, network: str, market: str, kind: str, block: int, *, timeout: float = 5.0) -> PastRates:
    """Protocol and subject fee rates of `market` at the end of `block`, if the node still has that state."""
    if network not in cfg.networks:
        return PastRates(block, None, f"unknown network {network!r}")
    if block < 0:
        return PastRates(block, None, "no block before the chain's first")
    try:
        pool = RpcPool(network_urls(cfg.networks[network]), timeout=timeout, max_retries=1, base_delay=0.05)
        head = int(str(pool.call("eth_blockNumber")), 16)
        depth = capabilities.state_depth(pool, head)
        why = window_reason(block, head, depth)
        if why:
            return PastRates(block, None, why, depth, head)
        address = to_checksum_address(market)
        state = read_states(pool, [(address, kind)], block, 10)[address]
    except (RpcError, MissingSecret, ValueError, KeyError) as err:
        return PastRates(block, None, f"historical state at block {block:,} could not be read: {_one_line(err)}")
    values = {f: state.get(f) for f in FEE_FIELDS}
    if not all(isinstance(v, int) for v in values.values()):
        return PastRates(block, None, f"the market answered no fee rates at block {block:,} (no code yet?)",
                         depth, head)
    return PastRates(block, {f: int(v) for f, v in values.items() if isinstance(v, int)}, "", depth, head)


__all__ = ["PastRates", "rates_at", "window_reason"]
