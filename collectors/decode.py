"""Pure decoding of raw logs into table rows: bytes in, rows out, no node and no database.

`decode_logs` dispatches every log by topic0 *and* topic count to its `collectors.events` entry and
returns the rows per table plus the logs that did not decode. A log that does not fit (unknown topic0,
another indexed layout, short or malformed data, bad padding) never fails the batch: it comes back as a
`DecodeError` for the engine to record and report, and every other log still decodes.

Rows carry the common columns (block_number, block_hash, block_ts, tx_hash, tx_index, log_index,
address, event) and the event's columns; `COLUMNS[table]` lists them in table order. The tables start
with chain_id, which the engine adds. `to_arrow` builds the whole Arrow table (chain_id first, typed as the
table's columns, uint256 as text) for `INSERT OR IGNORE INTO t SELECT * FROM tbl`; `to_frame` builds the same
as a pandas DataFrame (nullable integer and boolean dtypes), for callers that want pandas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from collectors.decode_core import BadLog, RawLog, Row
from collectors.decode_tables import COLUMNS, SCHEMA
from collectors.events import EVENTS, EventSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "DecodeError", "RawLog", "Row", "decode_logs", "to_arrow", "to_frame"]

_DTYPES: dict[str, Any] = {"VARCHAR": "str", "DOUBLE": "float64", "BOOLEAN": "boolean", "INTEGER": "Int64",
                           "BIGINT": "Int64"}  # nullable dtypes: None stays NULL, integers stay exact
_ARROW: dict[str, pa.DataType] = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(),
                                  "INTEGER": pa.int32(), "BIGINT": pa.int64()}


@dataclass(frozen=True)
class DecodeError:
    """A log that did not decode, with the reason (and the event its topic0 named, when it named one)."""

    log: RawLog
    reason: str
    event: str | None = None


@cache
def _index() -> tuple[dict[tuple[str, int], EventSpec], dict[str, list[EventSpec]]]:
    exact = {(s.topic0, s.topic_count): s for s in EVENTS}
    named: dict[str, list[EventSpec]] = {}
    for s in EVENTS:
        named.setdefault(s.topic0, []).append(s)
    return exact, named


def _unmatched(log: RawLog) -> DecodeError:
    topics = log["topics"]
    if not topics:
        return DecodeError(log, "anonymous log: no topic0")
    candidates = _index()[1].get(topics[0].lower())
    if not candidates:
        return DecodeError(log, f"unknown topic0 {topics[0]}")
    want = " or ".join(str(s.topic_count) for s in candidates)
    return DecodeError(log, f"{len(topics)} topics where {candidates[0].name} has {want}", candidates[0].signature)


def _reason(spec: EventSpec, exc: Exception) -> str:
    what = str(exc) if isinstance(exc, BadLog) else f"{type(exc).__name__}: {exc}"
    return f"{spec.name}: {what}"


def _run(spec: EventSpec, logs: list[RawLog]) -> tuple[list[Row], list[DecodeError]]:
    """Decode one event's logs in one batch; if any fails, again one by one to isolate the bad ones."""
    try:
        return spec.decoder(logs), []
    except Exception:  # any failure is reported per log below, never raised
        pass
    rows: list[Row] = []
    errors: list[DecodeError] = []
    for log in logs:
        try:
            rows.extend(spec.decoder([log]))
        except Exception as exc:  # a log that does not fit its ABI must not stop the batch
            errors.append(DecodeError(log, _reason(spec, exc), spec.signature))
    return rows, errors


def spec_for(topic0: str, topic_count: int) -> EventSpec | None:
    """The registered event of a topic0 (any case) with this many topics, if any."""
    return _index()[0].get((topic0.lower(), topic_count))


unmatched, run_spec = _unmatched, _run  # for collectors.decode_span, which groups JSON-RPC logs itself


def decode_logs(logs: Iterable[RawLog]) -> tuple[dict[str, list[Row]], list[DecodeError]]:
    """Rows per table for every log that fits a registered event, and a DecodeError for each that does not."""
    exact = _index()[0]
    groups: dict[tuple[str, int], tuple[EventSpec, list[RawLog]]] = {}
    errors: list[DecodeError] = []
    for log in logs:
        topics = log["topics"]
        spec = exact.get((topics[0].lower(), len(topics))) if topics else None
        if spec is None:
            errors.append(_unmatched(log))
            continue
        groups.setdefault((spec.signature, spec.topic_count), (spec, []))[1].append(log)
    tables: dict[str, list[Row]] = {}
    mixed: set[str] = set()
    for spec, group in groups.values():
        rows, failed = _run(spec, group)
        errors.extend(failed)
        if spec.table in tables:
            mixed.add(spec.table)
        tables.setdefault(spec.table, []).extend(rows)
    for table in mixed:  # rows of several events in one table: back to chain order
        tables[table].sort(key=lambda r: (r["block_number"], r["log_index"]))
    return tables, errors


def to_arrow(table: str, rows: list[Row], chain_id: int) -> pa.Table:
    """The rows of one table as an Arrow table in table column order, typed as the table's columns."""
    n, pool = len(rows), pa.system_memory_pool()  # malloc: freed at once, where Arrow's default pool keeps it
    return pa.table({col: pa.array([chain_id] * n if col == "chain_id" else [r[col] for r in rows], _ARROW[sql_type],
                                   memory_pool=pool) for col, sql_type in SCHEMA[table]})


def to_frame(table: str, rows: list[Row], chain_id: int) -> pd.DataFrame:
    """The rows of one table as a DataFrame in table column order, typed so DuckDB inserts them exactly."""
    import pandas as pd  # only here: the engine's bulk path uses Arrow and need not load pandas

    data = {}
    for col, sql_type in SCHEMA[table]:
        values = [chain_id] * len(rows) if col == "chain_id" else [r[col] for r in rows]
        data[col] = pd.array(values, dtype=_DTYPES[sql_type])
    return pd.DataFrame(data, columns=[c for c, _ in SCHEMA[table]])
