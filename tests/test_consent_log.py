"""The consent log as a subscriber of consent events, through the middleware (both adapters)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware
from gpc_middleware.records.log import open_consent_log
from gpc_middleware.records.record import ConsentRecord
from gpc_middleware.records.sqlite_log import SqliteConsentLog

from .apps import flask_app
from .conftest import SECRET, Client


def records_of(policy: ConsentPolicy) -> list[ConsentRecord]:
    """Every record of ``policy``'s log, once the recorder has written all it accepted."""
    assert policy.recorder is not None and policy.recorder.flush(timeout=30)
    return list(policy.recorder.log.export())


def policy_of(client: Client) -> ConsentPolicy:
    """The policy the client's app was built with (its middleware holds it)."""
    if client.kind == "wsgi":
        return client.app.wsgi_app.policy  # type: ignore[no-any-return]
    app = client.app
    stack = app.middleware_stack or app.build_middleware_stack()
    while not isinstance(stack, GPCMiddleware):
        stack = stack.app
    return stack.policy


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'consents.db'}"


def test_every_change_is_recorded_once(make_client: Callable[..., Client], db_url: str) -> None:
    events: list[Any] = []
    client = make_client(consent_log=db_url, mode="opt-out", on_change=events.append)
    client.get("/whoami", headers={"Sec-GPC": "1", "User-Agent": "Browser/1"})
    client.get("/whoami", headers={"Sec-GPC": "1"})  # already recorded: no record
    client.choose({"categories": {"analytics": True}})
    client.request("DELETE", "/_consent", headers={"Sec-Fetch-Site": "same-origin"})
    records = records_of(policy_of(client))
    assert [r.kind for r in records] == ["gpc", "choice", "withdrawal"] == [e.kind for e in events]
    gpc, choice, withdrawal = records
    assert withdrawal.chosen is None and withdrawal.effective["targeting"] is True
    assert len({r.consent_id for r in records}) == 1
    assert gpc.gpc and gpc.effective["targeting"] is False and gpc.user_agent_hash
    assert choice.chosen == {"analytics": True, "preference": False, "targeting": False}
    assert (
        choice.policy_version == "2025-01-15"
        and choice.mode == "opt-out"
        and choice.source == "user"
    )
    # Data minimisation: no IP, no raw user agent anywhere in the record.
    line = choice.to_json()
    assert "Browser/1" not in gpc.to_json() and "127.0.0.1" not in line and "testclient" not in line
    json.loads(line)


class FlakyLog:
    """A log whose database is away for the first ``failures`` writes, then comes back."""

    def __init__(self, inner: SqliteConsentLog, failures: int) -> None:
        self.inner, self.failures = inner, failures

    def write(self, records: Sequence[ConsentRecord]) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("database went away")
        self.inner.write(records)

    def export(
        self, since: datetime | None = None, consent_id: str | None = None
    ) -> Iterator[ConsentRecord]:
        return self.inner.export(since=since, consent_id=consent_id)

    def purge(self, older_than: datetime) -> int:
        return self.inner.purge(older_than)

    def close(self) -> None:
        self.inner.close()


def test_a_database_outage_never_fails_a_request_and_loses_nothing(
    make_client: Callable[..., Client], tmp_path: Path
) -> None:
    log = FlakyLog(SqliteConsentLog(tmp_path / "c.db"), failures=3)
    client = make_client(consent_log=log)
    for _ in range(5):
        assert client.choose({"all": True}).status == 200
    policy = policy_of(client)
    assert len(records_of(policy)) == 5
    assert policy.recorder.stats.errors >= 1 and policy.recorder.stats.dropped == 0


def test_concurrent_choices_from_threads_wsgi(db_url: str) -> None:
    policy = ConsentPolicy(secret_key=SECRET, consent_log=db_url)
    app = GPCWSGIMiddleware(flask_app(policy).wsgi_app.app, policy=policy)  # type: ignore[attr-defined]

    def choose(i: int) -> str:
        body = json.dumps({"all": i % 2 == 0}).encode()
        environ = {
            "REQUEST_METHOD": "PUT",
            "PATH_INFO": "/_consent",
            "SERVER_NAME": "t",
            "SERVER_PORT": "443",
            "wsgi.url_scheme": "https",
            "HTTP_HOST": "t",
            "HTTP_SEC_FETCH_SITE": "same-origin",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": __import__("io").BytesIO(body),
            "wsgi.errors": __import__("io").StringIO(),
        }
        statuses: list[str] = []
        b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
        return statuses[0]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(choose, range(200))) == {"200 OK"}
    assert len(records_of(policy)) == 200


def test_concurrent_choices_from_an_event_loop_and_lifespan_flush(db_url: str) -> None:
    policy = ConsentPolicy(secret_key=SECRET, consent_log=db_url)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    middleware = GPCMiddleware(app, policy=policy)

    async def choose(i: int) -> int:
        body = json.dumps({"all": i % 2 == 0}).encode()
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "PUT",
            "path": "/_consent",
            "scheme": "https",
            "query_string": b"",
            "headers": [
                (b"host", b"t"),
                (b"sec-fetch-site", b"same-origin"),
                (b"content-type", b"application/json"),
            ],
        }
        await middleware(scope, receive, send)
        return int(sent[0]["status"])

    async def main() -> None:
        assert set(await asyncio.gather(*(choose(i) for i in range(200)))) == {200}
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive() -> Any:
            return next(messages)

        async def send(message: Any) -> None:
            pass

        await middleware({"type": "lifespan"}, receive, send)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own (see test_asgi)
        pool.submit(asyncio.run, main()).result()
    # Shutdown flushed and closed the recorder: everything is on disk already.
    assert policy.recorder is not None and policy.recorder.stats.written == 200
    assert len(list(open_consent_log(db_url).export())) == 200


def test_bad_consent_log_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError):
        ConsentPolicy(secret_key=SECRET, consent_log="nosuchdb://x")
