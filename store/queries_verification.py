"""Named queries of the verification watch: inference modes, shares and who called (table `inference_calls`).

Production is decided at read time from the config, passed in two parameters so that a config change
shows at once and the definition in use is always the one stated beside the numbers:

- `prod_chains`: comma-separated chain ids of networks marked `production = true`;
- `prod_callers`: comma-separated `chain_id:address` (lower-case) of callers tagged "production".

An inference is production when its chain is production or its caller (the contract that called the hub,
or the sending account when it called the hub directly) is production-tagged, and never when it is a
simulation result. Every share comes with its n. Modes are labels in the kind's own enum, so an LLM TEE
inference is TEE, never ZKML.
"""

# ruff: noqa: S608 - every statement is composed from constant fragments at import; values are bound
from __future__ import annotations

from store.queries import Query, register

_PARAMS = {"chain_id": "int", "since": "ts", "prod_chains": "str", "prod_callers": "str"}
_OPTIONAL = frozenset({"chain_id", "since", "prod_chains", "prod_callers"})
# Constant SQL fragments composed at import; every value is a bound parameter.
#
# At scale the queries read the summaries of migration 0010 (store/verification_summary.py), which hold each
# chain's rows up to its watermark, grouped per UTC hour and day. A selection is split without overlap:
# summary days from the first whole day after `since`, summary hours from its first whole hour to that day, and
# from `inference_calls` itself (`raw`) the rows above the watermark plus the partial hour after `since`.
# Counts are sums of the groups' counts; production is decided per group exactly as per row (the groups keep
# the simulation flag and ckey = lower(coalesce(caller, sender, ''))), so every answer equals the rows' own.
_S = "epoch(CAST($since AS TIMESTAMPTZ))"  # since, and the first whole hour and day from it (UTC seconds)
_H0 = f"CAST(ceil({_S} / 3600) * 3600 AS BIGINT)"
_D0 = f"CAST(ceil({_S} / 86400) * 86400 AS BIGINT)"
_PROD = f"""
prod_chain_ids AS (
    SELECT TRY_CAST(x AS BIGINT) AS chain_id FROM unnest(string_split(coalesce($prod_chains, ''), ',')) t(x)
    WHERE CAST(TRY_CAST(x AS BIGINT) AS VARCHAR) = x
),
prod_caller_keys AS (
    SELECT DISTINCT TRY_CAST(split_part(x, ':', 1) AS BIGINT) AS chain_id, x[strpos(x, ':') + 1:] AS addr
    FROM unnest(string_split(lower(coalesce($prod_callers, '')), ',')) t(x)
    WHERE strpos(x, ':') > 0 AND CAST(TRY_CAST(split_part(x, ':', 1) AS BIGINT) AS VARCHAR) = split_part(x, ':', 1)
),
bare AS (SELECT DISTINCT chain_id FROM inference_calls ANTI JOIN verification_summary_state USING (chain_id)),
raw AS MATERIALIZED (  -- selected rows no summary holds: above the watermark (or none), and the partial hour
    SELECT c.*, true AS above FROM inference_calls c
    SEMI JOIN verification_summary_state w ON w.chain_id = c.chain_id AND c.block_number > w.watermark
    WHERE c.block_number > (SELECT min(watermark) FROM verification_summary_state)  -- a bound the scan can use
      AND ($chain_id IS NULL OR c.chain_id = $chain_id) AND ($since IS NULL OR c.block_ts >= {_S})
    UNION ALL
    SELECT c.*, true AS above FROM inference_calls c SEMI JOIN bare ON bare.chain_id = c.chain_id
    WHERE c.chain_id BETWEEN (SELECT min(chain_id) FROM bare) AND (SELECT max(chain_id) FROM bare)  -- scan bounds
      AND ($chain_id IS NULL OR c.chain_id = $chain_id) AND ($since IS NULL OR c.block_ts >= {_S})
    UNION ALL
    SELECT c.*, false AS above FROM inference_calls c
    SEMI JOIN verification_summary_state w ON w.chain_id = c.chain_id AND c.block_number <= w.watermark
    WHERE ($chain_id IS NULL OR c.chain_id = $chain_id) AND c.block_ts >= {_S} AND c.block_ts < {_H0}
)"""
_CHAIN = "($chain_id IS NULL OR chain_id = $chain_id)"
_CALLER_COLS = "chain_id, caller, ckey, kind, mode, is_simulation, caller_precision, n AS w, first_block, last_block"
# The selected groups per (chain, caller, kind, mode, simulation, precision), each with its production flag.
_BASE = _PROD + f""",
grouped AS (
    SELECT {_CALLER_COLS} FROM verification_caller_days WHERE {_CHAIN} AND ($since IS NULL OR day >= {_D0})
    UNION ALL
    SELECT {_CALLER_COLS} FROM verification_caller_hours WHERE {_CHAIN} AND hour >= {_H0} AND hour < {_D0}
    UNION ALL
    SELECT chain_id, caller, lower(coalesce(caller, sender, '')), kind, mode, is_simulation, caller_precision, 1,
           block_number, block_number FROM raw
),
base AS (
    SELECT g.*, (NOT g.is_simulation AND (g.chain_id IN (SELECT chain_id FROM prod_chain_ids) OR pk.addr IS NOT NULL))
               AS production
    FROM grouped g LEFT JOIN prod_caller_keys pk ON pk.chain_id = g.chain_id AND pk.addr = g.ckey
)"""


