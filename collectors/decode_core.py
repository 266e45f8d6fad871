"""Building blocks of the pure log decoders: the raw log shape, value converters and the two decoder kinds.

- Static events (every parameter a single 32-byte word) are decoded by slicing the hex `data` and
  topics: no ABI library on the bulk path (Trade logs arrive by the hundred thousand).
- Dynamic events (strings, bytes, arrays, nested tuples) go through `eth_abi.decode` once per log with
  types built from the ABI file. Every `string` is decoded as `bytes` (same encoding) and turned into
  text with invalid UTF-8 replaced, so a malformed string never fails a log.

Both kinds check the topic count, the data shape and every padding byte, and raise `BadLog` with a
reason: a log that does not fit its ABI is reported, never silently turned into wrong numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypedDict

import eth_abi
from eth_utils import to_checksum_address

from store import u256

Row = dict[str, Any]
BatchDecoder = Callable[[list["RawLog"]], list[Row]]
Hook = Callable[[Row], None]
Custom = Callable[[tuple[Any, ...]], Row]
FastPath = Callable[[bytes], Row | None]  # a custom's `fast` attribute: the columns from the body bytes, or None

_ZERO24 = "0" * 24
_BOOL = {"0" * 64: False, "0" * 63 + "1": True}
SAFE_INT = 2**53 - 1  # largest integer every DataFrame path (float64 included) keeps exact


class RawLog(TypedDict):
    """One `eth_getLogs` entry as the engine hands it over (numbers as int, hex as 0x strings)."""

    block_number: int
    block_hash: str
    block_ts: int | None
    tx_hash: str
    tx_index: int
    log_index: int
    address: str
    topics: list[str]
    data: str


@dataclass(frozen=True)
class WordsPlan:
    """A static event's layout: topic count, data words, the row's constants, and per column (name, ABI type,
    topic index or 0 for data, data word index)."""

    n_topics: int
    n_words: int
    base: Row
    words: tuple[tuple[str, str, int, int], ...]


class BadLog(ValueError):
    """A log that does not fit the ABI of the event its topic0 names."""


@lru_cache(maxsize=65536)
def checksum(hex40: str) -> str:
    """EIP-55 form of a 40-hex-digit address (cached: traders and markets repeat)."""
    return to_checksum_address("0x" + hex40)


# ---- converters of one 64-hex-digit word (a data word or a topic without 0x) into row columns ----

def _w_address(row: Row, col: str, w: str) -> None:
    if w[:24] != _ZERO24:
        raise BadLog(f"{col}: address word has non-zero high bytes")
    row[col] = checksum(w[24:].lower())


def _w_bool(row: Row, col: str, w: str) -> None:
    try:
        row[col] = _BOOL[w]
    except KeyError:
        raise BadLog(f"{col}: bool word is neither 0 nor 1") from None


def _w_u256(row: Row, col: str, w: str) -> None:
    row[col], row[col + "_f"] = u256.pair(int(w, 16))


def _w_uint(bits: int) -> Callable[[Row, str, str], None]:
    limit = 1 << bits

    def conv(row: Row, col: str, w: str) -> None:
        value = int(w, 16)
        if value >= limit:
            raise BadLog(f"{col}: {value} does not fit uint{bits}")
        row[col] = value
    return conv


def _w_fixed_bytes(size: int) -> Callable[[Row, str, str], None]:
    used, pad = 2 * size, "0" * (64 - 2 * size)

    def conv(row: Row, col: str, w: str) -> None:
        if w[used:] != pad:
            raise BadLog(f"{col}: bytes{size} word has non-zero padding")
        row[col] = "0x" + w[:used].lower()
    return conv


def word_converter(abi_type: str) -> Callable[[Row, str, str], None]:
    """The converter of one static ABI type read from a 32-byte word."""
    if abi_type == "address":
        return _w_address
    if abi_type == "bool":
        return _w_bool
    if abi_type == "uint256":
        return _w_u256
    if m := re.fullmatch(r"uint(\d+)", abi_type):
        return _w_uint(int(m.group(1)))
    if m := re.fullmatch(r"bytes(\d+)", abi_type):
        return _w_fixed_bytes(int(m.group(1)))
    raise ValueError(f"no word converter for {abi_type}")


# ---- converters of values that eth_abi decoded (strings arrive as bytes) ----

def text(value: bytes) -> str:
    """UTF-8 text of ABI string bytes; invalid sequences become U+FFFD instead of failing."""
    return value.decode("utf-8", "replace")


def _v_address(row: Row, col: str, v: str) -> None:
    row[col] = checksum(v[2:].lower())


def _v_hex(row: Row, col: str, v: bytes) -> None:
    row[col] = "0x" + v.hex()


def _v_text(row: Row, col: str, v: bytes) -> None:
    row[col] = text(v)


def _v_u256(row: Row, col: str, v: int) -> None:
    row[col], row[col + "_f"] = u256.pair(v)


def _v_plain(row: Row, col: str, v: Any) -> None:
    row[col] = v


def value_converter(abi_type: str) -> Callable[[Row, str, Any], None]:
    """The converter of one eth_abi-decoded value of a top-level (non-tuple) ABI type."""
    if abi_type == "address":
        return _v_address
    if abi_type == "string":
        return _v_text
    if abi_type == "bytes" or re.fullmatch(r"bytes\d+", abi_type):
        return _v_hex
    if abi_type == "uint256":
        return _v_u256
    if abi_type == "bool" or re.fullmatch(r"uint\d+", abi_type):
        return _v_plain
    raise ValueError(f"no value converter for {abi_type}")


# ---- ABI helpers ----

def canonical_type(param: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter, tuples (and arrays of tuples) expanded."""
    if not param["type"].startswith("tuple"):
        return str(param["type"])
    inner = ",".join(canonical_type(c) for c in param["components"])
    return f"({inner})" + param["type"][len("tuple"):]


