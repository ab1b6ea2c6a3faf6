"""Command line: `aioconductor serve | check-config | healthcheck | bench`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from aioconductor.config.settings import Settings, load_settings
from aioconductor.errors import ConfigError

CONFIG_ERROR_EXIT = 2
BENCH_EXTRA_MISSING_EXIT = 3  # neither a crash (1) nor a bad option (2): install the extra
BENCH_EXTRA = ("psutil", "matplotlib")  # pyproject.toml's [project.optional-dependencies] bench


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config-file",
        action="append",
        type=Path,
        default=[],
        help="a nova.conf to read (repeatable; later files override earlier ones)",
    )
    parser.add_argument(
        "--config-dir",
        action="append",
        type=Path,
        default=[],
        help="a directory whose *.conf files are read after the config files, sorted by name",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aioconductor", description="asyncio drop-in replacement for nova-conductor"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the conductor in the foreground")
    _add_config_args(serve)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: [conductor] workers, else the CPU count)",
    )
    check = sub.add_parser("check-config", help="print the resolved settings, secrets masked")
    _add_config_args(check)
    health = sub.add_parser("healthcheck", help="exit 0 when the service is healthy, else 1")
    _add_config_args(health)
    health.add_argument("--url", default=None, help="health URL (default: from metrics_bind)")
    health.add_argument("--ready", action="store_true", help="check readiness, not liveness")
    sub.add_parser("bench", help="run the benchmark harness", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        missing = _missing_bench_extra()
        if missing:
            print(
                f"aioconductor bench needs the 'bench' extra ({', '.join(missing)} missing): "
                "pip install 'aioconductor[bench]'",
                file=sys.stderr,
            )
            return BENCH_EXTRA_MISSING_EXIT
        from aioconductor.bench.cli import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config_file, args.config_dir)
    except ConfigError as exc:
        print(f"aioconductor: configuration error: {exc}", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    if args.command == "check-config":
        return _check_config(settings)
    if args.command == "healthcheck":
        from aioconductor.observability.health import healthcheck

        return healthcheck(settings, url=args.url, ready=args.ready)
    return _serve(settings, args.workers)


def _missing_bench_extra() -> list[str]:
    """The bench extra's modules this environment lacks (asked before any is imported)."""
    import importlib.util

    return [name for name in BENCH_EXTRA if importlib.util.find_spec(name) is None]


def _check_config(settings: Settings) -> int:
    from aioconductor.objects import load_all, registry

    load_all()
    report = settings.masked()
    forwarded = settings.forwarded_pairs
    report["native_object_methods"] = registry.served_names(
        forwarded, api_database=settings.api_database_connection is not None
    )
    report["forwarded_object_methods"] = sorted(f"{o}.{m}" for o, m in forwarded)
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


def _serve(settings: Settings, workers: int | None) -> int:
    from aioconductor.observability.logging import configure

    configure(settings.aio.log_level, settings.aio.log_format)
    count = workers or settings.workers or os.cpu_count() or 1
    if count < 1:
        print("aioconductor: --workers must be at least 1", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    if count == 1:
        from aioconductor import worker

        return worker.run(settings)
    from aioconductor.supervisor import run as run_supervisor

    return run_supervisor(settings, count)
