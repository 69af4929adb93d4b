"""``{endpoint_path}/csp-report``: where browsers report what the CSP wall refused (or would refuse).

Two formats arrive here (CSP Level 3, section 5, "Reporting", and its deprecated form):

- the Reporting API (``report-to``; our policy does not use it, see the README, but a
  site may point its own ``Reporting-Endpoints`` here):
  ``Content-Type: application/reports+json``, a JSON array of reports, those of
  ``"type": "csp-violation"`` with a ``body`` holding ``blockedURL``,
  ``effectiveDirective`` and ``documentURL``;
- ``report-uri`` (what our policy names): ``Content-Type: application/csp-report`` (or
  ``application/json``),
  one object ``{"csp-report": {"blocked-uri", "effective-directive", "document-uri"}}``.

Each report is reduced to a :class:`~gpc_middleware.records.csp_hosts.BlockedLoad`
(the blocked host, the directive, the page's path), and only when the blocked URL
is an ``http(s)``/``ws(s)`` URL whose host is a valid host name: inline code,
``eval`` and schemes are not third parties. The endpoint is not an amplifier:
bodies are at most 16 KiB, at most :data:`MAX_REPORTS_PER_BODY` reports are read
from one, requests past a token bucket (:data:`RATE` a second, bursts of
:data:`BURST`) get ``429``, and the store counts distinct triples within a bound.
Reports are accepted from the site's own pages only (``Sec-Fetch-Site`` same-origin
or same-site, else ``Origin``/``Referer``); a non-browser client can still forge
them, so what they name is a suggestion to review, never configuration.
Bad input gets a ``4xx`` with ``{"error": ...}``, never a ``5xx``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Final
from urllib.parse import quote, urlsplit

from ..core.csrf import is_same_origin
from ..core.request import OWS, Request
from ..core.response import Response, error_response
from ..enforcement.csp import valid_host
from ..records.csp_hosts import BlockedLoad, HostReportStore
from .consent_endpoint import MAX_BODY_SIZE, MAX_JSON_DEPTH, Call, Outcome, Route, json_nests_deeper

#: Reports read from one request body; the rest are ignored.
MAX_REPORTS_PER_BODY: Final = 100
#: Requests a second the endpoint accepts on average, and in a burst.
RATE: Final = 20.0
BURST: Final = 100
#: The longest page path kept (percent-encoded).
MAX_PAGE_LENGTH: Final = 200

_LEGACY_TYPES: Final = frozenset({"application/csp-report", "application/json"})
_REPORTING_TYPE: Final = "application/reports+json"
_FETCHING_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
_DIRECTIVE: Final = re.compile(r"[a-z][a-z-]{0,39}")
_NO_STORE: Final = ("Cache-Control", "no-store")


class TokenBucket:
    """At most ``rate`` events a second on average, ``burst`` at once; the clock is passed in."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()  # WSGI servers call from many threads

    def take(self) -> bool:
        """Whether one more event is allowed now (and count it if so)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class ReportError(ValueError):
    """A report body that is not one (answered with its ``status``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_reports(content_type: str | None, body: bytes) -> list[BlockedLoad]:
    """The third-party loads a report body names (``ReportError`` for a body that is not a report)."""
    media_type = (content_type or "").split(";", 1)[0].strip(OWS).lower()
    if media_type not in _LEGACY_TYPES and media_type != _REPORTING_TYPE:
        raise ReportError(415, "send application/reports+json or application/csp-report")
    if len(body) > MAX_BODY_SIZE:
        raise ReportError(413, f"the body is larger than {MAX_BODY_SIZE} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportError(400, "the body is not UTF-8 JSON") from None
    if json_nests_deeper(text, MAX_JSON_DEPTH):
        raise ReportError(400, f"the body is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        raise ReportError(400, "the body is not valid JSON") from None
    bodies: list[object]
    if isinstance(payload, list):  # the Reporting API sends a batch
        bodies = [
            report.get("body")
            for report in payload[:MAX_REPORTS_PER_BODY]
            if isinstance(report, dict) and report.get("type") == "csp-violation"
        ]
        keys = ("blockedURL", "effectiveDirective", "documentURL")
    elif isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        bodies = [payload["csp-report"]]
        keys = ("blocked-uri", "effective-directive", "document-uri")
    else:
        raise ReportError(400, "not a CSP violation report")
    loads = []
    for report in bodies:
        if isinstance(report, dict):
            load = _blocked_load(*(report.get(key) for key in keys))
            if load is not None:
                loads.append(load)
    return loads


def _blocked_load(blocked: object, directive: object, document: object) -> BlockedLoad | None:
    if not isinstance(blocked, str) or len(blocked) > 4096:
        return None
    try:
        parts = urlsplit(blocked.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in _FETCHING_SCHEMES or not host:
        return None
    written = valid_host(host)
    if written is None:
        return None
    if not isinstance(directive, str) or not _DIRECTIVE.fullmatch(directive):
        directive = "unknown"
    page = "/"
    if isinstance(document, str) and len(document) <= 4096:
        try:
            path = urlsplit(document.strip()).path or "/"
        except ValueError:
            path = "/"
        # Printable ASCII only: the path is shown in a terminal by ``gpc-middleware hosts``.
        page = quote(path, safe="/%-._~!$&'()*+,;=:@")[:MAX_PAGE_LENGTH]
    return BlockedLoad(written, directive, page)


def from_own_pages(request: Request) -> bool:
    """Whether a report comes from the site's pages: same-site fetch metadata, else Origin/Referer."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.strip(OWS).lower() in ("same-origin", "same-site")
    return is_same_origin(request)


class CSPReportEndpoint:
    """The report route of one policy, counting into ``store``."""

    def __init__(
        self,
        endpoint_path: str,
        store: HostReportStore,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._bucket = TokenBucket(RATE, BURST, clock)
        self.routes: dict[str, Route] = {
            f"{endpoint_path}/csp-report": Route(self.report, frozenset({"POST"}))
        }

    def report(self, call: Call) -> Outcome:
        request = call.request
        if request.method != "POST":
            return Outcome(error_response(405, "method not allowed", [("Allow", "POST")]))
        if not from_own_pages(request):
            return Outcome(error_response(403, "cross-site report refused"))
        if not self._bucket.take():
            return Outcome(error_response(429, "too many reports", [("Retry-After", "1")]))
        try:
            loads = parse_reports(request.headers.get("content-type"), call.body)
        except ReportError as exc:
            return Outcome(error_response(exc.status, str(exc)))
        if loads:
            self.store.add(loads)
        return Outcome(Response(204, [_NO_STORE]))
