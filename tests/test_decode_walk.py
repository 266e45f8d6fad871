"""The offset-walking fast paths of the inference result events equal eth_abi: on random outputs encoded by
eth_abi, and on damaged bodies, where the fast path either gives up (eth_abi then decides) or agrees with
eth_abi exactly."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from eth_abi import decode, encode

from collectors import decode_inference as inf
from collectors.decode_core import FastPath, Row
from collectors.events import CHAT_RESPONSE, COMPLETION_RESPONSE, MODEL_OUTPUT

I128 = 2**127
STRINGS = [b"", b"x", b"QmModel", "\u00e9t\u00e9 \u2713".encode(), b"\xff\xc3 bad utf-8", b"y" * 32, b"z" * 33,
           "long \u2603 ".encode() * 20, b'{"a":[1,2]}']


def as_bytes(abi_type: str) -> str:
    return re.sub(r"\bstring\b", "bytes", abi_type)


def rand_str(rng: random.Random) -> bytes:
    return rng.choice(STRINGS) if rng.random() < 0.7 else rng.randbytes(rng.randrange(0, 80))


def rand_int128(rng: random.Random) -> int:
    return rng.choice([-I128, I128 - 1, 0, -1, 1, rng.randrange(-I128, I128), rng.randrange(-1000, 1000)])


def model_output(rng: random.Random) -> tuple[Any, ...]:
    numbers = [(rand_str(rng), [(rand_int128(rng), rand_int128(rng)) for _ in range(rng.randrange(0, 6))],
                [rng.choice([0, 1, 7, 2**32 - 1]) for _ in range(rng.randrange(0, 4))])
               for _ in range(rng.randrange(0, 4))]
    strings = [(rand_str(rng), [rand_str(rng) for _ in range(rng.randrange(0, 4))]) for _ in range(rng.randrange(0, 3))]
    jsons = [(rand_str(rng), rand_str(rng)) for _ in range(rng.randrange(0, 3))]
    return numbers, strings, jsons, rng.random() < 0.5


def chat_response(rng: random.Random) -> tuple[Any, ...]:
    calls = [(rand_str(rng), rand_str(rng), rand_str(rng)) for _ in range(rng.randrange(0, 3))]
    return rand_str(rng), (rand_str(rng), rand_str(rng), rand_str(rng), rand_str(rng), calls)


KINDS: list[tuple[str, Any, Any]] = [
    (MODEL_OUTPUT, inf.ml_result, model_output),
    (CHAT_RESPONSE, inf.llm_chat_result, chat_response),
    (COMPLETION_RESPONSE, inf.llm_completion_result, lambda rng: (rand_str(rng),)),
]


def slow(abi_type: str, custom: Any, data: bytes) -> Row:
    """What the eth_abi path makes of the body (raises when eth_abi refuses it)."""
    return dict(custom(decode([as_bytes(abi_type)], data)))


def fast_of(custom: Any) -> FastPath:
    fast: FastPath = custom.fast
    return fast


@pytest.mark.parametrize(("abi_type", "custom", "make"), KINDS, ids=["ml", "chat", "completion"])
def test_fast_path_equals_eth_abi_on_random_outputs(abi_type: str, custom: Any, make: Any) -> None:
    rng = random.Random(abi_type)
    for _ in range(300):
        data = encode([as_bytes(abi_type)], [make(rng)])
        got = fast_of(custom)(data)
        assert got is not None and got == slow(abi_type, custom, data)


@pytest.mark.parametrize(("abi_type", "custom", "make"), KINDS, ids=["ml", "chat", "completion"])
def test_damaged_bodies_fall_back_or_agree(abi_type: str, custom: Any, make: Any) -> None:
    rng, accepted, refused = random.Random(7), 0, 0
    for _ in range(400):
        body = bytearray(encode([as_bytes(abi_type)], [make(rng)]))
        for _ in range(rng.randrange(1, 3)):  # flip a byte, preferring the last bytes of words (offsets, lengths)
            at = rng.randrange(len(body)) if rng.random() < 0.5 else rng.randrange(len(body) // 32) * 32 + 31
            body[at] ^= 1 << rng.randrange(8)
        data = bytes(body[:rng.randrange(len(body))] if rng.random() < 0.1 else body)
        got = fast_of(custom)(data)
        if got is None:
            refused += 1
            continue
        accepted += 1
        assert got == slow(abi_type, custom, data)
    assert accepted and refused


def _ml_body(flag: bool = True) -> bytes:
    return encode([as_bytes(MODEL_OUTPUT)], [([(b"t", [(-5, 2)], [1])], [(b"s", [b"v"])], [(b"j", b"{}")], flag)])


def _patched(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1
    return data.replace(old, new)


def test_what_eth_abi_refuses_the_fast_path_refuses() -> None:
    body = _ml_body()
    minus5 = (-5).to_bytes(32, "big", signed=True)
    cases = {
        "int128 not sign-extended": _patched(body, minus5, b"\x00" + minus5[1:]),
        "bool 2": body[:32 + 96] + (2).to_bytes(32, "big") + body[32 + 128:],
        "string padding": _patched(body, b"{}" + b"\x00" * 30, b"{}" + b"\x00" * 29 + b"\x01"),
        "offset into the head": body[:32 + 32] + (32).to_bytes(32, "big") + body[32 + 64:],
        "truncated": body[:-32],
    }
    for name, data in cases.items():
        assert inf.ml_result.fast(data) is None, name  # type: ignore[attr-defined]
        with pytest.raises(Exception):  # noqa: B017, PT011 - any eth_abi decoding error
            slow(MODEL_OUTPUT, inf.ml_result, data)
    assert inf.ml_result.fast(_ml_body(False))["is_simulation_result"] is False  # type: ignore[attr-defined]
