"""Named queries of the settlement work (registered into store.queries.REGISTRY on import).

A settlement is a row of `settlements` (relay v2 BatchSettlement / IndividualSettlement, relay v1 Settlement,
BatchSettlement, SettlementWithMetadata). Its mode is `batch` (a Merkle root over batch_size inferences) or
`individual` (one inference). Lag = block time - the TEE's signing timestamp, in seconds: from the event for
an individual settlement, from each leaf of a verified batch's tree dump (`settlement_leaves`) for a batch;
relay v1 events carry no timestamp, so they have no lag. Blob checks are `settlement_checks` rows
(verified | mismatch | unavailable); a batch without one is `unchecked`. Backlog signals use the chain's
time (the newest indexed block), so a stalled collector is not mistaken for a stalled relay.
"""

from __future__ import annotations

from store.queries import Query, register

_CHAIN = {"chain_id": "int"}
_WINDOW = {"chain_id": "int", "since": "ts"}
_OPT_CHAIN = frozenset({"chain_id"})
_OPT_WINDOW = frozenset({"chain_id", "since"})

# Constant SQL fragments composed at import; every value is a bound parameter.
_SETTLED_COLUMNS = """s.chain_id, s.block_number, s.log_index, s.tx_hash, s.address, s.event, s.relay_version,
           CASE WHEN s.event = 'BatchSettlement' THEN 'batch' ELSE 'individual' END AS mode,
           s.tee_id, s.merkle_root, s.walrus_blob_id,
           CASE WHEN s.event = 'BatchSettlement' THEN TRY_CAST(s.batch_size AS BIGINT) ELSE 1 END AS inferences,
           s.timestamp_int AS signer_ts"""
_SETTLED = """
settled AS (  -- the block time from the event row; from `blocks` only for rows stored without it
    SELECT """ + _SETTLED_COLUMNS + """, s.block_ts
    FROM settlements s WHERE ($chain_id IS NULL OR s.chain_id = $chain_id) AND s.block_ts IS NOT NULL
    UNION ALL
    SELECT """ + _SETTLED_COLUMNS + """, epoch(b.ts)::BIGINT AS block_ts
    FROM (SELECT * FROM settlements WHERE ($chain_id IS NULL OR chain_id = $chain_id) AND block_ts IS NULL) s
    LEFT JOIN blocks b ON b.chain_id = s.chain_id AND b.number = s.block_number
),
lags AS (  -- block_ts: the settlement's block time (settled is unique per settlement, so no join back to it)
    SELECT chain_id, block_number, log_index, mode, tee_id, block_ts - signer_ts AS lag_s, 'event' AS source,
           block_ts
    FROM settled WHERE mode = 'individual' AND signer_ts IS NOT NULL AND block_ts IS NOT NULL
    UNION ALL
    SELECT l.chain_id, l.block_number, l.log_index, 'batch', l.tee_id, st.block_ts - l.timestamp_int, 'leaf',
           st.block_ts
    FROM settlement_leaves l JOIN settled st
      ON st.chain_id = l.chain_id AND st.block_number = l.block_number AND st.log_index = l.log_index
    WHERE l.timestamp_int IS NOT NULL AND st.block_ts IS NOT NULL
)"""  # noqa: S608 - constant SQL fragments, values bound
_SINCE = "($since IS NULL OR to_timestamp(block_ts) >= $since)"

register(Query(
    "settlement_summary",
    "WITH " + _SETTLED + """,
    per AS (SELECT chain_id, count(*) AS settlements, sum(inferences)::BIGINT AS settled_inferences,
                   to_timestamp(max(block_ts)) AS last_settlement_ts FROM settled GROUP BY chain_id),
    lg AS (SELECT chain_id, q[1] AS lag_p50_s, q[2] AS lag_p95_s, lag_max_s  -- both quantiles from one sort
           FROM (SELECT chain_id, quantile_cont(lag_s, [0.5, 0.95]) AS q, max(lag_s) AS lag_max_s
                 FROM lags GROUP BY chain_id)),
    ck AS (SELECT chain_id, count(*) FILTER (WHERE status = 'verified') AS blobs_verified,
                  count(*) FILTER (WHERE status = 'mismatch') AS blobs_mismatch,
                  count(*) FILTER (WHERE status = 'unavailable') AS blobs_unavailable
           FROM settlement_checks WHERE ($chain_id IS NULL OR chain_id = $chain_id) GROUP BY chain_id)
    SELECT per.chain_id, per.settlements, per.settled_inferences, lg.lag_p50_s, lg.lag_p95_s, lg.lag_max_s,
           per.last_settlement_ts, coalesce(ck.blobs_verified, 0) AS blobs_verified,
           coalesce(ck.blobs_mismatch, 0) AS blobs_mismatch, coalesce(ck.blobs_unavailable, 0) AS blobs_unavailable
    FROM per LEFT JOIN lg ON lg.chain_id = per.chain_id LEFT JOIN ck ON ck.chain_id = per.chain_id
    ORDER BY per.chain_id""",  # noqa: S608 - constant SQL fragments, values bound
    "Per chain: settlements, settled inferences, lag p50/p95/max (s), last settlement time, blob checks by status.",
    _CHAIN, _OPT_CHAIN,
))

