"""What every check is given (:class:`Context`), and what a page carries: the trackers in its
HTML and the cookies it sets, by category (:func:`trackers_in`, :func:`cookies_set`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.categories import Category
from ..enforcement.catalog import TrackerCatalog
from ..enforcement.rewriter import RemovalEvent, RewriteRules, TagStripper
from .transports import Transport
from .visitor import Visitor


@dataclass(frozen=True, slots=True)
class Finding:
    category: Category
    what: str  # "<script> host:... " or "cookie _fbp"


def trackers_in(body: bytes, rules: RewriteRules, *, xml: bool = False) -> list[Finding]:
    """Every tracker element of ``body``, by category (the rewriter refusing all, only counting).

    ``xml``: the body is an XML document (XHTML, SVG), read by the XML rules."""
    found: list[Finding] = []

    def note(event: RemovalEvent) -> None:
        if not event.in_template:
            found.append(Finding(event.category, f"<{event.tag}> {event.reason}"))

    stripper = TagStripper(rules, (), on_remove=note, xml=xml)
    stripper.feed(body)
    stripper.close()
    return found


def cookies_set(visitor_log: Iterable[str], catalog: TrackerCatalog) -> list[Finding]:
    """Cookies actually set (not expired) by ``Set-Cookie`` values, by category."""
    found: list[Finding] = []
    for value in visitor_log:
        name, _, rest = value.partition("=")
        if "max-age=0" in rest.lower().replace(" ", ""):
            continue
        category = catalog.classify_cookie(name.strip())
        if category is not None and category != "essential":
            found.append(Finding(category, f"cookie {name.strip()}"))
    return found


@dataclass
class Context:
    """What every check needs: the target, the pages to look at, the consent endpoint."""

    transport: Transport
    pages: tuple[str, ...]
    endpoint: str
    rules: RewriteRules
    catalog: TrackerCatalog
    _endpoint_state: dict[str, Any] | None = field(default=None, repr=False)
    _endpoint_probed: bool = field(default=False, repr=False)

    def endpoint_state(self) -> dict[str, Any] | None:
        """The consent endpoint's answer to a fresh visitor, or ``None`` when the site has none."""
        if not self._endpoint_probed:
            self._endpoint_probed = True
            reply = Visitor(self.transport).request(
                "GET", self.endpoint, headers=(("Accept", "application/json"),)
            )
            try:
                state = reply.json() if reply.status == 200 else None
            except ValueError:
                state = None
            if isinstance(state, dict) and isinstance(state.get("categories"), dict):
                self._endpoint_state = state
        return self._endpoint_state

    def survey(self, visitor: Visitor, refused: Iterable[str]) -> list[str]:
        """Visit every page; list the trackers and cookies of ``refused`` categories found."""
        refused = set(refused)
        problems: list[str] = []
        start = len(visitor.set_cookie_log)
        for page in self.pages:
            reply = visitor.get(page)
            kind = reply.document_kind
            if kind in ("html", "xml"):
                problems += [
                    f"{page}: {f.what} ({f.category})"
                    for f in trackers_in(reply.body, self.rules, xml=kind == "xml")
                    if f.category in refused
                ]
        problems += [
            f"{f.what} ({f.category})"
            for f in cookies_set(visitor.set_cookie_log[start:], self.catalog)
            if f.category in refused
        ]
        return problems
