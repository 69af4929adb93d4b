"""Every parser of untrusted input, fuzzed with hypothesis on every run (issue #17).

One test per target of ``tests/fuzz/targets.py``, 10,000 examples each (2,000 for the
comparison of the two scanning cores, which rewrites every page three times); the inputs are
decoded from raw bytes by ``tests/fuzz/inputs.py`` (see there why). The same targets and
inputs run under atheris, coverage-guided and for as long as one likes:
``python -m tests.fuzz.atheris_main TARGET`` (see the README, Development).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .fuzz import targets
from .fuzz.inputs import INPUTS

FUZZ = settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def inputs(target: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``@given`` the arguments of ``target``, decoded from one ``binary`` draw."""
    decode, size = INPUTS[target]
    return given(st.binary(max_size=size).map(decode))


@FUZZ
@inputs("cookie_header")
def test_fuzz_cookie_header(args: tuple[Any, ...]) -> None:
    targets.cookie_header(*args)


@FUZZ
@inputs("consent_cookie")
def test_fuzz_consent_cookie(args: tuple[Any, ...]) -> None:
    targets.consent_cookie(*args)


@FUZZ
@inputs("gpc_signal")
def test_fuzz_gpc_signal(args: tuple[Any, ...]) -> None:
    targets.gpc_signal(*args)


@FUZZ
@inputs("consent_body")
def test_fuzz_consent_body(args: tuple[Any, ...]) -> None:
    targets.consent_body(*args)


def test_the_nested_json_body_of_the_issue() -> None:
    # 982 nested arrays, about 2 KB, from the same origin: a RecursionError, then a 500
    for adapter in ("asgi", "wsgi"):
        targets.consent_body(b"[" * 982 + b"]" * 982, adapter=adapter)


@FUZZ
@inputs("settings_form")
def test_fuzz_settings_form(args: tuple[Any, ...]) -> None:
    targets.settings_form(*args)


@FUZZ
@inputs("accept_language")
def test_fuzz_accept_language(args: tuple[Any, ...]) -> None:
    targets.accept_language(*args)


@FUZZ
@inputs("host_header")
def test_fuzz_host_header(args: tuple[Any, ...]) -> None:
    targets.host_header(*args)


@FUZZ
@inputs("set_cookie_name")
def test_fuzz_set_cookie_name(args: tuple[Any, ...]) -> None:
    targets.set_cookie_name(*args)


@FUZZ
@inputs("url")
def test_fuzz_url(args: tuple[Any, ...]) -> None:
    targets.url(*args)


@FUZZ
@inputs("rewriter")
def test_fuzz_rewriter(args: tuple[Any, ...]) -> None:
    targets.rewriter(*args)


@settings(FUZZ, max_examples=2_000)
@inputs("scan_cores")
def _fuzz_scan_cores(args: tuple[Any, ...]) -> None:
    targets.scan_cores(*args)


def test_fuzz_scan_cores(scanning_core: str) -> None:
    # both cores side by side: once per run of the suite (its compiled-core half) is enough
    if scanning_core != "c":
        pytest.skip("both cores are compared in the compiled core's half of the suite")
    _fuzz_scan_cores()


@FUZZ
@inputs("csp_report")
def test_fuzz_csp_report(args: tuple[Any, ...]) -> None:
    targets.csp_report(*args)


def test_every_target_is_fuzzed() -> None:
    tested = {
        name.removeprefix("test_fuzz_") for name in globals() if name.startswith("test_fuzz_")
    }
    assert tested == set(targets.TARGETS) == set(INPUTS)
