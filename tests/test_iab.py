from __future__ import annotations

from collections.abc import Callable

import pytest

from gpc_middleware.core.consent import Consent, category_map
from gpc_middleware.core.iab import gpp_string, read_us_national, us_privacy_string

from .conftest import Client


def consent(*, targeting: bool, gpc: bool = False) -> Consent:
    allowed = {"analytics", "preference", *(["targeting"] if targeting else [])}
    return Consent(
        categories=category_map(allowed),  # type: ignore[arg-type]
        gpc=gpc,
        gpc_honored=gpc,
        decided=True,
        source="gpc" if gpc else "user",
        policy_version="1",
        mode="opt-out",
    )


@pytest.mark.parametrize(
    ("targeting", "gpc", "usp", "gpp"),
    [
        # The IAB's own US National example string (notices given, no opt-out, no GPC).
        pytest.param(True, False, "1YNN", "DBABLA~BVQqAAAAAgA.QA", id="not-opted-out"),
        pytest.param(False, False, "1YYN", "DBABLA~BVQVAAAAAgA.QA", id="opted-out"),
        pytest.param(False, True, "1YYN", "DBABLA~BVQVAAAAAgA.YA", id="opted-out-by-gpc"),
    ],
)
def test_strings(targeting: bool, gpc: bool, usp: str, gpp: str) -> None:
    c = consent(targeting=targeting, gpc=gpc)
    assert us_privacy_string(c) == usp
    assert gpp_string(c) == gpp


def test_endpoint_and_cookie_carry_the_signals(make_client: Callable[..., Client]) -> None:
    client = make_client(mode="opt-out", iab_signals=True)
    state = client.get("/_consent", headers={"Sec-GPC": "1"}).json()
    assert state["iab"] == {"usprivacy": "1YYN", "gpp": "DBABLA~BVQVAAAAAgA.YA"}
    page = client.get("/")
    assert any(
        v.startswith("usprivacy=1YYN;") and "HttpOnly" not in v for v in page.all("set-cookie")
    )
    assert client.get("/").all("set-cookie") == []  # already right: not set again
    assert "iab" not in make_client().get("/_consent").json()


def test_read_back() -> None:
    assert read_us_national("DBABLA~BVQVAAAAAgA.YA") == {
        "SaleOptOut": 1,
        "SharingOptOut": 1,
        "TargetedAdvertisingOptOut": 1,
        "Gpc": True,
    }
    assert read_us_national("DBABLA~BVQqAAAAAgA.QA")["SaleOptOut"] == 2
    for bad in ("", "DBABLA", "zzzz~BVQ", "DBABLA~!!"):
        with pytest.raises(ValueError):
            read_us_national(bad)
