"""The optional compiled scanning core: how a build makes it (``hatch_build.py``), and how one
sees which core runs (``gpc-middleware --version``).

A build without a C compiler must still install a working, pure-Python package, and say so
once. The wheel builds here run on a copy of the project (the hook compiles in place, and a
build without a compiler removes an earlier build); they use the hatchling of this
environment when it has one, and pip's isolated build otherwise. With
``GPC_REQUIRE_C_CORE=1`` (CI sets it) a compiled core that was not built fails the tests
instead of skipping them, so a build that silently fell back to pure Python cannot pass CI.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from gpc_middleware.__main__ import main
from gpc_middleware.enforcement.tokenizer import accel

from .core_support import require_compiled_core

ROOT = Path(__file__).resolve().parents[1]
WARNING = "gpc_middleware: WARNING: the compiled scanning core was not built"
CORE = "gpc_middleware/enforcement/tokenizer/_scan"  # in a wheel; under src/ in a project
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
# What a wheel is built from (the sdist's own list, less what a wheel does not need).
PROJECT_FILES = ("pyproject.toml", "hatch_build.py", ".gitignore", "README.md", "LICENSE", "NOTICE")
PROJECT_DIRS = ("src", "LICENSES")
BUILD_TIMEOUT_SECONDS = 300


def test_version_names_the_release_and_the_active_core(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"gpc-middleware {metadata.version('gpc-middleware')}",
        accel.core_description(),
    ]


@pytest.mark.parametrize(
    ("pure_python", "core_line"),
    [
        pytest.param("", accel.core_description(), id="as-installed"),
        pytest.param(
            "1", "scanning core: pure Python (GPC_MIDDLEWARE_PURE_PYTHON is set)", id="forced-pure"
        ),
    ],
)
def test_the_installed_command_prints_the_version(pure_python: str, core_line: str) -> None:
    if pure_python and accel.compiled_module() is None:
        core_line = accel.core_description()  # not built: the reason is that, not the variable
    command = [str(Path(sys.executable).parent / "gpc-middleware"), "--version"]
    if not Path(command[0]).exists():
        command = [sys.executable, "-m", "gpc_middleware", "--version"]
    env = {**os.environ, accel.PURE_PYTHON_ENV: pure_python}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"gpc-middleware {metadata.version('gpc-middleware')}",
        core_line,
    ]


def test_the_compiled_core_is_built_and_active() -> None:
    require_compiled_core()
    from gpc_middleware.enforcement.tokenizer import _scan  # type: ignore[attr-defined]

    assert Path(_scan.__file__).name == f"_scan{EXT_SUFFIX}"
    if os.environ.get(accel.PURE_PYTHON_ENV, "").strip() not in ("", "0"):
        pytest.skip(f"{accel.PURE_PYTHON_ENV} is set: the pure-Python twin is active")
    assert accel.active_core() == "c"
    assert accel.compiled_module() is _scan
    assert accel.core_description() == "scanning core: compiled (C)"


def project_copy(folder: Path) -> Path:
    """The files a wheel is built from, copied without any module built in place."""
    project = folder / "project"
    for name in PROJECT_DIRS:
        shutil.copytree(
            ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.so")
        )
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, project / name)
    return project


def build_wheel(project: Path, out: Path, **env: str) -> tuple[zipfile.ZipFile, str]:
    """Build a wheel of ``project`` into ``out`` with ``env`` added; the wheel and pip's output."""
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(out)]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CC", accel.PURE_PYTHON_ENV, "GPC_MIDDLEWARE_CFLAGS")
    }
    result = subprocess.run(
        [*command, str(project)],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel), output


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        pytest.param({"CC": "false"}, "false exited with status 1", id="failing-compiler"),
        pytest.param({"CC": "no-such-cc"}, "no compiler 'no-such-cc' found", id="no-compiler"),
        pytest.param(
            {accel.PURE_PYTHON_ENV: "1"}, f"{accel.PURE_PYTHON_ENV} is set", id="pure-python-asked"
        ),
    ],
)
def test_a_build_without_the_core_is_a_pure_python_wheel(
    env: dict[str, str], reason: str, tmp_path: Path
) -> None:
    project = project_copy(tmp_path)
    # An earlier in-place build is removed, not shipped or left for an editable install.
    stale = project / "src" / f"{CORE}{EXT_SUFFIX}"
    stale.write_bytes(b"not a module")
    wheel, output = build_wheel(project, tmp_path / "dist", **env)
    names = wheel.namelist()
    assert f"{CORE}.c" in names and "gpc_middleware/enforcement/tokenizer/accel.py" in names
    assert not [name for name in names if name.endswith((".so", ".pyd"))]
    assert "Tag: py3-none-any" in wheel.read(f"{distinfo(wheel)}/WHEEL").decode()
    assert not stale.exists()
    (line,) = [line.strip() for line in output.splitlines() if WARNING in line]
    assert line.startswith(f"{WARNING} ({reason}")


def test_a_build_with_a_compiler_is_a_platform_wheel_with_the_core(tmp_path: Path) -> None:
    require_compiled_core()  # where this install could not compile it, this build cannot either
    wheel, output = build_wheel(project_copy(tmp_path), tmp_path / "dist")
    assert f"{CORE}{EXT_SUFFIX}" in wheel.namelist()
    metadata_text = wheel.read(f"{distinfo(wheel)}/WHEEL").decode()
    assert "Root-Is-Purelib: false" in metadata_text
    assert "py3-none-any" not in metadata_text
    assert WARNING not in output


def test_the_sdist_carries_the_source_of_the_core_and_its_build_hook(tmp_path: Path) -> None:
    build = pytest.importorskip("hatchling.build", reason="hatchling builds the sdist")
    project = project_copy(tmp_path)
    (project / "src" / f"{CORE}{EXT_SUFFIX}").write_bytes(b"built in place, never shipped")
    (tmp_path / "dist").mkdir()
    cwd = Path.cwd()
    os.chdir(project)
    try:
        name = build.build_sdist(str(tmp_path / "dist"))
    finally:
        os.chdir(cwd)
    with tarfile.open(tmp_path / "dist" / name) as sdist:
        names = {member.split("/", 1)[1] for member in sdist.getnames() if "/" in member}
    assert {f"src/{CORE}.c", "hatch_build.py", "pyproject.toml"} <= names
    assert not [name for name in names if name.endswith((".so", ".pyd"))]


def distinfo(wheel: zipfile.ZipFile) -> str:
    (folder,) = {name.split("/")[0] for name in wheel.namelist() if ".dist-info/" in name}
    return folder


def test_a_package_built_without_a_compiler_rewrites_pages_in_pure_python(tmp_path: Path) -> None:
    """The wheel of a build without a compiler, unpacked and imported on its own: it says it
    runs pure Python, and it removes a tracker as the compiled core does."""
    wheel, _ = build_wheel(project_copy(tmp_path), tmp_path / "dist", CC="no-such-cc")
    site = tmp_path / "site"
    wheel.extractall(site)
    program = (
        "from gpc_middleware.enforcement.rewriter import RewriteRules, TagStripper\n"
        "from gpc_middleware.enforcement.tokenizer import accel\n"
        "s = TagStripper(RewriteRules.default(), ())\n"
        "page = b'<p>a<img src=\"https://www.facebook.com/tr?id=1\" nonce=x>b</p>'\n"
        "print(accel.core_description()); print((s.feed(page) + s.close()).decode())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != accel.PURE_PYTHON_ENV}
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r})\n" + program],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    core, output = result.stdout.splitlines()
    assert core.startswith("scanning core: pure Python; the compiled core is not built")
    assert output == "<p>ab</p>"
