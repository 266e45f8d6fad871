"""Named queries of the decentralization watch: TEE registry state, PCRs, who settles inferences, validators.

Tables of migration 0008 hold change rows (a row only when something changed), so "current" is the
latest row per key, and liveness is judged at the block time of each registry's latest reading.
Concentration metrics are not computed here: callers group identifiers into entities (config) and
apply analysis/concentration.py.
"""

# ruff: noqa: S608 - SQL here is constant text composed at import from the fragments below; values are bound.
from __future__ import annotations

from store.queries import Query, register

#: TEEs heartbeat every 900 s (opengradient-onchain.md section 3); the default max age is 1800 s.
HEARTBEAT_INTERVAL_S, DEFAULT_MAX_AGE_S = 900, 1800
_CHAIN = "($chain_id IS NULL OR chain_id = $chain_id)"


def _chain(alias: str) -> str:
    """The optional chain filter on an aliased table."""
    return f"($chain_id IS NULL OR {alias}.chain_id = $chain_id)"


_OPT = {"chain_id": "int"}, frozenset({"chain_id"})

_LAST_READ = f"""
last_read AS (
    SELECT * FROM tee_registry_reads WHERE {_CHAIN}
    QUALIFY row_number() OVER (PARTITION BY chain_id, registry ORDER BY block_number DESC) = 1
)"""
_CURRENT_PCRS = f"""
pcrs AS (
    SELECT * FROM tee_pcrs WHERE {_CHAIN}
    QUALIFY row_number() OVER (PARTITION BY chain_id, registry, pcr_hash, tee_type ORDER BY block_number DESC) = 1
)"""
_CURRENT_TEES = f"""
WITH {_LAST_READ}, {_CURRENT_PCRS},
tees AS (
    SELECT * FROM tee_state WHERE {_CHAIN}
    QUALIFY row_number() OVER (PARTITION BY chain_id, registry, tee_id ORDER BY block_number DESC) = 1
),
current AS (
    SELECT t.chain_id, t.registry, t.tee_id, t.owner, t.payment_address, t.endpoint, t.tee_type,
           CASE t.tee_type WHEN 0 THEN 'LLMProxy' WHEN 1 THEN 'Validator' ELSE 'type ' || t.tee_type END AS type_name,
           t.pcr_hash, p.version AS pcr_version, t.pcr_approved, t.enabled, t.active,
           t.registered_at, to_timestamp(t.registered_at) AS registered_time,
           t.last_heartbeat_at, to_timestamp(t.last_heartbeat_at) AS last_heartbeat_time,
           r.block_number AS read_block, r.block_ts AS read_ts, r.heartbeat_max_age,
           coalesce(r.heartbeat_max_age, {DEFAULT_MAX_AGE_S}) AS max_age_used,
           r.block_ts - t.last_heartbeat_at AS heartbeat_age_s,
           (r.block_ts - t.last_heartbeat_at) > coalesce(r.heartbeat_max_age, {DEFAULT_MAX_AGE_S}) AS heartbeat_stale,
           greatest(0, (r.block_ts - t.last_heartbeat_at) // {HEARTBEAT_INTERVAL_S}) AS heartbeat_intervals_missed,
           t.block_number AS changed_block
    FROM tees t
    JOIN last_read r ON r.chain_id = t.chain_id AND r.registry = t.registry
    LEFT JOIN pcrs p ON p.chain_id = t.chain_id AND p.registry = t.registry AND p.pcr_hash = t.pcr_hash
                    AND p.tee_type = t.tee_type
)"""

register(Query(
    "tee_registries",
    f"WITH {_LAST_READ} SELECT *, to_timestamp(block_ts) AS block_time FROM last_read ORDER BY chain_id, registry",
    "Each TEE registry's latest reading: shape (v1 | ohttp), views found and missing, heartbeat max age, "
    "where PCR approval came from, TEE and active counts, notes.",
    *_OPT,
))

