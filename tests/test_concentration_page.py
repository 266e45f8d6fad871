"""The decentralization page (AppTest) and `ogwatch concentration --json` on the indexed devnet, with entities.

Expected numbers come from the simulator's truth (validator powers, TEE registrations and heartbeats,
settlements) put through the metric functions, whose own values are proven by hand in
test_concentration_metrics.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis import concentration as cm
from tests import concentration_helpers as ch
from tests.conftest import ROOT, dashboard_on, ogwatch, write_config

PAGE = str(ROOT / "pages" / "decentralization.py")
ACME, GROUP = "Acme Compute", "Validator Group X"


@pytest.fixture(scope="module")
def indexed(devnet_world: Any, devnet_snapshot: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """OG EVM indexed into a fresh store; operators a+b and the two largest validators grouped as entities."""
    tmp = tmp_path_factory.mktemp("conc")
    path = tmp / "ogwatch.duckdb"
    acct = devnet_world.dep.accounts
    powers = ch.last_validator_powers(devnet_snapshot)
    big_two = sorted(powers, key=lambda v: -powers[v])[:2]
    entities = [(acct["operator_a"].lower(), ACME, "test: same company"), (acct["operator_b"], ACME, "test"),
                *((v, GROUP, "test: shared infrastructure") for v in big_two)]
    text = ch.og_toml(devnet_world, path, entities)
    (tmp / "config.toml").write_text(text)
    cfg = ch.og_config(text)
    ch.index_og(cfg, path)
    head = devnet_world.chains[ch.NET].head()
    truth = ch.tee_truth(devnet_snapshot)
    now = int(head["timestamp"], 16)
    active: dict[str, int] = {}
    for t in truth.tees.values():
        active[t["owner"]] = active.get(t["owner"], 0) + int(truth.active(t, now))
    work, settled = ch.work_truth(devnet_snapshot)
    yield {"config": tmp / "config.toml", "cfg": cfg, "powers": powers, "active": active, "work": work,
           "settled": settled, "entities": cm.EntityMap.of(entities), "stale": {"b1", "d1"}}


@pytest.fixture
def page_env(indexed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The dashboard pointed at the indexed store."""
    with dashboard_on(indexed["config"], monkeypatch):
        yield indexed


def _expected(weights: dict[str, Any], em: cm.EntityMap | None = None) -> cm.Metrics:
    m = cm.metrics(cm.group(weights, em) if em else weights)
    assert m is not None
    return m


def _check_metrics(metrics: dict[str, str], prefix: str, m: cm.Metrics) -> None:
    assert metrics[f"{prefix} Nakamoto"] == " · ".join(str(m.nakamoto[k]) for k in ("1/3", "1/2", "2/3")), prefix
    assert metrics[f"{prefix} HHI"] == f"{m.hhi:,.0f}"
    assert metrics[f"{prefix} Gini"] == f"{m.gini:.3f}"


def _check_table(table: Any, column: str, m: cm.Metrics) -> None:
    got = table[column]
    keys = ("1/3", "1/2", "2/3")
    assert [got[f"Nakamoto > {k}"] for k in keys] == [str(m.nakamoto[k]) for k in keys]
    assert (got["HHI"], got["band"], got["count (weight > 0)"]) == (f"{m.hhi:,.0f}", m.band, str(m.count))


