"""The opening handshake: login the way nova's client logs in (AMQPLAIN by default)."""

from __future__ import annotations

import asyncio

import pytest
from pamqp import commands

from aioconductor.messaging.amqp.connection import LoginUnsupported
from tests.unit.amqp.fake_broker import FakeBroker, method, new_connection


def raw(response: str | bytes) -> bytes:
    return response if isinstance(response, bytes) else response.encode()


async def login(**options: object) -> commands.Connection.StartOk:
    broker = FakeBroker(new_connection(**options))
    negotiate = asyncio.ensure_future(broker.connection._negotiate())
    return await broker.handshake(negotiate)


async def test_amqplain_is_the_default_as_in_oslo() -> None:
    start_ok = await login(username="guest", password="secret")
    assert start_ok.mechanism == "AMQPLAIN"
    # a field table without its length prefix: LOGIN and PASSWORD as long strings
    assert raw(start_ok.response) == (
        b"\x05LOGINS\x00\x00\x00\x05guest" + b"\x08PASSWORDS\x00\x00\x00\x06secret"
    )


async def test_amqplain_carries_any_password() -> None:
    password = "pä$$" * 40  # non-ASCII, and longer than 127 bytes
    start_ok = await login(username="nova", password=password, login_method="AMQPLAIN")
    encoded = password.encode()
    assert raw(start_ok.response).endswith(
        b"\x08PASSWORDS" + len(encoded).to_bytes(4, "big") + encoded
    )


async def test_plain_login() -> None:
    start_ok = await login(username="guest", password="secret", login_method="PLAIN")
    assert start_ok.mechanism == "PLAIN"
    assert raw(start_ok.response) == b"\x00guest\x00secret"


async def test_external_login_sends_no_credentials() -> None:
    start_ok = await login(username="guest", password="secret", login_method="EXTERNAL")
    assert start_ok.mechanism == "EXTERNAL"
    assert raw(start_ok.response) == b""


async def test_a_login_method_the_broker_does_not_offer_is_refused_clearly() -> None:
    broker = FakeBroker(new_connection(login_method="EXTERNAL"))
    negotiate = asyncio.ensure_future(broker.connection._negotiate())
    await broker.settle()
    broker.feed(method(0, commands.Connection.Start(mechanisms="PLAIN AMQPLAIN")))
    with pytest.raises(LoginUnsupported, match=r"EXTERNAL.*PLAIN AMQPLAIN"):
        await asyncio.wait_for(negotiate, 1)


def test_an_unknown_login_method_is_refused_before_connecting() -> None:
    async def attempt() -> None:
        new_connection(login_method="RABBIT-CR-DEMO")

    with pytest.raises(ValueError, match="RABBIT-CR-DEMO"):
        asyncio.run(attempt())
