"""What the middleware does to a response of the app: headers at its start, the body as it streams.

How it works
------------
:func:`filter_response_start` sees the status and headers before anything is
sent, and decides once:

- ``Set-Cookie`` headers whose cookie the catalog (or the policy) puts in a
  category this request does not allow are dropped, one header at a time.
- The headers the engine adds (``extra``: the cookie recording a GPC signal,
  the expiry of refused cookies the browser sent) are appended.
- Unless ``html_mode="off"``: ``Link`` link-values that preload, prefetch or
  connect to a refused tracker, and a ``Refresh`` to one, are removed
  (:mod:`~gpc_middleware.enforcement.loading_headers`).
- A body a browser would render as a document that runs scripts
  (:mod:`~gpc_middleware.enforcement.media_types`: ``text/html``, the XML types,
  or no usable ``Content-Type`` and a body that sniffs as HTML) goes through a
  :class:`~.body_filter.BodyFilter`: ``Content-Length``, ``Accept-Ranges`` and
  ``Content-Range`` are dropped (the bytes change, per visitor), a strong ``ETag``
  becomes weak, and, in ``strip`` mode, ``Vary: Sec-GPC, Cookie`` is added and
  ``Cache-Control: private`` unless the app chose a ``Cache-Control``. A
  compressed body is decoded and encoded again (``content_coding``). A ``HEAD``
  gets the same headers, without a body to filter.
- A document that cannot be filtered -- its ``Content-Encoding`` cannot be
  decoded here, or it is a partial range (``206``) -- is answered ``502`` rather
  than delivered unfiltered. The adapters prevent both by editing the request
  (:mod:`.request_edits`), so this is left for apps that ignore the request's
  headers. A ``206`` that covers the whole page is rewritten as a ``200``. For a
  request whose response the browser will not render as a document (``as_document``
  false: ``Sec-Fetch-Dest: video``, ``script``, ...), such a body passes as it is.

Every other response costs one pass over its headers and no object at all: its
body passes through byte for byte.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ..enforcement.content_coding import Codec, codec_for
from ..enforcement.cookie_filter import filter_set_cookies
from ..enforcement.loading_headers import filter_link_header, refresh_target, refused_url
from ..enforcement.media_types import DocumentKind, charset_of, classify_content_type
from .body_filter import BodyFilter, ErrorBody, HeadBody, HTMLRewrite, SniffedBody

if TYPE_CHECKING:
    from ..core.categories import Category
    from ..core.consent import Consent
    from .policy import ConsentPolicy

__all__ = ["BodyFilter", "filter_response_start", "merge_vary"]

logger = logging.getLogger("gpc_middleware")

RawHeaders = list[tuple[bytes, bytes]]
_NO_BODY_STATUSES: Final = frozenset({204, 205, 304})
_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/=_-]+)'")
_WHOLE_RANGE = re.compile(rb"[ \t]*bytes[ \t]+0-([0-9]{1,18})/([0-9]{1,18})[ \t]*", re.IGNORECASE)
# The response headers the first pass looks at, by length (all different): a header of
# another length is only copied, without lower-casing its name.
_INSPECTED: Final = {
    len(name): name
    for name in (
        b"content-type",
        b"set-cookie",
        b"content-encoding",
        b"x-content-type-options",
        b"link",
        b"refresh",
    )
}
# Headers a rewritten body makes untrue: its length, and byte ranges of it.
_LENGTH_AND_RANGES: Final = frozenset({b"content-length", b"accept-ranges", b"content-range"})
_UNFILTERABLE = (
    b"502 Bad Gateway: this page could not be checked for the visitor's privacy choices.\n"
)


def merge_vary(headers: RawHeaders, tokens: tuple[bytes, ...]) -> RawHeaders:
    """``headers`` with ``tokens`` added to ``Vary`` (never overwritten; ``*`` already covers all).

    The tokens join the first ``Vary`` header there is, so that a response carries one
    (a compression middleware inside has often set ``Vary: Accept-Encoding``).
    """
    present: set[bytes] = set()
    first = -1
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if first < 0:
                first = index
            present.update(part.strip().lower() for part in value.split(b","))
    if b"*" in present:
        return headers
    missing: list[bytes] = []
    for token in tokens:
        if token.lower() not in present:
            present.add(token.lower())
            missing.append(token)
    if not missing:
        return headers
    if first < 0:
        return [*headers, (b"vary", b", ".join(missing))]
    out = list(headers)
    name, value = out[first]
    out[first] = (name, b", ".join([value, *missing]) if value.strip() else b", ".join(missing))
    return out


def filter_response_start(
    policy: ConsentPolicy,
    consent: Consent,
    method: str,
    status: int,
    headers: RawHeaders,
    extra: Sequence[tuple[bytes, bytes]],
    *,
    as_document: bool = True,
) -> tuple[RawHeaders, BodyFilter | None]:
    """The headers to send instead of ``headers`` (the same list when nothing changes), and the
    body filter when the body must not pass as it is (``None``: it does).

    With a body filter, the status and headers actually sent are the filter's
    :meth:`~.body_filter.BodyFilter.start`. ``extra`` are header pairs the middleware
    adds (the engine's :class:`~gpc_middleware.engine.consent_engine.Amendment`).
    ``as_document``: whether the browser may render the response as a document
    (see :func:`.request_edits.renders_as_document`). Called on every response: one
    pass over the headers, and nothing else unless they need it.
    """
    content_type: bytes | None = None
    content_types: list[bytes] | None = None  # only when there are several
    content_encoding = b""
    has_set_cookie = loads = nosniff = False
    for name, value in headers:
        inspected = _INSPECTED.get(len(name))
        if inspected is not None and name.lower() == inspected:
            lower = inspected
            if lower == b"content-type":
                if content_type is None:
                    content_type = value
                else:
                    content_types = [*(content_types or (content_type,)), value]
            elif lower == b"set-cookie":
                has_set_cookie = True
            elif lower == b"content-encoding":
                content_encoding = (
                    value if not content_encoding else content_encoding + b"," + value
                )
            elif lower == b"x-content-type-options":
                # Fetch, "determine nosniff": the first value of the list decides.
                nosniff = nosniff or value.split(b",")[0].strip(b" \t").lower() == b"nosniff"
            else:
                loads = True
    if has_set_cookie and policy.filter_set_cookies:
        headers = _filter_set_cookies(policy, consent, headers)
    if extra:
        # Our Vary tokens join the response's own Vary header: one header, not two.
        headers = [*headers, *(pair for pair in extra if pair[0].lower() != b"vary")]
        vary = [
            token.strip()
            for name, value in extra
            if name.lower() == b"vary"
            for token in value.split(b",")
            if token.strip()
        ]
        if vary:
            headers = merge_vary(headers, tuple(vary))
    if policy.html_mode == "off":
        return headers, None
    if loads:
        headers = _filter_loading_headers(policy, consent, headers)
    if status < 200 or status in _NO_BODY_STATUSES:
        return headers, None
    kind: DocumentKind | None
    if content_types is not None:
        kind = classify_content_type(content_types)
    elif content_type is None:
        kind = "unknown"
    else:
        kind = _kinds.get(content_type)  # every response asks: a dict look-up, no call
        if kind is None:
            kind = _kind_of(content_type)
    if kind == "other" or (kind == "unknown" and (nosniff or method == "HEAD")):
        return headers, None
    charset = None
    if content_type is not None:
        charset = charset_of(content_types if content_types is not None else (content_type,))
    return _filter_document(
        policy, consent, method, status, headers, kind, content_encoding, as_document, charset
    )


def _filter_document(
    policy: ConsentPolicy,
    consent: Consent,
    method: str,
    status: int,
    headers: RawHeaders,
    kind: DocumentKind,
    content_encoding: bytes,
    as_document: bool,
    charset: str | None,
) -> tuple[RawHeaders, BodyFilter | None]:
    """The second half of :func:`filter_response_start`, for a body that may be a document.

    (Apart, so that the closures here cost nothing on the responses that are not.)
    """
    if status == 206:
        if method == "HEAD" or not as_document:
            return headers, None  # never rendered as a document: the range stays true
        if not _covers_whole(headers):
            return headers, _unfilterable(headers, method, "a partial range (206) of a page")
        status = 200  # the whole page after all: rewritten, it is an ordinary 200
    codec = None
    coding = content_encoding.decode("latin-1")
    if coding.strip(" \t").lower() not in ("", "identity"):
        codec = codec_for(coding)
        if codec is None:
            if not as_document:
                return headers, None
            return headers, _unfilterable(headers, method, f"Content-Encoding {coding!r}")
    rewritten, csp_nonce, declared_length = _rewritten_headers(policy, headers, consent.allowed)
    inject = None
    if policy.inject_widget:
        inject = policy.widget_tag(csp_nonce.decode("ascii") if csp_nonce else None)

    def rewrite(codec: Codec | None, xml: bool = kind == "xml") -> HTMLRewrite:
        return HTMLRewrite(
            policy,
            consent,
            codec,
            None if xml else inject,  # after an XML document's root element, a tag breaks it
            status=status,
            headers=rewritten,
            declared_length=declared_length,
            charset=charset,
            xml=xml,
        )

    if method == "HEAD":  # the headers a GET gets, with its length if the app sent a body
        return rewritten, HeadBody(rewrite(codec))
    if kind == "unknown":
        # Sniffing decodes the first bytes with a codec of its own; the rewrite gets a fresh one.
        return headers, SniffedBody(
            status,
            headers,
            codec,
            lambda xml: rewrite(codec_for(coding) if codec is not None else None, xml),
            declared_length=declared_length,
        )
    return rewritten, rewrite(codec)


_kinds: dict[bytes, DocumentKind] = {}


def _kind_of(content_type: bytes) -> DocumentKind:
    if len(_kinds) >= 256:
        _kinds.clear()  # bound the memo; a site sends few distinct types
    kind = _kinds[content_type] = classify_content_type([content_type])
    return kind


def _filter_set_cookies(policy: ConsentPolicy, consent: Consent, headers: RawHeaders) -> RawHeaders:
    values = [value for name, value in headers if name.lower() == b"set-cookie"]
    kept, dropped = filter_set_cookies(
        values,
        consent.allowed,
        policy.catalog,
        unknown=policy.unknown_cookies,
        essential_names=policy.essential_cookie_names,
    )
    if dropped and logger.isEnabledFor(logging.DEBUG):
        for value in dropped:
            logger.debug(
                "dropped Set-Cookie %s: category not allowed",
                value.split(b"=", 1)[0].decode("latin-1"),
            )
    out = [(name, value) for name, value in headers if name.lower() != b"set-cookie"]
    return out + [(b"set-cookie", value) for value in kept]


def _filter_loading_headers(
    policy: ConsentPolicy, consent: Consent, headers: RawHeaders
) -> RawHeaders:
    """``headers`` without what loads a refused tracker: ``Link`` link-values, a ``Refresh``."""
    # In neutralize mode a page is the same for everyone: only essential loads stay.
    allowed: frozenset[Category] = (
        consent.allowed if policy.html_mode == "strip" else frozenset({"essential"})
    )
    refused = refused_url(policy.catalog, allowed)
    out: RawHeaders = []
    for name, value in headers:
        lower = name.lower()
        if lower == b"link":
            text = value.decode("latin-1")
            kept = filter_link_header(text, refused)
            if kept is not text:
                logger.debug("removed Link header values to a refused tracker: %s", text)
                if kept is None:
                    continue
                value = kept.encode("latin-1")
        elif lower == b"refresh":
            target = refresh_target(value.decode("latin-1"))
            if target is not None and refused(target):
                logger.debug("removed Refresh to a refused tracker: %s", target)
                continue
        out.append((name, value))
    return out


def _covers_whole(headers: RawHeaders) -> bool:
    """Whether the ``Content-Range`` of a ``206`` is the whole representation (``bytes 0-N/N+1``)."""
    for name, value in headers:
        if name.lower() == b"content-range":
            match = _WHOLE_RANGE.fullmatch(value)
            return match is not None and int(match.group(1)) + 1 == int(match.group(2))
    return False


def _unfilterable(headers: RawHeaders, method: str, what: str) -> ErrorBody:
    # Logged every time: each is a page a visitor did not get.
    logger.warning(
        "a page with %s cannot be filtered: answered 502 instead (the request's "
        "Accept-Encoding and Range were edited to prevent this; the app ignored them)",
        what,
    )
    cookies = [(name, value) for name, value in headers if name.lower() == b"set-cookie"]
    return ErrorBody(cookies, _UNFILTERABLE, head=method == "HEAD")


def _rewritten_headers(
    policy: ConsentPolicy, headers: RawHeaders, allowed: frozenset[Category]
) -> tuple[RawHeaders, bytes | None, int | None]:
    """The headers of a rewritten document, its CSP nonce, and the app's ``Content-Length``."""
    out: RawHeaders = []
    has_cache_control = False
    csp_nonce: bytes | None = None
    declared_length: int | None = None
    for name, value in headers:
        lower = name.lower()
        if lower in _LENGTH_AND_RANGES:
            if lower == b"content-length":
                # What the app declared tells a WSGI adapter when the first chunk is the
                # whole body, so that the new length can be sent exactly.
                declared_length = int(value) if value.strip().isdigit() else None
            continue
        if lower == b"etag" and not value.startswith(b"W/"):
            value = b"W/" + value  # the same page, no longer the same bytes (RFC 9110 8.8.3)
        elif lower == b"cache-control":
            has_cache_control = True
        elif lower == b"content-security-policy" and csp_nonce is None:
            match = _NONCE.search(value)
            csp_nonce = match.group(1) if match else None
        out.append((name, value))
    if policy.html_mode == "strip":
        # The HTML now depends on the visitor: no shared cache may give it to another.
        out = merge_vary(out, (b"Sec-GPC", b"Cookie"))
        if not has_cache_control:
            out.append((b"cache-control", b"private"))
        if policy.csp_wall is not None:
            # Our policy goes beside the app's, never into it: a browser enforces each
            # (CSP3 section 4.1), so the app's own policy keeps all its force.
            out.extend(policy.csp_wall.headers_for(allowed))
    return out, csp_nonce, declared_length
