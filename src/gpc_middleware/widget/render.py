"""The cookie-settings widget: its pages, its script and style, its no-JavaScript form.

Sans-IO: every function takes plain values and returns bytes or plain values; routing,
CSRF token issuing and checking, cookies and the consent endpoint itself belong to the
middleware. What this module provides under the policy's ``endpoint_path`` (``E``):

====================  =====================================================================
``E/settings``        GET: :func:`render_settings_page`. POST: :func:`parse_settings_form`.
``E/do-not-sell``     GET: :func:`render_do_not_sell_page`. POST: :func:`parse_settings_form`.
``E/widget.js``       :func:`widget_assets` ``["widget.js"]``, versioned by ``?v=<digest>``.
``E/widget.css``      :func:`widget_assets` ``["widget.css"]``, versioned likewise.
``E/widget.json``     :func:`render_widget_config`: texts in the negotiated language + state.
====================  =====================================================================

Every text and every value that reaches a page is escaped here: :func:`html.escape`
for text and quoted attributes, :func:`json_for_script` for JSON inside ``<script>``.
The script (``static/widget.js``) inserts server data with ``textContent`` only.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal, get_args
from urllib.parse import parse_qsl, quote

from ..core.categories import CATEGORIES, OPTIONAL_CATEGORIES, Category, check_category
from .i18n import TEXT_KEYS

__all__ = [
    "CONFIG_VERSION",
    "CSRF_FIELD",
    "FORM_ACTIONS",
    "FormAction",
    "SettingsForm",
    "SettingsFormError",
    "StaticAsset",
    "WidgetState",
    "json_for_script",
    "parse_settings_form",
    "render_do_not_sell_page",
    "render_settings_page",
    "render_widget_config",
    "safe_next_path",
    "widget_assets",
    "widget_config",
    "widget_script_tag",
]

Mode = Literal["opt-in", "opt-out"]
Source = Literal["user", "gpc", "default"]
#: The ``action`` values the settings and do-not-sell forms post.
FormAction = Literal["accept_all", "reject_all", "save", "do_not_sell", "limit_sensitive"]
FORM_ACTIONS: Final[tuple[FormAction, ...]] = get_args(FormAction)

#: Version of the :func:`widget_config` JSON shape; the script refuses other versions.
CONFIG_VERSION: Final = 1

#: Name of the hidden CSRF token field of both forms.
CSRF_FIELD: Final = "csrf_token"

# Lookups rather than casts turn a checked str into its Literal type.
_MODES: Final[Mapping[str, Mode]] = MappingProxyType({mode: mode for mode in get_args(Mode)})
_SOURCES: Final[Mapping[str, Source]] = MappingProxyType(
    {source: source for source in get_args(Source)}
)
_ACTIONS: Final[Mapping[str, FormAction]] = MappingProxyType(
    {action: action for action in FORM_ACTIONS}
)


# --------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True, kw_only=True)
class WidgetState:
    """A visitor's consent as the widget shows it: the consent endpoint's ``GET`` body.

    ``categories`` may omit optional categories (they read as ``False``); ``essential``
    is always ``True`` whatever is passed. ``limit_sensitive`` is shown on the
    do-not-sell page only. Raises ``ValueError`` for an unknown category, mode or source.
    """

    categories: Mapping[Category, bool] = field(default_factory=dict)
    gpc: bool = False
    gpc_honored: bool = False
    decided: bool = False
    source: Source = "default"
    policy_version: str = ""
    mode: Mode = "opt-in"
    limit_sensitive: bool = False

    def __post_init__(self) -> None:
        normalized: dict[Category, bool] = {category: False for category in CATEGORIES}
        for name, allowed in self.categories.items():
            normalized[check_category(name)] = bool(allowed)
        normalized["essential"] = True
        # Frozen dataclass: replace the caller's mapping with a private read-only copy.
        object.__setattr__(self, "categories", MappingProxyType(normalized))
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {self.mode!r}")
        if self.source not in _SOURCES:
            raise ValueError(f"source must be one of {', '.join(_SOURCES)}, got {self.source!r}")

    def to_json_dict(self) -> dict[str, object]:
        """Return the consent endpoint's JSON body for this state (plus ``limit_sensitive``)."""
        return {
            "gpc": self.gpc,
            "gpc_honored": self.gpc_honored,
            "categories": dict(self.categories),
            "decided": self.decided,
            "source": self.source,
            "policy_version": self.policy_version,
            "mode": self.mode,
            "limit_sensitive": self.limit_sensitive,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, object]) -> WidgetState:
        """Build a state from a consent endpoint JSON body; ``ValueError`` if malformed."""
        categories = data.get("categories", {})
        if not isinstance(categories, Mapping):
            raise ValueError("categories must be an object")
        flags: dict[str, bool] = {}
        for name in ("gpc", "gpc_honored", "decided", "limit_sensitive"):
            value = data.get(name, False)
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be a boolean, got {value!r}")
            flags[name] = value
        parsed: dict[Category, bool] = {}
        for name, allowed in categories.items():
            if not isinstance(allowed, bool):
                raise ValueError(f"categories[{name!r}] must be a boolean, got {allowed!r}")
            parsed[check_category(str(name))] = allowed
        raw_mode = data.get("mode", "opt-in")
        raw_source = data.get("source", "default")
        policy_version = data.get("policy_version", "")
        mode = _MODES.get(raw_mode) if isinstance(raw_mode, str) else None
        source = _SOURCES.get(raw_source) if isinstance(raw_source, str) else None
        if mode is None:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {raw_mode!r}")
        if source is None:
            raise ValueError(f"source must be one of {', '.join(_SOURCES)}, got {raw_source!r}")
        if not isinstance(policy_version, str):
            raise ValueError(f"policy_version must be a string, got {policy_version!r}")
        return cls(
            categories=parsed,
            gpc=flags["gpc"],
            gpc_honored=flags["gpc_honored"],
            decided=flags["decided"],
            source=source,
            policy_version=policy_version,
            mode=mode,
            limit_sensitive=flags["limit_sensitive"],
        )


