"""nova.conf reading and settings resolution, as an operator would write them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aioconductor.config.settings import load_settings, parse_transport_url, to_async_url
from aioconductor.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_reads_nova_options_with_nova_defaults(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nova.conf",
        "[DEFAULT]\ntransport_url = rabbit://u:p%40ss@mq1:5673,u:p%40ss@mq2/nova_vhost\n"
        "host = ctl-1\n[database]\nconnection = mysql+pymysql://nova:secret@db/nova?charset=utf8"
        "&plugin=dbcounter\n[conductor]\nworkers = 3\n",
    )
    s = load_settings([conf], env={})
    assert s.control_exchange == "nova"
    assert s.host == "ctl-1"
    assert s.workers == 3
    assert s.rpc_response_timeout == 60
    hosts = {(e.host, e.port, e.virtual_host) for e in s.amqp_endpoints()}
    assert hosts == {("mq1", 5673, "nova_vhost"), ("mq2", 5672, "nova_vhost")}
    assert s.amqp_endpoints()[0].password.get_secret_value() == "p@ss"
    # the pymysql URL runs on the async driver; devstack's dbcounter plugin is dropped
    assert s.async_database_url() == "mysql+asyncmy://nova:secret@db/nova?charset=utf8"


def test_later_files_and_config_dir_override_earlier(tmp_path: Path) -> None:
    first = write(tmp_path / "a.conf", "[DEFAULT]\nhost = first\ncontrol_exchange = one\n")
    second = write(tmp_path / "b.conf", "[DEFAULT]\nhost = second\n")
    confd = tmp_path / "nova.conf.d"
    confd.mkdir()
    write(confd / "20-last.conf", "[DEFAULT]\ncontrol_exchange = three\n")
    write(confd / "10-mid.conf", "[DEFAULT]\ncontrol_exchange = two\n")
    s = load_settings([first, second], [confd], env={})
    assert s.host == "second"
    assert s.control_exchange == "three"


def test_oslo_ini_dialect_quotes_comments_continuations(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nova.conf",
        "# comment\n[default]\nhost = 'quoted-host'\n; another comment\n"
        "[aioconductor]\nfallback_host =\n    legacy-1\n",
    )
    s = load_settings([conf], env={})
    assert s.host == "quoted-host"
    assert s.aio.fallback_host == "legacy-1"


def test_transport_url_query_overrides_rabbit_section(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nova.conf",
        "[DEFAULT]\ntransport_url = rabbit://g:g@h/?amqp_durable_queues=true\n"
        "[oslo_messaging_rabbit]\namqp_durable_queues = false\nrabbit_qos_prefetch_count = 20\n",
    )
    s = load_settings([conf], env={})
    assert s.rabbit.amqp_durable_queues is True
    assert s.prefetch_count == 20


def test_environment_overrides_files(tmp_path: Path) -> None:
    conf = write(tmp_path / "nova.conf", "[DEFAULT]\nhost = file\n")
    env = {
        "AIOCONDUCTOR_DEFAULT__HOST": "env-host",
        "AIOCONDUCTOR_PREFETCH_COUNT": "7",
        "AIOCONDUCTOR_DATABASE__CONNECTION": "mysql://root@127.0.0.1/nova",
    }
    s = load_settings([conf], env=env)
    assert s.host == "env-host"
    assert s.prefetch_count == 7
    assert s.async_database_url() == "mysql+asyncmy://root@127.0.0.1/nova"


def test_prefetch_defaults_to_bounded_value_when_oslo_says_unlimited() -> None:
    s = load_settings([], env={})
    assert s.rabbit.rabbit_qos_prefetch_count == 0
    assert s.prefetch_count == 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[oslo_messaging_rabbit]\nrabbit_qos_prefetch_count = lots\n",
            "[oslo_messaging_rabbit] rabbit_qos_prefetch_count:",
        ),
        ("[aioconductor]\nack_mode = sometimes\n", "[aioconductor] ack_mode:"),
        ("[aioconductor]\nprefech_count = 3\n", "[aioconductor] prefech_count: unknown option"),
        ("[DEFAULT]\nrpc_response_timeout = -1\n", "[DEFAULT] rpc_response_timeout:"),
        ("[conductor]\nworkers = 0\n", "[conductor] workers:"),
        ("[database]\nconnection = postgresql://x/nova\n", "[database] connection:"),
        ("[api_database]\nconnection = sqlite:///nova_api\n", "[api_database] connection:"),
        ("[api_database]\nmax_pool_size = 0\n", "[api_database] max_pool_size:"),
        ("[DEFAULT]\ntransport_url = kafka://h\n", "[DEFAULT] transport_url:"),
        ("[DEFAULT]\ntransport_url = rabbit://h/?no_such_option=1\n", "[DEFAULT] transport_url:"),
        (
            "[oslo_messaging_rabbit]\nrabbit_ha_queues = true\nrabbit_quorum_queue = true\n",
            "[oslo_messaging_rabbit]",
        ),
        ("host = nowhere\n", "outside of any [section]"),
        (
            "[notifications]\nnotify_on_state_change = always\n",
            "[notifications] notify_on_state_change:",
        ),
        (
            "[aioconductor]\nforward_object_methods = Instance.save\n",
            "[aioconductor] forward_object_methods: needs fallback_host",
        ),
        (
            "[aioconductor]\nfallback_host = old\nforward_object_methods = Instance save\n",
            "[aioconductor] forward_object_methods: 'Instance save' is not Object.method",
        ),
    ],
)
def test_bad_values_name_section_and_key(tmp_path: Path, text: str, expected: str) -> None:
    conf = write(tmp_path / "nova.conf", text)
    with pytest.raises(ConfigError) as err:
        load_settings([conf], env={})
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_api_database_is_read_as_nova_reads_it(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nova.conf",
        "[api_database]\nconnection = mysql+pymysql://nova:apisecret@db/nova_api\n"
        "max_pool_size = 3\nconnection_recycle_time = 600\nmax_overflow = 7\n",
    )
    s = load_settings([conf], env={})
    assert s.async_api_database_url() == "mysql+asyncmy://nova:apisecret@db/nova_api"
    assert (s.api_database.max_pool_size, s.api_database.connection_recycle_time) == (3, 600)
    assert s.api_database.pool_timeout is None  # then [aioconductor] db_pool_timeout
    assert "apisecret" not in str(s.masked())
    # without it: no API database (and oslo.db's pool defaults)
    bare = load_settings([write(tmp_path / "bare.conf", "[DEFAULT]\n")], env={})
    assert bare.async_api_database_url() is None
    assert bare.api_database.max_pool_size == 5


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings([tmp_path / "absent.conf"], env={})


def test_masked_settings_hide_every_password(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nova.conf",
        "[DEFAULT]\ntransport_url = rabbit://nova:mqsecret@h1,nova:mqsecret@h2/\n"
        "[database]\nconnection = mysql+pymysql://nova:dbsecret@db/nova\n",
    )
    dumped = str(load_settings([conf], env={}).masked())
    assert "mqsecret" not in dumped
    assert "dbsecret" not in dumped
    assert "nova:***@h1" in dumped


def test_transport_url_defaults_like_oslo() -> None:
    endpoints, options = parse_transport_url("rabbit://")
    assert [(e.host, e.port, e.username, e.virtual_host) for e in endpoints] == [
        ("localhost", 5672, "guest", "/")
    ]
    assert options == {}


def test_asyncmy_driver_rewrite() -> None:
    assert to_async_url("mysql+pymysql://a@b/c", "asyncmy") == "mysql+asyncmy://a@b/c"


NOTIFYING = (
    "[notifications]\nnotify_on_state_change = vm_and_task_state\n"
    "[oslo_messaging_notifications]\ndriver = messagingv2\n"
)


def test_instance_update_notifications_are_served_natively(tmp_path: Path) -> None:
    conf = write(tmp_path / "nova.conf", NOTIFYING + "[aioconductor]\nfallback_host = old\n")
    settings = load_settings([conf], env={})
    assert settings.instance_update_notifications
    assert settings.forwarded_pairs == frozenset()


# a driver aioconductor does not have next to one it has: instance updates stay nova's
ROUTING = NOTIFYING + "[oslo_messaging_notifications]\ndriver = routing\n"


def test_notifications_we_cannot_build_are_not_dropped_silently(tmp_path: Path) -> None:
    conf = write(tmp_path / "nova.conf", ROUTING)
    with pytest.raises(ConfigError) as err:
        load_settings([conf], env={})
    message = str(err.value)
    assert "[oslo_messaging_notifications] driver = routing" in message
    assert "Instance.save" in message
    assert "fallback_host" in message
    assert "drop_instance_update_notifications" in message


def test_with_a_legacy_conductor_instance_save_is_forwarded(tmp_path: Path) -> None:
    conf = write(tmp_path / "nova.conf", ROUTING + "[aioconductor]\nfallback_host = old\n")
    assert load_settings([conf], env={}).forwarded_pairs == {("Instance", "save")}


def test_dropping_them_is_an_explicit_choice(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nova.conf",
        ROUTING + "[aioconductor]\ndrop_instance_update_notifications = true\n",
    )
    settings = load_settings([conf], env={})
    assert settings.unserved_notifications == {("Instance", "save")}
    assert settings.forwarded_pairs == frozenset()


@pytest.mark.parametrize("driver", ["", "[oslo_messaging_notifications]\ndriver = noop\n"])
def test_no_notification_driver_means_nothing_to_send(tmp_path: Path, driver: str) -> None:
    text = "[notifications]\nnotify_on_state_change = vm_state\n" + driver
    settings = load_settings([write(tmp_path / "nova.conf", text)], env={})
    assert not settings.instance_update_notifications
    assert settings.forwarded_pairs == frozenset()


def test_operators_can_hand_native_methods_to_the_legacy_conductor(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nova.conf",
        "[aioconductor]\nfallback_host = old\n"
        "forward_object_methods = InstanceList.get_by_filters, ComputeNode.save\n",
    )
    assert load_settings([conf], env={}).forwarded_pairs == {
        ("InstanceList", "get_by_filters"),
        ("ComputeNode", "save"),
    }


def rabbit_options(tmp_path: Path, text: str) -> Any:
    return load_settings(
        [write(tmp_path / "nova.conf", "[oslo_messaging_rabbit]\n" + text)], env={}
    ).rabbit


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("TLSv1_2", "tlsv1_2"),
        ("tlsv1.2", "tlsv1_2"),
        ("tlsv1_3", "tlsv1_3"),
        ("TLSv1", "tlsv1"),
        ("TLSv1_1", "tlsv1_1"),
        ("SSLv23", "sslv23"),
        ("", ""),
    ],
)
def test_ssl_version_takes_oslo_and_kombu_names(tmp_path: Path, given: str, expected: str) -> None:
    assert rabbit_options(tmp_path, f"ssl_version = {given}\n").ssl_version == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ssl_version = TLSv9\n", "[oslo_messaging_rabbit] ssl_version: "),
        ("ssl_version = SSLv3\n", "[oslo_messaging_rabbit] ssl_version: "),
        ("rabbit_login_method = RABBIT-CR-DEMO\n", "[oslo_messaging_rabbit] rabbit_login_method: "),
        ("rabbit_login_method = GSSAPI\n", "[oslo_messaging_rabbit] rabbit_login_method: "),
        ("kombu_failover_strategy = random\n", "[oslo_messaging_rabbit] kombu_failover_strategy:"),
        ("heartbeat_rate = 0\n", "[oslo_messaging_rabbit] heartbeat_rate:"),
    ],
)
def test_rabbit_options_we_cannot_honour_are_refused_at_load(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        rabbit_options(tmp_path, text)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_rabbit_cr_demo_is_refused_with_the_methods_we_do_support(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AMQPLAIN, EXTERNAL, PLAIN"):
        rabbit_options(tmp_path, "rabbit_login_method = RABBIT-CR-DEMO\n")


def test_login_and_failover_defaults_are_oslos(tmp_path: Path) -> None:
    opts = rabbit_options(tmp_path, "")
    assert opts.rabbit_login_method == "AMQPLAIN"
    assert opts.kombu_failover_strategy == "round-robin"
    assert opts.heartbeat_rate == 3
    assert (
        rabbit_options(tmp_path, "kombu_failover_strategy = shuffle\n").kombu_failover_strategy
        == "shuffle"
    )
