"""A real webhook receiver on 127.0.0.1 for the alert tests: verifies Standard Webhooks signatures with the
`standardwebhooks` package, records what it accepted, and fails on demand (HTTP 500, slow, redirect)."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_" + base64.b64encode(b"ogwatch-test-signing-secret-0123").decode()


@dataclass
class Received:
    """One request the receiver saw."""

    path: str
    headers: dict[str, str]
    body: str
    verified: bool
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """http.server in a thread; `mode` decides the answer: ok | fail | slow | redirect."""

    secret: str = SECRET
    mode: str = "ok"
    slow_s: float = 1.0
    redirect_to: str = ""
    seen: list[Received] = field(default_factory=list)
    arrived: list[str] = field(default_factory=list)  # webhook-ids as requests arrive, before any answer

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.arrived.append(headers.get("webhook-id", ""))
                verified = True
                if "webhook-signature" in headers:
                    try:
                        Webhook(outer.secret).verify(body, headers)
                    except WebhookVerificationError:
                        verified = False
                code = {"ok": 200, "fail": 500, "slow": 200, "redirect": 302}[outer.mode]
                if outer.mode == "slow":
                    time.sleep(outer.slow_s)
                if not verified:
                    code = 401
                outer.seen.append(Received(self.path, headers, body, verified, code))
                self.send_response(code)
                if code == 302:
                    self.send_header("Location", outer.redirect_to)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted(self) -> list[Received]:
        """Requests answered 2xx with a valid signature (or unsigned formats)."""
        return [r for r in self.seen if r.verified and 200 <= r.answered < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_receiver_checks_signatures() -> None:
    rx = Receiver()
    try:
        sig = Webhook(SECRET)
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        good = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": sig.sign("msg_1", now, '{"a":1}')}
        assert requests.post(rx.url, data='{"a":1}', headers=good, timeout=5).status_code == 200
        bad = {**good, "webhook-signature": sig.sign("msg_1", now, '{"a":2}')}
        assert requests.post(rx.url, data='{"a":1}', headers=bad, timeout=5).status_code == 401
        assert [r.verified for r in rx.seen] == [True, False]
    finally:
        rx.close()
