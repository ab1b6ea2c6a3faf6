"""Resolved settings: the operator's nova.conf, our [aioconductor] section, and the environment.

Every option nova.conf already has keeps nova's name, section and default, so an existing
nova.conf works unchanged. Our own options live in `[aioconductor]`. Environment variables
override files: `AIOCONDUCTOR_<KEY>` sets `[aioconductor] <key>` and
`AIOCONDUCTOR_<SECTION>__<KEY>` sets any other option (e.g. `AIOCONDUCTOR_DEFAULT__HOST`,
`AIOCONDUCTOR_DATABASE__CONNECTION`), which is what container deployments need.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from aioconductor.config import nova_conf
from aioconductor.config.boot_options import BootOptions, boot_options
from aioconductor.errors import ConfigError

ENV_PREFIX = "AIOCONDUCTOR_"
# Our own prefetch when nova.conf leaves rabbit_qos_prefetch_count at oslo's 0 (= unlimited):
# it bounds in-flight requests per worker, and the broker holds the rest.
DEFAULT_PREFETCH = 64


class _Section(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RabbitOptions(_Section):
    """[oslo_messaging_rabbit]: the options that change topology or behaviour."""

    amqp_durable_queues: bool = False
    amqp_auto_delete: bool = False
    rabbit_ha_queues: bool = False
    rabbit_quorum_queue: bool = False
    rabbit_quorum_delivery_limit: int = Field(0, ge=0)
    rabbit_quorum_max_memory_length: int = Field(0, ge=0)
    rabbit_quorum_max_memory_bytes: int = Field(0, ge=0)
    rabbit_transient_quorum_queue: bool = False
    rabbit_transient_queues_ttl: int = Field(1800, ge=0)
    rabbit_stream_fanout: bool = False
    use_queue_manager: bool = False
    hostname: str = Field(default_factory=socket.gethostname)
    processname: str = Field(default_factory=lambda: Path(sys.argv[0]).name or "aioconductor")
    enable_cancel_on_failover: bool = False
    rabbit_qos_prefetch_count: int = Field(0, ge=0)
    heartbeat_timeout_threshold: int = Field(60, ge=0)
    heartbeat_rate: int = Field(3, ge=1)
    kombu_missing_consumer_retry_timeout: float = Field(60, ge=0)
    kombu_reconnect_delay: float = Field(1.0, ge=0)
    rabbit_retry_interval: float = Field(1, ge=0)
    rabbit_retry_backoff: float = Field(2, ge=0)
    rabbit_interval_max: float = Field(30, ge=0)
    # oslo's choices are AMQPLAIN, PLAIN, EXTERNAL and RABBIT-CR-DEMO; the last one (RabbitMQ's
    # demonstration mechanism, which py-amqp cannot do either) is refused below.
    rabbit_login_method: str = "AMQPLAIN"
    kombu_failover_strategy: Literal["round-robin", "shuffle"] = "round-robin"
    ssl: bool = False
    ssl_version: str = ""  # normalised: "" (negotiate), sslv23, tlsv1, tlsv1_1, tlsv1_2, tlsv1_3
    ssl_ca_file: str = ""
    ssl_cert_file: str = ""
    ssl_key_file: str = ""

    @field_validator("rabbit_login_method")
    @classmethod
    def _supported_login(cls, value: str) -> str:
        if value not in _LOGIN_METHODS:
            raise ValueError(
                f"{value} is not supported (use one of {', '.join(sorted(_LOGIN_METHODS))})"
            )
        return value

    @field_validator("ssl_version")
    @classmethod
    def _known_tls_version(cls, value: str) -> str:
        # oslo lower-cases the name and looks it up among ssl.PROTOCOL_*; kombu and operators
        # also write TLSv1.2. SSLv2 and SSLv3 are gone from Python's ssl module.
        name = value.strip().lower().replace(".", "_")
        if name not in SSL_VERSIONS:
            raise ValueError(
                f"{value!r} is not a TLS version (use one of "
                f"{', '.join(v for v in SSL_VERSIONS if v)}, or leave it empty to negotiate)"
            )
        return name

    @model_validator(mode="after")
    def _consistent(self) -> RabbitOptions:
        if self.rabbit_ha_queues and self.rabbit_quorum_queue:
            raise ValueError("rabbit_ha_queues and rabbit_quorum_queue cannot both be true")
        if self.rabbit_stream_fanout and not (
            self.rabbit_qos_prefetch_count > 0 and self.rabbit_transient_quorum_queue
        ):
            raise ValueError(
                "rabbit_stream_fanout needs rabbit_qos_prefetch_count > 0 and "
                "rabbit_transient_quorum_queue = true (as oslo.messaging requires)"
            )
        return self


_LOGIN_METHODS = frozenset({"AMQPLAIN", "PLAIN", "EXTERNAL"})
# [oslo_messaging_rabbit] ssl_version, normalised, and the TLS versions it allows (low, high);
# oslo's PROTOCOL_TLSv1_2 and the like pin one version; sslv23 negotiates any.
SSL_VERSIONS: dict[str, tuple[str | None, str | None]] = {
    "": (None, None),
    "sslv23": (None, None),
    "tlsv1": ("TLSv1", "TLSv1"),
    "tlsv1_1": ("TLSv1_1", "TLSv1_1"),
    "tlsv1_2": ("TLSv1_2", "TLSv1_2"),
    "tlsv1_3": ("TLSv1_3", "TLSv1_3"),
}


class AioConductorOptions(_Section):
    """[aioconductor]: options nova.conf does not have."""

    prefetch_count: int = Field(0, ge=0, description="0: rabbit_qos_prefetch_count, else 64")
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    ack_mode: Literal["early", "after_reply"] = "early"
    duplicate_window: int = Field(256, ge=16)
    fallback_host: str | None = Field(
        None, description="the legacy nova-conductor's [DEFAULT] host: enables forwarding"
    )
    fallback_exchange: str | None = Field(None, description="default: control_exchange")
    fallback_timeout: float = Field(5.0, gt=0)
    fallback_wait: float = Field(
        30.0,
        ge=0,
        description="seconds a forwarded request waits for the legacy conductor to consume "
        "its queue (a call at most half its caller's timeout); 0: fail at once",
    )
    forward_object_methods: str = Field(
        "",
        description="comma list of Object.method served natively but handed to the legacy "
        "conductor anyway (needs fallback_host): a way around a native handler in production",
    )
    consumer_priority: int = Field(10, description="x-priority on our consumers")
    db_driver: Literal["aiomysql", "asyncmy"] = "asyncmy"
    db_statement_cache: int = Field(
        64,
        ge=0,
        description="asyncmy: server-side prepared statements kept per pooled connection "
        "(binary protocol); 0: plain text queries",
    )
    db_pool_size: int = Field(0, ge=0, description="0: sized to the in-flight limit, at most 16")
    db_pool_timeout: float = Field(30.0, gt=0)
    register_service: bool = True
    metrics_bind: str = "127.0.0.1:9469"
    worker_heartbeat_timeout: float = Field(30.0, gt=0)
    worker_state_dir: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    drop_instance_update_notifications: bool = Field(
        False,
        description="serve Instance.save natively although nova.conf asks for "
        "instance updates through a notification driver aioconductor does not have "
        "(routing, test), and drop those",
    )
    notification_queue_size: int = Field(
        1000,
        ge=1,
        description="notifications waiting for the broker, per worker; past it they are "
        "dropped and counted (a stalled notification broker never holds the RPCs)",
    )
    notification_reply_wait: float = Field(
        1.0,
        ge=0,
        description="seconds a call waits for its notifications to reach the broker before "
        "it replies (nova's order); 0: reply first",
    )


# [oslo_messaging_notifications] driver names aioconductor sends like oslo.messaging does
NOTIFICATION_DRIVERS = frozenset({"messaging", "messagingv2", "log", "noop"})
# oslo.messaging drivers we do not build: a nova.conf naming one keeps the emitting methods
# on the legacy conductor (or is refused without one)
UNSUPPORTED_NOTIFICATION_DRIVERS = frozenset({"routing", "test"})
# stevedore loads each named driver once, in oslo.messaging's entry-point order, whatever
# the order or repetitions in nova.conf: the order messages of one event reach a queue
_DRIVER_ENTRY_POINTS = ("log", "messaging", "messagingv2", "noop", "routing", "test")


class GlanceOptions(BaseModel):
    """[glance]: where nova's legacy notification says the image lives."""

    model_config = ConfigDict(frozen=True)

    api_servers: tuple[str, ...] = ()
    endpoint_override: str | None = None
    interfaces: tuple[str, ...] = ("internal", "public")
    region: str | None = None