register(Query(
    "tee_current",
    _CURRENT_TEES + "\nSELECT * FROM current ORDER BY chain_id, registry, registered_at, tee_id",
    "Every TEE now: operator (owner), type, endpoint, PCR hash, version and approval, enabled, active per the "
    f"registry's isTEEActive, last heartbeat, its age at the read block and whether it is stale (older than "
    f"heartbeatMaxAge, {DEFAULT_MAX_AGE_S} s when the registry has no such view), heartbeat intervals "
    f"({HEARTBEAT_INTERVAL_S} s) since the last.",
    *_OPT,
))

register(Query(
    "tee_operators",
    _CURRENT_TEES + """
    SELECT chain_id, owner, count(*) AS tees, count(*) FILTER (WHERE enabled) AS enabled,
           count(*) FILTER (WHERE active) AS active, count(*) FILTER (WHERE heartbeat_stale) AS stale,
           count(*) FILTER (WHERE pcr_approved IS FALSE) AS unapproved_pcr
    FROM current GROUP BY chain_id, owner ORDER BY chain_id, tees DESC, owner
    """,
    "Per operator (TEE owner): TEEs registered, enabled, active (isTEEActive), with stale heartbeats, on "
    "unapproved (revoked) PCRs.",
    *_OPT,
))

register(Query(
    "tee_pcrs",
    _CURRENT_TEES + """
    SELECT p.chain_id, p.registry, p.pcr_hash, p.tee_type, p.version, p.approved, p.source,
           p.block_number AS changed_block,
           (SELECT count(*) FROM current c WHERE c.chain_id = p.chain_id AND c.registry = p.registry
              AND c.pcr_hash = p.pcr_hash AND c.tee_type = p.tee_type) AS tees_running
    FROM pcrs p ORDER BY p.chain_id, p.registry, p.approved DESC, p.tee_type, p.version
    """,
    "Every PCR (enclave build) each registry approved or revoked: version, approved now or not, source "
    "(view | events), and how many TEEs run it.",
    *_OPT,
))

register(Query(
    "tee_history",
    f"""
    SELECT s.*, to_timestamp(r.block_ts) AS block_time
    FROM tee_state s
    LEFT JOIN tee_registry_reads r ON r.chain_id = s.chain_id AND r.registry = s.registry
                                  AND r.block_number = s.block_number
    WHERE {_chain("s")}
    ORDER BY s.chain_id, s.block_number, s.registry, s.tee_id
    """,
    "Every TEE change row (the state from that block on): owner, PCR, enabled, active, last heartbeat.",
    *_OPT,
))

register(Query(
    "tee_roles",
    f"""
    SELECT chain_id, address AS registry, role, account,
           arg_max(event, block_number * 1000000 + log_index) AS last_event,
           max(block_number) AS block_number
    FROM admin_events
    WHERE event IN ('RoleGranted', 'RoleRevoked') AND {_CHAIN}
      AND address IN (SELECT DISTINCT registry FROM tee_registry_reads)
    GROUP BY chain_id, address, role, account
    HAVING arg_max(event, block_number * 1000000 + log_index) = 'RoleGranted'
    ORDER BY chain_id, registry, role, account
    """,
    "Current role holders on the TEE registries (RoleGranted not revoked since), e.g. TEE_OPERATOR_ROLE.",
    *_OPT,
))

_SETTLED = f"""
settled AS (
    SELECT chain_id,
           count(*) FILTER (WHERE event IN ('IndividualSettlement', 'Settlement', 'SettlementWithMetadata'))
             + coalesce(sum(batch_size_f) FILTER (WHERE event = 'BatchSettlement'), 0) AS settled,
           count(*) FILTER (WHERE event = 'IndividualSettlement' AND tee_id IS NOT NULL) AS individual
    FROM settlements WHERE {_CHAIN} GROUP BY chain_id
),
owners AS (
    SELECT chain_id, tee_id, arg_max(owner, block_number) AS owner FROM tee_state WHERE {_CHAIN}
    GROUP BY chain_id, tee_id
)"""

