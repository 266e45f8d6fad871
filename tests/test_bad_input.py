"""Bad input against a store that already holds data: one clear line, a non-zero exit, nothing lost.

Each case runs the real `ogwatch` CLI on a config pointing at the shared devnet, after a first
`ogwatch collect` filled the store, then opens the store and compares every table's row count and
the checkpoints with before. The rest of the catalogue (malformed TOML, unknown keys, wrong types,
bad addresses, no code, silent precompile, `check` on a wrong chain or an unreachable RPC, private
webhook URLs, unknown market or twin) is proved elsewhere: see the table in docs/SECURITY.md.
A full or read-only `data/` is a real tmpfs mounted by the test (the suite runs as root), so the
write errors come from the kernel, not from an injected fault; without mount rights those two skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

from devnet import nodes
from tests.conftest import ogwatch

pytestmark = pytest.mark.devnet


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING) ogwatch")
OPERATIONAL = {"collector_health", "node_capabilities"}  # a failed tick is recorded; data never is


def store_state(path: Path) -> dict[str, Any]:
    """Row count of every table, and the checkpoints themselves."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone() for t in tables}  # noqa: S608
        cps = con.execute("SELECT collector, chain_id, genesis_hash, block_number, block_hash FROM checkpoints "
                          "ORDER BY ALL").fetchall()
        return {"counts": counts, "checkpoints": cps}
    finally:
        con.close()


@pytest.fixture(scope="module")
def seeded(devnet_world, tmp_path_factory) -> dict[str, Any]:
    """A store holding base's fee events, collected by the real CLI; real-network genesis policy."""
    d = tmp_path_factory.mktemp("bad_input")
    store = d / "ogwatch.duckdb"
    text = devnet_world.config_toml(str(store)).replace("reset_on_new_genesis = true", "reset_on_new_genesis = false")
    cfg = d / "config.toml"
    cfg.write_text(text)
    out = ogwatch("--config", str(cfg), "collect", "--network", "base")
    assert out.returncode == 0, out.stderr
    state = store_state(store)
    assert state["counts"]["trades"][0] > 100 and state["checkpoints"]
    return {"dir": d, "store": store, "text": text, "url": devnet_world.urls["base"], "state": state,
            "other_url": devnet_world.urls["base_sepolia"]}


def run_bad(seeded: dict[str, Any], text: str, *args: str, env: dict[str, str] | None = None,
            store: Path | None = None) -> str:
    """Run with a changed config; assert one line, non-zero exit and an unchanged store; return the line."""
    cfg = seeded["dir"] / "bad.toml"
    cfg.write_text(text)
    out = ogwatch("--config", str(cfg), *args, env=env)
    lines = [ln for ln in out.stderr.strip().splitlines() if not LOG_LINE.match(ln)]  # `run` logs its start
    assert out.returncode != 0, out.stdout + out.stderr
    assert len(lines) == 1 and lines[0].startswith("ogwatch: "), out.stderr
    assert "Traceback" not in out.stderr
    assert_nothing_lost(store or seeded["store"], seeded["state"])
    return lines[0]


def assert_nothing_lost(path: Path, before: dict[str, Any]) -> None:
    """Checkpoints equal; chain data equal; only operational records (health, node capabilities) may grow."""
    after = store_state(path)
    assert after["checkpoints"] == before["checkpoints"]
    changed = {t: (before["counts"].get(t), n) for t, n in after["counts"].items() if before["counts"].get(t) != n}
    assert set(changed) <= OPERATIONAL, changed
    assert all(b is not None and n[0] >= b[0] for b, n in changed.values()), changed


def test_another_chain_behind_the_url_removes_nothing(seeded) -> None:
    """base_sepolia's node has base's genesis hash (anvil's is deterministic): only the chain id tells them apart."""
    text = seeded["text"].replace(seeded["url"], seeded["other_url"])
    line = run_bad(seeded, text, "collect", "--network", "base")
    assert line == f"ogwatch: base: {seeded['other_url']} is chain 84532, config says 8453; refusing to index"
    line = run_bad(seeded, text, "run")
    assert "is chain 84532, config says 8453; refusing to index" in line


