"""A fault-injecting JSON-RPC proxy on 127.0.0.1 in front of a node (anvil), for collector and soak tests.

Every HTTP exchange (a single call or a batch) is forwarded to the upstream URL unless a fault fires.
Random faults (delay, hang, 429, 5xx, torn or malformed body, stale head) follow a schedule seeded by
`Faults.seed`: each incoming exchange draws its own generator from `random.Random(seed)` in arrival
order, so sequential clients see the same faults for the same seed; with concurrent clients the order,
and thus which exchange gets which fault, depends on which request arrives first. `set_faults` restarts
the schedule from the new seed. Deterministic rules (max logs, block range, state window, hidden traces,
batch size) always apply; see devnet/faultproxy_rules.py for the rules and the error shapes.

Run for soak tests: ``python -m devnet.faultproxy --upstream URL --port P [--seed N] [--timeout-rate R] ...``
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.server
import json
import random
import signal
import socket
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import requests

from devnet.faultproxy_rules import COUNTERS, TOO_MANY_MODES, TORN_MODES, Faults, Plan, answer

__all__ = ["FaultProxy", "Faults", "main"]
HOST = "127.0.0.1"
_MALFORMED = b"<html><body><h1>200 OK</h1>upstream answered nothing parseable</body></html>\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    """One client connection; HTTP/1.1 keep-alive, JSON-RPC over POST."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Keep quiet: soak runs make millions of requests."""

    def _send(self, status: int, body: bytes, ctype: str = "text/plain", headers: Sequence[tuple[str, str]] = (),
              declared: int | None = None) -> None:
        """Write one response; `declared` overrides Content-Length (for a short read)."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        """Refuse anything but POST, as JSON-RPC nodes do."""
        self._send(405, b"405 Method Not Allowed: JSON-RPC wants POST\n", headers=[("Allow", "POST")])

    def do_POST(self) -> None:
        """Serve one exchange: draw its plan, apply exchange-wide faults, else the per-call rules."""
        proxy = self.server.proxy
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._send(411, b"411 Length Required\n", headers=[("Connection", "close")])
            return
        raw = self.rfile.read(int(length))
        faults, plan = proxy._arrive()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        calls = payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) else []
        methods = {str(c.get("method")) for c in calls if isinstance(c, dict)}
        proxy._count("calls", len(calls))
        if plan.delayed(faults, methods):
            proxy._count("delay")
            proxy._closing.wait(faults.delay_s)
        kind = plan.http_fault(faults, methods)
        if kind is not None:
            proxy._count(kind)
        if kind == "timeout":
            proxy._closing.wait(faults.hang_s)
            self.close_connection = True  # drop it: no status line, no body
            return
        if kind == "http_429":
            self._send(429, b"429 Too Many Requests\n", headers=[("Retry-After", "1")])
            return
        if kind == "http_5xx":
            self._send(plan.status_5xx, f"{plan.status_5xx} upstream unavailable\n".encode())
            return
        if kind == "malformed_json":
            self._send(200, _MALFORMED, "application/json")
            return
        try:
            status, ctype, body, fired = answer(raw, faults, plan, proxy._post)
        except requests.RequestException as exc:
            proxy._count("upstream_errors")
            self._send(502, f"502 Bad Gateway: upstream failed: {type(exc).__name__}\n".encode())
            return
        for fault in fired:
            proxy._count(fault)
        if kind == "torn_body":
            cut = body[: len(body) // 2]
            declared = len(body) if faults.torn_mode == "short-read" else len(cut)
            self._send(status, cut, ctype, [("Connection", "close")], declared)
            return
        self._send(status, body, ctype)


class _Server(http.server.HTTPServer):
    """An HTTP server with one named thread per connection, all tracked so that stop() can end them."""

    def __init__(self, proxy: FaultProxy, port: int):
        self.proxy = proxy
        self._threads: set[threading.Thread] = set()
        self._conns: set[socket.socket] = set()
        self._track = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on its own thread."""
        name = f"faultproxy-{self.server_address[1]}-conn"
        thread = threading.Thread(target=self._serve, args=(request, client_address), name=name, daemon=True)
        with self._track:
            self._threads.add(thread)
            self._conns.add(request)
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        """Run the handler, then close and forget the connection."""
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._track:
                self._conns.discard(request)
                self._threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that went away and about anything while stopping."""
        if not self.proxy._closing.is_set() and not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_all(self, timeout: float) -> None:
        """Wake every connection thread (idle keep-alive readers included) and wait for them."""
        with self._track:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)


class FaultProxy:
    """A fault-injecting JSON-RPC proxy on 127.0.0.1 (port 0 picks a free one); a context manager."""

    def __init__(self, upstream: str, faults: Faults | None = None, *, port: int = 0,
                 upstream_timeout: float = 60.0):
        self.upstream, self.port, self.upstream_timeout = upstream, port, upstream_timeout
        self._faults = faults or Faults()
        self._schedule = random.Random(self._faults.seed)
        self._lock = threading.Lock()
        self._stats: Counter[str] = Counter()
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._session: requests.Session | None = None

    @property
    def url(self) -> str:
        """The proxy's JSON-RPC URL."""
        return f"http://{HOST}:{self.port}"

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        with self._lock:
            return self._faults

    @property
    def stats(self) -> dict[str, int]:
        """A copy of the counters: exchanges, calls, upstream posts, upstream errors and every fault fired."""
        with self._lock:
            return {key: self._stats[key] for key in COUNTERS}

    def reset_stats(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._stats.clear()

    def set_faults(self, faults: Faults) -> None:
        """Change the faults at run time; the schedule restarts from `faults.seed`."""
        with self._lock:
            self._faults, self._schedule = faults, random.Random(faults.seed)

    def start(self) -> FaultProxy:
        """Bind 127.0.0.1:port and serve on a background thread."""
        if self._server is not None:
            raise RuntimeError(f"fault proxy already running on {self.url}")
        self._closing.clear()
        self._session = requests.Session()
        self._session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=64))
        self._server = _Server(self, self.port)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"faultproxy-{self.port}-serve", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake hanging and idle connections, join every thread and release the port."""
        server, thread, session = self._server, self._thread, self._session
        if server is None:
            return
        self._closing.set()
        server.shutdown()
        if thread is not None:
            thread.join()
        server.close_all(self.upstream_timeout + 1)
        server.server_close()
        if session is not None:
            session.close()
        self._server = self._thread = self._session = None

    def __enter__(self) -> FaultProxy:
        return self.start() if self._server is None else self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _arrive(self) -> tuple[Faults, Plan]:
        """Count an incoming exchange and draw its plan, in arrival order."""
        with self._lock:
            self._stats["http_requests"] += 1
            return self._faults, Plan.draw(self._schedule)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._stats[key] += n

    def _post(self, body: bytes) -> tuple[int, str, bytes]:
        """Forward one body upstream: (status, content type, body)."""
        session = self._session
        if session is None:
            raise requests.ConnectionError("fault proxy stopped")
        self._count("forwarded")
        reply = session.post(self.upstream, data=body, headers={"Content-Type": "application/json"},
                             timeout=self.upstream_timeout)
        return reply.status_code, reply.headers.get("Content-Type", "application/json"), reply.content


def _parser() -> argparse.ArgumentParser:
    """Command-line options: one per Faults field, e.g. --timeout-rate 0.01 --max-logs 10000."""
    parser = argparse.ArgumentParser(prog="python -m devnet.faultproxy",
                                     description="Fault-injecting JSON-RPC proxy on 127.0.0.1.")
    parser.add_argument("--upstream", required=True, help="JSON-RPC URL of the node behind the proxy")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--stats-every", type=float, default=0.0, help="print counters as JSON every N s")
    choices = {"too_many_mode": TOO_MANY_MODES, "torn_mode": TORN_MODES}
    for field in dataclasses.fields(Faults):
        flag, default = "--" + field.name.replace("_", "-"), field.default
        if field.name == "only_methods":
            parser.add_argument(flag, type=lambda s: frozenset(filter(None, s.split(","))), default=None,
                                help="comma-separated methods that random faults are limited to")
        elif isinstance(default, bool):
            parser.add_argument(flag, action="store_true")
        elif default is None:
            parser.add_argument(flag, type=int, default=None)
        else:
            parser.add_argument(flag, type=type(default), default=default, choices=choices.get(field.name))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the proxy until SIGTERM or SIGINT; print its URL first and its counters last."""
    args = _parser().parse_args(argv)
    faults = Faults(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Faults)})
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: done.set())
    with FaultProxy(args.upstream, faults, port=args.port) as proxy:
        print(f"faultproxy listening on {proxy.url} -> {args.upstream}", flush=True)
        while not done.wait(args.stats_every or 0.5):
            if args.stats_every:
                print(json.dumps(proxy.stats), flush=True)
        print(json.dumps(proxy.stats), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
