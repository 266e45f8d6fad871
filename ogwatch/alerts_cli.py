"""`ogwatch alerts`: alert state, silences, delivery, dead letters, replay, a test message and health.

    ogwatch alerts list [--status firing|resolved|retracted] [--json]
    ogwatch alerts health [--json]              exit 1 when the monitor is stale (dead-man's check)
    ogwatch alerts test CHANNEL                 send one signed test message now; exit 1 with the reason
    ogwatch alerts replay [--channel C] [--id MSG]   dead letters back to the outbox (same webhook-ids)
    ogwatch alerts silence RULE --for 2h [--match key=value ...] [--comment TEXT]
    ogwatch alerts evaluate                     one evaluation pass and one delivery round now

Read commands go through the store's reader; writing ones open the store as its writer (stop `ogwatch run`
first, or they wait for it and give up with one line). URLs and secrets are never printed.
"""

from __future__ import annotations

import argparse
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ogwatch.config import Config
from ogwatch.errors import OgwatchError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_arguments(sp: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    sp.add_argument("--json", action="store_true", help="print JSON")
    sub = sp.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = sub.add_parser("list", help="alerts, firing first")
    ls.add_argument("--status", choices=["firing", "resolved", "retracted"])
    sub.add_parser("health", help="exit 1 when the scheduler or the alert evaluation is stale")
    t = sub.add_parser("test", help="send one test message to a webhook now")
    t.add_argument("channel")
    r = sub.add_parser("replay", help="put dead-lettered notifications back in the outbox (same ids)")
    r.add_argument("--channel")
    r.add_argument("--id", dest="message_id")
    s = sub.add_parser("silence", help="silence a rule ('*': all) for a while")
    s.add_argument("rule")
    s.add_argument("--for", dest="duration", required=True, help="e.g. 30m, 2h, 1d")
    s.add_argument("--match", action="append", default=[], metavar="KEY=VALUE", help="label matcher (repeatable)")
    s.add_argument("--comment", default="")
    sub.add_parser("evaluate", help="one evaluation pass and one delivery round now")


def main(cfg: Config, args: argparse.Namespace) -> int:
    """Dispatch the action."""
    action = {"list": _list, "health": _health, "test": _test, "replay": _replay, "silence": _silence,
              "evaluate": _evaluate}[args.action]
    return action(cfg, args)


def _print(obj: Any, as_json: bool, text: str) -> None:
    print(json.dumps(obj, indent=2, default=str) if as_json else text)


def _reader(cfg: Config) -> Any:
    from store.db import Reader

    return Reader(cfg.store.path)


def _list(cfg: Config, args: argparse.Namespace) -> int:
    df = _reader(cfg).query("alerts_list", status=args.status)
    recs = json.loads(df.to_json(orient="records", date_format="iso"))
    lines = [f"{r['status']:<9} {r['severity']:<8} {r['rule']:<18} {r['summary']}" for r in recs]
    _print(recs, args.json, "\n".join(lines) or "no alerts")
    return 0


def _health(cfg: Config, args: argparse.Namespace) -> int:
    from alerts.health import check

    report = check(_reader(cfg).query, cfg, datetime.now(UTC))
    _print(report, args.json, "\n".join(report["lines"]))
    return 0 if report["ok"] else 1


def _store(cfg: Config) -> Any:
    from store.db import Store

    return Store(cfg.store.path, serve=False)


def _test(cfg: Config, args: argparse.Namespace) -> int:
    from alerts import channels, delivery, evaluate

    if args.channel not in cfg.webhooks:
        raise OgwatchError(f"unknown webhook {args.channel!r} (configured: {', '.join(cfg.webhooks) or 'none'})")
    with _store(cfg) as store:
        msg = evaluate.queue_test(store, args.channel, datetime.now(UTC))
        worker = delivery.Worker(store, channels.channels(cfg), log_failures=False)  # the error is the one line
        (pending,) = [p for p in worker.due() if p.id == msg]
        out = worker.attempt(pending)
    if out.outcome != "delivered":
        raise OgwatchError(out.error)
    _print({"id": msg, "status_code": out.status_code}, args.json, f"delivered {msg} (HTTP {out.status_code})")
    return 0


def _replay(cfg: Config, args: argparse.Namespace) -> int:
    from alerts import delivery

    with _store(cfg) as store:
        ids = delivery.replay(store, datetime.now(UTC), args.channel, args.message_id)
    _print(ids, args.json, f"{len(ids)} dead letter(s) back in the outbox" + "".join(f"\n  {i}" for i in ids))
    return 0


def duration_s(text: str) -> float:
    """'90s', '30m', '2h', '1d' in seconds; OgwatchError otherwise."""
    m = _DURATION.match(text.strip())
    if not m:
        raise OgwatchError(f"bad duration {text!r}: use e.g. 90s, 30m, 2h, 1d")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def _silence(cfg: Config, args: argparse.Namespace) -> int:
    from alerts.rules import BY_NAME

    if args.rule != "*" and args.rule not in BY_NAME:
        raise OgwatchError(f"unknown rule {args.rule!r} (known: {', '.join(BY_NAME)})")
    matchers = {}
    for kv in args.match:
        if "=" not in kv:
            raise OgwatchError(f"bad matcher {kv!r}: use KEY=VALUE")
        k, v = kv.split("=", 1)
        matchers[k] = v
    now, sid = datetime.now(UTC), "sil_" + uuid.uuid4().hex[:12]
    until = now + timedelta(seconds=duration_s(args.duration))
    with _store(cfg) as store, store.transaction() as cur:
        cur.execute("INSERT INTO silences VALUES (?, ?, ?, ?, ?, ?)",
                    [sid, args.rule, json.dumps(matchers, sort_keys=True), now, until, args.comment])
    _print({"id": sid, "until": until.isoformat()}, args.json, f"silence {sid} until {until:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def _evaluate(cfg: Config, args: argparse.Namespace) -> int:
    from alerts import channels, delivery, evaluate

    with _store(cfg) as store:
        res = evaluate.run_pass(store, cfg, datetime.now(UTC))
        sent = delivery.Worker(store, channels.channels(cfg)).deliver_due()
    out = {"findings": res.findings, "fired": len(res.fired), "resolved": len(res.resolved),
           "retracted": len(res.retracted), "notifications": res.notifications, "deliveries": sent,
           "rule_errors": res.errors}
    _print(out, args.json, " ".join(f"{k}={v}" for k, v in out.items()))
    return 0
