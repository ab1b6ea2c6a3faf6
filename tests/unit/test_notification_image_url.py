"""The legacy payload's image_ref_url, as glance's generate_image_url gives it to nova."""

from __future__ import annotations

from typing import Any

from aioconductor.config.settings import GlanceOptions
from aioconductor.notifications.instance_payloads import image_ref_url

REF = "c1111111-1111-4111-8111-111111111111"
CATALOG = [
    {"type": "compute", "endpoints": [{"region": "R1", "internalURL": "http://nova:8774"}]},
    {"type": "image", "endpoints": [
        {"region": "R1", "publicURL": "http://pub-r1:9292", "internalURL": "http://int-r1/v2"},
        {"region": "R2", "publicURL": "http://pub-r2:9292/v2.1/"},
    ]},
]  # fmt: skip


def _url(ctx: dict[str, Any], **glance: Any) -> tuple[bool, str | None]:
    return image_ref_url(REF, ctx, GlanceOptions(**glance), lambda servers: servers[-1])


def test_api_servers_win() -> None:
    assert _url({"service_catalog": CATALOG}, api_servers=("http://a", "http://b")) == (
        True,
        f"http://b/images/{REF}",
    )


def test_the_catalog_in_interface_order_with_nova_version_stripping() -> None:
    # nova replaces a trailing version by "/", then appends "/images/..."
    assert _url({"service_catalog": CATALOG}) == (True, f"http://int-r1//images/{REF}")
    assert _url({"service_catalog": CATALOG}, interfaces=("public",)) == (
        True,
        f"http://pub-r1:9292/images/{REF}",
    )
    assert _url({"service_catalog": CATALOG}, interfaces=("public",), region="R2") == (
        True,
        f"http://pub-r2:9292//images/{REF}",
    )


def test_endpoint_override_comes_before_the_catalog() -> None:
    assert _url({"service_catalog": CATALOG}, endpoint_override="http://o:9292/v2") == (
        True,
        f"http://o:9292//images/{REF}",
    )


def test_no_endpoint_gives_the_image_id_without_a_token_and_nothing_with_one() -> None:
    assert _url({}) == (True, REF)
    assert _url({"auth_token": "t"}) == (False, None)
