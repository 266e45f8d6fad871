"""`[store] memory_limit` and `maintain_seconds`: validated in the config (one line, exit 2), the environment's
override checked the same way, and the limit applied to the scheduler's DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from ogwatch import service
from ogwatch.config import load
from ogwatch.errors import ConfigError
from tests.conftest import ogwatch, write_config


def _with_store(tmp_path: Path, lines: str) -> Path:
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[store]\n", f"[store]\n{lines}\n", 1))
    return cfg


@pytest.mark.parametrize(("lines", "word"), [('memory_limit = "lots"', "memory_limit"),
                                             ("maintain_seconds = -5", "maintain_seconds")])
def test_bad_store_settings_are_one_line_and_exit_2(tmp_path: Path, lines: str, word: str) -> None:
    out = ogwatch("--config", str(_with_store(tmp_path, lines)), "run")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and word in out.stderr
    assert not (tmp_path / "ogwatch.duckdb").exists()  # refused before anything was opened


def test_a_bad_override_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = ogwatch("--config", str(write_config(tmp_path)), "run", env={service.MAINTAIN_ENV: "soon"})
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"ogwatch: {service.MAINTAIN_ENV}='soon': expected seconds between 0 and 86400"]


def test_the_settings_reach_the_scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load(_with_store(tmp_path, 'memory_limit = "96MB"\nmaintain_seconds = 42'))
    monkeypatch.delenv(service.MAINTAIN_ENV, raising=False)
    assert service.maintain_seconds(cfg) == 42
    monkeypatch.setenv(service.MAINTAIN_ENV, "7")
    assert service.maintain_seconds(cfg) == 7
    monkeypatch.setenv(service.MAINTAIN_ENV, "-1")
    with pytest.raises(ConfigError):
        service.maintain_seconds(cfg)
