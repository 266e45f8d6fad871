"""Production filtering, the `ogwatch verification` CLI and the Verification page on the shared devnet.

Expected numbers come from the simulator's ground truth (which contract called the hub, mode, simulation)
and the config in use; the store is indexed by the real collectors into a temporary file.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ogwatch import config as configmod
from ogwatch.ui import verification_data as vd
from store.db import Reader
from tests.conftest import ROOT, ogwatch
from tests.test_verification import derive
from tests.test_verification_truth import TrueInference, counts, inferences

pytestmark = pytest.mark.devnet
TAGGED = "caller_untagged"  # the caller contract the "tagged" config marks production (the devnet tags it nothing)


@pytest.fixture(scope="module")
def indexed(devnet_world: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The alpha inferences derived into a fresh store; config files for three production definitions."""
    tmp = tmp_path_factory.mktemp("vviews")
    path = derive(devnet_world, tmp / "ogwatch.duckdb")
    base = devnet_world.config_toml(str(path))
    prod = devnet_world.dep.get(TAGGED).address
    configs = {
        "default": base,  # alpha is a test network; what the devnet config tags production stays so
        "tagged": base + f'\n[[callers]]\nnetwork = "alpha"\naddress = "{prod}"\nlabel = "prod app"\n'
                         'tags = ["production"]\n',
        "untagged": base.replace('tags = ["production"]', "tags = []"),
        "network": re.sub(r"(\[networks\.alpha\]\n(?:[^\n]+\n)*?)production = false", r"\1production = true", base),
    }
    files = {}
    for key, text in configs.items():
        files[key] = tmp / f"{key}.toml"
        files[key].write_text(text)
    return {"files": files, "path": path}


def tagged_in(files: dict[str, Path], key: str) -> set[str]:
    """Addresses on alpha tagged "production" in a config file's [[callers]] and [[contracts]] (read here)."""
    raw = tomllib.loads(files[key].read_text())
    return {e["address"].lower() for e in [*raw.get("callers", []), *raw.get("contracts", [])]
            if e["network"] == "alpha" and "production" in e.get("tags", [])}


def expected(truth: list[TrueInference], callers: set[str]) -> tuple[int, int]:
    """(production n, production Vanilla) when the given callers are production-tagged."""
    prod = [t for t in truth if not t.simulation and t.caller in callers]
    return len(prod), sum(t.mode == "VANILLA" for t in prod)


def view(files: dict[str, Path], key: str) -> dict[str, Any]:
    cfg = configmod.load(files[key])
    return vd.headline(cfg, Reader(cfg.store.path).query)


def test_tagging_a_caller_changes_the_headline_as_truth_predicts(indexed, devnet_world, devnet_snapshot) -> None:
    truth = inferences(devnet_snapshot, devnet_world)
    prod = devnet_world.dep.get(TAGGED).address.lower()
    assert prod not in tagged_in(indexed["files"], "default") and prod in tagged_in(indexed["files"], "tagged")
    assert expected(truth, tagged_in(indexed["files"], "default")) != expected(truth, tagged_in(indexed["files"],
                                                                                               "tagged"))
    for key in ("default", "tagged"):
        n, vanilla = expected(truth, tagged_in(indexed["files"], key))
        got = view(indexed["files"], key)
        assert n > 0 and got["headline"]["status"] == "ok"
        assert (got["headline"]["n"], got["headline"]["vanilla"]) == (n, vanilla)
        assert got["headline"]["vanilla_share"] == pytest.approx(vanilla / n)
        assert got["all"]["n"] == len(truth)
    tagged = view(indexed["files"], "tagged")
    assert "prod app (alpha)" in tagged["production_definition"]["text"]


def test_a_production_network_counts_all_but_simulations(indexed, devnet_world, devnet_snapshot) -> None:
    truth = inferences(devnet_snapshot, devnet_world)
    real = [t for t in truth if not t.simulation]
    got = view(indexed["files"], "network")
    assert "alpha" in got["production_definition"]["networks"]
    assert len(real) < len(truth)  # the truth has simulations, and they never count
    assert (got["headline"]["n"], got["headline"]["vanilla"]) == (len(real), sum(t.mode == "VANILLA" for t in real))


