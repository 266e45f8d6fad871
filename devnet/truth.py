"""The simulator's ground truth: what it intended, plus what each receipt says.

One JSON object per line (`truth.jsonl`): the action's kind, chain, its intent (the parameters the
simulator chose, e.g. the new fee, the inference mode, the chosen lag) and the receipt facts (tx hash,
block, block hash, status, every log's index, emitter and topic0). Nothing here comes from ogwatch's
own decoding, so tests can hold the store against it.

Setter records (fee_set, fee_destination_set, min_shares_set, setter_reverted, setter_inner_reverted) also
state in ``intent["expected"]`` what a fee monitor should find per node capability (traces, events,
undone_before_reading, state_beyond_window, state -> "tx" | "block" | "range" | "as_state" | "invisible" |
"never"); the rules and the order they apply in are in devnet/scenario_markets_expect.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devnet.chain import Chain, Receipt


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)  # exact: JSON readers would round big integers
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class Truth:
    """Append-only ground-truth log (thread-safe; flushed per record so a crash loses nothing written)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.count = 0

    def record(self, chain: Chain, kind: str, intent: dict[str, Any], receipt: Receipt,
               expect_success: bool = True) -> Receipt:
        """Write one action with its receipt; a status that contradicts the intent is an error."""
        row = {"kind": kind, "chain": chain.key, "chain_id": chain.chain_id, "intent": _jsonable(intent),
               "expect_success": expect_success, "tx": receipt.tx_hash, "block": receipt.block_number,
               "block_hash": receipt.block_hash, "status": receipt.status, "logs": receipt.log_refs()}
        with self._lock:
            self._fh.write(json.dumps(row, sort_keys=True) + "\n")
            self._fh.flush()
            self.count += 1
        if bool(receipt.status) != expect_success:
            raise RuntimeError(f"{chain.key} {kind}: status {receipt.status} but expected "
                               f"{'success' if expect_success else 'revert'} in {receipt.tx_hash}")
        return receipt

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            self._fh.close()


def read(path: Path | str) -> Iterator[dict[str, Any]]:
    """Every recorded action, in order."""
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
