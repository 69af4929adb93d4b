from __future__ import annotations

import pytest
from itsdangerous import BadData, URLSafeTimedSerializer

from gpc_middleware.core.consent_cookie import ConsentCookieCodec, ConsentState

KEY = "k" * 32
STATE = ConsentState(
    consent_id="abc",
    policy_version="v1",
    choice=frozenset({"analytics"}),
    chosen_at=1_700_000_000,
    gpc=True,
)


def codec(*keys: str, max_age: int = 3600) -> ConsentCookieCodec:
    return ConsentCookieCodec(list(keys or [KEY]), max_age)


def test_round_trip_keeps_every_field() -> None:
    c = codec()
    assert c.loads(c.dumps(STATE)) == STATE
    undecided = ConsentState(consent_id="x", policy_version="v1", limit_sensitive=True)
    assert c.loads(c.dumps(undecided)) == undecided


def test_cookie_is_compact() -> None:
    assert len(codec().dumps(STATE)) < 200


def _flip(token: str, index: int) -> str:
    ch = token[index]
    return token[:index] + ("A" if ch != "A" else "B") + token[index + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: _flip(t, 3), id="payload-bit-flipped"),
        pytest.param(lambda t: _flip(t, len(t) - 2), id="signature-bit-flipped"),
        pytest.param(lambda t: t[: len(t) // 2], id="truncated"),
        pytest.param(lambda t: t + "x", id="appended"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "not.a.token", id="garbage"),
        pytest.param(lambda t: "a" * 5000, id="oversized"),
        pytest.param(lambda t: "\x00\xff.\u2603", id="binary"),
        pytest.param(lambda t: codec("o" * 32).dumps(STATE), id="foreign-key"),
    ],
)
def test_tampered_cookie_is_no_consent(mangle) -> None:  # type: ignore[no-untyped-def]
    c = codec()
    assert c.loads(mangle(c.dumps(STATE))) is None


def test_signed_payload_of_wrong_shape_is_no_consent() -> None:
    serializer = URLSafeTimedSerializer([KEY], salt="gpc_middleware.consent")
    for payload in (
        [1, 2],
        {"i": 1, "v": "v1"},
        {"i": "a", "v": "v1", "c": 9, "t": 1},
        {"i": "a", "v": "v1", "c": 1},
    ):
        assert codec().loads(serializer.dumps(payload)) is None


def test_rotation_old_key_still_verifies() -> None:
    old = codec("old-key-0123456789abcdef")
    rotated = codec("old-key-0123456789abcdef", "new-key-0123456789abcdef")
    token = old.dumps(STATE)
    assert rotated.loads(token) == STATE
    # ...and new cookies are signed with the newest key only.
    assert old.loads(rotated.dumps(STATE)) is None


def test_expiry_is_checked_even_for_cached_values(monkeypatch: pytest.MonkeyPatch) -> None:
    import gpc_middleware.core.consent_cookie as module

    c = codec(max_age=60)
    token = c.dumps(STATE)
    assert c.loads(token) == STATE  # now cached
    real_time = module.time.time
    monkeypatch.setattr(module.time, "time", lambda: real_time() + 61)
    assert c.loads(token) is None


OLD_KEY, NEW_KEY = "old-key-0123456789abcdef", "new-key-0123456789abcdef"


def _itsdangerous_reading(token: str) -> tuple[ConsentState, float] | None:
    """What itsdangerous's own ``loads`` makes of a token, as the reference for our verification."""
    serializer = URLSafeTimedSerializer([OLD_KEY, NEW_KEY], salt="gpc_middleware.consent")
    try:
        payload, signed = serializer.loads(token, return_timestamp=True)
    except BadData:
        return None
    state = ConsentState.from_payload(payload)
    return None if state is None else (state, signed.timestamp())


def _mutations(token: str) -> set[str]:
    """Every truncation, deletion, substitution and stray insertion of one character."""
    out = {token}
    for i in range(len(token)):
        out.add(token[:i])
        out.add(token[:i] + token[i + 1 :])
        out.add(token[:i] + "!" + token[i:])
        for ch in "A_-.=x\u2603":
            out.add(token[:i] + ch + token[i + 1 :])
    return out


@pytest.mark.parametrize(
    "signer",
    [
        pytest.param(codec(NEW_KEY), id="current-key"),
        pytest.param(codec(OLD_KEY), id="older-key"),
        pytest.param(codec("o" * 32), id="foreign-key"),
    ],
)
@pytest.mark.parametrize(
    "state",
    [
        pytest.param(STATE, id="choice"),
        # A payload this repetitive is zlib-compressed by itsdangerous ("." prefix).
        pytest.param(ConsentState("x" * 300, "v1"), id="compressed"),
    ],
)
def test_verification_accepts_exactly_what_itsdangerous_accepts(
    signer: ConsentCookieCodec, state: ConsentState
) -> None:
    verifier = codec(OLD_KEY, NEW_KEY)
    token = signer.dumps(state)
    if state.consent_id == "x" * 300:
        assert token.startswith(".")
    for candidate in _mutations(token):
        verified = verifier.verify(candidate)
        ours = None if verified is None else (verified.state, verified.signed_at)
        assert ours == _itsdangerous_reading(candidate), candidate
