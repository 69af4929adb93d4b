"""A sans-IO, incremental HTML tokenizer over bytes that finds the constructs that matter.

How it works
------------
:class:`Tokenizer` is a state machine: ``feed(chunk) -> bytes`` and ``close() -> bytes``.
It never decodes the page, so any ASCII-compatible encoding (UTF-8, Latin-1, Shift_JIS,
EUC-KR, ...) passes through untouched. It finds candidate start tags (the names in its
:class:`ScanPatterns`, and any tag holding a marker token), their attributes and the
extent of their elements; it skips raw text, comments and script data as the WHATWG
tokenizer does, and tracks ``<noscript>`` and ``<template>`` (whose content is read as
markup, so the candidates inside them are found too). What to do with each candidate
it asks a :class:`TagHandler`, and it carries out the answer (:class:`Verdict`): keep,
drop the element, rewrite the start tag, wrap the element in another (whose content a
browser leaves inert, such as ``<template>``), or hold an inline script's text for a
second look. It knows nothing of trackers or consent.

The states live in three mixins, one module each: :mod:`.text` (text between
candidates), :mod:`.raw_text` (raw text, comments, script data, over-long tags) and
:mod:`.elements` (acting on candidates, held elements, the memory bound).

* **Memory bound.** At most one unfinished construct is held back: a start tag being
  read, an inline script whose text decides its fate, or an element being removed
  whose end is not yet seen; at most ``ScanPatterns.max_element_bytes`` (256 KiB by
  default). A longer construct is passed through unchanged (logged at WARNING) --
  except that an inline script whose first bytes already classify it as removed is
  still removed, dropping the rest as it streams. ``script`` and ``iframe`` elements
  removed for their start tag are dropped as they stream and never held. Between
  constructs only the last few bytes (a possibly split ``<tag``) are held.
* **Known limits.** A ``<`` inside an attribute value is told apart from markup by a
  cheap check of the bytes back to the previous ``>`` and an exact tokenisation when
  that check is unsure; only a chain of several quoted ``>`` and ``<`` in one tag could
  mislead it.
* **Invariants.** Output is the same however the input is split into chunks; bytes
  outside removed elements and rewritten start tags are copied unchanged (a page with
  nothing to change comes out byte-for-byte identical); malformed input never raises.
"""

from __future__ import annotations

from .elements import ElementStates
from .handler import CLASSIFY, KEEP, KEEP_VERDICT, REMOVE, REWRITE, WRAP, TagHandler, Verdict
from .patterns import ScanPatterns
from .raw_text import RawTextStates
from .text import TextStates

__all__ = [
    "CLASSIFY",
    "KEEP",
    "KEEP_VERDICT",
    "REMOVE",
    "REWRITE",
    "WRAP",
    "ScanPatterns",
    "TagHandler",
    "Tokenizer",
    "Verdict",
]


class Tokenizer(TextStates, RawTextStates, ElementStates):
    """The incremental tokenizer: one instance per document (see the module docstring)."""

    __slots__ = ()
