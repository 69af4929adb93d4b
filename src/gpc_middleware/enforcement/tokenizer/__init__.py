"""A sans-IO, incremental HTML tokenizer over bytes that finds the constructs that matter.

How it works
------------
:class:`Tokenizer` is a state machine: ``feed(chunk) -> bytes`` and ``close() -> bytes``.
It does not decode the page: any ASCII-compatible encoding (UTF-8, Latin-1, Shift_JIS,
EUC-KR, ...) passes through untouched; UTF-16 and ISO-2022-JP pages are scanned through
a decoded view (:mod:`.charsets`). It finds candidate start tags (the names in its
:class:`ScanPatterns`, and any tag holding a marker token), their attributes and the
extent of their elements, reading each part of the page in the context a browser (with
scripting on) reads it in: raw text, comments and script data are skipped as the WHATWG
tokenizer does; ``<noscript>`` content is raw text up to the first ``</noscript`` and is
read again as markup by a tokenizer of its own (scripting off), so the trackers in it
are found too; ``<template>`` content is markup; in foreign content (``<svg>``,
``<math>``) no element is raw text and the tree builder's rules for leaving it are
followed (:mod:`.foreign`); an XML document (``xml=True``: XHTML, SVG) is foreign
content from its first byte, read by the XML rules. What to do with each candidate it asks a
:class:`TagHandler`, and it carries out the answer (:class:`Verdict`): keep, drop the
element, rewrite the start tag, wrap the element in another (whose content a browser
leaves inert, such as ``<template>``), or hold the text of an inline script or a
``<style>`` for a second look. It knows nothing of trackers or consent.

The state is declared in :mod:`.state`, the loop in :mod:`.base`; the states are
mixins, one module each: :mod:`.text` (text between candidates), :mod:`.raw_text` (raw
text, comments, script data, over-long tags), :mod:`.elements` (acting on candidates),
:mod:`.held` (elements held to their end, the memory bound), :mod:`.foreign`
(foreign content) and :mod:`.markers` (where the marker tokens are). The compiled core
(:mod:`.accel`) runs the text state's common cases.

* **Memory bound.** At most one unfinished construct is held back: a start tag being
  read, an inline script or style whose text decides its fate, or an element being
  removed whose end is not yet seen; at most ``ScanPatterns.max_element_bytes`` (256
  KiB by default). Past it, an element known to be removed is dropped as it streams
  (the same output as for the page in one piece); one whose fate is still unknown (a
  script or style whose first bytes name no tracker, an over-long tag) is passed
  through unchanged, counted and logged at WARNING. ``script``, ``iframe`` and
  ``style`` elements removed for their start tag are dropped as they stream and never
  held. Between constructs only the last few bytes (a possibly split ``<tag``) are held.
* **Known limits.** Only the open elements from an ``<svg>``/``<math>`` inwards are
  known: an end tag there that matches none of them is taken to close the element
  around it (as when that element is open; a stray one a browser ignores). ``<select>``
  content is read as the body's. A tracker a browser with scripting off would load
  from ``<noscript>`` content that a browser with scripting on reads differently (a
  ``</noscript`` inside an attribute value) is judged by the scripting-on reading.
* **Invariants.** Output is the same however the input is split into chunks (the one
  exception: a script or style over the bound, above); bytes outside removed elements
  and rewritten start tags are copied unchanged (a page with nothing to change comes
  out byte-for-byte identical); malformed input never raises.
"""

from __future__ import annotations

from .elements import ElementStates
from .foreign import ForeignStates
from .handler import CLASSIFY, KEEP, KEEP_VERDICT, REMOVE, REWRITE, WRAP, TagHandler, Verdict
from .held import HeldStates
from .markers import MarkerSearch
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


class Tokenizer(TextStates, RawTextStates, ElementStates, HeldStates, ForeignStates, MarkerSearch):
    """The incremental tokenizer: one instance per document (see the module docstring)."""

    __slots__ = ()
