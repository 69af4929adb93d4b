"""The conformance checks: they pass against our examples and name the right failure on broken sites."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware
from gpc_middleware.__main__ import main
from gpc_middleware.cli.demo import job_board_html
from gpc_middleware.conformance.checks import CHECKS
from gpc_middleware.conformance.report import ConformanceError
from gpc_middleware.conformance.runner import run_checks

from .conftest import SECRET

ROOT = Path(__file__).resolve().parent.parent


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"conformance_{name}", ROOT / "examples" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["starlette_app", "flask_app"])
def test_examples_pass_every_applicable_check(name: str) -> None:
    report = run_checks(load_example(name).app).assert_ok()
    statuses = {r.check: r.status for r in report.results}
    # The examples run in opt-in mode, where no US framework applies (usprivacy "1---").
    assert statuses == {**dict.fromkeys(CHECKS, "pass"), "iab-signals": "n/a"}
    assert report.pages == ("/",)  # the crawl skips the middleware's own pages


def job_board(policy: ConsentPolicy) -> Starlette:
    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(job_board_html(request.state.gpc_consent))

    return GPCMiddleware(Starlette(routes=[Route("/", home)]), policy=policy)  # type: ignore[return-value]


def policy(**kwargs: Any) -> ConsentPolicy:
    return ConsentPolicy(
        secret_key=SECRET, policy_version="2025-01-15", cookie_secure=False, **kwargs
    )


def failed(report: Any) -> set[str]:
    return {r.check for r in report.failures}


def test_iab_signals_are_checked() -> None:
    report = run_checks(job_board(policy(mode="opt-out", iab_signals=True)))
    assert report.result("iab-signals").status == "pass"
    # Opt-in mode publishes "1---" and no US section: the check does not apply.
    report = run_checks(job_board(policy(iab_signals=True)))
    assert report.result("iab-signals").status == "n/a"


def test_site_that_ignores_gpc() -> None:
    report = run_checks(job_board(policy(mode="opt-out", gpc_categories=())))
    assert failed(report) == {"gpc-fresh-visit", "gpc-after-accept-all"}
    with pytest.raises(ConformanceError, match="gpc-fresh-visit"):
        report.assert_ok()


def test_site_that_sets_fbp_anyway() -> None:
    # A site that told the middleware its Meta pixel cookie is "essential".
    app = Flask(__name__)

    @app.get("/")
    def home() -> Any:
        response = app.make_response("<!doctype html><p>jobs</p>")
        response.set_cookie("_fbp", "fb.1.2")
        return response

    app.wsgi_app = GPCWSGIMiddleware(app.wsgi_app, policy=policy(essential_cookies=["_fbp"]))  # type: ignore[method-assign]
    report = run_checks(app)
    assert "gpc-fresh-visit" in failed(report)
    assert any("_fbp" in line for line in report.result("gpc-fresh-visit").evidence)


def test_site_without_gpc_json() -> None:
    assert failed(run_checks(job_board(policy(gpc_json_last_update=None)))) == {"gpc-json"}


def test_site_that_serves_trackers_before_consent() -> None:
    assert "opt-in-before-choice" in failed(run_checks(job_board(policy(html_mode="off"))))


def test_site_without_the_middleware() -> None:
    """A hand-made site: trackers always, a gpc.json, a consent endpoint that trusts anyone, no Vary."""
    state = {"all": False}

    async def home(request: Request) -> HTMLResponse:
        extra = "<p>GPC!</p>" if request.headers.get("sec-gpc") == "1" else ""
        return HTMLResponse(job_board_html_plain() + extra)

    async def gpc_json(request: Request) -> Response:
        return Response(b'{"gpc": true, "lastUpdate": "2024-13-01"}', media_type="application/json")

    async def consent(request: Request) -> JSONResponse:
        if request.method == "PUT":
            state["all"] = (await request.json())["all"]
        on = state["all"]
        return JSONResponse(
            {
                "gpc": False,
                "mode": "opt-out",
                "decided": on,
                "categories": {
                    "essential": True,
                    "analytics": on,
                    "preference": on,
                    "targeting": on,
                },
            }
        )

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/.well-known/gpc.json", gpc_json),
            Route("/_consent", consent, methods=["GET", "PUT"]),
        ]
    )
    report = run_checks(app)
    assert {"gpc-json", "gpc-fresh-visit", "vary-on-signal", "cross-site-refused"} <= failed(report)
    assert report.result("gpc-json").summary.startswith("lastUpdate")


XHTML_WITH_TRACKER = (
    b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><textarea/>'
    b'<script src="https://www.googletagmanager.com/gtag/js?id=G-1"/></body></html>'
)


@pytest.mark.parametrize(
    ("html_mode", "passes"), [("off", False), ("strip", True)], ids=["unfiltered", "filtered"]
)
def test_xml_pages_are_checked_as_xml(html_mode: str, passes: bool) -> None:
    # Read as HTML, the <textarea/> would hide the script from the check as well.
    async def home(request: Request) -> Response:
        return Response(XHTML_WITH_TRACKER, media_type="application/xhtml+xml")

    app = GPCMiddleware(Starlette(routes=[Route("/", home)]), policy=policy(html_mode=html_mode))
    result = run_checks(app, pages=["/"], checks=["opt-in-before-choice"]).results[0]
    assert (result.status == "pass") is passes, result
    if not passes:
        assert any("googletagmanager" in line for line in result.evidence)


def job_board_html_plain() -> str:
    from gpc_middleware.cli.demo import ADSENSE_LOADER, GOOGLE_ANALYTICS, META_PIXEL

    return f"<!doctype html><html><head>{GOOGLE_ANALYTICS}{ADSENSE_LOADER}</head><body>{META_PIXEL}</body></html>"


def test_report_json_and_table() -> None:
    report = run_checks(job_board(policy()), pages=["/"], checks=["gpc-json", "cross-site-refused"])
    data = report.to_json()
    assert data["ok"] is True and [r["check"] for r in data["results"]] == [
        "gpc-json",
        "cross-site-refused",
    ]
    table = report.format(color=True)
    assert "\x1b[32mPASS\x1b[0m" in table and "2 passed, 0 failed, 0 not applicable" in table
    with pytest.raises(ValueError, match="unknown check"):
        run_checks(job_board(policy()), checks=["nope"])


# --- the command line and the pytest plugin, against a real server on loopback ---------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_site() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "starlette_app.py")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "/.well-known/gpc.json", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_check_against_a_live_site(live_site: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", live_site, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["target"] == live_site
    assert main(["check", live_site, "--check", "gpc-json", "--color", "never"]) == 0
    assert "PASS  gpc-json" in capsys.readouterr().out


def test_cli_check_fails_with_the_check_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = ModuleType("broken_site_for_cli")
    module.app = job_board(policy(gpc_json_last_update=None))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "broken_site_for_cli", module)
    assert main(["check", "broken_site_for_cli:app", "--color", "never"]) == 1
    assert "FAIL  gpc-json" in capsys.readouterr().out
    assert main(["check", "not a target"]) == 2


def test_installed_command(live_site: str) -> None:
    command = [str(Path(sys.executable).parent / "gpc-middleware"), "check", live_site]
    if not Path(command[0]).exists():
        command = [sys.executable, "-m", "gpc_middleware", "check", live_site]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout


def test_pytest_plugin(pytester: pytest.Pytester, live_site: str) -> None:
    pytester.makepyfile(
        test_site="""
        from gpc_middleware import ConsentPolicy, GPCMiddleware
        from starlette.applications import Starlette

        def test_gpc(gpc_conformance):
            app = GPCMiddleware(Starlette(), policy=ConsentPolicy(secret_key="k" * 32, gpc_json_last_update=None))
            report = gpc_conformance.check(app, pages=["/"])
            assert [r.check for r in report.failures] == ["gpc-json"]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("--gpc-url", live_site, "-k", "gpc_conformance")
    result.assert_outcomes(passed=1)


def plain_wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><title>t</title><p>hello</p>"]


@pytest.mark.parametrize(
    ("target", "named"),
    [
        pytest.param(plain_wsgi_app, f"{__name__}.plain_wsgi_app", id="function"),
        pytest.param(
            GPCWSGIMiddleware(plain_wsgi_app, policy=ConsentPolicy(secret_key=SECRET)),
            "gpc_middleware.wsgi.GPCWSGIMiddleware",
            id="instance",
        ),
    ],
)
def test_report_names_what_it_checked(target: Any, named: str) -> None:
    # A plain function app names itself, not "builtins.function".
    assert run_checks(target).target == named
