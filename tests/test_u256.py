"""uint256 values stay exact through every path: writer, owner service, direct read, CLI JSON."""

from __future__ import annotations

import json

import pytest

from store import u256
from store.db import Reader, Store
from tests.conftest import ogwatch, write_config

VALUES = [0, 1, 2**64 + 1, 2**128 + 7, 2**255 + 3, u256.MAX_U256]


def _write(store: Store) -> None:
    with store.transaction() as cur:
        for i, v in enumerate(VALUES):
            text, flt = u256.pair(v)
            cur.execute("INSERT INTO state_reads VALUES (1, '0xAbC', 'v', ?, ?, ?)", [i, text, flt])


def test_codec_bounds() -> None:
    assert u256.from_text(u256.to_text(u256.MAX_U256)) == 2**256 - 1
    for bad in (-1, 2**256):
        with pytest.raises(ValueError):
            u256.to_text(bad)
    with pytest.raises(ValueError):
        u256.from_text("1e3")
    with pytest.raises(ValueError):
        u256.from_text(str(2**256))


def test_roundtrip_all_paths(tmp_path) -> None:
    cfg = write_config(tmp_path)
    store = Store(tmp_path / "ogwatch.duckdb")
    _write(store)
    got_writer = [u256.from_text(t) for t in store.query("state_reads", chain_id=1, address="0xabc")["value"]]
    assert got_writer == VALUES
    # Another process while the writer owns the file: served by the owner over Arrow IPC.
    out = ogwatch("--config", str(cfg), "query", "state_reads", "-p", "chain_id=1", "-p", "address=0xABC", "--json")
    assert out.returncode == 0, out.stderr
    assert [int(r["value"]) for r in json.loads(out.stdout)] == VALUES
    store.close()
    # No owner now: the reader opens the file read-only itself.
    reader = Reader(tmp_path / "ogwatch.duckdb")
    df = reader.query("state_reads", chain_id=1, address="0xabc")
    assert reader.last_route == "direct"
    assert [int(t) for t in df["value"]] == VALUES
    assert df["value_f"].iloc[-1] == pytest.approx(float(2**256 - 1))
    out = ogwatch("--config", str(cfg), "query", "state_reads", "-p", "chain_id=1", "-p", "address=0xabc", "--json")
    assert json.loads(out.stdout)[-1]["value"] == str(2**256 - 1)
