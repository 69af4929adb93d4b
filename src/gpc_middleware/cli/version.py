"""``gpc-middleware --version``: the installed version, and which scanning core is active.

The second line says whether the compiled scanning core was built and is in use, or why
the pure-Python tokenizer runs instead (``accel.core_description()``): a build without a
C compiler installs and works, and this is where one sees that it did.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from ..enforcement.tokenizer import accel

__all__ = ["VersionAction", "add_version_flag", "version_text"]

DISTRIBUTION = "gpc-middleware"


def version_text() -> str:
    """Two lines: ``gpc-middleware <version>`` and the active scanning core."""
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "(not installed)"
    return f"{DISTRIBUTION} {version}\n{accel.core_description()}"


class VersionAction(argparse.Action):
    """Prints :func:`version_text` and exits 0, as argparse's ``version`` action does (which
    would refill the two lines into one)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the version and the active scanning core, and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(version_text())  # to stdout, as argparse's own version action does
        parser.exit()


def add_version_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action=VersionAction)
