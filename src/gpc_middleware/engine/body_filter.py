"""The body of one response the middleware changes, and the status and headers it goes out with.

How it works
------------
:func:`~gpc_middleware.engine.response_filter.filter_response_start` gives an
adapter a :class:`BodyFilter` for a body it must not pass as it is. The adapter
feeds each chunk of the app's body through :meth:`~BodyFilter.feed`, sends what
comes back, and ends with :meth:`~BodyFilter.close`. It sends the response's
start (:meth:`~BodyFilter.start`: the status and the headers) before the first
bytes that come out, or at the end with the exact length when it held the whole
body. Four kinds:

- :class:`HTMLRewrite`: a document rewritten as it streams (decoded and encoded
  again when compressed), the widget's tag put before its ``</body>``
  (:mod:`.script_placement`).
- :class:`SniffedBody`: a response without a usable ``Content-Type``. Browsers
  sniff such a body, so it is held (at most :data:`~.media_types.SNIFF_LIMIT`
  decoded bytes) until it shows whether a browser would render it as a document;
  then it is rewritten, or let through byte for byte with its own headers.
- :class:`HeadBody`: the body an app sends for a ``HEAD`` anyway, counted to give the
  ``Content-Length`` a ``GET`` gets, and dropped.
- :class:`ErrorBody`: a ``502`` in place of a document that cannot be filtered (a
  ``Content-Encoding`` this process cannot decode, a partial range of a page).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ..enforcement.content_coding import Codec
from ..enforcement.media_types import SNIFF_LIMIT, sniff_document, sniffed_xml
from ..enforcement.rewriter import RemovalEvent, TagStripper, consent_mode_snippet
from .script_placement import BodyEndPlacement

if TYPE_CHECKING:
    from ..core.consent import Consent
    from .policy import ConsentPolicy

logger = logging.getLogger("gpc_middleware")

RawHeaders = list[tuple[bytes, bytes]]


class BodyFilter(Protocol):
    """What an adapter drives for a body that does not pass as it is."""

    #: The app's ``Content-Length`` (of the body before filtering), if it sent one.
    declared_length: int | None

    @property
    def decided(self) -> bool:
        """Whether :meth:`start` is final (false only while a body is being sniffed)."""
        ...

    @property
    def buffers_whole_body(self) -> bool:
        """Whether the adapter must hold the whole output before it starts the response."""
        ...

    def feed(self, chunk: bytes) -> bytes:
        """The output bytes that are final so far (maybe none)."""
        ...

    def close(self) -> bytes:
        """The rest of the output, after the app's last chunk."""
        ...

    def start(self, length: int | None) -> tuple[int, RawHeaders]:
        """The status and headers to send; ``length``: the whole output's, when the adapter held it."""
        ...


@functools.lru_cache(maxsize=16)
def _consent_defaults(allowed: frozenset[str] | None) -> bytes:
    """The Consent Mode defaults for a visitor who allows ``allowed`` (``None``: the same
    for every visitor), made once per set of categories (at most eight, and one)."""
    if allowed is None:
        return consent_mode_snippet({}, wait_for_update=500)
    return consent_mode_snippet({category: True for category in allowed})


class HTMLRewrite:
    """One document, rewritten as it streams."""

    __slots__ = (
        "_codec",
        "_headers",
        "_inject",
        "_placement",
        "_policy",
        "_removals",
        "_status",
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
        status: int = 200,
        headers: RawHeaders | None = None,
        declared_length: int | None = None,
        charset: str | None = None,
        xml: bool = False,
    ) -> None:
        self.declared_length = declared_length
        self._status = status
        self._headers: RawHeaders = headers if headers is not None else []
        neutralize = policy.html_mode == "neutralize"
        snippet = None
        if policy.google_consent_mode:
            # Neutralize mode serves one page to every visitor: the defaults must not depend on
            # this one (all denied; the widget sends the visitor's state as an update).
            snippet = _consent_defaults(None if neutralize else consent.allowed)
        self._policy = policy
        self._codec = codec
        self._inject = inject
        self._placement = BodyEndPlacement(charset) if inject is not None else None
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
            charset=charset,
            xml=xml,
        )
        self.suppressed = 0

    decided = True

    @property
    def buffers_whole_body(self) -> bool:
        # Only to send the suppression count (a debugging header) before the body.
        return self._policy.suppressed_header is not None

    def feed(self, chunk: bytes) -> bytes:
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
        out = stripper.feed(data)
        if self._placement is not None:
            out = self._placement.feed(out)
        return codec.encode(out) if codec is not None else out

    def close(self) -> bytes:
        stripper = self._stripper
        if stripper is None:
            return b""
        out = stripper.close()
        if self._placement is not None and self._inject is not None:
            # Before </body> when the page has one (its own markup stays byte for byte as it
            # was); else after the document, where browsers run it as part of <body>.
            out = self._placement.feed(out)
            out += self._placement.close(self._inject, stripper.encoded(self._inject))
        self.suppressed = stripper.removed
        if self._removals:
            for event in self._removals:
                logger.debug(
                    "%s <%s> (%s): %s", event.action, event.tag, event.category, event.reason
                )
        if self._codec is not None:
            return self._codec.encode(out) + self._codec.finish()
        return out

    def start(self, length: int | None) -> tuple[int, RawHeaders]:
        if length is None:
            return self._status, self._headers
        headers = [*self._headers, (b"content-length", b"%d" % length)]
        name = self._policy.suppressed_header
        if name is not None:
            headers.append((name.encode("latin-1"), str(self.suppressed).encode("ascii")))
        return self._status, headers


