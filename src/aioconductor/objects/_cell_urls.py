"""Cell-mapping URL templates, filled as nova's CellMapping.format_db_url/format_mq_url do.

A cell mapping may store `{scheme}://{username}:{password}@{hostname}/{path}` instead of a
URL; the conductor that reads the mapping fills it from its own `[database] connection` or
`[DEFAULT] transport_url` (for a multi-host transport URL also `{hostname1}`, `{port2}`...).
A URL without braces comes back unchanged; a template nova cannot fill (a key it does not
know, a default it cannot parse) comes back as stored, as nova's does (it logs and goes on).
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

log = logging.getLogger(__name__)


def format_url(url: str, default: str | None, option: str) -> str:
    """`url` filled from `default` (the value of `option`), or as stored."""
    if default is None:
        if "{" in url:
            log.error("cell mapping URL is a template, but %s is not set", option)
        return url
    try:
        return url.format(**_substitutions(default))
    except Exception:
        log.exception("failed to parse %s to format a cell mapping", option)
        return url


def _substitutions(default: str) -> dict[str, object]:
    parsed = urlparse(default)
    subs: dict[str, object] = {
        "username": parsed.username,
        "password": parsed.password,
        "hostname": parsed.hostname,
        "port": parsed.port,
        "scheme": parsed.scheme,
        "query": parsed.query,
        "fragment": parsed.fragment,
        "path": parsed.path.lstrip("/"),
    }
    # oslo.messaging's multi-host form: user:pass@host:port,user1:pass@host1:port,...
    if "," in parsed.netloc:
        for index, netloc in enumerate(parsed.netloc.split(","), start=1):
            for key, value in _netloc_parts(netloc).items():
                subs[f"{key}{index}"] = value
    return subs


def _netloc_parts(netloc: str) -> dict[str, object]:
    # nova splits at the first @
    userpass, hostport = netloc.split("@", 1) if "@" in netloc else ("", netloc)
    host, port = _host_port(hostport)
    username, password = userpass.split(":", 1) if ":" in userpass else (userpass, None)
    return {"username": username, "password": password, "hostname": host, "port": port}


def _host_port(address: str) -> tuple[str | None, int | None]:
    """oslo.utils' netutils.parse_host_port without a default port."""
    if not address:
        return None, None
    if address[0] == "[":  # an escaped IPv6 address
        host, rest = address[1:].split("]")
        return host, int(rest.split(":")[1]) if ":" in rest else None
    if address.count(":") == 1:
        host, port = address.split(":")
        return host, int(port)
    return address, None  # no port, or an unescaped IPv6 address
