"""``gpc-middleware hosts``: the third-party hosts visitors' browsers tried to load.

Reads the counts the CSP wall's report endpoint keeps in the consent log's database
(``csp="report-only"`` or ``"enforce"`` with ``consent_log="sqlite:///..."`` or a
SQLAlchemy URL such as ``postgresql://...``), classifies
each host by the tracker catalog, and prints the unknown hosts first (they are what
``enforce`` blocks until the site declares them), then the known ones, and a suggested
``third_party_hosts`` block. ``--json`` prints the same as one JSON object.

Reports can be forged by any client that sets the right headers: review the block
before pasting it. Exit status: 0, 1 when the database cannot be read, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gpc_middleware.enforcement.catalog import TrackerCatalog
from gpc_middleware.records.csp_hosts import HostReportRow
from gpc_middleware.records.csp_hosts_sqlite import read_host_reports

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

#: The category suggested for a host the catalog does not know: the strictest, until the
#: site knows better (it loads only for visitors who allow targeting).
UNKNOWN_SUGGESTION = "targeting"


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "hosts",
        help="list the third-party hosts the CSP wall reported, with a third_party_hosts block",
        description=(
            "List the third-party hosts visitors' browsers tried to load (the CSP wall's "
            "violation reports), unknown hosts first, with a suggested third_party_hosts block."
        ),
    )
    parser.add_argument(
        "--db",
        required=True,
        metavar="URL",
        help="the consent log's database: sqlite:///consents.db, postgresql://...",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_hosts)


@dataclass
class HostSummary:
    """Every report of one host: counts by directive and by page."""

    host: str
    category: str | None
    vendor: str | None
    reports: int = 0
    directives: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    first_seen: str = ""
    last_seen: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "category": self.category,
            "vendor": self.vendor,
            "reports": self.reports,
            "directives": self.directives,
            "pages": self.pages,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


def summarise(rows: Sequence[HostReportRow], catalog: TrackerCatalog) -> list[HostSummary]:
    """One summary per host, unknown hosts first, then by reports (most first) and name."""
    by_host: dict[str, HostSummary] = {}
    for row in rows:
        summary = by_host.get(row.host)
        if summary is None:
            rule = catalog.match_host(row.host)
            summary = by_host[row.host] = HostSummary(
                row.host,
                rule.category if rule is not None else None,
                rule.vendor if rule is not None else None,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
            )
        summary.reports += row.reports
        summary.directives[row.directive] = summary.directives.get(row.directive, 0) + row.reports
        summary.pages[row.page] = summary.pages.get(row.page, 0) + row.reports
        summary.first_seen = min(summary.first_seen, row.first_seen)
        summary.last_seen = max(summary.last_seen, row.last_seen)
    return sorted(by_host.values(), key=lambda s: (s.category is not None, -s.reports, s.host))


def suggested_hosts(summaries: Sequence[HostSummary]) -> dict[str, str]:
    """A ``third_party_hosts`` block for the hosts the catalog does not know (it knows the others)."""
    return {s.host: UNKNOWN_SUGGESTION for s in summaries if s.category is None}


def _hosts(args: argparse.Namespace) -> int:
    try:
        rows = read_host_reports(args.db)
    except ValueError as exc:
        print(f"gpc-middleware hosts: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # SQLAlchemy or the database driver is not installed
        print(f"gpc-middleware hosts: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:
        print(f"gpc-middleware hosts: cannot read {args.db}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a SQLAlchemy error (the database is down, no such table, ...)
        if type(exc).__module__.split(".")[0] != "sqlalchemy":
            raise
        print(f"gpc-middleware hosts: cannot read {args.db}: {exc}", file=sys.stderr)
        return 1
    summaries = summarise(rows, TrackerCatalog.default())
    suggestion = suggested_hosts(summaries)
    if args.json:
        payload = {
            "hosts": [s.to_json() for s in summaries],
            "third_party_hosts": suggestion,
        }
        print(json.dumps(payload, indent=2))
        return 0
    if not summaries:
        print("no reports yet: set csp='report-only' and let visitors browse")
        return 0
    print(f"{'host':<40} {'category':<12} {'reports':>8}  directives; pages")
    for s in summaries:
        directives = ", ".join(sorted(s.directives, key=lambda d: -s.directives[d]))
        pages = ", ".join(sorted(s.pages, key=lambda p: -s.pages[p])[:3])
        category = s.category or "UNKNOWN"
        print(f"{s.host:<40} {category:<12} {s.reports:>8}  {directives}; {pages}")
    if suggestion:
        print("\n# unknown hosts, with the strictest category until you know better")
        print("# (review every line: anyone can send a report):")
        print("third_party_hosts = {")
        for host, category in suggestion.items():
            print(f"    {host!r}: {category!r},")
        print("}")
    return 0
