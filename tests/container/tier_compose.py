"""docker/compose.yaml as the container tier runs it, written to another file.

The services, images' Dockerfile stages, environment, health checks, dependencies and profiles
are the production file's. Only what a shared test machine needs changes: paths become
absolute (the copy lives elsewhere), the host ports are the run's own (9469 may be taken),
RabbitMQ is also published so the tier's nova client can call through it, and the built
images get fixed names so that a rerun finds them in the image store.

Usage: python tier_compose.py OUT --project NAME --health-port N --amqp-port N
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
IMAGES = {
    "aioconductor": "localhost/aioconductor-tier/runtime:latest",
    "nova-db-sync": "localhost/aioconductor-tier/nova:latest",
    "legacy-conductor": "localhost/aioconductor-tier/nova:latest",
    "bench": "localhost/aioconductor-tier/bench:latest",
}


def absolute(path: str) -> str:
    return str((DOCKER / path).resolve())


def tier_compose(project: str, health_port: int, amqp_port: int) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    data["name"] = project
    services: dict[str, dict[str, Any]] = data["services"]
    for name, service in services.items():
        if "build" in service:
            build = service["build"]
            service["build"] = {**build, "context": absolute(build["context"])}
            service["image"] = IMAGES[name]
        volumes = service.get("volumes", [])
        service["volumes"] = [
            f"{absolute(v.split(':', 1)[0])}:{v.split(':', 1)[1]}" if v.startswith(".") else v
            for v in volumes
        ]
        if not service["volumes"]:
            del service["volumes"]
    (published,) = services["aioconductor"]["ports"]
    assert published == "127.0.0.1:9469:9469", published  # the mapping this file replaces
    services["aioconductor"]["ports"] = [f"127.0.0.1:{health_port}:9469"]
    services["rabbitmq"]["ports"] = [f"127.0.0.1:{amqp_port}:5672"]
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--project", required=True)
    parser.add_argument("--health-port", type=int, required=True)
    parser.add_argument("--amqp-port", type=int, required=True)
    args = parser.parse_args()
    data = tier_compose(args.project, args.health_port, args.amqp_port)
    args.out.write_text(yaml.safe_dump(data, sort_keys=False))


if __name__ == "__main__":
    main()