def signature(event: dict[str, Any]) -> str:
    """The canonical signature of an ABI event, e.g. `Upgraded(address)`."""
    return f"{event['name']}({','.join(canonical_type(p) for p in event['inputs'])})"


def _as_bytes_type(abi_type: str) -> str:
    """The same type with every `string` read as `bytes` (identical encoding, no UTF-8 failure)."""
    return re.sub(r"\bstring\b", "bytes", abi_type)


# ---- the decoders ----

def _check_hex(value: str, n_bytes: int | None, what: str) -> bytes:
    """0x-prefixed hex of whole bytes (of exactly n_bytes when given); fromhex skips spaces, the length does not."""
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise BadLog(f"{what} is not hex") from None
    size = len(raw)
    if value[:2] != "0x" or 2 * size != len(value) - 2 or (n_bytes is not None and size != n_bytes):
        raise BadLog(f"{what} is not 0x-prefixed hex of {n_bytes or 'whole'} bytes")
    return raw


def _check_static_data(data: str) -> None:
    """`data` of known length is 0x-prefixed hex (int(word, 16) alone would take '_', spaces or '0x')."""
    try:
        ok = data[:2] == "0x" and 2 * len(bytes.fromhex(data[2:])) == len(data) - 2
    except ValueError:
        ok = False
    if not ok:
        raise BadLog("data is not hex: not 0x-prefixed hex of whole bytes")


def _start_data(log: RawLog, n_topics: int, base: Row) -> tuple[Row, bytes]:
    """The row with the log's own columns, and the checked `data` as bytes."""
    topics = log["topics"]
    if len(topics) != n_topics:
        raise BadLog(f"{len(topics)} topics where the event has {n_topics}")
    for t in topics:
        _check_hex(t, 32, "topic")
    data = _check_hex(log["data"], None, "data")
    row = base.copy()
    row["block_number"], row["block_hash"] = log["block_number"], log["block_hash"]
    row["block_ts"], row["tx_hash"], row["tx_index"] = log["block_ts"], log["tx_hash"], log["tx_index"]
    row["log_index"], row["address"] = log["log_index"], log["address"]
    return row, data


def _mapped(event: dict[str, Any], names: dict[str, str]) -> None:
    """Every ABI input must have a column (or be explicitly dropped with an empty name)."""
    missing = [p["name"] for p in event["inputs"] if p["name"] not in names]
    if missing:
        raise ValueError(f"{event['name']}: no column for {missing}")


def _base(event: dict[str, Any], columns: Sequence[str], consts: Row) -> Row:
    base: Row = dict.fromkeys(columns)
    base.update(consts, event=event["name"])
    unknown = set(base) - set(columns)
    if unknown:
        raise ValueError(f"{event['name']}: constants {sorted(unknown)} are not columns")
    return base


def _exact_as_u256(abi_type: str, col: str, columns: Sequence[str]) -> str:
    """A smaller uint whose table keeps a `<col>_f` twin is stored like a uint256: exact text plus float."""
    return "uint256" if abi_type.startswith("uint") and f"{col}_f" in columns else abi_type


