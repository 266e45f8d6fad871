"""Several named queries in one request to the owner: the request body, the concurrent answer, the framing.

A page that needs a dozen independent named queries pays one round trip instead of a dozen. The owner runs
the queries of a batch concurrently (each on its own cursor, as separate requests would) and answers every
query: its Arrow table, or its own error, in the order asked. One failing query never hides the others.

Wire format of the answer: an 8-byte big-endian length, a JSON list with one entry per query
(`{"size": n}` for a table of n bytes, `{"error": text}` for a failure), then the tables' Arrow IPC streams
back to back.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from store.errors import StoreError

MAX_BATCH = 64  # queries in one request
BATCH_THREADS = 4  # queries of one batch run at once in the owner
_LEN = struct.Struct(">Q")

Batch = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Answer:
    """One query's answer in a batch: its table, or the error it would have raised alone."""

    name: str
    table: pa.Table | None
    error: StoreError | None = None

    def unwrap(self) -> pa.Table:
        """The table, or raise the query's error."""
        if self.table is None:
            raise self.error or StoreError(f"query {self.name}: no answer")
        return self.table


def parse_batch(raw: bytes) -> Batch:
    """The (name, params) list of a request body; a malformed body is one StoreError."""
    try:
        body = json.loads(raw)
        items = body["queries"]
    except (ValueError, KeyError, TypeError):
        raise StoreError('bad batch: expected {"queries": [{"name": ..., "params": {...}}, ...]}') from None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise StoreError(f"bad batch: 1 to {MAX_BATCH} queries per request")
    out: Batch = []
    for item in items:
        params = item.get("params") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(params or {}, dict):
            raise StoreError("bad batch: every query needs a name (text) and params (an object)")
        out.append((item["name"], dict(params or {})))
    return out


def _one(execute: Callable[[str, dict[str, Any]], pa.Table], name: str,
         params: dict[str, Any]) -> tuple[pa.Table | None, str]:
    try:
        return execute(name, params), ""
    except StoreError as exc:
        return None, str(exc)
    except Exception as exc:  # as POST /query answers it: the reader gets the error, not a hang
        return None, f"{type(exc).__name__}: {exc}"


def answer_batch(execute: Callable[[str, dict[str, Any]], pa.Table], batch: Batch,
                 threads: int = BATCH_THREADS) -> list[tuple[pa.Table | None, str]]:
    """(table, "") or (None, error text) per query, in order; the queries run on up to `threads` threads."""
    if len(batch) == 1 or threads <= 1:
        return [_one(execute, n, p) for n, p in batch]
    with ThreadPoolExecutor(max_workers=min(threads, len(batch)), thread_name_prefix="owner-batch") as pool:
        return list(pool.map(lambda q: _one(execute, q[0], q[1]), batch))


def encode_batch(answers: list[tuple[pa.Table | None, str]]) -> bytes:
    """Frame the answers: header length, JSON header, Arrow streams."""
    from store.owner import arrow_bytes

    payloads = [arrow_bytes(t) if t is not None else b"" for t, _ in answers]
    header = json.dumps([{"size": len(b)} if t is not None else {"error": e}
                         for (t, e), b in zip(answers, payloads, strict=True)]).encode()
    return _LEN.pack(len(header)) + header + b"".join(payloads)


def decode_batch(data: bytes, names: list[str]) -> list[Answer]:
    """The answers of a framed reply, one per asked name (errors worded as a single query's would be)."""
    from store.owner import from_arrow_bytes

    try:
        (hlen,) = _LEN.unpack_from(data, 0)
        header = json.loads(data[_LEN.size:_LEN.size + hlen])
        if not isinstance(header, list) or len(header) != len(names):
            raise ValueError("answer count differs from the queries asked")
        pos, out = _LEN.size + hlen, []
        for name, entry in zip(names, header, strict=True):
            if "error" in entry:
                text = str(entry["error"])[:300]
                out.append(Answer(name, None, StoreError(f"query {name} failed in the owner process: {text}")))
                continue
            size = int(entry["size"])
            out.append(Answer(name, from_arrow_bytes(data[pos:pos + size])))
            pos += size
    except (ValueError, KeyError, TypeError, struct.error, pa.ArrowInvalid) as exc:
        raise StoreError(f"malformed batch answer from the owner process: {exc}") from exc
    return out
