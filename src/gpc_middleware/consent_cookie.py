"""The signed consent cookie: what it holds and how it is signed, verified and cached.

The cookie is a compact itsdangerous ``URLSafeTimedSerializer`` token over a
small JSON object. It is strictly necessary (it stores the visitor's choice and
a recorded GPC opt-out), so it is set without asking, and it is ``HttpOnly``:
the widget reads the state through the JSON endpoint, never from the cookie.

Verification costs 20 to 50 µs; the engine caches verified values (see
``engine.py``), and this module stays a plain, uncached codec.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from itsdangerous import BadData, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, bytes_to_int

from .categories import Category

_SALT: Final = "gpc_middleware.consent"
#: Our cookie is under 300 bytes; a longer value is not ours and is not verified (nor cached).
MAX_COOKIE_LENGTH: Final = 1024
_BITS: Final[Mapping[Category, int]] = {"analytics": 1, "preference": 2, "targeting": 4}


def new_consent_id() -> str:
    """A random, unguessable id that ties a visitor's consent records together."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class ConsentState:
    """What the consent cookie records.

    ``choice`` is ``None`` while the visitor has made no choice (the cookie may
    still exist, to record a GPC opt-out). ``choice`` holds the optional
    categories the visitor allowed, under ``policy_version``.
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
            choice = frozenset(c for c, bit in _BITS.items() if bits & bit)
        return cls(
            consent_id=consent_id,
            policy_version=version,
            choice=choice,
            chosen_at=chosen_at if choice is not None else None,
            gpc=payload.get("g") == 1,
            limit_sensitive=payload.get("l") == 1,
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
        self._serializer = URLSafeTimedSerializer(keys, salt=_SALT, serializer=_CompactJSON)
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

    def verify(self, raw: str | None) -> VerifiedCookie | None:
        """The state and signing time in a cookie value, or ``None`` if it is not a valid cookie of ours.

        Expiry is not checked here (see :meth:`is_fresh`), so that the result can be cached.
        """
        if not raw or len(raw) > MAX_COOKIE_LENGTH:
            return None
        try:
            payload = self._serializer.loads(raw)
            # The signature covers the timestamp; read it from the token rather than have
            # itsdangerous build a datetime (a third of the verification's cost).
            signed_at = bytes_to_int(base64_decode(raw.rsplit(".", 2)[1]))
        except BadData:  # BadSignature, BadTimeSignature, BadPayload (not a BadSignature) alike
            return None
        except (ValueError, TypeError, UnicodeError, IndexError):  # nothing raw may escape
            return None
        state = ConsentState.from_payload(payload)
        return None if state is None else VerifiedCookie(state, float(signed_at))


class _CompactJSON:
    """JSON without spaces: the cookie stays well under 200 bytes."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return json.dumps(obj, separators=(",", ":"))

    @staticmethod
    def loads(data: str | bytes) -> Any:
        return json.loads(data)
