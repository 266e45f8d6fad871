"""Row builders for the inference events, whose parameters are nested tuples decoded by eth_abi.

Two enums with different meanings share small numbers: the ML mode (VANILLA 0, ZKML 1, TEE 2, in
`ModelInferenceEvent.request.mode`) and the LLM mode (VANILLA 0, TEE 1, in `request[0]` of LLMChat and
LLMCompletionEvent). Each kind is labelled with its own enum, so an LLM TEE inference (1) is never
called ZKML; a number outside the enum is labelled `UNKNOWN(n)` and kept.

Strings arrive as bytes (see decode_core) and become text with invalid UTF-8 replaced. Outputs are
kept as compact JSON; tensor numbers are `[value, decimals]` with the value as exact decimal text
(int128 does not fit a JSON double).
"""

from __future__ import annotations

import json
from typing import Any

from collectors.decode_core import Row, text

ML_MODES = {0: "VANILLA", 1: "ZKML", 2: "TEE"}
LLM_MODES = {0: "VANILLA", 1: "TEE"}


def mode_label(labels: dict[int, str], value: int) -> str:
    """The enum label of a mode number, or `UNKNOWN(n)` for a number the enum does not have."""
    return labels.get(value, f"UNKNOWN({value})")


def _dumps(value: Any) -> str:
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


def ml_inference(values: tuple[Any, ...]) -> Row:
    """ModelInferenceEvent(inferenceID, (mode, modelCID, input), ModelOutput) -> inference columns."""
    inference_id, request, response = values
    return _request("ml", ML_MODES, inference_id, request) | {"is_simulation_result": response[-1]}


def llm_chat(values: tuple[Any, ...]) -> Row:
    """LLMChat(inferenceID, LLMChatRequest, LLMChatResponse) -> inference columns."""
    return _request("llm_chat", LLM_MODES, values[0], values[1])


def llm_completion(values: tuple[Any, ...]) -> Row:
    """LLMCompletionEvent(inferenceID, LLMCompletionRequest, LLMCompletionResponse) -> inference columns."""
    return _request("llm_completion", LLM_MODES, values[0], values[1])


def ml_result(values: tuple[Any, ...]) -> Row:
    """InferenceResult(ModelOutput) or InferenceResultEmitted's ModelOutput -> result columns."""
    out = values[0]
    return {"kind": "ml", "is_simulation_result": out[-1], "output_json": _dumps(_model_output(out))}


def llm_chat_result(values: tuple[Any, ...]) -> Row:
    """LLMChatResult((finish_reason, ChatMessage)) -> result columns."""
    finish_reason, message = values[0]
    return {"kind": "llm_chat", "output_json": _dumps({"finish_reason": text(finish_reason)} | _message(message))}


def llm_completion_result(values: tuple[Any, ...]) -> Row:
    """LLMCompletionResult((answer,)) -> result columns."""
    return {"kind": "llm_completion", "output_json": _dumps({"answer": text(values[0][0])})}
