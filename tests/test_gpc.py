from __future__ import annotations

import pytest

from gpc_middleware.core.gpc import is_gpc_signal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1", True, id="one"),
        pytest.param(" 1 ", True, id="whitespace-trimmed"),
        pytest.param("1, 1", True, id="merged-duplicates"),
        pytest.param("0, 1", True, id="merged-any-element-one"),
        pytest.param(None, False, id="absent"),
        pytest.param("", False, id="empty"),
        pytest.param("0", False, id="zero"),
        pytest.param("true", False, id="true-is-not-1"),
        pytest.param("01", False, id="leading-zero"),
        pytest.param("1.0", False, id="decimal"),
        pytest.param("11", False, id="eleven"),
        pytest.param("0, 0", False, id="merged-zeros"),
        pytest.param("1;q=1", False, id="parameters"),
        pytest.param("\t1 ", True, id="tab-and-space-are-ows"),
        pytest.param("0,\t1", True, id="merged-with-tab"),
        # RFC 9110 OWS is space and tab only: str.strip() took these for whitespace too
        pytest.param("\x0b1", False, id="vertical-tab"),
        pytest.param("1\x0c", False, id="form-feed"),
        pytest.param("1\x1d", False, id="group-separator"),
        pytest.param("\x1c1", False, id="file-separator"),
        pytest.param("\xa01", False, id="no-break-space"),
        pytest.param("1\x85", False, id="next-line"),
        pytest.param("1\r", False, id="carriage-return"),
        pytest.param("0, \x0b1", False, id="merged-vertical-tab"),
    ],
)
def test_only_exactly_one_is_a_signal(value: str | None, expected: bool) -> None:
    assert is_gpc_signal(value) is expected
