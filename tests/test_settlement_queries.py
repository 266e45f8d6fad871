"""The settlement queries' backlog and window logic on hand-built rows (a day of hourly batches, a gap, a slow hour).

Chain time: the newest stored block is `HEAD`. Twenty-four hourly batches of 10 inferences precede the last
hour, one hour of them empty; the last hour settles 4. So the rate of the 24 hours before is 230/24 and the
last hour is behind by 230/24 - 4.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.db import Store

HEAD = int(datetime(2026, 1, 2, 12, tzinfo=UTC).timestamp())
GAP = 5  # the hour k=5 before the last one has no settlement
CHAIN = 77


def _settle(store: Store, block: int, ts: int, event: str, size: int | None, signer_ts: int | None = None) -> None:
    with store.transaction() as cur:
        cur.execute("""
            INSERT INTO settlements (chain_id, block_number, block_hash, block_ts, tx_hash, tx_index, log_index,
                                     address, event, relay_version, merkle_root, batch_size, timestamp_int)
            VALUES (?, ?, ?, ?, ?, 0, 0, '0xrelay', ?, 2, ?, ?, ?)""",
                    [CHAIN, block, f"0xb{block}", ts, f"0xt{block}", event,
                     "0x" + f"{block:064x}" if event == "BatchSettlement" else None,
                     None if size is None else str(size), signer_ts])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A store with a day of hand-built settlements on chain 77."""
    s = Store(Path(tmp_path_factory.mktemp("settle_q")) / "ogwatch.duckdb", serve=False)
    for k in range(1, 25):
        if k != GAP:
            _settle(s, 100 - k, HEAD - k * 3600 - 1800, "BatchSettlement", 10)
    _settle(s, 200, HEAD - 600, "IndividualSettlement", None, HEAD - 660)
    _settle(s, 201, HEAD - 300, "IndividualSettlement", None, HEAD - 1200)
    _settle(s, 202, HEAD - 100, "BatchSettlement", 2)
    with s.transaction() as cur:
        cur.execute("INSERT INTO blocks VALUES (?, 300, '0xhead', '0xparent', ?)",
                    [CHAIN, datetime.fromtimestamp(HEAD, UTC)])
    yield s
    s.close()


def test_backlog_against_the_recent_rate(store: Store) -> None:
    row = store.query("settlement_backlog", chain_id=CHAIN).iloc[0]
    assert int(row["seconds_since_last"]) == 100
    assert int(row["settled_last_hour"]) == 4
    assert row["hourly_rate_prev_24h"] == pytest.approx(230 / 24)
    assert row["deficit_last_hour"] == pytest.approx(230 / 24 - 4)
    assert row["head_time"] == datetime.fromtimestamp(HEAD, UTC)


def test_hourly_backlog_fills_empty_hours(store: Store) -> None:
    df = store.query("settlement_backlog_hourly", chain_id=CHAIN)
    by_hour = {int(h.timestamp()): r for h, r in zip(df["hour"], df.to_dict("records"), strict=True)}
    assert len(df) == 26  # from the oldest batch's hour to the head's hour, gaps included
    gap = by_hour[HEAD - (GAP + 1) * 3600]
    assert (gap["settled_inferences"], gap["recent_rate"], gap["deficit"]) == (0, 10.0, 10.0)
    last = by_hour[HEAD - 3600]
    assert last["settled_inferences"] == 4 and last["deficit"] == pytest.approx(230 / 24 - 4)
    head = by_hour[HEAD]
    assert head["settled_inferences"] == 0


def test_window_and_lags(store: Store) -> None:
    since = datetime.fromtimestamp(HEAD - 3600, UTC)
    hourly = store.query("settlement_hourly", chain_id=CHAIN, since=since)
    assert hourly.groupby("mode")["settled_inferences"].sum().to_dict() == {"batch": 2, "individual": 2}
    assert store.query("settlement_hourly", chain_id=CHAIN, since=since + timedelta(days=1)).empty
    summary = store.query("settlement_summary", chain_id=CHAIN).iloc[0]
    assert (summary["settlements"], summary["settled_inferences"]) == (26, 234)
    assert (summary["lag_p50_s"], summary["lag_max_s"]) == (480.0, 900)  # lags 60 and 900 s, no verified leaves
    assert store.query("settlement_summary", chain_id=CHAIN + 1).empty
    cov = store.query("settlement_blob_coverage", chain_id=CHAIN).iloc[0]
    assert (cov["batches"], cov["unchecked"], cov["coverage"]) == (24, 24, 0.0)
