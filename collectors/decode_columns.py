"""Column-at-a-time decoding of static events, straight from JSON-RPC logs into one Arrow table (the bulk path).

The per-log decoder (`collectors.decode_core.static_decoder`) builds a dict per log and the engine then an
Arrow table from the dicts; on a backfill of 150,000 trades that was most of the engine's Python time. Here
a group of logs of one static event becomes its Arrow table in a few numpy operations:

- the `data` hex of every log is checked and parsed at once into a (logs x bytes) matrix (topics likewise);
- each word becomes a column: uint256 values below 2^64 as uint64, turned into exact decimal text by Arrow
  and into float64 by numpy (one correctly rounded conversion, as Python's `float(int)`); larger values
  through Python ints; addresses are checksummed once per distinct value; bytesN and bools from the matrix.

Every check of the per-log decoder is made for the whole group (0x prefixes, hex digits, lengths, address
high bytes, bool words, bytesN padding, uint ranges). When any log fails one, or a type has no column
builder here, `decode_static` returns None and the caller decodes that group log by log, which reports the
bad logs. Otherwise the table equals `to_arrow(table, decoder(logs), chain_id)` (tests/test_decode_columns.py).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors.decode_core import WordsPlan, checksum
from collectors.decode_tables import SCHEMA

_ARROW: dict[str, pa.DataType] = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(),
                                  "INTEGER": pa.int32(), "BIGINT": pa.int64()}
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[ord("A"):ord("Z") + 1] += 32
_POOL = pa.system_memory_pool()  # malloc: freed at once (see collectors.decode.to_arrow)
Cols = dict[str, pa.Array]
Keys = tuple[np.ndarray, np.ndarray]  # block numbers and log indexes of the logs, int64


class _Unfit(Exception):
    """A log of the group fails a check (or a type has no column builder): decode the group log by log."""


def _hex_matrix(strings: list[str], width: int) -> np.ndarray:
    """ASCII of `strings`, each exactly `width` characters of 0x-prefixed hex, as an (n, width) uint8 matrix."""
    if strings and (np.fromiter(map(len, strings), np.int64, len(strings)) != width).any():
        raise _Unfit
    try:
        m = np.frombuffer("".join(strings).encode("ascii"), np.uint8).reshape(len(strings), width)
    except UnicodeEncodeError:
        raise _Unfit from None
    if (m[:, 0] != ord("0")).any() or (m[:, 1] != ord("x")).any():
        raise _Unfit
    return m


def _bytes_of(m: np.ndarray) -> np.ndarray:
    """The bytes a hex matrix spells (0x dropped): an (n, (width - 2) / 2) uint8 matrix; _Unfit if not all hex.

    `bytes.fromhex` skips whitespace, so a matrix with a space in it spells fewer bytes: caught by the size.
    """
    n, width = m.shape
    try:
        raw = bytes.fromhex(m[:, 2:].tobytes().decode("ascii"))
    except ValueError:
        raise _Unfit from None
    if len(raw) != n * (width - 2) // 2:
        raise _Unfit
    return np.frombuffer(raw, np.uint8).reshape(n, (width - 2) // 2)


def _strings(chars: np.ndarray) -> pa.Array:
    """An (n, k) uint8 matrix of ASCII as n strings of k characters."""
    n, k = chars.shape
    offsets = np.arange(0, (n + 1) * k, k, dtype=np.int32) if n else np.zeros(1, np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())])


def _prefixed(chars: np.ndarray) -> pa.Array:
    """'0x' + lower-case hex of an (n, k) matrix of hex ASCII."""
    out = np.empty((chars.shape[0], chars.shape[1] + 2), np.uint8)
    out[:, 0], out[:, 1], out[:, 2:] = ord("0"), ord("x"), _LOWER[chars]
    return _strings(out)


def _address(word: np.ndarray, hexes: np.ndarray) -> pa.Array:
    if word[:, :12].any():
        raise _Unfit
    low = np.ascontiguousarray(_LOWER[hexes[:, 24:64]])
    uniq, inverse = np.unique(low.view("S40").ravel(), return_inverse=True)
    names = pa.array([checksum(u.decode()) for u in uniq], pa.string(), memory_pool=_POOL)
    return pc.take(names, pa.array(inverse.ravel().astype(np.int32)), memory_pool=_POOL)


def _u256(word: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Exact decimal text and float of each word (as `str(int)` and `float(int)`)."""
    low = np.ascontiguousarray(word[:, 24:]).view(">u8").ravel().astype(np.uint64)
    floats = low.astype(np.float64)
    text = pc.cast(pa.array(low, memory_pool=_POOL), pa.string(), memory_pool=_POOL)
    big = np.flatnonzero(word[:, :24].any(axis=1))
    if len(big):  # 2^64 and above: Python ints (exact), for those rows only
        values = [int.from_bytes(word[i].tobytes(), "big") for i in big]
        texts = text.to_numpy(zero_copy_only=False)
        texts[big] = [str(v) for v in values]
        floats[big] = [float(v) for v in values]
        text = pa.array(texts, pa.string(), memory_pool=_POOL)
    return text, pa.array(floats, memory_pool=_POOL)


def _uint(word: np.ndarray, bits: int, sql_type: str) -> pa.Array:
    if bits > 63:
        raise _Unfit
    if word[:, :24].any():
        raise _Unfit
    values = np.ascontiguousarray(word[:, 24:]).view(">u8").ravel().astype(np.int64)
    if (values >= (1 << bits)).any() or (values < 0).any():
        raise _Unfit
    return pa.array(values, _ARROW[sql_type], memory_pool=_POOL)


