"""The HTTP surface the middleware serves itself: the consent JSON endpoint and gpc.json.

Handlers are pure: they take a :class:`Call` (policy, request, decision, body)
and return an :class:`Outcome` (a plain response and the consent events the
change produced). The adapters only read the body and send the response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from ..core.categories import CATEGORIES, OPTIONAL_CATEGORIES, Category
from ..core.consent import Consent
from ..core.consent_cookie import ConsentState, new_consent_id
from ..core.csrf import is_same_origin
from ..core.events import ConsentEvent, EventKind
from ..core.iab import iab_signals
from ..core.request import OWS, Request
from ..core.response import Response, error_response, json_response
from .decision import Decision, effective_consent, state_with_choice
from .policy import ConsentPolicy

#: The largest request body an endpoint reads (a consent choice is a few dozen bytes).
MAX_BODY_SIZE: Final = 16 * 1024
#: The deepest nesting of a JSON body read (a consent choice has two levels).
MAX_JSON_DEPTH: Final = 8
# A complete string (skipped whole), a bracket, or a quote that starts an unterminated string.
_JSON_TOKENS: Final = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]|"', re.DOTALL)
VARY: Final = ("Vary", "Sec-GPC, Cookie")
_STATE_METHODS: Final = frozenset({"PUT", "POST", "DELETE"})


@dataclass(frozen=True, slots=True)
class Call:
    """One request to an endpoint of the middleware."""

    policy: ConsentPolicy
    request: Request
    decision: Decision
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an endpoint answers, and the consent changes it made (for ``on_change`` and the log)."""

    response: Response
    events: tuple[ConsentEvent, ...] = ()


Handler = Callable[[Call], Outcome]


@dataclass(frozen=True, slots=True)
class Change:
    """A recorded change of consent: the new state, its effect, the cookie that stores it, its event."""

    state: ConsentState
    consent: Consent
    cookie: tuple[str, str]
    events: tuple[ConsentEvent, ...]


class EventFactory(Protocol):
    def __call__(
        self,
        kind: EventKind,
        request: Request,
        decision: Decision,
        state: ConsentState,
        consent: Consent,
        *,
        chosen: Mapping[str, bool] | None,
    ) -> ConsentEvent: ...


@dataclass(frozen=True, slots=True)
class Route:
    """An endpoint: its handler and the methods whose body it needs read first."""

    handler: Handler
    body_methods: frozenset[str] = frozenset()

    def reads_body(self, method: str) -> bool:
        return method in self.body_methods


def body_timeout_response(seconds: float) -> Response:
    """``408``: the body of a request to an endpoint did not arrive within ``body_timeout``."""
    return error_response(408, f"the body did not arrive within {seconds:g} seconds", [VARY])


class ChoiceError(ValueError):
    """A consent choice that is well-formed JSON but not a valid choice (answered with 422)."""


def parse_choice(payload: object) -> tuple[frozenset[Category], bool | None]:
    """The optional categories allowed by a JSON choice, and an optional ``limit_sensitive``.

    Accepted forms: ``{"categories": {"analytics": true, ...}}`` (categories
    omitted stay off; ``essential`` may only be sent as ``true``), ``{"all": true}``
    and ``{"all": false}``; either may add ``"limit_sensitive": bool``.
    """
    if not isinstance(payload, dict):
        raise ChoiceError("the body must be a JSON object")
    unknown = set(payload) - {"categories", "all", "limit_sensitive"}
    if unknown:
        raise ChoiceError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    limit_sensitive = payload.get("limit_sensitive")
    if limit_sensitive is not None and not isinstance(limit_sensitive, bool):
        raise ChoiceError("'limit_sensitive' must be true or false")
    if ("all" in payload) == ("categories" in payload):
        raise ChoiceError("send exactly one of 'categories' or 'all'")
    if "all" in payload:
        if not isinstance(payload["all"], bool):
            raise ChoiceError("'all' must be true or false")
        return (frozenset(OPTIONAL_CATEGORIES) if payload["all"] else frozenset()), limit_sensitive
    categories = payload["categories"]
    if not isinstance(categories, dict):
        raise ChoiceError("'categories' must be an object of category names to true/false")
    allowed: set[Category] = set()
    for name, value in categories.items():
        if name not in CATEGORIES:
            raise ChoiceError(f"unknown category {name!r}; expected one of {', '.join(CATEGORIES)}")
        if not isinstance(value, bool):
            raise ChoiceError(f"the value of {name!r} must be true or false")
        if name == "essential":
            if not value:
                raise ChoiceError("'essential' cannot be refused")
        elif value:
            allowed.add(name)
    return frozenset(allowed), limit_sensitive


