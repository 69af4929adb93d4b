"""What every framework integration promises, checked the same way for each (tests/test_frameworks.py,
tests/test_django.py): the tracker is removed, the middleware's endpoints answer, the view reads the
consent in its framework's own way, and a ``PUT /_consent`` choice holds on the next page.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from .conftest import Client

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GA_HOST = "www.googletagmanager.com"  # Google Analytics: the "analytics" category
ADSENSE_HOST = "pagead2.googlesyndication.com"  # AdSense: "targeting"


def load_example(name: str) -> ModuleType:
    """``examples/{name}.py`` as a module, loaded once (Litestar resolves a handler's
    annotations in its module, and Django's settings can be configured once a process)."""
    module_name = f"example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def exercise_job_board(client: Client, path: str = "/") -> None:
    """The four promises, through an example job board (``gpc_middleware.cli.demo.job_board_html``).

    The page prints the consent its view read ("GPC on this request: yes"), so the
    framework's own way of reading it is what is checked.
    """
    page = client.get(path, headers={"Sec-GPC": "1"})
    text = page.body.decode()
    assert page.status == 200, text
    assert GA_HOST not in text and ADSENSE_HOST not in text
    assert "Opt-Out Request Honored" in text and "GPC on this request: yes" in text

    assert client.get("/.well-known/gpc.json").json() == {"gpc": True, "lastUpdate": "2025-01-15"}
    state = client.get("/_consent")
    assert state.status == 200 and state.json()["gpc_honored"] is True  # recorded by the page
    settings = client.get("/_consent/settings")
    assert settings.status == 200 and (settings.header("content-type") or "").startswith(
        "text/html"
    )
    assert client.get("/_consent/widget.js").status == 200

    chosen = client.choose({"categories": {"analytics": True}})
    assert chosen.status == 200, chosen.body
    assert chosen.json()["categories"]["analytics"] is True
    assert client.cookie("gpc_consent")

    page = client.get(path)
    text = page.body.decode()
    assert GA_HOST in text and ADSENSE_HOST not in text  # analytics chosen, targeting not
    assert "Allowed now: essential, analytics ·" in text


def exercise_page(client: Client) -> str:
    """The same promises on a page with one Google Analytics tag that says "Opt-Out Request
    Honored" when its view reads ``consent.gpc_honored``. Returns that page."""
    page = client.get("/", headers={"Sec-GPC": "1"})
    text = page.body.decode()
    assert page.status == 200, text
    assert GA_HOST not in text and "Opt-Out Request Honored" in text
    assert client.get("/.well-known/gpc.json").json() == {"gpc": True, "lastUpdate": "2025-01-15"}
    assert client.get("/_consent").json()["gpc_honored"] is True
    assert client.choose({"all": True}).status == 200
    assert GA_HOST in client.get("/").body.decode()
    return text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(command: Sequence[str], port: int, *, cwd: Path | None = None) -> Iterator[str]:
    """Run a server in a subprocess; yield its base URL once it answers."""
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env={**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    output = process.communicate(timeout=10)[0].decode(errors="replace")
                    raise RuntimeError(f"{command} did not start:\n{output}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request with the standard library: status, header lines as sent, body."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, list(response.headers.items()), response.read()


def run_python(code: str, *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter; its output, or the failure with it."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