_LIST_ORDER = "\n    ORDER BY s.chain_id, s.block_number DESC, s.log_index DESC"


def _list_from(source: str) -> str:
    """The settlement list's columns over `source` (settled or its newest rows) with leaf lags and blob status."""
    return f"""
    SELECT s.chain_id, s.block_number, s.log_index, s.tx_hash, s.address, s.relay_version, s.event, s.mode,
           s.tee_id, s.inferences AS batch_size, s.signer_ts, to_timestamp(s.signer_ts) AS signer_time,
           s.block_ts, to_timestamp(s.block_ts) AS block_time,
           CASE WHEN s.mode = 'individual' THEN s.block_ts - s.signer_ts END AS lag_s,
           l.lag_n, l.leaf_tees, l.lag_min_s, l.lag_median_s, l.lag_max_s, s.merkle_root, s.walrus_blob_id,
           CASE WHEN s.mode = 'batch' THEN coalesce(c.status, 'unchecked') END AS blob_status
    FROM {source} s
    LEFT JOIN leaf_lags l ON l.chain_id = s.chain_id AND l.block_number = s.block_number AND l.log_index = s.log_index
    LEFT JOIN settlement_checks c
      ON c.chain_id = s.chain_id AND c.block_number = s.block_number AND c.log_index = s.log_index"""  # noqa: S608


register(Query(
    "settlement_list",
    "WITH " + _SETTLED + """,
    leaf_lags AS (SELECT chain_id, block_number, log_index, count(*) AS lag_n, count(DISTINCT tee_id) AS leaf_tees,
                         min(lag_s) AS lag_min_s,
                         median(lag_s) AS lag_median_s, max(lag_s) AS lag_max_s
                  FROM lags WHERE source = 'leaf' GROUP BY ALL)
""" + _list_from("settled") + " WHERE " + _SINCE + _LIST_ORDER,  # noqa: S608 - constant SQL fragments, values bound
    "Every settlement: mode, relay version, TEE id, batch size, signer and block time, lag (individual) or the "
    "per-leaf lag range and number of TEEs (verified batch), blob status.",
    _WINDOW, _OPT_WINDOW,
))

register(Query(
    "settlement_list_recent",
    "WITH " + _SETTLED + """,
    newest AS (SELECT chain_id, block_number, log_index FROM settled s WHERE """ + _SINCE + """
               ORDER BY s.chain_id, s.block_number DESC, s.log_index DESC LIMIT $limit),
    recent AS (SELECT s.* FROM settled s SEMI JOIN newest n  -- the top rows by key, then their columns
               ON n.chain_id = s.chain_id AND n.block_number = s.block_number AND n.log_index = s.log_index),
    leaf_lags AS (SELECT l.chain_id, l.block_number, l.log_index, count(*) AS lag_n,
                         count(DISTINCT l.tee_id) AS leaf_tees, min(r.block_ts - l.timestamp_int) AS lag_min_s,
                         median(r.block_ts - l.timestamp_int) AS lag_median_s,
                         max(r.block_ts - l.timestamp_int) AS lag_max_s
                  FROM settlement_leaves l JOIN recent r
                    ON r.chain_id = l.chain_id AND r.block_number = l.block_number AND r.log_index = l.log_index
                  WHERE l.timestamp_int IS NOT NULL AND r.block_ts IS NOT NULL GROUP BY ALL)
""" + _list_from("recent") + _LIST_ORDER,  # noqa: S608 - constant SQL fragments, values bound
    "The newest `limit` rows of settlement_list (same columns and order), for pages that show only the latest.",
    {**_WINDOW, "limit": "int"}, _OPT_WINDOW,
))

