"""The log driver's masking against oslo.utils' own (the version oslo.messaging's tests pin)."""

from __future__ import annotations

import random

import pytest

strutils = pytest.importorskip("oslo_utils.strutils")

from aioconductor.notifications import masking  # noqa: E402

SAMPLES = [
    "password=abc123 other", 'x "password": "p-3" y', "--password s3 --x",
    "<password>x</password>", "'adminPass': u'zz'", "token = 'abc'", "secret_uuid=1",
    'a "Token" "v"', "password  -p abc", "'auth_token', '--x', 'val'", "plain",
    'x "passphrase": "a" "b": "c"', "Password2 = 'q'", "SSLKEY=abc def",
]  # fmt: skip


def test_the_secret_words_are_oslos_in_its_order() -> None:
    assert list(masking.SECRET_WORDS) == strutils._SANITIZE_KEYS


def test_text_is_masked_as_oslo_masks_it() -> None:
    rnd = random.Random(22)
    alphabet = "pasword=: \"'-<>/tokenPASSWORD u,\n"
    fuzz = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(3, 40))) for _ in range(5000)]
    for text in SAMPLES + fuzz:
        assert masking.mask_text(text) == strutils.mask_password(text), text


def test_a_message_is_masked_as_oslos_log_driver_masks_it() -> None:
    message = {
        "payload": {"password": "x", "metadata": {"passphrase": "p", "note": "token=t1 rest"},
                    "list": [1, "password=2", {"token": "t"}, ["secret=3"]],
                    "adminPass": {"kept": "v"}, "tuple": ("secret=1",), "n": 3, "none": None},
        5: "password=1",
    }  # fmt: skip
    assert masking.mask_dict(message) == strutils.mask_dict_password(message)
