"""Store.reopen (the scheduler's bounded-memory pass): data kept, reads in flight and during it answered, every
thread's cursor replaced, DuckDB's memory limit applied."""

from __future__ import annotations

import threading
from pathlib import Path

from store.db import Store


def _beat(store: Store, seq: int) -> None:
    with store.transaction() as cur:
        cur.execute("INSERT INTO service_heartbeats VALUES (?, 1, now())", [seq])


def test_reopen_keeps_rows_and_reads_go_on(tmp_path: Path) -> None:
    with Store(tmp_path / "a.duckdb", serve=False, memory_limit="64MB") as store:
        assert store.memory()["memory_limit"] == "61.0 MiB"
        _beat(store, 1)
        seen: dict[str, list[int]] = {}
        errors: list[str] = []
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                try:
                    seq = int(store.query("service_heartbeat")["last_seq"].iloc[0])
                    assert store.fetch("SELECT max(seq) FROM service_heartbeats")[0][0] >= seq  # a plain read too
                    seen.setdefault(threading.current_thread().name, []).append(seq)
                except Exception as exc:  # noqa: BLE001 - collected and asserted empty
                    errors.append(repr(exc))

        readers = [threading.Thread(target=read) for _ in range(3)]
        for t in readers:
            t.start()
        for seq in range(2, 7):
            store.reopen()
            _beat(store, seq)  # this thread's cursor was made before the reopen: replaced on use
        stop.set()
        for t in readers:
            t.join()
        assert errors == [] and len(seen) == 3 and all(v == sorted(v) for v in seen.values())  # never backwards
        assert int(store.query("service_heartbeat")["last_seq"].iloc[0]) == 6
    with Store(tmp_path / "a.duckdb", serve=False) as again:
        assert int(again.query("service_heartbeat")["last_seq"].iloc[0]) == 6


def test_close_waits_for_reads_in_flight_and_refuses_new_ones(tmp_path: Path) -> None:
    """Reads served on other threads while the store closes: the close never meets a busy connection, every read
    either answers or says the store is closing, and the file reopens with its rows."""
    from store.errors import StoreError

    store = Store(tmp_path / "c.duckdb", serve=False)
    _beat(store, 1)
    answered: list[int] = []
    refused: list[str] = []
    others: list[str] = []
    started = threading.Barrier(5)

    def read() -> None:
        started.wait()
        for _ in range(400):
            try:
                answered.append(int(store.query("service_heartbeat")["last_seq"].iloc[0]))
            except StoreError as exc:
                refused.append(str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - collected and asserted empty
                others.append(repr(exc))
                return

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    started.wait()
    while len(answered) < 20:
        pass
    store.close()  # raised "connection is busy with another call" when a read was in flight
    for t in readers:
        t.join()
    assert others == [] and set(answered) == {1} and len(refused) == 4
    assert all("is closing" in r for r in refused)
    with Store(tmp_path / "c.duckdb", serve=False) as again:
        assert int(again.query("service_heartbeat")["last_seq"].iloc[0]) == 1