class NotificationOptions(BaseModel):
    """[oslo_messaging_notifications] and [notifications]: what nova would send, and where."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drivers: tuple[str, ...] = ()
    topics: tuple[str, ...] = ("notifications",)
    retry: int = Field(-1, ge=-1)
    transport_url: SecretStr | None = None
    notification_format: Literal["unversioned", "versioned", "both"] = "unversioned"
    versioned_topics: tuple[str, ...] = ("versioned_notifications",)
    notify_on_state_change: Literal["vm_state", "vm_and_task_state"] | None = None
    bdms_in_notifications: bool = False
    include_share_mapping: bool = False
    # what the payloads also read: [DEFAULT] instance_usage_audit_period, and the legacy
    # payload's image URL from [glance] api_servers / endpoint_override / valid_interfaces /
    # region_name
    audit_period: str = Field("month", pattern=r"^(hour|month|day|year)(@([0-9]+))?$")
    glance_api_servers: tuple[str, ...] = ()
    glance_endpoint_override: str | None = None
    glance_interfaces: tuple[str, ...] = ("internal", "public")
    glance_region: str | None = None

    @property
    def glance(self) -> GlanceOptions:
        return GlanceOptions(
            api_servers=self.glance_api_servers,
            endpoint_override=self.glance_endpoint_override,
            interfaces=self.glance_interfaces,
            region=self.glance_region,
        )

    @property
    def sending_drivers(self) -> tuple[str, ...]:
        """The drivers oslo would load and that send something (noop sends nothing; a name
        stevedore does not know is skipped, as oslo skips it)."""
        return tuple(d for d in _DRIVER_ENTRY_POINTS if d in self.drivers and d != "noop")

    @property
    def unsupported_drivers(self) -> tuple[str, ...]:
        return tuple(d for d in self.drivers if d in UNSUPPORTED_NOTIFICATION_DRIVERS)

    @property
    def versioned(self) -> bool:
        """nova's `if_notifications_enabled`: versioned payloads are built and sent."""
        return self.notification_format in ("versioned", "both") and bool(self.sending_drivers)

    @property
    def legacy(self) -> bool:
        return self.notification_format in ("unversioned", "both") and bool(self.sending_drivers)


