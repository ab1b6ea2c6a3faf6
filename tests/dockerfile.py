"""A small Dockerfile reader for tests: instructions with continuations joined."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str
    argument: str
    stage: str

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, None for shell form."""
        text = self.argument
        if self.keyword == "HEALTHCHECK":
            text = text.split(" CMD ", 1)[1] if " CMD " in f" {text}" else ""
        try:
            value = json.loads(text.strip())
        except ValueError:
            return None
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def parse(path: Path) -> list[Instruction]:
    instructions: list[Instruction] = []
    stage = ""
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, argument = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = argument.split()
            stage = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else parts[0]
        instructions.append(Instruction(keyword, " ".join(argument.split()), stage))
    if pending:
        raise ValueError(f"{path}: dangling line continuation")
    return instructions
