"""Property: what the rewriter sends does not depend on how the page is cut into chunks (#11).

Documents are built from the constructs where a streaming tokenizer can lose its place:
attribute values holding ``<`` and ``>``, raw-text starts (``<textarea>``, ``<<title>``),
``<noscript>`` and ``<template>`` content, foreign content (``<svg>``, ``<math>``,
integration points, CDATA, breakout tags), trackers of every kind, and stray quotes,
``<`` and ``>``. Each goes through the rewriter whole and cut at random places (and in
chunks of a few bytes), in both modes; a page without trackers must come out unchanged.
Pages in UTF-16 and ISO-2022-JP are cut too.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpc_middleware.enforcement.markup import WALK_RE
from gpc_middleware.enforcement.rewriter import Mode, RewriteRules, TagStripper
from gpc_middleware.enforcement.tag_decisions import TagDecider
from gpc_middleware.enforcement.tokenizer import Tokenizer

RULES = RewriteRules.default()
GA_URL = b"https://www.googletagmanager.com/gtag/js?id=G-1"

IN_VALUES = [
    b'<div data-x="<br><', b"<a title='<b>'>", b'<w" n="><', b'<p title="a>b">', b'<n s="<><',
    b"<x y=<z>", b'</a t="><', b"<b c=\" d='", b"'>", b'">', b"<a href=/x?a=1&b=2>",
]  # fmt: skip
RAW_TEXT = [
    b"<textarea>", b"</textarea>", b"<title>", b"</title>", b"<style>", b"</style>", b"<xmp>",
    b"</xmp>", b"<<textarea>", b"<<title/", b"<script>", b"</script>", b"<!--", b"-->",
    b"<iframe>", b"</iframe>", b"<noembed>", b"</noembed>", b"<!doctype html>", b"<?x>",
]  # fmt: skip
CONTEXTS = [b"<noscript>", b"</noscript>", b"</NOSCRIPT >", b"<template>", b"</template>"]
FOREIGN = [
    b"<svg>", b"</svg>", b"<math>", b"</math>", b"<mi>", b"</mi>", b"<foreignObject>",
    b"</foreignObject>", b"<desc>", b"<![CDATA[", b"]]>", b"<svg/>", b"<g>", b"</g>",
    b'<annotation-xml encoding="text/html">', b"<font color=red>", b"<p>", b"</p>", b"</div>",
    b"<img src=/a.png>",
]  # fmt: skip
TRACKERS = [
    b'<script async src="' + GA_URL + b'"></script>',
    b"<script>fbq('init', '1');fbq('track', 'PageView');</script>",
    b"fbq('init', '1');",
    b'<img src="https://www.facebook.com/tr?id=1">',
    b'<ins class="adsbygoogle">', b"</ins>",
    b'<script href="' + GA_URL + b'"></script>',
    b'<style>@import "https://www.googletagmanager.com/c.css";</style>',
    b'<div data-consent="analytics">', b"</div>",
    b'<iframe src="https://www.googletagmanager.com/ns.html">',
    b'<image href="https://www.facebook.com/tr?id=1"/>',
]  # fmt: skip
STRAYS = [b"<", b">", b'"', b"'", b"=", b"/", b" ", b"<a ", b"</", b"<!", b"\n"]
WORDS = st.sampled_from([b"x", b"lorem ipsum", b"&amp;", b"caf\xc3\xa9", b"<3", b"a<b"])

FREE = IN_VALUES + RAW_TEXT + CONTEXTS + FOREIGN + STRAYS
DOCUMENTS = st.lists(st.one_of(st.sampled_from(FREE + TRACKERS), WORDS), max_size=40).map(b"".join)
TRACKER_FREE = st.lists(st.one_of(st.sampled_from(FREE), WORDS), max_size=40).map(b"".join)
CUTS = st.lists(st.integers(min_value=0, max_value=2000), max_size=6)
MODES = st.sampled_from(["strip", "neutralize"])


def rewrite(chunks: Sequence[bytes], mode: Mode = "strip", charset: str | None = None) -> bytes:
    stripper = TagStripper(RULES, (), mode=mode, charset=charset)
    return b"".join(stripper.feed(c) for c in chunks) + stripper.close()


def cut(doc: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(doc)) for c in cuts})
    return [doc[a:b] for a, b in zip([0, *points], [*points, len(doc)], strict=True)]


def pieces(doc: bytes, size: int) -> list[bytes]:
    return [doc[i : i + size] for i in range(0, len(doc), size)]


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS, CUTS, st.integers(min_value=1, max_value=9), MODES)
def test_output_does_not_depend_on_chunking(
    doc: bytes, cuts: list[int], size: int, mode: Mode
) -> None:
    whole = rewrite([doc], mode)
    assert rewrite(cut(doc, cuts), mode) == whole
    assert rewrite(pieces(doc, size), mode) == whole


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TRACKER_FREE, CUTS, MODES)
def test_a_page_without_trackers_comes_out_unchanged(
    doc: bytes, cuts: list[int], mode: Mode
) -> None:
    assert rewrite([doc], mode) == doc
    assert rewrite(cut(doc, cuts), mode) == doc


KANJI = [b"\x1b$B", b"\x1b(B", b"\x1b(J", b"\x1b(I", b"F|K\\", b"<t", b"\x1b", b"$B", b"1"]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.sampled_from(FREE[:40] + TRACKERS + KANJI), WORDS), max_size=30).map(
        b"".join
    ),
    CUTS,
    st.sampled_from(["iso-2022-jp", "utf-16", None]),
)
def test_other_encodings_do_not_depend_on_chunking(
    doc: bytes, cuts: list[int], charset: str | None
) -> None:
    if charset == "utf-16":
        doc = doc.decode("latin-1").encode("utf-16-le")
    whole = rewrite([doc], charset=charset)
    assert rewrite(cut(doc, cuts), charset=charset) == whole
    assert rewrite(pieces(doc, 3), charset=charset) == whole


TAG_PIECES = [b"<", b">", b'"', b"'", b"=", b" ", b"a", b"/", b"<a ", b"x=", b'="', b"='",
              b"<br>", b"</", b"<p>", b"\n"]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(TAG_PIECES), max_size=16).map(b"".join))
def test_the_cheap_check_agrees_with_exact_tokenisation(text: bytes) -> None:
    """Whether a candidate "<" is markup or sits in an attribute value: the shortcut of
    ``TextStates._containing`` gives the answer of the exact tokenisation (``WALK_RE``)."""
    if RULES.patterns.candidate_re.search(text) is not None:
        return  # no candidate before the one looked at, by construction
    tokenizer = Tokenizer(RULES.patterns, TagDecider(RULES, frozenset(), "strip"))
    tokenizer._buf = text + b"<script>"
    walked = WALK_RE.match(tokenizer._buf, 0, len(text))
    assert walked is not None
    exact = -1 if walked.end() >= len(text) else walked.end()
    assert tokenizer._containing(0, len(text)) == exact