class ApiDatabaseOptions(_Section):
    """[api_database]: the oslo.db pool options nova reads for its API database (same names
    and defaults; `connection` itself is Settings.api_database_connection)."""

    max_pool_size: int = Field(5, ge=1)
    pool_timeout: float | None = Field(
        None, gt=0, description="None: [aioconductor] db_pool_timeout"
    )
    connection_recycle_time: int = Field(3600, ge=-1)


class UpgradeLevels(_Section):
    """[upgrade_levels]: the RPC version caps nova's clients send with (None: the newest)."""

    compute: str | None = Field(
        None, description="a release name, an RPC version, or auto (the oldest nova-compute)"
    )
    scheduler: str | None = None

    @field_validator("compute", "scheduler", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class PlacementOptions(BaseModel):
    """[placement]: keystoneauth1's session, adapter and auth options, with nova's defaults.

    The auth plugin's own options (auth_url, username, password, project_name, token, ...)
    depend on `auth_type`: they are kept as given, secrets all, and handed to the plugin's
    loader (boot/placement.py), which knows their names.
    """

    model_config = ConfigDict(frozen=True)

    auth_type: str | None = None
    auth_section: str | None = None
    service_type: str = "placement"
    service_name: str | None = None
    valid_interfaces: tuple[str, ...] = ("internal", "public")
    region_name: str | None = None
    endpoint_override: str | None = None
    connect_retries: int | None = Field(None, ge=0)
    connect_retry_delay: float | None = Field(None, ge=0)
    status_code_retries: int | None = Field(None, ge=0)
    status_code_retry_delay: float | None = Field(None, ge=0)
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    insecure: bool = False
    timeout: float | None = Field(None, gt=0)
    auth: dict[str, SecretStr] = Field(default_factory=dict)


_PLACEMENT_LISTS = ("valid_interfaces",)


def _placement_values(values: dict[str, str]) -> dict[str, Any]:
    known = set(PlacementOptions.model_fields) - {"auth"}
    found: dict[str, Any] = {"auth": {}}
    for key, value in values.items():
        if key in _PLACEMENT_LISTS:
            found[key] = tuple(v.strip() for v in value.split(",") if v.strip())
        elif key in known:
            found[key] = value
        else:
            found["auth"][key] = value
    return found


class AmqpEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    username: str
    password: SecretStr
    virtual_host: str

    def url(self) -> str:
        from urllib.parse import quote

        user = quote(self.username, safe="")
        password = quote(self.password.get_secret_value(), safe="")
        vhost = quote(self.virtual_host, safe="")
        return f"amqp://{user}:{password}@{self.host}:{self.port}/{vhost}"


class Settings(BaseModel):
    """Everything a worker needs; picklable: the supervisor hands it to workers on stdin."""

    model_config = ConfigDict(frozen=True)

    transport_url: SecretStr = SecretStr("rabbit://")
    control_exchange: str = "nova"
    host: str = Field(default_factory=socket.gethostname, min_length=1)
    rpc_response_timeout: int = Field(60, ge=1)
    long_rpc_timeout: int = Field(1800, ge=1)
    report_interval: int = Field(10, ge=1)
    service_down_time: int = Field(60, ge=1)
    graceful_shutdown_timeout: int = Field(60, ge=0)
    database_connection: SecretStr | None = None
    # oslo.db's start-up wait for the database: attempts (-1: forever) and seconds between
    database_max_retries: int = Field(10, ge=-1)
    database_retry_interval: float = Field(10, ge=0)
    api_database_connection: SecretStr | None = None
    api_database: ApiDatabaseOptions = Field(default_factory=ApiDatabaseOptions)
    workers: int | None = Field(None, ge=1)
    notifications: NotificationOptions = Field(default_factory=NotificationOptions)
    rabbit: RabbitOptions = Field(default_factory=RabbitOptions)
    upgrade_levels: UpgradeLevels = Field(default_factory=UpgradeLevels)
    placement: PlacementOptions = Field(default_factory=PlacementOptions)
    aio: AioConductorOptions = Field(default_factory=AioConductorOptions)
    # [quota], default_availability_zone, ...: what the native boot path reads
    boot: BootOptions = Field(default_factory=BootOptions)
    config_files: tuple[str, ...] = ()

    @property
    def prefetch_count(self) -> int:
        return self.aio.prefetch_count or self.rabbit.rabbit_qos_prefetch_count or DEFAULT_PREFETCH

    @property
    def notify_on_state_change(self) -> str | None:
        return self.notifications.notify_on_state_change

    @property
    def instance_update_notifications(self) -> bool:
        """nova's Instance.save would send instance.update (every save, once this is on)."""
        notes = self.notifications
        return notes.notify_on_state_change is not None and bool(notes.sending_drivers)

    @property
    def unserved_notifications(self) -> frozenset[tuple[str, str]]:
        """Native methods whose notifications this configuration asks for and we cannot
        send: they keep the forward-or-refuse rule (docs/native-methods.md). Those are the
        ones sent through a driver we do not have (routing, test)."""
        notes = self.notifications
        pairs: set[tuple[str, str]] = set()
        if notes.unsupported_drivers and notes.versioned:
            pairs.update({("Service", "create"), ("Service", "save")})
        if self.instance_update_notifications and notes.unsupported_drivers:
            pairs.add(("Instance", "save"))
        return frozenset(pairs)

    @property
    def forwarded_pairs(self) -> frozenset[tuple[str, str]]:
        """(object, method) pairs handed to the legacy conductor though served natively."""
        if not self.aio.fallback_host:
            return frozenset()
        pairs = {_object_method(name) for name in _names(self.aio.forward_object_methods)}
        pairs.update(self.unserved_notifications)
        return frozenset(pairs)

    def notification_settings(self) -> Settings:
        """These settings with the notification transport as the transport: oslo's
        get_notification_transport, [oslo_messaging_notifications] transport_url or the
        RPC one."""
        url = self.notifications.transport_url
        if url is None:
            return self
        _, url_options = parse_transport_url(url.get_secret_value())
        rabbit = self.rabbit.model_copy(update=url_options) if url_options else self.rabbit
        return self.model_copy(update={"transport_url": url, "rabbit": rabbit})

    @property
    def db_pool_size(self) -> int:
        # Every in-flight request holds at most one connection at a time, but only while its
        # statements run: past 16, more connections add memory (and prepared statements on
        # the server), not throughput, on the machines we measured (docs/benchmarks-history.md).
        return self.aio.db_pool_size or min(self.prefetch_count, 16)

    def amqp_endpoints(self) -> list[AmqpEndpoint]:
        return parse_transport_url(self.transport_url.get_secret_value())[0]

    def async_database_url(self) -> str | None:
        if self.database_connection is None:
            return None
        return to_async_url(self.database_connection.get_secret_value(), self.aio.db_driver)

    def async_api_database_url(self) -> str | None:
        """The API database's URL for our driver; None: no [api_database] connection."""
        if self.api_database_connection is None:
            return None
        return to_async_url(
            self.api_database_connection.get_secret_value(), self.aio.db_driver, "api_database"
        )

    def masked(self) -> dict[str, Any]:
        """The resolved settings with every password replaced, for check-config and logs."""
        data = self.model_dump(mode="json")
        data["transport_url"] = mask_url(self.transport_url.get_secret_value())
        notification_url = self.notifications.transport_url
        data["notifications"]["transport_url"] = (
            mask_url(notification_url.get_secret_value()) if notification_url else None
        )
        for key in ("database_connection", "api_database_connection"):
            secret = getattr(self, key)
            data[key] = mask_url(secret.get_secret_value()) if secret else None
        data["effective"] = {
            "prefetch_count": self.prefetch_count,
            "db_pool_size": self.db_pool_size,
            "amqp_endpoints": [
                f"{e.host}:{e.port}/{e.virtual_host}" for e in self.amqp_endpoints()
            ],
            "async_database_url": mask_url(self.async_database_url() or "") or None,
            "async_api_database_url": mask_url(self.async_api_database_url() or "") or None,
        }
        return data


# --- URL handling -------------------------------------------------------------------------

_ASYNC_DRIVERS = {"aiomysql": "mysql+aiomysql", "asyncmy": "mysql+asyncmy"}
# Driver options nova's URLs may carry that mean nothing (or harm) to the async drivers;
# devstack appends plugin=dbcounter, for instance.
_DROP_QUERY = {"plugin", "read_default_group", "read_default_file"}


def to_async_url(url: str, driver: str, section: str = "database") -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme.startswith("mysql"):
        raise ConfigError(
            f"[{section}] connection: only MySQL/MariaDB is supported, got scheme {scheme!r}"
        )
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _DROP_QUERY]
    return urlunsplit(
        (_ASYNC_DRIVERS[driver], parts.netloc, parts.path, urlencode(query), parts.fragment)
    )


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.netloc:
        return url
    hosts = []
    for entry in parts.netloc.split(","):
        creds, sep, hostport = entry.rpartition("@")
        if sep and ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        hosts.append(f"{creds}{sep}{hostport}")
    return urlunsplit(parts._replace(netloc=",".join(hosts)))


