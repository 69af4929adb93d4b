"""The cookie-settings widget's routes: settings and do-not-sell pages, their forms, script, styles, config.

Served under ``{endpoint_path}``, beside the JSON endpoint:

- ``GET /settings`` and ``GET /do-not-sell``: standalone pages that work without
  JavaScript; ``POST`` to the same paths handles their forms (CSRF: a form token
  bound to the visitor's consent id, plus the same-origin check) and answers
  ``303`` back to the page, which then shows its confirmation.
- ``GET /widget.js``, ``/widget.css``: the script and styles a site includes with one tag.
- ``GET /widget.json``: the script's texts, in the negotiated language, and the state.

Handlers are pure, like those of ``endpoint.py``: a :class:`Call` in, an :class:`Outcome` out.
"""

from __future__ import annotations

import html
import secrets
from typing import Final, Literal
from urllib.parse import parse_qs, quote

from ..core.categories import OPTIONAL_CATEGORIES
from ..core.consent import Consent
from ..core.consent_cookie import ConsentState, new_consent_id
from ..core.csrf import is_same_origin
from ..core.events import ConsentEvent, EventKind
from ..core.iab import iab_signals
from ..core.request import OWS
from ..core.response import Response, error_response
from ..widget.assets import widget_assets
from ..widget.config import render_widget_config
from ..widget.i18n import negotiate_language
from ..widget.pages import render_do_not_sell_page, render_settings_page
from ..widget.settings_form import SettingsFormError, parse_settings_form
from ..widget.state import WidgetState
from .consent_endpoint import VARY, Call, ConsentEndpoints, Outcome, Route
from .decision import effective_consent, state_with_gpc
from .policy import ConsentPolicy

_PAGE_VARY: Final = ("Vary", "Sec-GPC, Cookie, Accept-Language")
_FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
#: The largest form body read: a settings form is a few hundred bytes.
MAX_FORM_SIZE: Final = 8 * 1024


def page_security_headers(nonce: str) -> list[tuple[str, str]]:
    """Headers of the standalone pages: nothing loads but the page's own inline code and widget.js.

    ``frame-ancestors 'none'``: a consent page inside another site's frame
    could be click-jacked into "Accept all".
    """
    policy = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return [
        ("Content-Security-Policy", policy),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-store"),  # the page carries a form token
        _PAGE_VARY,
    ]


def widget_state(consent: Consent) -> WidgetState:
    """The widget's view of ``consent``: the JSON endpoint's body, which it mirrors field for field."""
    return WidgetState.from_json_dict(consent.to_json())


