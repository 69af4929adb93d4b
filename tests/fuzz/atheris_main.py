"""Run one fuzz target under atheris: coverage-guided (libFuzzer), for as long as one likes.

From the repository root, with ``pip install atheris``::

    python -m tests.fuzz.atheris_main --list
    python -m tests.fuzz.atheris_main consent_body -max_total_time=600
    python -m tests.fuzz.atheris_main rewriter -atheris_runs=2000000 corpus/rewriter

Everything after the target name goes to libFuzzer (``-max_total_time``, ``-jobs``, a
corpus directory, ``-help=1``). The bytes libFuzzer makes are decoded into the target's
arguments by ``tests/fuzz/inputs.py``, the same decoders the hypothesis tests use, so a
crashing input (written to ``crash-<sha1>``) replays there: ``INPUTS[target][0](data)``.
Only ``gpc_middleware`` is instrumented for coverage.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    import atheris  # type: ignore[import-not-found]

    with atheris.instrument_imports(include=["gpc_middleware"]):
        from .inputs import INPUTS
        from .targets import TARGETS

    if len(argv) < 2 or argv[1] in ("-h", "--help", "--list") or argv[1] not in TARGETS:
        print(f"usage: python -m tests.fuzz.atheris_main TARGET [libFuzzer options]\n"
              f"targets: {', '.join(TARGETS)}")  # fmt: skip
        return 0 if len(argv) >= 2 and argv[1] in ("-h", "--help", "--list") else 2
    name = argv[1]
    target, (decode, size) = TARGETS[name], INPUTS[name]

    def one_input(data: bytes) -> None:
        target(*decode(data))

    # libFuzzer sees argv[0] and its own options; a default input size fitting the decoder
    args = [argv[0], *argv[2:]]
    if not any(arg.startswith("-max_len=") for arg in args):
        args.append(f"-max_len={max(4 * size, 256)}")
    atheris.Setup(args, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
