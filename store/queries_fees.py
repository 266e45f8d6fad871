"""Named queries of the fee watch: each market's fees, control, ceilings, changes, queued changes and trades.

Fees are 1e18-precision uint256 values (1e18 = 100 %) kept as exact decimal text with a `_f` double for
charts. Markets are keyed by (chain_id, address); labels live in the config, so callers join them.
A change is a `fee_changes` row (found by comparing state readings) or, for history before the first
reading, a setter event from `market_events` that no `fee_changes` row already covers.
"""

from __future__ import annotations

from store.queries import Query, register

FEE_FIELDS = ("protocolFeePercent", "subjectFeePercent")

# Fragments below are constant SQL text composed at import; every value is a bound parameter.
_MARKET_FILTER = ("($chain_id IS NULL OR chain_id = $chain_id)"
                  " AND ($address IS NULL OR lower(address) = lower($address))")

# Every change, with evidence, as CTEs ending in `all_changes`; setter events fill the history that the state
# readings cannot see (before the first reading).
_CHANGES = f"""
recorded AS (
    SELECT chain_id, address, field, old, new, old_f, new_f, block_number, block_from, tx_hash,
           sender, caller, tx_to, path, detected_by, precision, note
    FROM fee_changes WHERE {_MARKET_FILTER}
),
setter_events AS (
    SELECT chain_id, address, field, block_number, log_index, tx_hash, value, value_f,
           lag(value) OVER w AS prev, lag(value_f) OVER w AS prev_f
    FROM market_events WHERE {_MARKET_FILTER}
    WINDOW w AS (PARTITION BY chain_id, address, field ORDER BY block_number, log_index)
),
from_events AS (
    SELECT e.chain_id, e.address, e.field, e.prev AS old, e.value AS new, e.prev_f AS old_f, e.value_f AS new_f,
           e.block_number, e.block_number AS block_from, e.tx_hash,
           NULL::VARCHAR AS sender, NULL::VARCHAR AS caller, NULL::VARCHAR AS tx_to,
           'unknown' AS path, 'event' AS detected_by, 'tx' AS precision,
           CASE WHEN e.prev IS NULL THEN 'setter event; the value before it is unknown (no earlier event)'
                ELSE 'setter event; old value from the previous setter event' END AS note
    FROM setter_events e
    WHERE e.prev IS DISTINCT FROM e.value
      AND NOT EXISTS (SELECT 1 FROM recorded r WHERE r.chain_id = e.chain_id AND r.address = e.address
                        AND r.field = e.field AND r.block_number = e.block_number)
),
all_changes AS (
    SELECT c.*,
           coalesce(b.ts, (SELECT to_timestamp(max(m.block_ts)) FROM market_events m
                            WHERE m.chain_id = c.chain_id AND m.block_number = c.block_number)) AS block_time
    FROM (SELECT * FROM recorded UNION ALL SELECT * FROM from_events) c
    LEFT JOIN blocks b ON b.chain_id = c.chain_id AND b.number = c.block_number
)"""  # noqa: S608

register(Query(
    "fee_changes",
    "WITH " + _CHANGES + "\nSELECT * FROM all_changes ORDER BY chain_id, address, block_number, field",
    "Every fee change (protocol/subject fee, destination, min shares) with its evidence: block range, tx, path, "
    "detected_by, precision, note; block_time when known.",
    {"chain_id": "int", "address": "str"},
    frozenset({"chain_id", "address"}),
))

_MARKETS = f"""
WITH {_CHANGES},
keys AS (
    SELECT DISTINCT chain_id, address FROM market_state WHERE {_MARKET_FILTER}
    UNION
    SELECT DISTINCT chain_id, address FROM market_control WHERE {_MARKET_FILTER}
),
state AS (
    SELECT chain_id, address, field, arg_max(value, block_number) AS value, arg_max(value_f, block_number) AS value_f,
           max(block_number) AS block_number
    FROM market_state WHERE {_MARKET_FILTER}
    GROUP BY chain_id, address, field
),
control AS (
    SELECT * FROM market_control WHERE {_MARKET_FILTER}
    QUALIFY row_number() OVER (PARTITION BY chain_id, address ORDER BY block_number DESC) = 1
),
ceil AS (
    SELECT * FROM ceilings WHERE {_MARKET_FILTER}
    QUALIFY row_number() OVER (PARTITION BY chain_id, address, field ORDER BY block_number DESC) = 1
)"""  # noqa: S608

