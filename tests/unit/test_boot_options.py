"""The boot path's nova.conf options: nova 34's names, defaults and deprecated spellings."""

from __future__ import annotations

from pathlib import Path

import pytest

from aioconductor.config.settings import load_settings
from aioconductor.errors import ConfigError


def test_defaults_are_novas(tmp_path: Path) -> None:
    conf = tmp_path / "nova.conf"
    conf.write_text("[DEFAULT]\nhost = h\n")
    boot = load_settings([conf], env={}).boot
    assert boot.default_availability_zone == "nova"
    assert boot.unique_server_name_scope == ""
    quota = boot.quota
    assert (quota.driver, quota.recheck_quota) == ("nova.quota.DbQuotaDriver", True)
    assert (quota.instances, quota.cores, quota.ram) == (10, 20, 51200)


def test_options_and_deprecated_names(tmp_path: Path) -> None:
    conf = tmp_path / "nova.conf"
    conf.write_text(
        "[DEFAULT]\ndefault_availability_zone = az0\nquota_cores = 7\n"
        "osapi_compute_unique_server_name_scope = project\n"
        "[quota]\ndriver = nova.quota.NoopQuotaDriver\nrecheck_quota = false\ninstances = -1\n"
    )
    boot = load_settings([conf], env={}).boot
    assert boot.default_availability_zone == "az0"
    assert boot.unique_server_name_scope == "project"
    assert boot.quota.driver == "nova.quota.NoopQuotaDriver"
    assert boot.quota.recheck_quota is False
    assert (boot.quota.instances, boot.quota.cores) == (-1, 7)


def test_a_bad_quota_value_names_its_option(tmp_path: Path) -> None:
    conf = tmp_path / "nova.conf"
    conf.write_text("[quota]\nram = -5\n")
    with pytest.raises(ConfigError, match=r"\[quota\] ram"):
        load_settings([conf], env={})
