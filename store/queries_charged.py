"""Named queries of the charged-fee check: one market's trades, setter events, fee changes and fee readings.

Each returns exactly the frame analysis/charged_fees.py reads for one market (chain_id, address); amounts and
rates stay exact decimal text. Rows are ordered by position (block, tx index, log index).
"""

from __future__ import annotations

from store.queries import Query, register

_MARKET = {"chain_id": "int", "address": "str"}
_FEES_ONLY = "AND field IN ('protocolFeePercent', 'subjectFeePercent')"


def _sql(columns: str, table: str, extra: str, order: str) -> str:
    """One market's rows of a table; composed at import from constant text, values are bound parameters."""
    return (f"SELECT {columns} FROM {table} WHERE chain_id = $chain_id AND lower(address) = lower($address) "  # noqa: S608
            f"{extra} ORDER BY {order}")


register(Query(
    "charged_trades",
    _sql("chain_id, block_number, tx_index, log_index, tx_hash, address, event, is_buy, eth_amount, "
         "protocol_eth_amount, subject_eth_amount", "trades", "", "block_number, tx_index, log_index"),
    "One market's trades with the fees they paid (exact text), in chain order.",
    dict(_MARKET),
))

register(Query(
    "charged_setter_events",
    _sql("chain_id, block_number, tx_index, log_index, tx_hash, address, field, value", "market_events",
         _FEES_ONLY, "block_number, tx_index, log_index"),
    "One market's protocol/subject fee setter events (exact position and new value).",
    dict(_MARKET),
))

register(Query(
    "charged_fee_changes",
    _sql("chain_id, address, field, old, new, block_number, block_from, tx_index, tx_hash, precision",
         "fee_changes", _FEES_ONLY, "block_number, field"),
    "One market's protocol/subject fee changes found from state, with their block range and precision.",
    dict(_MARKET),
))

register(Query(
    "charged_fee_readings",
    _sql("chain_id, address, field, block_number, value", "market_state", _FEES_ONLY, "block_number, field"),
    "One market's protocol/subject fee readings (the rate at the end of each read block).",
    dict(_MARKET),
))
