"""Bad configuration: one clear line per problem and exit code 2, from the real CLI."""

from __future__ import annotations

import pytest

from ogwatch import config
from tests.conftest import ROOT, ogwatch, write_config

GOOD_MARKET = "0x1E5A5c87513C3a11F763dbcE15Da60d912b953B3"

CASES = {
    "malformed TOML": ("[networks.x\nname=", ["malformed TOML"]),
    "unknown key": ('[networks.local2]\nname="a"\nchain_id=1\nrpc_urlz=["http://x"]\n',
                    ["networks.local2.rpc_urlz: unknown key"]),
    "wrong type": ('[networks.local2]\nname="a"\nchain_id="ten"\n',
                   ["networks.local2.chain_id", "valid integer", "'ten'"]),
    "bad checksum": (f'[[contracts]]\nnetwork="local"\nkind="twinfun_market"\naddress="{GOOD_MARKET[:-1]}4"\n',
                     ["contracts.0.address", "bad EIP-55 checksum"]),
    "bad length": ('[[contracts]]\nnetwork="local"\nkind="twinfun_market"\naddress="0x1234"\n',
                   ["contracts.0.address", "not a 20-byte hex address"]),
    "unknown kind": (f'[[contracts]]\nnetwork="local"\nkind="casino"\naddress="{GOOD_MARKET}"\n', ["contracts.0.kind"]),
    "dangling network": (f'[[contracts]]\nnetwork="mars"\nkind="twinfun_market"\naddress="{GOOD_MARKET}"\n',
                         ["unknown network 'mars'"]),
    "precompile flag": ('[[contracts]]\nnetwork="local"\nkind="staking_precompile"\n'
                        'address="0x0000000000000000000000000000000000000800"\n', ["needs precompile = true"]),
    "bad env name": ('[networks.local2]\nname="a"\nchain_id=2\nrpc_url_env=["my-key"]\n',
                     ["not an environment variable name"]),
    "negative start": (f'[[contracts]]\nnetwork="local"\nkind="twinfun_market"\naddress="{GOOD_MARKET}"\n'
                       'start_block=-5\n', ["contracts.0.start_block"]),
    "bad rpc url": ('[networks.local2]\nname="a"\nchain_id=2\nrpc_urls=["ftp://x"]\n', ["must start with http"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_one_line_exit_2(tmp_path, case) -> None:
    extra, needles = CASES[case]
    cfg = write_config(tmp_path, extra="\n" + extra)
    out = ogwatch("--config", str(cfg), "check", "--offline")
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ogwatch: ")
    assert "Traceback" not in out.stderr
    for needle in needles:
        assert needle in lines[0]


def test_several_problems_one_line_each(tmp_path) -> None:
    cfg = write_config(tmp_path, extra='\n[networks.a]\nname="a"\nchain_id="x"\ncolour="red"\n')
    out = ogwatch("--config", str(cfg), "check", "--offline")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 2


def test_missing_file(tmp_path) -> None:
    out = ogwatch("--config", str(tmp_path / "nope.toml"), "check", "--offline")
    assert out.returncode == 2
    assert out.stderr.strip() == f"ogwatch: {tmp_path / 'nope.toml'}: config file not found"


def test_example_config_is_valid_and_real() -> None:
    cfg = config.load(ROOT / "config.example.toml")
    assert {n.chain_id for n in cfg.networks.values()} == {10740, 10744, 56, 8453, 84532}
    by_kind = {c.kind: c for c in cfg.contracts}
    assert by_kind["twinfun_market"].address == GOOD_MARKET
    assert by_kind["twinfun_market"].start_block == 68764746
    assert by_kind["inference_precompile"].precompile and by_kind["staking_precompile"].precompile
    assert cfg.networks["alpha"].production is False


def test_missing_secret_env_is_one_line(tmp_path) -> None:
    cfg = write_config(tmp_path, extra='\n[networks.keyed]\nname="k"\nchain_id=5\nrpc_url_env=["OGW_TEST_UNSET_URL"]\n')
    out = ogwatch("--config", str(cfg), "check", "--network", "keyed", env={"OGW_TEST_UNSET_URL": ""})
    assert out.returncode == 2
    assert out.stderr.strip() == "ogwatch: keyed: environment variable OGW_TEST_UNSET_URL is not set"


def test_relative_store_path_is_next_to_the_config(tmp_path) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    (sub / "c.toml").write_text('[store]\npath = "db/x.duckdb"\n[networks.a]\nname="a"\nchain_id=1\n')
    assert config.load(sub / "c.toml").store.path == str(sub / "db" / "x.duckdb")
