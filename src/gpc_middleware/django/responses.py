"""Between Django's ``HttpResponse`` and the header pairs and body filter the engine works on.

How it works
------------
The engine's response filter takes and returns header pairs: the app's
headers, its cookies rendered as ``Set-Cookie`` lines, and what the middleware
adds. A Django response keeps one value per header name and sends repeated
lines only from ``response.cookies``, one per morsel: so the filtered pairs
go back as single headers (repeats joined with ``", "``, RFC 9110 section 5.3)
and as morsels, the app's own kept as they were and the middleware's lines
(its consent cookie, the expiry of a refused cookie for the host and for the
site's domain) as :class:`SetCookieLine`, which renders its line unchanged.

The body: an ``HttpResponse`` is whole in hand, so it is rewritten at once and
keeps an exact ``Content-Length``; a ``StreamingHttpResponse`` (sync or async
iterator) is rewritten chunk by chunk as it streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Container, Iterable, Iterator, Sequence
from http import HTTPStatus
from http.cookies import CookieError, Morsel, SimpleCookie

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse

from ..core.consent import Consent
from ..core.response import Response
from ..engine.policy import ConsentPolicy
from ..engine.response_filter import BodyFilter, filter_response_start

Pairs = list[tuple[bytes, bytes]]


class SetCookieLine(Morsel[str]):
    """A ``Set-Cookie`` line the middleware rendered, sent by Django exactly as it is.

    It reads as the cookie it sets (``key``, ``value``), for whatever inspects
    ``response.cookies`` (the test client's jar). Should code outside set the same
    morsel again (``response.set_cookie`` of that name), the new value is rendered.
    """

    def __init__(self, line: str) -> None:
        super().__init__()
        name, _, value = line.split(";", 1)[0].partition("=")
        name, value = name.strip(" \t"), value.strip(" \t")
        try:
            self.set(name, value, value)
        except CookieError:
            # A name Morsel reserves ("path", "expires", ...): the line is still right.
            self._key, self._value, self._coded_value = name, value, value
        self._line = line
        self._sets = (name, value)

    def OutputString(self, attrs: Container[str] | None = None) -> str:
        if (self.key, self.value) != self._sets:
            return super().OutputString(attrs)
        return self._line

    # Pickled with the response by Django's cache framework: the line goes along.
    def __getstate__(self) -> dict[str, str]:
        return {
            "key": self.key,
            "value": self.value,
            "coded_value": self.coded_value,
            "line": self._line,
        }

    def __setstate__(self, state: dict[str, str]) -> None:
        self._key, self._value, self._coded_value = (
            state["key"],
            state["value"],
            state["coded_value"],
        )
        self._line = state["line"]
        self._sets = (state["key"], state["value"])


def header_pairs(response: HttpResponseBase) -> Pairs:
    """The response's headers as the engine reads them: its own, then one pair per cookie."""
    pairs = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
    pairs += [
        (b"set-cookie", m.OutputString().encode("latin-1")) for m in response.cookies.values()
    ]
    return pairs


def replace_headers(response: HttpResponseBase, pairs: Sequence[tuple[bytes, bytes]]) -> None:
    """Make ``response`` send exactly ``pairs`` (see the module's notes)."""
    own = {m.OutputString(): (key, m) for key, m in response.cookies.items()}
    cookies: SimpleCookie = SimpleCookie()
    fields: dict[str, tuple[str, list[str]]] = {}  # lower-case name -> (name as sent, values)
    for raw_name, raw_value in pairs:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        lower = name.lower()
        if lower != "set-cookie":
            fields.setdefault(lower, (name, []))[1].append(value)
            continue
        key, morsel = own.pop(value, (None, None))
        if key is None or morsel is None:
            morsel = SetCookieLine(value)
            key = morsel.key
            if key in cookies:  # the same name again (host-only, then for the domain)
                key = f"{key} {len(cookies)}"  # a space: never a cookie name of the app's
        dict.__setitem__(cookies, key, morsel)
    present = {name.lower(): name for name, _ in response.items()}
    for lower, name in present.items():
        if lower not in fields:
            del response.headers[name]
    for lower, (name, values) in fields.items():
        # A name the middleware added is written as Django writes its own ("Cache-Control").
        shown = present.get(lower) or (name if name != lower else name.title())
        response.headers[shown] = ", ".join(values)
    response.cookies = cookies


def filter_response(
    policy: ConsentPolicy,
    consent: Consent,
    method: str,
    response: HttpResponseBase,
    extra: Sequence[tuple[bytes, bytes]],
    *,
    as_document: bool = True,
) -> HttpResponseBase:
    """The app's response with the policy applied: its headers, and its body as it streams."""
    original = header_pairs(response)
    headers, body_filter = filter_response_start(
        policy, consent, method, response.status_code, original, extra, as_document=as_document
    )
    if body_filter is None:
        if headers is not original:
            replace_headers(response, headers)
        return response
    if isinstance(response, StreamingHttpResponse):
        if getattr(response, "file_to_stream", None) is not None:
            # FileResponse: the WSGI handler would hand the file to wsgi.file_wrapper,
            # around the rewritten stream.
            response.file_to_stream = None  # type: ignore[attr-defined]
        # Django sends the headers before the first chunk: a body without a usable
        # Content-Type is taken for a document (SniffedBody.start), and the suppression
        # count (a debugging header) cannot follow.
        _set_start(response, *body_filter.start(None))
        content = response.streaming_content
        if isinstance(content, AsyncIterable):
            response.streaming_content = _rewrite_async(content, body_filter)
        else:
            response.streaming_content = _rewrite(content, body_filter)
        return response
    if isinstance(response, HttpResponse):
        body = body_filter.feed(response.content) + body_filter.close()
        response.content = body
        _set_start(response, *body_filter.start(len(body)))  # the whole body is in hand
    elif headers is not original:
        replace_headers(response, headers)
    return response


def _set_start(response: HttpResponseBase, status: int, headers: Pairs) -> None:
    replace_headers(response, headers)
    if status != response.status_code:
        response.status_code = status
        response.reason_phrase = HTTPStatus(status).phrase


def _rewrite(chunks: Iterable[bytes], body_filter: BodyFilter) -> Iterator[bytes]:
    for chunk in chunks:
        out = body_filter.feed(chunk)
        if out:
            yield out
    tail = body_filter.close()
    if tail:
        yield tail


async def _rewrite_async(
    chunks: AsyncIterable[bytes], body_filter: BodyFilter
) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        out = body_filter.feed(chunk)
        if out:
            yield out
    tail = body_filter.close()
    if tail:
        yield tail


def django_response(response: Response) -> HttpResponse:
    """One of the middleware's own answers as a Django response."""
    out = HttpResponse(response.body, status=response.status)
    del out.headers["Content-Type"]  # Django's default; the answer names its own
    replace_headers(out, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers])
    return out
