#!/usr/bin/env bash
# The compiled scanning core under AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Copies src/ to a temporary folder, builds the core there with hatch_build.py and the
# sanitizer flags (GPC_MIDDLEWARE_CFLAGS), and runs the scanning core's tests and the
# rewriter's (and the chunking properties) against that copy (PYTHONPATH), with the sanitizer runtimes preloaded into the
# ordinary interpreter of the active virtual environment. Any report aborts the run.
# Python's own allocator is switched off (PYTHONMALLOC=malloc) so that every object's buffer
# is a malloc block ASan guards. Run from anywhere, in the venv that .ci/run makes (it needs
# gcc, the Python headers, pytest and hatchling); it changes nothing in the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python}"
# gcc builds the core, so its runtimes are the ones to preload (clang's are named otherwise).
export CC="${ASAN_CC:-gcc}"
SANITIZER_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1"

runtimes=""
for library in libasan.so libubsan.so; do
    path="$("$CC" -print-file-name="$library")"
    if [ ! -e "$path" ]; then
        echo "asan.sh: $CC has no $library (Debian: apt-get install gcc, which brings it)" >&2
        exit 1
    fi
    runtimes="$runtimes $path"
done

if ! "$PYTHON" -c "import hatchling" >/dev/null 2>&1; then
    echo "asan.sh: hatch_build.py needs hatchling: $PYTHON -m pip install hatchling" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r src "$work/src"
find "$work/src" \( -name '*.so' -o -name '__pycache__' \) -prune -exec rm -rf {} +
GPC_MIDDLEWARE_PURE_PYTHON="" GPC_MIDDLEWARE_CFLAGS="$SANITIZER_FLAGS" \
    "$PYTHON" hatch_build.py "$work"

tests=()
for test in tests/test_scan_core.py tests/test_rewriter.py tests/test_chunking_property.py tests/test_plain_svg.py; do
    if [ -e "$test" ]; then
        tests+=("$test")
    else
        echo "asan.sh: $test does not exist (yet); not run"
    fi
done

export PYTHONPATH="$work/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONMALLOC=malloc
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export GPC_REQUIRE_C_CORE=1
unset GPC_MIDDLEWARE_PURE_PYTHON

# The sanitized copy is the one imported, and it is the active core.
LD_PRELOAD="${runtimes# }" "$PYTHON" - "$work" <<'PY'
import sys
from pathlib import Path

from gpc_middleware.enforcement.tokenizer import _scan, accel

print(f"asan.sh: {Path(_scan.__file__)}: {accel.core_description()}")
if not Path(_scan.__file__).is_relative_to(sys.argv[1]) or accel.active_core() != "c":
    sys.exit("asan.sh: the sanitized copy of the compiled core is not the active core")
PY

# The compiled core's half of the suite's two (tests/conftest.py): the twin needs no sanitizer.
LD_PRELOAD="${runtimes# }" "$PYTHON" -m pytest -p no:cacheprovider --no-cov -q -k "core-c" "${tests[@]}"
