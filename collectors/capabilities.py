"""What a node can do: traces, how far back its state goes, batch size, timestamps in logs.

Detected once per network when collection starts and stored, so pages can say what could not be
checked (for example fee history older than the node's state window).
"""

from __future__ import annotations

from typing import Any

from collectors.pool import RpcPool
from collectors.rpc import RpcError

METHOD_MISSING = {-32601, -32600}
STATE_PROBES = (128, 1_024, 4_096, 16_384, 65_536, 262_144)  # depths tried, shallow to deep
BATCH_PROBES = (10, 50, 100)
ZERO = "0x" + "00" * 20


def _answers(pool: RpcPool, method: str, params: list[Any]) -> bool:
    """Whether the node implements a method (an error other than 'method missing' counts as yes)."""
    try:
        pool.call(method, params)
        return True
    except RpcError as err:
        return not (err.kind == "rpc" and err.code in METHOD_MISSING) and err.kind == "rpc"


def _has_state(pool: RpcPool, block: int) -> bool:
    try:
        pool.call("eth_getBalance", [ZERO, hex(block)])
        return True
    except RpcError:
        return False


def state_depth(pool: RpcPool, head: int) -> int | None:
    """How many blocks back the node still answers state queries; None when it reaches genesis."""
    if _has_state(pool, 0):
        return None
    ok, bad = 0, head
    for depth in STATE_PROBES:  # coarse: find a depth that fails
        if depth >= head:
            break
        if not _has_state(pool, head - depth):
            bad = depth
            break
        ok = depth
    while bad - ok > 1:  # then bisect between the last good and the first bad depth
        mid = (ok + bad) // 2
        ok, bad = (mid, bad) if _has_state(pool, head - mid) else (ok, mid)
    return ok


def max_batch(pool: RpcPool) -> int:
    """The largest probed batch the node answers in full."""
    best = 1
    for n in BATCH_PROBES:
        try:
            pool.batch([("eth_chainId", [])] * n)
            best = n
        except RpcError:
            break
    return best


def detect(pool: RpcPool, head: int) -> dict[str, Any]:
    """Probe a node; cheap (a dozen calls), done once per network per process."""
    lo = max(0, head - 1)
    return {
        "traces": _answers(pool, "trace_filter", [{"fromBlock": hex(lo), "toBlock": hex(head)}]),
        "debug_trace": _answers(pool, "debug_traceTransaction", ["0x" + "00" * 32, {}]),
        "state_depth": state_depth(pool, head),
        "max_batch": max_batch(pool),
        "block_timestamps_in_logs": False,  # learned from the first logs fetched (engine)
    }
