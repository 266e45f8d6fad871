"""Reading ABI-encoded bodies by walking head/tail offsets, without eth_abi: the inference fast paths.

The body is bytes of 32-byte words. A dynamic value's head word is an offset relative to the start of
its enclosing tuple (or, for array elements, to the word after the array's length); a string or bytes
value is a length word and its bytes, zero-padded to whole words; `T[]` is a length word and its items
(inline for a static T, else one offset word per item).

Every read here is bounds-checked and at least as strict as `eth_abi.decode(..., strict=True)`: offsets
must point past the head and be word-aligned, padding must be zero, integers must fit their type
(int128 sign-extended, uint32/uint8 with zero high bytes), bools must be 0 or 1. When a check fails the
reader raises `Miss` and the caller hands the log to eth_abi instead, which decodes it or reports why
not. So a body that the walker accepts is one eth_abi decodes to the same values.
"""

from __future__ import annotations

from typing import Any

from collectors.decode_core import text

_I128_MIN, _I128_END = -(2**127), 2**127


class Miss(Exception):
    """The body does not have the plain shape the walker accepts: use eth_abi instead."""


def uint(data: bytes, at: int, bits: int) -> int:
    """The unsigned word at byte `at`, which must be below 2**bits."""
    if at + 32 > len(data):
        raise Miss
    value = int.from_bytes(data[at:at + 32], "big")
    if value >> bits:
        raise Miss
    return value


def tail(data: bytes, tuple_at: int, index: int, head_words: int) -> int:
    """Where the dynamic field `index` of the tuple starting at `tuple_at` (head of head_words words) starts."""
    offset = uint(data, tuple_at + 32 * index, 32)
    if offset % 32 or offset < 32 * head_words:
        raise Miss
    return tuple_at + offset


def raw_string(data: bytes, at: int) -> bytes:
    """The bytes of the string (or bytes) value starting at `at`."""
    size = uint(data, at, 32)
    end = at + 32 + size
    padded = at + 32 + -(-size // 32) * 32
    if padded > len(data) or data.count(0, end, padded) != padded - end:
        raise Miss
    return data[at + 32:end]


def string(data: bytes, at: int) -> str:
    """The text of the string value starting at `at` (invalid UTF-8 replaced, as decode_core.text does)."""
    return text(raw_string(data, at))


def elements(data: bytes, at: int) -> list[int]:
    """Where each item of the array of dynamic items starting at `at` starts."""
    n = uint(data, at, 32)
    base = at + 32
    if base + 32 * n > len(data):
        raise Miss
    return [tail(data, base, i, n) for i in range(n)]


def static_items(data: bytes, at: int, words: int) -> tuple[int, int]:
    """(number of items, where the first starts) of an array of static items of `words` words each."""
    n = uint(data, at, 32)
    base = at + 32
    if base + 32 * words * n > len(data):
        raise Miss
    return n, base


def int128(data: bytes, at: int) -> int:
    """The int128 word at `at` (already bounds-checked by the caller), sign extension checked."""
    value = int.from_bytes(data[at:at + 32], "big", signed=True)
    if not _I128_MIN <= value < _I128_END:
        raise Miss
    return value


# ---- ModelOutput = (NumberTensor[], StringTensor[], JsonScalar[], bool) ----
# NumberTensor = (string name, (int128 value, int128 decimals)[] values, uint32[] shape)
# StringTensor = (string name, string[] values); JsonScalar = (string name, string value)

def _number_tensor(data: bytes, at: int) -> dict[str, Any]:
    n, base = static_items(data, tail(data, at, 1, 3), 2)
    values = [[str(int128(data, p)), int128(data, p + 32)] for p in range(base, base + 64 * n, 64)]
    k, sbase = static_items(data, tail(data, at, 2, 3), 1)
    shape = [uint(data, p, 32) for p in range(sbase, sbase + 32 * k, 32)]
    return {"name": string(data, tail(data, at, 0, 3)), "values": values, "shape": shape}


def _string_tensor(data: bytes, at: int) -> dict[str, Any]:
    values = [string(data, p) for p in elements(data, tail(data, at, 1, 2))]
    return {"name": string(data, tail(data, at, 0, 2)), "values": values}


def _json_scalar(data: bytes, at: int) -> dict[str, Any]:
    return {"name": string(data, tail(data, at, 0, 2)), "value": string(data, tail(data, at, 1, 2))}


def model_output(data: bytes, at: int) -> dict[str, Any]:
    """The ModelOutput tuple starting at `at`, as `decode_inference` keeps it (before JSON)."""
    numbers = [_number_tensor(data, p) for p in elements(data, tail(data, at, 0, 4))]
    strings = [_string_tensor(data, p) for p in elements(data, tail(data, at, 1, 4))]
    jsons = [_json_scalar(data, p) for p in elements(data, tail(data, at, 2, 4))]
    return {"numbers": numbers, "strings": strings, "jsons": jsons, "is_simulation_result": uint(data, at + 96, 1) == 1}


# ---- LLM results: ChatResponse = (string finish_reason, ChatMessage); CompletionResponse = (string answer) ----
# ChatMessage = (string role, string content, string name, string tool_call_id, (string id, string name,
# string arguments)[] tool_calls)

def _tool_call(data: bytes, at: int) -> dict[str, str]:
    return {"id": string(data, tail(data, at, 0, 3)), "name": string(data, tail(data, at, 1, 3)),
            "arguments": string(data, tail(data, at, 2, 3))}


def chat_response(data: bytes, at: int) -> dict[str, Any]:
    """The ChatResponse tuple starting at `at`, as `decode_inference` keeps it (before JSON)."""
    finish_reason = string(data, tail(data, at, 0, 2))
    msg = tail(data, at, 1, 2)
    role, content, name, call_id = (string(data, tail(data, msg, i, 5)) for i in range(4))
    calls = [_tool_call(data, p) for p in elements(data, tail(data, msg, 4, 5))]
    return {"finish_reason": finish_reason, "role": role, "content": content, "name": name,
            "tool_call_id": call_id, "tool_calls": calls}


def completion_response(data: bytes, at: int) -> dict[str, Any]:
    """The CompletionResponse tuple starting at `at`, as `decode_inference` keeps it (before JSON)."""
    return {"answer": string(data, tail(data, at, 0, 1))}