def _word_columns(plan: WordsPlan, table: str, data: np.ndarray, dhex: np.ndarray,
                  topics: dict[int, tuple[np.ndarray, np.ndarray]]) -> Cols:
    types = dict(SCHEMA[table])
    out: Cols = {}
    for col, abi_type, topic, k in plan.words:
        word, hexes = topics[topic] if topic else (data[:, 32 * k:32 * k + 32], dhex[:, 64 * k:64 * k + 64])
        if abi_type == "uint256":
            out[col], out[col + "_f"] = _u256(word)
        elif abi_type == "address":
            out[col] = _address(word, hexes)
        elif abi_type == "bool":
            if word[:, :31].any() or (word[:, 31] > 1).any():
                raise _Unfit
            out[col] = pa.array(word[:, 31] == 1, memory_pool=_POOL)
        elif m := re.fullmatch(r"bytes(\d+)", abi_type):
            size = int(m.group(1))
            if word[:, size:].any():
                raise _Unfit
            out[col] = _prefixed(hexes[:, :2 * size])
        elif m := re.fullmatch(r"uint(\d+)", abi_type):
            out[col] = _uint(word, int(m.group(1)), types[col])
        else:
            raise _Unfit
    return out


def _log_columns(logs: list[dict[str, Any]], ts: dict[int, int], keys: Keys | None) -> Cols:
    """The columns every row has, from the logs' own fields (as collectors.fetch.raw_log makes them).

    `keys`, when the caller has parsed them already: the logs' block numbers and log indexes (int64).
    """
    numbers, indexes = keys if keys is not None else (
        np.array([int(lg["blockNumber"], 16) for lg in logs], np.int64),
        np.array([int(lg["logIndex"], 16) for lg in logs], np.int64))
    if logs and "blockTimestamp" not in logs[0] and not any("blockTimestamp" in lg for lg in logs):
        blocks, where = np.unique(numbers, return_inverse=True)  # one lookup per block, not per log
        stamps = np.array([ts[int(b)] for b in blocks], np.int64)[where.ravel()]
    else:
        stamps = np.array([int(lg["blockTimestamp"], 16) if "blockTimestamp" in lg else ts[int(n)]
                           for lg, n in zip(logs, numbers, strict=True)], np.int64)
    seen: dict[str, str] = {}
    emitters = [seen.get(a) or seen.setdefault(a, checksum(a[2:].lower())) for a in (lg["address"] for lg in logs)]
    return {"block_number": pa.array(numbers, pa.int64(), memory_pool=_POOL),
            "block_hash": pa.array([lg["blockHash"] for lg in logs], pa.string(), memory_pool=_POOL),
            "block_ts": pa.array(stamps, pa.int64(), memory_pool=_POOL),
            "tx_hash": pa.array([lg["transactionHash"] for lg in logs], pa.string(), memory_pool=_POOL),
            "tx_index": pa.array([int(lg["transactionIndex"], 16) for lg in logs], pa.int32(), memory_pool=_POOL),
            "log_index": pa.array(indexes, pa.int32(), memory_pool=_POOL),
            "address": pa.array(emitters, pa.string(), memory_pool=_POOL)}


def _topics(plan: WordsPlan, logs: list[dict[str, Any]]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Checked topics: topic0 (few distinct spellings), and the (bytes, hex) matrix of each indexed topic."""
    if any(len(lg["topics"]) != plan.n_topics for lg in logs):
        raise _Unfit
    _hex_matrix(list({lg["topics"][0] for lg in logs}), 66)
    out = {}
    for i in range(1, plan.n_topics):
        m = _hex_matrix([lg["topics"][i] for lg in logs], 66)
        out[i] = (_bytes_of(m), m[:, 2:])
    return out


def decode_static(plan: WordsPlan, table: str, logs: list[dict[str, Any]], ts: dict[int, int],
                  chain_id: int, *, keys: Keys | None = None) -> pa.Table | None:
    """The Arrow table of one static event's JSON-RPC logs (table column order and types), or None if unfit.

    `ts` holds block timestamps for logs without `blockTimestamp`. None means: decode these logs one by one.
    `keys`: the logs' block numbers and log indexes as int64 arrays, when the caller has parsed them.
    """
    n = len(logs)
    try:
        topics = _topics(plan, logs)
        dm = _hex_matrix([lg["data"] for lg in logs], 2 + 64 * plan.n_words)
        cols = _log_columns(logs, ts, keys) | _word_columns(plan, table, _bytes_of(dm), dm[:, 2:], topics)
    except _Unfit:
        return None
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, pa.ArrowException):
        return None  # anything unexpected in a log: the per-log decoder finds and reports it
    out = {}
    for col, sql_type in SCHEMA[table]:
        if col == "chain_id":
            out[col] = pa.array(np.full(n, chain_id, np.int64), memory_pool=_POOL)
        elif col in cols:
            out[col] = cols[col]
        elif plan.base.get(col) is None:
            out[col] = pa.nulls(n, _ARROW[sql_type], memory_pool=_POOL)
        else:
            out[col] = pa.array([plan.base[col]] * n, _ARROW[sql_type], memory_pool=_POOL)
    return pa.table(out)
