"""Named, parameterised queries: the only SQL that pages, alert rules and CLI read commands run.

Pages and alert rules call the same names, so an alert and the chart it links to can never disagree.
Parameters are declared with a type and always bound (never formatted into SQL); an optional
parameter is passed as NULL and the SQL tests `$p IS NULL`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.errors import StoreError, UnknownQuery

_TYPES: dict[str, type] = {"int": int, "str": str, "float": float, "ts": datetime}


@dataclass(frozen=True)
class Query:
    """A read-only statement with declared parameters (name -> 'int' | 'str' | 'float' | 'ts')."""

    name: str
    sql: str
    doc: str
    params: dict[str, str] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()


REGISTRY: dict[str, Query] = {}


def register(q: Query) -> Query:
    """Add a query to the registry (names are unique)."""
    if q.name in REGISTRY:
        raise ValueError(f"duplicate query name {q.name}")
    REGISTRY[q.name] = q
    return q


def get(name: str) -> Query:
    """Look a query up by name."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownQuery(f"unknown query {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def bind(q: Query, given: dict[str, Any]) -> dict[str, Any]:
    """Check and coerce parameters: unknown or missing names and wrong types are errors."""
    extra = set(given) - set(q.params)
    if extra:
        raise StoreError(f"query {q.name}: unknown parameter(s) {', '.join(sorted(extra))}")
    out: dict[str, Any] = {}
    for pname, ptype in q.params.items():
        value = given.get(pname)
        if value is None:
            if pname not in q.optional:
                raise StoreError(f"query {q.name}: parameter {pname} is required")
            out[pname] = None
            continue
        out[pname] = _coerce(q.name, pname, ptype, value)
    return out


def _coerce(qname: str, pname: str, ptype: str, value: Any) -> Any:
    want = _TYPES[ptype]
    if isinstance(value, want) and not isinstance(value, bool):
        return value
    try:
        if ptype == "ts":
            return datetime.fromisoformat(str(value))
        return want(value)
    except (TypeError, ValueError):
        raise StoreError(f"query {qname}: parameter {pname} must be {ptype}, got {value!r}") from None


register(Query(
    "schema_version",
    "SELECT coalesce(max(version), 0) AS version FROM schema_migrations",
    "The schema version of the store.",
))

register(Query(
    "service_heartbeat",
    "SELECT count(*) AS beats, max(seq) AS last_seq, max(observed_at) AS last_at FROM service_heartbeats",
    "The scheduler's pulse: how many heartbeats were written and when the last one was.",
))

register(Query(
    "collector_health_latest",
    """
    SELECT h.collector, h.chain_id, h.observed_at, h.ok, h.head_block, h.indexed_block,
           h.head_block - h.indexed_block AS lag_blocks, h.head_ts, h.error, h.events, h.rpc_calls, h.retries,
           h.duration_ms,
           (SELECT max(s.observed_at) FROM collector_health s
             WHERE s.collector = h.collector AND s.chain_id = h.chain_id AND s.ok) AS last_success,
           (SELECT count(*) FROM collector_health e
             WHERE e.collector = h.collector AND e.chain_id = h.chain_id AND NOT e.ok
               AND e.observed_at >= h.observed_at - INTERVAL 1 HOUR) AS errors_1h,
           (SELECT e.error FROM collector_health e
             WHERE e.collector = h.collector AND e.chain_id = h.chain_id AND NOT e.ok
             ORDER BY e.observed_at DESC LIMIT 1) AS last_error
    FROM collector_health h
    QUALIFY row_number() OVER (PARTITION BY h.collector, h.chain_id ORDER BY h.observed_at DESC) = 1
        AND ($chain_id IS NULL OR h.chain_id = $chain_id)
    ORDER BY h.chain_id, h.collector
    """,
    "The latest tick of each collector: lag, last success, errors in the last hour and the last error.",
    {"chain_id": "int"},
    frozenset({"chain_id"}),
))

register(Query(
    "node_capabilities",
    "SELECT * FROM node_capabilities WHERE ($chain_id IS NULL OR chain_id = $chain_id) ORDER BY chain_id, url",
    "What each node was found able to do: traces, state depth, batch size, timestamps in logs.",
    {"chain_id": "int"},
    frozenset({"chain_id"}),
))

register(Query(
    "reorgs",
    "SELECT * FROM reorgs WHERE ($chain_id IS NULL OR chain_id = $chain_id) ORDER BY detected_at DESC LIMIT 100",
    "Reorgs found while indexing: fork point and what was removed.",
    {"chain_id": "int"},
    frozenset({"chain_id"}),
))

register(Query(
    "checkpoints",
    "SELECT * FROM checkpoints WHERE ($chain_id IS NULL OR chain_id = $chain_id) ORDER BY chain_id, collector",
    "Where each collector has indexed up to.",
    {"chain_id": "int"},
    frozenset({"chain_id"}),
))

register(Query(
    "state_reads",
    """
    SELECT chain_id, address, field, block_number, value, value_f FROM state_reads
    WHERE chain_id = $chain_id AND lower(address) = lower($address)
      AND ($field IS NULL OR field = $field)
    ORDER BY field, block_number
    """,
    "Contract values read at blocks (exact uint256 as text in `value`).",
    {"chain_id": "int", "address": "str", "field": "str"},
    frozenset({"field"}),
))

register(Query(
    "decode_errors",
    """
    SELECT chain_id, block_number, log_index, tx_hash, address, topic0, reason FROM decode_errors
    WHERE ($chain_id IS NULL OR chain_id = $chain_id)
    ORDER BY chain_id, block_number, log_index
    """,
    "Logs that matched a watched event but did not fit its ABI, with the reason.",
    {"chain_id": "int"},
    frozenset({"chain_id"}),
))

import store.queries_alerts  # noqa: E402,F401
import store.queries_charged  # noqa: E402,F401
import store.queries_concentration  # noqa: E402,F401
import store.queries_fees  # noqa: E402,F401
import store.queries_settlements  # noqa: E402,F401
import store.queries_verification  # noqa: E402,F401
