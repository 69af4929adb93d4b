"""What the tokenizer asks of whoever decides about tags: the :class:`TagHandler` contract.

The tokenizer finds candidate start tags and the extent of their elements; a handler
(:class:`~gpc_middleware.enforcement.tag_decisions.TagDecider` in this package) says what
to do with each as a :class:`Verdict`, and hears what was done. The contract is narrow
and byte-oriented on purpose: a compiled tokenizer can implement the other side of it
exactly, calling back only for a tag whose verdict is not cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from ..markup import StartTag

#: Verdict actions
KEEP: Final = 0  # pass the element through unchanged
REMOVE: Final = 1  # drop the whole element (start tag to matching end, or just a void tag)
REWRITE: Final = 2  # replace the start tag with ``Verdict.new_tag``; keep the rest
#: an inline script or a ``<style>`` (any raw-text element among the candidates): hold its
#: text, then ask :meth:`TagHandler.classify`
CLASSIFY: Final = 3
#: hold the element (as for ``REMOVE``), then send it inside the element whose start tag is
#: ``Verdict.new_tag``, its content tokenized again (raw text, such as a ``<style>``'s: kept
#: as it is); in foreign content, where no wrapper is inert, the element is removed
WRAP: Final = 4


class Verdict:
    """What to do with one candidate start tag; cached by the tag's bytes, so immutable in use.

    ``prefix``: insert :meth:`TagHandler.prefix` before this element (once per document).
    ``watch``: while a prefix is pending, take the slow path for this tag even when kept,
    because it may be where the prefix goes.
    """

    __slots__ = ("action", "new_tag", "prefix", "watch")

    def __init__(
        self, action: int, new_tag: bytes = b"", *, prefix: bool = False, watch: bool = False
    ) -> None:
        self.action = action
        self.new_tag = new_tag
        self.prefix = prefix
        self.watch = watch or prefix


class TagHandler(Protocol):
    """The decisions side of the tokenizer (see the module docstring)."""

    #: Verdicts by the raw bytes of a start tag; the tokenizer reads and fills it.
    verdicts: dict[bytes, Verdict]
    #: Verdicts that keep, remove or classify a tag (no new tag), by the tag's shape:
    #: the compiled core's key, the tag without its nonce and its network URLs' queries.
    #: A verdict so cached must follow from the shape alone: ``decide`` reads no nonce,
    #: and of a network URL in ``src``/``href`` only the host and path.
    shapes: dict[bytes, Verdict]

    @property
    def texts(self) -> Mapping[bytes, Verdict]:
        """Final verdicts of inline scripts by their text (read by the compiled core)."""
        ...

    @property
    def text_verdict(self) -> Verdict:
        """The verdict of an inline script whose final verdict is ``texts[text]`` when
        its text is there."""
        ...

    #: True while :meth:`prefix` still has bytes to give.
    prefix_pending: bool

    def decide(self, tag: StartTag) -> Verdict:
        """The verdict for a candidate start tag not found in :attr:`verdicts`."""
        ...

    def is_marked_element(self, tag: StartTag) -> bool:
        """Whether a tag that holds a marker token (see ``ScanPatterns``) is a candidate."""
        ...

    def wants_text(self, tag: StartTag, verdict: Verdict) -> bool:
        """Whether to hold an inline script's text before acting on ``verdict``; for a
        ``REMOVE`` verdict, only while :attr:`prefix_pending` and ``verdict.watch`` (the
        compiled core drops a script so removed without asking)."""
        ...

    def classify(self, tag: StartTag, text: bytes, verdict: Verdict) -> Verdict:
        """The final verdict for an inline script, or a ``<style>`` (``tag.name``), from its
        text (``text`` may be cut at the bound). In foreign content (an SVG ``<script>`` or
        ``<style>``) ``text`` is the element's content as it came, child tags included."""
        ...

    def prefix(self, tag: StartTag, in_context: bool) -> bytes:
        """Bytes to insert before ``tag``, or ``b""``. ``in_context``: inside a
        ``<noscript>``, a ``<template>`` or foreign content, where a script would not run
        as the page's."""
        ...

    def on_removed(
        self, tag: StartTag, verdict: Verdict, start: int, end: int, in_template: bool
    ) -> None:
        """An element was dropped: bytes ``[start, end)`` of the input stream."""
        ...

    def on_rewritten(
        self, tag: StartTag, verdict: Verdict, start: int, end: int, in_template: bool
    ) -> None:
        """A start tag (input bytes ``[start, end)``) was replaced by ``verdict.new_tag``;
        for ``WRAP``, the element ``[start, end)`` was wrapped in it."""
        ...


#: The verdict of every kept tag that needs nothing else (shared: verdicts are never mutated).
KEEP_VERDICT: Final = Verdict(KEEP)
#: The most verdicts the tokenizer adds to a handler's cache.
VERDICT_CACHE_LIMIT: Final = 4096
#: Longer start tags are decided each time, not cached: the cache is keyed by the raw
#: tag, so this bounds its memory (4096 entries of at most 1 KiB) whatever the page holds.
MAX_CACHED_TAG: Final = 1024