register(Query(
    "tee_work_individual",
    f"""
    WITH {_SETTLED},
    per_tee AS (
        SELECT chain_id, tee_id, count(*) AS inferences FROM settlements
        WHERE event = 'IndividualSettlement' AND tee_id IS NOT NULL AND {_CHAIN} GROUP BY chain_id, tee_id
    )
    SELECT p.chain_id, p.tee_id, o.owner, p.inferences, 'individual' AS evidence,
           s.settled AS settled_total, s.individual AS attributable_total
    FROM per_tee p LEFT JOIN owners o USING (chain_id, tee_id) LEFT JOIN settled s USING (chain_id)
    ORDER BY p.chain_id, p.inferences DESC, p.tee_id
    """,
    "Settled inferences per TEE (and its operator) from IndividualSettlement teeId; settled_total counts every "
    "settled inference (individual, v1, and batch sizes), attributable_total those with a TEE id.",
    *_OPT,
))

register(Query(
    "tee_work_with_leaves",
    f"""
    WITH {_SETTLED},
    leaves AS (
        SELECT chain_id, tee_id, count(*) AS n FROM settlement_leaves WHERE tee_id IS NOT NULL AND {_CHAIN}
        GROUP BY chain_id, tee_id
    ),
    per_tee AS (
        SELECT chain_id, tee_id, sum(n) AS inferences, string_agg(DISTINCT evidence, '+') AS evidence FROM (
            SELECT chain_id, tee_id, count(*) AS n, 'individual' AS evidence FROM settlements
            WHERE event = 'IndividualSettlement' AND tee_id IS NOT NULL AND {_CHAIN} GROUP BY chain_id, tee_id
            UNION ALL SELECT chain_id, tee_id, n, 'batch leaf' FROM leaves
        ) GROUP BY chain_id, tee_id
    )
    SELECT p.chain_id, p.tee_id, o.owner, p.inferences, p.evidence, s.settled AS settled_total,
           s.individual + coalesce((SELECT sum(n) FROM leaves l WHERE l.chain_id = p.chain_id), 0)
             AS attributable_total
    FROM per_tee p LEFT JOIN owners o USING (chain_id, tee_id) LEFT JOIN settled s USING (chain_id)
    ORDER BY p.chain_id, p.inferences DESC, p.tee_id
    """,
    "As tee_work_individual, plus batch leaves read from Walrus (settlement_leaves); needs that table.",
    *_OPT,
))

register(Query(
    "concentration_tables",
    "SELECT table_name FROM information_schema.tables WHERE table_name IN ('settlement_leaves') ORDER BY 1",
    "Optional tables the decentralization watch can use when present (settlement_leaves).",
))

register(Query(
    "validators_current",
    f"""
    WITH last_read AS (
        SELECT * FROM validator_reads WHERE {_CHAIN}
        QUALIFY row_number() OVER (PARTITION BY chain_id, source ORDER BY block_number DESC) = 1
    ),
    latest AS (  -- each validator's newest row (the key includes block_number, so it is one row)
        SELECT chain_id, source, validator, max(block_number) AS block_number
        FROM validator_powers WHERE {_CHAIN} GROUP BY chain_id, source, validator
    )
    SELECT v.chain_id, v.source, v.validator, v.operator_address, v.consensus_pubkey, v.moniker, v.jailed,
           v.status, v.tokens, v.power, v.power_f, v.block_number AS changed_block,
           r.block_number AS read_block, to_timestamp(r.block_ts) AS read_time
    FROM validator_powers v
    JOIN latest l ON l.chain_id = v.chain_id AND l.source = v.source AND l.validator = v.validator
                 AND l.block_number = v.block_number
    JOIN last_read r ON r.chain_id = v.chain_id AND r.source = v.source
    WHERE {_chain("v")} AND v.present
    ORDER BY v.chain_id, v.source, v.power_f DESC, v.validator
    """,
    "The current validator set per source (staking | cometbft): operator address, consensus key, moniker, "
    "tokens and consensus power (exact text + power_f).",
    *_OPT,
))

