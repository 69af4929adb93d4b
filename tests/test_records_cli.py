"""``gpc-middleware records export|purge|stats``: in process through ``main``; the installed
command."""

from __future__ import annotations

import json
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
from gpc_middleware.records.losses import LossRecord
from gpc_middleware.records.record import DEFAULT_RETENTION, ConsentRecord

from .records_support import T0, empty_postgres, make_record, requires_postgres

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


@pytest.mark.parametrize("action", ["export", "purge", "stats"])
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
def test_export_stats_and_purge_on_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    url = empty_postgres()
    log = open_consent_log(url)
    log.write([make_record(n) for n in range(4)])
    log.write_losses([LOSS])
    log.close()
    assert main(["records", "export", "--db", url, "--since", "2026-01-15"]) == 0
    assert lines_of(capsys.readouterr().out) == [make_record(n) for n in range(4)]
    assert main(["records", "stats", "--db", url, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["records"], stats["events_lost"]) == (4, 12)
    assert main(["records", "purge", "--db", url, "--older-than", "1"]) == 0
    assert capsys.readouterr().out.startswith("purged 4 consent records")


LOSS = LossRecord(
    loss_id="f" * 32,
    reason="queue-full",
    first_lost=T0,
    last_lost=T0 + timedelta(minutes=3),
    events=12,
)


def test_stats_prints_records_by_kind_and_losses(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = open_consent_log(url)
    log.write([make_record(100, kind="gpc", time=T0 + timedelta(hours=1))])
    log.write_losses([LOSS])
    log.close()
    assert main(["records", "stats", "--db", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "consent records: 10",
        "  choice                  9  oldest 2026-01-15T12:00:00+00:00  "
        "newest 2026-01-15T12:08:00+00:00",
        "  gpc                     1  oldest 2026-01-15T13:00:00+00:00  "
        "newest 2026-01-15T13:00:00+00:00",
        "consent events lost: 12",
        "  queue-full             12  first 2026-01-15T12:00:00+00:00  "
        "last 2026-01-15T12:03:00+00:00  (1 windows)",
        "latest losses:",
        "  2026-01-15T12:00:00+00:00 to 2026-01-15T12:03:00+00:00  12 queue-full",
    ]


def test_stats_as_json(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    log = open_consent_log(url)
    log.write_losses([LOSS])
    log.close()
    assert main(["records", "stats", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "records": 9,
        "kinds": {
            "choice": {
                "records": 9,
                "oldest": "2026-01-15T12:00:00.000000+00:00",
                "newest": "2026-01-15T12:08:00.000000+00:00",
            }
        },
        "oldest": "2026-01-15T12:00:00.000000+00:00",
        "newest": "2026-01-15T12:08:00.000000+00:00",
        "events_lost": 12,
        "losses": {
            "queue-full": {
                "events": 12,
                "windows": 1,
                "first_lost": "2026-01-15T12:00:00.000000+00:00",
                "last_lost": "2026-01-15T12:03:00.000000+00:00",
            }
        },
        "recent_losses": [LOSS.to_json()],
    }


def test_stats_of_a_log_that_kept_no_losses(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # A log written before losses were kept has no losses table: nothing lost on record.
    assert main(["records", "stats", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "consent records: 9" in out and "consent events lost: 0" in out
    assert "latest losses" not in out


def test_stats_of_a_file_that_is_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "not-a-database.db"
    bad.write_bytes(b"this is not a SQLite file" * 100)
    assert main(["records", "stats", "--db", f"sqlite:///{bad}"]) == 1
    assert "stats failed" in capsys.readouterr().err


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
