"""A document with no tracker comes out of the rewriter byte for byte as it went in (#11).

The documents are the inputs of html5lib-tests (MIT), vendored in ``tests/data/html5lib/``
(see its README): 8,595 tree-construction, tokenizer and encoding inputs, chosen by their
authors for the corners of the HTML syntax -- broken comments, raw text, foreign content,
character references, stray quotes and ``<``. Each that holds nothing the catalog knows
(host, inline signature, marker) and no consent-manager attribute goes through
:class:`~gpc_middleware.enforcement.rewriter.TagStripper` for a visitor who refused
everything, in ``strip`` and ``neutralize`` mode, whole and in 1- and 7-byte chunks; the
output must equal the input. One test per source file and mode; a failure lists the
inputs that changed.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Final

import pytest

from gpc_middleware import ConsentPolicy
from gpc_middleware.enforcement.catalog import TrackerCatalog
from gpc_middleware.enforcement.rewriter import Mode, TagStripper

INPUTS: Final = Path(__file__).resolve().parent / "data" / "html5lib" / "inputs.json"
CATALOG: Final = TrackerCatalog.default()
RULES: Final = ConsentPolicy(secret_key="html5lib-identity-secret-key").rewrite_rules
CONSENT_ATTRIBUTES: Final = (
    b"data-consent",
    b"data-cookieconsent",
    b"data-category",
    b"data-cookiecategory",
    b"data-name",
)
_HOSTS: Final = re.compile(
    b"|".join(re.escape(rule.host.encode()) for rule in CATALOG.host_rules), re.IGNORECASE
)
_MARKERS: Final = tuple(marker.value.lower().encode() for marker in CATALOG.markers)


@cache
def inputs() -> dict[str, list[bytes]]:
    """The vendored inputs by source file, as bytes."""
    raw: dict[str, list[str]] = json.loads(INPUTS.read_text(encoding="utf-8"))
    return {source: [text.encode("latin-1") for text in texts] for source, texts in raw.items()}


def holds_a_tracker(document: bytes) -> bool:
    """Whether anything in ``document`` could make the rewriter remove or rewrite an element."""
    lower = document.lower()
    return (
        _HOSTS.search(document) is not None
        or CATALOG.match_inline_script(document) is not None
        or any(marker in lower for marker in _MARKERS)
        or any(attribute in lower for attribute in CONSENT_ATTRIBUTES)
    )


def rewritten(document: bytes, mode: Mode, size: int) -> bytes:
    """``document`` through a fresh rewriter (nothing allowed), in chunks of ``size`` bytes (0: whole)."""
    stripper = TagStripper(RULES, (), mode=mode)
    if size == 0:
        return stripper.feed(document) + stripper.close()
    out = [stripper.feed(document[i : i + size]) for i in range(0, len(document), size)]
    return b"".join(out) + stripper.close()


def test_the_inputs_are_there() -> None:
    found = inputs()
    assert len(found) == 73
    total = sum(map(len, found.values()))
    assert total == 8595
    # Nearly all hold no tracker: the identity test below is not vacuous.
    free = sum(not holds_a_tracker(doc) for docs in found.values() for doc in docs)
    assert free > 8000


def test_holds_a_tracker_sees_trackers() -> None:
    assert holds_a_tracker(b'<script src="https://www.googletagmanager.com/gtag/js"></script>')
    assert holds_a_tracker(b"<script>gtag('js', new Date());</script>")
    assert holds_a_tracker(b'<ins class="adsbygoogle"></ins>')
    assert holds_a_tracker(b'<div data-consent="analytics">x</div>')
    assert not holds_a_tracker(b"<p>Hello <b>world</b></p>")


@pytest.mark.parametrize("mode", ["strip", "neutralize"])
@pytest.mark.parametrize("source", sorted(json.loads(INPUTS.read_text(encoding="utf-8"))))
def test_tracker_free_input_comes_out_byte_identical(source: str, mode: Mode) -> None:
    changed: list[str] = []
    for index, document in enumerate(inputs()[source]):
        if holds_a_tracker(document):
            continue
        for size, name in ((0, "whole"), (1, "1-byte chunks"), (7, "7-byte chunks")):
            output = rewritten(document, mode, size)
            if output != document:
                changed.append(f"#{index} {name}: {document[:60]!r} -> {output[:60]!r}")
    assert not changed, f"{source} ({mode}): {len(changed)} changed:\n" + "\n".join(changed[:20])
