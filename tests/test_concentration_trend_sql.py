"""The work trend aggregated in SQL equals the replay of every (block, TEE) row it replaced, on hand-built rows.

`tee_work_trend_*` sum the settled inferences per operator at the blocks `analysis.concentration.replay` keeps
for TREND_POINTS; the reference here is the earlier path: `tee_work_blocks_*` (one row per block and TEE), the
running total per operator, `replay(..., points=TREND_POINTS)`. Both are run on the same store for histories
shorter than, equal to and longer than TREND_POINTS, with TEEs that change owner and TEEs with no owner.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis import concentration as cm
from ogwatch.config import Config
from ogwatch.ui import concentration_data as cd
from store.db import Store

CHAIN = 10740
TEES = [f"0x{i:064x}" for i in range(1, 9)]  # the last two never registered: "unregistered TEE <id>"
OWNERS = ["0xaaa1", "0xaaa2", "0xaaa3"]


def _fill(store: Store, blocks: int, seed: int) -> None:
    """Individual settlements and batch leaves on `blocks` distinct blocks; owners change along the way."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(1, blocks * 7 + 10), blocks))
    with store.transaction() as cur:
        for i, tee in enumerate(TEES[:6]):
            for j, block in enumerate((1, chosen[-1] // 2)):  # the later owner is the one that counts
                cur.execute("""INSERT INTO tee_state (chain_id, block_number, registry, tee_id, owner, pcr_hash,
                               tee_type, enabled, registered_at, last_heartbeat_at, active)
                               VALUES (?, ?, '0xreg', ?, ?, '0xpcr', 0, true, 1, 1, true)""",
                            [CHAIN, block, tee, OWNERS[(i + j) % len(OWNERS)]])
        for n, block in enumerate(chosen):
            if rng.random() < 0.5:
                cur.execute("""INSERT INTO settlements (chain_id, block_number, block_hash, block_ts, tx_hash, tx_index,
                               log_index, address, event, relay_version, tee_id)
                               VALUES (?, ?, '0xb', 1, '0xt', 0, 0, '0xrelay', 'IndividualSettlement', 2, ?)""",
                            [CHAIN, block, rng.choice(TEES)])
            else:
                for leaf in range(rng.randint(1, 4)):
                    cur.execute("""INSERT INTO settlement_leaves (chain_id, block_number, log_index, leaf_index,
                                   tee_id, input_hash, output_hash, leaf_hash)
                                   VALUES (?, ?, 1, ?, ?, '0x', '0x', '0x')""",
                                [CHAIN, block, leaf + n * 10, rng.choice(TEES)])


def _replayed(df: pd.DataFrame) -> list[tuple[int, dict[str, float]]]:
    """The earlier Python path: running totals per operator, one change row per (block, TEE), sampled by replay."""
    totals: dict[str, float] = {}
    changes: list[tuple[int, str, str, float | int | None]] = []
    for b, tee_id, owner, n in zip(df["block_number"], df["tee_id"], df["owner"], df["inferences"], strict=True):
        ident = str(owner) if owner is not None and not pd.isna(owner) else f"unregistered TEE {tee_id}"
        totals[ident] = totals.get(ident, 0.0) + float(n)
        changes.append((int(b), ident, ident, totals[ident]))
    return cm.replay(changes, points=cd.TREND_POINTS)


def _aggregated(df: pd.DataFrame) -> list[tuple[int, dict[str, float]]]:
    out: list[tuple[int, dict[str, float]]] = []
    for b, ident, n in zip(df["block_number"], df["ident"], df["inferences"], strict=True):
        if not out or out[-1][0] != int(b):
            out.append((int(b), {}))
        out[-1][1][str(ident)] = float(n)
    return out


@pytest.mark.parametrize(("blocks", "seed"), [(1, 1), (37, 2), (200, 3), (201, 4), (1499, 5)])
def test_sql_work_trend_equals_the_replay(tmp_path: Path, blocks: int, seed: int) -> None:
    with Store(tmp_path / "ogwatch.duckdb", serve=False) as store:
        _fill(store, blocks, seed)
        for kind in ("individual", "with_leaves"):
            for chain_id in (None, CHAIN):
                want = _replayed(store.query(f"tee_work_blocks_{kind}", chain_id=chain_id))
                got = _aggregated(store.query(f"tee_work_trend_{kind}", chain_id=chain_id,
                                              points=cd.TREND_POINTS))
                assert got == want and len(got) == min(len({b for b, _ in want}), cd.TREND_POINTS)
                assert blocks < 30 or any(k.startswith("unregistered TEE ") for _, w in got for k in w)

        def run(name: str, **params: Any) -> pd.DataFrame:
            return store.query(name, **params)

        cfg = Config.model_validate({"networks": {}})
        trend = cd.work_trend(cfg, run, CHAIN)
        want = _replayed(store.query("tee_work_blocks_with_leaves", chain_id=CHAIN))
        assert trend[trend["view"] == "identifier"]["block"].tolist() == [b for b, _ in want]
        last = cm.metrics(want[-1][1])
        assert last is not None and trend.iloc[-2]["hhi"] == last.hhi and trend.iloc[-2]["gini"] == last.gini