def test_a_changed_genesis_is_refused(seeded) -> None:
    node = nodes.start_node("base_regenesis", 8453, extra_args=["--timestamp", "1000"])
    try:
        for _ in range(30):  # above our checkpoint, so that a reset chain would look like new blocks
            nodes.mine(node)
        line = run_bad(seeded, seeded["text"].replace(seeded["url"], node.url), "collect", "--network", "base")
    finally:
        node.stop()
    assert re.fullmatch(r"ogwatch: base: the node's genesis 0x[0-9a-f]{10}\.\. differs from the indexed chain's "
                        r"0x[0-9a-f]{10}\.\.: wrong URL or a reset chain; refusing", line), line


def test_unreachable_rpc_on_collect(seeded) -> None:
    port = nodes.free_port()
    line = run_bad(seeded, seeded["text"].replace(seeded["url"], f"http://127.0.0.1:{port}"),
                   "collect", "--network", "base")
    assert line == f"ogwatch: http://127.0.0.1:{port}: cannot connect (Connection refused)"


@pytest.mark.parametrize("command", [("collect", "--network", "base"), ("run",)])
def test_missing_secret_env_var(seeded, command) -> None:
    text = seeded["text"].replace(f'rpc_urls = ["{seeded["url"]}"]', 'rpc_url_env = ["OGW_BAD_INPUT_UNSET"]')
    line = run_bad(seeded, text, *command, env={"OGW_BAD_INPUT_UNSET": ""})
    assert line == "ogwatch: networks.base: environment variable OGW_BAD_INPUT_UNSET is not set"


def test_start_block_in_the_future(seeded) -> None:
    line = run_bad(seeded, seeded["text"], "collect", "--network", "base", "--from", "99999999")
    assert re.fullmatch(r"ogwatch: base: --from 99999999 is above the chain's head \d+; nothing to index", line)
    market = "0x8464135c8F25Da09e49BC8782676a84730C318bC"
    text = seeded["text"].replace(f'address = "{market}"\nstart_block = 0\n', f'address = "{market}"\n'
                                  "start_block = 99999999\n")
    assert text != seeded["text"]
    for args in (("collect", "--network", "base"), ("check", "--network", "base")):
        line = run_bad(seeded, text, *args)
        assert re.fullmatch(rf"ogwatch: base: friendtech_market at {market}: start_block 99999999 is above the "
                            r"chain's head \d+", line), line


@pytest.fixture
def tmpfs(tmp_path_factory):
    """A 12 MB tmpfs (real kernel write errors); skipped where mounting is not allowed.

    A short directory name: the redaction masks long key-like path segments (24+ characters).
    """
    mnt = tmp_path_factory.mktemp("fs") / "data"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def _on(seeded: dict[str, Any], mnt: Path) -> Path:
    shutil.copyfile(seeded["store"], mnt / "ogwatch.duckdb")
    return mnt / "ogwatch.duckdb"


def _fill(mnt: Path, leave: int) -> Path:
    filler = mnt / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def _one_error_line(out: subprocess.CompletedProcess[str]) -> str:
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("ogwatch: ")]  # beside the progress bars
    assert out.returncode == 1 and len(errors) == 1 and "Traceback" not in out.stderr, out.stderr
    return errors[0]


def test_data_dir_fills_up_mid_collect(seeded, tmpfs) -> None:
    """The disk fills while every network is backfilled: the commit fails, one line, the file still opens."""
    store = _on(seeded, tmpfs)
    cfg = tmpfs.parent / "full.toml"
    cfg.write_text(seeded["text"].replace(str(seeded["store"]), str(store)))
    filler = _fill(tmpfs, 96 * 1024)
    line = _one_error_line(ogwatch("--config", str(cfg), "collect"))
    assert line.startswith("ogwatch: cannot write ") and "No space left on device" in line, line
    filler.unlink()
    after = store_state(store)
    assert [c for c in after["checkpoints"] if c[1] == 8453] == seeded["state"]["checkpoints"]
    assert all(after["counts"][t][0] >= n[0] for t, n in seeded["state"]["counts"].items())
    assert after["counts"]["trades"] == seeded["state"]["counts"]["trades"]  # base is at its head: nothing new


