"""The signed consent cookie: what it holds and how it is signed, verified and cached.

The cookie is a compact itsdangerous ``URLSafeTimedSerializer`` token over a
small JSON object. It is strictly necessary (it stores the visitor's choice and
a recorded GPC opt-out), so it is set without asking, and it is ``HttpOnly``:
the widget reads the state through the JSON endpoint, never from the cookie.

Tokens are made by itsdangerous and have its format; so do the keys, derived
by itsdangerous's own signer. Verification checks the signature with an HMAC
keyed once per secret key and copied per token: itsdangerous's ``loads`` builds
a signer, derives the key and starts a new HMAC on every call, which costs more
than the check itself. A token passes exactly when ``loads`` would accept it
(the tests compare the two on tampered tokens). The engine also caches verified
values (see ``engine.py``); this module stays a plain, uncached codec.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import secrets
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import bytes_to_int

from .categories import Category

_SALT: Final = "gpc_middleware.consent"
#: Our cookie is under 300 bytes; a longer value is not ours and is not verified (nor cached).
MAX_COOKIE_LENGTH: Final = 1024
_BITS: Final[Mapping[Category, int]] = {"analytics": 1, "preference": 2, "targeting": 4}
#: The choice each bit pattern stands for.
_CHOICES: Final = tuple(
    frozenset(category for category, bit in _BITS.items() if bits & bit) for bits in range(8)
)


def new_consent_id() -> str:
    """A random, unguessable id that ties a visitor's consent records together."""
    return secrets.token_urlsafe(12)


class ConsentState(NamedTuple):
    """What the consent cookie records (immutable).

    ``choice`` is ``None`` while the visitor has made no choice (the cookie may
    still exist, to record a GPC opt-out). ``choice`` holds the optional
    categories the visitor allowed, under ``policy_version``. A named tuple, not
    a dataclass: one is built for each new cookie seen, at a quarter of the cost.
    """

    consent_id: str
    policy_version: str
    choice: frozenset[Category] | None = None
    chosen_at: int | None = None  # Unix time of the choice
    gpc: bool = False  # a GPC signal was received and must keep being honoured
    limit_sensitive: bool = False  # "Limit the Use of My Sensitive Personal Information"

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"i": self.consent_id, "v": self.policy_version}
        if self.choice is not None:
            payload["c"] = sum(_BITS[category] for category in self.choice)
            payload["t"] = self.chosen_at
        if self.gpc:
            payload["g"] = 1
        if self.limit_sensitive:
            payload["l"] = 1
        return payload

    @classmethod
    def from_payload(cls, payload: object) -> ConsentState | None:
        """The state in a verified payload, or ``None`` when its shape is not ours."""
        if not isinstance(payload, dict):
            return None
        consent_id, version = payload.get("i"), payload.get("v")
        if not isinstance(consent_id, str) or not isinstance(version, str):
            return None
        bits, chosen_at = payload.get("c"), payload.get("t")
        choice: frozenset[Category] | None = None
        if bits is not None:
            if type(bits) is not int or not 0 <= bits <= 7 or type(chosen_at) is not int:
                return None
            choice = _CHOICES[bits]
        return cls(
            consent_id,
            version,
            choice,
            chosen_at if choice is not None else None,
            payload.get("g") == 1,
            payload.get("l") == 1,
        )


class VerifiedCookie(NamedTuple):
    state: ConsentState
    signed_at: float  # Unix time the cookie was signed


class ConsentCookieCodec:
    """Signs and verifies consent cookies, with key rotation.

    ``secret_keys`` lists the keys oldest first and the signing key last (the
    order itsdangerous expects); any of them verifies.
    """

    def __init__(self, secret_keys: Sequence[str | bytes], max_age: int) -> None:
        keys = [key.encode() if isinstance(key, str) else key for key in secret_keys]
        self._serializer = URLSafeTimedSerializer(
            keys,
            salt=_SALT,
            serializer=_CompactJSON,
            signer_kwargs={"digest_method": hashlib.sha1},  # itsdangerous's default, made explicit
        )
        signer = self._serializer.make_signer()
        # Newest key first, as itsdangerous tries them.
        self._macs = tuple(
            hmac.new(signer.derive_key(key), digestmod=hashlib.sha1) for key in reversed(keys)
        )
        self.max_age = max_age

    def dumps(self, state: ConsentState) -> str:
        token = self._serializer.dumps(state.to_payload())
        return token if isinstance(token, str) else token.decode("ascii")

    def loads(self, raw: str | None) -> ConsentState | None:
        """The state in a cookie value, or ``None`` if it is missing, expired, malformed or forged."""
        verified = self.verify(raw)
        if verified is None or not self.is_fresh(verified.signed_at):
            return None
        return verified.state

    def is_fresh(self, signed_at: float) -> bool:
        return time.time() - signed_at <= self.max_age

    def verify(self, raw: str | bytes | None) -> VerifiedCookie | None:
        """The state and signing time in a cookie value, or ``None`` if it is not a valid cookie of ours.

        Expiry is not checked here (see :meth:`is_fresh`), so that the result can be cached.
        """
        if not raw or len(raw) > MAX_COOKIE_LENGTH:
            return None
        try:
            token = raw.encode("utf-8") if isinstance(raw, str) else raw
            signed, _, signature = token.rpartition(b".")
            if not signed:
                return None
            given = _b64decode(signature)
            for keyed in self._macs:
                mac = keyed.copy()
                mac.update(signed)
                if hmac.compare_digest(mac.digest(), given):
                    break
            else:
                return None
            payload, _, timestamp = signed.rpartition(b".")
            if not payload:
                return None
            signed_at = bytes_to_int(_b64decode(timestamp))
            if payload[:1] == b".":  # itsdangerous compressed it, being shorter so
                text = zlib.decompress(_b64decode(payload[1:]))
            else:
                text = _b64decode(payload)
            data = _JSON.decode(text.decode("utf-8"))
            state = ConsentState.from_payload(data)
        except (ValueError, TypeError, IndexError, RecursionError, zlib.error):
            return None  # not a token of ours, or its signed payload is not our JSON
        return None if state is None else VerifiedCookie(state, float(signed_at))


_JSON: Final = json.JSONDecoder()
_URL_SAFE_TO_STANDARD: Final = bytes.maketrans(b"-_", b"+/")


def _b64decode(data: bytes) -> bytes:
    """URL-safe base64 without padding, decoded as itsdangerous's ``base64_decode`` does (stray characters ignored)."""
    return binascii.a2b_base64(data.translate(_URL_SAFE_TO_STANDARD) + b"=" * (-len(data) % 4))


class _CompactJSON:
    """JSON without spaces: the cookie stays well under 200 bytes."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return json.dumps(obj, separators=(",", ":"))

    @staticmethod
    def loads(data: str | bytes) -> Any:
        return json.loads(data)
