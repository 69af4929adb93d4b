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
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from .consent import Consent
from .consent_cookie import ConsentState
from .decision import Decision, decide
from .endpoint import VARY, Call, ConsentEndpoints, Outcome, Route
from .events import ConsentEvent, EventKind
from .policy import ConsentPolicy
from .request import Request

logger = logging.getLogger("gpc_middleware")


@dataclass(frozen=True, slots=True)
class Amendment:
    """What the middleware adds to a response of the app: header pairs, and the events it records."""

    headers: tuple[tuple[str, str], ...] = ()
    events: tuple[ConsentEvent, ...] = ()


class ConsentEngine:
    """Decisions, endpoints and consent events for one :class:`ConsentPolicy`."""

    def __init__(self, policy: ConsentPolicy) -> None:
        if not isinstance(policy, ConsentPolicy):
            raise TypeError(f"policy must be a ConsentPolicy, not {type(policy).__name__}")
        self.policy = policy
        self._endpoints = ConsentEndpoints(policy, self.make_event)
        self._routes = self._endpoints.routes
        ua_key = (
            policy.secret_key
            if isinstance(policy.secret_key, bytes)
            else policy.secret_key.encode()
        )
        self._ua_key = hashlib.sha256(b"gpc_middleware.user-agent\x00" + ua_key).digest()

    def decide(self, request: Request) -> Decision:
        return decide(self.policy, request)

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
        return Amendment((("Set-Cookie", cookie), VARY), (event,))

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
        """Call ``policy.on_change`` for each event; return what it returned that must be awaited.

        A failing callback is logged, never raised into the visitor's request:
        the visitor's choice is already made and answered.
        """
        callback = self.policy.on_change
        if callback is None or not events:
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
