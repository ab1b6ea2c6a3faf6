"""Secrets masked in a `log` driver line as oslo's LogDriver masks them
(oslo.utils 10.2 `strutils.mask_dict_password`, with `mask_password` on every string).

A dict is masked key by key: a nested dict recursively; a key containing one of the secret
words (any case) loses its value to `***`; a string value is masked as text; a list is
masked item by item. Text is masked only for the secret words it contains (any case), each
through the same substitutions in the same order as oslo: `word=...`, `word="..."`,
`--word ...`, `<word>...</word>`, `"word": "..."` and their variants, the secret replaced,
the quotes kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SECRET = "***"
# oslo.utils' _SANITIZE_KEYS, in its order (the order the substitutions run in)
SECRET_WORDS = (
    "adminpass", "admin_pass", "password", "admin_password", "auth_token", "new_pass",
    "auth_password", "secret_uuid", "secret", "sys_pswd", "token", "configdrive",
    "chappassword", "encrypted_key", "private_key", "fernetkey", "sslkey", "passphrase",
    "cephclusterfsid", "octaviaheartbeatkey", "rabbitcookie", "cephmanilaclientkey",
    "pacemakerremoteauthkey", "designaterndckey", "cephadminkey", "heatauthencryptionkey",
    "cephclientkey", "keystonecredential", "barbicansimplecryptokek", "cephrgwkey",
    "swifthashsuffix", "migrationsshkey", "cephmdskey", "cephmonkey", "chapsecret",
)  # fmt: skip
_Q = "[\\\"\\']"  # a quote, either kind
# (pattern with {w} for the word, replacement): the secret between two kept groups ...
_BETWEEN = (
    r"({w}[0-9]*\s*[=]\s*" + _Q + r")[^\"\']*(" + _Q + ")",
    r"({w}[0-9]*\s*[=]\s*[\"])[^\"]*([\"])",
    r"({w}[0-9]*\s*[=]\s*[\'])[^\']*([\'])",
    r"({w}[0-9]*\s+" + _Q + r")[^\"\']*(" + _Q + ")",
    r"([-]{{2}}{w}[0-9]*\s+)[^\'^\"^=^\s]+([\s]*)",
    r"(<{w}[0-9]*>)[^<]*(</{w}[0-9]*>)",
    r"(" + _Q + r"{w}[0-9]*" + _Q + r"\s*:\s*" + _Q + r")[^\"\']*(" + _Q + ")",
    r"""([\'"][^"\']*{w}[0-9]*[\'"]\s*:\s*u?[\'"])[^\"\']*([\'"])""",
    r"""([\'"][^\'"]*{w}[0-9]*[\'"]\s*,\s*\'--?[A-z]+\'\s*,\s*u?[\'"])[^\"\']*([\'"])""",
    r"({w}[0-9]*\s*--?[A-z]+\s*)\S+(\s*)",
)
# ... after a kept group ...
_AFTER = (r"({w}[0-9]*\s*[=]\s*)[^\s^\'^\"]+",)
# ... and a quoted value running to the last quote, dropped with what follows its group
_WILDCARD = (r"""([\'\"][^\"\']*{w}[0-9]*[\'\"]\s*:\s*u?[\'\"].*[\'\"])[^\"\']*([\'\"])""",)


def _compiled(patterns: tuple[str, ...], word: str) -> list[re.Pattern[str]]:
    return [re.compile(p.format(w=word), re.DOTALL | re.IGNORECASE) for p in patterns]


_RULES = [
    (
        word,
        [(p, rf"\g<1>{SECRET}\g<2>") for p in _compiled(_BETWEEN, word)]
        + [(p, rf"\g<1>{SECRET}") for p in _compiled(_AFTER, word)]
        + [(p, r"\g<1>") for p in _compiled(_WILDCARD, word)],
    )
    for word in SECRET_WORDS
]


def mask_text(text: str) -> str:
    for word, substitutions in _RULES:
        if word in text.lower():
            for pattern, replacement in substitutions:
                text = pattern.sub(replacement, text)
    return text


def mask_dict(values: Mapping[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            out[key] = mask_dict(value)
        elif isinstance(key, str) and any(word in key.lower() for word in SECRET_WORDS):
            out[key] = SECRET
        else:
            out[key] = _mask_value(value)
    return out


def _mask_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return mask_dict(value)
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_mask_value(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value
