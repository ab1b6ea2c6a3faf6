"""The nova.conf options the boot path's outgoing clients read: [DEFAULT] long_rpc_timeout,
[upgrade_levels] compute/scheduler and [placement] (keystoneauth's options)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from aioconductor.config.settings import Settings, load_settings
from aioconductor.errors import ConfigError


def settings_from(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "nova.conf"
    path.write_text(text)
    return load_settings([path], env=env or {})


def test_defaults_are_novas(tmp_path: Path) -> None:
    s = settings_from(tmp_path, "[DEFAULT]\nhost = h\n")
    assert s.long_rpc_timeout == 1800
    assert (s.upgrade_levels.compute, s.upgrade_levels.scheduler) == (None, None)
    assert s.placement.auth_type is None
    assert s.placement.valid_interfaces == ("internal", "public")
    assert s.placement.service_type == "placement"
    assert s.placement.auth == {}


def test_long_rpc_timeout_and_upgrade_levels_are_read(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        "[DEFAULT]\nlong_rpc_timeout = 600\n"
        "[upgrade_levels]\ncompute = auto\nscheduler = 4.4\nconductor = 3.0\n",
    )
    assert s.long_rpc_timeout == 600
    assert s.upgrade_levels.compute == "auto"
    assert s.upgrade_levels.scheduler == "4.4"


def test_an_empty_upgrade_level_means_none(tmp_path: Path) -> None:
    s = settings_from(tmp_path, "[upgrade_levels]\ncompute =\n")
    assert s.upgrade_levels.compute is None


def test_a_bad_long_rpc_timeout_names_its_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[DEFAULT\] long_rpc_timeout"):
        settings_from(tmp_path, "[DEFAULT]\nlong_rpc_timeout = soon\n")


def test_placement_options_split_into_adapter_session_and_auth(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        "[placement]\nauth_type = password\nauth_url = http://keystone:5000/v3\n"
        "username = nova\npassword = s3cret\nproject_name = service\n"
        "user_domain_name = Default\nproject_domain_name = Default\n"
        "valid_interfaces = internal\nregion_name = RegionTwo\n"
        "endpoint_override = http://placement:8778\ninsecure = true\ntimeout = 30\n",
    )
    p = s.placement
    assert p.auth_type == "password"
    assert p.valid_interfaces == ("internal",)
    assert (p.region_name, p.endpoint_override) == ("RegionTwo", "http://placement:8778")
    assert p.insecure is True
    assert p.timeout == 30
    assert {k: v.get_secret_value() for k, v in p.auth.items()} == {
        "auth_url": "http://keystone:5000/v3",
        "username": "nova",
        "password": "s3cret",
        "project_name": "service",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    # check-config shows no secret, and the settings still travel to workers
    assert "s3cret" not in str(s.masked())
    assert pickle.loads(pickle.dumps(s)).placement == p


def test_placement_from_the_environment(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        "[placement]\nauth_type = token\n",
        env={"AIOCONDUCTOR_PLACEMENT__TOKEN": "tok", "AIOCONDUCTOR_PLACEMENT__AUTH_TYPE": "none"},
    )
    assert s.placement.auth_type == "none"
    assert s.placement.auth["token"].get_secret_value() == "tok"


def test_a_bad_placement_value_names_its_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[placement\] timeout"):
        settings_from(tmp_path, "[placement]\ntimeout = never\n")