def static_decoder(event: dict[str, Any], names: dict[str, str], columns: Sequence[str],
                   consts: Row | None = None, post: Hook | None = None) -> BatchDecoder:
    """A word-slicing batch decoder for an event whose parameters are all single words."""
    _mapped(event, names)
    base = _base(event, columns, consts or {})
    plan: list[tuple[str, str, str, int, int, Callable[[Row, str, str], None]]] = []
    words: list[tuple[str, str, int, int]] = []
    n_topics, n_words = 1, 0
    for p in event["inputs"]:
        col, abi_type = names[p["name"]], _exact_as_u256(p["type"], names[p["name"]], columns)
        at = 0 if p["indexed"] else 2 + 64 * n_words
        words += [(col, abi_type, n_topics if p["indexed"] else 0, n_words)] if col else []
        if col:  # the two hot types are inlined below; the rest call their converter
            plan.append((abi_type if abi_type in ("uint256", "address") else "", col, col + "_f",
                         n_topics if p["indexed"] else 0, at, word_converter(abi_type)))
        n_topics, n_words = n_topics + p["indexed"], n_words + (not p["indexed"])
    data_len = 2 + 64 * n_words
    u256_words = [(col, col_f, at) for hot, col, col_f, topic, at, _ in plan if hot == "uint256" and not topic]
    plan = [entry for entry in plan if entry[0] != "uint256" or entry[3]]  # the rest, one by one

    def decode(logs: list[RawLog]) -> list[Row]:
        out = []
        checked: set[str] = set()  # topics already found to be 32-byte hex in this batch (topic0 repeats)
        for log in logs:
            data, topics = log["data"], log["topics"]
            if len(topics) != n_topics:
                raise BadLog(f"{len(topics)} topics where the event has {n_topics}")
            for t in topics:
                if t not in checked:
                    _check_hex(t, 32, "topic")
                    checked.add(t)
            if len(data) != data_len:
                raise BadLog(f"data has {(len(data) - 2) // 2} bytes where the event has {(data_len - 2) // 2}")
            _check_static_data(data)
            row = base.copy()
            row["block_number"], row["block_hash"] = log["block_number"], log["block_hash"]
            row["block_ts"], row["tx_hash"], row["tx_index"] = log["block_ts"], log["tx_hash"], log["tx_index"]
            row["log_index"], row["address"] = log["log_index"], log["address"]
            for col, col_f, at in u256_words:  # 64 hex digits are always in range: u256.pair without its checks
                value = int(data[at:at + 64], 16)
                row[col], row[col_f] = str(value), float(value)
            for hot, col, col_f, topic, at, conv in plan:
                w = topics[topic][2:] if topic else data[at:at + 64]
                if hot == "uint256":  # 64 hex digits are always in range: u256.pair without its checks
                    value = int(w, 16)
                    row[col], row[col_f] = str(value), float(value)
                elif hot == "address" and w[:24] == _ZERO24:
                    row[col] = checksum(w[24:].lower())
                else:
                    conv(row, col, w)
            if post is not None:
                post(row)
            out.append(row)
        return out
    if post is None:  # what collectors.decode_columns needs to decode these logs column by column
        decode.words = WordsPlan(n_topics, n_words, base, tuple(words))  # type: ignore[attr-defined]
    return decode


def dynamic_decoder(event: dict[str, Any], names: dict[str, str], columns: Sequence[str],
                    consts: Row | None = None, post: Hook | None = None, custom: Custom | None = None) -> BatchDecoder:
    """An eth_abi batch decoder (one `decode` per log); `custom` maps nested tuples to columns itself.

    A `custom` with a `fast` attribute (a `FastPath`) is tried first on the body bytes; when it returns None
    the log goes through `eth_abi.decode` and `custom` as usual.
    """
    fast: FastPath | None = getattr(custom, "fast", None)
    if custom is None:
        _mapped(event, names)
    base = _base(event, columns, consts or {})
    topic_plan = [(names.get(p["name"], ""), word_converter(p["type"]))
                  for p in event["inputs"] if p["indexed"]]
    body = [p for p in event["inputs"] if not p["indexed"]]
    types = [_as_bytes_type(canonical_type(p)) for p in body]
    value_plan = [] if custom else [
        (names[p["name"]], value_converter(_exact_as_u256(p["type"], names[p["name"]], columns))) for p in body]
    n_topics = 1 + len(topic_plan)

    def decode(logs: list[RawLog]) -> list[Row]:
        out = []
        for log in logs:
            row, data = _start_data(log, n_topics, base)
            topics = log["topics"]
            for i, (col, conv) in enumerate(topic_plan, start=1):
                if col:
                    conv(row, col, topics[i][2:])
            fast_cols = fast(data) if fast is not None else None
            if fast_cols is not None:
                row.update(fast_cols)
            elif custom is not None:
                row.update(custom(eth_abi.decode(types, data)))
            else:
                for (col, vconv), v in zip(value_plan, eth_abi.decode(types, data), strict=True):
                    if col:
                        vconv(row, col, v)
            if post is not None:
                post(row)
            out.append(row)
        return out
    return decode