register(Query(
    "settlement_hourly",
    "WITH " + _SETTLED + """
    SELECT chain_id, date_trunc('hour', to_timestamp(block_ts)) AS hour, mode, count(*) AS settlements,
           sum(inferences)::BIGINT AS settled_inferences
    FROM settled WHERE block_ts IS NOT NULL AND """ + _SINCE + """
    GROUP BY ALL ORDER BY hour, chain_id, mode""",  # noqa: S608 - constant SQL fragments, values bound
    "Settlements and settled inferences per hour, chain and mode (batch | individual).",
    _WINDOW, _OPT_WINDOW,
))

register(Query(
    "settlement_lags",
    "WITH " + _SETTLED + """
    SELECT l.chain_id, l.block_number, l.log_index, l.mode, l.tee_id, l.lag_s, l.source,
           to_timestamp(s.block_ts) AS block_time FROM lags l JOIN settled s
      ON s.chain_id = l.chain_id AND s.block_number = l.block_number AND s.log_index = l.log_index
    WHERE """ + _SINCE.replace("block_ts", "s.block_ts") + """
    ORDER BY l.chain_id, l.block_number, l.log_index""",  # noqa: S608 - constant SQL fragments, values bound
    "Every lag sample (s): one per individual settlement (source event), one per leaf of a verified batch "
    "(source leaf), with its TEE id.",
    _WINDOW, _OPT_WINDOW,
))

register(Query(
    "settlement_lag_box",
    "WITH " + _SETTLED + """
    SELECT mode, n, lag_min_s, q[1] AS lag_q1_s, q[2] AS lag_median_s, q[3] AS lag_q3_s, lag_max_s
    FROM (SELECT l.mode, count(*) AS n, min(l.lag_s)::DOUBLE AS lag_min_s,
                 quantile_cont(l.lag_s, [0.25, 0.5, 0.75]) AS q, max(l.lag_s)::DOUBLE AS lag_max_s
          FROM lags l WHERE """ + _SINCE.replace("block_ts", "l.block_ts") + """
          GROUP BY l.mode)
    ORDER BY mode""",  # noqa: S608 - constant SQL fragments, values bound
    "Per mode over the selection: lag samples n, min, quartiles (linear interpolation) and max (s): the lag box "
    "plot's input, from the same samples as settlement_lags.",
    _WINDOW, _OPT_WINDOW,
))

register(Query(
    "settlement_lag_stats",
    "WITH " + _SETTLED + """
    SELECT chain_id, mode, n, q[1] AS lag_p50_s, q[2] AS lag_p95_s, lag_max_s, lag_min_s
    FROM (SELECT l.chain_id, coalesce(l.mode, 'all') AS mode, count(*) AS n,
                 quantile_cont(l.lag_s, [0.5, 0.95]) AS q, max(l.lag_s) AS lag_max_s, min(l.lag_s) AS lag_min_s
          FROM lags l WHERE """ + _SINCE.replace("block_ts", "l.block_ts") + """
          GROUP BY GROUPING SETS ((l.chain_id, l.mode), (l.chain_id)))
    ORDER BY chain_id, mode""",  # noqa: S608 - constant SQL fragments, values bound
    "Lag p50/p95/max/min (s) with n, per chain and mode, and over all modes (mode 'all').",
    _WINDOW, _OPT_WINDOW,
))

register(Query(
    "settlement_backlog",
    "WITH " + _SETTLED + """,
    head AS (SELECT chain_id, epoch(max(ts))::BIGINT AS head_ts FROM blocks GROUP BY chain_id),
    per AS (SELECT s.chain_id, h.head_ts, max(s.block_ts) AS last_ts,
                   sum(s.inferences) FILTER (WHERE s.block_ts > h.head_ts - 3600) AS last_hour,
                   sum(s.inferences) FILTER (WHERE s.block_ts > h.head_ts - 25 * 3600
                                               AND s.block_ts <= h.head_ts - 3600) / 24.0 AS rate
            FROM settled s JOIN head h ON h.chain_id = s.chain_id GROUP BY s.chain_id, h.head_ts)
    SELECT chain_id, to_timestamp(head_ts) AS head_time, to_timestamp(last_ts) AS last_settlement_ts,
           head_ts - last_ts AS seconds_since_last, epoch(now())::BIGINT - last_ts AS wall_seconds_since_last,
           coalesce(last_hour, 0)::BIGINT AS settled_last_hour, coalesce(rate, 0) AS hourly_rate_prev_24h,
           greatest(coalesce(rate, 0) - coalesce(last_hour, 0), 0) AS deficit_last_hour
    FROM per ORDER BY chain_id""",  # noqa: S608 - constant SQL fragments, values bound
    "Backlog signals per chain, on chain time (the newest indexed block): time since the last settlement, "
    "inferences settled in the last hour, the hourly rate of the 24 hours before, and the deficit.",
    _CHAIN, _OPT_CHAIN,
))