def _sum(cond: str | None = None) -> str:
    """A group count as BIGINT (0 when no row matches), as count(*) [FILTER] gave on the rows."""
    return f"CAST(coalesce(sum(w){f' FILTER (WHERE {cond})' if cond else ''}, 0) AS BIGINT)"


_MODE_COUNTS = f"""
           {_sum()} AS n,
           {_sum("mode = 'VANILLA'")} AS vanilla,
           {_sum("mode = 'TEE'")} AS tee,
           {_sum("mode = 'ZKML'")} AS zkml,
           {_sum("mode NOT IN ('VANILLA', 'TEE', 'ZKML')")} AS other,
           {_sum("mode = 'VANILLA'")} / {_sum()} AS vanilla_share,
           {_sum("is_simulation")} AS simulations,
           {_sum("production")} AS production_n,
           {_sum("production AND mode = 'VANILLA'")} AS production_vanilla"""
_SCOPES = """
    s AS (SELECT 'all' AS scope, mode, n_all AS inferences FROM g  -- both scopes from one pass
          UNION ALL
          SELECT 'production' AS scope, mode, n_prod AS inferences FROM g WHERE n_prod > 0)"""

_TAGGED_FROM = f"""FROM (  -- the caller groups of the selection, as in `grouped`
            SELECT chain_id, ckey, mode, is_simulation, n FROM verification_caller_days
            WHERE {_CHAIN} AND ($since IS NULL OR day >= {_D0})
            UNION ALL
            SELECT chain_id, ckey, mode, is_simulation, n FROM verification_caller_hours
            WHERE {_CHAIN} AND hour >= {_H0} AND hour < {_D0}) h
        JOIN prod_caller_keys pk ON pk.chain_id = h.chain_id AND pk.addr = h.ckey
        WHERE NOT h.is_simulation AND h.chain_id NOT IN (SELECT chain_id FROM prod_chain_ids)"""
_RAW_PRODUCTION = """(NOT r.is_simulation
                AND (r.chain_id IN (SELECT chain_id FROM prod_chain_ids) OR pk.addr IS NOT NULL))::INT
        FROM raw r LEFT JOIN prod_caller_keys pk
          ON pk.chain_id = r.chain_id AND pk.addr = lower(coalesce(r.caller, r.sender, ''))"""

