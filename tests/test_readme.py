"""The README's quick starts run as they stand: each fenced block is taken from the README, saved
where the README says, and run; the secret key comes from the environment, as there.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import SECRET, ASGIClient, WSGIClient
from .integration_support import GA_HOST, exercise_page, run_python

README = Path(__file__).resolve().parent.parent / "README.md"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def quick_start(title: str) -> list[tuple[str, str]]:
    """The fenced blocks (language, text) of the README section ``## {title}``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return [
        (m.group(1), m.group(2)) for m in _FENCE.finditer(text[start : end if end > 0 else None])
    ]


def python_blocks(title: str) -> list[str]:
    return [code for language, code in quick_start(title) if language == "python"]


def load_app(code: str, folder: Path, name: str) -> Any:
    """Save ``code`` as ``{name}.py`` in ``folder`` and import it, as ``uvicorn app:app`` would."""
    path = folder / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # FastAPI and pydantic resolve annotations in the module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module.app


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GPC_SECRET_KEY", SECRET)
    return SECRET


def test_the_quick_starts_are_where_the_test_looks() -> None:
    assert len(python_blocks("One minute with Starlette or FastAPI")) == 2
    assert len(python_blocks("One minute with Flask (or any WSGI app)")) == 1
    assert [language for language, _ in quick_start("One minute with Django")] == [
        "python",
        "python",
        "html",
    ]


@pytest.mark.parametrize("index", [0, 1], ids=["starlette", "fastapi"])
def test_starlette_and_fastapi_quick_starts(index: int, tmp_path: Path, secret_key: str) -> None:
    code = python_blocks("One minute with Starlette or FastAPI")[index]
    exercise_page(ASGIClient(load_app(code, tmp_path, f"readme_app_{index}")))


def test_flask_quick_start(tmp_path: Path, secret_key: str) -> None:
    (code,) = python_blocks("One minute with Flask (or any WSGI app)")
    page = exercise_page(WSGIClient(load_app(code, tmp_path, "readme_flask_app")))
    assert 'src="/_consent/widget.js?v=' in page


# Run in a fresh interpreter: Django's settings are configured once a process.
DJANGO_CHECKS = """
import json, pathlib
import django
django.setup()
from django.core.management import call_command
from django.template import engines
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()  # the test client's host, "testserver", is allowed
call_command("check", fail_level="WARNING")
client = Client()
gpc = client.get("/", headers={"Sec-GPC": "1"})
gpc_json = client.get("/.well-known/gpc.json")
chosen = client.put(
    "/_consent", data={"all": True}, content_type="application/json",
    headers={"Sec-Fetch-Site": "same-origin"},
)
after = client.get("/")
template = engines["django"].from_string(pathlib.Path("template.html").read_text())
print(json.dumps({
    "gpc_page": gpc.content.decode(),
    "gpc_json": gpc_json.json(),
    "put": chosen.status_code,
    "after": after.content.decode(),
    "template_without_request": template.render({}),
    "template_after_accept_all": template.render({}, after.wsgi_request),
}))
"""


def test_django_quick_start(tmp_path: Path, secret_key: str) -> None:
    settings_code, urls_code, template = (code for _, code in quick_start("One minute with Django"))
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(tmp_path)],
        check=True,
        timeout=60,
    )
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(settings.read_text(encoding="utf-8") + "\n" + settings_code)
    (tmp_path / "mysite" / "urls.py").write_text(urls_code, encoding="utf-8")
    (tmp_path / "template.html").write_text(template, encoding="utf-8")
    output = run_python(
        DJANGO_CHECKS,
        cwd=tmp_path,
        env={"DJANGO_SETTINGS_MODULE": "mysite.settings", "GPC_SECRET_KEY": secret_key},
    )
    result = json.loads(output.strip().splitlines()[-1])
    assert GA_HOST not in result["gpc_page"] and "Opt-Out Request Honored" in result["gpc_page"]
    assert result["gpc_json"] == {"gpc": True, "lastUpdate": "2025-01-15"}
    assert result["put"] == 200 and GA_HOST in result["after"]
    assert "Analytics are off." in result["template_without_request"]
    assert GA_HOST not in result["template_without_request"]
    assert GA_HOST in result["template_after_accept_all"]
    assert '<script src="/_consent/widget.js?v=' in result["template_after_accept_all"]
