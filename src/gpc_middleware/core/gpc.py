"""Detecting the Global Privacy Control signal in a request.

GPC specification, section 3.1 ("The Sec-GPC Header Field"): the only valid
value is ``1``; any other value, or none, means no preference was expressed.
"""

from __future__ import annotations

from typing import Final

from .request import OWS

GPC_HEADER: Final = "Sec-GPC"


def is_gpc_signal(value: str | None) -> bool:
    """True when a ``Sec-GPC`` header value expresses the do-not-sell-or-share preference.

    The value must be exactly ``1`` after trimming optional whitespace: spaces and
    tabs only (RFC 9110 section 5.6.3), so a vertical tab, a control character or a
    no-break space next to the ``1`` makes it no signal. Where a proxy merged repeated
    headers into one comma-separated list (RFC 9110 section 5.3), any element that is
    exactly ``1`` counts.
    """
    if value is None:
        return False
    value = value.strip(OWS)
    if value == "1":
        return True
    return "," in value and any(part.strip(OWS) == "1" for part in value.split(","))
