"""The `ogwatch` command: one entry point with a subcommand per job.

Every expected failure prints one clear line per problem to stderr (secrets redacted) and exits
non-zero: 2 for bad configuration or failed checks, 1 for other errors.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collectors.rpc import RpcError
from ogwatch import config as configmod
from ogwatch.errors import ConfigError, OgwatchError
from ogwatch.secrets import install_log_redaction, redact
from store.errors import StoreError

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("ogwatch")


def config_path(arg: str | None) -> Path:
    """--config, else $OGWATCH_CONFIG, else ./config.toml, else the shipped example."""
    for candidate in (arg, os.environ.get("OGWATCH_CONFIG")):
        if candidate:
            return Path(candidate)
    return Path("config.toml") if Path("config.toml").exists() else ROOT / "config.example.toml"


def _load(args: argparse.Namespace) -> configmod.Config:
    return configmod.load(config_path(args.config))


def cmd_check(args: argparse.Namespace) -> int:
    """Validate config; unless --offline, check every enabled network live."""
    cfg = _load(args)
    if args.offline:
        print(f"config OK: {len(cfg.networks)} networks, {len(cfg.contracts)} contracts")
        return 0
    from collectors import probe
    from ogwatch.errors import CheckFailed

    problems = probe.check(cfg, args.network or None)
    problems += [p for p in probe.preflight(cfg, args.network or None, starts=True) if p not in problems]
    if problems:
        raise CheckFailed(problems)
    print("all checks passed")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the scheduler (collectors, rules, delivery) as the store's single writer."""
    from ogwatch import service

    cfg = _load(args)
    _preflight(cfg, None, None)
    service.run(cfg)
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    """Backfill in the foreground with a progress bar and a summary."""
    from ogwatch import collect

    cfg = _load(args)
    _preflight(cfg, args.network or None, args.start, starts=True)
    return collect.main(cfg, args)


def _preflight(cfg: configmod.Config, only: list[str] | None, start: int | None, starts: bool = False) -> None:
    """Refuse to index when a URL serves another chain, or the start is above the head (nothing is written)."""
    from collectors import probe
    from ogwatch.errors import CheckFailed

    problems = probe.preflight(cfg, only, start, starts)
    if problems:
        raise CheckFailed(problems)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Create or upgrade the store's schema and exit."""
    from store.db import Store

    with Store(_load(args).store.path, serve=False) as store:
        print(f"{store.path}: applied {store.applied or 'nothing (up to date)'}")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    """Run a named read query (the same ones pages and alerts use) and print it."""
    from store import queries
    from store.db import Reader

    if args.list or not args.name:
        for q in sorted(queries.REGISTRY.values(), key=lambda q: q.name):
            params = ", ".join(f"{k}:{t}" + ("?" if k in q.optional else "") for k, t in q.params.items())
            print(f"{q.name}({params})  {q.doc}")
        return 0
    given = dict(_kv(p) for p in args.param)
    df = Reader(_load(args).store.path).query(args.name, **given)
    if args.json:
        print(df.to_json(orient="records", date_format="iso", date_unit="s"))
    else:
        print(df.to_string(index=False) if len(df) else "(no rows)")
    return 0


