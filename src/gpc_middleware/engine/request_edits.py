"""What the middleware changes in a request before the app sees it, so that its answer can be filtered.

How it works
------------
A page is rewritten per visitor, so the app must send it whole and in a coding
the middleware can read. Two request headers would let it do otherwise:

- ``Accept-Encoding``: a coding this process cannot decode (``zstd`` or ``br``
  without their packages, ``dcb``/``dcz`` dictionaries, ``compress``) is removed
  (:func:`~gpc_middleware.enforcement.content_coding.restrict_accept_encoding`),
  so that the app picks one it can, or none.
- ``Range`` and ``If-Range``: removed from a ``GET`` or ``HEAD``, so that the app
  answers the whole page rather than a ``206`` whose bytes the rewrite would move.

Both only where the browser may render the response as a document
(:func:`renders_as_document`): a ``<video>`` keeps its byte ranges, a
``<script>`` its ``br``. With ``html_mode="off"`` nothing is edited.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final, NamedTuple

from ..enforcement.content_coding import restrict_accept_encoding

# Fetch destinations whose response is never rendered as a document that runs scripts
# (Fetch standard, "request destination"). "xslt" is not one: its output is a document;
# "empty" (fetch, XMLHttpRequest) is not either: pages insert fetched HTML (htmx).
NON_DOCUMENT_DESTINATIONS: Final = frozenset(
    {
        b"audio",
        b"audioworklet",
        b"font",
        b"image",
        b"json",
        b"manifest",
        b"paintworklet",
        b"report",
        b"script",
        b"serviceworker",
        b"sharedworker",
        b"style",
        b"track",
        b"video",
        b"webidentity",
        b"worker",
    }
)
_RANGED_METHODS: Final = frozenset({"GET", "HEAD"})


class RequestEdits(NamedTuple):
    """The changes to make to one request's headers."""

    accept_encoding: bytes | None  # the new Accept-Encoding value; None: unchanged
    drop_range: bool  # remove Range and If-Range


def renders_as_document(fetch_dest: bytes | None) -> bool:
    """Whether the response may be rendered as a document, from the request's ``Sec-Fetch-Dest``.

    Without the header (a browser older than the header, or not a browser) it may.
    """
    if fetch_dest is None or fetch_dest == b"document":
        return True
    if fetch_dest in NON_DOCUMENT_DESTINATIONS:
        return False
    return fetch_dest.strip(b" \t").lower() not in NON_DOCUMENT_DESTINATIONS


def edit_request(
    method: str, accept_encoding: bytes | None, has_range: bool, as_document: bool
) -> RequestEdits | None:
    """The edits for a request with these headers (repeats of ``Accept-Encoding`` joined), or
    ``None`` when it goes to the app as it is. ``as_document``: :func:`renders_as_document`."""
    if not as_document or (accept_encoding is None and not has_range):
        return None
    new_encoding = (
        restrict_accept_encoding(accept_encoding) if accept_encoding is not None else None
    )
    drop_range = has_range and method in _RANGED_METHODS
    if new_encoding is None and not drop_range:
        return None
    return RequestEdits(new_encoding, drop_range)


def edited_headers(
    raw: list[tuple[bytes, bytes]], edits: RequestEdits
) -> list[tuple[bytes, bytes]]:
    """ASGI: a new list of lower-case header pairs with ``edits`` applied."""
    out: list[tuple[bytes, bytes]] = []
    for name, value in raw:
        if name == b"accept-encoding" and edits.accept_encoding is not None:
            continue
        if edits.drop_range and name in (b"range", b"if-range"):
            continue
        out.append((name, value))
    if edits.accept_encoding is not None:
        out.append((b"accept-encoding", edits.accept_encoding))
    return out


def edit_environ(environ: MutableMapping[str, Any], edits: RequestEdits) -> None:
    """WSGI (and Django's ``META``): apply ``edits`` to the CGI-style variables in place."""
    if edits.accept_encoding is not None:
        environ["HTTP_ACCEPT_ENCODING"] = edits.accept_encoding.decode("latin-1")
    if edits.drop_range:
        environ.pop("HTTP_RANGE", None)
        environ.pop("HTTP_IF_RANGE", None)


def edit_environ_request(environ: MutableMapping[str, Any]) -> bool:
    """Edit a WSGI environ (or Django's ``META``) in place; whether its response may be a document."""
    dest = environ.get("HTTP_SEC_FETCH_DEST")
    as_document = dest is None or renders_as_document(dest.encode("latin-1"))
    accept = environ.get("HTTP_ACCEPT_ENCODING")
    has_range = "HTTP_RANGE" in environ
    if as_document and (accept is not None or has_range):
        edits = edit_request(
            str(environ.get("REQUEST_METHOD", "GET")),
            accept.encode("latin-1") if accept is not None else None,
            has_range,
            as_document,
        )
        if edits is not None:
            edit_environ(environ, edits)
    return as_document
