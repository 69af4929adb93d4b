"""Cost of recording consent: the request's share per event, and what the writer sustains.

Run: ``python benchmarks/records.py [--events N] [--rounds R]``. Each figure is the best
of ``R`` rounds, configurations taking turns: other work on the machine only ever slows a
round down, so the minimum is the steadiest estimate (as ``timeit`` advises).

Measured, beside a baseline from the same run (a no-op subscriber, the cost of calling
anything at all):

- *enqueue, writer paused*: ``recorder(event)`` alone, with the writer held in a write, so
  nothing runs beside the caller. This is what a request pays.
- *enqueue, writer busy*: the same while the writer drains into SQLite. The writer gets
  the GIL at switch intervals only, so this shows the caller is not held up by it; it is
  not the writer's cost.
- *sustained throughput*: events per second from the first call until ``flush()`` returns,
  through the recorder into a SQLite file (WAL, synchronous=FULL, one transaction per
  batch), and ``SqliteConsentLog.write`` alone in batches of 500 for comparison. Its
  inverse is the process's whole CPU time per event (the writer's included), printed too.

Consent events are rare next to requests (a choice, a withdrawal, the first GPC request of
a visitor), so a request with the log on costs the request's share above only when it
changes consent. The lead's middleware benchmark adds requests per second with the log
on and off (target: at most 10% lower).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gpc_middleware import ConsentPolicy, GPCMiddleware
from gpc_middleware.core.events import ConsentEvent
from gpc_middleware.records.log import ConsentLog
from gpc_middleware.records.record import ConsentRecord
from gpc_middleware.records.recorder import ConsentRecorder
from gpc_middleware.records.sqlite_log import SqliteConsentLog

T0 = datetime(2026, 1, 15, 12, tzinfo=UTC)


def make_events(n: int) -> list[ConsentEvent]:
    return [
        ConsentEvent(
            kind="choice",
            consent_id=f"{i:022d}",
            time=T0 + timedelta(microseconds=i),
            policy_version="2026-01",
            mode="opt-in",
            source="user",
            gpc=i % 2 == 0,
            chosen={"analytics": True, "preference": False, "targeting": False},
            effective={
                "essential": True,
                "analytics": True,
                "preference": False,
                "targeting": False,
            },
            user_agent_hash="3f2a9c0b7d1e4a6f",
        )
        for i in range(n)
    ]


class PausedLog:
    """A log whose first write waits until released: the writer is parked, not working."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def write(self, records: Sequence[ConsentRecord]) -> None:
        self.release.wait()

    def export(
        self, since: datetime | None = None, consent_id: str | None = None
    ) -> Iterator[ConsentRecord]:
        return iter(())

    def purge(self, older_than: datetime) -> int:
        return 0

    def close(self) -> None:
        self.release.set()


def per_call(subscriber: Callable[[ConsentEvent], None], events: list[ConsentEvent]) -> float:
    """Microseconds per call of ``subscriber`` over ``events``."""
    started = time.perf_counter()
    for event in events:
        subscriber(event)
    return (time.perf_counter() - started) / len(events) * 1e6


def noop(event: ConsentEvent) -> None:
    pass


def enqueue_writer_paused(events: list[ConsentEvent], _: Path) -> float:
    log = PausedLog()
    recorder = ConsentRecorder(log, maxsize=len(events) + 1, linger=0, retention=None)
    recorder(events[0])  # start the writer and park it in its first write
    time.sleep(0.05)
    cost = per_call(recorder, events)
    log.release.set()
    recorder.close(timeout=60)
    return cost


def enqueue_writer_busy(events: list[ConsentEvent], directory: Path) -> float:
    log = SqliteConsentLog(directory / "busy.db")
    recorder = ConsentRecorder(log, maxsize=len(events), retention=None)
    cost = per_call(recorder, events)
    recorder.close(timeout=120)
    return cost


def recorder_throughput(events: list[ConsentEvent], directory: Path) -> float:
    """Events per second into SQLite through the recorder, until flushed."""
    log = SqliteConsentLog(directory / "recorder.db")
    recorder = ConsentRecorder(log, maxsize=len(events), retention=None)
    started = time.perf_counter()
    for event in events:
        recorder(event)
    if not recorder.flush(timeout=300):
        raise RuntimeError("flush timed out")
    elapsed = time.perf_counter() - started
    recorder.close()
    return len(events) / elapsed


def log_throughput(events: list[ConsentEvent], directory: Path) -> float:
    """Records per second written by SqliteConsentLog alone, in batches of 500 (records
    made beforehand)."""
    log: ConsentLog = SqliteConsentLog(directory / "log.db")
    records = [ConsentRecord.from_event(event) for event in events]
    started = time.perf_counter()
    for start in range(0, len(records), 500):
        log.write(records[start : start + 500])
    elapsed = time.perf_counter() - started
    log.close()
    return len(records) / elapsed