def _kv(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError([f"--param {text!r}: expected key=value"])
    key, value = text.split("=", 1)
    return key, value


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the Streamlit dashboard (read-only) on localhost."""
    cfg_file = config_path(args.config)
    configmod.load(cfg_file)  # fail here with one line, not inside the browser
    env = dict(os.environ, OGWATCH_CONFIG=str(cfg_file.resolve()))
    argv = [sys.executable, "-m", "ogwatch.ui.launch", str(ROOT / "app.py"), "--server.headless", "true",
            "--server.address", args.host, "--server.port", str(args.port),
            "--browser.gatherUsageStats", "false"]
    os.execve(sys.executable, argv, env)
    return 0  # not reached


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the whole product on the embedded default (scheduler + dashboard)."""
    from ogwatch import demo

    return demo.main(args)


def cmd_devnet(args: argparse.Namespace) -> int:
    """Devnet chores: rebuild contract artifacts, or build a saved world."""
    import subprocess

    if args.devnet_command == "build-contracts":
        return subprocess.call(["node", str(ROOT / "devnet" / "compile.mjs")], cwd=ROOT)
    from devnet.simulator import build_snapshot

    stats = build_snapshot(args.dir, args.seed, args.trades, args.inferences)
    print(f"saved {args.dir}: {stats['actions']} actions, scripted in {stats['scripted_s']:.1f} s, "
          f"total {stats['total_s']:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand and its help."""
    p = argparse.ArgumentParser(prog="ogwatch", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--config", help="config TOML (default: $OGWATCH_CONFIG, ./config.toml, config.example.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(fn=fn)
        return sp

    sp = add("demo", cmd_demo, "start everything on the local devnet (chains, simulator, scheduler, dashboard) "
                               "and print where to look; Ctrl-C stops it")
    sp.add_argument("--port", type=int, default=8501, help="dashboard port (default 8501)")
    sp.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    sp.add_argument("--interval", type=float, default=1.0, help="seconds between live simulator steps")
    sp = add("devnet", cmd_devnet, "the local devnet: build contracts, or save a seeded snapshot")
    dsub = sp.add_subparsers(dest="devnet_command", required=True, metavar="ACTION")
    dsub.add_parser("build-contracts", help="recompile devnet/contracts with solc-js into devnet/artifacts")
    snap = dsub.add_parser("snapshot", help="build a world, play the scenario and bulk load, save it to DIR")
    snap.add_argument("dir", type=Path)
    snap.add_argument("--seed", type=int, default=1)
    snap.add_argument("--trades", type=int, default=2000)
    snap.add_argument("--inferences", type=int, default=2000)
    sp = add("check", cmd_check, "validate the config, then check each network: chain id, contract code, precompiles")
    sp.add_argument("--offline", action="store_true", help="validate the config file only")
    sp.add_argument("--network", action="append", help="check only this network (repeatable)")
    add("run", cmd_run, "run the scheduler: collectors, alert rules and webhook delivery (the store's writer)")
    sp = add("collect", cmd_collect, "backfill now, in the foreground, with a progress bar and a summary")
    sp.add_argument("--from", dest="start", type=int, help="start block for sources with no checkpoint yet")
    sp.add_argument("--to", type=int, help="last block (default: the confirmed head)")
    sp.add_argument("--network", action="append", help="only this network (repeatable)")
    sp.add_argument("--source", action="append", help="only this source: fees, inference, settlement, tee")
    sp = add("serve", cmd_serve, "start the dashboard on localhost (reads only)")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8501)
    add("migrate", cmd_migrate, "create or upgrade the store's schema")
    sp = add("query", cmd_query, "run a named read query (what pages and alerts read); --list shows them")
    sp.add_argument("name", nargs="?", help="query name")
    sp.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="query parameter")
    sp.add_argument("--json", action="store_true", help="print JSON records (exact uint256 as strings)")
    sp.add_argument("--list", action="store_true", help="list the named queries")
    from ogwatch import fees_cli
    sp = add("fees", lambda a: fees_cli.main(_load(a), a), "a market's fees, control, worst case; --changes: all")
    fees_cli.add_arguments(sp)
    from ogwatch import alerts_cli, concentration_cli, verification_cli
    sp = add("verification", lambda a: verification_cli.main(_load(a), a),
             "headline verification numbers (Vanilla share in production, settlement lag) with n")
    verification_cli.add_arguments(sp)
    sp = add("concentration", lambda a: concentration_cli.main(_load(a), a),
             "concentration of TEE operators and validators (Nakamoto, HHI, Gini, top shares)")
    concentration_cli.add_arguments(sp)
    sp = add("alerts", lambda a: alerts_cli.main(_load(a), a), "alert state, delivery, dead letters and replay")
    alerts_cli.add_arguments(sp)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run drowns the real news
    install_log_redaction()
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>` prints every thread's stack (file, line, function) to stderr
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        return int(args.fn(args))
    except (ConfigError, OgwatchError) as exc:
        for line in getattr(exc, "problems", None) or [str(exc)]:
            print(f"ogwatch: {redact(line)}", file=sys.stderr)
        return exc.exit_code
    except (StoreError, RpcError) as exc:
        print(f"ogwatch: {redact(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _run() -> Any:
    sys.exit(main())


if __name__ == "__main__":
    _run()