register(Query(
    "validator_history",
    f"""
    SELECT v.*, to_timestamp(r.block_ts) AS block_time FROM validator_powers v
    LEFT JOIN validator_reads r ON r.chain_id = v.chain_id AND r.source = v.source AND r.block_number = v.block_number
    WHERE {_chain("v")}
    ORDER BY v.chain_id, v.source, v.block_number, v.validator
    """,
    "Every validator change row: power from that block on; present false when it left the set.",
    *_OPT,
))

register(Query(
    "validator_reads",
    f"SELECT * FROM validator_reads WHERE {_CHAIN} ORDER BY chain_id, source, block_number DESC LIMIT 500",
    "Validator readings: source, block, count, total power, pages asked, notes.",
    *_OPT,
))

register(Query(
    "settled_inferences",
    f"""
    SELECT chain_id,
           count(*) FILTER (WHERE event IN ('IndividualSettlement', 'Settlement', 'SettlementWithMetadata'))
             + coalesce(sum(batch_size_f) FILTER (WHERE event = 'BatchSettlement'), 0) AS settled,
           count(*) FILTER (WHERE event = 'IndividualSettlement' AND tee_id IS NOT NULL) AS individual,
           coalesce(sum(batch_size_f) FILTER (WHERE event = 'BatchSettlement'), 0) AS in_batches
    FROM settlements WHERE {_CHAIN} GROUP BY chain_id ORDER BY chain_id
    """,
    "Settled inferences per chain (individual and v1 settlements count one each, batches their size), how many "
    "carry a TEE id (individual) and how many sit in batches.",
    *_OPT,
))

_WORK_BLOCKS = f"""
SELECT s.chain_id, s.block_number, s.tee_id, count(*) AS inferences FROM settlements s
WHERE s.event = 'IndividualSettlement' AND s.tee_id IS NOT NULL AND {_chain("s")}
GROUP BY s.chain_id, s.block_number, s.tee_id"""

register(Query(
    "tee_work_blocks_individual",
    f"""
    WITH w AS ({_WORK_BLOCKS}),
    owners AS (SELECT chain_id, tee_id, arg_max(owner, block_number) AS owner FROM tee_state GROUP BY ALL)
    SELECT w.chain_id, w.block_number, w.tee_id, o.owner, w.inferences
    FROM w LEFT JOIN owners o USING (chain_id, tee_id) ORDER BY w.block_number, w.tee_id
    """,
    "Settled inferences per TEE per block (IndividualSettlement), with the TEE's operator: the work over time.",
    *_OPT,
))

register(Query(
    "tee_work_blocks_with_leaves",
    f"""
    WITH w AS (
        {_WORK_BLOCKS}
        UNION ALL
        SELECT l.chain_id, l.block_number, l.tee_id, count(*) FROM settlement_leaves l WHERE {_chain("l")}
        GROUP BY l.chain_id, l.block_number, l.tee_id
    ),
    ws AS (SELECT chain_id, block_number, tee_id, sum(inferences) AS inferences FROM w GROUP BY ALL),
    owners AS (SELECT chain_id, tee_id, arg_max(owner, block_number) AS owner FROM tee_state GROUP BY ALL)
    SELECT ws.chain_id, ws.block_number, ws.tee_id, o.owner, ws.inferences
    FROM ws LEFT JOIN owners o USING (chain_id, tee_id)
    ORDER BY ws.block_number, ws.tee_id
    """,
    "As tee_work_blocks_individual, plus verified batch leaves (settlement_leaves); needs that table.",
    *_OPT,
))

_WORK_ROWS = f"""
        SELECT s.chain_id, s.block_number, s.tee_id FROM settlements s
        WHERE s.event = 'IndividualSettlement' AND s.tee_id IS NOT NULL AND {_chain("s")}"""
_LEAF_ROWS = f"""
        UNION ALL SELECT l.chain_id, l.block_number, l.tee_id FROM settlement_leaves l WHERE {_chain("l")}"""


