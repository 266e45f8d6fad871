"""What the JSON-RPC fault proxy does to one exchange: fault settings, the seeded schedule, per-call rules.

The HTTP side lives in devnet/faultproxy.py; this module only sees bytes, decoded JSON-RPC calls and a
function that posts bytes upstream. Per-call rules (hidden traces, block range, state window, too many
logs, stale head, batch size) answer inside a batch with one JSON-RPC error per refused call and leave
the other calls of the batch to the upstream node; exchange-wide faults (delay, hang, 429, 5xx, torn or
malformed body, HTTP 413) hit the whole HTTP exchange.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TOO_MANY_MODES = ("rpc-32005", "rpc-32602", "http-413")
TORN_MODES = ("truncated", "short-read")
STATUS_5XX = (502, 503, 500)
# Methods that read state at a block, and where their block parameter is.
STATE_METHODS = {"eth_call": 1, "eth_getBalance": 1, "eth_getCode": 1, "eth_getStorageAt": 2}
HEAD_TAGS = ("latest", "pending", "safe", "finalized")
# Exchange-wide random faults in the order they take precedence when several fire at once.
HTTP_FAULTS = ("timeout", "http_429", "http_5xx", "torn_body", "malformed_json")
FAULT_KINDS = ("delay", *HTTP_FAULTS, "too_many_logs", "block_range", "stale_head", "hide_traces",
               "state_window", "max_batch")
COUNTERS = ("http_requests", "calls", "forwarded", "upstream_errors", *FAULT_KINDS)

Post = Callable[[bytes], tuple[int, str, bytes]]  # body upstream -> (status, content type, body)


@dataclass(frozen=True)
class Faults:
    """Which faults the proxy injects; everything is off by default. Rates are shares in [0, 1].

    Exchange-wide (random, `only_methods` filters them): delay_s added with delay_rate; a hang of hang_s
    then a dropped connection; HTTP 429 with Retry-After: 1; HTTP 502/503/500; the upstream answer cut in
    half (torn_mode "truncated": Content-Length of the cut, "short-read": of the whole) then closed; 200
    with an HTML body. Per call: eth_blockNumber lagging stale_by (random); eth_getLogs over max_logs
    results (-32005 / -32602 / HTTP 413 per too_many_mode) or over max_block_range blocks (-32600);
    trace_* and debug_trace* hidden (-32601); state reads older than head - state_window (-32000); a batch
    over max_batch calls gets -32600 "batch too large" for every call (HTTP 200, nothing forwarded).
    """

    seed: int = 0
    delay_s: float = 0.0
    delay_rate: float = 0.0
    timeout_rate: float = 0.0
    hang_s: float = 15.0
    http_429_rate: float = 0.0
    http_5xx_rate: float = 0.0
    torn_body_rate: float = 0.0
    torn_mode: str = "truncated"
    malformed_json_rate: float = 0.0
    max_logs: int | None = None
    too_many_mode: str = "rpc-32005"
    max_block_range: int | None = None
    stale_head_rate: float = 0.0
    stale_by: int = 5
    hide_traces: bool = False
    state_window: int | None = None
    max_batch: int | None = None
    only_methods: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], not {value}")
        if self.too_many_mode not in TOO_MANY_MODES:
            raise ValueError(f"too_many_mode must be one of {TOO_MANY_MODES}, not {self.too_many_mode!r}")
        if self.torn_mode not in TORN_MODES:
            raise ValueError(f"torn_mode must be one of {TORN_MODES}, not {self.torn_mode!r}")
        if min(self.delay_s, self.hang_s, self.stale_by) < 0:
            raise ValueError("delay_s, hang_s and stale_by must not be negative")

    def applies(self, methods: set[str]) -> bool:
        """Whether random faults may hit an exchange carrying these methods (`only_methods`)."""
        return self.only_methods is None or bool(methods & self.only_methods)


@dataclass
class Plan:
    """What the seeded schedule drew for one HTTP exchange; per-call draws come from its own generator."""

    rng: random.Random
    draws: tuple[float, ...]
    status_5xx: int

    @classmethod
    def draw(cls, schedule: random.Random) -> Plan:
        """Draw the next exchange's plan; call in arrival order under the proxy's lock."""
        rng = random.Random(schedule.getrandbits(64))
        return cls(rng, tuple(rng.random() for _ in range(1 + len(HTTP_FAULTS))), rng.choice(STATUS_5XX))

    def delayed(self, faults: Faults, methods: set[str]) -> bool:
        """Whether this exchange gets `delay_s` of added latency."""
        return faults.delay_s > 0 and self.draws[0] < faults.delay_rate and faults.applies(methods)

    def http_fault(self, faults: Faults, methods: set[str]) -> str | None:
        """The exchange-wide fault that fires (first of HTTP_FAULTS whose draw is under its rate), if any."""
        if not faults.applies(methods):
            return None
        rates = (faults.timeout_rate, faults.http_429_rate, faults.http_5xx_rate, faults.torn_body_rate,
                 faults.malformed_json_rate)
        return next((k for k, u, r in zip(HTTP_FAULTS, self.draws[1:], rates, strict=True) if u < r), None)


def rpc_error(call: Any, code: int, message: str) -> dict[str, Any]:
    """A JSON-RPC error reply to a call."""
    ident = call.get("id") if isinstance(call, dict) else None
    return {"jsonrpc": "2.0", "id": ident, "error": {"code": code, "message": message}}


class Upstream:
    """Single calls to the upstream node for what the rules must know (head, block of a hash), cached."""

    def __init__(self, post: Post):
        self.post = post
        self._head: int | None = None

    def call(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call upstream; its result, or None on any failure."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        try:
            reply = json.loads(self.post(body)[2])
        except ValueError:
            return None
        return reply.get("result") if isinstance(reply, dict) else None

    def head(self) -> int:
        """The upstream head block number (asked once per exchange)."""
        if self._head is None:
            self._head = _int(self.call("eth_blockNumber", [])) or 0
        return self._head


def _int(value: Any) -> int | None:
    """An integer from a JSON-RPC quantity (hex string or number), None if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(value, 16) if isinstance(value, str) and value.startswith("0x") else None
    except ValueError:
        return None