register(Query(
    "settlement_backlog_hourly",
    "WITH " + _SETTLED + """,
    counts AS (SELECT chain_id, date_trunc('hour', to_timestamp(block_ts)) AS hour,
                      sum(inferences)::BIGINT AS n FROM settled WHERE block_ts IS NOT NULL GROUP BY ALL),
    head AS (SELECT chain_id, max(ts) AS head_ts FROM blocks GROUP BY chain_id),
    span AS (SELECT c.chain_id, min(c.hour) AS lo,
                    greatest(min(c.hour), date_trunc('hour', any_value(h.head_ts))) AS hi
             FROM counts c LEFT JOIN head h ON h.chain_id = c.chain_id GROUP BY c.chain_id),
    hours AS (SELECT chain_id, unnest(generate_series(lo, hi, INTERVAL 1 HOUR)) AS hour FROM span),
    filled AS (SELECT h.chain_id, h.hour, coalesce(c.n, 0) AS settled_inferences
               FROM hours h LEFT JOIN counts c ON c.chain_id = h.chain_id AND c.hour = h.hour),
    rated AS (SELECT *, avg(settled_inferences) OVER w AS recent_rate FROM filled
              WINDOW w AS (PARTITION BY chain_id ORDER BY hour ROWS BETWEEN 24 PRECEDING AND 1 PRECEDING))
    SELECT chain_id, hour, settled_inferences, recent_rate,
           greatest(coalesce(recent_rate, 0) - settled_inferences, 0) AS deficit
    FROM rated WHERE ($since IS NULL OR hour >= date_trunc('hour', $since::TIMESTAMPTZ))
    ORDER BY chain_id, hour""",  # noqa: S608 - constant SQL fragments, values bound
    "Per chain and hour up to the chain's head: settled inferences, the mean of the 24 hours before (recent_rate) "
    "and the deficit against it (0 when at or above the rate).",
    _WINDOW, _OPT_WINDOW,
))

_BATCH_CHECKS = """
    SELECT s.chain_id, s.block_number, s.log_index, s.tx_hash, to_timestamp(s.block_ts) AS block_time, s.address,
           s.relay_version, s.merkle_root, s.inferences AS batch_size, s.walrus_blob_id,
           coalesce(c.status, 'unchecked') AS status,
           coalesce(c.reason, 'not checked yet (no Walrus aggregator configured, or the check has not run)')
               AS reason,
           c.rebuilt_root, c.leaves, c.proof_checked, c.proof_ok, c.attempts, c.checked_at
    FROM settled s LEFT JOIN settlement_checks c
      ON c.chain_id = s.chain_id AND c.block_number = s.block_number AND c.log_index = s.log_index
    WHERE s.mode = 'batch'"""

register(Query(
    "settlement_blob_checks",
    "WITH " + _SETTLED + _BATCH_CHECKS + " ORDER BY s.chain_id, s.block_number DESC, s.log_index DESC",
    "Every batch settlement with its Walrus blob check: status (verified | mismatch | unavailable | unchecked), "
    "reason, rebuilt root, leaf count, on-chain proof check.",
    _CHAIN, _OPT_CHAIN,
))

register(Query(
    "settlement_blob_checks_recent",
    "WITH " + _SETTLED + _BATCH_CHECKS + " ORDER BY s.chain_id, s.block_number DESC, s.log_index DESC LIMIT $limit",
    "The first `limit` rows of settlement_blob_checks (same columns and order), for pages that show only those.",
    {**_CHAIN, "limit": "int"}, _OPT_CHAIN,
))

register(Query(
    "settlement_blob_coverage",
    "WITH " + _SETTLED + ", checks AS (" + _BATCH_CHECKS + """)
    SELECT chain_id, count(*) AS batches,
           count(*) FILTER (WHERE status IN ('verified', 'mismatch')) AS checked,
           count(*) FILTER (WHERE status = 'verified') AS verified,
           count(*) FILTER (WHERE status = 'mismatch') AS mismatch,
           count(*) FILTER (WHERE status = 'unavailable') AS unavailable,
           count(*) FILTER (WHERE status = 'unchecked') AS unchecked,
           count(*) FILTER (WHERE status IN ('verified', 'mismatch')) / count(*) AS coverage
    FROM checks GROUP BY chain_id ORDER BY chain_id""",  # noqa: S608 - constant SQL fragments, values bound
    "Per chain: how many batch settlements could be checked against their blob (verified or mismatch) out of all.",
    _CHAIN, _OPT_CHAIN,
))
