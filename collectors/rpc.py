"""A small JSON-RPC client: single and batched calls, errors classified by kind, URLs never leaked.

Errors are classified by transport failure, HTTP status and JSON-RPC error code (not message text
alone) so callers can decide what is transient. Every message is redacted: RPC URLs often carry API
keys.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import orjson
import requests
import urllib3

from ogwatch.secrets import redact

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


class RpcError(RuntimeError):
    """A failed JSON-RPC exchange; `kind` is transport | http | rpc | malformed."""

    def __init__(self, kind: str, message: str, *, code: int | None = None, status: int | None = None):
        self.kind, self.code, self.status = kind, code, status
        super().__init__(redact(message))

    @property
    def transient(self) -> bool:
        """Worth retrying: network trouble, rate limits, server errors."""
        if self.kind == "transport":
            return True
        if self.kind == "http":
            return self.status in (408, 425, 429) or (self.status or 0) >= 500
        return False


@dataclass
class RpcClient:
    """JSON-RPC over HTTP to one endpoint."""

    url: str
    timeout: float = 10.0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._session = requests.Session()

    @property
    def shown_url(self) -> str:
        """The endpoint as it may be logged or displayed."""
        return redact(self.url)

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        """One call; raises RpcError."""
        reply = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []})
        if not isinstance(reply, dict):
            raise RpcError("malformed", f"{self.shown_url}: {method} answered a non-object")
        return _result(reply, method, self.shown_url)

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one HTTP request, results in call order; any error raises."""
        if not calls:
            return []
        first = next(self._ids)
        payload = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        for _ in range(len(calls) - 1):
            next(self._ids)
        reply = self._post(payload)
        if not isinstance(reply, list) or len(reply) != len(calls):
            raise RpcError("malformed", f"{self.shown_url}: batch of {len(calls)} answered with {type(reply).__name__}")
        by_id = {r.get("id"): r for r in reply if isinstance(r, dict)}
        out = []
        for i, (method, _params) in enumerate(calls):
            if first + i not in by_id:
                raise RpcError("malformed", f"{self.shown_url}: batch answer lacks id {first + i}")
            out.append(_result(by_id[first + i], method, self.shown_url))
        return out

    def _post(self, payload: Any) -> Any:
        try:
            resp = self._session.post(self.url, data=orjson.dumps(payload), timeout=self.timeout,
                                      headers={"Content-Type": "application/json"}, stream=True)
        except requests.Timeout:
            raise RpcError("transport", f"{self.shown_url}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise RpcError("transport", f"{self.shown_url}: cannot connect ({_reason(exc)})") from None
        if resp.status_code != 200:
            resp.close()
            raise RpcError("http", f"{self.shown_url}: HTTP {resp.status_code}", status=resp.status_code)
        try:
            return orjson.loads(self._body(resp))
        except orjson.JSONDecodeError:
            raise RpcError("malformed", f"{self.shown_url}: answer is not JSON") from None

    def _body(self, resp: requests.Response) -> bytes:
        """The whole body in one buffer (requests' `.content` joins 10 kB chunks: twice a large answer's size).

        Read to its end, the connection goes back to the session's pool for the next call.
        """
        try:
            body: bytes = resp.raw.read(decode_content=True)
            return body
        except urllib3.exceptions.ReadTimeoutError:
            resp.close()
            raise RpcError("transport", f"{self.shown_url}: no answer within {self.timeout:g} s") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            resp.close()
            raise RpcError("transport", f"{self.shown_url}: cannot connect ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    found = _ERRNO.findall(str(exc))
    return str(found[-1]) if found else type(exc).__name__


def _result(reply: dict[str, Any], method: str, shown_url: str) -> Any:
    if "error" in reply and reply["error"] is not None:
        err = reply["error"] if isinstance(reply["error"], dict) else {"message": str(reply["error"])}
        code = err.get("code")
        raise RpcError("rpc", f"{shown_url}: {method}: {err.get('message', '')} (code {code})",
                       code=code if isinstance(code, int) else None)
    if "result" not in reply:
        raise RpcError("malformed", f"{shown_url}: {method} answered without result")
    return reply["result"]