# --------------------------------------------------------------------------- assets


@dataclass(frozen=True, slots=True)
class StaticAsset:
    """One file of ``gpc_middleware/static``: its bytes, type and content digest.

    ``digest`` (hex SHA-256, 32 characters) changes whenever the bytes do: it versions
    the URL (``?v=``) and is the strong ``ETag``.
    """

    name: str
    body: bytes
    content_type: str
    digest: str

    @property
    def etag(self) -> str:
        """The strong entity tag, quoted as in RFC 9110 section 8.8.3."""
        return f'"{self.digest}"'

    def url(self, endpoint: str) -> str:
        """Return the versioned URL path of this asset under ``endpoint``."""
        return f"{_check_endpoint(endpoint)}/{self.name}?v={self.digest}"

    def headers(self, *, versioned: bool) -> list[tuple[bytes, bytes]]:
        """Response headers for serving the asset (200 with :attr:`body`, or 304).

        ``versioned`` means the request carried ``?v=`` equal to :attr:`digest`: the URL
        then names these exact bytes forever, so it may be cached as immutable.
        Unversioned requests are revalidated with the ``ETag``.
        """
        cache = b"public, max-age=31536000, immutable" if versioned else b"no-cache"
        return [
            (b"content-type", self.content_type.encode("ascii")),
            (b"content-length", str(len(self.body)).encode("ascii")),
            (b"etag", self.etag.encode("ascii")),
            (b"cache-control", cache),
            (b"x-content-type-options", b"nosniff"),
        ]


_ASSET_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "widget.js": "text/javascript; charset=utf-8",
        "widget.css": "text/css; charset=utf-8",
    }
)


@functools.cache
def widget_assets() -> Mapping[str, StaticAsset]:
    """Return the widget's static files by file name (``widget.js``, ``widget.css``).

    Read from the package and hashed once, on first call (not at import: importing the
    package stays cheap).
    """
    package = resources.files("gpc_middleware.widget") / "static"
    assets: dict[str, StaticAsset] = {}
    for name, content_type in _ASSET_TYPES.items():
        body = (package / name).read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:32]
        assets[name] = StaticAsset(name, body, content_type, digest)
    return MappingProxyType(assets)