register(Query(
    "verification_modes",
    "WITH " + _PROD + f""",
    counted AS (  -- summary hours: all counts, production by network; production by a tagged caller from the
                  -- caller groups; the rows no summary holds
        SELECT mode, n AS w_all,
               CASE WHEN NOT is_simulation AND chain_id IN (SELECT chain_id FROM prod_chain_ids) THEN n ELSE 0 END
                   AS w_prod
        FROM verification_mode_hours WHERE {_CHAIN} AND ($since IS NULL OR hour >= {_H0})
        UNION ALL
        SELECT h.mode, 0, h.n {_TAGGED_FROM}
        UNION ALL
        SELECT r.mode, 1, {_RAW_PRODUCTION}
    ),
    g AS (SELECT mode, CAST(sum(w_all) AS BIGINT) AS n_all, CAST(sum(w_prod) AS BIGINT) AS n_prod
          FROM counted GROUP BY mode),""" + _SCOPES + """
    SELECT scope, mode, inferences, sum(inferences) OVER (PARTITION BY scope) AS n,
           inferences / sum(inferences) OVER (PARTITION BY scope) AS share
    FROM s ORDER BY scope, mode""",
    "Inferences per verification mode, all and production, each share with its n.",
    _PARAMS, _OPTIONAL,
))

register(Query(
    "verification_mode_series",
    "WITH " + _PROD + f""",
    hourly AS (  -- summary hours: all counts, production by network; production by tagged caller from the caller hours
        SELECT hour AS ts, mode, n AS w_all,
               CASE WHEN NOT is_simulation AND chain_id IN (SELECT chain_id FROM prod_chain_ids) THEN n ELSE 0 END
                   AS w_prod
        FROM verification_mode_hours WHERE {_CHAIN} AND hour IS NOT NULL AND ($since IS NULL OR hour >= {_H0})
        UNION ALL
        SELECT h.hour, h.mode, 0, h.n FROM verification_caller_hours h
        JOIN prod_caller_keys pk ON pk.chain_id = h.chain_id AND pk.addr = h.ckey
        WHERE ($chain_id IS NULL OR h.chain_id = $chain_id) AND h.hour IS NOT NULL
          AND ($since IS NULL OR h.hour >= {_H0}) AND NOT h.is_simulation
          AND h.chain_id NOT IN (SELECT chain_id FROM prod_chain_ids)
        UNION ALL
        SELECT r.block_ts, r.mode, 1, (NOT r.is_simulation AND (r.chain_id IN (SELECT chain_id FROM prod_chain_ids)
                                                                OR pk.addr IS NOT NULL))::INT
        FROM raw r LEFT JOIN prod_caller_keys pk
          ON pk.chain_id = r.chain_id AND pk.addr = lower(coalesce(r.caller, r.sender, ''))
        WHERE r.block_ts IS NOT NULL
    ),
    g AS (SELECT date_trunc($bucket, to_timestamp(ts)) AS bucket, mode, CAST(sum(w_all) AS BIGINT) AS n_all,
                 CAST(sum(w_prod) AS BIGINT) AS n_prod
          FROM hourly GROUP BY ALL),
    s AS (SELECT bucket, 'all' AS scope, mode, n_all AS inferences FROM g  -- both scopes from one pass
          UNION ALL
          SELECT bucket, 'production' AS scope, mode, n_prod AS inferences FROM g WHERE n_prod > 0)
    SELECT bucket, scope, mode, inferences, sum(inferences) OVER (PARTITION BY scope, bucket) AS n,
           inferences / sum(inferences) OVER (PARTITION BY scope, bucket) AS share
    FROM s ORDER BY scope, bucket, mode""",  # noqa: S608 - constant SQL fragments, values bound
    "Inferences per mode per hour or day (bucket = 'hour' | 'day'), all and production, with n per bucket.",
    {**_PARAMS, "bucket": "str"}, _OPTIONAL,
))

