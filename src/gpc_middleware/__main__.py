"""The ``gpc-middleware`` command line: ``python -m gpc_middleware`` or ``gpc-middleware``.

Each feature adds its sub-command in its own module through ``register(subparsers)``;
this module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .cli.version import add_version_flag

# Modules that contribute a sub-command: each has ``register(subparsers) -> None``
# and sets ``func`` (``Callable[[argparse.Namespace], int]``) on its parser's defaults.
_COMMAND_MODULES: tuple[str, ...] = (
    "cli.demo",
    "cli.scan",
    "cli.check",
    "cli.records",
    "cli.hosts",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpc-middleware",
        description="Honour Global Privacy Control and consent choices on the server.",
    )
    add_version_flag(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"gpc_middleware.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    result: int = func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
