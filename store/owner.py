"""The owner's read service: the process holding the write lock answers other processes' reads.

DuckDB lets one process write or many read, never both. The process that opens the file for writing
(the scheduler, or a one-shot CLI write) therefore also serves the registered named queries over
HTTP on 127.0.0.1, announced in `<db>.owner.json` (pid, port, random token; mode 0600). Readers in
other processes (dashboard, CLI) ask it instead of opening the file. Only registered query names are
accepted, parameters are bound, and results travel as Arrow IPC so types (and exact uint256 text)
arrive unchanged. `POST /query_many` answers several named queries in one request (run concurrently on the
owner's cursors; each answer is a table or that query's own error, see `store.owner_batch`).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import requests

from store.errors import StoreError
from store.owner_batch import Answer, answer_batch, decode_batch, encode_batch, parse_batch

TOKEN_HEADER = "X-Ogwatch-Token"
Executor = Callable[[str, dict[str, Any]], pa.Table]


def owner_file(db_path: Path) -> Path:
    """Where the owner announces itself, next to the database file."""
    return db_path.with_name(db_path.name + ".owner.json")


@dataclass(frozen=True)
class OwnerInfo:
    """What a reader needs to reach the owner."""

    pid: int
    port: int
    token: str

    @property
    def url(self) -> str:
        """Base URL of the owner's read service."""
        return f"http://127.0.0.1:{self.port}"


def read_owner(db_path: Path) -> OwnerInfo | None:
    """The announced owner, or None when none is announced or its process is gone."""
    try:
        data = json.loads(owner_file(db_path).read_text())
        info = OwnerInfo(int(data["pid"]), int(data["port"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if _alive(info.pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def arrow_bytes(table: pa.Table) -> bytes:
    """Serialise a table as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def from_arrow_bytes(data: bytes) -> pa.Table:
    """Read an Arrow IPC stream back into a table."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


class OwnerServer:
    """Serves POST /query {"name", "params"} and POST /query_many {"queries": [...]} with the owner's executor;
    GET /ping for liveness."""

    def __init__(self, db_path: Path, execute: Executor):
        self.db_path = db_path
        self.token = secrets.token_hex(16)
        handler = _make_handler(execute, self.token)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="store-owner", daemon=True)

    def start(self) -> None:
        """Start serving and announce the owner (atomically, readable by this user only)."""
        self.thread.start()
        info = {"pid": os.getpid(), "port": self.httpd.server_address[1], "token": self.token}
        path = owner_file(self.db_path)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        os.replace(tmp, path)

    def stop(self) -> None:
        """Withdraw the announcement first, then stop serving."""
        path = owner_file(self.db_path)
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _make_handler(execute: Executor, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return  # requests are not logged: parameters may be user input

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            self._reply(200, b"ok", "text/plain") if self.path == "/ping" else self._reply(404, b"", "")

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            if self.headers.get(TOKEN_HEADER) != token:
                return self._reply(403, b"bad token", "text/plain")
            if self.path == "/query_many":
                return self._many()
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                table = execute(str(body["name"]), dict(body.get("params") or {}))
            except StoreError as exc:
                return self._reply(400, str(exc).encode(), "text/plain")
            except Exception as exc:  # a failed read must reach the reader as an error, not a hang
                return self._reply(500, f"{type(exc).__name__}: {exc}".encode(), "text/plain")
            self._reply(200, arrow_bytes(table), "application/vnd.apache.arrow.stream")

        def _many(self) -> None:
            try:
                batch = parse_batch(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            except (StoreError, ValueError) as exc:
                return self._reply(400, str(exc).encode(), "text/plain")
            self._reply(200, encode_batch(answer_batch(execute, batch)), "application/octet-stream")

        def _reply(self, code: int, data: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class OwnerUnavailable(Exception):
    """The announced owner did not answer (starting, stopping or gone)."""


def ask_owner(info: OwnerInfo, name: str, params: dict[str, Any], timeout: float) -> pa.Table:
    """Run a named query in the owner process."""
    try:
        resp = requests.post(
            f"{info.url}/query",
            json={"name": name, "params": params},
            headers={TOKEN_HEADER: info.token},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise OwnerUnavailable(str(exc)) from exc
    if resp.status_code == 200:
        return from_arrow_bytes(resp.content)
    if resp.status_code == 403:
        raise OwnerUnavailable("owner token changed")
    raise StoreError(f"query {name} failed in the owner process: {resp.text[:300]}")


def ask_owner_many(info: OwnerInfo, batch: list[tuple[str, dict[str, Any]]], timeout: float) -> list[Answer]:
    """Run several named queries in the owner process in one request: one answer per query, in order."""
    try:
        resp = requests.post(
            f"{info.url}/query_many",
            json={"queries": [{"name": n, "params": p} for n, p in batch]},
            headers={TOKEN_HEADER: info.token},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise OwnerUnavailable(str(exc)) from exc
    if resp.status_code == 200:
        return decode_batch(resp.content, [n for n, _ in batch])
    if resp.status_code == 403:
        raise OwnerUnavailable("owner token changed")
    raise StoreError(f"queries {', '.join(n for n, _ in batch)} failed in the owner process: {resp.text[:300]}")
