"""Webhook channels as delivery needs them: kind, URL and signing secret read from env vars at send time.

The URL and the secret are never stored, logged or shown: `ogwatch.secrets.reveal` registers them for
redaction the moment they are read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from ogwatch.config import Config, Webhook
from ogwatch.secrets import MissingSecret, reveal


class Clock(Protocol):
    """Anything that tells the time (the system clock, or a fake one in tests)."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)


@dataclass(frozen=True)
class Channel:
    """One receiver as configured (names of env vars only)."""

    name: str
    kind: str
    url_env: str
    secret_env: str
    allow_private: bool
    timeout_s: float

    def url(self) -> str:
        """The receiver URL, from its env var (raises MissingSecret)."""
        return reveal(self.url_env)

    def secret(self) -> str:
        """The signing secret, from its env var (raises MissingSecret)."""
        return reveal(self.secret_env)


def channel(name: str, w: Webhook) -> Channel:
    """A configured webhook as a channel."""
    return Channel(name, w.kind, w.url_env, w.secret_env, w.allow_private, w.timeout_seconds)


def channels(cfg: Config) -> dict[str, Channel]:
    """Every configured webhook."""
    return {name: channel(name, w) for name, w in cfg.webhooks.items()}


def monotonic_ms(start: float) -> float:
    """Milliseconds since a time.monotonic() reading."""
    return (time.monotonic() - start) * 1000


__all__ = ["Channel", "Clock", "SystemClock", "channel", "channels", "MissingSecret", "monotonic_ms"]
