"""What the middleware does to a response of the app: headers at its start, the body as it streams.

How it works
------------
:func:`filter_response_start` sees the status and headers before anything is
sent, and decides once:

- ``Set-Cookie`` headers whose cookie the catalog (or the policy) puts in a
  category this request does not allow are dropped, one header at a time.
- The headers the engine adds (``extra``: the cookie recording a GPC signal,
  the expiry of refused cookies the browser sent) are appended.
- An HTML body (``text/html``; not for ``HEAD``, ``204``, ``304``) goes through
  a :class:`~gpc_middleware.enforcement.rewriter.TagStripper`: ``Content-Length`` is dropped
  (the length changes), a strong ``ETag`` becomes weak, and, in ``strip`` mode,
  ``Vary: Sec-GPC, Cookie`` is added and ``Cache-Control: private`` unless the
  app chose a ``Cache-Control``. A compressed body is decoded and encoded again
  (``content_coding``), or passed through untouched when the coding is unknown.

Only a body that is rewritten gets a :class:`BodyFilter`, whose :meth:`~BodyFilter.feed`
and :meth:`~BodyFilter.close` carry it through, holding back no more than the
rewriter does (one unfinished element, bounded). Every other response costs one
pass over its headers and no object at all: its body passes through byte for byte.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ..enforcement.content_coding import Codec, codec_for
from ..enforcement.cookie_filter import filter_set_cookies
from ..enforcement.rewriter import RemovalEvent, TagStripper, consent_mode_snippet

if TYPE_CHECKING:
    from ..core.consent import Consent
    from .policy import ConsentPolicy

logger = logging.getLogger("gpc_middleware")

RawHeaders = list[tuple[bytes, bytes]]
_NO_BODY_STATUSES: Final = frozenset({204, 205, 304})
_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/=_-]+)'")
_DOCUMENT_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype|html)", re.IGNORECASE | re.DOTALL
)
# ``text/html``, with or without parameters, in any case (RFC 9110 section 8.3.1).
_HTML_TYPE = re.compile(rb"[ \t]*text/html(?:[ \t;]|\Z)", re.IGNORECASE)
_warned_codings: set[str] = set()


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
) -> tuple[RawHeaders, BodyFilter | None]:
    """The headers to send instead of ``headers`` (the same list when nothing changes), and the
    body filter when the body must be rewritten (``None``: it passes as it is).

    ``extra`` are header pairs the middleware adds (the engine's :class:`~gpc_middleware.engine.consent_engine.Amendment`).
    Called on every response: one pass over the headers, and nothing else unless they need it.
    """
    content_type = content_encoding = b""
    has_set_cookie = False
    for name, value in headers:
        lower = name.lower()
        if lower == b"content-type":
            content_type = value
        elif lower == b"set-cookie":
            has_set_cookie = True
        elif lower == b"content-encoding":
            content_encoding = value
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
    if (
        content_type
        and _HTML_TYPE.match(content_type)
        and policy.html_mode != "off"
        and method != "HEAD"
        and status >= 200
        and status not in _NO_BODY_STATUSES
    ):
        return _start_rewriting(policy, consent, headers, content_encoding)
    return headers, None


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


def _start_rewriting(
    policy: ConsentPolicy, consent: Consent, headers: RawHeaders, content_encoding: bytes
) -> tuple[RawHeaders, BodyFilter | None]:
    codec: Codec | None = None
    if content_encoding and content_encoding.strip().lower() != b"identity":
        coding = content_encoding.decode("latin-1")
        codec = codec_for(coding)
        if codec is None:
            if coding not in _warned_codings:
                _warned_codings.add(coding)
                logger.warning(
                    "HTML with Content-Encoding %r passes through unfiltered: no codec for it here "
                    "(place GPCMiddleware inside the compression middleware)",
                    coding,
                )
            return headers, None
    neutralize = policy.html_mode == "neutralize"
    out: RawHeaders = []
    has_cache_control = False
    csp_nonce: bytes | None = None
    declared_length: int | None = None
    for name, value in headers:
        lower = name.lower()
        if lower == b"content-length":
            # The body changes length. What the app declared tells a WSGI adapter when the
            # first chunk is the whole body, so that the new length can be sent exactly.
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
    if not neutralize:
        # The HTML now depends on the visitor: no shared cache may give it to another.
        out = merge_vary(out, (b"Sec-GPC", b"Cookie"))
        if not has_cache_control:
            out.append((b"cache-control", b"private"))
    inject = (
        policy.widget_tag(csp_nonce.decode("ascii") if csp_nonce else None)
        if policy.inject_widget
        else None
    )
    return out, BodyFilter(policy, consent, codec, inject, declared_length=declared_length)


class BodyFilter:
    """One HTML body, rewritten as it streams (made only for responses that are rewritten)."""

    __slots__ = (
        "_codec",
        "_full_document",
        "_inject",
        "_policy",
        "_removals",
        "_stripper",
        "declared_length",
        "suppressed",
    )

    def __init__(
        self,
        policy: ConsentPolicy,
        consent: Consent,
        codec: Codec | None,
        inject: bytes | None,
        *,
        declared_length: int | None = None,
    ) -> None:
        #: The app's ``Content-Length`` (of the body before rewriting), if it sent one.
        self.declared_length = declared_length
        neutralize = policy.html_mode == "neutralize"
        snippet = None
        if policy.google_consent_mode:
            snippet = consent_mode_snippet({str(k): v for k, v in consent.categories.items()})
        self._policy = policy
        self._codec = codec
        self._inject = inject
        self._full_document: bool | None = None
        self._removals: list[RemovalEvent] | None = (
            []
            if policy.suppressed_header is not None or logger.isEnabledFor(logging.DEBUG)
            else None
        )
        self._stripper: TagStripper | None = TagStripper(
            policy.rewrite_rules,
            () if neutralize else consent.allowed,
            mode="neutralize" if neutralize else "strip",
            consent_mode_snippet=snippet,
            on_remove=self._removals.append if self._removals is not None else None,
        )
        self.suppressed = 0

    def feed(self, chunk: bytes) -> bytes:
        """The rewritten bytes that are final so far (maybe none)."""
        stripper = self._stripper
        if stripper is None:
            return chunk
        codec = self._codec
        try:
            data = codec.decode(chunk) if codec is not None else chunk
        except Exception:  # a corrupt compressed stream: stop decoding, keep the bytes flowing
            logger.warning("could not decode the compressed HTML body; passing the rest through")
            self._stripper = None
            return chunk
        if self._inject is not None and self._full_document is None and data.strip():
            self._full_document = _DOCUMENT_START.match(data) is not None
        out = stripper.feed(data)
        return codec.encode(out) if codec is not None else out

    def close(self) -> bytes:
        """The rest of the body, after the last chunk."""
        stripper = self._stripper
        if stripper is None:
            return b""
        out = stripper.close()
        if self._inject is not None and self._full_document:
            # After the document: browsers run it as part of <body> (a parse error, not a
            # failure), and the page's own markup stays byte for byte as it was.
            out += self._inject
        self.suppressed = stripper.removed
        if self._removals:
            for event in self._removals:
                logger.debug(
                    "%s <%s> (%s): %s", event.action, event.tag, event.category, event.reason
                )
        if self._codec is not None:
            return self._codec.encode(out) + self._codec.finish()
        return out

    @property
    def buffers_whole_body(self) -> bool:
        """Whether the adapter must hold the body to send the suppression count as a header (debugging)."""
        return self._policy.suppressed_header is not None

    def suppressed_header(self) -> tuple[bytes, bytes] | None:
        name = self._policy.suppressed_header
        if name is None:
            return None
        return (name.encode("latin-1"), str(self.suppressed).encode("ascii"))
