"""Cell-mapping URL templates are filled exactly as nova's CellMapping fills them."""

from __future__ import annotations

import itertools

import pytest

from aioconductor.objects._cell_urls import format_url
from tests.compat.nova_processes import run_nova_script

pytestmark = pytest.mark.compat

DEFAULTS = [
    "rabbit://u:p@mq1:5672/vhost",
    "rabbit://u1:p1@mq1:5672,u2:p%40ss@mq2:5673/vhost?ssl=1",
    "rabbit://mq1,mq2/",
    "mysql+pymysql://nova:secret@db.example/nova?charset=utf8#frag",
    "rabbit://u:p@[::1]:5672,u:p@[fe80::1]/v",
    "rabbit://u@h1:notaport,u@h2/",
    "mysql+pymysql://root@127.0.0.1/nova",
]
TEMPLATES = [
    "{scheme}://{username}:{password}@{hostname}:{port}/{path}?{query}#{fragment}",
    "{scheme}://{username1}:{password1}@{hostname1}:{port1},{username2}@{hostname2}:{port2}/x",
    "rabbit://plain:url@host/",
    "{scheme}://{unknown}/",
    "{{literal}}/{path}",
    "{hostname3}",
]


def test_templates_filled_like_nova() -> None:
    cases = list(itertools.product(TEMPLATES, DEFAULTS))
    nova = run_nova_script("cell_urls.py", {"cases": cases})
    ours = [format_url(url, default, "[DEFAULT] transport_url") for url, default in cases]
    assert ours == nova
    assert len(set(nova)) > len(TEMPLATES)  # the defaults did fill templates


def test_without_a_default_the_template_stays() -> None:
    assert format_url("{scheme}://x", None, "[database] connection") == "{scheme}://x"
