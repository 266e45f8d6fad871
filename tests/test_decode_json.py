"""The inference outputs' JSON text: the fast writer gives exactly what `json.dumps` gives, big integers included."""

from __future__ import annotations

import json
import random

from collectors.decode_inference import _dumps


def _reference(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_same_text_as_json_on_awkward_strings_and_numbers() -> None:
    strings = ["", "\x00\x01\x1f\x7f", '"\\/\b\f\n\r\t', "é\u2028\u2029\ufffd", "😀 astral", "\ud7ff\ue000", "a" * 300]
    numbers = [0, -1, 2**63 - 1, -(2**63), 2**64 - 1]
    for s in strings:
        for n in numbers:
            value = {"name": s, "values": [[str(n), n]], "shape": [1, 2], "ok": n > 0, "none": None}
            assert _dumps(value) == _reference(value)


def test_integers_beyond_64_bits_fall_back_to_json() -> None:
    for n in [2**64, -(2**63) - 1, 2**127 - 1, -(2**127)]:
        value = {"numbers": [{"name": "x", "values": [["1", n]], "shape": [1]}]}
        assert _dumps(value) == _reference(value)
        assert str(n) in _dumps(value)


def test_random_text_matches() -> None:
    rng = random.Random(5)
    for _ in range(500):
        text = "".join(chr(rng.choice([rng.randrange(0, 0x80), rng.randrange(0x80, 0xD800),
                                       rng.randrange(0xE000, 0x110000)])) for _ in range(rng.randrange(0, 40)))
        value = {"answer": text, "tool_calls": [{"id": text[::-1], "arguments": text}]}
        assert _dumps(value) == _reference(value)