def widget_script_tag(
    endpoint: str,
    *,
    nonce: str | None = None,
    reload: bool = True,
    link: bool = True,
) -> str:
    """Return the one ``<script>`` tag a page needs to show the widget.

    ``reload`` (default on): reload the page after a choice so that the server's
    stripping applies; off: activate the newly allowed inert elements in place.
    ``link`` off: do not add the floating "Cookie settings" button (the page provides
    its own ``data-consent-open`` element, or none).
    """
    assets = widget_assets()
    attributes = {
        "src": assets["widget.js"].url(endpoint),
        "data-endpoint": _check_endpoint(endpoint),
        "data-css": assets["widget.css"].url(endpoint),
        "data-reload": "true" if reload else "false",
        "data-link": "auto" if link else "none",
    }
    if nonce is not None:
        attributes["nonce"] = nonce
    rendered = "".join(f' {name}="{_attr(value)}"' for name, value in attributes.items())
    return f"<script{rendered} defer></script>"


# --------------------------------------------------------------------------- escaping

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


def _text(value: str) -> str:
    """Escape ``value`` for HTML text content."""
    return html.escape(value, quote=True)


def _attr(value: str) -> str:
    """Escape ``value`` for a double-quoted HTML attribute."""
    return html.escape(value, quote=True)


# --------------------------------------------------------------------------- validation

# An endpoint path as the policy configures it: absolute, no query, no fragment, not
# protocol-relative ("//host" would leave the site).
_ENDPOINT = re.compile(r"/(?!/)[A-Za-z0-9._~!$'()*+,;=:@%/-]*")
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_MAX_NEXT_LENGTH: Final = 2048


def _check_endpoint(endpoint: str) -> str:
    if not _ENDPOINT.fullmatch(endpoint) or endpoint.endswith("/"):
        raise ValueError(
            f"endpoint must be an absolute path without a trailing slash such as "
            f"'/_consent', got {endpoint!r}"
        )
    return endpoint


def _check_language(language: str) -> str:
    if not _LANGUAGE.fullmatch(language):
        raise ValueError(f"language must be a language tag such as 'fr', got {language!r}")
    return language


def _check_texts(texts: Mapping[str, str]) -> Mapping[str, str]:
    missing = TEXT_KEYS.difference(texts)
    if missing:
        raise ValueError(
            f"texts is missing {', '.join(sorted(missing))}; pass a catalog from "
            "gpc_middleware.widget.i18n.build_catalogs()"
        )
    return texts


def _check_link(url: str | None, what: str) -> str | None:
    """Accept a same-site path or an http(s) URL; anything else (``javascript:``) is refused."""
    if url is None:
        return None
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    if re.match(r"https?://[^\s/\\]", url, flags=re.IGNORECASE) and not re.search(r"\s", url):
        return url
    raise ValueError(f"{what} must be a path such as '/privacy' or an http(s) URL, got {url!r}")


def safe_next_path(value: str | None) -> str:
    """Return ``value`` if it is a path on this site, else ``"/"``.

    The ``next`` field comes from the visitor: only a path starting with a single ``/``
    and free of backslashes, whitespace and control characters is followed, so that the
    redirect after the form can never leave the site (``//evil``, ``/\\evil``,
    ``https://evil`` all give ``"/"``).
    """
    if (
        not value
        or len(value) > _MAX_NEXT_LENGTH
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) <= 0x20 or 0x7F <= ord(char) <= 0x9F for char in value)
    ):
        return "/"
    return value


# --------------------------------------------------------------------------- config JSON