register(Query(
    "verification_by_model",
    "WITH " + _PROD + f""",
    grouped AS (
        SELECT chain_id, kind, mode, model, is_simulation, n AS w FROM verification_model_hours
        WHERE {_CHAIN} AND ($since IS NULL OR hour >= {_H0})
        UNION ALL
        SELECT chain_id, kind, mode, model, is_simulation, 1 FROM raw
    ),
    base AS (SELECT *, NOT is_simulation AND chain_id IN (SELECT chain_id FROM prod_chain_ids) AS production
             FROM grouped),
    tagged AS (  -- production by a tagged caller on a network that is not production: from the rows (none tagged: none)
        SELECT c.model, c.kind, count(*) AS n, count(*) FILTER (WHERE c.mode = 'VANILLA') AS vanilla
        FROM inference_calls c
        JOIN prod_caller_keys pk ON pk.chain_id = c.chain_id AND pk.addr = lower(coalesce(c.caller, c.sender, ''))
        WHERE ($chain_id IS NULL OR c.chain_id = $chain_id) AND ($since IS NULL OR c.block_ts >= {_S})
          AND NOT c.is_simulation AND c.chain_id NOT IN (SELECT chain_id FROM prod_chain_ids)
        GROUP BY ALL
    ),
    m AS (SELECT model, kind, """ + _MODE_COUNTS + """ FROM base GROUP BY model, kind)
    SELECT m.model, m.kind, m.n, m.vanilla, m.tee, m.zkml, m.other, m.vanilla_share, m.simulations,
           CAST(m.production_n + coalesce(t.n, 0) AS BIGINT) AS production_n,
           CAST(m.production_vanilla + coalesce(t.vanilla, 0) AS BIGINT) AS production_vanilla
    FROM m LEFT JOIN tagged t ON t.model = m.model AND t.kind = m.kind
    ORDER BY m.n DESC, m.model, m.kind""",  # noqa: S608 - constant SQL fragments, values bound
    "Per model (and kind): inferences per mode with n, Vanilla share, simulations and production counts.",
    _PARAMS, _OPTIONAL,
))

register(Query(
    "verification_by_caller",
    "WITH " + _BASE + """,
    grp AS (
        SELECT chain_id, caller, string_agg(DISTINCT caller_precision, ',' ORDER BY caller_precision) AS precision,
               """ + _MODE_COUNTS + f""", min(first_block) AS first_block, max(last_block) AS last_block
        FROM base GROUP BY chain_id, caller
    ),
    fresh AS (SELECT DISTINCT chain_id, caller, sender FROM raw WHERE above AND sender IS NOT NULL),
    senders AS (  -- (chain, caller, sender) pairs with a selected row: summary pairs by their last block time, then
                  -- pairs above the watermark that the summary does not count already
        SELECT chain_id, caller, CAST(sum(k) AS BIGINT) AS senders FROM (
            SELECT chain_id, caller, pairs AS k FROM verification_sender_days
            WHERE {_CHAIN} AND ($since IS NULL OR day >= {_D0})
            UNION ALL
            SELECT chain_id, caller, pairs FROM verification_sender_hours
            WHERE {_CHAIN} AND hour >= {_H0} AND hour < {_D0}
            UNION ALL
            SELECT chain_id, caller, 1 FROM verification_senders WHERE {_CHAIN} AND last_ts >= {_S} AND last_ts < {_H0}
            UNION ALL
            SELECT f.chain_id, f.caller, count(*) FROM fresh f LEFT JOIN verification_senders p
              ON p.chain_id = f.chain_id AND p.caller IS NOT DISTINCT FROM f.caller AND p.sender = f.sender
            WHERE p.sender IS NULL OR NOT coalesce($since IS NULL OR p.last_ts >= {_S}, false)
            GROUP BY ALL)
        GROUP BY chain_id, caller
    )
    SELECT g.chain_id, g.caller, g.precision, coalesce(s.senders, 0) AS senders, g.n, g.vanilla, g.tee, g.zkml,
           g.other, g.vanilla_share, g.simulations, g.production_n, g.production_vanilla, g.first_block, g.last_block
    FROM grp g LEFT JOIN senders s ON s.chain_id = g.chain_id AND s.caller IS NOT DISTINCT FROM g.caller
    ORDER BY g.n DESC, g.caller NULLS FIRST""",  # noqa: S608 - constant SQL fragments, values bound
    "Per caller contract (NULL: accounts calling the hub directly): modes with n, precision, production counts.",
    _PARAMS, _OPTIONAL,
))

