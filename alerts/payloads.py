"""What is POSTed: the generic JSON body (signed per Standard Webhooks), or Slack / Discord incoming-webhook
messages rendered from it. Every format carries the message id, the per-channel sequence and fingerprints.
"""

from __future__ import annotations

import json
from typing import Any

ICONS = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}
COLORS = {"critical": 0xD0021B, "warning": 0xF5A623, "info": 0x4A90E2}  # Discord embed colours
SLACK_TEXT_MAX, DISCORD_DESC_MAX, DISCORD_TITLE_MAX, DISCORD_FIELDS_MAX = 2900, 4000, 250, 25


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _worst(body: dict[str, Any]) -> str:
    sev = [a.get("severity", "info") for a in body.get("alerts", [])]
    return next((s for s in ("critical", "warning", "info") if s in sev), "info")


def title(body: dict[str, Any]) -> str:
    """One line: kind, group and count."""
    n = len(body.get("alerts", []))
    if not n:
        return f"ogwatch {body['kind']}"
    return f"ogwatch {body['kind']}: {body['group']} ({n} alert{'s' if n != 1 else ''})"


def _lines(body: dict[str, Any]) -> list[str]:
    return [f"[{a['severity']}] {a['status']}: {a['summary']}" for a in body.get("alerts", [])]


def _footer(body: dict[str, Any]) -> str:
    fps = ", ".join(body.get("fingerprints", [])[:10])
    return f"id {body['id']} · seq {body['seq']}" + (f" · fingerprints {fps}" if fps else "")


def slack(body: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message (text fallback plus blocks)."""
    head = f"{ICONS[_worst(body)]} {title(body)}"
    text = _cut("\n".join(_lines(body)) or body["kind"], SLACK_TEXT_MAX)
    return {"text": head, "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(head, 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(_footer(body), SLACK_TEXT_MAX)}]},
    ]}


def discord(body: dict[str, Any]) -> dict[str, Any]:
    """A Discord incoming-webhook message (one embed; mentions disabled)."""
    fields = [{"name": _cut(f"{a['severity']} · {a['rule']}", 250), "value": _cut(a["summary"], 1000), "inline": False}
              for a in body.get("alerts", [])[:DISCORD_FIELDS_MAX]]
    return {"content": _cut(title(body), 2000), "allowed_mentions": {"parse": []}, "embeds": [{
        "title": _cut(title(body), DISCORD_TITLE_MAX),
        "description": _cut("\n".join(_lines(body)) or body["kind"], DISCORD_DESC_MAX),
        "color": COLORS[_worst(body)], "fields": fields, "footer": {"text": _cut(_footer(body), 2000)},
    }]}


def render(kind: str, body_text: str) -> str:
    """The bytes to POST for a channel kind (generic: the stored body unchanged)."""
    if kind == "generic":
        return body_text
    body = json.loads(body_text)
    return json.dumps(slack(body) if kind == "slack" else discord(body))
