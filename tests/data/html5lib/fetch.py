"""Extract the html5lib-tests inputs that ``tests/test_html5lib_identity.py`` reads.

The html5lib sdist on PyPI ships html5lib-tests (MIT) in ``html5lib/tests/testdata/``.
This script reads that tree from the sdist (a ``.tar.gz``) or from an unpacked folder,
and writes ``inputs.json`` beside itself: the input of every tree-construction,
tokenizer and encoding test (not the expected trees, which we do not use), each as the
exact bytes a page would carry, stored as a Latin-1 string (lossless), one per line, by source file.
It also copies the suite's LICENSE and AUTHORS.rst. Get the sdist with pip (its
setup.py needs an old setuptools to build the metadata pip asks for)::

    python3 -m venv /tmp/h5 && /tmp/h5/bin/pip install "setuptools<70"
    /tmp/h5/bin/pip download --no-deps --no-binary :all: --no-build-isolation \\
        html5lib==1.1 -d /tmp/h5
    python tests/data/html5lib/fetch.py /tmp/h5/html5lib-1.1.tar.gz
"""

from __future__ import annotations

import json
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTDATA = "html5lib/tests/testdata/"
# Section headers that end a "#data" section in the .dat formats.
_ENDS_DATA = (
    b"#errors",
    b"#new-errors",
    b"#encoding",
    b"#document-fragment",
    b"#script-on",
    b"#script-off",
    b"#document",
)


def read_tree(source: Path) -> dict[str, bytes]:
    """Every file under ``testdata/``, by its path below it."""
    files: dict[str, bytes] = {}
    if source.is_dir():
        root = source / TESTDATA if (source / TESTDATA).is_dir() else source
        for path in sorted(root.rglob("*")):
            if path.is_file() and ".git" not in path.parts:
                files[path.relative_to(root).as_posix()] = path.read_bytes()
        return files
    with tarfile.open(source) as archive:
        for member in archive.getmembers():
            name = member.name.split("/", 1)[-1]
            if member.isfile() and name.startswith(TESTDATA) and "/.git" not in name:
                extracted = archive.extractfile(member)
                if extracted is not None:
                    files[name[len(TESTDATA) :]] = extracted.read()
    return files


def dat_inputs(text: bytes) -> Iterator[bytes]:
    """The ``#data`` sections of a tree-construction or encoding ``.dat`` file."""
    lines = text.split(b"\n")
    i = 0
    while i < len(lines):
        if lines[i] == b"#data":
            data: list[bytes] = []
            i += 1
            while i < len(lines) and lines[i] not in _ENDS_DATA:
                data.append(lines[i])
                i += 1
            yield b"\n".join(data)
        else:
            i += 1


def _unescape(value: str) -> str:
    # "doubleEscaped" tests write code points as \\uXXXX (lone surrogates included).
    return value.encode("latin-1", "backslashreplace").decode("unicode-escape")


def tokenizer_inputs(text: bytes) -> Iterator[bytes]:
    suite = json.loads(text)
    for test in [*suite.get("tests", []), *suite.get("xmlViolationTests", [])]:
        value: str = test["input"]
        if test.get("doubleEscaped"):
            value = _unescape(value)
        yield value.encode("utf-8", "surrogatepass")


def extract(files: dict[str, bytes]) -> dict[str, list[str]]:
    """The inputs by source file, each as a Latin-1 string of its bytes."""
    entries: dict[str, list[str]] = {}
    for name, text in sorted(files.items()):
        if name.endswith(".dat") and name.startswith(("tree-construction/", "encoding/")):
            inputs = list(dat_inputs(text))
        elif name.endswith(".test") and name.startswith("tokenizer/"):
            inputs = list(tokenizer_inputs(text))
        else:
            continue
        entries[name] = [data.decode("latin-1") for data in inputs]
    return entries


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    files = read_tree(Path(argv[0]))
    entries = extract(files)
    with (HERE / "inputs.json").open("w", encoding="utf-8", newline="\n") as out:
        # One input per line, so that a diff shows which changed.
        out.write("{\n")
        for n, (source, inputs) in enumerate(entries.items()):
            out.write(f"{json.dumps(source)}: [\n")
            out.write(",\n".join(json.dumps(i, ensure_ascii=False) for i in inputs))
            out.write("\n]" + (",\n" if n < len(entries) - 1 else "\n"))
        out.write("}\n")
    for name in ("LICENSE", "AUTHORS.rst"):
        (HERE / name).write_bytes(files[name])
    print(f"{sum(map(len, entries.values()))} inputs from {len(entries)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
