"""The scan sub-command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpc_middleware.__main__ import main

PAGES = Path(__file__).parent / "data" / "pages"


def test_scan_lists_every_refused_element(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(PAGES / "01_news_ga4_gtm.html")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("refused: analytics, preference, targeting")
    assert len(out) == 1 + 10 + 1
    assert "analytics  <script>  signature:'gtm.start'" in out[1]
    assert out[1].split()[0] == "297"  # byte offset of the <script
    assert out[-1] == "# 10 element(s) would be removed: 9 analytics, 1 targeting"


@pytest.mark.parametrize(
    ("args", "summary"),
    [
        pytest.param(["--allow", "analytics,targeting"], "# 0 element(s) would be removed",
                     id="allow"),
        pytest.param(["--allow", "analytics,targeting", "--gpc"],
                     "# 1 element(s) would be removed: 1 targeting", id="gpc"),
        pytest.param(["--neutralize"],
                     "# 10 element(s) would be neutralized: 9 analytics, 1 targeting",
                     id="neutralize"),
    ],
)  # fmt: skip
def test_scan_options(args: list[str], summary: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(PAGES / "01_news_ga4_gtm.html"), *args]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == summary


def test_scan_consent_map(capsys: pytest.CaptureFixture[str]) -> None:
    page = str(PAGES / "07_klaro.html")
    assert main(["scan", page, "--map", "data-name=youtube:targeting"]) == 0
    out = capsys.readouterr().out
    assert "consent:data-name=youtube" in out


def test_scan_rejects_bad_category(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["scan", "x.html", "--allow", "ads"])
    assert "unknown consent category" in capsys.readouterr().err


def test_scan_as_a_command() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "gpc_middleware", "scan", str(PAGES / "08_tricky_markup.html")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == (
        "# 10 element(s) would be removed: 6 analytics, 4 targeting"
    )
    assert "[in template]" in done.stdout


XHTML = (
    b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><textarea/>'
    b'<script src="https://www.googletagmanager.com/gtag/js?id=G-1"/><p>after</p></body></html>'
)


@pytest.mark.parametrize(
    ("name", "args", "summary"),
    [
        pytest.param("page.xhtml", [], "# 1 element(s) would be removed: 1 analytics", id="suffix"),
        pytest.param("page.html", ["--xml"], "# 1 element(s) would be removed: 1 analytics",
                     id="flag"),
        # read as HTML, the <textarea/> opens raw text that hides the script
        pytest.param("page.html", [], "# 0 element(s) would be removed", id="as-html"),
    ],
)  # fmt: skip
def test_scan_reads_xml_documents_as_xml(
    tmp_path: Path, name: str, args: list[str], summary: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / name
    page.write_bytes(XHTML)
    assert main(["scan", str(page), *args]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == summary