def _work_trend(rows: str) -> str:
    """Cumulative settled inferences per operator at the sampled blocks of the work history (the trend's input).

    The blocks kept are those `analysis.concentration.replay(..., points)` keeps: every distinct block when there
    are no more than $points, else the ones at round-half-even(i x (n - 1) / ($points - 1)), i < $points (the
    same IEEE double arithmetic). Each settled inference counts at the first kept block at or after its own, and
    at each kept block every operator seen so far gets its running total.
    """
    return f"""
    WITH w AS ({rows}),
    blocks AS (SELECT DISTINCT block_number FROM w),
    numbered AS (SELECT block_number, row_number() OVER (ORDER BY block_number) - 1 AS idx,
                        count(*) OVER () AS n FROM blocks),
    picks AS (
        SELECT DISTINCT CAST(round_even(r.range * ((c.n - 1) / greatest($points - 1, 1)), 0) AS BIGINT) AS idx
        FROM range($points) r, (SELECT count(*) AS n FROM blocks) c
    ),
    kept AS (SELECT block_number FROM numbered WHERE n <= $points OR idx IN (SELECT idx FROM picks)),
    bucketed AS (
        SELECT k.block_number AS bucket, w.chain_id, w.tee_id, count(*) AS n
        FROM w ASOF JOIN kept k ON w.block_number <= k.block_number GROUP BY ALL
    ),
    owners AS (SELECT chain_id, tee_id, arg_max(owner, block_number) AS owner FROM tee_state GROUP BY ALL),
    per AS (
        SELECT b.bucket, coalesce(o.owner, 'unregistered TEE ' || b.tee_id) AS ident, sum(b.n) AS n
        FROM bucketed b LEFT JOIN owners o USING (chain_id, tee_id) GROUP BY ALL
    ),
    cum AS (SELECT bucket, ident, sum(n) OVER (PARTITION BY ident ORDER BY bucket) AS inferences FROM per),
    grid AS (SELECT k.block_number, i.ident FROM kept k, (SELECT DISTINCT ident FROM per) i)
    SELECT g.block_number, g.ident, c.inferences
    FROM grid g ASOF JOIN cum c ON c.ident = g.ident AND g.block_number >= c.bucket
    ORDER BY g.block_number, g.ident
    """


_TREND_PARAMS = {"chain_id": "int", "points": "int"}, frozenset({"chain_id"})

register(Query(
    "tee_work_trend_individual",
    _work_trend(_WORK_ROWS),
    "Settled inferences per operator, cumulative, at up to $points blocks evenly spread over the blocks with "
    "settlements (IndividualSettlement teeId): the input of the work trend, aggregated here.",
    *_TREND_PARAMS,
))

register(Query(
    "tee_work_trend_with_leaves",
    _work_trend(_WORK_ROWS + _LEAF_ROWS),
    "As tee_work_trend_individual, plus verified batch leaves (settlement_leaves); needs that table.",
    *_TREND_PARAMS,
))

register(Query(
    "concentration_version",
    f"""
    SELECT (SELECT count(*) FROM validator_powers WHERE {_CHAIN}) AS validator_rows,
           (SELECT max(block_number) FROM validator_powers WHERE {_CHAIN}) AS validator_block,
           (SELECT count(*) FROM validator_reads WHERE {_CHAIN}) AS validator_reads,
           (SELECT count(*) FROM tee_state WHERE {_CHAIN}) AS tee_rows,
           (SELECT max(block_number) FROM tee_state WHERE {_CHAIN}) AS tee_block,
           (SELECT count(*) FROM tee_registry_reads WHERE {_CHAIN}) AS tee_reads,
           (SELECT count(*) FROM settlements WHERE {_CHAIN}) AS settlement_rows,
           (SELECT max(block_number) FROM settlements WHERE {_CHAIN}) AS settlement_block,
           (SELECT count(*) FROM settlement_leaves WHERE {_CHAIN}) AS leaf_rows,
           (SELECT count(*) FROM reorgs) AS reorgs
    """,
    "What the decentralization page's computed frames depend on (row counts, latest blocks, reorgs): the key "
    "under which the dashboard caches them; any new reading, settlement or rollback changes it.",
    *_OPT,
))
