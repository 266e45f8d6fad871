"""Pure pairing of one transaction's inference logs: precompile event, hub result, workflow repeat, caller.

Bytes-free and node-free: inputs are the stored log rows of one transaction and, when the node has
traces, its calls in a flat form (`Call`). Rules:

- each precompile log is paired with the next hub result of the same kind after it (log order within the
  transaction; several inferences per transaction happen);
- a workflow's `InferenceResultEmitted` repeats the ML inference just before it: it is linked to that
  inference, never counted as one of its own;
- the caller is the contract that called the hub (from the call tree: the caller of each successful call
  into the precompile, looking through the hub), NULL when an account called the hub directly; without a
  usable call tree it is the transaction's `to` (precision `tx_to`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WORKFLOW_EVENT = "InferenceResultEmitted"


@dataclass(frozen=True)
class InferenceLog:
    """A precompile inference log of the transaction."""

    log_index: int
    kind: str


@dataclass(frozen=True)
class ResultLog:
    """A hub result or a workflow's InferenceResultEmitted of the transaction."""

    log_index: int
    kind: str
    event: str
    address: str


@dataclass(frozen=True)
class Pairing:
    """What an inference log is paired with."""

    log_index: int
    position: int
    result_log_index: int | None
    workflow_log_index: int | None
    workflow: str | None


@dataclass(frozen=True)
class Call:
    """One call of the transaction's call tree: its place (execution order when sorted) and whether it is inert:
    it or an enclosing call failed or was static, so it cannot have left an event."""

    path: tuple[int, ...]
    frm: str
    to: str
    inert: bool


def pair(infs: Sequence[InferenceLog], results: Sequence[ResultLog]) -> list[Pairing]:
    """Pair each inference with its hub result (same kind, next after it) and link workflow repeats."""
    ordered = sorted(infs, key=lambda i: i.log_index)
    hub = sorted((r for r in results if r.event != WORKFLOW_EVENT), key=lambda r: r.log_index)
    used: set[int] = set()
    result_of: dict[int, int | None] = {}
    for inf in ordered:
        hit = next((r for r in hub if r.kind == inf.kind and r.log_index > inf.log_index
                    and r.log_index not in used), None)
        result_of[inf.log_index] = hit.log_index if hit else None
        if hit:
            used.add(hit.log_index)
    workflow_of: dict[int, ResultLog] = {}
    for wf in sorted((r for r in results if r.event == WORKFLOW_EVENT), key=lambda r: r.log_index):
        before = [i for i in ordered if i.kind == wf.kind and i.log_index < wf.log_index
                  and i.log_index not in workflow_of]
        if before:
            workflow_of[before[-1].log_index] = wf
    return [Pairing(i.log_index, pos, result_of[i.log_index],
                    workflow_of[i.log_index].log_index if i.log_index in workflow_of else None,
                    workflow_of[i.log_index].address if i.log_index in workflow_of else None)
            for pos, i in enumerate(ordered)]


def calls_from_parity(traces: Sequence[dict[str, Any]]) -> list[Call]:
    """Flat `trace_transaction` answers as calls (inert when it or an enclosing call failed or was static)."""
    raw = [(tuple(int(x) for x in t.get("traceAddress") or []), t) for t in traces if t.get("type") == "call"]
    inert = {p for p, t in raw if t.get("error") or (t.get("action") or {}).get("callType") == "staticcall"}
    out = []
    for path, t in raw:
        action = t.get("action") or {}
        bad = any(path[:k] in inert for k in range(len(path) + 1))
        out.append(Call(path, str(action.get("from", "")).lower(), str(action.get("to", "")).lower(), bad))
    return sorted(out, key=lambda c: c.path)


def calls_from_tree(root: dict[str, Any]) -> list[Call]:
    """A `debug_traceTransaction` callTracer tree as calls in execution order."""
    out: list[Call] = []

    def walk(node: dict[str, Any], path: tuple[int, ...], parent_inert: bool) -> None:
        kind = str(node.get("type", "CALL")).upper()
        bad = parent_inert or bool(node.get("error")) or kind == "STATICCALL"
        if kind in ("CALL", "CALLCODE", "DELEGATECALL", "STATICCALL"):
            out.append(Call(path, str(node.get("from", "")).lower(), str(node.get("to", "")).lower(), bad))
        for i, child in enumerate(node.get("calls") or []):
            walk(child, (*path, i), bad)

    walk(root, (), False)
    return out


def callers_from_calls(calls: Sequence[Call], hubs: set[str], precompiles: set[str], sender: str,
                       expected: int) -> list[str | None] | None:
    """Each inference's caller in execution order, or None when the call tree does not account for them all.

    Addresses compare lower-case; an account calling the hub directly (the sender) gives None.
    """
    ok = [c for c in calls if not c.inert]
    by_path = {c.path: c for c in ok}
    into = [c for c in ok if c.to in precompiles]
    who: list[str] = []
    for c in into:
        parent = by_path.get(c.path[:-1]) if c.frm in hubs else None
        who.append(parent.frm if parent is not None else c.frm)
    if len(who) != expected:
        who = [c.frm for c in ok if c.to in hubs]
    if len(who) != expected:
        return None
    return [None if w == sender.lower() else w for w in who]


def caller_from_tx_to(tx_to: str | None, hubs: set[str], precompiles: set[str]) -> str | None:
    """The fallback caller: the transaction's `to`, None when that is the hub or the precompile itself."""
    if not tx_to or tx_to.lower() in hubs | precompiles:
        return None
    return tx_to.lower()
