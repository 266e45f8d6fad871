"""One evaluation pass: every enabled rule's findings become alert state and outbox rows in one transaction.

Rules read named queries outside the transaction; a rule that fails this pass is one redacted line in
`alert_runs.errors` and keeps its alerts as they were (a failure never resolves anything).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts import grouping, outbox, routing, state
from alerts.model import Finding
from alerts.rules import Rule, RuleContext, configured
from alerts.rules.base import Runner
from ogwatch.config import Config
from ogwatch.secrets import redact
from store.db import Store

log = logging.getLogger("ogwatch.alerts")


@dataclass(frozen=True)
class PassResult:
    """What one pass did."""

    findings: int
    fired: list[str]
    resolved: list[str]
    retracted: list[str]
    notifications: int
    errors: dict[str, str]


def labels_of(cfg: Config) -> dict[tuple[int, str], str]:
    """(chain_id, lower-case address) -> the configured label of every contract."""
    return {(cfg.networks[c.network].chain_id, c.address.lower()): c.label or c.address for c in cfg.contracts}


def production_params(cfg: Config) -> dict[str, str]:
    """The verification watch's production definition as query parameters (the same as its page uses)."""
    try:
        from ogwatch.ui.verification_data import production
    except ImportError:  # without the verification watch the rules that need this report their own error
        return {}
    p = production(cfg)
    return {"prod_chains": p.chain_params, "prod_callers": p.caller_params}


def findings(rules: list[tuple[Rule, dict[str, Any]]], query: Runner, now: datetime, cfg: Config,
             ) -> tuple[list[Finding], list[str], dict[str, str]]:
    """Every rule's findings; (findings, rules that answered, rule -> error line)."""
    out: list[Finding] = []
    ok: list[str] = []
    errors: dict[str, str] = {}
    labels, prod = labels_of(cfg), production_params(cfg)
    for rule, params in rules:
        try:
            out += rule.evaluate(RuleContext(query, now, params, labels, prod, cfg))
            ok.append(rule.name)
        except Exception as exc:  # one rule's failure must not stop the others
            errors[rule.name] = redact(f"{type(exc).__name__}: {exc}")[:300]
            log.warning("rule %s failed: %s", rule.name, errors[rule.name])
    return out, ok, errors


def run_pass(store: Store, cfg: Config, now: datetime, rules: list[tuple[Rule, dict[str, Any]]] | None = None,
             query: Runner | None = None) -> PassResult:
    """Evaluate, apply transitions, and write due notifications, all in one transaction."""
    rules = configured(cfg) if rules is None else rules
    found, ok, errors = findings(rules, query or store.query, now, cfg)
    with store.transaction() as cur:
        silences = routing.active_silences(cur, cfg.alerts, now)
        t = state.apply(cur, found, ok, cfg.alerts, silences, now)
        sent = grouping.flush(cur, cfg.alerts, now)
        cur.execute("INSERT INTO alert_runs VALUES (?, ?, ?, ?, ?)",
                    [now, len(rules), len(found), sent, json.dumps(errors, sort_keys=True)])
    return PassResult(len(found), t.fired, t.resolved, t.retracted, sent, errors)


def heartbeat(store: Store, channel: str, now: datetime) -> str:
    """Queue one heartbeat notification (the receivers' dead-man's switch); returns its id."""
    with store.transaction() as cur:
        return outbox.enqueue(cur, channel, "heartbeat", "heartbeat", [], now, {"status": "alive"})


def queue_test(store: Store, channel: str, now: datetime) -> str:
    """Queue one test notification to a channel; returns its id."""
    with store.transaction() as cur:
        return outbox.enqueue(cur, channel, "test", "test", [], now, {"status": "test"})