def widget_config(
    *,
    state: WidgetState,
    texts: Mapping[str, str],
    language: str,
    endpoint: str,
    do_not_sell_link: bool = True,
    privacy_policy_url: str | None = None,
    iab: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """Return what the script needs, as a JSON-ready dict (see :func:`render_widget_config`).

    Shape (``CONFIG_VERSION`` 1)::

        {"version": 1, "language": "fr", "endpoint": "/_consent",
         "links": {"settings": "/_consent/settings",
                   "do_not_sell": "/_consent/do-not-sell" | null,
                   "privacy_policy": "/privacy" | null},
         "texts": {<every key of i18n.TEXT_KEYS>: str},
         "state": <WidgetState.to_json_dict()>}
    """
    endpoint = _check_endpoint(endpoint)
    return {
        "version": CONFIG_VERSION,
        "language": _check_language(language),
        "endpoint": endpoint,
        "links": {
            "settings": f"{endpoint}/settings",
            "do_not_sell": f"{endpoint}/do-not-sell" if do_not_sell_link else None,
            "privacy_policy": _check_link(privacy_policy_url, "privacy_policy_url"),
        },
        "texts": {key: texts[key] for key in sorted(_check_texts(texts))},
        "state": state.to_json_dict(),
        # The IAB strings (US Privacy, GPP) the script answers __uspapi/__gpp with, if published.
        "iab": dict(iab) if iab is not None else None,
    }


def render_widget_config(
    *,
    state: WidgetState,
    texts: Mapping[str, str],
    language: str,
    endpoint: str,
    do_not_sell_link: bool = True,
    privacy_policy_url: str | None = None,
    iab: Mapping[str, str] | None = None,
) -> bytes:
    """Return the ``E/widget.json`` body (UTF-8 JSON) the script fetches on each page.

    The middleware serves it with ``Content-Type: application/json``,
    ``Cache-Control: no-store`` (it carries the visitor's state) and ``Vary`` on what
    chose the language and the state. The script asks ``E/widget.json?lang=<html lang>``;
    pass that ``lang`` as ``override`` to :func:`gpc_middleware.widget.i18n.negotiate_language`.
    """
    config = widget_config(
        state=state,
        texts=texts,
        language=language,
        endpoint=endpoint,
        do_not_sell_link=do_not_sell_link,
        privacy_policy_url=privacy_policy_url,
        iab=iab,
    )
    return json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- pages


def _page(
    *,
    language: str,
    title: str,
    nonce: str | None,
    body: list[str],
) -> bytes:
    nonce_attr = f' nonce="{_attr(nonce)}"' if nonce is not None else ""
    css = widget_assets()["widget.css"].body.decode("utf-8")
    # The stylesheet is ours (package data), never visitor input; "</" cannot occur in it.
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_attr(_check_language(language))}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex">',
        '<meta name="referrer" content="same-origin">',
        f"<title>{_text(title)}</title>",
        f"<style{nonce_attr}>{css}</style>",
        "</head>",
        '<body class="gpc-page">',
        *body,
        "</body>",
        "</html>",
    ]
    return ("\n".join(parts) + "\n").encode("utf-8")


def _hidden_fields(csrf_token: str, next_url: str) -> list[str]:
    return [
        f'<input type="hidden" name="{CSRF_FIELD}" value="{_attr(csrf_token)}">',
        f'<input type="hidden" name="next" value="{_attr(next_url)}">',
    ]


def _footer_links(
    texts: Mapping[str, str],
    *,
    next_url: str,
    extra: list[tuple[str, str]],
    privacy_policy_url: str | None,
) -> list[str]:
    links = [(next_url, texts["back_to_site"]), *extra]
    if privacy_policy_url is not None:
        links.append((privacy_policy_url, texts["privacy_policy"]))
    items = "".join(f'<li><a href="{_attr(url)}">{_text(label)}</a></li>' for url, label in links)
    return [f'<ul class="gpc-links">{items}</ul>']


def _category_rows(texts: Mapping[str, str], state: WidgetState) -> list[str]:
    rows: list[str] = []
    for category in CATEGORIES:
        control_id = f"gpc-page-{category}"
        description_id = f"{control_id}-description"
        essential = category == "essential"
        # While the browser sends GPC, targeting stays off whatever is ticked (CCPA
        # regulations section 7025(c)(3)): say so instead of offering a switch that does nothing.
        locked = category == "targeting" and state.gpc
        checked = " checked" if state.categories[category] else ""
        disabled = " disabled" if essential or locked else ""
        badge = ""
        if essential:
            badge = f' <span class="gpc-badge">{_text(texts["always_on"])}</span>'
        elif locked:
            badge = f' <span class="gpc-badge">{_text(texts["gpc_locked"])}</span>'
        rows += [
            f'<div class="gpc-category" data-category="{category}">',
            '<div class="gpc-category__head">',
            f'<input type="checkbox" class="gpc-checkbox" id="{control_id}" name="category" '
            f'value="{category}"{checked}{disabled} aria-describedby="{description_id}">',
            f'<label for="{control_id}" class="gpc-category__name">'
            f"{_text(texts[f'category_{category}'])}{badge}</label>",
            "</div>",
            f'<p class="gpc-category__description" id="{description_id}">'
            f"{_text(texts[f'category_{category}_description'])}</p>",
            "</div>",
        ]
    return rows


