"""``gpc-middleware scan PAGE.html``: show what would be removed from a page, and why.

One line per element: byte offset, category, tag, reason (``host:...``,
``signature:...``, ``marker:...``, ``consent:attr=value``) and vendor; then a summary.
By default no optional category is allowed (a visitor who has not consented);
``--allow`` allows some, ``--gpc`` refuses ``targeting`` whatever ``--allow`` says
(a Global Privacy Control signal opts out of sale/sharing). ``--xml`` reads an XHTML
or SVG document as browsers read XML (the default for ``.xhtml``, ``.svg``, ``.xml``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.categories import OPTIONAL_CATEGORIES, Category, check_category
from ..enforcement.rewriter import RemovalEvent, RewriteRules, TagStripper

__all__ = ["register", "run"]

_CHUNK = 64 * 1024
# Files a browser opens as XML documents (read by the XML rules, see TagStripper).
_XML_SUFFIXES = (".xhtml", ".xht", ".svg", ".xml")


def _categories(text: str) -> list[Category]:
    try:
        return [check_category(c.strip()) for c in text.split(",") if c.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _mapping(text: str) -> tuple[str, str, Category]:
    attr, eq, rest = text.partition("=")
    value, colon, category = rest.rpartition(":")
    if not (eq and colon and attr and value):
        raise argparse.ArgumentTypeError(f"expected ATTR=VALUE:CATEGORY, not {text!r}")
    try:
        return attr.strip().lower(), value.strip(), check_category(category.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``scan`` sub-command."""
    parser = subparsers.add_parser(
        "scan",
        help="show what would be removed from an HTML page, and why",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("page", type=Path, help="HTML file ('-' for standard input)")
    parser.add_argument("--gpc", action="store_true", help="the request carries Sec-GPC: 1")
    parser.add_argument(
        "--allow",
        type=_categories,
        default=[],
        metavar="CATS",
        help="comma-separated categories the visitor allows (analytics,preference,targeting)",
    )
    parser.add_argument(
        "--map",
        type=_mapping,
        action="append",
        default=[],
        metavar="ATTR=VALUE:CATEGORY",
        help="consent-manager mapping, e.g. data-name=youtube:targeting (repeatable)",
    )
    parser.add_argument(
        "--neutralize", action="store_true", help="report what neutralize mode would change"
    )
    parser.add_argument(
        "--xml",
        action="store_true",
        help="read the page as an XML document (XHTML, SVG); the default for .xhtml, .xht, .svg, .xml",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per element that would be removed; return 0."""
    allowed = set(args.allow)
    if args.gpc:
        allowed.discard("targeting")
    rules = RewriteRules.default()
    if args.map:
        extra: dict[str, dict[str, Category]] = {}
        for attr, value, category in args.map:
            extra.setdefault(attr, {})[value] = category
        rules = rules.with_consent_attributes(extra)
    events: list[RemovalEvent] = []
    stripper = TagStripper(
        rules,
        allowed,
        mode="neutralize" if args.neutralize else "strip",
        on_remove=events.append,
        xml=args.xml or str(args.page).lower().endswith(_XML_SUFFIXES),
    )
    source = sys.stdin.buffer if str(args.page) == "-" else args.page.open("rb")
    size = 0
    with source:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            stripper.feed(chunk)
    stripper.close()
    refused = [c for c in OPTIONAL_CATEGORIES if c not in allowed]
    out = sys.stdout
    out.write(
        f"# {args.page}: {size} bytes; refused: {', '.join(refused) or 'none'}"
        f"{' (GPC)' if args.gpc else ''}\n"
    )
    for event in events:
        extra_cats = "+".join(sorted(event.categories - {event.category}))
        category = event.category + (f"(+{extra_cats})" if extra_cats else "")
        template = " [in template]" if event.in_template else ""
        out.write(
            f"{event.start:>8}  {category:<10} {'<' + event.tag + '>':<9} {event.reason}"
            f"{'  (' + event.vendor + ')' if event.vendor else ''}{template}\n"
        )
    verb = "neutralized" if args.neutralize else "removed"
    counts = {c: sum(1 for e in events if e.category == c) for c in OPTIONAL_CATEGORIES}
    summary = ", ".join(f"{counts[c]} {c}" for c in OPTIONAL_CATEGORIES if counts[c])
    out.write(f"# {len(events)} element(s) would be {verb}{': ' + summary if summary else ''}\n")
    return 0
