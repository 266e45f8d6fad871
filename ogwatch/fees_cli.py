"""`ogwatch fees`: a market's fees, control, ceilings, worst case, queued and last change; or every change.

    ogwatch fees MARKET [--network NET] [--twin ID [--amount N]] [--json]
                                                      MARKET: an address or a config label (case-insensitive)
    ogwatch fees --changes [MARKET] [--network NET] [--json]

Everything comes from the store (the same named queries as the page), never from a chain.
An unknown or ambiguous market, or an unknown or malformed twin, prints one line to stderr and exits 2.
With `--twin ID` (a Twin.fun twin id, 0x + 32 hex, or a friend.tech subject address) the view adds the twin's
indexed trades and a live price check from the market's own views (the one part not read from the store).

`fees MARKET --json` prints one object (percents are exact decimal text, 1e18 = 100 %):

    {"market": {"label", "network", "chain_id", "address", "kind"},
     "read_block": int,
     "fees": {"protocol"|"subject": {"value": "exact 1e18 text", "percent": "4.5", "ceiling":
              "capped"|"uncapped"|"capped-but-upgradeable"|null, "max_accepted": text|null, "max_percent": text|null}},
     "fee_destination": address,
     "control": {"owner", "owner_kind": "eoa"|"timelock"|"multisig"|"contract"|"none", "rule": {"min_delay": s} |
                 {"threshold": m, "signers": [...]} | {}, "upgradeable": bool, "implementation", "summary": str,
                 "roles": [{"held_on": "market"|"owner", "address", "role_name", "account", "since_block"}]},
     "worst_case": {"bounded": bool, "max_total_percent": text|null, "text": str,
                    "reason": "no upgrade path: ..." (bounded and the code cannot be replaced) | null},
     "warnings": [str],
     "queued": [{"field", "old_value" (the current value), "old_percent", "new_value", "new_percent",
                 "eta": unix s (earliest execution), "eta_utc", "timelock", "operation_id", "scheduled_block",
                 "text": "queued change: protocol fee 3 % -> 5 % executable at <eta_utc>"}],
     "last_change": {"field", "old", "new", "old_percent", "new_percent", "block_number", "blocks_ago", "time",
                     "tx_hash", "detected_by", "precision"} | null,
     "changes": int,
     "coverage": {"node": {"traces": bool, "debug_trace": bool, "state_depth": int|null (null = full history),
                           "max_batch", "summary": str},
                  "last_tick": {"block_from", "block_number", "traces", "events", "state_from", "note",
                                "checked_at"}} | null,
     "twin": {"id", "trades", "buys", "sells", "supply": text, "first_trade_block", "last_trade_block",
              "price": {"block", "amount", "current_total_percent", "buy_after_fee": wei text, "sell_after_fee",
                        "worst_total_percent", "worst_buy", "worst_sell", "sell_returns_nothing"}
                       | {"unavailable": reason}}   (only with --twin)}

`fees --changes --json` prints a list, one object per change:

    [{"label", "network", "chain_id", "address", "field", "old", "new", "old_percent", "new_percent",
      "block_number", "block_from", "block_time", "tx_hash", "sender", "caller", "tx_to", "path",
      "detected_by", "precision", "note"}]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ogwatch import config as configmod


def add_arguments(sp: argparse.ArgumentParser) -> None:
    """The `fees` subcommand's arguments."""
    sp.add_argument("market", nargs="?", help="market address or config label")
    sp.add_argument("--network", help="only this network (when an address is on several)")
    sp.add_argument("--changes", action="store_true", help="list every fee change with its evidence")
    sp.add_argument("--twin", help="a twin id (Twin.fun, 0x + 32 hex) or subject address (friend.tech)")
    sp.add_argument("--amount", type=int, default=1, help="shares for the --twin price check (default 1)")
    sp.add_argument("--json", action="store_true", help="print JSON (shape in `ogwatch.fees_cli`)")


def _fail(line: str) -> int:
    print(f"ogwatch: {line}", file=sys.stderr)
    return 2