def test_data_dir_full_before_start(seeded, tmpfs) -> None:
    store = _on(seeded, tmpfs)
    cfg = tmpfs.parent / "full.toml"
    cfg.write_text(seeded["text"].replace(str(seeded["store"]), str(store)))
    filler = _fill(tmpfs, 0)
    line = _one_error_line(ogwatch("--config", str(cfg), "collect", "--network", "base"))
    assert line == f"ogwatch: cannot write beside {store}: No space left on device"
    filler.unlink()
    assert_nothing_lost(store, seeded["state"])


def test_data_dir_read_only(seeded, tmpfs) -> None:
    store = _on(seeded, tmpfs)
    cfg = tmpfs.parent / "ro.toml"
    cfg.write_text(seeded["text"].replace(str(seeded["store"]), str(store)))
    before = store_state(store)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    for args in (("collect", "--network", "base"), ("run",)):
        out = ogwatch("--config", str(cfg), *args)
        lines = [ln for ln in out.stderr.strip().splitlines() if not LOG_LINE.match(ln)]
        assert out.returncode == 1 and lines == [f'ogwatch: cannot open {store}: IO Error: Cannot open file '
                                                  f'"{store}": Read-only file system'], out.stderr
    assert store_state(store) == before


FT_TRADE = "0x2c76e7a47fd53e2854856ac3f0a5f3ee40d15cfaa82266357ea9779c486ab9c3"  # friend.tech Trade(...)
MISFIT = "0x000000000000000000000000000000000000ab1e"


@pytest.fixture(scope="module")
def misfit_chain(tmp_path_factory) -> Any:
    """A chain whose 'market' emits friend.tech's Trade topic0 with no data: the ABI does not fit."""
    node = nodes.start_node("base_misfit", 8453)
    nodes.set_code(node, MISFIT, "0x7f" + FT_TRADE[2:] + "60006000a100")  # LOG1(topic0, empty data); STOP
    sender = nodes.rpc(node, "eth_accounts")[0]
    tx = nodes.rpc(node, "eth_sendTransaction", [{"from": sender, "to": MISFIT, "gas": "0x30000"}])
    nodes.mine(node, 3)
    d = tmp_path_factory.mktemp("misfit")
    cfg = d / "config.toml"
    cfg.write_text(f'[store]\npath = "{d / "ogwatch.duckdb"}"\n[networks.base]\nname = "b"\nchain_id = 8453\n'
                   f'rpc_urls = ["{node.url}"]\nconfirmations = 0\n[[contracts]]\nnetwork = "base"\n'
                   f'kind = "friendtech_market"\naddress = "{MISFIT}"\n')
    out = ogwatch("--config", str(cfg), "collect")
    yield {"out": out, "store": d / "ogwatch.duckdb", "tx": tx}
    node.stop()


def test_abi_mismatch_is_kept_with_its_reason(misfit_chain) -> None:
    """A log that does not fit its ABI is recorded with the reason, and the span still commits."""
    assert "Traceback" not in misfit_chain["out"].stderr
    con = duckdb.connect(str(misfit_chain["store"]), read_only=True)
    try:
        rows = con.execute("SELECT chain_id, tx_hash, address, topic0, reason FROM decode_errors").fetchall()
        cps = con.execute("SELECT block_number FROM checkpoints").fetchall()
    finally:
        con.close()
    assert [(c, t, a.lower(), k) for c, t, a, k, _ in rows] == [(8453, misfit_chain["tx"], MISFIT, FT_TRADE)]
    assert rows[0][4] and cps and cps[0][0] >= 1


def test_abi_mismatch_is_one_line_and_non_zero(misfit_chain) -> None:
    out = misfit_chain["out"]
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("ogwatch: ")]
    assert out.returncode == 1 and len(errors) == 1 and "ABI" in errors[0]


@pytest.mark.parametrize("command", [("collect", "--network", "base"), ("run",), ("check",)])
def test_cross_check_with_one_url_is_refused(seeded, command) -> None:
    one = f'rpc_urls = ["{seeded["url"]}"]'
    line = run_bad(seeded, seeded["text"].replace(one, one + "\ncross_check_heads = true"), *command)
    assert line == (f"ogwatch: {seeded['dir'] / 'bad.toml'}: networks.base: cross_check_heads = true needs at "
                    "least two RPC URLs (rpc_urls and rpc_url_env)")
