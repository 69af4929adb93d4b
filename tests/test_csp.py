"""The CSP wall (#12): the policy each visitor's page gets, the report endpoint, the counts, the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gpc_middleware import ConsentPolicy
from gpc_middleware.__main__ import main
from gpc_middleware.core.consent_cookie import ConsentState, new_consent_id
from gpc_middleware.enforcement.catalog import TrackerCatalog
from gpc_middleware.enforcement.csp import ConsentWall, check_third_party_hosts, source_expressions
from gpc_middleware.engine.csp_reports import (
    BURST,
    MAX_REPORTS_PER_BODY,
    ReportError,
    TokenBucket,
    parse_reports,
)
from gpc_middleware.records.csp_hosts import BlockedLoad, MemoryHostReports
from gpc_middleware.records.csp_hosts_sqlite import BufferedHostReports, SqliteHostReports

from .apps import flask_app, starlette_app
from .conftest import SECRET, ASGIClient, Client, WSGIClient
from .records_support import POSTGRES_URL, requires_postgres

CATALOG = TrackerCatalog.default()
ESSENTIAL = frozenset({"essential"})
ANALYTICS = frozenset({"essential", "analytics"})
ALL = frozenset({"essential", "analytics", "preference", "targeting"})
DECLARED = {"cdn.example.net": "essential", "stats.example.org": "analytics"}


def wall(**kwargs: Any) -> ConsentWall:
    return ConsentWall(CATALOG, **{"mode": "enforce", "declared": DECLARED, **kwargs})


def policy_of(header: bytes) -> dict[str, list[str]]:
    directives = {}
    for part in header.decode().split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# ---------------------------------------------------------------- the policy


def test_a_refusing_visitor_gets_self_and_essential_hosts_only() -> None:
    ((name, value),) = wall(report_path="/_consent/csp-report").headers_for(ESSENTIAL)
    assert name == b"content-security-policy"
    policy = policy_of(value)
    assert policy["default-src"] == [
        "'self'",
        "cdn.example.net",
        "*.cdn.example.net",
        "data:",
        "blob:",
        "'unsafe-inline'",
        "'wasm-unsafe-eval'",
    ]
    assert policy["form-action"] == ["'self'", "cdn.example.net", "*.cdn.example.net"]
    assert policy["report-uri"] == ["/_consent/csp-report"]


def test_allowed_categories_add_their_catalog_and_declared_hosts() -> None:
    ((_, value),) = wall().headers_for(ANALYTICS)
    sources = policy_of(value)["default-src"]
    assert {"googletagmanager.com", "*.googletagmanager.com", "stats.example.org"} <= set(sources)
    assert "connect.facebook.net" not in " ".join(sources)  # targeting stays out
    assert "'unsafe-eval'" not in sources
    assert "stats.example.org" in policy_of(value)["form-action"]


def test_a_visitor_who_allows_everything_gets_no_wall() -> None:
    assert wall().headers_for(ALL) == ()


def test_catalog_rows_with_a_path_prefix_allow_that_path() -> None:
    targeting = frozenset({"essential", "targeting"})
    ((_, value),) = wall().headers_for(targeting)
    assert {"google.com/pagead/", "*.google.com/pagead/"} <= set(policy_of(value)["default-src"])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        pytest.param({"mode": "report-only"}, b"content-security-policy-report-only", id="report"),
        pytest.param({"unknown": "allow"}, b"content-security-policy-report-only", id="allow"),
        pytest.param({}, b"content-security-policy", id="enforce"),
    ],
)
def test_header_name_follows_the_mode(kwargs: dict[str, Any], name: bytes) -> None:
    assert wall(**kwargs).headers_for(ESSENTIAL)[0][0] == name


def test_unsafe_eval_only_when_asked() -> None:
    ((_, value),) = wall(unsafe_eval=True).headers_for(ESSENTIAL)
    assert "'unsafe-eval'" in policy_of(value)["default-src"]


def test_catalog_overrides_shape_the_wall() -> None:
    catalog = CATALOG.with_overrides(
        hosts={"googletagmanager.com": "essential", "hotjar.com": None}
    )
    ((_, value),) = ConsentWall(catalog, mode="enforce").headers_for(ESSENTIAL)
    sources = policy_of(value)["default-src"]
    assert "googletagmanager.com" in sources
    assert "hotjar.com" not in " ".join(sources)


@pytest.mark.parametrize(
    "host",
    [
        "evil.com; script-src *",
        "a.com,b.com",
        "'unsafe-inline'",
        "a b.com",
        "https://cdn.example.net",
        "cdn.example.net:8443",
        "cdn.example.net/path",
        "*.example.net",
        "-bad.example",
        "",
    ],
)
def test_declared_hosts_that_could_break_the_header_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="not a host name"):
        check_third_party_hosts({host: "essential"}, CATALOG)
    assert source_expressions(host) == ()


def test_declared_hosts_are_written_in_ascii_lower_case() -> None:
    assert check_third_party_hosts({"CDN.Example.NET.": "essential"}, CATALOG) == {
        "cdn.example.net": "essential"
    }
    assert check_third_party_hosts({"bücher.example": "analytics"}, CATALOG) == {
        "xn--bcher-kva.example": "analytics"
    }


def test_a_declaration_cannot_take_away_what_the_catalog_knows() -> None:
    with pytest.raises(ValueError, match="tracker_hosts"):
        check_third_party_hosts({"www.googletagmanager.com": "essential"}, CATALOG)
    assert check_third_party_hosts({"www.googletagmanager.com": "analytics"}, CATALOG)
    with pytest.raises(ValueError, match="unknown consent category"):
        check_third_party_hosts({"cdn.example.net": "marketing"}, CATALOG)  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"csp": "on"}, "csp must be"),
        ({"csp": "enforce", "unknown_third_parties": "maybe"}, "unknown_third_parties"),
        ({"csp": "enforce", "csp_unsafe_eval": 1}, "csp_unsafe_eval"),
        ({"csp": "enforce", "third_party_hosts": {"x y": "essential"}}, "not a host name"),
    ],
)
def test_policy_validates_the_wall_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConsentPolicy(secret_key=SECRET, **kwargs)


def test_no_wall_when_off_or_in_neutralize_mode() -> None:
    assert ConsentPolicy(secret_key=SECRET).csp_wall is None
    neutral = ConsentPolicy(secret_key=SECRET, csp="enforce", html_mode="neutralize")
    assert neutral.csp_wall is None and neutral.csp_reports is None


# ---------------------------------------------------------------- through both adapters


def consenting(client: Client, categories: frozenset[str]) -> None:
    state = ConsentState(new_consent_id(), "2025-01-15", categories, int(time.time()))
    policy = ConsentPolicy(secret_key=SECRET, policy_version="2025-01-15")
    client.set_cookie("gpc_consent", policy.codec.dumps(state))


def test_pages_get_the_wall_beside_the_apps_own_policy(make_client: Callable[..., Client]) -> None:
    client = make_client(csp="enforce", third_party_hosts=DECLARED)
    reply = client.get("/special/csp")
    assert reply.all("content-security-policy")[0] == "script-src 'nonce-r4nd0m' 'strict-dynamic'"
    ours = policy_of(reply.all("content-security-policy")[1].encode())
    assert "cdn.example.net" in ours["default-src"]
    assert {"sec-gpc", "cookie"} <= reply.vary
    head = client.request("HEAD", "/special/csp")
    assert head.all("content-security-policy") == reply.all("content-security-policy")
    assert client.get("/special/json").header("content-security-policy") is None


def test_the_wall_follows_the_visitors_choice(make_client: Callable[..., Client]) -> None:
    client = make_client(csp="report-only")
    refused = client.get("/").header("content-security-policy-report-only")
    assert refused is not None and "googletagmanager.com" not in refused
    consenting(client, frozenset({"analytics"}))
    allowed = client.get("/").header("content-security-policy-report-only")
    assert allowed is not None and "googletagmanager.com" in allowed
    consenting(client, frozenset({"analytics", "preference", "targeting"}))
    assert client.get("/").header("content-security-policy-report-only") is None


LEGACY = {
    "csp-report": {
        "document-uri": "https://testserver/shop/cart?id=1",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'",
        "disposition": "enforce",
        "blocked-uri": "https://cdn.unknown-widgets.example/w.js",
        "status-code": 200,
    }
}
REPORTING_API = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://testserver/",
        "user_agent": "Chromium",
        "body": {
            "documentURL": "https://testserver/",
            "blockedURL": "https://connect.facebook.net/en_US/fbevents.js",
            "effectiveDirective": "script-src-elem",
            "disposition": "report",
        },
    },
    {"type": "deprecation", "body": {"id": "x"}},
    {"type": "csp-violation", "body": {"blockedURL": "inline", "effectiveDirective": "script-src"}},
]
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def report(client: Client, body: bytes, content_type: str, **headers: str) -> Any:
    return client.request(
        "POST",
        "/_consent/csp-report",
        body=body,
        content_type=content_type,
        headers={**SAME_ORIGIN, **headers},
    )


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_reports_in_both_formats_are_counted(kind: str) -> None:
    policy = ConsentPolicy(secret_key=SECRET, csp="report-only")
    client: Client = (
        ASGIClient(starlette_app(policy)) if kind == "asgi" else WSGIClient(flask_app(policy))
    )
    reply = report(client, json.dumps(LEGACY).encode(), "application/csp-report")
    assert reply.status == 204 and reply.body == b""
    reply = report(client, json.dumps(REPORTING_API).encode(), "application/reports+json")
    assert reply.status == 204
    assert policy.csp_reports is not None
    assert [(r.host, r.directive, r.page) for r in policy.csp_reports.rows()] == [
        ("cdn.unknown-widgets.example", "script-src-elem", "/shop/cart"),
        ("connect.facebook.net", "script-src-elem", "/"),
    ]


def test_the_endpoint_counts_into_the_consent_logs_file(tmp_path: Path) -> None:
    policy = ConsentPolicy(
        secret_key=SECRET, csp="enforce", consent_log=f"sqlite:///{tmp_path}/c.db"
    )
    client = ASGIClient(starlette_app(policy))
    for _ in range(3):
        assert report(client, json.dumps(LEGACY).encode(), "application/csp-report").status == 204
    store = policy.csp_reports
    assert isinstance(store, BufferedHostReports)
    rows = store.rows()
    assert [(r.host, r.directive, r.page, r.reports) for r in rows] == [
        ("cdn.unknown-widgets.example", "script-src-elem", "/shop/cart", 3)
    ]
    store.close()
    assert policy.recorder is not None
    policy.recorder.close()


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "status"),
    [
        pytest.param(b"{}", "text/plain", {}, 415, id="content-type"),
        pytest.param(b"{", "application/csp-report", {}, 400, id="malformed"),
        pytest.param(b"\xff\xfe", "application/csp-report", {}, 400, id="not-utf8"),
        pytest.param(b"[" * 50 + b"]" * 50, "application/reports+json", {}, 400, id="deep"),
        pytest.param(b'{"x": 1}', "application/csp-report", {}, 400, id="not-a-report"),
        pytest.param(b" " * 20000, "application/csp-report", {}, 413, id="oversized"),
        pytest.param(
            json.dumps(LEGACY).encode(),
            "application/csp-report",
            {"Sec-Fetch-Site": "cross-site"},
            403,
            id="cross-site",
        ),
    ],
)
def test_bad_reports_get_a_4xx_with_a_json_error(
    make_client: Callable[..., Client],
    body: bytes,
    content_type: str,
    headers: dict[str, str],
    status: int,
) -> None:
    client = make_client(csp="enforce")
    reply = report(client, body, content_type, **headers)
    assert reply.status == status
    assert "error" in reply.json()


def test_only_post_is_allowed(make_client: Callable[..., Client]) -> None:
    reply = make_client(csp="enforce").get("/_consent/csp-report")
    assert reply.status == 405 and reply.header("allow") == "POST"


def test_no_report_endpoint_without_a_wall(make_client: Callable[..., Client]) -> None:
    reply = report(make_client(), json.dumps(LEGACY).encode(), "application/csp-report")
    assert reply.status != 204


def test_a_flood_of_reports_is_refused_with_429(make_client: Callable[..., Client]) -> None:
    client = make_client(csp="enforce")
    body = json.dumps(LEGACY).encode()
    statuses = [report(client, body, "application/csp-report").status for _ in range(BURST * 3)]
    assert 429 in statuses
    assert set(statuses) <= {204, 429}


def test_token_bucket_refills_with_its_clock() -> None:
    now = [0.0]
    bucket = TokenBucket(2.0, 3, lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 1.0
    assert [bucket.take() for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(
    ("blocked", "expected"),
    [
        pytest.param("https://Ads.Example.COM./x?y=1", "ads.example.com", id="normalised"),
        pytest.param("wss://socket.example.org/", "socket.example.org", id="websocket"),
        pytest.param("inline", None, id="inline"),
        pytest.param("eval", None, id="eval"),
        pytest.param("data:text/html,x", None, id="data"),
        pytest.param("https://[::1]/", None, id="ipv6"),
        pytest.param("https://a b/", None, id="space"),
        pytest.param(42, None, id="number"),
    ],
)
def test_only_hosts_that_fetch_are_counted(blocked: object, expected: str | None) -> None:
    body = {"csp-report": {**LEGACY["csp-report"], "blocked-uri": blocked}}
    loads = parse_reports("application/csp-report", json.dumps(body).encode())
    assert [load.host for load in loads] == ([expected] if expected else [])


def test_pages_and_directives_are_made_safe_to_print() -> None:
    body = {
        "csp-report": {
            "blocked-uri": "https://t.example/",
            "effective-directive": "img-src; evil",
            "document-uri": "https://testserver/\x1b[31mred/é?q=1",
        }
    }
    (load,) = parse_reports("application/json", json.dumps(body).encode())
    assert load.directive == "unknown"
    assert load.page == "/%1B%5B31mred/%C3%A9"


def test_at_most_a_bounded_number_of_reports_per_body() -> None:
    short = {"type": "csp-violation", "body": {"blockedURL": "https://t.example/"}}
    batch = [short] * (MAX_REPORTS_PER_BODY + 50)
    loads = parse_reports("application/reports+json", json.dumps(batch).encode())
    assert len(loads) == MAX_REPORTS_PER_BODY


def test_parse_errors_carry_their_status() -> None:
    with pytest.raises(ReportError) as raised:
        parse_reports(None, b"{}")
    assert raised.value.status == 415


# ---------------------------------------------------------------- the counts


def test_memory_counts_are_bounded() -> None:
    store = MemoryHostReports(max_keys=2)
    store.add([BlockedLoad("a.example", "img-src", "/")] * 3)
    store.add([BlockedLoad("b.example", "img-src", "/"), BlockedLoad("c.example", "img-src", "/")])
    assert [(r.host, r.reports) for r in store.rows()] == [("a.example", 3), ("b.example", 1)]
    assert store.dropped == 1


def test_sqlite_counts_add_up_and_stay_bounded(tmp_path: Path) -> None:
    table = SqliteHostReports(tmp_path / "c.db", max_rows=2)
    buffered = BufferedHostReports(table, interval=3600)
    buffered.add([BlockedLoad("a.example", "img-src", "/")] * 2)
    buffered.flush()
    buffered.add(
        [BlockedLoad("a.example", "img-src", "/"), BlockedLoad("b.example", "img-src", "/p")]
    )
    buffered.add([BlockedLoad("c.example", "connect-src", "/")])
    buffered.close()
    assert [(r.host, r.reports) for r in table.rows()] == [("a.example", 3), ("b.example", 1)]
    assert table.dropped == 1


def test_counts_survive_a_failed_write(tmp_path: Path) -> None:
    table = SqliteHostReports(tmp_path / "missing" / "c.db")
    buffered = BufferedHostReports(table, interval=3600)
    buffered.add([BlockedLoad("a.example", "img-src", "/")])
    with pytest.raises(sqlite3.Error):
        buffered.flush()
    (tmp_path / "missing").mkdir()
    buffered.close()
    assert [(r.host, r.reports) for r in table.rows()] == [("a.example", 1)]


# ---------------------------------------------------------------- gpc-middleware hosts


def filled_log(tmp_path: Path) -> str:
    table = SqliteHostReports(tmp_path / "consents.db")
    store = BufferedHostReports(table, interval=3600)
    store.add([BlockedLoad("connect.facebook.net", "script-src-elem", "/")] * 5)
    store.add([BlockedLoad("cdn.unknown-widgets.example", "script-src-elem", "/cart")] * 2)
    store.add([BlockedLoad("cdn.unknown-widgets.example", "img-src", "/")])
    store.close()
    return f"sqlite:///{tmp_path / 'consents.db'}"


def test_hosts_lists_unknown_hosts_first_with_a_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = filled_log(tmp_path)
    assert main(["hosts", "--db", url]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].startswith("cdn.unknown-widgets.example") and "UNKNOWN" in lines[1]
    assert lines[2].startswith("connect.facebook.net") and "targeting" in lines[2]
    assert "    'cdn.unknown-widgets.example': 'targeting'," in out
    assert "'connect.facebook.net'" not in out.split("third_party_hosts")[1]


def test_hosts_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "--db", filled_log(tmp_path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    first, second = payload["hosts"]
    assert first["host"] == "cdn.unknown-widgets.example" and first["category"] is None
    assert first["reports"] == 3
    assert first["directives"] == {"script-src-elem": 2, "img-src": 1}
    assert second["category"] == "targeting" and second["vendor"]
    assert payload["third_party_hosts"] == {"cdn.unknown-widgets.example": "targeting"}


def test_hosts_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "--db", "consents.db"]) == 2  # not a URL
    assert main(["hosts", "--db", "postgresql://gpc@127.0.0.1:1/none"]) == 1  # no server there
    assert "cannot read postgresql://gpc@127.0.0.1:1/none" in capsys.readouterr().err
    assert main(["hosts", "--db", f"sqlite:///{tmp_path}/empty.db"]) == 0
    assert "no reports yet" in capsys.readouterr().out


def test_hosts_installed_command(tmp_path: Path) -> None:
    command = shutil.which("gpc-middleware")
    if command is None:
        pytest.skip("the console script is not installed")
    done = subprocess.run(
        [command, "hosts", "--db", filled_log(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout)["hosts"][0]["host"] == "cdn.unknown-widgets.example"


def test_reports_go_where_the_consent_log_is(tmp_path: Path) -> None:
    from gpc_middleware.records.log import NullConsentLog
    from gpc_middleware.records.sqlite_log import SqliteConsentLog

    assert isinstance(
        ConsentPolicy(secret_key=SECRET, csp="enforce").csp_reports, MemoryHostReports
    )
    other = ConsentPolicy(secret_key=SECRET, csp="enforce", consent_log=NullConsentLog())
    assert isinstance(other.csp_reports, MemoryHostReports)
    log = SqliteConsentLog(tmp_path / "c.db")
    sqlite = ConsentPolicy(secret_key=SECRET, csp="report-only", consent_log=log)
    assert isinstance(sqlite.csp_reports, BufferedHostReports)
    assert sqlite.csp_reports.table.path == log.path
    sqlite.csp_reports.close()
    for policy in (other, sqlite):
        assert policy.recorder is not None
        policy.recorder.close()


# ---------------------------------------------------------------- a SQLAlchemy consent log


def counted_through_the_endpoint(url: str, kind: str) -> list[tuple[str, str, str, int]]:
    """Three reports sent to a middleware whose consent log is ``url``, as the log's table has them."""
    policy = ConsentPolicy(secret_key=SECRET, csp="report-only", consent_log=url)
    client: Client = (
        ASGIClient(starlette_app(policy)) if kind == "asgi" else WSGIClient(flask_app(policy))
    )
    for _ in range(3):
        assert report(client, json.dumps(LEGACY).encode(), "application/csp-report").status == 204
    store = policy.csp_reports
    assert isinstance(store, BufferedHostReports)
    store.close()  # written to the database
    assert policy.recorder is not None
    policy.recorder.close()
    from gpc_middleware.records.csp_hosts_sqlite import read_host_reports

    return [(r.host, r.directive, r.page, r.reports) for r in read_host_reports(url)]


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_a_sqlalchemy_logs_database_gets_the_counts(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+pysqlite:///{tmp_path}/consents.db"  # through SQLAlchemy, not sqlite3
    assert counted_through_the_endpoint(url, kind) == [
        ("cdn.unknown-widgets.example", "script-src-elem", "/shop/cart", 3)
    ]
    assert main(["hosts", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["third_party_hosts"] == {
        "cdn.unknown-widgets.example": "targeting"
    }


@requires_postgres
def test_a_postgresql_logs_database_gets_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import create_engine, text

    assert POSTGRES_URL is not None
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS gpc_csp_hosts"))
    engine.dispose()
    assert counted_through_the_endpoint(POSTGRES_URL, "asgi") == [
        ("cdn.unknown-widgets.example", "script-src-elem", "/shop/cart", 3)
    ]
    assert counted_through_the_endpoint(POSTGRES_URL, "wsgi") == [
        ("cdn.unknown-widgets.example", "script-src-elem", "/shop/cart", 6)
    ]
    assert main(["hosts", "--db", POSTGRES_URL]) == 0
    assert "cdn.unknown-widgets.example" in capsys.readouterr().out
