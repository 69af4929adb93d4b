"""Escaping for everything the widget writes into HTML.

Every text and every value that reaches a page goes through here: :func:`escape_text`
and :func:`escape_attribute` (:func:`html.escape`) for text and quoted attributes,
:func:`json_for_script` for JSON inside ``<script>``. The script (``static/widget.js``)
inserts server data with ``textContent`` only.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["escape_attribute", "escape_text", "json_for_script"]

# Inside <script>, "</script" or "<!--" would end or alter the element (HTML spec
# "restrictions for contents of script elements"); U+2028/U+2029 end lines in old
# JavaScript engines. Escaping <, > and & as \uXXXX keeps the JSON value identical.
_SCRIPT_JSON_ESCAPES: Final[Mapping[int, str]] = MappingProxyType(
    {
        ord("<"): "\\u003c",
        ord(">"): "\\u003e",
        ord("&"): "\\u0026",
        0x2028: "\\u2028",
        0x2029: "\\u2029",
    }
)


def json_for_script(value: object) -> str:
    """Serialize ``value`` as JSON that is safe as the text of a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.translate(_SCRIPT_JSON_ESCAPES)


def escape_text(value: str) -> str:
    """Escape ``value`` for HTML text content."""
    return html.escape(value, quote=True)


def escape_attribute(value: str) -> str:
    """Escape ``value`` for a double-quoted HTML attribute."""
    return html.escape(value, quote=True)
