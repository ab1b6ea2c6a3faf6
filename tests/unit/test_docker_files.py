"""The image and compose stack, checked statically (no Docker engine runs here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.dockerfile import Instruction, parse

DOCKER = Path(__file__).resolve().parents[2] / "docker"


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse(DOCKER / "Dockerfile")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return data


def runtime(instructions: list[Instruction], keyword: str) -> list[Instruction]:
    return [i for i in instructions if i.stage == "runtime" and i.keyword == keyword]


def test_multi_stage_build_installs_only_the_wheel(dockerfile: list[Instruction]) -> None:
    stages = [i.argument.split()[-1] for i in dockerfile if i.keyword == "FROM"]
    assert stages == ["build", "nova", "runtime"]
    copies = runtime(dockerfile, "COPY")
    assert [c.argument for c in copies] == ["--from=build /wheels /wheels"]


def test_runs_as_non_root(dockerfile: list[Instruction]) -> None:
    users = runtime(dockerfile, "USER")
    assert users
    assert users[-1].argument not in ("root", "0")


def test_entrypoint_is_exec_form_so_sigterm_reaches_us(dockerfile: list[Instruction]) -> None:
    (entrypoint,) = runtime(dockerfile, "ENTRYPOINT")
    assert entrypoint.exec_form() == ["aioconductor"]
    (cmd,) = runtime(dockerfile, "CMD")
    assert cmd.exec_form() == [
        "serve",
        "--config-file",
        "/etc/nova/nova.conf",
        "--config-dir",
        "/etc/nova/nova.conf.d",
    ]
    assert runtime(dockerfile, "STOPSIGNAL")[0].argument == "SIGTERM"


def test_healthcheck_uses_our_cli(dockerfile: list[Instruction]) -> None:
    (check,) = runtime(dockerfile, "HEALTHCHECK")
    form = check.exec_form()
    assert form is not None
    assert form[:2] == ["aioconductor", "healthcheck"]


def test_oci_labels(dockerfile: list[Instruction]) -> None:
    labels = " ".join(i.argument for i in runtime(dockerfile, "LABEL"))
    for key in ("title", "description", "licenses", "version", "source"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_compose_services_and_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"mariadb", "rabbitmq", "nova-db-sync", "aioconductor"} <= set(services)
    for name in ("mariadb", "rabbitmq"):
        assert services[name]["healthcheck"]["test"]
    assert services["nova-db-sync"]["restart"] == "no"
    assert "db" in services["nova-db-sync"]["command"]


def test_aioconductor_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    depends = compose["services"]["aioconductor"]["depends_on"]
    assert depends["mariadb"]["condition"] == "service_healthy"
    assert depends["rabbitmq"]["condition"] == "service_healthy"
    assert depends["nova-db-sync"]["condition"] == "service_completed_successfully"


def test_grace_period_outlasts_the_drain(compose: dict[str, Any]) -> None:
    conf = (DOCKER / "nova.conf").read_text()
    drain = int(conf.split("graceful_shutdown_timeout = ")[1].split()[0])
    grace = compose["services"]["aioconductor"]["stop_grace_period"]
    assert grace.endswith("s")
    assert int(grace[:-1]) > drain


def test_optional_profiles(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["legacy-conductor"]["profiles"] == ["legacy"]
    assert "nova-conductor" in services["legacy-conductor"]["command"]
    assert services["bench"]["profiles"] == ["bench"]
    assert services["bench"]["entrypoint"] == ["aioconductor", "bench"]


def test_only_the_bench_image_carries_the_bench_extra(
    dockerfile: list[Instruction], compose: dict[str, Any]
) -> None:
    # issue 21: the bench profile ran the lean runtime image and died on `import psutil`
    assert [a.argument for a in runtime(dockerfile, "ARG")] == ['EXTRAS=""']
    (install,) = [r for r in runtime(dockerfile, "RUN") if "pip install" in r.argument]
    assert '"$(ls /wheels/aioconductor-*.whl)[$EXTRAS]"' in install.argument
    services = compose["services"]
    assert services["bench"]["build"]["args"] == {"EXTRAS": "bench"}
    assert "args" not in services["aioconductor"]["build"]


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (DOCKER.parent / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".venv-*"} <= set(ignored)


def test_the_container_tier_runs_the_production_compose_file(compose: dict[str, Any]) -> None:
    """tests/container/tier_compose.py changes only paths, host ports and image names."""
    from tests.container.tier_compose import tier_compose

    tier = tier_compose("aioc-tier-test", health_port=40001, amqp_port=40002)
    assert tier["name"] == "aioc-tier-test"
    assert set(tier["services"]) == set(compose["services"])
    for name, service in compose["services"].items():
        ours = tier["services"][name]
        for key in ("environment", "healthcheck", "depends_on", "profiles", "command",
                    "entrypoint", "restart", "stop_grace_period"):  # fmt: skip
            assert ours.get(key) == service.get(key), (name, key)
        if "build" in service:
            assert ours["build"]["context"] == str(DOCKER.parent)
            assert {k: v for k, v in ours["build"].items() if k != "context"} == {
                k: v for k, v in service["build"].items() if k != "context"
            }
        else:
            assert ours["image"] == service["image"]  # the stand-ins carry these names
    assert tier["services"]["aioconductor"]["ports"] == ["127.0.0.1:40001:9469"]
    assert tier["services"]["rabbitmq"]["ports"] == ["127.0.0.1:40002:5672"]
    assert tier["services"]["aioconductor"]["volumes"] == [
        f"{DOCKER / 'nova.conf'}:/etc/nova/nova.conf:ro"
    ]
