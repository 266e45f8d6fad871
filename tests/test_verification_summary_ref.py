"""The verification queries as they were before the summaries (migration 0010): the reference they must equal.

Kept verbatim from store/queries_verification.py at the commit before the summaries (the six queries over
`inference_calls`), registered here under the same names in a private dict, never in the store's registry.
tests/test_verification_summary.py runs both on the same store and compares the frames.
"""

# ruff: noqa: S608, E501 - constant SQL fragments composed at import, kept as they were
from __future__ import annotations

from store.queries import Query

REFERENCE: dict[str, Query] = {}


def _ref(q: Query) -> None:
    REFERENCE[q.name] = q


_PARAMS = {"chain_id": "int", "since": "ts", "prod_chains": "str", "prod_callers": "str"}
_OPTIONAL = frozenset({"chain_id", "since", "prod_chains", "prod_callers"})
# Constant SQL fragments composed at import; every value is a bound parameter.
# The selected inferences with their production flag.
_BASE = """
prod_chain_ids AS (
    SELECT TRY_CAST(x AS BIGINT) AS chain_id FROM unnest(string_split(coalesce($prod_chains, ''), ',')) t(x)
    WHERE CAST(TRY_CAST(x AS BIGINT) AS VARCHAR) = x
),
prod_caller_keys AS (
    SELECT DISTINCT TRY_CAST(split_part(x, ':', 1) AS BIGINT) AS chain_id, x[strpos(x, ':') + 1:] AS addr
    FROM unnest(string_split(lower(coalesce($prod_callers, '')), ',')) t(x)
    WHERE strpos(x, ':') > 0 AND CAST(TRY_CAST(split_part(x, ':', 1) AS BIGINT) AS VARCHAR) = split_part(x, ':', 1)
),
base AS (
    SELECT c.*,
           (NOT c.is_simulation AND (c.chain_id IN (SELECT chain_id FROM prod_chain_ids) OR pk.addr IS NOT NULL))
               AS production
    FROM inference_calls c
    LEFT JOIN prod_caller_keys pk ON pk.chain_id = c.chain_id AND pk.addr = lower(coalesce(c.caller, c.sender, ''))
    WHERE ($chain_id IS NULL OR c.chain_id = $chain_id)
      AND ($since IS NULL OR c.block_ts >= epoch(CAST($since AS TIMESTAMPTZ)))
)"""
_MODE_COUNTS = """
           count(*) AS n,
           count(*) FILTER (WHERE mode = 'VANILLA') AS vanilla,
           count(*) FILTER (WHERE mode = 'TEE') AS tee,
           count(*) FILTER (WHERE mode = 'ZKML') AS zkml,
           count(*) FILTER (WHERE mode NOT IN ('VANILLA', 'TEE', 'ZKML')) AS other,
           count(*) FILTER (WHERE mode = 'VANILLA') / count(*) AS vanilla_share,
           count(*) FILTER (WHERE is_simulation) AS simulations,
           count(*) FILTER (WHERE production) AS production_n,
           count(*) FILTER (WHERE production AND mode = 'VANILLA') AS production_vanilla"""

_ref(Query(
    "verification_modes",
    "WITH " + _BASE + """,
    g AS (SELECT mode, count(*) AS n_all, count(*) FILTER (WHERE production) AS n_prod FROM base GROUP BY mode),
    s AS (SELECT 'all' AS scope, mode, n_all AS inferences FROM g  -- both scopes from one scan of base
          UNION ALL
          SELECT 'production' AS scope, mode, n_prod AS inferences FROM g WHERE n_prod > 0)
    SELECT scope, mode, inferences, sum(inferences) OVER (PARTITION BY scope) AS n,
           inferences / sum(inferences) OVER (PARTITION BY scope) AS share
    FROM s ORDER BY scope, mode""",  # noqa: S608 - constant SQL fragments, values bound
    "Inferences per verification mode, all and production, each share with its n.",
    _PARAMS, _OPTIONAL,
))

_ref(Query(
    "verification_mode_series",
    "WITH " + _BASE + """,
    g AS (SELECT date_trunc($bucket, to_timestamp(block_ts)) AS bucket, mode, count(*) AS n_all,
                 count(*) FILTER (WHERE production) AS n_prod
          FROM base WHERE block_ts IS NOT NULL GROUP BY ALL),
    s AS (SELECT bucket, 'all' AS scope, mode, n_all AS inferences FROM g  -- both scopes from one scan of base
          UNION ALL
          SELECT bucket, 'production' AS scope, mode, n_prod AS inferences FROM g WHERE n_prod > 0)
    SELECT bucket, scope, mode, inferences, sum(inferences) OVER (PARTITION BY scope, bucket) AS n,
           inferences / sum(inferences) OVER (PARTITION BY scope, bucket) AS share
    FROM s ORDER BY scope, bucket, mode""",  # noqa: S608 - constant SQL fragments, values bound
    "Inferences per mode per hour or day (bucket = 'hour' | 'day'), all and production, with n per bucket.",
    {**_PARAMS, "bucket": "str"}, _OPTIONAL,
))

_ref(Query(
    "verification_by_model",
    "WITH " + _BASE + """
    SELECT model, kind, """ + _MODE_COUNTS + """
    FROM base GROUP BY model, kind ORDER BY n DESC, model, kind""",  # noqa: S608 - constant SQL fragments, values bound
    "Per model (and kind): inferences per mode with n, Vanilla share, simulations and production counts.",
    _PARAMS, _OPTIONAL,
))

_ref(Query(
    "verification_by_caller",
    "WITH " + _BASE + """
    SELECT chain_id, caller, string_agg(DISTINCT caller_precision, ',' ORDER BY caller_precision) AS precision,
           count(DISTINCT sender) AS senders, """ + _MODE_COUNTS + """,
           min(block_number) AS first_block, max(block_number) AS last_block
    FROM base GROUP BY chain_id, caller ORDER BY n DESC, caller NULLS FIRST""",  # noqa: S608 - constant SQL fragments, values bound
    "Per caller contract (NULL: accounts calling the hub directly): modes with n, precision, production counts.",
    _PARAMS, _OPTIONAL,
))

_ref(Query(
    "verification_counts",
    "WITH " + _BASE + """
    SELECT chain_id, caller, kind, mode, is_simulation, production, count(*) AS inferences
    FROM base GROUP BY ALL ORDER BY ALL""",  # noqa: S608 - constant SQL fragments, values bound
    "Inferences per (chain, caller, kind, mode, simulation, production): the finest grain of the watch.",
    _PARAMS, _OPTIONAL,
))

_ref(Query(
    "verification_coverage",
    """
    WITH calls AS (  -- a semi-join on the key: the calls of indexed inferences, aggregated before any join
        SELECT c.chain_id, count(*) AS derived,
               count(*) FILTER (WHERE c.caller_precision = 'trace') AS caller_from_trace,
               count(*) FILTER (WHERE c.caller_precision = 'tx_to') AS caller_from_tx_to,
               count(c.result_log_index) AS paired_with_result,
               count(c.workflow_log_index) AS workflow_linked
        FROM inference_calls c SEMI JOIN inferences i
          ON i.chain_id = c.chain_id AND i.block_number = c.block_number AND i.log_index = c.log_index
        WHERE $chain_id IS NULL OR c.chain_id = $chain_id
        GROUP BY c.chain_id
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


def test_reference_matches_the_registered_queries() -> None:
    from store import queries
    for name, q in REFERENCE.items():
        now = queries.get(name)
        assert (now.params, now.optional) == (q.params, q.optional)
    assert len(REFERENCE) == 6
