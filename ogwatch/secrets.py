"""Secrets come from environment variables only, and are redacted wherever text leaves the process.

Config names an env var (`rpc_url_env`, `url_env`, `secret_env`); `reveal` reads it and remembers
the value so that `redact` removes it from any log line, error, stored text or page. Independently
of that registry, `redact` also masks the usual places keys hide in URLs (userinfo, key-like query
parameters, long key-like path segments), so a URL typed into config by mistake is masked as well.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from urllib.parse import parse_qsl, urlsplit

MASK = "***"
_known: set[str] = set()
_lock = threading.Lock()

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_QUERY_KEY = re.compile(
    r"(?P<k>[?&;](?:api[-_]?key|key|token|access[-_]?token|secret|auth|sig|signature|password|pass)=)"
    r"[^&#\s'\"]+",
    re.IGNORECASE,
)
# Provider keys in paths (/v3/<32 hex>, /v2/<alchemy key>): long runs of key-like characters.
_PATH_KEY = re.compile(r"(?<=/)(?!0x)[A-Za-z0-9_-]{24,}(?=[/?#\s'\"]|$)")


class MissingSecret(KeyError):
    """The env var that config names for a secret is not set."""


def reveal(env_name: str) -> str:
    """Read a secret from the environment and register it for redaction."""
    value = os.environ.get(env_name)
    if not value:
        raise MissingSecret(f"environment variable {env_name} is not set")
    register(value)
    return value


def register(value: str) -> None:
    """Remember a secret so that `redact` masks it; for a URL, also each part a key can hide in.

    Errors often quote only part of a URL (a path, a query), so the parts are registered too:
    userinfo, query values and path segments of 8 characters or more. Shorter values are ignored as
    too likely to match ordinary text.
    """
    parts = [value]
    if "://" in value:
        url = urlsplit(value)
        parts += [url.password or "", url.username or "", *(v for _k, v in parse_qsl(url.query))]
        parts += [seg for seg in url.path.split("/") if len(seg) >= 8]
    with _lock:
        _known.update(p for p in parts if len(p) >= 6)


def redact(text: str) -> str:
    """Mask registered secrets and key-like URL parts in any text."""
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        text = text.replace(value, MASK)
    text = _USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", text)
    text = _QUERY_KEY.sub(lambda m: m.group("k") + MASK, text)
    return _PATH_KEY.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record and redacts it before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message with its redacted rendering."""
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach redaction to every handler of the given (default: root) logger."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
