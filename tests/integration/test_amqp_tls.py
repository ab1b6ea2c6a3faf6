"""TLS against a local TLS listener that plays the broker's side of the AMQP handshake: what
nova's client would accept or refuse, we accept or refuse (no live RabbitMQ needed)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pamqp import commands, frame

from aioconductor.config.settings import Settings, load_settings
from aioconductor.messaging.connection import BrokerConnector, BrokerUnreachable


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name `localhost` only (not 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def _play_broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The broker's half of the handshake: Start, Tune, OpenOk; then hold the line."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
        await reader.readexactly(8)  # protocol header
        start = commands.Connection.Start(mechanisms="AMQPLAIN PLAIN", locales="en_US")
        writer.write(frame.marshal(start, 0))
        buffer = b""
        answers = {
            commands.Connection.StartOk: commands.Connection.Tune(0, 131072, 0),
            commands.Connection.Open: commands.Connection.OpenOk(),
        }
        while True:
            buffer += await reader.read(4096)
            if not buffer:
                return
            while buffer:
                try:
                    used, _, value = frame.unmarshal(buffer)
                except Exception:  # not a whole frame yet
                    break
                buffer = buffer[used:]
                answer = answers.get(type(value))
                if answer is not None:
                    writer.write(frame.marshal(answer, 0))


@pytest.fixture
async def tls_broker(certificate: tuple[Path, Path]) -> AsyncIterator[int]:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = await asyncio.start_server(_play_broker, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def settings(host: str, port: int, **rabbit: str) -> Settings:
    env = {"AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": f"rabbit://guest:guest@{host}:{port}/"}
    env.update({f"AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__{k.upper()}": v for k, v in rabbit.items()})
    env["AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__SSL"] = "true"
    return load_settings([], env=env)


async def opens(settings: Settings) -> bool:
    """True when the connection opens; False when the certificate was refused."""
    try:
        connection = await BrokerConnector(settings)()
    except BrokerUnreachable as exc:
        refusal = str(exc)
    else:
        connection.abort()
        return True
    if "CERTIFICATE_VERIFY_FAILED" not in refusal:
        raise AssertionError(f"failed, but not on the certificate: {refusal}")
    return False


async def test_with_a_ca_file_the_certificate_and_its_name_are_checked(
    tls_broker: int, certificate: tuple[Path, Path]
) -> None:
    ca = str(certificate[0])
    assert await opens(settings("localhost", tls_broker, ssl_ca_file=ca))
    # the same certificate reached by an address it does not name is refused
    assert not await opens(settings("127.0.0.1", tls_broker, ssl_ca_file=ca))


async def test_without_a_ca_file_the_systems_cas_must_vouch_for_the_broker(
    tls_broker: int,
) -> None:
    # py-amqp's default context: a self-signed broker certificate is refused
    assert not await opens(settings("127.0.0.1", tls_broker))


async def test_with_an_ssl_version_and_no_ca_file_nothing_is_verified(tls_broker: int) -> None:
    # oslo's PROTOCOL_TLSv1_x context verifies nothing, as nova's client then does
    assert await opens(settings("127.0.0.1", tls_broker, ssl_version="TLSv1_2"))
    assert await opens(settings("127.0.0.1", tls_broker, ssl_version="tlsv1.3"))