_MARKET_SELECT = _MARKETS + """
, fee_changes_ AS (
    SELECT * FROM all_changes WHERE field IN ('protocolFeePercent', 'subjectFeePercent')
),
last_change AS (
    SELECT * FROM fee_changes_
    QUALIFY row_number() OVER (PARTITION BY chain_id, address ORDER BY block_number DESC, field) = 1
)
SELECT k.chain_id, k.address, ctl.kind,
       (SELECT max(s.block_number) FROM state s WHERE s.chain_id = k.chain_id AND s.address = k.address) AS read_block,
       max(s.value) FILTER (WHERE s.field = 'protocolFeePercent') AS protocol_fee,
       max(s.value_f) FILTER (WHERE s.field = 'protocolFeePercent') AS protocol_fee_f,
       max(s.value) FILTER (WHERE s.field = 'subjectFeePercent') AS subject_fee,
       max(s.value_f) FILTER (WHERE s.field = 'subjectFeePercent') AS subject_fee_f,
       max(s.value) FILTER (WHERE s.field = 'protocolFeeDestination') AS fee_destination,
       coalesce(any_value(ctl.owner), max(s.value) FILTER (WHERE s.field = 'owner')) AS owner,
       any_value(ctl.owner_kind) AS owner_kind, any_value(ctl.rule) AS rule,
       any_value(ctl.implementation) AS implementation, any_value(ctl.upgradeable) AS upgradeable,
       any_value(ctl.block_number) AS control_block,
       any_value(cp.label) AS protocol_ceiling, any_value(cp.max_accepted) AS protocol_max,
       any_value(cp.max_accepted_f) AS protocol_max_f,
       any_value(cs.label) AS subject_ceiling, any_value(cs.max_accepted) AS subject_max,
       any_value(cs.max_accepted_f) AS subject_max_f,
       (SELECT count(*) FROM fee_changes_ fc WHERE fc.chain_id = k.chain_id AND fc.address = k.address) AS changes,
       any_value(lc.block_number) AS last_change_block, any_value(lc.block_time) AS last_change_time,
       any_value(lc.field) AS last_change_field, any_value(lc.old) AS last_change_old,
       any_value(lc.new) AS last_change_new, any_value(lc.old_f) AS last_change_old_f,
       any_value(lc.new_f) AS last_change_new_f
FROM keys k
LEFT JOIN state s ON s.chain_id = k.chain_id AND s.address = k.address
LEFT JOIN control ctl ON ctl.chain_id = k.chain_id AND ctl.address = k.address
LEFT JOIN ceil cp ON cp.chain_id = k.chain_id AND cp.address = k.address AND cp.field = 'protocolFeePercent'
LEFT JOIN ceil cs ON cs.chain_id = k.chain_id AND cs.address = k.address AND cs.field = 'subjectFeePercent'
LEFT JOIN last_change lc ON lc.chain_id = k.chain_id AND lc.address = k.address
GROUP BY k.chain_id, k.address, ctl.kind
ORDER BY k.chain_id, k.address
"""  # noqa: S608

_MARKET_DOC = ("current protocol/subject fee (exact text + _f), destination, owner, owner_kind, rule JSON, "
               "upgradeable, ceiling label and max per fee, count of fee changes and the last one (block, time, "
               "field, old, new).")

register(Query(
    "fee_markets",
    _MARKET_SELECT,
    "Every watched market: " + _MARKET_DOC,
    {"chain_id": "int", "address": "str"},
    frozenset({"chain_id", "address"}),
))

register(Query(
    "fee_market",
    _MARKET_SELECT,
    "One market (chain_id, address): " + _MARKET_DOC,
    {"chain_id": "int", "address": "str"},
))

register(Query(
    "fee_queued",
    """
    SELECT chain_id, market AS address, timelock, operation_id, call_index, field, new_value, new_value_f,
           delay, scheduled_block, to_timestamp(scheduled_ts) AS scheduled_time, eta, to_timestamp(eta) AS eta_time,
           owner_is_timelock, tx_hash
    FROM queued_changes
    WHERE ($chain_id IS NULL OR chain_id = $chain_id) AND ($address IS NULL OR lower(market) = lower($address))
    ORDER BY chain_id, eta, market
    """,
    "Fee changes scheduled on a timelock for a watched market, neither executed nor cancelled; eta in chain time.",
    {"chain_id": "int", "address": "str"},
    frozenset({"chain_id", "address"}),
))

