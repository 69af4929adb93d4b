"""``gpc-middleware records``: export, purge and summarise the consent log.

``export`` writes JSON lines (one :meth:`ConsentRecord.to_json` per line) for an audit or a
data-subject access request (GDPR Art. 15; with ``--consent-id``, one visitor's records);
``purge`` applies the retention period (GDPR Art. 5(1)(e), storage limitation), for a site
that runs it from cron rather than letting the recorder purge; ``stats`` prints the records
stored (by kind, oldest and newest) and the losses the writers recorded (consent events
dropped at the queue bound or refused as invalid), as text or, with ``--json``, for a
monitoring check.

Exit status: 0 on success, 1 when the database fails, 2 for a usage error (a bad URL, a
missing driver, a bad date).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from gpc_middleware.records.log import ConsentStore, open_consent_log
from gpc_middleware.records.record import DEFAULT_RETENTION
from gpc_middleware.records.summary import LogSummary

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: SubParsers) -> None:
    """Add the ``records`` command, with its ``export``, ``purge`` and ``stats`` actions."""
    records = subparsers.add_parser(
        "records",
        help="export, purge or summarise the consent log (proof of consent)",
        description=(
            "Export, purge or summarise the consent log: the proof of consent the "
            "middleware records."
        ),
    )
    records.set_defaults(func=lambda args: _usage(records))
    actions = records.add_subparsers(dest="action", metavar="ACTION")

    export = actions.add_parser(
        "export",
        help="write consent records as JSON lines",
        description=(
            "Write the consent records since a date as JSON lines, oldest first: for an "
            "audit, or with --consent-id for a data-subject access request."
        ),
    )
    _add_db_argument(export)
    export.add_argument(
        "--since",
        required=True,
        type=_parse_since,
        metavar="DATE",
        help="the earliest time to export: YYYY-MM-DD or an ISO 8601 date-time (UTC if no offset)",
    )
    export.add_argument(
        "--consent-id", metavar="ID", help="only this visitor's records (the id in their cookie)"
    )
    export.add_argument(
        "--output",
        metavar="FILE",
        default="-",
        help="write here (created readable by its owner only) instead of standard output",
    )
    export.set_defaults(func=_export)

    purge = actions.add_parser(
        "purge",
        help="delete consent records older than the retention period",
        description="Delete the consent records older than a number of days.",
    )
    _add_db_argument(purge)
    purge.add_argument(
        "--older-than",
        type=_parse_days,
        default=DEFAULT_RETENTION.days,
        metavar="DAYS",
        help=(
            f"delete records older than this many days (default {DEFAULT_RETENTION.days}: "
            "the CCPA regulations keep records of requests for 24 months, 11 CCR § 7101(a))"
        ),
    )
    purge.set_defaults(func=_purge)

    stats = actions.add_parser(
        "stats",
        help="print the records stored and the losses recorded",
        description=(
            "Print the consent records stored (by kind, oldest and newest) and the consent "
            "events the writers recorded as lost (dropped at the queue bound, or invalid)."
        ),
    )
    _add_db_argument(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(func=_stats)


def _add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        required=True,
        metavar="URL",
        help="the consent log: sqlite:///consents.db or postgresql://user:password@host/db",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _parse_since(text: str) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date (YYYY-MM-DD) or ISO 8601 date-time: {text!r}"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _parse_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError(f"not a positive number of days: {text!r}")
    return days


def _open(url: str) -> ConsentStore | None:
    try:
        return open_consent_log(url)
    except (ValueError, ImportError) as exc:
        print(f"gpc-middleware records: {exc}", file=sys.stderr)
        return None


def _export(args: argparse.Namespace) -> int:
    log = _open(args.db)
    if log is None:
        return 2
    count = 0
    try:
        with _output(args.output) as out:
            for record in log.export(since=args.since, consent_id=args.consent_id):
                out.write(record.to_json())
                out.write("\n")
                count += 1
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        # Point stdout at /dev/null so that the interpreter's final flush does not fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ValueError as exc:  # e.g. an invalid --consent-id
        print(f"gpc-middleware records: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(
            f"gpc-middleware records: export failed: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return 1
    finally:
        log.close()
    where = "standard output" if args.output == "-" else args.output
    print(f"exported {count} consent records to {where}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _output(path: str) -> Iterator[TextIO]:
    """Standard output, or ``path`` written whole or not at all.

    The records are personal data: the file is created mode 0600, and written under a
    temporary name that replaces ``path`` only once the export has succeeded, so a failed
    export never leaves a partial file that looks complete.
    """
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    partial = f"{path}.partial"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="\n") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def _purge(args: argparse.Namespace) -> int:
    log = _open(args.db)
    if log is None:
        return 2
    cutoff = datetime.now(UTC) - timedelta(days=args.older_than)
    try:
        deleted = log.purge(cutoff)
    except Exception as exc:
        print(f"gpc-middleware records: purge failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        log.close()
    print(f"purged {deleted} consent records older than {cutoff.isoformat(timespec='seconds')}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    log = _open(args.db)
    if log is None:
        return 2
    try:
        summary = log.summary()
    except Exception as exc:
        print(f"gpc-middleware records: stats failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        log.close()
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print("\n".join(_stats_lines(summary)))
    return 0


def _stats_lines(summary: LogSummary) -> Iterator[str]:
    def when(value: datetime) -> str:
        return value.isoformat(timespec="seconds")

    yield f"consent records: {summary.records}"
    for kind in summary.kinds:
        yield (
            f"  {kind.kind:<14} {kind.records:>10}  oldest {when(kind.oldest)}  "
            f"newest {when(kind.newest)}"
        )
    yield f"consent events lost: {summary.events_lost}"
    for loss in summary.losses:
        yield (
            f"  {loss.reason:<14} {loss.events:>10}  first {when(loss.first_lost)}  "
            f"last {when(loss.last_lost)}  ({loss.windows} windows)"
        )
    if summary.recent_losses:
        yield "latest losses:"
        for window in summary.recent_losses:
            yield (
                f"  {when(window.first_lost)} to {when(window.last_lost)}  "
                f"{window.events} {window.reason}"
            )