register(Query(
    "verification_counts",
    "WITH " + _BASE + f"""
    SELECT chain_id, caller, kind, mode, is_simulation, production, {_sum()} AS inferences
    FROM base GROUP BY ALL ORDER BY ALL""",  # noqa: S608 - constant SQL fragments, values bound
    "Inferences per (chain, caller, kind, mode, simulation, production): the finest grain of the watch.",
    _PARAMS, _OPTIONAL,
))

_CALL_KEY = "i.chain_id = c.chain_id AND i.block_number = c.block_number AND i.log_index = c.log_index"

register(Query(
    "verification_coverage",
    f"""
    WITH clean AS (  -- chains whose summarised calls all had their inference row: their counts, to the watermark
        SELECT v.*, s.watermark FROM verification_coverage_counts v JOIN verification_summary_state s USING (chain_id)
        WHERE v.unmatched = 0 AND ($chain_id IS NULL OR v.chain_id = $chain_id)
    ),
    other AS (SELECT DISTINCT chain_id FROM inference_calls ANTI JOIN clean USING (chain_id)
              WHERE $chain_id IS NULL OR chain_id = $chain_id),
    rest AS (  -- the calls those counts do not hold
        SELECT c.* FROM inference_calls c SEMI JOIN clean w ON w.chain_id = c.chain_id AND c.block_number > w.watermark
        WHERE c.block_number > (SELECT min(watermark) FROM clean)
        UNION ALL
        SELECT c.* FROM inference_calls c SEMI JOIN other o ON o.chain_id = c.chain_id
        WHERE c.chain_id BETWEEN (SELECT min(chain_id) FROM other) AND (SELECT max(chain_id) FROM other)
    ),
    calls AS (  -- the calls of indexed inferences
        SELECT chain_id, {", ".join(f"CAST(sum({c}) AS BIGINT) AS {c}" for c in (
            "derived", "caller_from_trace", "caller_from_tx_to", "paired_with_result", "workflow_linked"))} FROM (
            SELECT chain_id, derived, caller_from_trace, caller_from_tx_to, paired_with_result, workflow_linked
            FROM clean
            UNION ALL
            SELECT c.chain_id, count(*), count(*) FILTER (WHERE c.caller_precision = 'trace'),
                   count(*) FILTER (WHERE c.caller_precision = 'tx_to'), count(c.result_log_index),
                   count(c.workflow_log_index)
            FROM rest c SEMI JOIN (SELECT chain_id, block_number, log_index FROM inferences
                                   WHERE block_number >= (SELECT min(block_number) FROM rest)) i ON {_CALL_KEY}
            GROUP BY c.chain_id)
        GROUP BY chain_id
    ),
    idx AS (SELECT chain_id, count(*) AS indexed, max(block_number) AS last_block FROM inferences
            WHERE $chain_id IS NULL OR chain_id = $chain_id GROUP BY chain_id)
    SELECT i.chain_id, i.indexed, coalesce(c.derived, 0) AS derived, i.indexed - coalesce(c.derived, 0) AS pending,
           coalesce(c.caller_from_trace, 0) AS caller_from_trace,
           coalesce(c.caller_from_tx_to, 0) AS caller_from_tx_to,
           coalesce(c.paired_with_result, 0) AS paired_with_result,
           coalesce(c.workflow_linked, 0) AS workflow_linked,
           (SELECT count(*) FROM inference_results r WHERE r.chain_id = i.chain_id
             AND r.event = 'InferenceResultEmitted') AS workflow_results,
           i.last_block
    FROM idx i LEFT JOIN calls c ON c.chain_id = i.chain_id
    ORDER BY i.chain_id""",
    "How much of the indexed inference is derived: callers from traces or tx `to`, pairings, workflow links.",
    {"chain_id": "int"}, frozenset({"chain_id"}),
))
