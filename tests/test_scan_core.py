"""The compiled scanning core against its pure-Python twin: the same bytes out, the same
decisions, for any input and any chunking (#14).

The rest of the suite runs once per core (``tests/conftest.py``); here both run side by
side on generated pages: the constructs where a scanner can lose its place (attribute
values holding ``<``, comments, script data escapes, raw text, ``<noscript>``,
``<template>``, foreign content), trackers of every kind, and the per-response noise the
compiled core's cache looks through (nonces, URL queries). Each page is rewritten twice
per core, so the second pass meets warm caches (tag bytes, tag shapes, script texts), and
a variant with fresh nonces and queries meets the shapes cached from the first. The grammar
of the compiled tag reader is compared with ``START_TAG_RE``/``END_TAG_RE`` directly.
With the extension built under AddressSanitizer (``.ci/asan.sh``) these tests also check
its memory safety.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpc_middleware.enforcement.markup import END_TAG_RE, START_TAG_RE
from gpc_middleware.enforcement.rewriter import Mode, RemovalEvent, RewriteRules, TagStripper
from gpc_middleware.enforcement.tag_actions import consent_mode_snippet
from gpc_middleware.enforcement.tokenizer import accel


@pytest.fixture(scope="module", autouse=True)
def once_per_suite(scanning_core: str) -> None:
    """Both cores run side by side here: once, in the compiled core's half of the suite
    (where the core is not built, that half is skipped, or fails in CI)."""
    if scanning_core != "c":
        pytest.skip("both cores are compared in the compiled core's half of the suite")


RULES = RewriteRules.default().with_consent_attributes(
    {"data-name": {"matomo": "analytics", "youtube": "targeting"}}
)
GA = b"https://www.googletagmanager.com/gtag/js?id=G-1"
PIXEL = b"https://www.facebook.com/tr?id=1&ev=PageView"
SNIPPET = consent_mode_snippet({"analytics": False, "targeting": False})

NOISY = [
    b'<img src="' + PIXEL + b'" nonce="N">', b'<img nonce=N src="' + PIXEL + b'#Q">',
    b'<script nonce="N" async src="' + GA + b'"></script>', b'<script nonce="N">fbq("init","1");</script>',
    b'<script nonce=N>(adsbygoogle = window.adsbygoogle || []).push({});</script>',
    b'<ins class="adsbygoogle" nonce="N" data-ad-slot="Q"></ins>', b'<INS CLASS=adsbygoogle NONCE=N></INS>',
    b'<img src="https://cdn.example/logo.png?v=Q" nonce="N">', b'<link nonce="N" rel=stylesheet href="/a.css?Q">',
    b'<iframe nonce="N" src="https://www.googletagmanager.com/ns.html?id=Q"></iframe>',
    b'<script nonce="N" src="/app.js?Q"></script>', b'<img src=https://www.facebook.com/tr?Q/>',
    b'<use href="https://www.facebook.com/tr?Q"/>', b'<a ping="https://www.facebook.com/tr?Q">x</a>',
    b'<div data-consent="analytics" nonce="N">', b'<video nonce="N" poster="' + PIXEL + b'"></video>',
    b'<img nonce="N" nonce="M" src="' + PIXEL + b'">', b'<source src="https://x.example/v.mp4?Q">',
    b'<div style="background:url(https://www.facebook.com/tr?Q)" nonce=N>', b"<body onload=\"fbq('Q')\">",
]  # fmt: skip
STRUCTURE = [
    b"<!-- c -->", b"<!-->", b"<!--->", b"<!-- a --!>", b"<!doctype html>", b"<?x>", b"<!x>",
    b"<script>", b"</script>", b"<script><!--", b"--></script>", b"<script>a<!--<script>", b"</SCRIPT >",
    b"<style>", b"</style>", b"<textarea>", b"</textarea>", b"<title>", b"</title>", b"<xmp>",
    b"<noscript>", b"</noscript>", b"<template>", b"</template>", b"<svg>", b"</svg>", b"<math>",
    b"<foreignObject>", b"<p>", b"</p>", b"</div>", b"<div>", b"</ins>", b"<ins>", b"<plaintext>",
    b'<div data-x="<img src=', b"<a title='<b>'>", b'<w" n="><', b"<x y=<z>", b'">', b"'>", b"<",
    b">", b'"', b"'", b"=", b"/", b" ", b"\n", b"<a ", b"</", b"<!", b"<IMG", b"<imG src=x>",
    b"adsbygoogle", b"url(", b"ping=", b"data-consent", b"background=", b"OUTBRAIN", b"&amp;",
    b'<svg class="i" viewBox="0 0 9 9"><path d="M1 1"/></svg>', b'<svg><use href="#i"/></svg>',
    b"<path d='M0'/>", b'<use href="#i"/>', b"<title>t</title>", b"<g>", b"</g>", b"<svg >",
]  # fmt: skip
WORDS = st.sampled_from([b"x", b"lorem ipsum", b"caf\xc3\xa9", b"<3", b"a<b", b"N", b"Q"])
DOCUMENTS = st.lists(st.one_of(st.sampled_from(NOISY + STRUCTURE), WORDS), max_size=40).map(
    b"".join
)
CUTS = st.lists(st.integers(min_value=0, max_value=3000), max_size=6)
ALLOWED = st.sampled_from([(), ("analytics",), ("targeting",), ("analytics", "targeting")])
MODES = st.sampled_from(["strip", "neutralize"])

_counter = iter(range(10**9))


@contextmanager
def core(name: accel.Core) -> Iterator[None]:
    previous = accel.use_core(name)
    try:
        yield
    finally:
        accel.use_core(previous)


def rewrite(
    name: accel.Core,
    chunks: Sequence[bytes],
    mode: Mode,
    allowed: Sequence[str],
    snippet: bytes | None,
) -> tuple[bytes, int, int, int, list[RemovalEvent]]:
    events: list[RemovalEvent] = []
    with core(name):  # nested documents (srcdoc, data: frames) get tokenizers as they come
        stripper = TagStripper(
            RULES, allowed, mode=mode, consent_mode_snippet=snippet, on_remove=events.append
        )
        out = b"".join(stripper.feed(c) for c in chunks) + stripper.close()
    return out, stripper.removed, stripper.activated, stripper.undecided, events


def cut(doc: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(doc)) for c in cuts})
    return [doc[a:b] for a, b in zip([0, *points], [*points, len(doc)], strict=True)]


def fresh_noise(doc: bytes) -> bytes:
    """``doc`` with new nonces and queries (N, Q), as the next response would have."""
    return re.sub(rb"[NQ]", lambda m: m.group() + str(next(_counter)).encode(), doc)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS, CUTS, MODES, ALLOWED, st.booleans())
def test_both_cores_send_the_same_bytes_and_report_the_same_removals(
    doc: bytes, cuts: list[int], mode: Mode, allowed: tuple[str, ...], with_snippet: bool
) -> None:
    snippet = SNIPPET if with_snippet else None
    for page in (doc, doc, fresh_noise(doc)):  # cold, warm, warm shapes with new noise
        chunks = cut(page, cuts)
        expected = rewrite("python", [page], mode, allowed, snippet)
        assert rewrite("c", [page], mode, allowed, snippet) == expected
        assert rewrite("c", chunks, mode, allowed, snippet) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS, st.integers(min_value=1, max_value=7), MODES)
def test_both_cores_agree_in_small_chunks(doc: bytes, size: int, mode: Mode) -> None:
    chunks = [doc[i : i + size] for i in range(0, len(doc), size)]
    expected = rewrite("python", [doc], mode, (), None)
    assert rewrite("c", chunks, mode, (), None) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), CUTS)
def test_both_cores_agree_on_any_bytes(doc: bytes, cuts: list[int]) -> None:
    expected = rewrite("python", [doc], "strip", (), None)
    assert rewrite("c", cut(doc, cuts), "strip", (), None) == expected


TAG_PIECES = [
    b"<", b">", b'"', b"'", b"=", b" ", b"\t", b"a", b"B", b"/", b"<a ", b"</b", b"x=", b'="',
    b"='", b"<br>", b"\n", b"\x00", b"\xff", b"<!", b"-",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(TAG_PIECES), max_size=20).map(b"".join))
def test_the_tag_reader_is_the_tag_grammar(data: bytes) -> None:
    """Where a start or end tag ends, for the compiled reader and for the regexes."""
    scanner = RULES.patterns.scanner(accel_module())
    for at in range(len(data)):
        if data[at] != 0x3C:
            continue
        m = (END_TAG_RE if data[at + 1 : at + 2] == b"/" else START_TAG_RE).match(data, at)
        assert scanner.tag_end(data, at) == (-1 if m is None else m.end())


def accel_module() -> ModuleType:
    with core("c"):
        module = accel.compiled_module()
    assert module is not None
    return module


def test_a_tag_shape_leaves_out_nonces_and_network_queries_only() -> None:
    shape = RULES.patterns.scanner(accel_module()).shape
    assert shape(b'<img nonce="a1" src="https://t.example/p?id=1#f" alt=x>') == (
        b'<img src="https://t.example/p?" alt=x>'
    )
    assert shape(b'<img nonce="a2" src="https://t.example/p?id=2#g" alt=x>') == (
        b'<img src="https://t.example/p?" alt=x>'
    )
    # a fragment is not a query: it keeps its own mark
    assert shape(b'<img src="//t.example/p#f">') == b'<img src="//t.example/p#">'
    # relative, data: and unquoted URLs are kept whole (an unquoted value may end in "/>")
    for tag in (
        b'<img src="/p?id=1">',
        b'<img src="data:image/gif;base64,R0l?x">',
        b"<use href=https://t.example/p?a/>",
        b'<img srcset="https://t.example/a?x 1x, https://t.example/b 2x">',
    ):
        assert shape(tag) == tag
    assert shape(b"<img") is None
    assert shape(b"<img src=x>tail") is None


def test_a_marker_attribute_is_never_left_out_of_a_shape() -> None:
    """An attribute the catalog's markers or the consent maps read decides: kept."""
    rules = RewriteRules.default().with_consent_attributes({"nonce": {"x": "analytics"}})
    assert "nonce" not in rules.patterns.shape_noise
    shape = rules.patterns.scanner(accel_module()).shape
    assert shape(b'<img nonce="x" src="/a">') == b'<img nonce="x" src="/a">'