def render_settings_page(
    *,
    state: WidgetState,
    texts: Mapping[str, str],
    language: str,
    endpoint: str,
    csrf_token: str,
    next_url: str = "/",
    nonce: str | None = None,
    saved: bool = False,
    do_not_sell_link: bool = True,
    privacy_policy_url: str | None = None,
) -> bytes:
    """Return the standalone ``E/settings`` page (UTF-8 HTML) for ``GET``.

    Without JavaScript it is a ``<form method="post" action="E/settings">`` with the
    hidden ``csrf_token`` and ``next`` fields, a ``category`` checkbox per category
    (``essential`` checked and disabled, so never sent) and three
    ``<button type="submit" name="action">`` (``save``, ``reject_all``, ``accept_all``;
    "Save choices" comes first because Enter in a checkbox submits with the first
    button). With JavaScript, ``widget.js`` (``data-page="settings"``) saves through the
    JSON endpoint and stays on the page. ``saved`` shows the confirmation (after the
    no-JS POST redirects back here). ``nonce`` goes on the inline ``<style>`` and the
    ``<script>`` tags for a nonce-based Content-Security-Policy. ``next_url`` is passed
    through :func:`safe_next_path`. No external resource is loaded.
    """
    endpoint = _check_endpoint(endpoint)
    _check_texts(texts)
    next_url = safe_next_path(next_url)
    privacy_policy_url = _check_link(privacy_policy_url, "privacy_policy_url")
    nonce_attr = f' nonce="{_attr(nonce)}"' if nonce is not None else ""
    config = widget_config(
        state=state,
        texts=texts,
        language=language,
        endpoint=endpoint,
        do_not_sell_link=do_not_sell_link,
        privacy_policy_url=privacy_policy_url,
    )
    status = _text(texts["saved"]) if saved else ""
    body = [
        '<main class="gpc-panel" aria-labelledby="gpc-page-title">',
        f'<h1 class="gpc-title" id="gpc-page-title">{_text(texts["settings_title"])}</h1>',
    ]
    if state.gpc_honored:
        body.append(f'<p class="gpc-notice">{_text(texts["gpc_notice"])}</p>')
    body += [
        f'<p class="gpc-text">{_text(texts["settings_intro"])}</p>',
        f'<form class="gpc-form" method="post" action="{_attr(endpoint)}/settings" '
        "data-gpc-settings>",
        *_hidden_fields(csrf_token, next_url),
        '<fieldset class="gpc-categories">',
        f'<legend class="gpc-legend">{_text(texts["categories_legend"])}</legend>',
        *_category_rows(texts, state),
        "</fieldset>",
        '<div class="gpc-actions">',
        *(
            f'<button type="submit" class="gpc-button" name="action" value="{action}">'
            f"{_text(texts[key])}</button>"
            for action, key in _SETTINGS_BUTTONS
        ),
        "</div>",
        f'<p class="gpc-status" role="status" aria-live="polite">{status}</p>',
        "</form>",
        *_footer_links(
            texts,
            next_url=next_url,
            extra=(
                [(f"{endpoint}/do-not-sell?next={_query_value(next_url)}", texts["dns_title"])]
                if do_not_sell_link
                else []
            ),
            privacy_policy_url=privacy_policy_url,
        ),
        "</main>",
        f'<script type="application/json" id="gpc-consent-config"{nonce_attr}>'
        f"{json_for_script(config)}</script>",
        f'<script src="{_attr(widget_assets()["widget.js"].url(endpoint))}" '
        f'data-endpoint="{_attr(endpoint)}" data-page="settings" data-css="none"'
        f"{nonce_attr} defer></script>",
    ]
    return _page(language=language, title=texts["settings_title"], nonce=nonce, body=body)


