"""The RPC cross-check's pure parts: judging answers, the rule on hand-built health rows, config, wiring.

The node-backed cases (agreement, stale heads, a fork behind one URL) are in tests/test_crosscheck_devnet.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alerts.rules import BY_NAME, RuleContext, rpc_disagreement
from collectors import crosscheck, runner
from collectors.crosscheck import HOLD, Answer, CheckedEngine, judge
from collectors.engine import Engine
from ogwatch import config
from ogwatch.errors import ConfigError
from store.db import Store

A, B, C = "http://a.example", "http://b.example", "http://c.example"
H1, H2 = "0x" + "11" * 32, "0x" + "22" * 32
MARKET = "0x8464135c8F25Da09e49BC8782676a84730C318bC"


def test_agreement_limits_indexing_to_the_common_block() -> None:
    v = judge(98, [Answer(A, 100, H1), Answer(B, 103, H1)], max_lag=5)
    assert (v.ok, v.limit, v.head, v.problems) == (True, 98, 103, ())


def test_different_hashes_hold_everything_and_name_every_url() -> None:
    v = judge(98, [Answer(A, 100, H1), Answer(B, 100, H2), Answer(C, error="HTTP 502")], max_lag=5)
    assert v.limit == HOLD and not v.ok
    assert v.problems == (f"hashes differ at block 98: {A} head 100 hash {H1[:12]}..; {B} head 100 hash "
                          f"{H2[:12]}..; {C} did not answer (HTTP 502); indexing held",)


def test_a_url_without_the_common_block_counts_as_disagreeing() -> None:
    v = judge(98, [Answer(A, 100, H1), Answer(B, 100, None)], max_lag=5)
    assert v.limit == HOLD and "hash none" in v.problems[0]


def test_lag_beyond_tolerance_is_reported_but_the_slowest_url_still_sets_the_limit() -> None:
    v = judge(90, [Answer(A, 100, H1), Answer(B, 92, H1)], max_lag=5)
    assert v.limit == 90 and v.problems == (f"lags: {B} head 92 is 8 blocks behind the highest (100)",)
    assert judge(95, [Answer(A, 100, H1), Answer(B, 97, H1)], max_lag=5).ok


def test_one_answering_url_cannot_vouch_and_sets_no_limit() -> None:
    v = judge(98, [Answer(A, 100, H1), Answer(B, error="cannot connect (Connection refused)")], max_lag=5)
    assert v.limit is None and v.problems == (
        f"cannot cross-check: 1 of 2 URLs answered: {A} head 100 hash {H1[:12]}..; "
        f"{B} did not answer (cannot connect (Connection refused))",)


def test_below_genesis_nothing_is_confirmed_yet() -> None:
    assert judge(-2, [Answer(A, 0, H1), Answer(B, 0, H1)], max_lag=5).limit == HOLD


def health(**row: Any) -> pd.DataFrame:
    base = {"collector": "rpc_crosscheck", "chain_id": 56, "ok": False, "errors_1h": 1, "lag_blocks": None,
            "last_error": row.get("error"), "last_success": pd.Timestamp(datetime(2026, 1, 1, tzinfo=UTC))}
    return pd.DataFrame([{**base, **row}])


def run(rule: str, df: pd.DataFrame, **params: Any) -> list[Any]:
    r = BY_NAME[rule]
    return r.evaluate(RuleContext(lambda name, **_: df, datetime(2026, 1, 2, tzinfo=UTC), {**r.defaults, **params}))


def test_the_rule_fires_critical_on_hashes_warning_on_lag_and_owns_the_rows() -> None:
    (f,) = run("rpc_disagreement", health(error="hashes differ at block 9: ..."))
    assert (f.severity, f.key, f.labels) == ("critical", (56,), {"chain_id": "56"})
    assert f.summary == "RPC URLs of chain 56: hashes differ at block 9: ..."
    (w,) = run("rpc_disagreement", health(error="lags: http://b head 1 is 9 blocks behind the highest (10)"))
    assert w.severity == "warning"
    assert run("rpc_disagreement", health(ok=True, error=None, errors_1h=0)) == []
    assert run("rpc_disagreement", health(error="lags: ..."), min_rounds_1h=2) == []
    # the generic collector rules leave the cross-check's rows alone (one alert per problem)
    assert run("collector_failing", health(error="hashes differ")) == []
    assert run("stale_data", health(error="hashes differ")) == []
    assert rpc_disagreement.COLLECTOR == crosscheck.COLLECTOR


def raw_config(urls: list[str], envs: list[str] | None = None, **net: Any) -> dict[str, Any]:
    return {"networks": {"bsc": {"name": "BNB", "chain_id": 56, "rpc_urls": urls, "rpc_url_env": envs or [], **net}},
            "contracts": [{"network": "bsc", "kind": "twinfun_market", "address": MARKET}]}


def test_config_defaults_and_the_one_url_error() -> None:
    assert not config.parse(raw_config([A])).networks["bsc"].cross_checked
    assert config.parse(raw_config([A], ["OGW_SECOND_URL"])).networks["bsc"].cross_checked
    assert not config.parse(raw_config([A, B], cross_check_heads=False)).networks["bsc"].cross_checked
    with pytest.raises(ConfigError) as err:
        config.parse(raw_config([A], cross_check_heads=True))
    assert str(err.value) == ("config: networks.bsc: cross_check_heads = true needs at least two RPC URLs "
                              "(rpc_urls and rpc_url_env)")


def test_one_url_builds_the_plain_engine_and_two_share_one_check(tmp_path: Path) -> None:
    with Store(tmp_path / "w.duckdb", serve=False) as store:
        (one,) = runner.engines(config.parse(raw_config([A])), store)
        assert type(one) is Engine
        cfg = config.parse(raw_config([A, B], poll_seconds=4))
        pools = runner.pools(cfg, ["bsc"])
        engs = runner.engines(cfg, store, shared=pools) + runner.engines(cfg, store, shared=pools)
        assert engs and all(isinstance(e, CheckedEngine) for e in engs)
        guard = engs[0].guard  # type: ignore[attr-defined]
        assert (guard.min_interval, guard.max_lag, guard.confirmations) == (2.0, 5, 2)
        # one round per network and poll: the engines and the fee watch's jobs on the same pools share it
        assert {id(e.guard) for e in engs} == {id(guard)}  # type: ignore[attr-defined]
        assert [j.guard for j in runner.fee_jobs(cfg, store, pools)] == [guard]
        assert runner.engines(cfg, store)[0].guard is not guard  # type: ignore[attr-defined]


def test_the_health_strip_shows_a_disagreement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT, dashboard_on, write_config

    cfg = write_config(tmp_path, extra='\n[networks.bsc]\nname="BNB Smart Chain"\nchain_id=56\n')
    problem = f"hashes differ at block 98: {A} head 100 hash {H1[:12]}..; {B} head 100 hash {H2[:12]}..; indexing held"
    now = datetime.now(UTC)
    with Store(tmp_path / "ogwatch.duckdb", serve=False) as s, s.transaction() as cur:
        cur.execute("INSERT INTO service_heartbeats VALUES (1, 1, ?)", [now])
        for collector, ok, err in (("fees", True, None), ("rpc_crosscheck", False, problem)):
            cur.execute("INSERT INTO collector_health (collector, chain_id, observed_at, ok, head_block, "
                        "indexed_block, error) VALUES (?, 56, ?, ?, 100, ?, ?)",
                        [collector, now, ok, 98 if ok else None, err])
    with dashboard_on(cfg, monkeypatch):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        at.query_params["network"] = "bsc"
        at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"**RPC cross-check:** {problem}"]
    assert {m.label: m.value for m in at.metric}["Last indexed block"] == "98"
