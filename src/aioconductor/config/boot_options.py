"""The nova.conf options the native boot path reads besides the ones every call needs.

`[quota]` (the instance-count recheck after scheduling), `[DEFAULT]
default_availability_zone` (a host in no AZ aggregate), `[DEFAULT]
osapi_compute_unique_server_name_scope` (Instance.create's hostname check) and
`[filter_scheduler] enabled_filters` / `weight_classes` (whether a server group's policy is
supported), with nova 34.0.0's names and defaults. The deprecated `[DEFAULT]
quota_<name>` spellings are read too, as oslo.config does.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aioconductor.config.nova_conf import NovaConf
from aioconductor.errors import ConfigError

DB_QUOTA_DRIVER = "nova.quota.DbQuotaDriver"
NOOP_QUOTA_DRIVER = "nova.quota.NoopQuotaDriver"
UNIFIED_LIMITS_DRIVER = "nova.quota.UnifiedLimitsDriver"


class QuotaOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    driver: str = DB_QUOTA_DRIVER
    recheck_quota: bool = True
    count_usage_from_placement: bool = False
    instances: int = Field(10, ge=-1)
    cores: int = Field(20, ge=-1)
    ram: int = Field(50 * 1024, ge=-1)


# [filter_scheduler] defaults
ENABLED_FILTERS = (
    "ComputeFilter",
    "ComputeCapabilitiesFilter",
    "ImagePropertiesFilter",
    "ServerGroupAntiAffinityFilter",
    "ServerGroupAffinityFilter",
)
ALL_WEIGHERS = "nova.scheduler.weights.all_weighers"


class BootOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    default_availability_zone: str = "nova"
    max_attempts: int = Field(3, ge=1)  # [scheduler] max_attempts
    unique_server_name_scope: str = ""  # "", "project" or "global"
    quota: QuotaOptions = Field(default_factory=QuotaOptions)
    enabled_filters: tuple[str, ...] = ENABLED_FILTERS
    weight_classes: tuple[str, ...] = (ALL_WEIGHERS,)


def boot_options(conf: NovaConf) -> BootOptions:
    try:
        return _boot_options(conf)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"])
        raise ConfigError(f"{where}: {err['msg']} (got {err.get('input')!r})") from None


def _boot_options(conf: NovaConf) -> BootOptions:
    quota: dict[str, Any] = {}
    for name in ("driver", "recheck_quota", "count_usage_from_placement", "instances", "cores",
                 "ram"):  # fmt: skip
        value = conf.get("quota", name)
        if value is None and name in ("instances", "cores", "ram"):
            value = conf.get("DEFAULT", f"quota_{name}")
        if value is not None:
            quota[name] = value
    try:
        checked = QuotaOptions.model_validate(quota)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(
            f"[quota] {err['loc'][0]}: {err['msg']} (got {err.get('input')!r})"
        ) from None
    values: dict[str, Any] = {"quota": checked}
    zone = conf.get("DEFAULT", "default_availability_zone")
    if zone is not None:
        values["default_availability_zone"] = zone
    attempts = conf.get("scheduler", "max_attempts")
    if attempts is not None:
        values["max_attempts"] = attempts
    scope = conf.get("DEFAULT", "osapi_compute_unique_server_name_scope")
    if scope is not None:
        values["unique_server_name_scope"] = scope
    for name in ("enabled_filters", "weight_classes"):
        listed = conf.get("filter_scheduler", name)
        if listed is not None:  # an oslo ListOpt
            values[name] = tuple(item.strip() for item in listed.split(",") if item.strip())
    return BootOptions.model_validate(values)
