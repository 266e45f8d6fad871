"""Fee watch: the worst case a trader faces, its plain warnings, and queued timelock changes in words.

Pure functions over one market's row (the `fee_markets` query, cleaned) and its `fee_queued` rows. A fee is
bounded only when its ceiling is "capped": a cap the owner can lift by an upgrade ("capped-but-upgradeable") or
no cap at all ("uncapped") leaves the worst case open. When every fee is capped and the owner cannot replace
the code, the worst case says so: the caps are final because there is no upgrade path.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ogwatch.ui.fees_format import ONE, fmt_percent, fraction, percent, utc

FEES = {"protocolFeePercent": "protocol", "subjectFeePercent": "subject"}
UNBOUNDED = ("uncapped", "capped-but-upgradeable")
WITHOUT_LIMIT = "the owner can raise this fee without limit"
REACH_100 = "fees could reach 100 %: selling can become impossible"
NO_UPGRADE = "no upgrade path: the owner cannot replace the contract code, so the caps are final"


def queued_view(m: dict[str, Any], q: dict[str, Any]) -> dict[str, Any]:
    """One queued change for display: the current and the queued value, when it can run, and one sentence."""
    fld = q.get("field") or ""
    short = FEES.get(fld)
    old = m.get(f"{short}_fee") if short else m.get("fee_destination") if fld == "protocolFeeDestination" else None
    new_percent = percent(q.get("new_value")) if short else None
    what = f"{short} fee" if short else fld
    before, after = (fmt_percent(old), fmt_percent(q.get("new_value"))) if short else (old, q.get("new_value"))
    return {"field": fld, "old_value": old, "old_percent": percent(old) if short else None,
            "new_value": q.get("new_value"), "new_percent": new_percent, "eta": q.get("eta"),
            "eta_utc": utc(q.get("eta")), "timelock": q.get("timelock"), "operation_id": q.get("operation_id"),
            "scheduled_block": q.get("scheduled_block"),
            "text": f"queued change: {what} {before or 'unknown'} -> {after} executable at {utc(q.get('eta'))}"}


def _raised_warning(m: dict[str, Any]) -> str | None:
    if (m.get("last_change_field") in FEES and m.get("last_change_old") is not None
            and m.get("last_change_new") is not None
            and Decimal(str(m["last_change_new"])) > Decimal(str(m["last_change_old"]))):
        ago = int(m.get("read_block") or m["last_change_block"]) - int(m["last_change_block"])
        return (f"fees were raised {ago} blocks ago ({FEES[m['last_change_field']]} fee "
                f"{fmt_percent(m['last_change_old'])} -> {fmt_percent(m['last_change_new'])} "
                f"at block {int(m['last_change_block'])})")
    return None


def warnings_for(m: dict[str, Any], labels: dict[str, Any], queued: list[dict[str, Any]]) -> list[str]:
    """The plain warnings: no limit, 100 % reachable, a recent raise, each queued change."""
    out: list[str] = []
    loose = [s for s, lab in labels.items() if lab in UNBOUNDED]
    if loose:
        why = "; ".join(f"{s} fee: {labels[s]}" + (" (the cap goes away with an upgrade)"
                                                     if labels[s] == "capped-but-upgradeable" else "") for s in loose)
        out.append(f"{WITHOUT_LIMIT} ({why})")
    if any(lab == "uncapped" for lab in labels.values()):
        out.append(REACH_100)
    raised = _raised_warning(m)
    if raised:
        out.append(raised)
    for q in queued:
        what = FEES.get(q.get("field") or "", q.get("field"))
        new = fmt_percent(q["new_value"]) if q.get("field") in FEES else q.get("new_value")
        out.append(f"a fee change is queued for {utc(q.get('eta'))} ({what} -> {new})")
    return out


def worst_case(m: dict[str, Any], queued: list[dict[str, Any]]) -> dict[str, Any]:
    """The highest total fee the evidence allows, why, and the plain warnings that go with it."""
    labels = {short: m.get(f"{short}_ceiling") for short in FEES.values()}
    warnings = warnings_for(m, labels, queued)
    if any(lab is None for lab in labels.values()):
        return {"bounded": False, "max_total_percent": None, "warnings": warnings, "reason": None,
                "text": "unknown: the ceilings have not been evaluated yet"}
    if any(lab in UNBOUNDED for lab in labels.values()):
        return {"bounded": False, "max_total_percent": None, "warnings": warnings, "reason": None,
                "text": "no limit: the owner can set any fee"}
    caps = [fraction(m.get(f"{s}_max")) or fraction(m.get(f"{s}_fee")) or Decimal(0) for s in FEES.values()]
    total = percent(sum(caps, Decimal(0)) * ONE)
    reason = None if m.get("upgradeable") else NO_UPGRADE
    tail = f"; {reason}" if reason else ""
    return {"bounded": True, "max_total_percent": total, "warnings": warnings, "reason": reason,
            "text": f"at most {total} % per trade (protocol + subject caps){tail}"}


__all__ = ["FEES", "NO_UPGRADE", "REACH_100", "UNBOUNDED", "WITHOUT_LIMIT", "queued_view", "warnings_for",
           "worst_case"]
