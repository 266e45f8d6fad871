"""One fetched span's JSON-RPC logs to Arrow tables per event table: the engine's decoding step.

Logs are grouped by topic0 and topic count as `collectors.decode.decode_logs` groups them. A group of a
static event without a derived-column hook goes column by column (`collectors.decode_columns`); every other
group (and a static one that fails a check) goes log by log through its registered decoder, so a bad log
still comes back as a `DecodeError` and every other log decodes. Tables that several groups fill are put
back in chain order. The result is the same as `decode_logs` on the logs followed by `to_arrow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors import decode, decode_columns
from collectors.events import EventSpec
from collectors.fetch import raw_log

_POOL = pa.system_memory_pool()


@dataclass(frozen=True)
class SpanRows:
    """What a span's logs became."""

    frames: dict[str, pa.Table]  # rows per table, table column order, chain_id first
    errors: list[decode.DecodeError]  # logs that did not decode
    blocks: dict[int, tuple[str, int | None]]  # block number -> (hash, timestamp) of every block with logs
    distinct: bool  # (block_number, log_index) strictly increasing: no key twice
    logs: int


def _per_log(spec: EventSpec, logs: list[dict[str, Any]], ts: dict[int, int], chain_id: int,
             consume: bool) -> tuple[pa.Table | None, list[decode.DecodeError]]:
    raws = [raw_log(lg, _stamp(lg, ts)) for lg in logs]
    if consume:
        logs.clear()  # the JSON dicts go before the rows are built
    rows, errors = decode.run_spec(spec, raws)
    return (decode.to_arrow(spec.table, rows, chain_id) if rows else None), errors


def _stamp(lg: dict[str, Any], ts: dict[int, int]) -> int:
    return int(lg["blockTimestamp"], 16) if "blockTimestamp" in lg else ts[int(lg["blockNumber"], 16)]


def _order(raw: list[dict[str, Any]], ts: dict[int, int]) -> tuple[dict[int, tuple[str, int | None]], bool,
                                                               np.ndarray, np.ndarray]:
    """Blocks with logs, whether the logs' keys are strictly increasing, and the block numbers and log indexes."""
    numbers = np.array([int(lg["blockNumber"], 16) for lg in raw], np.int64)
    indexes = np.array([int(lg["logIndex"], 16) for lg in raw], np.int64)
    step, within = np.diff(numbers), np.diff(indexes)
    distinct = bool(((step > 0) | ((step == 0) & (within > 0))).all())
    firsts: list[int] = np.flatnonzero(np.concatenate(([True], step != 0))).tolist() if raw else []
    blocks: dict[int, tuple[str, int | None]] = {}
    for i in firsts:
        lg = raw[i]
        blocks.setdefault(int(numbers[i]), (lg["blockHash"], _stamp(lg, ts)))
    return blocks, distinct, numbers, indexes


def _groups(raw: list[dict[str, Any]]) -> dict[tuple[str, int], list[int]]:
    """Positions of the logs of each (topic0 in lower case, topic count), in chain order, groups by first log.

    Keyed first by topic0 as the node spelt it (one `lower()` per distinct spelling, not per log); spellings
    that differ only in case are merged with their positions sorted, so each group stays in chain order.
    """
    spelt: dict[tuple[str, int], list[int]] = {}
    for i, lg in enumerate(raw):
        topics = lg["topics"]
        key = (topics[0], len(topics)) if topics else ("", 0)
        group = spelt.get(key)
        if group is None:
            spelt[key] = [i]
        else:
            group.append(i)
    out: dict[tuple[str, int], list[int]] = {}
    for (topic0, count), positions in spelt.items():
        key = (topic0.lower(), count)
        out[key] = sorted(out[key] + positions) if key in out else positions
    return out


def _chain_order(parts: list[pa.Table]) -> pa.Table:
    """One table of several events' tables, back in chain order (malloc, like collectors.decode.to_arrow:
    Arrow's default pool keeps what it frees, which raised the backfill's peak RSS by 30-40 MB)."""
    both = pa.concat_tables(parts)
    order = pc.sort_indices(both, [("block_number", "ascending"), ("log_index", "ascending")], memory_pool=_POOL)
    return pc.take(both, order, memory_pool=_POOL).combine_chunks(memory_pool=_POOL)


def decode_span(raw: list[dict[str, Any]], ts: dict[int, int], chain_id: int, *, consume: bool = False) -> SpanRows:
    """Arrow tables, decode errors, blocks and key order of one span's logs (as `eth_getLogs` returned them).

    `consume` empties `raw` and frees each event's logs once its table is built (bounded memory).
    """
    blocks, distinct, numbers, indexes = _order(raw, ts)
    n = len(raw)
    grouped: list[tuple[tuple[str, int], list[int], list[dict[str, Any]]] | None] = [
        (key, at, list(raw) if len(at) == n else [raw[i] for i in at]) for key, at in _groups(raw).items()]
    if consume:
        raw.clear()
    pieces: dict[str, list[pa.Table]] = {}
    errors: list[decode.DecodeError] = []
    for g, group in enumerate(grouped):
        if group is None:
            continue
        grouped[g] = None  # with `consume`, this group's logs are freed once its table is built
        (topic0, count), positions, logs = group
        del group
        spec = decode.spec_for(topic0, count) if topic0 else None
        if spec is None:
            errors += [decode.unmatched(raw_log(lg, _stamp(lg, ts))) for lg in logs]
            continue
        plan = getattr(spec.decoder, "words", None)
        table = None
        if plan is not None:
            keys = (numbers, indexes) if len(positions) == n else (numbers[positions], indexes[positions])
            table = decode_columns.decode_static(plan, spec.table, logs, ts, chain_id, keys=keys)
        if table is None:
            table, failed = _per_log(spec, logs, ts, chain_id, consume)
            errors += failed
        if table is not None:
            pieces.setdefault(spec.table, []).append(table)
        del logs
    frames = {name: parts[0] if len(parts) == 1 else _chain_order(parts) for name, parts in pieces.items()}
    return SpanRows(frames, errors, blocks, distinct, n)