def block_of(tag: Any, up: Upstream, default: str = "latest") -> int | None:
    """The block number a block parameter names (tag, quantity or EIP-1898 object); None if unknown."""
    tag = default if tag is None else tag
    if isinstance(tag, dict):
        if "blockHash" in tag:
            block = up.call("eth_getBlockByHash", [tag["blockHash"], False])
            return _int(block.get("number")) if isinstance(block, dict) else None
        return block_of(tag.get("blockNumber"), up, default)
    if tag in HEAD_TAGS:
        return up.head()
    return 0 if tag == "earliest" else _int(tag)


def refuse(call: dict[str, Any], faults: Faults, up: Upstream) -> tuple[str, dict[str, Any]] | None:
    """A deterministic refusal of one call before it goes upstream: (fault kind, error reply), or None."""
    method, params = call.get("method"), call.get("params")
    params = params if isinstance(params, list) else []
    if not isinstance(method, str):
        return None
    if faults.hide_traces and method.startswith(("trace_", "debug_trace")):
        return "hide_traces", rpc_error(call, -32601, f"the method {method} does not exist/is not available")
    if method == "eth_getLogs" and faults.max_block_range is not None and params and isinstance(params[0], dict):
        flt = params[0]
        low, high = block_of(flt.get("fromBlock"), up), block_of(flt.get("toBlock"), up)
        if "blockHash" not in flt and low is not None and high is not None:
            if high - low + 1 > faults.max_block_range:
                return "block_range", rpc_error(call, -32600, f"block range too large: {high - low + 1} blocks "
                                                f"requested, at most {faults.max_block_range} allowed")
    if method in STATE_METHODS and faults.state_window is not None:
        index = STATE_METHODS[method]
        block = block_of(params[index] if len(params) > index else None, up)
        if block is not None and block < up.head() - faults.state_window:
            node = hashlib.sha256(f"trie/{block}".encode()).hexdigest()
            return "state_window", rpc_error(call, -32000, f"missing trie node {node} (state not available)")
    return None


