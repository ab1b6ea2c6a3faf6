"""nova's virtualenv counts as installed only for the package list it was built from."""

from __future__ import annotations

from pathlib import Path

from aioconductor.novaenv import venv


def fake_venv(tmp_path: Path, marker: str | None) -> venv.NovaVenv:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "nova-manage").write_text("")
    if marker is not None:
        (tmp_path / ".aioconductor-nova-installed").write_text(marker)
    return venv.NovaVenv(tmp_path)


def test_built_from_the_current_list_it_is_installed(tmp_path: Path) -> None:
    assert fake_venv(tmp_path, venv._INSTALLED).installed


def test_built_before_placement_was_on_the_list_it_is_not(tmp_path: Path) -> None:
    # what the marker held before the end-to-end tier's packages: the release alone
    assert not fake_venv(tmp_path, venv.NOVA_RELEASE).installed


def test_without_a_marker_it_is_not(tmp_path: Path) -> None:
    assert not fake_venv(tmp_path, None).installed


def test_the_list_has_what_the_e2e_tier_runs() -> None:
    names = {requirement.split("==")[0] for requirement in venv.E2E_REQUIREMENTS}
    assert {"openstack-placement", "testtools", "wsgi-intercept"} <= names
