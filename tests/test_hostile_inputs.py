"""Hostile input to the dashboard: SQL-ish, very long and non-ASCII text in every input; parameterised SQL only.

The pages' inputs are the URL query parameters every page reads (`network`, `window`, the fee page's
`market`) and the one free-text box (the fee page's twin id / subject address for the live price
check); the rest are select boxes and bounded number inputs. Each hostile string must give no
exception, a clear "not found"/"invalid" message, and leave the store exactly as it was. Two static
checks back this up: every registered query binds every value as a `$name` parameter, and no code
builds SQL text from a variable outside a vetted list of table/column-name interpolations.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from collectors import runner
from store import queries
from store.db import Store
from tests.conftest import ROOT, dashboard_on
from tests.engine_helpers import world_config
from tests.test_bad_input import store_state

HOSTILE = [
    "'; DROP TABLE trades; --",
    "0x' OR '1'='1",
    "$chain_id) UNION SELECT * FROM outbox --",
    "{table}%s",
    "x" * 100_000,
    "ツイン🙂 \u202eevil\u200b Ωμέγα",
]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py")
SQL_CALLS = {"execute", "executemany", "sql", "query_df"}
# Files that interpolate identifiers (table and column names from fixed registries, `?` marks) into SQL;
# values always go in as bound parameters. Count per file: a new interpolation must be reviewed here.
VETTED = {"store/chainwrite.py": 6, "alerts/grouping.py": 1, "collectors/change_rows.py": 1,
          "collectors/fee_state_store.py": 1, "collectors/fee_control.py": 2, "collectors/settle_store.py": 2,
          # summary table/column names and bucket widths from the module's own constants (its `_run` too)
          "store/verification_summary.py": 2}


@pytest.fixture(scope="module")
def store_cfg(devnet_world: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """base's fee market indexed and ticked into a fresh store, with its config file."""
    tmp = tmp_path_factory.mktemp("hostile")
    path = tmp / "ogwatch.duckdb"
    cfg = world_config(devnet_world, path)
    (tmp / "config.toml").write_text(devnet_world.config_toml(str(path)))
    with Store(path, serve=False) as store:
        for eng in runner.engines(cfg, store, ["base"]):
            while eng.tick().spans:
                pass
        for job in runner.fee_jobs(cfg, store, runner.pools(cfg, ["base"])):
            job.tick()
    return {"path": path, "config": tmp / "config.toml", "state": store_state(path)}


@pytest.fixture
def page_env(store_cfg: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with dashboard_on(store_cfg["config"], monkeypatch):
        yield store_cfg


def _texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.text, *at.title, *at.subheader]
    return "\n".join(str(p.value) for p in parts)


@pytest.mark.devnet
@pytest.mark.parametrize("page", PAGES)
def test_hostile_url_parameters(page: str, page_env: dict[str, Any]) -> None:
    for text in HOSTILE:
        at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)
        at.query_params.update({"network": text, "window": text, "market": text})
        at.run()
        assert not at.exception, (page, text[:40], at.exception)
        assert at.sidebar.selectbox(key="sel_network").value == "all"  # an unknown network falls back
        if page == "fees.py":
            assert any(f"No market matches {text!r}" in i.value for i in at.info)
    assert store_state(page_env["path"]) == page_env["state"]


@pytest.mark.devnet
def test_hostile_twin_ids_in_the_price_check(page_env: dict[str, Any]) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "fees.py"), default_timeout=60)
    at.query_params.update({"network": "base"})
    at.run()
    assert not at.exception
    box = next(t for t in at.text_input if t.key and t.key.endswith("_subject"))
    for text in HOSTILE:
        box.set_value(text).run()
        assert not at.exception, (text[:40], at.exception)
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and errors[0].startswith("Cannot check this price: "), errors
        assert re.match(r"Cannot check this price: not (an address|a twin id)", errors[0]), errors[0][:200]
    assert store_state(page_env["path"]) == page_env["state"]


def test_every_registered_query_binds_every_value() -> None:
    assert len(queries.REGISTRY) > 20
    for q in queries.REGISTRY.values():
        used = set(re.findall(r"\$([A-Za-z_]\w*)", q.sql))
        assert used == set(q.params), (q.name, used, q.params)
        assert not re.search(r"\{[A-Za-z_]\w*\}|%s|%\(", q.sql), q.name  # no format leftovers
        assert re.match(r"\s*(--[^\n]*\n\s*)*(SELECT|WITH)\b", q.sql, re.IGNORECASE), q.name  # reads only


def _interpolated_sql(path: Path) -> int:
    """Calls that pass SQL built at run time (f-string, format, %, +) as the statement."""
    n = 0
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS \
                and node.args and isinstance(node.args[0], ast.JoinedStr | ast.BinOp | ast.Call):
            n += 1
    return n


def test_no_sql_text_from_variables_outside_the_vetted_list() -> None:
    found = {}
    for folder in ("store", "ogwatch", "pages", "alerts", "collectors", "analysis", "app.py"):
        for path in ([ROOT / folder] if folder.endswith(".py") else sorted((ROOT / folder).rglob("*.py"))):
            n = _interpolated_sql(path)
            if n:
                found[str(path.relative_to(ROOT))] = n
    assert {k: v for k, v in found.items() if v > VETTED.get(k, 0)} == {}


def test_pages_and_ui_never_hold_sql() -> None:
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ogwatch" / "ui").glob("*.py"), ROOT / "app.py"]:
        src = path.read_text()
        assert "import duckdb" not in src, path
        assert _interpolated_sql(path) == 0, path
