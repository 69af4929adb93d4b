"""``gpc-middleware records export|purge``: in process through ``main``; the installed command."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gpc_middleware.__main__ import main
from gpc_middleware.records.log import open_consent_log
from gpc_middleware.records.record import DEFAULT_RETENTION, ConsentRecord

from .records_support import FAR_FUTURE, POSTGRES_URL, make_record, requires_postgres

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite consent log holding records 0..8 (consent ids c-0..c-2, a minute apart)."""
    url = f"sqlite:///{tmp_path}/consents.db"
    log = open_consent_log(url)
    log.write([make_record(n) for n in range(9)])
    log.close()
    return url


def lines_of(text: str) -> list[ConsentRecord]:
    return [ConsentRecord.from_json(line) for line in text.splitlines()]


def test_export_to_standard_output(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records", "export", "--db", url, "--since", "2026-01-15"]) == 0
    out, err = capsys.readouterr()
    assert lines_of(out) == [make_record(n) for n in range(9)]
    assert "exported 9 consent records to standard output" in err


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        pytest.param("2026-01-16", [], id="date-after"),
        pytest.param("2026-01-15T12:05:00", [5, 6, 7, 8], id="naive-is-utc"),
        pytest.param("2026-01-15T12:05:00Z", [5, 6, 7, 8], id="z"),
        pytest.param("2026-01-15T13:05:00+01:00", [5, 6, 7, 8], id="offset"),
    ],
)
def test_export_since(
    url: str, since: str, expected: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["records", "export", "--db", url, "--since", since]) == 0
    assert lines_of(capsys.readouterr().out) == [make_record(n) for n in expected]


def test_export_one_visitor_to_a_file(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A data-subject access request: one consent id, into a file only its owner can read.
    output = tmp_path / "dsar.jsonl"
    argv = ["records", "export", "--db", url, "--since", "2000-01-01", "--consent-id", "c-1"]
    assert main([*argv, "--output", str(output)]) == 0
    assert lines_of(output.read_text(encoding="utf-8")) == [make_record(n) for n in (1, 4, 7)]
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert not (tmp_path / "dsar.jsonl.partial").exists()
    assert capsys.readouterr().out == ""


def test_failed_export_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "not-a-database.db"
    bad.write_bytes(b"this is not a SQLite file" * 100)
    output = tmp_path / "out.jsonl"
    argv = ["records", "export", "--db", f"sqlite:///{bad}", "--since", "2026-01-01"]
    assert main([*argv, "--output", str(output)]) == 1
    assert "export failed" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [bad]


def test_purge_older_than_days(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    log = open_consent_log(url)
    now = datetime.now(UTC)
    log.write([make_record(100, time=now - timedelta(days=5))])
    log.close()
    assert main(["records", "purge", "--db", url, "--older-than", "30"]) == 0
    assert capsys.readouterr().out.startswith("purged 9 consent records older than ")
    log = open_consent_log(url)
    assert [record.record_id for record in log.export()] == [make_record(100).record_id]
    log.close()


def test_purge_defaults_to_the_retention_period(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = open_consent_log(url)
    now = datetime.now(UTC)
    log.write(
        [
            make_record(100, time=now - DEFAULT_RETENTION - timedelta(days=1)),
            make_record(101, time=now - DEFAULT_RETENTION + timedelta(days=1)),
        ]
    )
    log.close()
    # Records 0..8 are from 2026-01-15: more recent than the retention period today.
    assert main(["records", "purge", "--db", url]) == 0
    assert capsys.readouterr().out.startswith("purged 1 consent records")


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["records", "export", "--db", "sqlite:///x.db"], id="export-needs-since"),
        pytest.param(["records", "export", "--since", "2026-01-01"], id="export-needs-db"),
        pytest.param(
            ["records", "export", "--db", "sqlite:///x.db", "--since", "2026"], id="bad-since"
        ),
        pytest.param(
            ["records", "purge", "--db", "sqlite:///x.db", "--older-than", "0"], id="zero-days"
        ),
        pytest.param(
            ["records", "purge", "--db", "sqlite:///x.db", "--older-than", "ten"], id="word-days"
        ),
    ],
)
def test_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: gpc-middleware records" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["export", "purge"])
def test_bad_url(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["records", action, "--db", "postgres-without-scheme"]
    if action == "export":
        argv += ["--since", "2026-01-01"]
    assert main(argv) == 2
    assert "the consent log URL must look like sqlite:///" in capsys.readouterr().err


def test_bad_consent_id(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["records", "export", "--db", url, "--since", "2026-01-01", "--consent-id", ""]
    assert main(argv) == 2
    assert "consent_id must not be empty" in capsys.readouterr().err


def test_records_without_an_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records"]) == 2
    assert "export" in capsys.readouterr().err


@requires_postgres
def test_export_and_purge_on_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    assert POSTGRES_URL is not None
    log = open_consent_log(POSTGRES_URL)
    log.purge(FAR_FUTURE)
    log.write([make_record(n) for n in range(4)])
    log.close()
    assert main(["records", "export", "--db", POSTGRES_URL, "--since", "2026-01-15"]) == 0
    assert lines_of(capsys.readouterr().out) == [make_record(n) for n in range(4)]
    assert main(["records", "purge", "--db", POSTGRES_URL, "--older-than", "1"]) == 0
    assert capsys.readouterr().out.startswith("purged 4 consent records")


def test_installed_command(url: str, tmp_path: Path) -> None:
    # The console script, run once as a user would, on this checkout's code.
    scripts = Path(sys.executable).parent
    command = shutil.which("gpc-middleware", path=f"{scripts}{os.pathsep}{os.environ['PATH']}")
    if command is None:
        pytest.skip("the gpc-middleware command is not installed (pip install -e .)")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    output = tmp_path / "audit.jsonl"
    argv = ["records", "export", "--db", url, "--since", "2026-01-15T12:07:00Z"]
    result = subprocess.run(
        [command, *argv, "--output", str(output)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert lines_of(output.read_text(encoding="utf-8")) == [make_record(7), make_record(8)]
