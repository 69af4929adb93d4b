"""The examples and the demo run as they are (smoke tests through their real HTTP surface)."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest
import webtest
from starlette.testclient import TestClient

from gpc_middleware.__main__ import main

from .integration_support import fetch, running_server

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_starlette_example() -> None:
    client = TestClient(load("starlette_app").app)
    page = client.get("/")
    assert (
        page.status_code == 200
        and "Open positions" in page.text
        and "Opt-Out Request Honored" not in page.text
    )
    gpc = client.get("/", headers={"Sec-GPC": "1"})
    assert "Opt-Out Request Honored" in gpc.text
    assert (
        client.get("/_consent").json()["gpc_honored"] is True
    )  # recorded by the previous response


def test_flask_example() -> None:
    client = webtest.TestApp(load("flask_app").app)
    assert "Open positions" in client.get("/").text
    gpc = client.get("/", headers={"Sec-GPC": "1"})
    assert "Opt-Out Request Honored" in gpc.text
    assert client.get("/.well-known/gpc.json").json == {"gpc": True, "lastUpdate": "2025-01-15"}


def test_cli_without_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_command_serves_the_site() -> None:
    port = free_port()
    command = [sys.executable, "-m", "gpc_middleware", "demo", "--port", str(port)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ}
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/", headers={"Sec-GPC": "1"}
                )
                with urllib.request.urlopen(request, timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert "Opt-Out Request Honored" in body
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/" in output


@pytest.mark.parametrize(
    "script",
    ["starlette_app", "fastapi_app", "flask_app", "litestar_app", "falcon_app", "django_app"],
)
def test_each_example_runs_as_the_readme_says(script: str) -> None:
    # python examples/<script>.py, on the port PORT names
    port = free_port()
    with running_server([sys.executable, str(EXAMPLES / f"{script}.py")], port) as base:
        status, _, body = fetch(f"{base}/", headers={"Sec-GPC": "1"})
    assert status == 200 and b"Opt-Out Request Honored" in body
    assert b"googletagmanager.com" not in body