# (action, text key), in page order. "save" first: it is the form's default button.
_SETTINGS_BUTTONS: Final[tuple[tuple[FormAction, str], ...]] = (
    ("save", "save_choices"),
    ("reject_all", "reject_all"),
    ("accept_all", "accept_all"),
)


def _query_value(value: str) -> str:
    """Percent-encode ``value`` for a query string (the result is then HTML-escaped)."""
    return quote(value, safe="/")


def render_do_not_sell_page(
    *,
    state: WidgetState,
    texts: Mapping[str, str],
    language: str,
    endpoint: str,
    csrf_token: str,
    next_url: str = "/",
    nonce: str | None = None,
    confirmed: Literal["do_not_sell", "limit_sensitive"] | None = None,
    limit_sensitive_form: bool = True,
    privacy_policy_url: str | None = None,
) -> bytes:
    """Return the standalone ``E/do-not-sell`` page (UTF-8 HTML) for ``GET``.

    Two one-click forms posting to ``E/do-not-sell``: ``action=do_not_sell`` ("Do Not
    Sell or Share My Personal Information", CCPA regulations section 7026) and, unless
    ``limit_sensitive_form`` is off, ``action=limit_sensitive`` ("Limit the Use of My
    Sensitive Personal Information", section 7027). Each carries the hidden
    ``csrf_token`` and ``next``. When ``state.gpc_honored`` the page says "Opt-Out
    Request Honored" (section 7025(c)(6)). ``confirmed`` shows the confirmation of the
    request just made; an opt-out already in force (targeting off, ``limit_sensitive``)
    is stated as such. Needs no JavaScript and loads nothing external.
    """
    endpoint = _check_endpoint(endpoint)
    _check_texts(texts)
    next_url = safe_next_path(next_url)
    privacy_policy_url = _check_link(privacy_policy_url, "privacy_policy_url")
    action_url = f"{_attr(endpoint)}/do-not-sell"

    def section(
        *, action: FormAction, title: str, intro: str, button: str, done: str | None
    ) -> list[str]:
        heading_id = f"gpc-{action.replace('_', '-')}-title"
        lines = [
            f'<section class="gpc-section" aria-labelledby="{heading_id}">',
            f'<h2 class="gpc-subtitle" id="{heading_id}">{_text(title)}</h2>',
            f'<p class="gpc-text">{_text(intro)}</p>',
        ]
        if done is not None:
            lines.append(f'<p class="gpc-confirmation" role="status">{_text(done)}</p>')
        lines += [
            f'<form class="gpc-form" method="post" action="{action_url}">',
            *_hidden_fields(csrf_token, next_url),
            '<div class="gpc-actions">',
            f'<button type="submit" class="gpc-button" name="action" value="{action}">'
            f"{_text(button)}</button>",
            "</div>",
            "</form>",
            "</section>",
        ]
        return lines

    dns_done: str | None = None
    if confirmed == "do_not_sell":
        dns_done = texts["dns_confirmed"]
    elif not state.categories["targeting"]:
        dns_done = texts["dns_in_effect"]
    body = [
        '<main class="gpc-panel" aria-labelledby="gpc-page-title">',
        f'<h1 class="gpc-title" id="gpc-page-title">{_text(texts["dns_page_title"])}</h1>',
    ]
    if state.gpc_honored:
        body.append(f'<p class="gpc-notice">{_text(texts["gpc_notice"])}</p>')
    body += section(
        action="do_not_sell",
        title=texts["dns_title"],
        intro=texts["dns_intro"],
        button=texts["dns_button"],
        done=dns_done,
    )
    if limit_sensitive_form:
        limit_done: str | None = None
        if confirmed == "limit_sensitive":
            limit_done = texts["limit_confirmed"]
        elif state.limit_sensitive:
            limit_done = texts["limit_in_effect"]
        body += section(
            action="limit_sensitive",
            title=texts["limit_title"],
            intro=texts["limit_intro"],
            button=texts["limit_button"],
            done=limit_done,
        )
    body += [
        *_footer_links(
            texts,
            next_url=next_url,
            extra=[(f"{endpoint}/settings?next={_query_value(next_url)}", texts["settings_link"])],
            privacy_policy_url=privacy_policy_url,
        ),
        "</main>",
    ]
    return _page(language=language, title=texts["dns_page_title"], nonce=nonce, body=body)


