"""The IAB strings, decoded by the IAB's own library (``@iabgpp/cmpapi``) for every state.

Each string the middleware writes (the consent JSON, ``widget.json``, the ``usprivacy``
cookie) is read back with ``GppModel`` in Node and its fields asserted; the package's own
reader (``read_us_national``, used by the conformance checks) must agree with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest

from gpc_middleware.core.consent import Consent, category_map
from gpc_middleware.core.iab import (
    encode_us_national,
    gpp_string,
    iab_signals,
    read_section_ids,
    read_us_national,
    us_national_fields,
)

from .conftest import Client
from .iab_library import IabLibrary

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
NOTICES = {
    "SharingNotice": 1,
    "SaleOptOutNotice": 1,
    "SharingOptOutNotice": 1,
    "TargetedAdvertisingOptOutNotice": 1,
    "SensitiveDataProcessingOptOutNotice": 1,
    "SensitiveDataLimitUseNotice": 1,
}
FIXED = {
    "Version": 2,
    "KnownChildSensitiveDataConsents": [0, 0, 0],
    "PersonalDataConsents": 0,
    "MspaCoveredTransaction": 2,
    "MspaOptOutOptionMode": 0,
    "MspaServiceProviderMode": 0,
    "GpcSegmentType": 1,
}


def usnat(*, opted_out: bool, gpc: bool, limited: bool = False) -> dict[str, Any]:
    """The US National fields expected for a state, as ``getSection("usnat")`` gives them."""
    value = 1 if opted_out else 2
    return {
        **FIXED,
        **NOTICES,
        "SaleOptOut": value,
        "SharingOptOut": value,
        "TargetedAdvertisingOptOut": value,
        "SensitiveDataProcessing": [1 if limited else 0] * 16,
        "Gpc": gpc,
    }


def choose(client: Client, payload: object, headers: dict[str, str] | None = None) -> Any:
    reply = client.choose(payload, headers=headers)
    assert reply.status == 200, reply.body
    return reply


def post_form(client: Client, path: str, fields: str, headers: dict[str, str] | None = None) -> Any:
    page = client.get(path, headers=headers)
    token = unescape(re.search(rb'name="csrf_token" value="([^"]+)"', page.body).group(1).decode())  # type: ignore[union-attr]
    return client.request(
        "POST",
        path,
        body=f"csrf_token={token}&{fields}".encode(),
        content_type="application/x-www-form-urlencoded",
        headers={**SAME_ORIGIN, **(headers or {})},
    )


# Each state: how to reach it from a fresh visitor, the request headers to read it with,
# then the expected US Privacy string and US National fields.
STATES = [
    pytest.param({}, None, {}, "1YNN", usnat(opted_out=False, gpc=False), id="no-choice"),
    pytest.param(
        {}, {"all": False}, {}, "1YYN", usnat(opted_out=True, gpc=False), id="rejected-all"
    ),
    pytest.param(
        {}, {"all": True}, {}, "1YNN", usnat(opted_out=False, gpc=False), id="accepted-all"
    ),
    pytest.param(
        {}, None, {"Sec-GPC": "1"}, "1YYN", usnat(opted_out=True, gpc=True), id="gpc-signal"
    ),
    pytest.param(
        {},
        "gpc-then-absent",
        {},
        "1YYN",
        usnat(opted_out=True, gpc=False),  # honoured from the record, but not sent now
        id="gpc-recorded-signal-absent",
    ),
    pytest.param(
        {"gpc_categories": ()},
        None,
        {"Sec-GPC": "1"},
        "1YNN",
        usnat(opted_out=False, gpc=True),  # received, though the site does not act on it
        id="gpc-received-not-acted-on",
    ),
    pytest.param(
        {},
        {"all": True, "limit_sensitive": True},
        {},
        "1YNN",
        usnat(opted_out=False, gpc=False, limited=True),
        id="limit-sensitive",
    ),
]


@pytest.mark.parametrize(("settings", "step", "headers", "usp", "fields"), STATES)
def test_consent_json_strings_decode_with_the_iab_library(
    make_client: Callable[..., Client],
    iab_library: IabLibrary,
    settings: dict[str, Any],
    step: object,
    headers: dict[str, str],
    usp: str,
    fields: dict[str, Any],
) -> None:
    client = make_client(mode="opt-out", iab_signals=True, **settings)
    if step == "gpc-then-absent":
        client.get("/", headers={"Sec-GPC": "1"})
    elif step is not None:
        choose(client, step)
    iab = client.get("/_consent", headers=headers).json()["iab"]
    assert iab["usprivacy"] == usp
    assert iab_library.usprivacy(usp) == {
        "Version": 1,
        "Notice": "Y",
        "OptOutSale": usp[2],
        "LspaCovered": "N",
    }
    decoded = iab_library.gpp(iab["gpp"])
    assert decoded["sectionIds"] == [7]
    assert decoded["sections"]["usnat"] == fields
    assert decoded["reencoded"] == iab["gpp"]  # byte for byte what the library writes
    assert read_us_national(iab["gpp"]) == fields  # our reader agrees
    # widget.json carries the same strings, the parsed section and applicableSections.
    config = client.get("/_consent/widget.json", headers=headers).json()["iab"]
    assert (config["usprivacy"], config["gpp"]) == (usp, iab["gpp"])
    assert config["parsedSections"] == {"usnat": fields}
    assert config["applicableSections"] == [7] and config["sectionList"] == [7]


def test_gpc_limited_and_opted_out_together(
    make_client: Callable[..., Client], iab_library: IabLibrary
) -> None:
    client = make_client(mode="opt-out", iab_signals=True)
    choose(client, {"all": True, "limit_sensitive": True}, headers={"Sec-GPC": "1"})
    gpp = client.get("/_consent", headers={"Sec-GPC": "1"}).json()["iab"]["gpp"]
    assert iab_library.usnat(gpp) == usnat(opted_out=True, gpc=True, limited=True)


@pytest.mark.parametrize("headers", [{}, {"Sec-GPC": "1"}], ids=["no-signal", "gpc"])
def test_opt_in_mode_has_no_us_section(
    make_client: Callable[..., Client], iab_library: IabLibrary, headers: dict[str, str]
) -> None:
    # Opt-in mode is the consent-first model (GDPR, PIPA): the US frameworks do not apply.
    client = make_client(mode="opt-in", iab_signals=True)
    iab = client.get("/_consent", headers=headers).json()["iab"]
    assert iab == {"usprivacy": "1---", "gpp": "DBAA"}
    assert iab_library.usprivacy("1---") == {
        "Version": 1,
        "Notice": "-",
        "OptOutSale": "-",
        "LspaCovered": "-",
    }
    decoded = iab_library.gpp("DBAA")
    assert decoded["sectionIds"] == [] and decoded["sections"] == {}
    config = client.get("/_consent/widget.json", headers=headers).json()["iab"]
    assert config["applicableSections"] == [-1]
    assert config["sectionList"] == [] and config["parsedSections"] == {}
    client.get("/", headers=headers)
    assert client.cookie("usprivacy") == "1---"


def test_widget_config_offers_the_strings_for_a_javascript_only_gpc(
    make_client: Callable[..., Client], iab_library: IabLibrary
) -> None:
    # navigator.globalPrivacyControl without the header: the widget answers with these.
    client = make_client(mode="opt-out", iab_signals=True)
    config = client.get("/_consent/widget.json").json()["iab"]
    assert config["usprivacy"] == "1YNN"
    assert config["gpc"]["usprivacy"] == "1YYN"
    assert iab_library.usnat(config["gpc"]["gpp"]) == usnat(opted_out=True, gpc=True)
    assert config["gpc"]["parsedSections"]["usnat"] == usnat(opted_out=True, gpc=True)
    with_header = client.get("/_consent/widget.json", headers={"Sec-GPC": "1"}).json()["iab"]
    assert "gpc" not in with_header  # the header already shaped the strings
    assert make_client(mode="opt-out").get("/_consent/widget.json").json()["iab"] is None


def test_usprivacy_cookie_follows_each_change_on_its_own_response(
    make_client: Callable[..., Client],
) -> None:
    client = make_client(mode="opt-out", iab_signals=True)
    page = client.get("/")
    assert any(
        v.startswith("usprivacy=1YNN;") and "HttpOnly" not in v for v in page.all("set-cookie")
    )
    assert client.get("/").all("set-cookie") == []  # already right: not set again
    # The JavaScript choice: its own JSON response sets the cookie.
    reply = choose(client, {"all": False})
    assert any(v.startswith("usprivacy=1YYN;") for v in reply.all("set-cookie"))
    # A withdrawal.
    withdrawn = client.request("DELETE", "/_consent", headers=SAME_ORIGIN)
    assert any(v.startswith("usprivacy=1YNN;") for v in withdrawn.all("set-cookie"))
    assert "iab" not in make_client().get("/_consent").json()


@pytest.mark.parametrize(
    ("path", "fields", "expected"),
    [
        pytest.param("/_consent/settings", "action=reject_all", "1YYN", id="settings-reject"),
        pytest.param("/_consent/do-not-sell", "action=do_not_sell", "1YYN", id="do-not-sell"),
    ],
)
def test_no_javascript_form_sets_usprivacy_on_its_redirect(
    make_client: Callable[..., Client], path: str, fields: str, expected: str
) -> None:
    client = make_client(mode="opt-out", iab_signals=True)
    reply = post_form(client, path, fields)
    assert reply.status == 303
    assert any(v.startswith(f"usprivacy={expected};") for v in reply.all("set-cookie"))
    assert client.cookie("usprivacy") == expected


def consent(*, targeting: bool, gpc: bool = False, limit: bool = False) -> Consent:
    allowed = {"analytics", "preference", *(["targeting"] if targeting else [])}
    return Consent(
        categories=category_map(allowed),  # type: ignore[arg-type]
        gpc=gpc,
        gpc_honored=gpc,
        decided=True,
        source="gpc" if gpc else "user",
        policy_version="1",
        mode="opt-out",
        limit_sensitive=limit,
    )


@pytest.mark.parametrize(
    ("value", "gpp"),
    [
        pytest.param(consent(targeting=True), "DBABLA~CVVqAAAAAACA.QA", id="not-opted-out"),
        pytest.param(consent(targeting=False), "DBABLA~CVVVAAAAAACA.QA", id="opted-out"),
        pytest.param(consent(targeting=False, gpc=True), "DBABLA~CVVVAAAAAACA.YA", id="gpc"),
        pytest.param(consent(targeting=True, limit=True), "DBABLA~CVVqVVVVVQCA.QA", id="limited"),
    ],
)
def test_strings_are_stable(value: Consent, gpp: str, iab_library: IabLibrary) -> None:
    assert gpp_string(value) == gpp
    assert iab_library.gpp(gpp)["reencoded"] == gpp
    assert iab_signals(value).usnat == us_national_fields(value)


def test_reader_reads_version_1_and_other_sections_as_the_library_does(
    iab_library: IabLibrary,
) -> None:
    # The IAB's version 1 example string, and strings whose headers list ranges (uspv1 and
    # usnat; usnat, usca, usva), as sites audited by the browser checks publish them.
    for gpp in (
        "DBABLA~BVQqAAAAAgA.QA",
        "DBABzw~1YYN~BVQVAAAAAgA.YA",
        "DBABrYA~CAAQAAAAAABA.QA~BAQAAABA.QA~BAQAABA",
    ):
        decoded = iab_library.gpp(gpp)
        assert read_section_ids(gpp.split("~")[0]) == decoded["sectionIds"]
        assert read_us_national(gpp) == decoded["sections"]["usnat"]


@pytest.mark.parametrize("bad", ["", "DBABLA", "zzzz~BVQ", "DBABLA~!!", "DBAA", "DBABMA~1YNN"])
def test_reader_refuses_what_it_cannot_read(bad: str) -> None:
    with pytest.raises(ValueError):
        read_us_national(bad)


def test_encoder_refuses_malformed_fields() -> None:
    fields = dict(usnat(opted_out=True, gpc=True))
    fields["SensitiveDataProcessing"] = [0] * 12  # the version 1 width
    with pytest.raises(ValueError, match="SensitiveDataProcessing"):
        encode_us_national(fields)