register(Query(
    "fee_ceiling_evidence",
    """
    SELECT e.field, e.block_number, e.seq, e.caller, e.value, e.value_f, e.reverted
    FROM ceiling_evidence e
    WHERE e.chain_id = $chain_id AND lower(e.address) = lower($address)
      AND e.block_number = (SELECT max(x.block_number) FROM ceiling_evidence x
                            WHERE x.chain_id = e.chain_id AND x.address = e.address AND x.field = e.field)
    ORDER BY e.field, e.seq
    """,
    "The simulated setter calls behind each fee's latest ceiling label: value tried, by whom, reverted or not.",
    {"chain_id": "int", "address": "str"},
))

register(Query(
    "fee_roles",
    """
    SELECT CASE WHEN lower(r.address) = lower($address) THEN 'market' ELSE 'owner' END AS held_on,
           r.address, r.role_name, r.role, r.account, r.since_block
    FROM role_holders r
    WHERE r.chain_id = $chain_id
      AND (lower(r.address) = lower($address)
           OR r.address = (SELECT arg_max(mc.owner, mc.block_number) FROM market_control mc
                           WHERE mc.chain_id = $chain_id AND lower(mc.address) = lower($address)))
    ORDER BY held_on, r.role_name, r.account
    """,
    "Current AccessControl role holders on the market and on its owner contract (e.g. a timelock's proposers).",
    {"chain_id": "int", "address": "str"},
))

register(Query(
    "fee_trades_summary",
    """
    SELECT count(*) AS trades, count(*) FILTER (WHERE is_buy) AS buys, count(*) FILTER (WHERE NOT is_buy) AS sells,
           coalesce(sum(eth_amount_f), 0) / 1e18 AS volume,
           coalesce(sum(protocol_eth_amount_f), 0) / 1e18 AS protocol_fees_paid,
           coalesce(sum(subject_eth_amount_f), 0) / 1e18 AS subject_fees_paid,
           max(block_number) AS last_trade_block, to_timestamp(max(block_ts)) AS last_trade_time
    FROM trades
    WHERE chain_id = $chain_id AND lower(address) = lower($address)
    """,
    "A market's trades: count, buys, sells, volume and fees paid (native units, float), last trade.",
    {"chain_id": "int", "address": "str"},
))

register(Query(
    "fee_twin",
    """
    SELECT count(*) AS trades, count(*) FILTER (WHERE is_buy) AS buys, count(*) FILTER (WHERE NOT is_buy) AS sells,
           arg_max(supply, block_number * 1000000 + log_index) AS supply,
           min(block_number) AS first_trade_block, max(block_number) AS last_trade_block
    FROM trades
    WHERE chain_id = $chain_id AND lower(address) = lower($address)
      AND (lower(twin_id) = lower($twin) OR lower(subject) = lower($twin))
    """,
    "One twin (Twin.fun id, 0x + 32 hex) or friend.tech subject of a market: its trades and its last supply.",
    {"chain_id": "int", "address": "str", "twin": "str"},
))

register(Query(
    "fee_coverage",
    """
    WITH node AS (
        SELECT chain_id, bool_or(traces) AS node_traces, bool_or(debug_trace) AS node_debug_trace,
               CASE WHEN bool_or(state_depth IS NULL) THEN NULL ELSE max(state_depth) END AS node_state_depth,
               max(max_batch) AS node_max_batch, max(checked_at) AS node_checked_at
        FROM node_capabilities WHERE chain_id = $chain_id GROUP BY chain_id
    )
    SELECT c.chain_id, c.block_from, c.block_number, c.traces, c.events, c.state_from, c.note, c.rpc_calls,
           c.checked_at, n.node_traces, n.node_debug_trace, n.node_state_depth, n.node_max_batch, n.node_checked_at
    FROM fee_watch_coverage c LEFT JOIN node n USING (chain_id)
    WHERE c.chain_id = $chain_id
    ORDER BY c.block_number DESC
    LIMIT 1
    """,
    "The fee watch's last tick on a chain (blocks compared, evidence used, what could not be checked) and what "
    "the chain's nodes offer (traces, state depth: NULL = full history, batch size).",
    {"chain_id": "int"},
))