def _frame(at: AppTest, column: str) -> Any:
    """The first table on the page with that column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.devnet
def test_page_shows_both_layers_per_entity_and_per_identifier(page_env: dict[str, Any]) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["network"] = ch.NET
    at.query_params["window"] = "all"  # the snapshot's chain time is fixed: keep every change in the tables
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    em = page_env["entities"]
    per_entity = _expected(page_env["powers"], em)
    assert per_entity.nakamoto == {"1/3": 1, "1/2": 1, "2/3": 2}  # 720 of 1260 sit with one entity
    _check_metrics(metrics, "Validator", per_entity)
    _check_metrics(metrics, "TEE", _expected(page_env["active"], em))
    _check_metrics(metrics, "Work", _expected(page_env["work"], em))
    table = _frame(at, "Validators: consensus power")
    _check_table(table, "Validators: consensus power", per_entity)
    _check_table(table, "TEE operators: active TEEs", _expected(page_env["active"], em))
    assert metrics["Work coverage"] == f"{sum(page_env['work'].values()) / page_env['settled']:.1%}"
    text = " ".join(c.value for c in at.caption)
    assert "strictly greater" in text and "2023 US Merger Guidelines" in text and "1,800" in text
    assert any("2 TEE(s) missed heartbeats" in w.value for w in at.warning)
    assert any("runs a build that is not approved (llm_v0)" in e.value for e in at.error)
    live = _frame(at, "active (isTEEActive)")
    assert (live["status"].str.contains("MISSED HEARTBEATS").sum()) == 2
    assert len(at.get("plotly_chart")) == 9  # bars + Lorenz for three measures, three trends

    at.radio(key="conc_view").set_value("per_identifier").run()
    metrics = {m.label: m.value for m in at.metric}
    per_id = _expected(page_env["powers"])
    assert per_id.nakamoto == {"1/3": 2, "1/2": 2, "2/3": 3}
    _check_metrics(metrics, "Validator", per_id)
    _check_metrics(metrics, "TEE", _expected(page_env["active"]))
    assert len(_frame(at, "last_heartbeat_at")) == 10  # one change row per TEE at the one reading
    assert len(_frame(at, "present")) == 12  # six validators from staking, six from CometBFT
    roles = _frame(at, "role")
    assert set(roles["role"]) == {"DEFAULT_ADMIN_ROLE", "TEE_OPERATOR_ROLE"} and len(roles) == 4
    ents = _frame(at, "mapping source")
    assert (ents["entity"] == "(unmapped: counts as itself)").any() and (ents["entity"] == ACME).any()


@pytest.mark.devnet
def test_cli_json_matches_truth(indexed: dict[str, Any]) -> None:
    out = ogwatch("--config", str(indexed["config"]), "concentration", "--json")
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    lay = view["layers"]
    assert view["hhi_bands"] == [1000.0, 1800.0] and "2023 US Merger Guidelines" in view["hhi_band_source"]
    assert lay["validators"]["source"] == "staking"
    rows = lay["validators"]["per_identifier"]["rows"]
    assert {r["identifier"]: r["weight"] for r in rows} == {k: float(v) for k, v in indexed["powers"].items()}
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert lay["validators"]["per_identifier"]["metrics"]["nakamoto"] == {"1/3": 2, "1/2": 2, "2/3": 3}
    assert lay["validators"]["per_entity"]["metrics"]["nakamoto"] == {"1/3": 1, "1/2": 1, "2/3": 2}
    group = next(r for r in lay["validators"]["per_entity"]["rows"] if r["entity"] == GROUP)
    assert group["weight"] == 720.0 and len(group["identifiers"]) == 2
    active = {r["identifier"]: r["weight"] for r in lay["tee_active"]["per_identifier"]["rows"]}
    assert active == {k: float(v) for k, v in indexed["active"].items()}
    cov = lay["tee_work"]["coverage"]
    assert cov["settled"] == indexed["settled"] and cov["attributable"] == sum(indexed["work"].values())
    assert cov["batch_leaves"] is True
    unmapped = [r for r in lay["tee_active"]["per_identifier"]["rows"] if not r["mapped"]]
    assert unmapped and all(r["mapping_source"] == cm.UNMAPPED and r["entity"] == r["identifier"] for r in unmapped)


@pytest.mark.devnet
def test_cli_text_and_bad_network(indexed: dict[str, Any]) -> None:
    out = ogwatch("--config", str(indexed["config"]), "concentration", "--network", ch.NET)
    assert out.returncode == 0, out.stderr
    assert "Validators: consensus power" in out.stdout and "Nakamoto 1/3=1 1/2=1 2/3=2" in out.stdout
    bad = ogwatch("--config", str(indexed["config"]), "concentration", "--network", "nowhere")
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1


def test_empty_store_shows_empty_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGWATCH_CONFIG", str(write_config(tmp_path)))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert any("No TEE registry or validator data yet" in i.value for i in at.info)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.devnet
def test_trends_end_at_the_current_numbers(indexed: dict[str, Any]) -> None:
    from ogwatch.ui import concentration_data as cd
    from store.db import Reader

    run = Reader(indexed["cfg"].store.path).query
    for trend, weights in ((cd.validator_trend, indexed["powers"]), (cd.work_trend, indexed["work"]),
                           (cd.tee_trend, indexed["active"])):
        df = trend(indexed["cfg"], run, None)
        for view, em in (("identifier", None), ("entity", indexed["entities"])):
            last = df[df["view"] == view].iloc[-1]
            m = _expected(weights, em)
            assert (last["hhi"], last["nakamoto 1/3"], last["nakamoto 2/3"]) == \
                (pytest.approx(m.hhi), m.nakamoto["1/3"], m.nakamoto["2/3"]), (trend.__name__, view)
    validators = cd.validator_trend(indexed["cfg"], run, None)
    assert len(validators[validators["view"] == "identifier"]) == 1  # one reading at the head: one point
