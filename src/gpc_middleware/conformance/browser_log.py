"""What one browser context did, as a browser audit records it, and how cookies and hosts are read.

:class:`VisitLog` gathers a context's events as they arrive (Playwright delivers them while
the audit waits): requests, responses and ``document.cookie`` writes in the order they
happened, and Chromium's initiator of every URL, from which :meth:`VisitLog.chain` follows
who asked for a request, and who asked for that.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .browser_evidence import CookieVia

if TYPE_CHECKING:
    from playwright.sync_api import Request, Response

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

#: A cookie written during a visit: (seq, name, deletes it, via, by what URL, domain attribute).
CookieWrite = tuple[int, str, bool, CookieVia, str | None, str | None]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".")


def site_of(host: str) -> str:
    """The registrable domain of ``host``, approximately (no public suffix list): the last two
    labels, or three under a short second level of a country code (``example.co.uk``)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3:
            return ".".join(labels[-3:])
        return ".".join(labels[-2:])
    return host


class VisitLog:
    """What one context did: requests in order, and responses and ``document.cookie`` writes,
    each numbered in the order they happened (``seq``)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.responses: list[tuple[int, Response]] = []
        self.cookie_writes: list[tuple[int, str, str]] = []  # (seq, what was written, script)
        self.initiator_of: dict[str, str] = {}
        self.page_errors: list[str] = []
        self.seq = 0
        self.inflight = 0
        self.last_start = time.monotonic()

    def started(self, request: Request) -> None:
        self.requests.append(request)
        self.inflight += 1
        self.last_start = time.monotonic()

    def ended(self, request: Request) -> None:
        self.inflight -= 1

    def responded(self, response: Response) -> None:
        self.seq += 1
        self.responses.append((self.seq, response))

    def cookie_written(self, source: Any, text: str, script: str) -> None:
        self.seq += 1
        self.cookie_writes.append((self.seq, str(text), str(script)))

    def initiator(self, params: Mapping[str, Any]) -> None:
        """Chromium's ``Network.requestWillBeSent``: remember who asked for each URL."""
        url = str(params.get("request", {}).get("url", "")).split("#")[0]
        source: str | None = None
        redirect = params.get("redirectResponse")
        if isinstance(redirect, dict):
            source = redirect.get("url")
        initiator = params.get("initiator") or {}
        source = source or initiator.get("url")
        stack = initiator.get("stack")
        while not source and isinstance(stack, dict):
            source = next((f["url"] for f in stack.get("callFrames", ()) if f.get("url")), None)
            stack = stack.get("parent")
        if source and source != url:
            self.initiator_of.setdefault(url, source.split("#")[0])

    def chain(self, url: str) -> tuple[str, ...]:
        found: list[str] = []
        current = url.split("#")[0]
        while len(found) < 6:
            source = self.initiator_of.get(current)
            if source is None or source in found or source == url:
                break
            found.append(source)
            current = source
        return tuple(found)

    def mark(self) -> tuple[int, int]:
        """Where "after the choice" begins: ``(requests so far, seq)``."""
        return len(self.requests), self.seq


def set_cookie_lines(response: Response) -> list[tuple[str, bool, str | None]]:
    """``(name, deletes it, domain attribute)`` of each ``Set-Cookie`` of a response."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        headers = response.headers_array()
    except PlaywrightError:
        return []
    found = []
    for header in headers:
        if header["name"].lower() == "set-cookie":
            for line in header["value"].split("\n"):  # repeated headers may come joined by \n
                name, attributes, domain = parse_cookie(line)
                if name:
                    found.append((name, deletes(attributes), domain))
    return found


def parse_cookie(text: str) -> tuple[str, str, str | None]:
    """``(name, attributes, domain attribute)`` of a ``Set-Cookie`` or ``document.cookie`` value."""
    pair, _, attributes = text.partition(";")
    domain = None
    for attribute in attributes.split(";"):
        key, _, value = attribute.strip().partition("=")
        if key.lower() == "domain" and value:
            domain = value.strip().lower()
    return pair.partition("=")[0].strip(), attributes, domain


def deletes(attributes: str) -> bool:
    """Whether cookie ``attributes`` expire it at once: ``Max-Age`` <= 0, or without a
    ``Max-Age`` an ``Expires`` in the past (RFC 6265 section 5.3: Max-Age wins)."""
    max_age: int | None = None
    expired = False
    for attribute in attributes.split(";"):
        key, _, value = attribute.strip().partition("=")
        key = key.lower()
        if key == "max-age":
            try:
                max_age = int(value.strip())
            except ValueError:
                continue
        elif key == "expires":
            try:
                expired = parsedate_to_datetime(value.strip()).timestamp() < time.time()
            except (TypeError, ValueError):
                continue
    return max_age <= 0 if max_age is not None else expired
