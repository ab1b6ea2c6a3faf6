"""[oslo_messaging_notifications] and [notifications] as nova and oslo.messaging read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from aioconductor.config.settings import load_settings
from aioconductor.errors import ConfigError


def test_defaults_are_nova_and_oslo_defaults(tmp_path: Path) -> None:
    notes = load_settings([], env={}).notifications
    assert notes.drivers == ()
    assert notes.topics == ("notifications",)
    assert notes.versioned_topics == ("versioned_notifications",)
    assert notes.retry == -1
    assert notes.notification_format == "unversioned"
    assert notes.transport_url is None
    # no driver: oslo loads no extension, nothing is sent in either format
    assert not notes.legacy
    assert not notes.versioned


def test_every_option_is_read(tmp_path: Path) -> None:
    s = load_settings(
        [
            _write(
                tmp_path,
                "[notifications]\nnotification_format = both\n"
                "versioned_notifications_topics = a, b\nbdms_in_notifications = true\n"
                "[oslo_messaging_notifications]\ndriver = messaging\ndriver = log\n"
                "topics = n1,n2\nretry = 3\ntransport_url = rabbit://u:secret@mq9:5673/notes\n",
            )
        ],
        env={},
    )
    notes = s.notifications
    assert notes.drivers == ("messaging", "log")  # a MultiStrOpt: one per line
    assert notes.topics == ("n1", "n2")
    assert notes.versioned_topics == ("a", "b")
    assert notes.retry == 3
    assert notes.bdms_in_notifications
    assert notes.legacy
    assert notes.versioned
    # the notification transport is another broker and vhost; its password stays masked
    other = s.notification_settings().amqp_endpoints()[0]
    assert (other.host, other.port, other.virtual_host) == ("mq9", 5673, "notes")
    assert "secret" not in str(s.masked())
    assert s.masked()["notifications"]["transport_url"] == "rabbit://u:***@mq9:5673/notes"


def test_without_a_transport_url_notifications_use_the_rpc_transport(tmp_path: Path) -> None:
    s = load_settings([], env={})
    assert s.notification_settings() is s


@pytest.mark.parametrize(
    ("drivers", "legacy", "versioned"),
    [
        (["noop"], False, False),
        (["noop", "messagingv2"], False, True),
        (["messaging,log"], False, False),  # not split: stevedore knows no such driver
        (["log"], False, True),
    ],
)
def test_which_drivers_send(
    tmp_path: Path, drivers: list[str], legacy: bool, versioned: bool
) -> None:
    text = "[notifications]\nnotification_format = versioned\n[oslo_messaging_notifications]\n"
    text += "".join(f"driver = {d}\n" for d in drivers)
    notes = load_settings([_write(tmp_path, text)], env={}).notifications
    assert (notes.legacy, notes.versioned) == (legacy, versioned)


def test_the_old_default_section_is_still_read_for_nova_options(tmp_path: Path) -> None:
    text = "[DEFAULT]\nnotification_format = versioned\n"
    assert load_settings([_write(tmp_path, text)], env={}).notifications.notification_format == (
        "versioned"
    )


def test_a_bad_value_names_its_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[notifications\] notification_format"):
        load_settings([_write(tmp_path, "[notifications]\nnotification_format = json\n")], env={})
    with pytest.raises(ConfigError, match=r"\[oslo_messaging_notifications\] retry"):
        load_settings([_write(tmp_path, "[oslo_messaging_notifications]\nretry = -2\n")], env={})


ROUTING = (
    "[notifications]\nnotification_format = versioned\n"
    "[oslo_messaging_notifications]\ndriver = routing\n"
)


def test_a_driver_we_cannot_send_through_is_refused_without_a_legacy_conductor(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="driver = routing"):
        load_settings([_write(tmp_path, ROUTING)], env={})


def test_with_a_legacy_conductor_the_notifying_service_methods_are_forwarded(
    tmp_path: Path,
) -> None:
    s = load_settings([_write(tmp_path, ROUTING + "[aioconductor]\nfallback_host = old\n")], env={})
    assert s.forwarded_pairs == {("Service", "create"), ("Service", "save")}


def test_service_notifications_no_longer_need_the_legacy_conductor(tmp_path: Path) -> None:
    text = (
        "[notifications]\nnotification_format = both\n"
        "[oslo_messaging_notifications]\ndriver = messagingv2\n"
        "[aioconductor]\nfallback_host = old\n"
    )
    assert load_settings([_write(tmp_path, text)], env={}).forwarded_pairs == frozenset()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nova.conf"
    path.write_text(text)
    return path


def test_drivers_load_once_in_oslo_entry_point_order(tmp_path: Path) -> None:
    text = "[oslo_messaging_notifications]\ndriver = messagingv2\ndriver = messaging\n"
    text += "driver = messagingv2\ndriver = log\n"
    notes = load_settings([_write(tmp_path, text)], env={}).notifications
    assert notes.sending_drivers == ("log", "messaging", "messagingv2")
