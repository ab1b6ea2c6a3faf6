"""From [oslo_messaging_rabbit] to connections: TLS, login and failover as oslo with kombu."""

from __future__ import annotations

import random
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aioconductor.config.settings import Settings, load_settings
from aioconductor.errors import BootError
from aioconductor.messaging.amqp.connection import Connection, LoginUnsupported
from aioconductor.messaging.connection import BrokerConnector, BrokerUnreachable, ssl_context


def settings(url: str = "rabbit://guest:guest@mq1:5672/", **rabbit: str) -> Settings:
    env = {"AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": url}
    env.update({f"AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__{k.upper()}": v for k, v in rabbit.items()})
    return load_settings([], env=env)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and its key (also usable as a CA file)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=mq1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_no_tls_unless_asked() -> None:
    assert ssl_context(settings().rabbit) is None


def test_without_a_ca_file_tls_verifies_as_py_amqp_does() -> None:
    # py-amqp's default context: the system's CAs, no host name check (kombu passes none)
    context = ssl_context(settings(ssl="true").rabbit)
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False


def test_an_ssl_version_pins_that_version_and_like_oslo_verifies_nothing_without_a_ca() -> None:
    context = ssl_context(settings(ssl="true", ssl_version="TLSv1.2").rabbit)
    assert context is not None
    assert (context.minimum_version, context.maximum_version) == (
        ssl.TLSVersion.TLSv1_2,
        ssl.TLSVersion.TLSv1_2,
    )
    assert context.verify_mode == ssl.CERT_NONE


def test_a_ca_file_means_certificate_and_host_name_are_checked(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    opts = settings(
        ssl="true",
        ssl_ca_file=str(cert),
        ssl_cert_file=str(cert),
        ssl_key_file=str(key),
        ssl_version="tlsv1_3",
    ).rabbit
    context = ssl_context(opts)
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3


@pytest.mark.parametrize("option", ["ssl_ca_file", "ssl_cert_file", "ssl_key_file"])
def test_a_missing_tls_file_is_a_boot_error_naming_the_option(
    certificate: tuple[Path, Path], tmp_path: Path, option: str
) -> None:
    cert, key = certificate
    files = {"ssl_ca_file": str(cert), "ssl_cert_file": str(cert), "ssl_key_file": str(key)}
    files[option] = str(tmp_path / "absent.pem")
    with pytest.raises(BootError, match=f"{option} .*absent.pem"):
        BrokerConnector(settings(ssl="true", **files))


def test_a_file_that_is_no_certificate_is_a_boot_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(BootError, match="ssl_cert_file"):
        BrokerConnector(settings(ssl="true", ssl_cert_file=str(junk)))


class Brokers:
    """Connection.open stand-in: hosts in `down` refuse; records hosts and login methods."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, down: set[str] = frozenset()) -> None:
        self.down = set(down)
        self.tried: list[str] = []
        self.options: list[dict[str, Any]] = []
        monkeypatch.setattr(Connection, "open", self.open)

    async def open(self, host: str, port: int, **options: Any) -> Connection:
        self.tried.append(host)
        self.options.append(options)
        if host in self.down:
            raise ConnectionRefusedError(f"{host} refused")
        return object()  # type: ignore[return-value]


THREE = "rabbit://u:p@mq1:5672,u:p@mq2:5672,u:p@mq3:5672/"


async def test_round_robin_keeps_one_order_and_starts_where_it_last_succeeded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    random.seed(7)
    brokers = Brokers(monkeypatch, down={"mq1", "mq2", "mq3"})
    connector = BrokerConnector(settings(THREE))
    for _ in range(2):
        with pytest.raises(BrokerUnreachable, match="refused"):
            await connector()
    first_round, second_round = brokers.tried[:3], brokers.tried[3:]
    assert sorted(first_round) == ["mq1", "mq2", "mq3"]
    assert second_round == first_round  # shuffled once, as oslo does, then kept
    works = first_round[1]
    brokers.down.discard(works)
    brokers.tried.clear()
    await connector()
    assert brokers.tried == first_round[:2]
    brokers.tried.clear()
    await connector()  # a reconnection goes back to the broker that worked
    assert brokers.tried == [works]


async def test_shuffle_picks_a_new_order_each_round(monkeypatch: pytest.MonkeyPatch) -> None:
    random.seed(11)
    brokers = Brokers(monkeypatch, down={"mq1", "mq2", "mq3"})
    connector = BrokerConnector(settings(THREE, kombu_failover_strategy="shuffle"))
    orders = set()
    for _ in range(12):
        brokers.tried.clear()
        with pytest.raises(BrokerUnreachable):
            await connector()
        assert sorted(brokers.tried) == ["mq1", "mq2", "mq3"]
        orders.add(tuple(brokers.tried))
    assert len(orders) > 1


async def test_the_login_method_and_heartbeat_rate_reach_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    brokers = Brokers(monkeypatch)
    await BrokerConnector(settings(rabbit_login_method="EXTERNAL", heartbeat_rate="4"))()
    assert brokers.options[0]["login_method"] == "EXTERNAL"
    assert brokers.options[0]["heartbeat_rate"] == 4


async def test_a_login_method_the_broker_lacks_is_a_boot_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refuse(host: str, port: int, **options: Any) -> Connection:
        raise LoginUnsupported("RabbitMQ does not offer login method EXTERNAL (it offers PLAIN)")

    monkeypatch.setattr(Connection, "open", refuse)
    with pytest.raises(BootError, match="EXTERNAL"):
        await BrokerConnector(settings(rabbit_login_method="EXTERNAL"))()


def test_a_key_without_its_certificate_is_a_boot_error(certificate: tuple[Path, Path]) -> None:
    with pytest.raises(BootError, match="ssl_key_file: set without ssl_cert_file"):
        BrokerConnector(settings(ssl="true", ssl_key_file=str(certificate[1])))
