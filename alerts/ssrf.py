"""SSRF guard: a webhook URL is checked at send time against every address its host resolves to.

Loopback, private, link-local, multicast, reserved and unspecified addresses (and IPv4-mapped IPv6 forms of
them, and numeric spellings such as a decimal 2130706433, which the resolver turns into 127.0.0.1) are
refused unless the channel sets `allow_private = true`. The connection then goes to the checked address
(alerts/http.py), so the name cannot re-resolve elsewhere in between; redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ogwatch.errors import OgwatchError


class UnsafeURL(OgwatchError):
    """A webhook URL that may not be called."""


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _blocked(ip.ipv4_mapped)
    for what in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{what}"):
            return what.replace("_", "-")
    return "" if ip.is_global else "non-global"


def check(url: str, allow_private: bool, channel: str) -> str:
    """The address to connect to; raises UnsafeURL (one line, no URL in it) unless the URL may be called now."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(f"webhook {channel}: URL must be http(s)://host/...")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"webhook {channel}: host does not resolve ({exc})") from None
    ips = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in ips if not allow_private else []:
        why = _blocked(ip)
        if why:
            raise UnsafeURL(f"webhook {channel}: refused, its URL resolves to a {why} address ({ip}); "
                            "set allow_private = true on the webhook to allow it")
    return str(ips[0])