def is_json_content_type(value: str | None) -> bool:
    if value is None:
        return False
    media_type = value.split(";", 1)[0].strip(OWS).lower()
    return media_type == "application/json"


def json_nests_deeper(text: str, limit: int) -> bool:
    """Whether the arrays and objects of a JSON text nest more than ``limit`` levels deep.

    ``json.loads`` recurses once per level: 2 KB of ``[`` exhaust the interpreter's
    recursion limit (a ``RecursionError``, or a crash where the limit was raised), so the
    depth is found first, without parsing. Brackets inside strings do not count; an
    unterminated string ends the count, as it ends what a parser would read. Linear in
    the length of ``text``.
    """
    depth = 0
    for match in _JSON_TOKENS.finditer(text):  # lazily: the loop stops early
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
        elif token == '"':
            break  # an unterminated string: nothing after it is read as JSON
    return False


class ConsentEndpoints:
    """The routes of one policy: ``/.well-known/gpc.json`` and ``{endpoint_path}``."""

    def __init__(self, policy: ConsentPolicy, make_event: EventFactory) -> None:
        self._policy = policy
        self.make_event = make_event
        self.routes: dict[str, Route] = {
            policy.endpoint_path: Route(self.consent, frozenset({"PUT", "POST"})),
        }
        if policy.gpc_json is not None:
            self.routes["/.well-known/gpc.json"] = Route(self.gpc_json)

    def body(self, consent: Consent) -> dict[str, object]:
        """The endpoint's JSON for ``consent``; with ``iab_signals``, also the IAB strings."""
        body = consent.to_json()
        if self._policy.iab_signals:
            signals = iab_signals(consent)
            body["iab"] = {"usprivacy": signals.usprivacy, "gpp": signals.gpp}
        return body

    def iab_cookie(self, consent: Consent) -> list[tuple[str, str]]:
        """With ``iab_signals``, the ``usprivacy`` cookie for ``consent``: a choice's own
        response carries it, so the next page (or a no-JavaScript form's redirect) is right."""
        if not self._policy.iab_signals:
            return []
        return [("Set-Cookie", self._policy.us_privacy_cookie(consent.us_privacy))]

    def gpc_json(self, call: Call) -> Outcome:
        """``/.well-known/gpc.json`` (GPC specification section 3.4): the same for every visitor."""
        if call.request.method not in ("GET", "HEAD"):
            return Outcome(error_response(405, "method not allowed", [("Allow", "GET, HEAD")]))
        body = self._policy.gpc_json or b""
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "public, max-age=86400"),
            ("Access-Control-Allow-Origin", "*"),  # readable by checkers and extensions
        ]
        return Outcome(Response(200, headers, b"" if call.request.method == "HEAD" else body))

    def consent(self, call: Call) -> Outcome:
        """``{endpoint_path}``: read (GET), choose (PUT, POST) or withdraw (DELETE) consent."""
        method = call.request.method
        if method in ("GET", "HEAD"):
            return self._read(call)
        if method not in _STATE_METHODS:
            return Outcome(
                error_response(
                    405, "method not allowed", [("Allow", "GET, HEAD, PUT, POST, DELETE"), VARY]
                )
            )
        if not is_same_origin(call.request):
            return Outcome(error_response(403, "cross-site request refused", [VARY]))
        if method == "DELETE":
            return self._withdraw(call)
        return self._choose(call)

    def _read(self, call: Call) -> Outcome:
        decision = call.decision
        headers = [VARY]
        events: tuple[ConsentEvent, ...] = ()
        if decision.record_gpc:
            state = decision.recorded_state(self._policy)
            headers.append(
                ("Set-Cookie", self._policy.set_cookie_header(self._policy.codec.dumps(state)))
            )
            events = (
                self.make_event(
                    "gpc", call.request, decision, state, decision.consent, chosen=None
                ),
            )
        response = json_response(200, self.body(decision.consent), headers)
        if call.request.method == "HEAD":
            response = Response(response.status, response.headers, b"")
        return Outcome(response, events)

    def _choose(self, call: Call) -> Outcome:
        if len(call.body) > MAX_BODY_SIZE:
            return Outcome(
                error_response(413, f"the body is larger than {MAX_BODY_SIZE} bytes", [VARY])
            )
        if not is_json_content_type(call.request.headers.get("content-type")):
            return Outcome(error_response(415, "send the choice as application/json", [VARY]))
        try:
            # UTF-8, -16 or -32, as json.loads(bytes) reads it (RFC 8259 section 8.1)
            text = call.body.decode(json.detect_encoding(call.body), "surrogatepass")
        except UnicodeDecodeError:
            return Outcome(error_response(400, "the body is not valid JSON", [VARY]))
        if json_nests_deeper(text, MAX_JSON_DEPTH):
            return Outcome(
                error_response(
                    400, f"the body is nested more than {MAX_JSON_DEPTH} levels deep", [VARY]
                )
            )
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):  # defence in depth: the nesting is bounded above
            return Outcome(error_response(400, "the body is not valid JSON", [VARY]))
        try:
            choice, limit_sensitive = parse_choice(payload)
        except ChoiceError as exc:
            return Outcome(error_response(422, str(exc), [VARY]))
        return self.apply_choice(call, choice, limit_sensitive=limit_sensitive)

    def apply_choice(
        self, call: Call, choice: frozenset[Category], *, limit_sensitive: bool | None = None
    ) -> Outcome:
        """Record ``choice`` for the visitor of ``call``; answer with the new effective state."""
        change = self.record_choice(call, choice, limit_sensitive=limit_sensitive)
        headers = [VARY, change.cookie, *self.iab_cookie(change.consent)]
        return Outcome(json_response(200, self.body(change.consent), headers), change.events)

    def record_choice(
        self,
        call: Call,
        choice: frozenset[Category],
        *,
        limit_sensitive: bool | None = None,
        kind: EventKind = "choice",
    ) -> Change:
        """The new state, consent, cookie and event after the visitor of ``call`` chose ``choice``."""
        decision = call.decision
        signal = decision.consent.gpc
        state = state_with_choice(
            decision.state, self._policy, choice, signal=signal, limit_sensitive=limit_sensitive
        )
        consent = effective_consent(self._policy, state, mode=decision.mode, signal=signal)
        chosen: dict[str, bool] = {c: c in choice for c in OPTIONAL_CATEGORIES}
        event = self.make_event(kind, call.request, decision, state, consent, chosen=chosen)
        cookie = ("Set-Cookie", self._policy.set_cookie_header(self._policy.codec.dumps(state)))
        return Change(state, consent, cookie, (event,))

    def _withdraw(self, call: Call) -> Outcome:
        # Withdrawing consent forgets the choice but never a GPC opt-out: without
        # its record, an opt-out site would turn targeting back on (section 7025(c)(5)).
        decision = call.decision
        keep_gpc = decision.consent.gpc or (decision.state is not None and decision.state.gpc)
        state: ConsentState | None = None
        if keep_gpc:
            state = ConsentState(
                consent_id=decision.state.consent_id if decision.state else new_consent_id(),
                policy_version=self._policy.policy_version,
                gpc=True,
            )
            cookie = self._policy.set_cookie_header(self._policy.codec.dumps(state))
        else:
            cookie = self._policy.clear_cookie_header()
        consent = effective_consent(
            self._policy, state, mode=decision.mode, signal=decision.consent.gpc
        )
        event_state = state or decision.state
        events: tuple[ConsentEvent, ...] = ()
        if event_state is not None:  # nothing was recorded, so nothing is withdrawn
            events = (
                self.make_event(
                    "withdrawal", call.request, decision, event_state, consent, chosen=None
                ),
            )
        headers = [VARY, ("Set-Cookie", cookie), *self.iab_cookie(consent)]
        return Outcome(json_response(200, self.body(consent), headers), events)