def from_event_cost(events: list[ConsentEvent], _: Path) -> float:
    """Microseconds to make one record (done by the writer thread, not the request)."""
    started = time.perf_counter()
    for event in events:
        ConsentRecord.from_event(event)
    return (time.perf_counter() - started) / len(events) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000, help="events per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best is kept")
    args = parser.parse_args(argv)
    events = make_events(args.events)

    timings: dict[str, Callable[[list[ConsentEvent], Path], float]] = {
        "baseline: no-op subscriber": lambda evs, _: per_call(noop, evs),
        "enqueue, writer paused": enqueue_writer_paused,
        "enqueue, writer busy (SQLite)": enqueue_writer_busy,
        "record made by the writer (from_event)": from_event_cost,
    }
    rates: dict[str, Callable[[list[ConsentEvent], Path], float]] = {
        "recorder -> SQLite, until flushed": recorder_throughput,
        "SqliteConsentLog.write alone, batches of 500": log_throughput,
    }
    best_time = dict.fromkeys(timings, float("inf"))
    best_rate = dict.fromkeys(rates, 0.0)
    for _ in range(args.rounds):
        for name, measure_time in timings.items():
            with tempfile.TemporaryDirectory() as directory:
                best_time[name] = min(best_time[name], measure_time(events, Path(directory)))
        for name, measure_rate in rates.items():
            with tempfile.TemporaryDirectory() as directory:
                best_rate[name] = max(best_rate[name], measure_rate(events, Path(directory)))

    print(f"consent recorder, {args.events} events per round, best of {args.rounds} rounds")
    print("per event, on the caller's thread:")
    for name, value in best_time.items():
        print(f"  {name:<45} {value:8.2f} us")
    baseline = best_time["baseline: no-op subscriber"]
    paused = best_time["enqueue, writer paused"]
    print(f"  {'request share above baseline':<45} {paused - baseline:8.2f} us")
    print("sustained writes:")
    for name, value in best_rate.items():
        print(f"  {name:<45} {value:8.0f} records/s")
    whole = 1e6 / best_rate["recorder -> SQLite, until flushed"]
    print(f"  {'process time per event, writer included':<45} {whole:8.2f} us")
    print_middleware_throughput(args.rounds)
    return 0


# --- requests per second through the middleware, log off versus on -----------------------------

REQUESTS_PER_ROUND = 4_000


def _asgi_requests(every_nth_choice: int) -> list[tuple[dict[str, Any], bytes]]:
    """A request mix: page views with a cookie, and every ``every_nth_choice``-th one a choice."""
    mix: list[tuple[dict[str, Any], bytes]] = []
    for i in range(REQUESTS_PER_ROUND):
        headers = [(b"host", b"jobs.example"), (b"sec-fetch-site", b"same-origin")]
        if i % every_nth_choice == 0:
            body = b'{"all": true}' if i % 2 else b'{"all": false}'
            headers.append((b"content-type", b"application/json"))
            scope = {
                "type": "http",
                "method": "PUT",
                "path": "/_consent",
                "scheme": "https",
                "headers": headers,
            }
        else:
            body = b""
            scope = {
                "type": "http",
                "method": "GET",
                "path": "/",
                "scheme": "https",
                "headers": headers,
            }
        mix.append((scope, body))
    return mix


async def _page(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"jobs"})


def _requests_per_second(policy: ConsentPolicy, mix: list[tuple[dict[str, Any], bytes]]) -> float:
    middleware = GPCMiddleware(_page, policy=policy)

    async def drive() -> float:
        async def send(message: Any) -> None:
            return None

        start = time.perf_counter()
        for scope, body in mix:

            async def receive(body: bytes = body) -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            await middleware(dict(scope), receive, send)
        return len(mix) / (time.perf_counter() - start)

    rate = asyncio.run(drive())
    if policy.recorder is not None:
        policy.recorder.close()  # what is queued is written: the log's work is counted in full
    return rate


def print_middleware_throughput(rounds: int) -> None:
    print(
        f"\nrequests/s through GPCMiddleware, {REQUESTS_PER_ROUND} requests per round, best of {rounds}:"
    )
    for label, nth in (
        ("1 request in 20 changes consent", 20),
        ("every request changes consent", 1),
    ):
        mix = _asgi_requests(nth)
        best = {"log off": 0.0, "log on (SQLite)": 0.0}
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as directory:
                off = ConsentPolicy(secret_key="benchmark-secret-key-0123456789")
                on = ConsentPolicy(
                    secret_key="benchmark-secret-key-0123456789",
                    consent_log=f"sqlite:///{Path(directory) / 'consents.db'}",
                )
                best["log off"] = max(best["log off"], _requests_per_second(off, mix))
                best["log on (SQLite)"] = max(
                    best["log on (SQLite)"], _requests_per_second(on, mix)
                )
        change = best["log on (SQLite)"] / best["log off"] - 1
        print(
            f"  {label:<34} off {best['log off']:8.0f}/s   on {best['log on (SQLite)']:8.0f}/s"
            f"   {change:+.1%} (target: no lower than -10%)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
