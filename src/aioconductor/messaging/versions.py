"""oslo's RPC version rule (`oslo_messaging._utils.version_is_compatible`)."""

from __future__ import annotations


def parse_version(text: str) -> tuple[int, int, int]:
    """'3.0' -> (3, 0, 0); raises ValueError on anything that is not 1 to 3 integers."""
    parts = str(text).split(".")
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"bad version {text!r}")
    numbers = [int(p) for p in parts]
    numbers += [0] * (3 - len(numbers))
    return numbers[0], numbers[1], numbers[2]


def is_compatible(available: str, requested: str) -> bool:
    """Same major, and the requested (minor, revision) no newer than what is available."""
    try:
        have = parse_version(available)
        want = parse_version(requested)
    except ValueError:
        return False
    return have[0] == want[0] and want[1:] <= have[1:]