def rewrite(call: Any, reply: Any, faults: Faults, stale: bool) -> tuple[str | None, Any]:
    """Apply the answer-side rules (too many logs, stale head) to one upstream reply: (fault kind, reply)."""
    method = call.get("method") if isinstance(call, dict) else None
    result = reply.get("result") if isinstance(reply, dict) else None
    if method == "eth_getLogs" and faults.max_logs is not None and isinstance(result, list):
        if len(result) > faults.max_logs:
            if faults.too_many_mode == "rpc-32005":
                return "too_many_logs", rpc_error(call, -32005, f"query returned more than {faults.max_logs} results")
            return "too_many_logs", rpc_error(call, -32602, "Log response size exceeded")
    if method == "eth_blockNumber" and stale and (head := _int(result)) is not None:
        return "stale_head", {**reply, "result": hex(max(0, head - faults.stale_by))}
    return None, reply


def _merge(calls: list[Any], pending: list[int], got: list[Any], replies: list[Any]) -> None:
    """Place upstream replies for the pending calls: by position when counts match, else by id."""
    if len(got) == len(pending):
        for i, reply in zip(pending, got, strict=True):
            replies[i] = reply
        return
    by_id = {json.dumps(r.get("id")): r for r in got if isinstance(r, dict)}
    for i in pending:
        call = calls[i]
        replies[i] = by_id.get(json.dumps(call.get("id"))) if isinstance(call, dict) else None


def _plain(faults: Faults) -> bool:
    """Whether no per-call rule is configured, so the upstream answer can be relayed untouched."""
    return (faults.max_logs is None and faults.max_block_range is None and not faults.hide_traces
            and faults.state_window is None and faults.max_batch is None and faults.stale_head_rate == 0)


def answer(raw: bytes, faults: Faults, plan: Plan, post: Post) -> tuple[int, str, bytes, list[str]]:
    """Answer one HTTP exchange's body under the per-call rules: (status, content type, body, faults fired)."""
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if _plain(faults) or not isinstance(payload, dict | list) or payload == []:
        return (*post(raw), [])
    batch = isinstance(payload, list)
    calls: list[Any] = payload if isinstance(payload, list) else [payload]
    if batch and faults.max_batch is not None and len(calls) > faults.max_batch:
        errors = [rpc_error(c, -32600, "batch too large") for c in calls]
        return 200, "application/json", json.dumps(errors).encode(), ["max_batch"] * len(calls)
    up, fired = Upstream(post), []
    replies: list[Any] = [None] * len(calls)
    pending = []
    for i, call in enumerate(calls):
        refused = refuse(call, faults, up) if isinstance(call, dict) else None
        if refused is None:
            pending.append(i)
        else:
            fired.append(refused[0])
            replies[i] = refused[1]
    if pending:
        sub = [calls[i] for i in pending]
        status, ctype, body = post(json.dumps(sub if batch else sub[0]).encode())
        try:
            got = json.loads(body)
        except ValueError:
            return status, ctype, body, fired
        if status != 200 or isinstance(got, list) != batch:
            return status, ctype, body, fired
        _merge(calls, pending, got if batch else [got], replies)
    for i, call in enumerate(calls):
        method = call.get("method") if isinstance(call, dict) else None
        stale = plan.rng.random() < faults.stale_head_rate and faults.applies({str(method)})
        kind, replies[i] = rewrite(call, replies[i], faults, stale and i in pending)
        if kind is not None:
            fired.append(kind)
    if "too_many_logs" in fired and faults.too_many_mode == "http-413":
        return 413, "text/plain", b"413 Request Entity Too Large: response size exceeded\n", fired
    out = [r for r in replies if r is not None]
    return 200, "application/json", json.dumps(out if batch else (out[0] if out else None)).encode(), fired
