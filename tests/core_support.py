"""The compiled scanning core in the tests: skipped where it is not built, unless CI asks
for it (``GPC_REQUIRE_C_CORE=1``), where a build that silently fell back to pure Python
must fail instead."""

from __future__ import annotations

import os

import pytest

from gpc_middleware.enforcement.tokenizer import accel

REQUIRE_C_CORE = "GPC_REQUIRE_C_CORE"


def require_compiled_core() -> None:
    """Skip the calling test (or fail it, with ``GPC_REQUIRE_C_CORE=1``) when this install
    has no compiled core."""
    if accel.compiled_available():
        return
    reason = f"the compiled scanning core is not built here: {accel.core_description()}"
    if os.environ.get(REQUIRE_C_CORE, "").strip() not in ("", "0"):
        pytest.fail(f"{REQUIRE_C_CORE} is set but {reason}")
    pytest.skip(reason)