class SniffedBody:
    """A body without a usable ``Content-Type``: held until it shows what a browser makes of it.

    ``rewrite(xml)`` makes the :class:`HTMLRewrite` for a document, with the headers a
    rewritten page gets (``xml``: it starts with ``<?xml``, an XML document to
    browsers); otherwise the held bytes and the rest pass as they are, with ``headers``. Should the adapter need the start before the body has shown
    enough (a WSGI error page, a Django streaming response), the body is taken for
    a document: the cautious side.
    """

    __slots__ = (
        "_codec",
        "_decoded",
        "_has_length",
        "_headers",
        "_held",
        "_inner",
        "_passes",
        "_pending",
        "_rewrite",
        "_status",
        "declared_length",
    )

    def __init__(
        self,
        status: int,
        headers: RawHeaders,
        codec: Codec | None,
        rewrite: Callable[[bool], HTMLRewrite],
        *,
        declared_length: int | None = None,
    ) -> None:
        self.declared_length = declared_length
        self._status = status
        self._headers = headers
        self._has_length = declared_length is not None
        self._codec = codec  # decodes the held bytes for sniffing only
        self._rewrite = rewrite
        self._held: list[bytes] = []
        self._decoded = b""
        self._inner: HTMLRewrite | None = None
        self._passes = False
        self._pending = b""  # output settled by an early start(), for the next feed or close

    @property
    def decided(self) -> bool:
        return self._passes or self._inner is not None

    @property
    def buffers_whole_body(self) -> bool:
        return self._inner is not None and self._inner.buffers_whole_body

    def feed(self, chunk: bytes) -> bytes:
        if self._pending:
            pending, self._pending = self._pending, b""
            return pending + self.feed(chunk)
        if self._inner is not None:
            return self._inner.feed(chunk)
        if self._passes:
            return chunk
        self._held.append(chunk)
        if len(self._decoded) < SNIFF_LIMIT:
            try:
                self._decoded += self._codec.decode(chunk) if self._codec is not None else chunk
            except Exception:  # undecodable for a browser too: it renders nothing of it
                return self._decide(False)
        return self._decide(sniff_document(self._decoded, complete=False))

    def close(self) -> bytes:
        out, self._pending = self._pending, b""
        if not self.decided:
            out += self._decide(sniff_document(self._decoded, complete=True))
        if self._inner is not None:
            return out + self._inner.close()
        return out

    def start(self, length: int | None) -> tuple[int, RawHeaders]:
        if not self.decided:
            self._pending = self._decide(True)
        if self._inner is not None:
            return self._inner.start(length)
        if length is None or self._has_length:
            return self._status, self._headers
        return self._status, [*self._headers, (b"content-length", b"%d" % length)]

    def _decide(self, document: bool | None) -> bytes:
        """Settle what the body is (``None``: not yet); the held output, if it is settled."""
        if document is None:
            return b""
        xml = document and sniffed_xml(self._decoded)
        held, self._held, self._decoded = self._held, [], b""
        if not document:
            self._passes = True
            return b"".join(held)
        inner = self._inner = self._rewrite(xml)
        return b"".join(inner.feed(chunk) for chunk in held)


class HeadBody:
    """The body of a ``HEAD`` response, when the app sends one anyway: rewritten only to
    count it, so that its ``Content-Length`` is the one a ``GET`` gets. Nothing is sent.

    Without a body (most frameworks send none for ``HEAD``) the response has no
    ``Content-Length``: the rewritten length is not known.
    """

    __slots__ = ("_fed", "_inner", "_length", "declared_length")

    decided = True
    buffers_whole_body = True

    def __init__(self, inner: HTMLRewrite) -> None:
        self.declared_length: int | None = None
        self._inner = inner
        self._fed = False
        self._length = 0

    def feed(self, chunk: bytes) -> bytes:
        if chunk:
            self._fed = True
            self._length += len(self._inner.feed(chunk))
        return b""

    def close(self) -> bytes:
        if self._fed:
            self._length += len(self._inner.close())
        return b""

    def start(self, length: int | None) -> tuple[int, RawHeaders]:
        return self._inner.start(self._length if self._fed else None)


class ErrorBody:
    """A ``502`` in place of a document the middleware cannot filter; the app's body is dropped."""

    __slots__ = ("_body", "_headers", "declared_length")

    decided = True
    buffers_whole_body = True

    def __init__(self, headers: RawHeaders, body: bytes, *, head: bool = False) -> None:
        self.declared_length: int | None = None
        self._headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
            (b"cache-control", b"no-store"),
            *headers,
        ]
        self._body = b"" if head else body

    def feed(self, chunk: bytes) -> bytes:
        return b""

    def close(self) -> bytes:
        return self._body

    def start(self, length: int | None) -> tuple[int, RawHeaders]:
        return 502, self._headers
