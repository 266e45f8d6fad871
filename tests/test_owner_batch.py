"""Batched reads (`Reader.query_many`) through a real owner process and directly, on a seeded store.

Every answer of a batch equals the same query asked alone (Arrow tables compared with `equals`, values and
types); a failing query is reported with the error it raises alone while the others still answer; bad names,
parameters and batch bodies are refused with one clear error.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.seed_store import seed
from ogwatch.ui import data
from store.db import Reader
from store.errors import StoreError, UnknownQuery
from store.owner import TOKEN_HEADER, read_owner
from store.owner_batch import MAX_BATCH
from store.queries import REGISTRY
from tests.conftest import ROOT, write_config
from tests.procs.store_owner import FAILING, register_failing

SCALE, SEED = 0.001, 7
NETS = ('\n[networks.bsc]\nname="BNB Smart Chain"\nchain_id=56\n'
        '\n[networks.og_evm]\nname="OpenGradient"\nchain_id=10740\nproduction=true\n')
BATCH: list[tuple[str, dict[str, object]]] = [
    ("fee_markets", {"chain_id": None}),
    ("fee_queued", {"chain_id": 56, "address": None}),
    ("settlement_summary", {"chain_id": None}),
    ("validators_current", {"chain_id": None}),
    ("tee_operators", {"chain_id": None}),
    ("alerts_list", {"status": "firing"}),
    ("fee_changes", {"chain_id": None, "address": None}),
    ("service_heartbeat", {}),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    d = tmp_path_factory.mktemp("batch")
    written = seed(d / "ogwatch.duckdb", SCALE, SEED, show=False)
    return d / "ogwatch.duckdb", written


@pytest.fixture(scope="module")
def owned(seeded) -> Iterator[Path]:
    """The seeded store owned by another process (reads go through its read service)."""
    register_failing()
    path = seeded[0]
    proc = subprocess.Popen([sys.executable, "-m", "tests.procs.store_owner", str(path)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield path
    finally:
        proc.communicate(timeout=60)  # closing stdin stops it
        REGISTRY.pop(FAILING.name, None)  # the test query leaves this process's registry with the module
        assert proc.returncode == 0


def _one_by_one(reader: Reader, batch: list[tuple[str, dict[str, object]]]) -> list[object]:
    return [reader.query_arrow(name, dict(params)) for name, params in batch]


def test_batch_through_the_owner_equals_one_by_one(owned, seeded) -> None:
    reader = Reader(owned)
    answers = reader.query_many(BATCH)
    assert reader.last_route == "owner"
    assert [a.name for a in answers] == [n for n, _ in BATCH]
    alone = _one_by_one(reader, BATCH)
    for ans, table in zip(answers, alone, strict=True):
        assert ans.error is None and ans.table is not None, ans.error
        assert ans.table.equals(table), ans.name
    by_name = {a.name: a.unwrap().to_pylist() for a in answers}
    written = seeded[1]
    assert len(by_name["fee_markets"]) == len({r["address"] for r in by_name["fee_markets"]}) > 0
    assert by_name["settlement_summary"][0]["settlements"] == written["settlements"]
    assert by_name["settlement_summary"][0]["settled_inferences"] == 225  # 25 batches x 8 leaves + 25 individual


def test_a_failing_query_keeps_the_others(owned) -> None:
    reader = Reader(owned)
    batch = [BATCH[0], (FAILING.name, {}), BATCH[2]]
    answers = reader.query_many(batch)
    assert answers[0].table is not None and answers[2].table is not None
    assert answers[0].table.equals(reader.query_arrow(*BATCH[0]))
    assert answers[2].table.equals(reader.query_arrow(*BATCH[2]))
    assert answers[1].table is None and isinstance(answers[1].error, StoreError)
    with pytest.raises(StoreError) as alone:
        reader.query_arrow(FAILING.name, {})
    assert str(answers[1].error) == str(alone.value)
    assert "boom: this query always fails" in str(alone.value)
    with pytest.raises(StoreError, match="boom"):
        answers[1].unwrap()


def test_bad_names_and_parameters_are_refused_before_any_read(owned) -> None:
    reader = Reader(owned)
    with pytest.raises(UnknownQuery, match="unknown query 'no_such_query'"):
        reader.query_many([BATCH[0], ("no_such_query", {})])
    with pytest.raises(StoreError, match="parameter chain_id must be int"):
        reader.query_many([("fee_markets", {"chain_id": "bsc"})])
    with pytest.raises(StoreError, match="unknown parameter"):
        reader.query_many([("service_heartbeat", {"x": 1})])
    with pytest.raises(StoreError, match=f"at most {MAX_BATCH}"):
        reader.query_many([BATCH[-1]] * (MAX_BATCH + 1))
    assert reader.query_many([]) == []


def test_the_owner_refuses_a_malformed_batch_with_one_line(owned) -> None:
    info = read_owner(owned)
    assert info is not None
    for body in (b"not json", b'{"queries": "x"}', b'{"queries": []}', b'{"queries": [{"params": {}}]}'):
        resp = requests.post(f"{info.url}/query_many", data=body, headers={TOKEN_HEADER: info.token}, timeout=30)
        assert resp.status_code == 400, body
        assert resp.text.startswith("bad batch:") and "\n" not in resp.text
    resp = requests.post(f"{info.url}/query_many", json={"queries": [{"name": "fee_markets"}]},
                         headers={TOKEN_HEADER: "wrong"}, timeout=30)
    assert resp.status_code == 403


def test_direct_batch_without_an_owner_equals_one_by_one(seeded, tmp_path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(seeded[0], copy)
    reader = Reader(copy)
    answers = reader.query_many(BATCH)
    assert reader.last_route == "direct"
    for ans, table in zip(answers, _one_by_one(reader, BATCH), strict=True):
        assert ans.table is not None and ans.table.equals(table), ans.name


def _spy_on_single_reads(mp: pytest.MonkeyPatch, asked: list[str]) -> None:
    """Record the name of every query read one by one (Reader.query_arrow) in `asked`."""
    original = Reader.query_arrow

    def spy(self: Reader, name: str, params: dict[str, object] | None = None) -> object:
        asked.append(name)
        return original(self, name, params)

    mp.setattr(Reader, "query_arrow", spy)


def _render(path: Path, page: str, batched: bool) -> tuple[dict[str, str], list[str], list[str]]:
    """(metric label -> value, markdown texts, names asked one by one) of a cold render through the owner."""
    asked: list[str] = []
    mp = pytest.MonkeyPatch()
    mp.setenv("OGWATCH_CONFIG", str(write_config(path.parent, extra=NETS)))
    mp.chdir(ROOT)
    _spy_on_single_reads(mp, asked)
    if not batched:
        mp.setattr(data, "prefetch", lambda wanted: 0)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params["window"] = "all"
        at.run()
        st.cache_data.clear()
        asked.clear()
        at.switch_page(page).run()
        assert not at.exception, at.exception
        shown = [m.value for m in at.markdown if "ago" not in m.value]  # relative times move with the clock
        metrics = {m.label: m.value for m in at.metric if "ago" not in m.value}
        return metrics, shown, asked
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        mp.undo()


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/fees.py"])
def test_pages_prefetch_in_one_batch_and_show_the_same(owned, page) -> None:
    metrics, shown, asked = _render(owned, page, batched=True)
    metrics_alone, shown_alone, asked_alone = _render(owned, page, batched=False)
    assert metrics == metrics_alone and shown == shown_alone
    assert len(metrics) >= 5
    # only the shell's two reads and the fee page's market list stay single requests
    assert set(asked) <= {"collector_health_latest", "service_heartbeat", "fee_markets"}, asked
    assert len(asked_alone) >= 9
    if page == "pages/overview.py":
        assert metrics["Settled inferences"] == "225" and metrics["Validators Nakamoto (1/3)"] == "12"
    else:
        assert metrics["Protocol fee"] == "5 %"


def test_prefetch_caches_answers_and_leaves_failures_to_the_single_call(owned) -> None:
    asked: list[str] = []
    mp = pytest.MonkeyPatch()
    mp.setenv("OGWATCH_CONFIG", str(write_config(owned.parent, extra=NETS)))
    _spy_on_single_reads(mp, asked)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        wanted = [BATCH[2], (FAILING.name, {}), BATCH[0]]
        assert data.prefetch(wanted) == 2 and asked == []
        assert data.prefetch(wanted) == 0  # both cached now; the failure alone is not worth a batch
        ok = data.query("settlement_summary", chain_id=None)
        assert asked == [] and int(ok.df["settled_inferences"].iloc[0]) == 225
        failed = data.query(FAILING.name)
        assert asked == [FAILING.name] and failed.df.empty and "boom" in failed.error
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        mp.undo()