def parse_transport_url(url: str) -> tuple[list[AmqpEndpoint], dict[str, str]]:
    """oslo's TransportURL: rabbit://u:p@h1:5672,u:p@h2/vhost?opt=val -> endpoints, options."""
    parts = urlsplit(url)
    if parts.scheme not in ("rabbit", "amqp"):
        raise ConfigError(
            f"[DEFAULT] transport_url: scheme {parts.scheme!r} is not supported (use rabbit://)"
        )
    vhost = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    vhost = vhost or "/"
    endpoints: list[AmqpEndpoint] = []
    for entry in (parts.netloc or "").split(",") if parts.netloc else [""]:
        creds, _, hostport = entry.rpartition("@")
        user, _, password = creds.partition(":")
        host, port = hostport or "localhost", 5672
        if hostport.startswith("["):
            host, _, rest = hostport[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 5672
        elif ":" in hostport:
            host, _, port_text = hostport.rpartition(":")
            try:
                port = int(port_text)
            except ValueError:
                raise ConfigError(
                    f"[DEFAULT] transport_url: bad port {port_text!r} for host {host!r}"
                ) from None
        endpoints.append(
            AmqpEndpoint(
                host=host or "localhost",
                port=port,
                username=unquote(user) if user else "guest",
                password=SecretStr(unquote(password) if creds else "guest"),
                virtual_host=vhost,
            )
        )
    return endpoints, dict(parse_qsl(parts.query))


# --- assembling -----------------------------------------------------------------------------


def _env_overrides(env: Mapping[str, str]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, sep, key = rest.partition("__")
        if not sep:
            section, key = "aioconductor", rest
        found[("DEFAULT" if section == "default" else section, key)] = value
    return found


def _validate_section(model: type[_Section], section: str, values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, section)) from None


def _describe(exc: ValidationError, section: str) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(section)"
    given = err.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
    return f"[{section}] {key}: {err['msg']}{shown}"


def _known(model: type[BaseModel], values: dict[str, str], section: str) -> dict[str, str]:
    """Our own section must not silently ignore a typo; nova's sections have many keys we
    do not use, so only [aioconductor] is strict."""
    unknown = sorted(set(values) - set(model.model_fields))
    if unknown:
        raise ConfigError(f"[{section}] {unknown[0]}: unknown option")
    return values


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _object_method(name: str) -> tuple[str, str]:
    objname, _, method = name.partition(".")
    return objname, method


def _check_forwarded(aio: AioConductorOptions) -> None:
    names = _names(aio.forward_object_methods)
    bad = [n for n in names if not re.fullmatch(r"[A-Z]\w*\.\w+", n)]
    if bad:
        raise ConfigError(f"[aioconductor] forward_object_methods: {bad[0]!r} is not Object.method")
    if names and not aio.fallback_host:
        raise ConfigError(
            "[aioconductor] forward_object_methods: needs fallback_host, the legacy "
            "conductor to forward to"
        )


# NotificationOptions field -> (section, option) in nova.conf; nova's own two options were
# in [DEFAULT] once and are still read there (deprecated_group)
_NOTIFICATION_OPTIONS = {
    "drivers": ("oslo_messaging_notifications", "driver"),
    "topics": ("oslo_messaging_notifications", "topics"),
    "retry": ("oslo_messaging_notifications", "retry"),
    "transport_url": ("oslo_messaging_notifications", "transport_url"),
    "notification_format": ("notifications", "notification_format"),
    "versioned_topics": ("notifications", "versioned_notifications_topics"),
    "notify_on_state_change": ("notifications", "notify_on_state_change"),
    "bdms_in_notifications": ("notifications", "bdms_in_notifications"),
    "include_share_mapping": ("notifications", "include_share_mapping"),
    "audit_period": ("DEFAULT", "instance_usage_audit_period"),
    "glance_api_servers": ("glance", "api_servers"),
    "glance_endpoint_override": ("glance", "endpoint_override"),
    "glance_interfaces": ("glance", "valid_interfaces"),
    "glance_region": ("glance", "region_name"),
}
_DEPRECATED_IN_DEFAULT = ("notify_on_state_change", "notification_format")
_LIST_OPTIONS = ("topics", "versioned_topics", "glance_api_servers", "glance_interfaces")


def _notification_values(conf: nova_conf.NovaConf) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field, (section, key) in _NOTIFICATION_OPTIONS.items():
        if field == "drivers":
            # a MultiStrOpt: one driver per line, never split on commas (oslo does not)
            values[field] = tuple(d.strip() for d in conf.get_all(section, key) if d.strip())
            continue
        value = conf.get(section, key)
        if value is None and key in _DEPRECATED_IN_DEFAULT:
            value = conf.get("DEFAULT", key)
        if value is None or (field == "notify_on_state_change" and value in ("", "None")):
            continue
        if field in _LIST_OPTIONS:
            values[field] = tuple(t.strip() for t in value.split(",") if t.strip())
        else:
            values[field] = value
    return values


def load_settings(
    config_files: list[Path] | None = None,
    config_dirs: list[Path] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    files = list(config_files or [])
    conf = nova_conf.load(files, list(config_dirs or []))
    for (section, key), value in _env_overrides(os.environ if env is None else env).items():
        conf.add(section, key, value)

    default = conf.section("DEFAULT")
    transport_url = default.get("transport_url", "rabbit://")
    _, url_options = parse_transport_url(transport_url)

    rabbit_values: dict[str, Any] = conf.section("oslo_messaging_rabbit")
    unknown = sorted(set(url_options) - set(RabbitOptions.model_fields))
    if unknown:
        raise ConfigError(
            f"[DEFAULT] transport_url: query option {unknown[0]!r} is not an "
            "[oslo_messaging_rabbit] option"
        )
    rabbit_values.update(url_options)
    rabbit = _validate_section(RabbitOptions, "oslo_messaging_rabbit", rabbit_values)
    aio_values = _known(AioConductorOptions, conf.section("aioconductor"), "aioconductor")
    aio = _validate_section(AioConductorOptions, "aioconductor", aio_values)
    _check_forwarded(aio)
    api_database = _validate_section(
        ApiDatabaseOptions, "api_database", conf.section("api_database")
    )

    upgrade_levels = _validate_section(
        UpgradeLevels, "upgrade_levels", conf.section("upgrade_levels")
    )
    try:
        placement = PlacementOptions.model_validate(_placement_values(conf.section("placement")))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "placement")) from None

    top: dict[str, Any] = {
        "transport_url": transport_url,
        "rabbit": rabbit,
        "upgrade_levels": upgrade_levels,
        "placement": placement,
        "aio": aio,
        "api_database": api_database,
        "boot": boot_options(conf),
        "config_files": tuple(str(p) for p in conf.sources),
    }
    for key in (
        "control_exchange",
        "host",
        "rpc_response_timeout",
        "long_rpc_timeout",
        "report_interval",
        "service_down_time",
        "graceful_shutdown_timeout",
    ):
        if key in default:
            top[key] = default[key]
    sections = {"database_connection": "database", "api_database_connection": "api_database"}
    for field, section in sections.items():
        connection = conf.get(section, "connection")
        if connection:
            top[field] = connection
    for key in ("max_retries", "retry_interval"):
        retry_option = conf.get("database", key)
        if retry_option:
            top[f"database_{key}"] = retry_option
    workers = conf.get("conductor", "workers")
    if workers:
        top["workers"] = workers
    top["notifications"] = _notification_values(conf)
    try:
        settings = Settings.model_validate(top)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0])
        section, key = {
            "database_connection": ("database", "connection"),
            "database_max_retries": ("database", "max_retries"),
            "database_retry_interval": ("database", "retry_interval"),
            "api_database_connection": ("api_database", "connection"),
            "workers": ("conductor", "workers"),
        }.get(field, ("DEFAULT", field))
        if field == "notifications":
            section, key = _NOTIFICATION_OPTIONS[str(err["loc"][1])]
        raise ConfigError(f"[{section}] {key}: {err['msg']} (got {err.get('input')!r})") from None
    if settings.database_connection is not None:
        settings.async_database_url()  # fail now, with the section name, on a bad scheme
    if settings.api_database_connection is not None:
        settings.async_api_database_url()
    unserved = settings.unserved_notifications
    if unserved and not settings.aio.fallback_host:
        names = ", ".join(sorted(f"{o}.{m}" for o, m in unserved))
        notes = settings.notifications
        why = f"[oslo_messaging_notifications] driver = {notes.unsupported_drivers[0]}"
        if ("Service", "create") in unserved or not settings.aio.drop_instance_update_notifications:
            raise ConfigError(
                f"{why}: aioconductor cannot send the notifications nova-conductor sends "
                f"from {names}: set [aioconductor] fallback_host to leave them to a "
                "nova-conductor"
                + (
                    ""
                    if ("Service", "create") in unserved
                    else ", or [aioconductor] drop_instance_update_notifications = true"
                )
            )
    return settings
