"""docs/native-methods.md is what operators read to know what runs natively: it must list
exactly the (object, method) pairs the code registers."""

from __future__ import annotations

import re
from pathlib import Path

from aioconductor.objects import load_all, registry

DOC = Path(__file__).resolve().parents[3] / "docs" / "native-methods.md"


def documented_pairs() -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for line in DOC.read_text().splitlines():
        match = re.match(r"^\| *([A-Z]\w+) *\| *([a-z_][\w, ]*?) *\|", line)
        if match:
            obj, methods = match.groups()
            pairs.update((obj, m.strip()) for m in methods.split(","))
    return pairs


def test_docs_list_exactly_the_registered_native_methods() -> None:
    load_all()
    registered = {(obj, method) for _, obj, method in registry.native_pairs()}
    documented = documented_pairs()
    assert registered - documented == set(), "native but not documented"
    assert documented - registered == set(), "documented but not native"
