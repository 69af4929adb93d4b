"""Remove (or make inert) the tags of trackers a visitor has not allowed, in a stream of HTML.

The rewriter is three parts along its real seams:

* :mod:`.tokenizer`: a sans-IO, incremental scanner over bytes that finds the candidate
  tags and the extent of their elements, and carries the memory bound. It knows nothing
  about trackers or consent.
* :mod:`.tag_decisions`: given a tag (and an inline script's text), which category it
  belongs to and why, and so what happens to it for this visitor.
* :mod:`.tag_actions`: the bytes that go out for a rewritten tag (inert, activated, the
  Consent Mode snippet).

:class:`TagStripper` puts them together for one response body; :class:`RewriteRules`
(:mod:`.rewrite_rules`) holds what does not depend on the visitor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..core.categories import Category
from .rewrite_rules import DEFAULT_CONSENT_ATTRIBUTES, RewriteRules
from .tag_actions import GOOGLE_CONSENT_TYPES, consent_mode_snippet
from .tag_decisions import Mode, RemovalEvent, TagDecider, allowed_categories
from .tokenizer import Tokenizer
from .tokenizer.charsets import DocumentScanner

__all__ = [
    "DEFAULT_CONSENT_ATTRIBUTES",
    "GOOGLE_CONSENT_TYPES",
    "Mode",
    "RemovalEvent",
    "RewriteRules",
    "TagStripper",
    "consent_mode_snippet",
]


class TagStripper:
    """Incremental remover of refused tracker elements; one instance per response body.

    ``allowed`` are the categories the visitor allows (``essential`` always is).
    ``mode="strip"`` removes refused elements; ``"neutralize"`` makes them inert for a
    client-side activator (give ``allowed=()`` for one cacheable page for everyone).
    ``consent_mode_snippet`` (see :func:`consent_mode_snippet`) is inserted once,
    right before the first Google tag outside ``<noscript>``/``<template>``, with that
    tag's ``nonce``. ``on_remove`` is called with a :class:`RemovalEvent` per element.
    ``charset`` is the ``charset`` parameter of the response's ``Content-Type``, if it
    has one: a UTF-16 or ISO-2022-JP document is scanned decoded, its bytes sent as they
    came (:mod:`.tokenizer.charsets`; a byte order mark decides first, as in browsers).
    ``xml=True`` reads the body as a browser reads an XML document (XHTML, SVG: an
    ``application/xhtml+xml`` or other XML response): ``<script src=.../>`` is a whole
    element, and no element holds raw text (a ``<textarea/>`` hides nothing).

    ``feed`` returns the bytes that are final so far; ``close`` returns the rest.
    Neither raises on any input. :attr:`removed` counts removed (or neutralized)
    elements, :attr:`activated` the consent-managed elements turned back on,
    :attr:`undecided` the constructs over the memory bound passed through undecided.
    """

    __slots__ = ("_decider", "_scanner", "_tokenizer", "allowed", "mode", "rules")

    def __init__(
        self,
        rules: RewriteRules,
        allowed: Iterable[str],
        *,
        mode: Mode = "strip",
        consent_mode_snippet: bytes | None = None,
        on_remove: Callable[[RemovalEvent], None] | None = None,
        charset: str | None = None,
        xml: bool = False,
    ) -> None:
        if mode not in ("strip", "neutralize"):
            raise ValueError(f"mode must be 'strip' or 'neutralize', not {mode!r}")
        if consent_mode_snippet is not None and not consent_mode_snippet.startswith(b"<script"):
            raise ValueError("consent_mode_snippet must start with '<script'")
        self.rules = rules
        self.mode: Mode = mode
        self.allowed: frozenset[Category] = allowed_categories(allowed)
        self._decider = TagDecider(
            rules,
            self.allowed,
            mode,
            consent_mode_snippet=consent_mode_snippet,
            on_remove=on_remove,
        )
        self._tokenizer = Tokenizer(rules.patterns, self._decider, xml=xml)
        self._scanner = DocumentScanner(self._tokenizer, charset)

    def feed(self, chunk: bytes) -> bytes:
        """Take the next chunk of the body; return the output bytes that are now final."""
        return self._scanner.feed(chunk)

    def close(self) -> bytes:
        """End of the body: return everything still held, processed."""
        return self._scanner.close()

    def encoded(self, data: bytes) -> bytes:
        """Bytes of your own (UTF-8), to send after the output so far, in the page's
        encoding: unchanged for an ASCII-compatible page, encoded for a UTF-16 one, in
        ASCII mode for an ISO-2022-JP one."""
        return self._scanner.encoded(data)

    @property
    def removed(self) -> int:
        """Elements removed (or neutralized) so far."""
        return self._decider.removed

    @property
    def activated(self) -> int:
        """Consent-managed elements turned back on so far."""
        return self._decider.activated

    @property
    def undecided(self) -> int:
        """Constructs larger than the memory bound passed through undecided (each logged)."""
        return self._tokenizer._undecided
