"""Behaviour through the HTTP surface, under both adapters (see conftest: every test runs twice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gpc_middleware import ConsentEvent, ConsentPolicy, mode_from_country_header
from gpc_middleware.core.consent_cookie import ConsentState

from .conftest import ORIGIN, SECRET, Client

OFF = {"essential": True, "analytics": False, "preference": False, "targeting": False}
ON = {"essential": True, "analytics": True, "preference": True, "targeting": True}
NO_TARGETING = {**ON, "targeting": False}


def signed(state: ConsentState, *, key: str = SECRET, version: str = "2025-01-15") -> str:
    return ConsentPolicy(secret_key=key, policy_version=version).codec.dumps(state)


def whoami(client: Client, **headers: str) -> dict[str, Any]:
    reply = client.get("/whoami", headers={k.replace("_", "-"): v for k, v in headers.items()})
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


# --- GPC detection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "gpc"),
    [("1", True), (" 1", True), ("0", False), ("yes", False), ("", False), ("1, 1", True)],
)
def test_gpc_header_values(client: Client, value: str, gpc: bool) -> None:
    state = whoami(client, Sec_GPC=value)
    assert state["gpc"] is gpc
    assert state["categories"]["targeting"] is False  # opt-in default: off either way


def test_gpc_turns_targeting_off_in_opt_out_mode_frictionlessly(
    make_client: Callable[..., Client],
) -> None:
    client = make_client(mode="opt-out")
    assert whoami(client)["categories"] == ON
    state = whoami(client, Sec_GPC="1")
    assert state["categories"] == NO_TARGETING
    assert state["gpc_honored"] and state["source"] == "gpc"


def test_page_request_with_gpc_passes_through_unchanged_but_records(client: Client) -> None:
    reply = client.get("/", headers={"Sec-GPC": "1"})
    assert reply.status == 200 and reply.body.startswith(b"<!doctype html>")
    assert reply.header(
        "content-type",
    ).startswith("text/html")  # type: ignore[union-attr]
    assert len(reply.all("set-cookie")) == 1
    assert {"sec-gpc", "cookie"} <= reply.vary


# --- stickiness ----------------------------------------------------------------------------------


def test_gpc_is_sticky_until_an_explicit_choice_without_the_signal(
    make_client: Callable[..., Client],
) -> None:
    client = make_client(mode="opt-out")
    whoami(client, Sec_GPC="1")  # records the signal
    later = whoami(client)  # no signal any more
    assert later["gpc"] is False and later["gpc_honored"] is True
    assert later["categories"]["targeting"] is False
    # Only the first response records it: no further Set-Cookie.
    assert client.get("/whoami", headers={"Sec-GPC": "1"}).all("set-cookie") == []

    # An explicit choice *with* the signal present cannot turn targeting on.
    reply = client.choose({"all": True}, headers={"Sec-GPC": "1"})
    assert reply.json()["categories"] == NO_TARGETING
    assert whoami(client)["categories"] == NO_TARGETING

    # An explicit choice on a request without the signal can (consent after notice).
    reply = client.choose({"all": True})
    assert reply.json()["categories"] == ON and reply.json()["gpc_honored"] is False
    assert whoami(client)["categories"] == ON
    # ...but while the signal is present it always wins.
    assert whoami(client, Sec_GPC="1")["categories"] == NO_TARGETING


def test_gpc_record_survives_a_policy_change(make_client: Callable[..., Client]) -> None:
    client = make_client(mode="opt-out", policy_version="2026-01-01")
    client.set_cookie(
        "gpc_consent", signed(ConsentState(consent_id="a", policy_version="2025-01-15", gpc=True))
    )
    state = whoami(client)
    assert state["categories"]["targeting"] is False and state["gpc_honored"]


def test_withdrawal_keeps_a_gpc_opt_out(make_client: Callable[..., Client]) -> None:
    client = make_client(mode="opt-out")
    whoami(client, Sec_GPC="1")
    reply = client.request("DELETE", "/_consent", headers={"Sec-Fetch-Site": "same-origin"})
    assert reply.status == 200
    assert reply.json()["categories"] == NO_TARGETING
    assert whoami(client)["categories"]["targeting"] is False


# --- modes ---------------------------------------------------------------------------------------


def test_opt_in_defaults_off_until_chosen(client: Client) -> None:
    state = whoami(client)
    assert state["categories"] == OFF and state["decided"] is False and state["source"] == "default"
    assert state["mode"] == "opt-in"
    client.choose({"categories": {"analytics": True}})
    state = whoami(client)
    assert state["categories"] == {**OFF, "analytics": True}
    assert state["decided"] and state["source"] == "user"


def test_opt_out_defaults_on(make_client: Callable[..., Client]) -> None:
    client = make_client(mode="opt-out")
    assert whoami(client)["categories"] == ON
    client.choose({"all": False})
    assert whoami(client)["categories"] == OFF


def test_mode_by_country_header(make_client: Callable[..., Client]) -> None:
    client = make_client(mode=mode_from_country_header())
    assert whoami(client, CF_IPCountry="FR")["mode"] == "opt-in"
    us = whoami(client, CF_IPCountry="US")
    assert us["mode"] == "opt-out" and us["categories"] == ON


def test_custom_gpc_categories(make_client: Callable[..., Client]) -> None:
    client = make_client(mode="opt-out", gpc_categories=("targeting", "analytics"))
    assert whoami(client, Sec_GPC="1")["categories"] == {
        **ON,
        "targeting": False,
        "analytics": False,
    }


# --- the cookie: rotation, expiry, tampering, versions --------------------------------------------


def test_cookie_from_rotated_key_still_verifies(make_client: Callable[..., Client]) -> None:
    old_key = "old-secret-key-0123456789"
    client = make_client(fallback_keys=[old_key])
    cookie = signed(
        ConsentState(
            consent_id="a",
            policy_version="2025-01-15",
            choice=frozenset({"analytics"}),
            chosen_at=1,
        ),
        key=old_key,
    )
    client.set_cookie("gpc_consent", cookie)
    assert whoami(client)["categories"]["analytics"] is True


def test_expired_cookie_counts_as_no_choice(
    make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    import itsdangerous.timed

    client = make_client(cookie_max_age=3600)
    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 7200)
    cookie = signed(
        ConsentState(
            consent_id="a",
            policy_version="2025-01-15",
            choice=frozenset({"analytics"}),
            chosen_at=1,
        )
    )
    monkeypatch.undo()
    client.set_cookie("gpc_consent", cookie)
    state = whoami(client)
    assert state["decided"] is False and state["categories"] == OFF


GOOD = ConsentState(
    consent_id="a",
    policy_version="2025-01-15",
    choice=frozenset({"analytics", "targeting"}),
    chosen_at=1,
)


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(lambda: signed(GOOD)[:-3] + "AAA", id="flipped-signature"),
        pytest.param(lambda: "A" + signed(GOOD)[1:], id="flipped-payload"),
        pytest.param(lambda: signed(GOOD)[:20], id="truncated"),
        pytest.param(lambda: signed(GOOD, key="another-secret-key-0123"), id="other-key"),
        pytest.param(
            lambda: signed(
                ConsentState(
                    consent_id="a",
                    policy_version="2024-01-01",
                    choice=frozenset({"analytics"}),
                    chosen_at=1,
                )
            ),
            id="old-policy-version",
        ),
        pytest.param(lambda: '%%%garbage\\"', id="garbage"),
        pytest.param(lambda: "x" * 5000, id="huge"),
    ],
)
def test_bad_cookies_mean_no_consent_never_500(client: Client, cookie: Callable[[], str]) -> None:
    client.set_cookie("gpc_consent", cookie())
    state = whoami(client)
    assert state["decided"] is False and state["categories"] == OFF


def test_valid_cookie_among_junk_cookies(client: Client) -> None:
    client.set_cookie("weird", "a=b=c")
    client.set_cookie("gpc_consent", signed(GOOD))
    assert whoami(client)["categories"]["analytics"] is True


# --- endpoint --------------------------------------------------------------------------------------


def test_get_endpoint(client: Client) -> None:
    reply = client.get("/_consent")
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert reply.header("cache-control") == "no-store"
    assert {"sec-gpc", "cookie"} <= reply.vary
    body = reply.json()
    assert set(body) >= {
        "gpc",
        "gpc_honored",
        "categories",
        "decided",
        "source",
        "policy_version",
        "mode",
    }
    assert body["policy_version"] == "2025-01-15"


def test_head_endpoint_has_no_body(client: Client) -> None:
    reply = client.request("HEAD", "/_consent")
    assert reply.status == 200 and reply.body == b""


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_choice_sets_a_safe_signed_cookie(client: Client, method: str) -> None:
    reply = client.choose({"categories": {"essential": True, "preference": True}}, method=method)
    assert reply.status == 200
    assert reply.json()["categories"] == {**OFF, "preference": True}
    (cookie,) = reply.all("set-cookie")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= set(attributes)
    assert any(a.startswith("max-age=") for a in attributes)
    assert {"sec-gpc", "cookie"} <= reply.vary


def test_delete_withdraws(client: Client) -> None:
    client.choose({"all": True})
    reply = client.request("DELETE", "/_consent", headers={"Sec-Fetch-Site": "same-origin"})
    assert reply.status == 200
    assert reply.json()["decided"] is False and reply.json()["categories"] == OFF
    assert "max-age=0" in reply.header("set-cookie").lower()  # type: ignore[union-attr]
    assert whoami(client)["decided"] is False


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param(b"{not json", "application/json", 400, id="malformed-json"),
        pytest.param(b"", "application/json", 400, id="empty-body"),
        pytest.param(b"\xff\xfe", "application/json", 400, id="not-utf8"),
        pytest.param(b'{"all": true}', "text/plain", 415, id="text-plain"),
        pytest.param(b"all=1", "application/x-www-form-urlencoded", 415, id="form"),
        pytest.param(b'{"all": true}', None, 415, id="no-content-type"),
        pytest.param(
            b'{"all": true,' + b" " * 17000 + b"}", "application/json", 413, id="too-large"
        ),
        pytest.param(
            b'{"categories": {"marketing": true}}', "application/json", 422, id="unknown-category"
        ),
        pytest.param(
            b'{"categories": {"analytics": "yes"}}', "application/json", 422, id="non-boolean"
        ),
        pytest.param(
            b'{"categories": {"essential": false}}', "application/json", 422, id="refuse-essential"
        ),
        pytest.param(b'{"all": 1}', "application/json", 422, id="all-not-boolean"),
        pytest.param(b'{"all": true, "categories": {}}', "application/json", 422, id="both-forms"),
        pytest.param(b"{}", "application/json", 422, id="neither-form"),
        pytest.param(b"[true]", "application/json", 422, id="not-an-object"),
        pytest.param(b'{"all": true, "extra": 1}', "application/json", 422, id="unknown-field"),
        pytest.param(b"[" * 982 + b"]" * 982, "application/json", 400, id="nested-arrays"),
        pytest.param(b'{"a":' * 2000 + b"1" + b"}" * 2000, "application/json", 400, id="nested"),
        pytest.param(
            ("[" * 4000 + "]" * 4000).encode("utf-16"), "application/json", 400, id="nested-utf16"
        ),
        pytest.param(
            b'{"all": true, "x": ["' + b"[" * 5000 + b'"]}',
            "application/json",
            422,
            id="brackets-in-a-string-are-text",
        ),
    ],
)
def test_bad_choices_get_json_errors(
    client: Client, body: bytes, content_type: str | None, status: int
) -> None:
    reply = client.request(
        "PUT",
        "/_consent",
        body=body,
        content_type=content_type,
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert reply.status == status, reply.body
    assert reply.header("content-type") == "application/json"
    assert isinstance(reply.json()["error"], str)
    assert reply.all("set-cookie") == []


def test_deeply_nested_json_from_the_same_origin_is_a_400(client: Client) -> None:
    # 982 nested arrays (about 2 KB) raised RecursionError: a 500 under uvicorn and gunicorn.
    reply = client.request(
        "PUT",
        "/_consent",
        body=b"[" * 982 + b"]" * 982,
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    assert reply.status == 400
    assert reply.json() == {"error": "the body is nested more than 8 levels deep"}


def test_other_methods_get_405_with_allow(client: Client) -> None:
    reply = client.request("PATCH", "/_consent", headers={"Sec-Fetch-Site": "same-origin"})
    assert reply.status == 405
    assert set(reply.header("allow").replace(" ", "").split(",")) == {
        "GET",
        "HEAD",
        "PUT",
        "POST",
        "DELETE",
    }  # type: ignore[union-attr]
    assert "error" in reply.json()


def test_gpc_json(client: Client) -> None:
    reply = client.get("/.well-known/gpc.json")
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert reply.json() == {"gpc": True, "lastUpdate": "2025-01-15"}
    assert client.request("POST", "/.well-known/gpc.json", body=b"").status == 405


def test_gpc_json_can_be_disabled(make_client: Callable[..., Client]) -> None:
    client = make_client(gpc_json_last_update=None)
    assert client.get("/.well-known/gpc.json").status == 404  # the app's own 404


def test_custom_endpoint_path(make_client: Callable[..., Client]) -> None:
    client = make_client(endpoint_path="/privacy/consent")
    assert client.get("/privacy/consent").json()["mode"] == "opt-in"
    assert client.get("/_consent").status == 404


# --- CSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"Sec-Fetch-Site": "same-origin"}, 200, id="fetch-same-origin"),
        pytest.param({"Sec-Fetch-Site": "none"}, 200, id="fetch-none"),
        pytest.param({"Origin": "https://testserver"}, 200, id="origin-match"),
        pytest.param({"Referer": "https://testserver/jobs"}, 200, id="referer-match"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, 403, id="fetch-cross-site"),
        pytest.param({"Sec-Fetch-Site": "same-site"}, 403, id="fetch-same-site"),
        pytest.param({"Origin": "https://evil.example"}, 403, id="origin-other"),
        pytest.param({"Origin": "null"}, 403, id="origin-null"),
        pytest.param({"Referer": "https://evil.example/"}, 403, id="referer-other"),
        pytest.param({}, 403, id="no-origin-information"),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_csrf(client: Client, headers: dict[str, str], status: int, method: str) -> None:
    reply = client.request(method, "/_consent", json_body={"all": True}, headers=headers)
    assert reply.status == status, reply.body
    if status == 403:
        assert reply.all("set-cookie") == [] and "error" in reply.json()
        assert whoami(client)["decided"] is False


# --- pass-through ----------------------------------------------------------------------------------


def test_app_responses_untouched_without_signal(client: Client) -> None:
    reply = client.get("/stream")
    assert reply.body == b"chunk0;chunk1;chunk2;"
    assert reply.all("set-cookie") == [] and "vary" not in {k.lower() for k, _ in reply.headers}


def test_app_sees_request_body(client: Client) -> None:
    reply = client.request(
        "PUT", "/echo", body=b"payload", content_type="text/plain", headers={"Sec-GPC": "1"}
    )
    assert reply.json() == {"method": "PUT", "body": "payload"}


# --- events ----------------------------------------------------------------------------------------


def test_on_change_receives_each_change(make_client: Callable[..., Client]) -> None:
    events: list[ConsentEvent] = []
    client = make_client(on_change=events.append, mode="opt-out")
    whoami(client, Sec_GPC="1", User_Agent="Browser/1")
    whoami(client, Sec_GPC="1")  # already recorded: no event
    client.choose({"categories": {"analytics": True}})
    client.request("DELETE", "/_consent", headers={"Sec-Fetch-Site": "same-origin"})
    assert [e.kind for e in events] == ["gpc", "choice", "withdrawal"]
    gpc, choice, withdrawal = events
    assert gpc.gpc and gpc.effective["targeting"] is False and gpc.chosen is None
    assert gpc.user_agent_hash and "Browser" not in gpc.user_agent_hash
    assert choice.chosen == {"analytics": True, "preference": False, "targeting": False}
    assert (
        choice.source == "user"
        and choice.policy_version == "2025-01-15"
        and choice.mode == "opt-out"
    )
    assert len({e.consent_id for e in events}) == 1
    assert (
        withdrawal.effective["targeting"] is True
    )  # opt-out default, the signal was withdrawn with the choice
    assert choice.time.tzinfo is not None


def test_async_on_change_is_awaited(make_client: Callable[..., Client]) -> None:
    seen: list[str] = []

    async def on_change(event: ConsentEvent) -> None:
        seen.append(event.kind)

    client = make_client(on_change=on_change)
    client.choose({"all": False})
    assert seen == ["choice"]


def test_failing_on_change_never_fails_the_request(
    make_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    def on_change(event: ConsentEvent) -> None:
        raise RuntimeError("CRM down")

    client = make_client(on_change=on_change)
    assert client.choose({"all": True}).status == 200
    assert "on_change callback failed" in caplog.text