def main(cfg: configmod.Config, args: argparse.Namespace) -> int:
    """Run `ogwatch fees`."""
    from ogwatch.ui import fees_data as fd
    from store.db import Reader

    reader = Reader(cfg.store.path)
    network = getattr(args, "network", None)
    if network and network not in cfg.networks:
        return _fail(f"unknown network {network!r}; known: {', '.join(sorted(cfg.networks))}")
    chain_id = cfg.networks[network].chain_id if network else None
    markets = fd.with_labels(cfg, reader.query("fee_markets", chain_id=chain_id))
    market: dict[str, Any] | None = None
    if args.market:
        hits = fd.resolve(markets, args.market, network)
        if hits.empty:
            known = ", ".join(sorted(set(markets["label"]))) if not markets.empty else "none indexed yet"
            return _fail(f"unknown market {args.market!r}; known: {known}")
        if len(hits) > 1:
            return _fail(f"market {args.market!r} is on several networks ({', '.join(hits['network'])}); "
                         "add --network")
        market = {str(k): v for k, v in hits.iloc[0].items()}
    elif not args.changes:
        return _fail("name a market (address or label), or pass --changes")
    if args.changes:
        df = reader.query("fee_changes", chain_id=int(market["chain_id"]) if market else chain_id,
                          address=market["address"] if market else None)
        records = fd.change_records(cfg, df)
        if args.json:
            print(json.dumps(records))
        else:
            _print_changes(records)
        return 0
    assert market is not None
    view = fd.describe(cfg, reader.query, market)
    if getattr(args, "twin", None):
        from ogwatch.ui.fees_twin import UnknownTwin, twin_view

        if args.amount < 1:
            return _fail(f"--amount must be at least 1, not {args.amount}")
        try:
            view["twin"] = twin_view(cfg, reader.query, market, args.twin, args.amount, view["worst_case"])
        except UnknownTwin as err:
            return _fail(str(err))
    print(json.dumps(view) if args.json else _text(view))
    return 0


def _print_changes(records: list[dict[str, Any]]) -> None:
    import pandas as pd

    if not records:
        print("(no changes)")
        return
    cols = ["label", "network", "field", "old_percent", "new_percent", "old", "new", "block_number", "tx_hash",
            "precision", "detected_by", "path"]
    print(pd.DataFrame(records)[cols].to_string(index=False))


def _text(v: dict[str, Any]) -> str:
    from ogwatch.ui import fees_data as fd

    m, ctl, wc = v["market"], v["control"], v["worst_case"]
    lines = [f"{m['label']}  {m['address']} on {m['network']} ({m['kind']}), read at block {v['read_block']}"]
    for short, fee in v["fees"].items():
        cap = f" at {fee['max_percent']} %" if fee["max_percent"] is not None else ""
        lines.append(f"  {short} fee: {fd.fmt_percent(fee['value'])} (exact {fee['value']}), "
                     f"ceiling {fee['ceiling'] or 'not evaluated'}{cap}")
    lines.append(f"  control: {ctl['owner_kind']}: {ctl['summary']}")
    lines += [f"    role {r['role_name']} on {r['held_on']}: {r['account']}" for r in ctl["roles"]]
    lines.append(f"  worst case: {wc['text']}")
    lines += [f"  WARNING: {w}" for w in v["warnings"]]
    lines += [f"  {q['text']}" for q in v["queued"]]
    cov = v.get("coverage")
    if cov:
        tick = cov["last_tick"]
        lines.append(f"  checked: node {cov['node']['summary']}; last tick blocks {tick['block_from']}.."
                     f"{tick['block_number']}: {tick['note'] or 'no note'}")
    last = v["last_change"]
    if last:
        lines.append(f"  last change: {last['field']} {last['old_percent'] or 'unknown'} -> {last['new_percent']} % "
                     f"at block {last['block_number']} ({last['blocks_ago']} blocks ago), tx {last['tx_hash']}")
    else:
        lines.append("  last change: none seen")
    return "\n".join(lines + _twin_text(v.get("twin")))


def _twin_text(t: dict[str, Any] | None) -> list[str]:
    if not t:
        return []
    lines = [f"  twin {t['id']}: {t['trades']} trades ({t['buys']} buys, {t['sells']} sells), supply {t['supply']}, "
             f"last trade at block {t['last_trade_block']}"]
    p = t["price"]
    if "unavailable" in p:
        return [*lines, f"    live prices unavailable: {p['unavailable']}"]
    return [*lines, f"    {p['amount']} shares at block {p['block']}: buy {p['buy_after_fee']} wei, sell "
                    f"{p['sell_after_fee'] or 'not possible'} wei at {p['current_total_percent']} % fees; worst case "
                    f"({p['worst_total_percent']} %): buy {p['worst_buy']}, sell {p['worst_sell'] or 'not possible'}"]
