"""Inline SVG drawings are skipped whole, and nothing else changes (issue #11's foreign content).

An ``<svg>`` made only of drawing elements (paths, shapes, gradients, ``<use href="#id">``,
a text-only ``<title>``), with no handler, no marker and no URL, changes nothing when it is
read tag by tag as foreign content; the tokenizer skips such an element in one regex match
(:attr:`ScanPatterns.plain_svg_re`; the compiled core, by a parser of the same grammar).
These tests hold both to the slow path: every document comes out exactly as it does with
the skip switched off, whole and however it is split, with either core.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpc_middleware.enforcement.rewriter import RewriteRules, TagStripper
from gpc_middleware.enforcement.tokenizer import accel

RULES = RewriteRules.default()
NEVER = re.compile(b"(?!)")
GA = b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
PIXEL = b"https://www.facebook.com/tr?id=1"

PLAIN = [
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none"><path '
    b'stroke-linecap="round" d="M15 10.5a3 3 0 1 1-6 0Z"/><circle cx="1" cy="1" r="1"/></svg>',
    b'<svg class="icon" aria-hidden="true"><use href="#i-pin"></use></svg>',
    b"<SVG><use xlink:href='#i'/><title>Location &amp; map</title></SVG >",
    b'<svg><defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs>'
    b'<rect fill="red" width=9 height=9 /></svg>',
    b"<svg><text>a > b</text><desc lang=en>drawing</desc></svg>",
]
NOT_PLAIN = [
    b'<svg><use href="' + PIXEL + b'"/></svg>',  # a URL: decided
    b'<svg><image href="' + PIXEL + b'"/></svg>',
    b"<svg onload=\"fbq('track')\"><path d=x /></svg>",
    b'<svg><path d="x" onclick="fbq()"/></svg>',
    b'<svg><rect class="adsbygoogle"/></svg>',  # a marker
    b'<svg><rect fill="url(#g)"/></svg>',
    b"<svg><!-- </svg> --><path/></svg>",  # the first </svg> is not the end
    b'<svg><rect data-x="</svg><img src=x>"/></svg>',
    b"<svg><title><b>bold</b></title></svg>",
    b"<svg><svg><path/></svg><img src=" + PIXEL + b"></svg>",
    b"<svg><foreignObject><img src=" + PIXEL + b"></foreignObject></svg>",
    b"<svg><p>breaks out</p></svg>",
    b"<svg><script>fbq('init', '1')</script></svg>",
    b"<svg><![CDATA[ <img src=x> ]]></svg>",
    b"<svg/><path/>",
    b"<svg><path/>",  # no end yet
]


@contextmanager
def skip_switched_off() -> Iterator[None]:
    """The slow path: the pure-Python core (the compiled one skips plain drawings too),
    with the skip's regex matching nothing."""
    patterns = RULES.patterns
    saved = patterns.plain_svg_re
    patterns.plain_svg_re = NEVER
    previous = accel.use_core("python")
    try:
        yield
    finally:
        patterns.plain_svg_re = saved
        accel.use_core(previous)


def strip(chunks: Sequence[bytes]) -> tuple[bytes, list[str]]:
    events: list[str] = []
    stripper = TagStripper(RULES, (), on_remove=lambda e: events.append(f"{e.tag}@{e.start}"))
    out = b"".join(stripper.feed(c) for c in chunks) + stripper.close()
    return out, events


def assert_same_as_slow_path(document: bytes, cuts: Sequence[int] = ()) -> None:
    points = sorted({min(max(c, 0), len(document)) for c in cuts})
    chunks = [document[a:b] for a, b in zip([0, *points], [*points, len(document)], strict=True)]
    with skip_switched_off():
        expected = strip([document])
    assert strip([document]) == expected
    assert strip(chunks) == expected, points


@pytest.mark.parametrize("svg", PLAIN + NOT_PLAIN)
def test_svg_comes_out_as_the_slow_path_makes_it(svg: bytes) -> None:
    document = b"<p>x</p>" + svg + GA + b"<img src=" + PIXEL + b"><p>end</p>"
    assert_same_as_slow_path(document, range(len(document)))


@pytest.mark.parametrize("svg", PLAIN)
def test_plain_drawings_are_matched(svg: bytes) -> None:
    # (guards the test above: the skip must really be taken for these)
    assert RULES.patterns.plain_svg_re.match(svg) is not None
    out, events = strip([svg + GA])
    assert out == svg and len(events) == 1


@pytest.mark.parametrize(
    # (markers, looked for apart, and the unfinished ones left out)
    "svg",
    [s for s in NOT_PLAIN[:13] if b"adsbygoogle" not in s and b"url(" not in s],
)
def test_what_can_load_or_hide_is_not_plain(svg: bytes) -> None:
    match = RULES.patterns.plain_svg_re.match(svg)
    assert match is None or match.end() < len(svg)


PIECES = st.sampled_from(
    [
        *PLAIN,
        *NOT_PLAIN,
        b"<svg>",
        b"</svg>",
        b"<path d='M0'/>",
        b'<use href="#i"/>',
        b"<title>t</title>",
        b"<g>",
        b"</g>",
        b"<p>",
        b"<!--",
        b"-->",
        b'"',
        b"<",
        GA,
        b"text",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=12).map(b"".join), st.lists(st.integers(0, 2000), max_size=4))
def test_generated_documents(document: bytes, cuts: list[int]) -> None:
    assert_same_as_slow_path(document, cuts)
