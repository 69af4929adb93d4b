"""Which scanning core runs: the compiled one (:mod:`._scan`), or its pure-Python twin.

The compiled core is optional, as markupsafe's and msgpack's are: a build without a C
compiler installs the pure-Python tokenizer alone, which gives the same output byte for
byte (the test suite runs against both). ``GPC_MIDDLEWARE_PURE_PYTHON=1`` in the
environment forces the Python twin. The choice is made once, at import; a tokenizer
takes the core that is active when it is created (:func:`use_core` switches it, for
tests and benchmarks).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Final, Literal

__all__ = [
    "PURE_PYTHON_ENV",
    "Core",
    "active_core",
    "compiled_module",
    "core_description",
    "use_core",
]

PURE_PYTHON_ENV: Final = "GPC_MIDDLEWARE_PURE_PYTHON"
Core = Literal["c", "python"]


def _load() -> tuple[ModuleType | None, str]:
    try:
        from ._scan import Scanner  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as exc:
        return None, f"the compiled core is not built ({exc})"
    return sys.modules[f"{__package__}._scan"], ""


_MODULE, _MISSING = _load()
_FORCED = os.environ.get(PURE_PYTHON_ENV, "").strip() not in ("", "0")
_active: Core = "c" if _MODULE is not None and not _FORCED else "python"


def compiled_module() -> ModuleType | None:
    """The compiled core's module while it is the active core, else None."""
    return _MODULE if _active == "c" else None


def compiled_available() -> bool:
    """Whether the compiled core is built (and so can be made active)."""
    return _MODULE is not None


def active_core() -> Core:
    """``"c"`` when the compiled core scans, ``"python"`` when the pure-Python twin does."""
    return _active


def core_description() -> str:
    """One line saying which core is active, and why (for ``gpc-middleware --version``)."""
    if _active == "c":
        return "scanning core: compiled (C)"
    if _MODULE is not None:
        return f"scanning core: pure Python ({PURE_PYTHON_ENV} is set)"
    return f"scanning core: pure Python; {_MISSING}"


def use_core(core: Core) -> Core:
    """Make ``core`` the active core for tokenizers created from now on; return the
    previous one. ``"c"`` raises :class:`RuntimeError` when the compiled core is not built."""
    global _active
    if core not in ("c", "python"):
        raise ValueError(f"core must be 'c' or 'python', not {core!r}")
    if core == "c" and _MODULE is None:
        raise RuntimeError(_MISSING)
    previous = _active
    _active = core
    return previous
