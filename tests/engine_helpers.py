"""Helpers for engine tests: configs pointing at a world (or a proxy in front of it), backfills, row sets."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import duckdb

from collectors import decode, runner
from devnet import truth as truthmod
from devnet.world import TRUTH_FILE, World
from ogwatch import config
from store.db import Store


def world_config(world: World, store_path: Path, urls: dict[str, str] | None = None, **net: Any) -> config.Config:
    """The world's ogwatch config, optionally with other RPC URLs (a proxy) and network settings."""
    raw = tomllib.loads(world.config_toml(str(store_path)))
    for key, n in raw["networks"].items():
        if urls and key in urls:
            n["rpc_urls"] = [urls[key]]
        n.update(net)
    return config.parse(raw)


def backfill(cfg: config.Config, store_path: Path, max_ticks: int = 200, **engine_kw: Any) -> dict[str, Any]:
    """Tick every engine until none has anything left; returns counts."""
    totals = {"events": 0, "ticks": 0}
    with Store(store_path, serve=False) as store:
        engs = runner.engines(cfg, store)
        for e in engs:
            for k, v in engine_kw.items():
                setattr(e, k, v)
        for e in engs:
            for _ in range(max_ticks):
                st = e.tick()
                totals["events"] += st.events
                totals["ticks"] += 1
                if st.spans == 0:
                    break
            else:
                raise AssertionError(f"{e.t.source}/{e.t.network} did not finish in {max_ticks} ticks")
    return totals


def stored_keys(store_path: Path) -> set[tuple[int, int, str, int]]:
    """(chain_id, block, tx, log index) of every stored event row, across all event tables."""
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        out: set[tuple[int, int, str, int]] = set()
        for table in decode.COLUMNS:
            rows = con.execute(f'SELECT chain_id, block_number, tx_hash, log_index FROM "{table}"').fetchall()  # noqa: S608
            n = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608
            assert n is not None and n[0] == len(set(rows)), f"duplicate rows in {table}"
            out |= {(int(a), int(b), str(c), int(d)) for a, b, c, d in rows}
        return out
    finally:
        con.close()


def table_digest(store_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every event table's rows, sorted: two stores are equal when their digests are."""
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)  # noqa: S608
                for t in [*decode.COLUMNS, "checkpoints"] if t != "checkpoints"}
    finally:
        con.close()


def expected_keys(snapshot: Path, cfg: config.Config) -> set[tuple[int, int, str, int]]:
    """From the ground truth: every log of a watched (address, topic0) on its chain."""
    watched: set[tuple[int, str, str]] = set()
    for t in runner.targets(cfg):
        watched |= {(t.chain_id, a.lower(), topic) for a in t.addresses for topic in t.topics}
    out = set()
    for r in truthmod.read(snapshot / TRUTH_FILE):
        for lg in r["logs"]:
            if (r["chain_id"], lg["address"].lower(), lg["topic0"]) in watched:
                out.add((r["chain_id"], r["block"], r["tx"], lg["log_index"]))
    return out


def read_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Every row of one query on a read-only connection to a store file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def read_count(path: Path, sql: str) -> int:
    """The first column of a query's first row as an int (0 when there is no row), read-only."""
    got = read_rows(path, sql)
    return int(got[0][0]) if got else 0
