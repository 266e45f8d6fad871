"""A canary secret never appears in logs or errors: registered values and key-like URL parts are masked."""

from __future__ import annotations

import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collectors.rpc import RpcClient, RpcError
from ogwatch import secrets
from tests.conftest import ogwatch, write_config

CANARY = "CANARYk3y9f8e7d6c5b4a3"


@pytest.fixture
def echo_server():
    """A real JSON-RPC endpoint that answers every call with an error quoting the request path."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            return

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"jsonrpc": "2.0", "id": 1,
                               "error": {"code": -32000, "message": f"bad key in {self.path}"}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("url", [
    f"http://127.0.0.1:1/rpc?apikey={CANARY}",
    f"http://user:{CANARY}@127.0.0.1:1/",
    f"http://127.0.0.1:1/v3/{CANARY}",
])
def test_cli_errors_never_show_the_canary(tmp_path, url) -> None:
    cfg = write_config(tmp_path, extra='\n[networks.keyed]\nname="k"\nchain_id=5\nrpc_url_env=["OGW_CANARY_URL"]\n')
    out = ogwatch("--config", str(cfg), "-v", "check", "--network", "keyed", env={"OGW_CANARY_URL": url})
    assert out.returncode == 2
    assert "keyed:" in out.stderr and "127.0.0.1" in out.stderr
    assert CANARY not in out.stdout + out.stderr
    assert secrets.MASK in out.stderr


def test_rpc_error_text_from_server_is_redacted(echo_server) -> None:
    url = f"{echo_server}/v2/{CANARY}"
    secrets.register(url)
    with pytest.raises(RpcError) as err:
        RpcClient(url).call("eth_chainId")
    assert err.value.kind == "rpc" and err.value.code == -32000
    assert CANARY not in str(err.value)


def test_log_lines_and_tracebacks_are_redacted() -> None:
    secrets.register(CANARY)
    buf = io.StringIO()
    logger = logging.getLogger("ogwatch.test.redact")
    handler = logging.StreamHandler(buf)
    logger.addHandler(handler)
    logger.propagate = False
    secrets.install_log_redaction(logger)
    try:
        logger.warning("calling %s", f"https://rpc.example/?key={CANARY}")
        try:
            raise RuntimeError(f"failed talking to {CANARY}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    text = buf.getvalue()
    assert "calling https://rpc.example/?key=***" in text
    assert "RuntimeError: failed talking to ***" in text
    assert CANARY not in text


def test_redact_keeps_ordinary_text() -> None:
    tx = "0x" + "ab" * 32
    assert secrets.redact(f"see https://bscscan.com/tx/{tx}") == f"see https://bscscan.com/tx/{tx}"
    assert secrets.redact("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
