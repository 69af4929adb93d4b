"""Build the optional compiled scanning core (``_scan.c``) when the package is built.

How it works
------------
Hatchling runs :class:`ScanningCoreBuildHook` before each wheel build, the editable one
(``pip install -e .``) included. It compiles ``_scan.c`` in place, next to its source, as
``_scan{EXT_SUFFIX}``: an editable install imports it from there, and a regular wheel
takes it in through ``force_include`` (``.gitignore`` hides it from hatchling's file
selection) and becomes a platform wheel. The compiler is ``$CC``, else the one Python was
built with (``sysconfig``), else ``cc``.

The core is optional, as markupsafe's and msgpack's speedups are: when it does not
compile (no compiler, no Python headers, another platform), the hook prints one warning
line and the build goes on without it; the package then runs its pure-Python tokenizer,
which gives the same output (``accel.py`` picks the core at import). A failed or skipped
build also removes an earlier in-place build, so what is installed is what was built.

Environment, at build time:

* ``GPC_MIDDLEWARE_PURE_PYTHON=1`` skips compiling (a pure-Python wheel).
* ``GPC_MIDDLEWARE_CFLAGS`` adds flags after the defaults, split as a shell would: ``-Werror``,
  or the sanitizer build of ``.ci/asan.sh``
  (``-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1``).

Run as a script (``python hatch_build.py [ROOT]``), it compiles the core in place under
``ROOT`` (default: this file's folder) with the same compiler and flags, and exits 1 if it
could not: ``.ci/asan.sh`` builds its sanitizer copy of the source tree this way.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PURE_PYTHON_ENV = "GPC_MIDDLEWARE_PURE_PYTHON"
CFLAGS_ENV = "GPC_MIDDLEWARE_CFLAGS"
# The core's source, relative to the project root, and its module's path inside the wheel.
SOURCE = Path("src/gpc_middleware/enforcement/tokenizer/_scan.c")
PACKAGE_ROOT = Path("src")
DEFAULT_FLAGS = ("-O2", "-shared", "-fPIC", "-std=c11", "-Wall", "-Wextra")
COMPILE_TIMEOUT_SECONDS = 300


def extension_path(root: Path) -> Path:
    """Where the compiled core of this interpreter goes: beside its source."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return root / SOURCE.with_name(f"_scan{suffix}")


def compile_command(source: Path, output: Path) -> list[str]:
    """The compiler invocation that builds ``source`` into the extension module ``output``."""
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    paths = sysconfig.get_paths()
    includes = dict.fromkeys([paths["include"], paths["platinclude"]])  # ordered, no repeats
    command = [*shlex.split(compiler), *DEFAULT_FLAGS]
    if sys.platform == "darwin":
        # Python's symbols come from the interpreter that loads the module, as on Linux.
        command += ["-undefined", "dynamic_lookup"]
    command += [f"-I{include}" for include in includes]
    command += shlex.split(os.environ.get(CFLAGS_ENV, ""))
    return [*command, str(source), "-o", str(output)]


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or [""])[0]


def build_in_place(root: Path) -> tuple[Path | None, str]:
    """Compile the core under ``root``: ``(path, "")`` when built, ``(None, reason)`` when not.

    The module is written under a temporary name and renamed over the old one, so an
    interrupted build never leaves half a module; when the build fails or is skipped, an
    earlier build is removed.
    """
    target = extension_path(root)
    if os.environ.get(PURE_PYTHON_ENV, "").strip() not in ("", "0"):
        target.unlink(missing_ok=True)
        return None, f"{PURE_PYTHON_ENV} is set"
    partial = target.with_name(f"_scan.partial{target.name.removeprefix('_scan')}")
    command = compile_command(root / SOURCE, partial)
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=COMPILE_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        reason = f"no compiler {command[0]!r} found"
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = f"{command[0]}: {exc.strerror if isinstance(exc, OSError) else 'timed out'}"
    else:
        if result.returncode == 0:
            os.replace(partial, target)
            return target, ""
        detail = _first_error(result.stderr + result.stdout)
        reason = f"{command[0]} exited with status {result.returncode}" + (
            f": {detail}" if detail else ""
        )
    partial.unlink(missing_ok=True)
    target.unlink(missing_ok=True)
    return None, reason


def warning(reason: str) -> str:
    """The one line a build without the compiled core prints (to stderr)."""
    return (
        f"gpc_middleware: WARNING: the compiled scanning core was not built ({reason}); "
        "the package will use its pure-Python tokenizer, which gives the same output"
    )


class ScanningCoreBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles the scanning core into the wheel (and in place, for editable installs)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        built, reason = build_in_place(Path(self.root))
        if built is None:
            print(warning(reason), file=sys.stderr, flush=True)
            return
        if version != "editable":
            # The module is ignored by .gitignore, so hatchling's selection skips it.
            inside = built.relative_to(Path(self.root) / PACKAGE_ROOT).as_posix()
            build_data["force_include"][str(built)] = inside
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def clean(self, versions: list[str]) -> None:
        for module in (Path(self.root) / SOURCE).parent.glob("_scan.*so"):
            module.unlink()


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    built, reason = build_in_place(root)
    if built is None:
        print(warning(reason), file=sys.stderr)
        return 1
    print(f"built {built}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