class WidgetEndpoints:
    """The widget's routes for one policy; state changes go through the JSON endpoint's logic."""

    def __init__(self, policy: ConsentPolicy, consent_endpoints: ConsentEndpoints) -> None:
        self._policy = policy
        self._consent = consent_endpoints
        base = policy.endpoint_path
        self.routes: dict[str, Route] = {
            f"{base}/settings": Route(self.settings, frozenset({"POST"})),
            f"{base}/do-not-sell": Route(self.do_not_sell, frozenset({"POST"})),
            f"{base}/widget.json": Route(self.config),
        }
        for name in widget_assets():
            self.routes[f"{base}/{name}"] = Route(self.asset)

    # --- pages -------------------------------------------------------------------------------

    def settings(self, call: Call) -> Outcome:
        return self._page_or_form(call, "settings")

    def do_not_sell(self, call: Call) -> Outcome:
        return self._page_or_form(call, "do-not-sell")

    def _page_or_form(self, call: Call, page: Literal["settings", "do-not-sell"]) -> Outcome:
        method = call.request.method
        if method in ("GET", "HEAD"):
            return self._page(call, page)
        if method == "POST":
            return self._form(call, page)
        return Outcome(error_response(405, "method not allowed", [("Allow", "GET, HEAD, POST")]))

    def _language(self, call: Call, page: str | None = None) -> str:
        """The one rule for widget.json and the pages (:func:`negotiate_language`): the
        site's ``language``, else the visitor's ``Accept-Language``, else the page's
        ``<html lang>`` (``?lang=``), else the first catalog."""
        policy = self._policy
        return negotiate_language(
            call.request.headers.get("accept-language"),
            policy.catalogs,
            default=next(iter(policy.catalogs)),
            override=policy.language,
            page=page,
        )

    def _page(self, call: Call, page: Literal["settings", "do-not-sell"]) -> Outcome:
        policy = self._policy
        query = parse_qs(call.request.query_string, max_num_fields=8)
        # The form token is bound to a consent id: a first-time visitor gets one now,
        # in the strictly necessary consent cookie (no choice is recorded).
        state, headers, events = self._ensure_state(call)
        language = self._language(call, _first(query, "lang"))
        nonce = secrets.token_urlsafe(16)
        state_view = widget_state(call.decision.consent)
        texts = policy.catalogs[language]
        token = policy.form_tokens.issue(state.consent_id)
        next_url = _first(query, "next") or "/"
        if page == "settings":
            body = render_settings_page(
                state=state_view,
                texts=texts,
                language=language,
                endpoint=policy.endpoint_path,
                csrf_token=token,
                next_url=next_url,
                nonce=nonce,
                saved=_first(query, "saved") == "1",
                privacy_policy_url=policy.privacy_policy_url,
            )
        else:
            confirmed = _first(query, "confirmed")
            body = render_do_not_sell_page(
                state=state_view,
                texts=texts,
                language=language,
                endpoint=policy.endpoint_path,
                csrf_token=token,
                next_url=next_url,
                nonce=nonce,
                confirmed=(
                    "do_not_sell"
                    if confirmed == "do_not_sell"
                    else "limit_sensitive"
                    if confirmed == "limit_sensitive"
                    else None
                ),
                privacy_policy_url=policy.privacy_policy_url,
            )
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *page_security_headers(nonce),
            *headers,
        ]
        if call.request.method == "HEAD":
            body = b""
        return Outcome(Response(200, headers, body), events)

    def _ensure_state(
        self, call: Call
    ) -> tuple[ConsentState, list[tuple[str, str]], tuple[ConsentEvent, ...]]:
        """The visitor's state, creating (and setting) one if there is none or it must record GPC."""
        decision = call.decision
        state = decision.state
        events: tuple[ConsentEvent, ...] = ()
        if decision.record_gpc:
            state = decision.recorded_state(self._policy)
            events = (
                self._consent.make_event(
                    "gpc", call.request, decision, state, decision.consent, chosen=None
                ),
            )
        elif state is not None and state.policy_version == self._policy.policy_version:
            return state, [], ()
        elif state is not None:
            state = state_with_gpc(
                state, self._policy, gpc=state.gpc
            )  # re-versioned, choice dropped
        else:
            state = ConsentState(
                consent_id=new_consent_id(), policy_version=self._policy.policy_version
            )
        cookie = self._policy.set_cookie_header(self._policy.codec.dumps(state))
        return state, [("Set-Cookie", cookie)], events

    def _form(self, call: Call, page: Literal["settings", "do-not-sell"]) -> Outcome:
        policy = self._policy
        request = call.request
        if not is_same_origin(request):
            return Outcome(_html_error(403, "This form was sent from another site.", policy, page))
        if len(call.body) > MAX_FORM_SIZE:
            return Outcome(_html_error(413, "The form is too large.", policy, page))
        content_type = request.headers.get("content-type") or ""
        content_type = content_type.split(";", 1)[0].strip(OWS).lower()
        if content_type != _FORM_CONTENT_TYPE:
            return Outcome(_html_error(415, "The form was not sent as a form.", policy, page))
        try:
            form = parse_settings_form(call.body)
        except SettingsFormError as exc:
            return Outcome(_html_error(400, f"The form could not be read: {exc}.", policy, page))
        state = call.decision.state
        if state is None or not policy.form_tokens.check(form.csrf_token, state.consent_id):
            return Outcome(
                _html_error(403, "This form has expired. Please open the page again.", policy, page)
            )
        if page == "settings" and form.action not in ("save", "accept_all", "reject_all"):
            return Outcome(_html_error(400, "That action belongs to another page.", policy, page))
        if page == "do-not-sell" and form.action not in ("do_not_sell", "limit_sensitive"):
            return Outcome(_html_error(400, "That action belongs to another page.", policy, page))

        current = call.decision.consent
        choice = frozenset(
            c for c in OPTIONAL_CATEGORIES if form.categories.get(c, current.categories[c])
        )
        kind: EventKind = "choice"
        if form.action == "do_not_sell" or form.action == "limit_sensitive":
            kind = form.action
        change = self._consent.record_choice(
            call,
            choice,
            limit_sensitive=True if form.limit_sensitive else None,
            kind=kind,
        )
        next_url = quote(form.next_url, safe="/")
        if page == "settings":
            location = f"{policy.endpoint_path}/settings?saved=1&next={next_url}"
        else:
            location = f"{policy.endpoint_path}/do-not-sell?confirmed={form.action}&next={next_url}"
        headers = [("Location", location), ("Cache-Control", "no-store"), VARY, change.cookie]
        headers += self._consent.iab_cookie(change.consent)
        return Outcome(Response(303, headers), change.events)

    # --- script, styles, config ------------------------------------------------------------

    def asset(self, call: Call) -> Outcome:
        if call.request.method not in ("GET", "HEAD"):
            return Outcome(error_response(405, "method not allowed", [("Allow", "GET, HEAD")]))
        name = call.request.path.rsplit("/", 1)[1]
        asset = widget_assets()[name]
        versioned = (
            _first(parse_qs(call.request.query_string, max_num_fields=4), "v") == asset.digest
        )
        # Compressed when the client accepts it (gzip, br), with its own ETag and length.
        coding, body = asset.representation(call.request.headers.get("accept-encoding"))
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in asset.headers(versioned=versioned, coding=coding)
        ]
        if_none_match = call.request.headers.get("if-none-match")
        if if_none_match is not None and asset.etag_for(coding) in {
            t.strip(OWS) for t in if_none_match.split(",")
        }:
            headers = [
                (k, v)
                for k, v in headers
                if k.lower() not in ("content-length", "content-type", "content-encoding")
            ]
            return Outcome(Response(304, headers))
        return Outcome(Response(200, headers, b"" if call.request.method == "HEAD" else body))

    def config(self, call: Call) -> Outcome:
        if call.request.method not in ("GET", "HEAD"):
            return Outcome(error_response(405, "method not allowed", [("Allow", "GET, HEAD")]))
        query = parse_qs(call.request.query_string, max_num_fields=4)
        language = self._language(call, _first(query, "lang"))
        body = render_widget_config(
            state=widget_state(call.decision.consent),
            texts=self._policy.catalogs[language],
            language=language,
            endpoint=self._policy.endpoint_path,
            privacy_policy_url=self._policy.privacy_policy_url,
            iab=self._iab(call),
            google_consent_mode=self._policy.google_consent_mode,
        )
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            _PAGE_VARY,
        ]
        return Outcome(Response(200, headers, b"" if call.request.method == "HEAD" else body))

    def _iab(self, call: Call) -> dict[str, object] | None:
        """The IAB signals for the widget's CMP APIs; also those for a GPC signal the
        browser gives only to scripts (``navigator.globalPrivacyControl``, no header)."""
        if not self._policy.iab_signals:
            return None
        decision = call.decision
        signals = iab_signals(decision.consent).to_json()
        if not decision.consent.gpc:
            with_gpc = effective_consent(
                self._policy, decision.state, mode=decision.mode, signal=True
            )
            signals["gpc"] = iab_signals(with_gpc).to_json()
        return signals


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _html_error(
    status: int, message: str, policy: ConsentPolicy, page: Literal["settings", "do-not-sell"]
) -> Response:
    """A small page for a form that could not be handled: what went wrong and a way back."""
    back = html.escape(f"{policy.endpoint_path}/{page}")
    body = (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{status}</title><p>{html.escape(message)}</p>"
        f'<p><a href="{back}">Back to the page</a></p></html>'
    ).encode()
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return Response(status, headers, body)
