"""Read nova.conf files in oslo.config's INI dialect.

Only the parsing lives here; which keys mean what is `settings.py`'s business. The dialect:
`[section]` headers, `key = value` (or `key: value`), `#`/`;` comment lines, indented lines
continuing the previous value, a key repeated in one section or across files collects every
value (multi-valued options), and later files override earlier ones for single values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from aioconductor.errors import ConfigError

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_ASSIGN = re.compile(r"^(?P<key>[^=:\s][^=:]*?)\s*[=:]\s*(?P<value>.*)$")


@dataclass
class NovaConf:
    """Every value seen per (section, key), in the order read (files, then lines)."""

    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)

    def get(self, section: str, key: str) -> str | None:
        """The last value of a single-valued option, as oslo.config resolves it."""
        found = self.values.get(section, {}).get(key)
        return found[-1] if found else None

    def get_all(self, section: str, key: str) -> list[str]:
        return list(self.values.get(section, {}).get(key, []))

    def section(self, section: str) -> dict[str, str]:
        return {k: v[-1] for k, v in self.values.get(section, {}).items() if v}

    def add(self, section: str, key: str, value: str) -> None:
        self.values.setdefault(section, {}).setdefault(key, []).append(value)


def _normalise_section(name: str) -> str:
    # oslo.config treats DEFAULT case-sensitively but nova.conf files in the wild write
    # [default] too; every other group name is matched in lower case.
    stripped = name.strip()
    return "DEFAULT" if stripped.upper() == "DEFAULT" else stripped.lower()


def parse_text(text: str, conf: NovaConf, source: str = "<string>") -> None:
    section: str | None = None
    key: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith(("#", ";")):
            continue
        if raw[0] in " \t" and key is not None and section is not None:
            values = conf.values[section][key]
            values[-1] = (values[-1] + "\n" + raw.strip()).strip()
            continue
        header = _SECTION.match(raw.strip())
        if header:
            section, key = _normalise_section(header.group("name")), None
            conf.values.setdefault(section, {})
            continue
        assign = _ASSIGN.match(raw.strip())
        if assign is None:
            raise ConfigError(f"{source}:{lineno}: cannot parse line {raw.strip()!r}")
        if section is None:
            raise ConfigError(f"{source}:{lineno}: value outside of any [section]")
        key = assign.group("key").strip().lower().replace("-", "_")
        conf.add(section, key, _unquote(assign.group("value").strip()))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def load(config_files: list[Path], config_dirs: list[Path]) -> NovaConf:
    """Read files in the order oslo.config does: every --config-file, then each
    --config-dir's *.conf files sorted by name."""
    conf = NovaConf()
    paths: list[Path] = list(config_files)
    for directory in config_dirs:
        if not directory.is_dir():
            raise ConfigError(f"--config-dir {directory}: not a directory")
        paths.extend(sorted(directory.glob("*.conf")))
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        parse_text(text, conf, source=str(path))
        conf.sources.append(path)
    return conf
