"""One POST to a receiver, pinned to the address the SSRF guard checked (no second DNS lookup, so a name that
re-resolves to a private address between check and connect cannot be used), never following redirects.

TLS still verifies the certificate against the URL's host name (SNI and hostname check use the name, the TCP
connection the checked address). Timeouts: `timeout_s` for the connection and for the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import certifi
import urllib3
from urllib3.util import make_headers


@dataclass(frozen=True)
class Answer:
    """The receiver's status and the start of its body."""

    status: int
    text: str


def post(url: str, ip: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Answer:
    """POST `body` to `url` over a connection to `ip`; raises urllib3 errors (TimeoutError, HTTPError)."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ip
    sent = {**headers, "host": host if parts.port is None else f"{host}:{parts.port}"}
    if parts.username:
        sent |= make_headers(basic_auth=f"{unquote(parts.username)}:{unquote(parts.password or '')}")
    timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s, total=timeout_s)
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(ip, port, timeout=timeout, retries=False, cert_reqs="CERT_REQUIRED",
                                           ca_certs=certifi.where(), server_hostname=host, assert_hostname=host)
    else:
        pool = urllib3.HTTPConnectionPool(ip, port, timeout=timeout, retries=False)
    try:
        r = pool.urlopen("POST", path, body=body, headers=sent, redirect=False, retries=False, preload_content=True)
        return Answer(r.status, r.data[:400].decode(errors="replace"))
    finally:
        pool.close()