def test_nothing_tagged_says_so_with_n_never_zero_percent(indexed, devnet_world, devnet_snapshot) -> None:
    got = view(indexed["files"], "untagged")
    n = len(inferences(devnet_snapshot, devnet_world))
    assert got["headline"]["status"] == vd.NO_SOURCE
    assert got["headline"]["vanilla_share"] is None
    assert f"n = {n}" in got["headline"]["text"] and "%" not in got["headline"]["text"]


def test_llm_tee_counts_as_tee_never_zkml(indexed, devnet_world, devnet_snapshot) -> None:
    truth = inferences(devnet_snapshot, devnet_world)
    got = view(indexed["files"], "default")["all"]["modes"]
    for mode in ("VANILLA", "TEE", "ZKML"):
        assert got[mode]["count"] == sum(t.mode == mode for t in truth)
    llm_tee = sum(t.mode == "TEE" and t.kind != "ml" for t in truth)
    assert llm_tee > 0 and got["ZKML"]["count"] == sum(t.mode == "ZKML" and t.kind == "ml" for t in truth)


def test_counts_query_equals_truth(indexed, devnet_world, devnet_snapshot) -> None:
    cfg = configmod.load(indexed["files"]["default"])
    df = Reader(cfg.store.path).query("verification_counts", **vd.params(cfg, None, None))
    got: Counter[tuple[str | None, str, str, bool]] = Counter()
    for r in df.to_dict("records"):
        caller = r["caller"].lower() if isinstance(r["caller"], str) else None
        got[(caller, r["kind"], r["mode"], bool(r["is_simulation"]))] += int(r["inferences"])
    assert got == counts(inferences(devnet_snapshot, devnet_world))


def test_cli_json_matches_truth(indexed, devnet_world, devnet_snapshot) -> None:
    truth = inferences(devnet_snapshot, devnet_world)
    n, vanilla = expected(truth, tagged_in(indexed["files"], "tagged"))
    out = ogwatch("--config", str(indexed["files"]["tagged"]), "verification", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert (got["headline"]["n"], got["headline"]["vanilla"]) == (n, vanilla)
    assert got["all"]["n"] == len(truth)
    assert got["all"]["modes"]["TEE"]["count"] == sum(t.mode == "TEE" for t in truth)
    assert got["coverage"]["derived"] == got["coverage"]["indexed"] == len(truth)
    assert got["production_definition"]["networks"] == []
    assert "settlement" in got
    text = ogwatch("--config", str(indexed["files"]["untagged"]), "verification")
    assert text.returncode == 0 and vd.NO_SOURCE in text.stdout and f"n = {len(truth)}" in text.stdout
    bad = ogwatch("--config", str(indexed["files"]["tagged"]), "verification", "--network", "nope")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown network" in bad.stderr


@pytest.fixture
def page(indexed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A function rendering the page under one of the configs."""
    monkeypatch.chdir(ROOT)

    def render(key: str) -> AppTest:
        monkeypatch.setenv("OGWATCH_CONFIG", str(indexed["files"][key]))
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "pages" / "verification.py"), default_timeout=60)
        at.query_params["window"] = "all"
        return at.run()

    yield render
    st.cache_data.clear()
    st.cache_resource.clear()


def test_page_shows_the_headline_with_n(page, indexed, devnet_world, devnet_snapshot) -> None:
    truth = inferences(devnet_snapshot, devnet_world)
    n, vanilla = expected(truth, tagged_in(indexed["files"], "tagged"))
    at = page("tagged")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vanilla share in production"] == f"{vanilla / n * 100:.1f} %"
    assert metrics["Production inferences (n)"] == f"{n:,}"
    assert metrics["All inferences (n)"] == f"{len(truth):,}"
    captions = " ".join(c.value for c in at.caption)
    assert "Production definition in use" in captions and "prod app (alpha)" in captions
    assert len(at.dataframe) == 2
    assert "VANILLA" in " ".join(m.value for m in at.markdown)


def test_page_without_production_source(page, devnet_world, devnet_snapshot) -> None:
    at = page("untagged")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vanilla share in production"] == vd.NO_SOURCE
    assert any(vd.NO_SOURCE in w.value for w in at.warning)
    assert not any("0.0 %" == v for v in metrics.values())
