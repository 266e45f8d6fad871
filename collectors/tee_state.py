"""TEE registry state from the registries' own views, read on a schedule (both registry shapes).

Each tick reads every configured registry at `head - confirmations`, or at the block the log engine has indexed
the registries' events to when that is lower (a reading never runs ahead of the events it replays):

1. probe which views answer (once, and again whenever the registry's TEE count changes);
2. list TEEs: `getTEEsByType` over the types from `getTEETypes` (else from indexed TEETypeAdded events,
   else 0 and 1), united with the TEERegistered events the log engine indexed;
3. read each TEE's `getTEE` and the registry's own `isTEEActive` (never re-implemented here);
4. PCR approval from `getApprovedPCRs` when the registry has it, else by replaying the indexed
   PCRApproved / PCRRevoked events up to the read block (the OHTTP registry has no PCR views);
5. `heartbeatMaxAge` when the registry has it (NULL otherwise: the page states the documented default).

Rows land as changes (collectors/change_rows.py), with one `tee_registry_reads` row per reading, in one
transaction. A missing view degrades what is stored (NULL, a note), never the whole reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address

from collectors import change_rows, tee_views
from collectors.pool import RpcPool
from store import chainwrite
from store.db import Store

TEE_KEY = ("registry", "tee_id")
TEE_COMPARE = ("owner", "payment_address", "endpoint", "pcr_hash", "tee_type", "enabled", "registered_at",
               "last_heartbeat_at", "active", "pcr_approved")
PCR_KEY = ("registry", "pcr_hash", "tee_type")
PCR_COMPARE = ("approved", "version", "source")


@dataclass
class Registry:
    """What the collector remembers about one registry between ticks."""

    address: str
    views: dict[str, bool] = field(default_factory=dict)
    probed_with: int = -1  # TEE count at the last probe


class TEEStateCollector:
    """Reads the TEE registries of one chain each tick; stores TEE, PCR and reading rows."""

    def __init__(self, store: Store, pool: RpcPool, chain_id: int, registries: Sequence[str],
                 confirmations: int = 2, max_batch: int = 50, events_collector: str | None = "tee"):
        self.store, self.pool, self.chain_id = store, pool, chain_id
        self.registries = [Registry(to_checksum_address(a)) for a in registries]
        self.confirmations, self.max_batch = confirmations, max_batch
        self.events_collector = events_collector  # the log engine's source holding the registries' events

    def tick(self, block: int | None = None) -> int:
        """Read every registry at `block` (default: the confirmed head, but never past the block the log engine
        has indexed the registries' events to: TEE ids and, without PCR views, PCR approval come from those
        events, and a reading ahead of them would take approved PCRs for revoked ones); returns TEE rows written.
        """
        if block is None:
            block = max(int(self.pool.call("eth_blockNumber"), 16) - self.confirmations, 0)
            indexed = self._events_checkpoint()
            if indexed is not None:
                block = min(block, indexed)
        header = self.pool.call("eth_getBlockByNumber", [hex(block), False])
        block_ts = int(header["timestamp"], 16)
        written = 0
        for reg in self.registries:
            tees, pcrs, read = self._read(reg, block, block_ts)
            with self.store.transaction() as cur:
                where = {"registry": reg.address}
                new_tees = change_rows.changed(tees, change_rows.latest(cur, "tee_state", TEE_KEY, self.chain_id,
                                                                        where), TEE_KEY, TEE_COMPARE)
                new_pcrs = change_rows.changed(pcrs, change_rows.latest(cur, "tee_pcrs", PCR_KEY, self.chain_id,
                                                                        where), PCR_KEY, PCR_COMPARE)
                change_rows.insert(cur, "tee_state", new_tees)
                change_rows.insert(cur, "tee_pcrs", new_pcrs)
                change_rows.insert(cur, "tee_registry_reads", [read])
            written += len(new_tees)
        return written

    # ---- one registry ------------------------------------------------------------------------
    def _read(self, reg: Registry, block: int, block_ts: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                       dict[str, Any]]:
        events = self._events(reg.address, block)
        notes: list[str] = []
        ids = self._tee_ids(reg, block, events, notes)
        if not reg.views or reg.probed_with != len(ids):
            reg.views = tee_views.probe(self.pool, reg.address, block, ids[0] if ids else None)
            reg.probed_with = len(ids)
            ids = self._tee_ids(reg, block, events, notes)
        infos, active = self._per_tee(reg, block, ids)
        pcr_rows, approved, pcr_source = self._pcrs(reg, block, events)
        rows = []
        for tee_id in ids:
            info = infos.get(tee_id)
            if info is None:
                notes.append(f"getTEE gave nothing for {tee_id}")
                continue
            known = pcr_source != "none"
            rows.append({"chain_id": self.chain_id, "block_number": block, "registry": reg.address, "tee_id": tee_id,
                         "owner": info.owner, "payment_address": info.payment_address, "endpoint": info.endpoint,
                         "pcr_hash": info.pcr_hash, "tee_type": info.tee_type, "enabled": info.enabled,
                         "registered_at": info.registered_at, "last_heartbeat_at": info.last_heartbeat_at,
                         "active": active.get(tee_id),
                         "pcr_approved": ((info.pcr_hash, info.tee_type) in approved) if known else None})
        read = self._read_row(reg, block, block_ts, rows, infos, pcr_source, notes)
        return rows, [{"chain_id": self.chain_id, "block_number": block, "registry": reg.address, **p}
                      for p in pcr_rows], read

    def _read_row(self, reg: Registry, block: int, block_ts: int, rows: list[dict[str, Any]],
                  infos: dict[str, tee_views.TEEInfo], pcr_source: str, notes: list[str]) -> dict[str, Any]:
        views = reg.views
        max_age = None
        if views.get("heartbeatMaxAge"):
            raw = tee_views.read_one(self.pool, reg.address, "heartbeatMaxAge", block)
            max_age = tee_views.decode_word(raw) if raw else None
        shapes = {i.shape for i in infos.values()}
        if not views.get("isTEEActive"):
            notes.append("no isTEEActive view: activity unknown")
        if pcr_source == "events":
            notes.append("no getApprovedPCRs view: PCR approval replayed from indexed PCRApproved/PCRRevoked")
        return {"chain_id": self.chain_id, "block_number": block, "registry": reg.address, "block_ts": block_ts,
                "shape": shapes.pop() if len(shapes) == 1 else "unknown",
                "views": ",".join(n for n, ok in views.items() if ok),
                "missing": ",".join(n for n, ok in views.items() if not ok), "heartbeat_max_age": max_age,
                "pcr_source": pcr_source, "tees": len(rows),
                "active": sum(1 for r in rows if r["active"]) if views.get("isTEEActive") else None,
                "note": "; ".join(dict.fromkeys(notes)) or None, "read_at": datetime.now(UTC)}

    def _events_checkpoint(self) -> int | None:
        if self.events_collector is None:
            return None
        with self.store.transaction() as cur:
            cp = chainwrite.get_checkpoint(cur, self.events_collector, self.chain_id)
        return cp.block_number if cp else None

    def _events(self, registry: str, block: int) -> list[tuple[Any, ...]]:
        """The registry's indexed events up to block, in chain order."""
        with self.store.transaction() as cur:
            return cur.execute("""
                SELECT event, tee_id, tee_type, pcr_hash, pcr_version FROM tee_events
                WHERE chain_id = ? AND address = ? AND block_number <= ?
                ORDER BY block_number, log_index""", [self.chain_id, registry, block]).fetchall()

    def _tee_ids(self, reg: Registry, block: int, events: list[tuple[Any, ...]], notes: list[str]) -> list[str]:
        """Every TEE the registry lists by type, then any other TEE its events registered."""
        types = self._types(reg, block, events)
        ids: list[str] = []
        if reg.views.get("getTEEsByType", True):
            answers = tee_views.read_many(self.pool, [tee_views.call(reg.address, "getTEEsByType", block, t)
                                                      for t in types], self.max_batch)
            for raw in answers:
                ids += tee_views.decode_ids(raw) if raw else []
        from_events = [str(e[1]) for e in events if e[0] == "TEERegistered"]
        extra = [i for i in dict.fromkeys(from_events) if i not in set(ids)]
        if extra and ids:
            notes.append(f"{len(extra)} TEE(s) known only from TEERegistered events")
        return list(dict.fromkeys(ids + extra))

    def _types(self, reg: Registry, block: int, events: list[tuple[Any, ...]]) -> list[int]:
        if reg.views.get("getTEETypes", True):
            raw = tee_views.read_one(self.pool, reg.address, "getTEETypes", block)
            if raw:
                return tee_views.decode_types(raw)
        seen = [int(e[2]) for e in events if e[0] in ("TEETypeAdded", "TEERegistered") and e[2] is not None]
        return sorted(set(seen) | set(tee_views.DEFAULT_TYPES))

    def _per_tee(self, reg: Registry, block: int, ids: list[str]) -> tuple[dict[str, tee_views.TEEInfo],
                                                                          dict[str, bool]]:
        names = [n for n in ("getTEE", "isTEEActive") if reg.views.get(n)]
        calls = [tee_views.call(reg.address, n, block, bytes.fromhex(i[2:])) for i in ids for n in names]
        answers = iter(tee_views.read_many(self.pool, calls, self.max_batch))
        infos: dict[str, tee_views.TEEInfo] = {}
        active: dict[str, bool] = {}
        for tee_id in ids:
            for n in names:
                raw = next(answers)
                if raw is None:
                    continue
                if n == "getTEE":
                    info = tee_views.decode_info(raw)
                    if info is not None:
                        infos[tee_id] = info
                else:
                    active[tee_id] = bool(tee_views.decode_word(raw))
        return infos, active

    def _pcrs(self, reg: Registry, block: int, events: list[tuple[Any, ...]]) -> tuple[list[dict[str, Any]],
                                                                                      set[tuple[str, int]], str]:
        """PCR rows (approved or revoked, with version), the approved set, and where approval came from."""
        versions: dict[tuple[str, int], str | None] = {}
        replayed: set[tuple[str, int]] = set()
        for ev, _tee, tee_type, pcr, version in events:
            if ev == "PCRApproved":
                versions[(str(pcr), int(tee_type))] = version
                replayed.add((str(pcr), int(tee_type)))
            elif ev == "PCRRevoked":
                versions.setdefault((str(pcr), int(tee_type)), None)
                replayed.discard((str(pcr), int(tee_type)))
        source, approved = "events" if events else "none", replayed
        if reg.views.get("getApprovedPCRs"):
            raw = tee_views.read_one(self.pool, reg.address, "getApprovedPCRs", block)
            if raw is not None:
                source, approved = "view", set(tee_views.decode_pcrs(raw))
        keys = sorted(set(versions) | approved)
        rows = [{"pcr_hash": h, "tee_type": t, "approved": (h, t) in approved, "version": versions.get((h, t)),
                 "source": source} for h, t in keys]
        return rows, approved, source
