"""``ConsentEngine``: the sans-IO heart both adapters drive, one per middleware instance.

For each HTTP request an adapter calls :meth:`ConsentEngine.verdict`, then
either answers from :attr:`routes` / :meth:`handle` (the middleware's own
endpoints) or passes the request to the app, adding :meth:`pass_through`'s
headers to the app's response when the verdict is not ``plain``. It never sees
``scope``, ``environ`` or I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple

from ..core.consent import Consent, Mode
from ..core.consent_cookie import MAX_COOKIE_LENGTH, ConsentState
from ..core.events import ConsentEvent, EventKind
from ..core.gpc import is_gpc_signal
from ..core.request import Headers, Request
from ..enforcement.cookie_filter import expire_refused_cookies
from .consent_endpoint import VARY, Call, ConsentEndpoints, Outcome, Route
from .csp_reports import CSPReportEndpoint
from .decision import Decision, effective_consent
from .policy import ConsentPolicy
from .widget_routes import WidgetEndpoints

logger = logging.getLogger("gpc_middleware")

RawHeaders = list[tuple[bytes, bytes]] | Callable[[], list[tuple[bytes, bytes]]]
HeaderPairs = tuple[tuple[bytes, bytes], ...]

#: How many distinct (cookie header, signal, mode) verdicts are kept; about 1 KiB each at most.
CACHE_SIZE = 4096
#: Cookie headers up to this long have their verdict cached; longer ones only their cookie's.
MAX_CACHED_HEADER = 1024


class Verdict(NamedTuple):
    """What the middleware decided about a request, and what the response to it gets added.

    Everything here follows from the ``Cookie`` header, the signal and the mode,
    so it is worked out once per distinct triple and cached (only the expiry of
    the cookie, checked against ``expires_at``, depends on the time).
    """

    decision: Decision
    expires_at: float  # when the consent cookie expires (Unix time); infinity without one
    refused_cookies: tuple[str, ...]  # cookies the browser sent that this consent refuses
    added: HeaderPairs  # header pairs every response gets: the IAB cookie when it is stale
    plain: bool  # nothing to add to the response: the adapters skip :meth:`pass_through`


class _Resolved(NamedTuple):
    decision: Decision
    signed_at: float | None


@dataclass(frozen=True, slots=True)
class Amendment:
    """What the middleware adds to a response of the app: header pairs, and the events it records."""

    headers: HeaderPairs = ()  # raw pairs, as the response filter takes them
    events: tuple[ConsentEvent, ...] = ()


class ConsentEngine:
    """Decisions, endpoints and consent events for one :class:`ConsentPolicy`."""

    def __init__(self, policy: ConsentPolicy) -> None:
        if not isinstance(policy, ConsentPolicy):
            raise TypeError(f"policy must be a ConsentPolicy, not {type(policy).__name__}")
        self.policy = policy
        self._endpoints = ConsentEndpoints(policy, self.make_event)
        #: The middleware's own endpoints, by path.
        routes = {**self._endpoints.routes, **WidgetEndpoints(policy, self._endpoints).routes}
        if policy.csp_reports is not None:
            routes.update(CSPReportEndpoint(policy.endpoint_path, policy.csp_reports).routes)
        self.routes: Mapping[str, Route] = MappingProxyType(routes)
        ua_key = (
            policy.secret_key
            if isinstance(policy.secret_key, bytes)
            else policy.secret_key.encode()
        )
        self._fixed_mode: Mode | None = None if callable(policy.mode) else policy.mode
        self._max_age = policy.cookie_max_age
        # A visitor sends the same Cookie header again and again, and verifying the
        # signature in it costs 10 to 50 µs: verdicts are cached in a bounded LRU
        # keyed by the exact header (with the signal and the mode). Expiry is still
        # checked on every hit, against the expiry time kept in the verdict. A
        # long header is not kept; its consent cookie's decision is.
        self._verdicts = lru_cache(maxsize=CACHE_SIZE)(self._verdict_uncached)
        self._resolve = lru_cache(maxsize=CACHE_SIZE)(self._resolve_uncached)
        self._ua_key = hashlib.sha256(b"gpc_middleware.user-agent\x00" + ua_key).digest()

    def verdict(
        self, cookie_header: bytes | None, gpc_header: bytes | None, raw_headers: RawHeaders
    ) -> Verdict:
        """The verdict on a request (precedence rules: ``decision.py``).

        ``cookie_header`` and ``gpc_header`` are the raw ``Cookie`` and ``Sec-GPC``
        values (repeats joined). ``raw_headers``, lower-case byte pairs
        or a function that makes them, are read only by a mode resolver.
        """
        mode = self._fixed_mode or self.policy.mode_for(
            Headers.from_lowercase_raw(raw_headers)
            if isinstance(raw_headers, list)
            else Headers.deferred(raw_headers)
        )
        if cookie_header is not None and len(cookie_header) > MAX_CACHED_HEADER:
            verdict = self._verdict_uncached(cookie_header, gpc_header, mode)
        else:
            verdict = self._verdicts(cookie_header, gpc_header, mode)
        if verdict.expires_at < time.time():
            # Expired: as if there were no cookie (a rare path, so not cached).
            return self._verdict_uncached(cookie_header, gpc_header, mode, expired=True)
        return verdict

    def _verdict_uncached(
        self,
        cookie_header: bytes | None,
        gpc_header: bytes | None,
        mode: Mode,
        *,
        expired: bool = False,
    ) -> Verdict:
        policy = self.policy
        signal = gpc_header is not None and (
            gpc_header == b"1" or is_gpc_signal(gpc_header.decode("latin-1"))
        )
        token = policy.read_cookie(cookie_header) if cookie_header and not expired else None
        if token is not None and len(token) > MAX_COOKIE_LENGTH:
            token = None  # not ours; and not worth a cache entry
        decision, signed_at = self._resolve(token, mode, signal)
        expires_at = _NEVER if signed_at is None else signed_at + self._max_age
        allowed = decision.consent.allowed
        refused: tuple[str, ...] = ()
        if policy.clear_refused_cookies and cookie_header and len(allowed) < 4:
            refused = policy.refused_cookie_names(cookie_header, allowed)
        added: HeaderPairs = ()
        if policy.iab_signals:
            wanted = decision.consent.us_privacy
            sent = policy.read_us_privacy(cookie_header) if cookie_header else None
            if sent != wanted.encode("ascii"):
                added = ((b"set-cookie", policy.us_privacy_cookie(wanted).encode("latin-1")),)
        plain = not (decision.record_gpc or refused or added)
        return Verdict(decision, expires_at, refused, added, plain)

    def _resolve_uncached(self, token: bytes | None, mode: Mode, signal: bool) -> _Resolved:
        verified = self.policy.codec.verify(token) if token else None
        state = verified.state if verified is not None else None
        consent = effective_consent(self.policy, state, mode=mode, signal=signal)
        decision = Decision(consent, state, mode, signal and not (state is not None and state.gpc))
        return _Resolved(decision, verified.signed_at if verified is not None else None)

    def cache_clear(self) -> None:
        """Forget every verified cookie (the next request with each pays for verification again)."""
        self._verdicts.cache_clear()
        self._resolve.cache_clear()

    def handle(
        self, route: Route, request: Request, decision: Decision, body: bytes = b""
    ) -> Outcome:
        return route.handler(Call(self.policy, request, decision, body))

    def pass_through(self, verdict: Verdict, request: Request) -> Amendment:
        """Headers to add to the app's response, and the events it produces.

        The first response to a request with a GPC signal records the signal in
        the consent cookie, so later requests without it stay opted out. Cookies
        of refused categories that the browser sent are expired, host-only and for
        the host and the site's domain (tags set theirs on ``.example.com``), within
        a bounded number of bytes (see ``cookie_filter.expire_refused_cookies``).
        """
        if verdict.plain:
            return _NOTHING
        policy = self.policy
        decision = verdict.decision
        headers = list(verdict.added)
        if verdict.refused_cookies:
            expiries = expire_refused_cookies(
                verdict.refused_cookies,
                request.host,
                decision.consent.allowed,
                policy.catalog,
                essential_names=policy.essential_cookie_names,
                cookie_domain=policy.cookie_domain,
            )
            headers.extend((b"set-cookie", value.encode("latin-1")) for value in expiries)
        if not decision.record_gpc:
            return Amendment(tuple(headers))
        state = decision.recorded_state(policy)
        cookie = policy.set_cookie_header(policy.codec.dumps(state))
        event = self.make_event("gpc", request, decision, state, decision.consent, chosen=None)
        # The cookie depends on the signal: no cache may give it to another visitor.
        headers += ((b"set-cookie", cookie.encode("latin-1")), _VARY_RAW)
        return Amendment(tuple(headers), (event,))

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
            time=datetime.now(UTC),
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
_NEVER = float("inf")
_VARY_RAW = (VARY[0].encode("latin-1"), VARY[1].encode("latin-1"))
