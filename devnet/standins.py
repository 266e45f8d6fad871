"""Small HTTP stand-ins on 127.0.0.1 for services the monitor reads besides the chains.

``CometBFTStandIn`` answers ``GET /validators`` like a CometBFT RPC node; ``WalrusStandIn`` answers
``GET /v1/blobs/{blobId}`` like a Walrus aggregator. Both share ``StandInServer``: a stdlib
ThreadingHTTPServer bound to a kernel-chosen port, served from a background thread.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

Reply = tuple[int, str, bytes]


class _Handler(BaseHTTPRequestHandler):
    """Routes GET requests to the stand-in that owns the server."""

    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
        """Answer one GET with the stand-in's (status, content type, body)."""
        parts = urlsplit(self.path)
        status, content_type, body = self.server.standin.handle_get(parts.path, parse_qs(parts.query))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by http.server
        """Keep test and demo output quiet."""


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its stand-in."""

    daemon_threads = True

    def __init__(self, standin: StandInServer) -> None:
        self.standin = standin
        super().__init__(("127.0.0.1", 0), _Handler)


class StandInServer:
    """Base of the stand-ins: start()/stop()/url and use as a context manager."""

    def __init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def handle_get(self, path: str, query: dict[str, list[str]]) -> Reply:
        """Return (status, content type, body) for a GET; subclasses implement it."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        """Return the port the server listens on (after start())."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Return the base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Bind a free port and serve from a background thread; returns self."""
        if self._server is None:
            self._server = _Server(self)
            name = f"{type(self).__name__}:{self.port}"
            self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and join the thread; idempotent."""
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _json(status: int, payload: dict[str, Any]) -> Reply:
    """Return a JSON reply."""
    return status, "application/json", json.dumps(payload).encode()


@dataclass(frozen=True)
class CometValidator:
    """One validator as CometBFT lists it: hex address, base64 ed25519 key, power, priority."""

    address: str
    pub_key: str
    voting_power: int
    proposer_priority: int = 0

    @classmethod
    def from_seed(cls, seed: str, voting_power: int) -> CometValidator:
        """Derive a deterministic key from seed; address = first 20 bytes of sha256(pubkey), as CometBFT."""
        key = hashlib.sha256(seed.encode()).digest()
        address = hashlib.sha256(key).digest()[:20].hex().upper()
        return cls(address, base64.b64encode(key).decode(), voting_power)

    def as_json(self) -> dict[str, Any]:
        """Return the CometBFT JSON shape (numbers as strings)."""
        return {
            "address": self.address,
            "pub_key": {"type": "tendermint/PubKeyEd25519", "value": self.pub_key},
            "voting_power": str(self.voting_power),
            "proposer_priority": str(self.proposer_priority),
        }


class CometBFTStandIn(StandInServer):
    """CometBFT RPC stand-in serving ``GET /validators?height=&page=&per_page=`` from a settable set."""

    DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100

    def __init__(self, validators: Iterable[CometValidator] = (), height: int = 1) -> None:
        super().__init__()
        self._validators: list[CometValidator] = []
        self._height = height
        self.set_validators(validators)

    def set_validators(self, validators: Iterable[CometValidator]) -> None:
        """Replace the set; it is served sorted by power (descending), then address, like CometBFT."""
        ordered = sorted(validators, key=lambda v: (-v.voting_power, v.address))
        with self._lock:
            self._validators = ordered

    def validators(self) -> list[CometValidator]:
        """The current set (to save it beside a chain state)."""
        with self._lock:
            return list(self._validators)

    def set_height(self, height: int) -> None:
        """Set the latest block height."""
        with self._lock:
            self._height = height

    def handle_get(self, path: str, query: dict[str, list[str]]) -> Reply:
        """Serve /validators; anything else is 404."""
        if path.rstrip("/") != "/validators":
            return _json(404, {"error": f"unknown path {path}"})
        try:
            height, page, per_page = (_int_param(query, name) for name in ("height", "page", "per_page"))
        except ValueError as exc:
            return _rpc_error(f"invalid parameter: {exc}")
        with self._lock:
            validators, latest = list(self._validators), self._height
        if height is not None and not 0 < height <= latest:
            return _rpc_error(f"height {height} must be in [1, {latest}] (latest height)")
        return self._page(validators, height or latest, page or 1, per_page)

    def _page(self, validators: list[CometValidator], height: int, page: int, per_page: int | None) -> Reply:
        """Return one page of validators in CometBFT's paging semantics."""
        if per_page is None or per_page < 1:
            per_page = self.DEFAULT_PER_PAGE
        per_page = min(per_page, self.MAX_PER_PAGE)
        pages = max(1, -(-len(validators) // per_page))
        if not 1 <= page <= pages:
            return _rpc_error(f"page should be within [1, {pages}] range, given {page}")
        chosen = validators[(page - 1) * per_page : page * per_page]
        result = {
            "block_height": str(height),
            "validators": [v.as_json() for v in chosen],
            "count": str(len(chosen)),
            "total": str(len(validators)),
        }
        return _json(200, {"jsonrpc": "2.0", "id": -1, "result": result})


def _int_param(query: dict[str, list[str]], name: str) -> int | None:
    """Return an integer query parameter (CometBFT also accepts it quoted), or None if absent."""
    values = query.get(name)
    return int(values[0].strip('"')) if values and values[0] else None


def _rpc_error(data: str) -> Reply:
    """Return a CometBFT JSON-RPC error reply (HTTP 500, as CometBFT sends)."""
    error = {"code": -32603, "message": "Internal error", "data": data}
    return _json(500, {"jsonrpc": "2.0", "id": -1, "error": error})


class WalrusStandIn(StandInServer):
    """Walrus aggregator stand-in: ``GET /v1/blobs/{blobId}`` returns what put() stored, else 404."""

    PREFIX = "/v1/blobs/"

    def __init__(self) -> None:
        super().__init__()
        self._blobs: dict[str, bytes] = {}

    def put(self, blob_id: str, data: bytes) -> None:
        """Store (or replace) the bytes of a blob."""
        with self._lock:
            self._blobs[blob_id] = bytes(data)

    def blobs(self) -> dict[str, bytes]:
        """Every stored blob (to save it beside a chain state)."""
        with self._lock:
            return dict(self._blobs)

    def handle_get(self, path: str, query: dict[str, list[str]]) -> Reply:
        """Serve stored blobs; unknown ids and other paths are 404."""
        blob_id = unquote(path[len(self.PREFIX) :]) if path.startswith(self.PREFIX) else ""
        with self._lock:
            data = self._blobs.get(blob_id) if blob_id else None
        if data is None:
            message = f"the requested blob ID {blob_id!r} does not exist"
            return _json(404, {"error": {"status": "NOT_FOUND", "code": 404, "message": message}})
        return 200, "application/octet-stream", data

