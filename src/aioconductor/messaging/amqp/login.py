"""SASL responses for Connection.StartOk, as py-amqp (nova's client) sends them."""

from __future__ import annotations

from typing import Final, Literal, get_args

from pamqp import encode

LoginMethod = Literal["AMQPLAIN", "PLAIN", "EXTERNAL"]
LOGIN_METHODS: Final = frozenset(get_args(LoginMethod))


def login_response(method: str, username: str, password: str) -> bytes:
    """The StartOk response for a login method.

    AMQPLAIN (oslo's default) is a field table without its length prefix; PLAIN is
    NUL user NUL password; EXTERNAL (a client certificate names the user) is empty.
    """
    if method == "AMQPLAIN":
        return encode.field_table({"LOGIN": username, "PASSWORD": password})[4:]
    if method == "PLAIN":
        return f"\0{username}\0{password}".encode()
    if method == "EXTERNAL":
        return b""
    raise ValueError(
        f"login method {method!r} is not supported (use one of {', '.join(sorted(LOGIN_METHODS))})"
    )