# --------------------------------------------------------------------------- form parsing


class SettingsFormError(ValueError):
    """The posted settings or do-not-sell form is unusable; the message says why.

    The middleware answers ``400 Bad Request`` and changes nothing.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsForm:
    """A parsed settings or do-not-sell form.

    ``categories`` holds the optional categories this action sets; categories absent
    from it keep their current value: ``accept_all``/``reject_all`` set all three,
    ``save`` sets all three from the checkboxes, ``do_not_sell`` sets ``targeting`` to
    ``False``, ``limit_sensitive`` sets none and has ``limit_sensitive`` true.
    ``csrf_token`` is as posted: checking it is the caller's job. ``next_url`` already
    went through :func:`safe_next_path`.
    """

    action: FormAction
    categories: Mapping[Category, bool]
    csrf_token: str
    next_url: str
    limit_sensitive: bool = False


_MAX_FORM_BYTES: Final = 8192
_MAX_FORM_FIELDS: Final = 32
_MAX_TOKEN_LENGTH: Final = 1024
_FORM_FIELDS: Final = frozenset({"action", CSRF_FIELD, "next", "category"})


def parse_settings_form(body: bytes, *, max_bytes: int = _MAX_FORM_BYTES) -> SettingsForm:
    """Parse an ``application/x-www-form-urlencoded`` body posted by either page.

    Raises :class:`SettingsFormError` for: a body over ``max_bytes``; non-ASCII bytes,
    malformed pairs or percent-escapes that are not UTF-8; more than 32 fields; an
    unknown field; a missing, repeated or unknown ``action``; a missing, empty, repeated
    or over-long ``csrf_token``; a repeated ``next``; an unknown ``category``. A
    ``next`` that is not a path on this site becomes ``"/"`` rather than an error.
    ``category=essential`` is accepted and ignored (essential is always on).
    """
    if len(body) > max_bytes:
        raise SettingsFormError(f"form body is {len(body)} bytes; the limit is {max_bytes}")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise SettingsFormError("form body must be URL-encoded ASCII") from None
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise SettingsFormError(f"malformed form body: {exc}") from None

    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in _FORM_FIELDS:
            raise SettingsFormError(f"unexpected form field {name!r}")
        values.setdefault(name, []).append(value)

    def single(name: str) -> str | None:
        found = values.get(name, [])
        if len(found) > 1:
            raise SettingsFormError(f"form field {name!r} was sent {len(found)} times")
        return found[0] if found else None

    raw_action = single("action")
    if raw_action is None:
        raise SettingsFormError("form field 'action' is missing")
    action = _ACTIONS.get(raw_action)
    if action is None:
        raise SettingsFormError(
            f"unknown action {raw_action!r}; expected one of {', '.join(FORM_ACTIONS)}"
        )
    token = single(CSRF_FIELD)
    if not token:
        raise SettingsFormError(f"form field {CSRF_FIELD!r} is missing or empty")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise SettingsFormError(f"form field {CSRF_FIELD!r} is too long")
    next_url = safe_next_path(single("next"))

    checked: set[Category] = set()
    for name in values.get("category", []):
        try:
            checked.add(check_category(name))
        except ValueError as exc:
            raise SettingsFormError(str(exc)) from None

    categories: dict[Category, bool]
    if action == "accept_all":
        categories = {category: True for category in OPTIONAL_CATEGORIES}
    elif action == "reject_all":
        categories = {category: False for category in OPTIONAL_CATEGORIES}
    elif action == "save":
        categories = {category: category in checked for category in OPTIONAL_CATEGORIES}
    elif action == "do_not_sell":
        categories = {"targeting": False}
    else:
        categories = {}
    return SettingsForm(
        action=action,
        categories=MappingProxyType(categories),
        csrf_token=token,
        next_url=next_url,
        limit_sensitive=action == "limit_sensitive",
    )
