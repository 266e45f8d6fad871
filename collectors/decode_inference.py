"""Row builders for the inference events, whose parameters are nested tuples decoded by eth_abi.

Two enums with different meanings share small numbers: the ML mode (VANILLA 0, ZKML 1, TEE 2, in
`ModelInferenceEvent.request.mode`) and the LLM mode (VANILLA 0, TEE 1, in `request[0]` of LLMChat and
LLMCompletionEvent). Each kind is labelled with its own enum, so an LLM TEE inference (1) is never
called ZKML; a number outside the enum is labelled `UNKNOWN(n)` and kept.

Strings arrive as bytes (see decode_core) and become text with invalid UTF-8 replaced. Outputs are
kept as compact JSON; tensor numbers are `[value, decimals]` with the value as exact decimal text
(int128 does not fit a JSON double).

The three request events keep only a few scalar fields, so each has a `fast` reader that walks the ABI
head/tail offsets of the body bytes to just those fields (32-byte words; dynamic values are offsets relative
to the start of their enclosing tuple; a string is a length word and its zero-padded bytes). Every read is
bounds-checked and stricter than the encoding requires (word-aligned offsets past the head, zero padding);
when a check fails the reader returns None and the log goes through `eth_abi.decode` as before. Parts the
reader does not visit (inputs, responses) are not validated: a log damaged only there decodes instead of
being reported. The result events keep their whole output as JSON; their fast readers (collectors.decode_walk)
walk and check the whole output, so what they accept is exactly what eth_abi decodes, to the same JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from collectors.decode_core import Custom, FastPath, Row, text
from collectors.decode_walk import Miss, chat_response, completion_response, model_output, string, tail, uint

ML_MODES = {0: "VANILLA", 1: "ZKML", 2: "TEE"}
LLM_MODES = {0: "VANILLA", 1: "TEE"}


def mode_label(labels: dict[int, str], value: int) -> str:
    """The enum label of a mode number, or `UNKNOWN(n)` for a number the enum does not have."""
    return labels.get(value, f"UNKNOWN({value})")


def _dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is: `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`.

    orjson writes the same text about 6x faster (checked on the benchmark's 30,000 outputs and on control
    characters, quotes, U+2028/9 and astral text); it refuses integers beyond 64 bits (int128 decimals can be),
    and such a value goes through `json` instead.
    """
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _model_output(out: tuple[Any, ...]) -> dict[str, Any]:
    numbers, strings, jsons, simulated = out
    return {
        "numbers": [{"name": text(name), "values": [[str(v), d] for v, d in values], "shape": list(shape)}
                    for name, values, shape in numbers],
        "strings": [{"name": text(name), "values": [text(s) for s in values]} for name, values in strings],
        "jsons": [{"name": text(name), "value": text(value)} for name, value in jsons],
        "is_simulation_result": simulated,
    }


def _message(msg: tuple[Any, ...]) -> dict[str, Any]:
    role, content, name, tool_call_id, calls = msg
    return {"role": text(role), "content": text(content), "name": text(name), "tool_call_id": text(tool_call_id),
            "tool_calls": [{"id": text(i), "name": text(n), "arguments": text(a)} for i, n, a in calls]}


def _request(kind: str, labels: dict[int, str], inference_id: bytes, request: tuple[Any, ...]) -> Row:
    mode = request[0]
    return {"inference_id": text(inference_id), "kind": kind, "mode_int": mode, "mode": mode_label(labels, mode),
            "model": text(request[1])}


# ---- fast readers (see the module docstring and collectors.decode_walk) ----

def _fast_request(kind: str, labels: dict[int, str], request_words: int, data: bytes) -> Row:
    """inferenceID, mode and model of `(string inferenceID, request, response)` where request = (uint8, string, ...)."""
    request = tail(data, 0, 1, 3)
    mode = uint(data, request, 8)
    return {"inference_id": string(data, tail(data, 0, 0, 3)), "kind": kind, "mode_int": mode,
            "mode": mode_label(labels, mode), "model": string(data, tail(data, request, 1, request_words))}


def _fast_ml(data: bytes) -> Row:
    # ModelOutput = (NumberTensor[], StringTensor[], JsonScalar[], bool): the flag is its 4th head word
    simulated = uint(data, tail(data, 0, 2, 3) + 96, 1)
    return _fast_request("ml", ML_MODES, 3, data) | {"is_simulation_result": simulated == 1}


def _fast_path(read: Callable[[bytes], Row]) -> Callable[[Custom], Custom]:
    """Attach `read` (returning None instead of raising Miss) as the `fast` attribute of a custom mapper."""
    def fast(data: bytes) -> Row | None:
        try:
            return read(data)
        except Miss:
            return None

    def attach(custom: Custom) -> Custom:
        checked: FastPath = fast
        custom.fast = checked  # type: ignore[attr-defined]
        return custom
    return attach


@_fast_path(_fast_ml)
def ml_inference(values: tuple[Any, ...]) -> Row:
    """ModelInferenceEvent(inferenceID, (mode, modelCID, input), ModelOutput) -> inference columns."""
    inference_id, request, response = values
    return _request("ml", ML_MODES, inference_id, request) | {"is_simulation_result": response[-1]}


@_fast_path(lambda data: _fast_request("llm_chat", LLM_MODES, 8, data))
def llm_chat(values: tuple[Any, ...]) -> Row:
    """LLMChat(inferenceID, LLMChatRequest, LLMChatResponse) -> inference columns."""
    return _request("llm_chat", LLM_MODES, values[0], values[1])


@_fast_path(lambda data: _fast_request("llm_completion", LLM_MODES, 6, data))
def llm_completion(values: tuple[Any, ...]) -> Row:
    """LLMCompletionEvent(inferenceID, LLMCompletionRequest, LLMCompletionResponse) -> inference columns."""
    return _request("llm_completion", LLM_MODES, values[0], values[1])


def _fast_ml_result(data: bytes) -> Row:
    out = model_output(data, tail(data, 0, 0, 1))
    return {"kind": "ml", "is_simulation_result": out["is_simulation_result"], "output_json": _dumps(out)}


@_fast_path(_fast_ml_result)
def ml_result(values: tuple[Any, ...]) -> Row:
    """InferenceResult(ModelOutput) or InferenceResultEmitted's ModelOutput -> result columns."""
    out = values[0]
    return {"kind": "ml", "is_simulation_result": out[-1], "output_json": _dumps(_model_output(out))}


@_fast_path(lambda data: {"kind": "llm_chat", "output_json": _dumps(chat_response(data, tail(data, 0, 0, 1)))})
def llm_chat_result(values: tuple[Any, ...]) -> Row:
    """LLMChatResult((finish_reason, ChatMessage)) -> result columns."""
    finish_reason, message = values[0]
    return {"kind": "llm_chat", "output_json": _dumps({"finish_reason": text(finish_reason)} | _message(message))}


@_fast_path(lambda data: {"kind": "llm_completion",
                          "output_json": _dumps(completion_response(data, tail(data, 0, 0, 1)))})
def llm_completion_result(values: tuple[Any, ...]) -> Row:
    """LLMCompletionResult((answer,)) -> result columns."""
    return {"kind": "llm_completion", "output_json": _dumps({"answer": text(values[0][0])})}
