"""A bounded, breadth-first crawl of a site's own HTML pages, for when the caller names none."""

from __future__ import annotations

import html.parser
from urllib.parse import urljoin, urlsplit

from .transports import Transport
from .visitor import Visitor


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def crawl(
    transport: Transport, start: str = "/", *, limit: int = 5, skip_prefix: str | None = None
) -> tuple[str, ...]:
    """Up to ``limit`` same-site HTML pages reachable from ``start``, breadth first.

    Paths under ``skip_prefix`` (the consent endpoint's own pages) are left out.
    """
    base = transport.base_url + "/"
    seen: list[str] = []
    queue = [start]
    visitor = Visitor(transport)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        reply = visitor.get(path)
        if reply.status != 200 or not reply.is_html:
            continue
        seen.append(path)
        parser = _Links()
        parser.feed(reply.body.decode("utf-8", "replace"))
        for href in parser.hrefs:
            url = urlsplit(urljoin(base + path.lstrip("/"), href))
            if f"{url.scheme}://{url.netloc}" != transport.base_url or url.path.startswith(
                "/.well-known/"
            ):
                continue
            if skip_prefix and (url.path == skip_prefix or url.path.startswith(skip_prefix + "/")):
                continue  # the consent endpoint's own pages are not the site's
            candidate = url.path + (f"?{url.query}" if url.query else "")
            if candidate not in seen and candidate not in queue:
                queue.append(candidate)
    return tuple(seen) or (start,)