def test_the_scanner_refuses_bad_arguments_without_crashing() -> None:
    scanner = RULES.patterns.scanner(accel_module())
    with pytest.raises(ValueError):
        scanner.text(b"<p>", 9, -1, {}, None, None, None, False, -1, False)
    with pytest.raises(TypeError):
        scanner.text("<p>", 0, -1, {}, None, None, None, False, -1, False)
    with pytest.raises(TypeError):
        scanner.text(b"<p>", 0, -1, {}, [], None, None, False, -1, False)
    with pytest.raises(TypeError):
        scanner.shape("<img>")
    assert scanner.marker(b"x adsbygoogle", -5, 99) == 2
    assert scanner.tag_end(b"<a>", 7) == -1


def test_a_verdict_without_an_action_is_an_error_not_a_crash() -> None:
    scanner = RULES.patterns.scanner(accel_module())
    with pytest.raises(AttributeError):
        scanner.text(
            b"<img src=x>", 0, -1, {b"<img src=x>": object()}, None, None, None, False, -1, False
        )


def test_thousands_of_removals_in_one_chunk_come_out_the_same() -> None:
    """The compiled core lists at most a few hundred removals per call (what one call
    allocates is bounded); a chunk with more is carried out over several calls."""
    page = b"<p>" + (b'<img src="' + PIXEL + b'" nonce="N">x') * 2000 + b"</p>"
    expected = rewrite("python", [page], "strip", (), None)
    assert expected[1] == 2000
    assert rewrite("c", [page], "strip", (), None) == expected


def test_a_scanner_made_without_its_arguments_refuses_to_scan() -> None:
    module = accel_module()
    scanner = module.Scanner.__new__(module.Scanner)
    with pytest.raises(RuntimeError, match="__init__"):
        scanner.text(b"<p>", 0, -1, {}, None, None, None, False, -1, False)
    with pytest.raises(ValueError, match="unknown kind"):
        module.Scanner(names={b"p": 99}, void=(), markers=(), noise=(), cut=(), keep_verdict=None)
