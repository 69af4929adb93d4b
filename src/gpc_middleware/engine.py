"""``ConsentEngine``: the sans-IO heart both adapters drive, one per middleware instance.

For each HTTP request an adapter calls :meth:`ConsentEngine.decide`, then
either answers from :meth:`route` / :meth:`handle` (the middleware's own
endpoints) or passes the request to the app and adds :meth:`pass_through`'s
headers to the app's response. It never sees ``scope``, ``environ`` or I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import NamedTuple

from .consent import Consent, Mode
from .consent_cookie import MAX_COOKIE_LENGTH, ConsentState
from .decision import Decision, effective_consent
from .endpoint import VARY, Call, ConsentEndpoints, Outcome, Route
from .events import ConsentEvent, EventKind
from .gpc import is_gpc_signal
from .policy import ConsentPolicy
from .request import Headers, Request
from .widget_endpoints import WidgetEndpoints

logger = logging.getLogger("gpc_middleware")

RawHeaders = list[tuple[bytes, bytes]] | Callable[[], list[tuple[bytes, bytes]]]

#: How many distinct (cookie, mode, signal) decisions are kept; about 1 KiB each at most.
CACHE_SIZE = 4096
#: Cookie headers up to this long have their consent cookie's position cached.
MAX_CACHED_HEADER = 1024


class _Resolved(NamedTuple):
    decision: Decision
    signed_at: float | None  # when the cookie was signed; None without a valid cookie


@dataclass(frozen=True, slots=True)
class Amendment:
    """What the middleware adds to a response of the app: header pairs, and the events it records."""

    headers: tuple[tuple[bytes, bytes], ...] = ()  # raw pairs, as the response filter takes them
    events: tuple[ConsentEvent, ...] = ()


class ConsentEngine:
    """Decisions, endpoints and consent events for one :class:`ConsentPolicy`."""

    def __init__(self, policy: ConsentPolicy) -> None:
        if not isinstance(policy, ConsentPolicy):
            raise TypeError(f"policy must be a ConsentPolicy, not {type(policy).__name__}")
        self.policy = policy
        self._endpoints = ConsentEndpoints(policy, self.make_event)
        self._routes = {
            **self._endpoints.routes,
            **WidgetEndpoints(policy, self._endpoints).routes,
        }
        ua_key = (
            policy.secret_key
            if isinstance(policy.secret_key, bytes)
            else policy.secret_key.encode()
        )
        self._fixed_mode: Mode | None = None if callable(policy.mode) else policy.mode
        # Finding our cookie in the header costs more than looking the header up: a visitor
        # sends the same Cookie header again and again.
        self._read_cookie = policy.read_cookie
        self._read_cookie_cached = lru_cache(maxsize=CACHE_SIZE)(policy.read_cookie)
        self._max_age = policy.cookie_max_age
        # A visitor sends the same cookie on every request, and verifying its
        # signature costs 20 to 50 µs: decisions are cached in a bounded LRU keyed
        # by the exact cookie string (with the mode and the signal). Expiry is
        # still checked on every hit, against the signing time kept beside it.
        self._resolve = lru_cache(maxsize=CACHE_SIZE)(self._resolve_uncached)
        self._ua_key = hashlib.sha256(b"gpc_middleware.user-agent\x00" + ua_key).digest()

    def decide(
        self, cookie_header: bytes | None, gpc_header: bytes | None, raw_headers: RawHeaders
    ) -> Decision:
        """Resolve the effective consent of a request (precedence rules: ``decision.py``).

        ``cookie_header`` and ``gpc_header`` are the raw ``Cookie`` and ``Sec-GPC``
        values (see :func:`scan_headers`). ``raw_headers``, lower-case byte pairs
        or a function that makes them, are read only by a mode resolver.
        """
        mode = self._fixed_mode or self.policy.mode_for(
            Headers.from_lowercase_raw(raw_headers)
            if isinstance(raw_headers, list)
            else Headers.deferred(raw_headers)
        )
        signal = gpc_header is not None and (
            gpc_header == b"1" or is_gpc_signal(gpc_header.decode("latin-1"))
        )
        if not cookie_header:
            token = None
        elif len(cookie_header) <= MAX_CACHED_HEADER:
            token = self._read_cookie_cached(cookie_header)
        else:  # a long header is read, not kept: the cache stays a few MiB at most
            token = self._read_cookie(cookie_header)
        if token is not None and len(token) > MAX_COOKIE_LENGTH:
            token = None  # not ours; and not worth a cache entry
        resolved = self._resolve(token, mode, signal)
        if resolved.signed_at is not None and time.time() - resolved.signed_at > self._max_age:
            resolved = self._resolve(None, mode, signal)  # expired: as if there were no cookie
        return resolved.decision

    def _resolve_uncached(self, token: bytes | None, mode: Mode, signal: bool) -> _Resolved:
        verified = self.policy.codec.verify(token.decode("latin-1")) if token else None
        state = verified.state if verified is not None else None
        consent = effective_consent(self.policy, state, mode=mode, signal=signal)
        decision = Decision(consent, state, mode, signal and not (state is not None and state.gpc))
        return _Resolved(decision, verified.signed_at if verified is not None else None)

    def cache_clear(self) -> None:
        """Forget every verified cookie (the next request with each pays for verification again)."""
        self._read_cookie_cached.cache_clear()
        self._resolve.cache_clear()

    def route(self, path: str) -> Route | None:
        """The middleware's own endpoint at ``path``, or ``None`` for the app's paths."""
        return self._routes.get(path)

    def handle(
        self, route: Route, request: Request, decision: Decision, body: bytes = b""
    ) -> Outcome:
        return route.handler(Call(self.policy, request, decision, body))

    def pass_through(self, request: Request, decision: Decision) -> Amendment:
        """Headers to add to the app's response, and the events it produces.

        The first response to a request with a GPC signal records the signal in
        the consent cookie, so later requests without it stay opted out.
        """
        if not decision.record_gpc:
            return _NOTHING
        state = decision.recorded_state(self.policy)
        cookie = self.policy.set_cookie_header(self.policy.codec.dumps(state))
        event = self.make_event("gpc", request, decision, state, decision.consent, chosen=None)
        # The cookie depends on the signal: no cache may give it to another visitor.
        return Amendment(((b"set-cookie", cookie.encode("latin-1")), _VARY_RAW), (event,))

    def make_event(
        self,
        kind: EventKind,
        request: Request,
        decision: Decision,
        state: ConsentState,
        consent: Consent,
        *,
        chosen: Mapping[str, bool] | None,
    ) -> ConsentEvent:
        user_agent = request.headers.get("user-agent")
        return ConsentEvent(
            kind=kind,
            consent_id=state.consent_id,
            time=datetime.now(timezone.utc),
            policy_version=self.policy.policy_version,
            mode=decision.mode,
            source=consent.source,
            gpc=consent.gpc,
            chosen=chosen,
            effective={name: on for name, on in consent.categories.items()},
            limit_sensitive=consent.limit_sensitive,
            user_agent_hash=self._hash_user_agent(user_agent) if user_agent else None,
        )

    def _hash_user_agent(self, user_agent: str) -> str:
        # Keyed, so that a leaked log cannot be matched against a table of user agents.
        return hmac.new(self._ua_key, user_agent.encode("utf-8", "replace"), "sha256").hexdigest()[
            :32
        ]

    def notify(self, events: tuple[ConsentEvent, ...]) -> list[Awaitable[None]]:
        """Record each event in the consent log and call ``policy.on_change`` with it.

        Returns what ``on_change`` returned that must be awaited.

        A failing callback is logged, never raised into the visitor's request:
        the visitor's choice is already made and answered.
        """
        if not events:
            return []
        recorder = self.policy.recorder
        if recorder is not None:
            for event in events:
                recorder(event)  # queues only; never blocks, never raises
        callback = self.policy.on_change
        if callback is None:
            return []
        pending: list[Awaitable[None]] = []
        for event in events:
            try:
                result = callback(event)
            except Exception:
                logger.exception("on_change callback failed for a %r event", event.kind)
                continue
            if inspect.isawaitable(result):
                pending.append(_logged(result, event.kind))
        return pending


async def _logged(awaitable: Awaitable[None], kind: str) -> None:
    try:
        await awaitable
    except Exception:
        logger.exception("on_change callback failed for a %r event", kind)


_NOTHING = Amendment()
_VARY_RAW = (VARY[0].encode("latin-1"), VARY[1].encode("latin-1"))
