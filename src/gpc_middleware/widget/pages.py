"""The standalone pages ``E/settings`` and ``E/do-not-sell``, usable without JavaScript.

Each page is one self-contained HTML document: the stylesheet inline, a form per choice
posting back to the page with the hidden CSRF and ``next`` fields (parsed by
:mod:`~gpc_middleware.widget.settings_form`), and nothing loaded from elsewhere. Every
text and value is escaped with :mod:`~gpc_middleware.widget.escaping`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal
from urllib.parse import quote

from ..core.categories import CATEGORIES
from .assets import widget_assets
from .config import widget_config
from .escaping import escape_attribute, escape_text, json_for_script
from .settings_form import CSRF_FIELD, FormAction
from .state import WidgetState
from .validation import check_endpoint, check_language, check_link, check_texts, safe_next_path

__all__ = ["render_do_not_sell_page", "render_settings_page"]


def _page(
    *,
    language: str,
    title: str,
    nonce: str | None,
    body: list[str],
) -> bytes:
    nonce_attr = f' nonce="{escape_attribute(nonce)}"' if nonce is not None else ""
    css = widget_assets()["widget.css"].body.decode("utf-8")
    # The stylesheet is ours (package data), never visitor input; "</" cannot occur in it.
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape_attribute(check_language(language))}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex">',
        '<meta name="referrer" content="same-origin">',
        f"<title>{escape_text(title)}</title>",
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
        f'<input type="hidden" name="{CSRF_FIELD}" value="{escape_attribute(csrf_token)}">',
        f'<input type="hidden" name="next" value="{escape_attribute(next_url)}">',
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
    items = "".join(
        f'<li><a href="{escape_attribute(url)}">{escape_text(label)}</a></li>'
        for url, label in links
    )
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
            badge = f' <span class="gpc-badge">{escape_text(texts["always_on"])}</span>'
        elif locked:
            badge = f' <span class="gpc-badge">{escape_text(texts["gpc_locked"])}</span>'
        rows += [
            f'<div class="gpc-category" data-category="{category}">',
            '<div class="gpc-category__head">',
            f'<input type="checkbox" class="gpc-checkbox" id="{control_id}" name="category" '
            f'value="{category}"{checked}{disabled} aria-describedby="{description_id}">',
            f'<label for="{control_id}" class="gpc-category__name">'
            f"{escape_text(texts[f'category_{category}'])}{badge}</label>",
            "</div>",
            f'<p class="gpc-category__description" id="{description_id}">'
            f"{escape_text(texts[f'category_{category}_description'])}</p>",
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
    endpoint = check_endpoint(endpoint)
    check_texts(texts)
    next_url = safe_next_path(next_url)
    privacy_policy_url = check_link(privacy_policy_url, "privacy_policy_url")
    nonce_attr = f' nonce="{escape_attribute(nonce)}"' if nonce is not None else ""
    config = widget_config(
        state=state,
        texts=texts,
        language=language,
        endpoint=endpoint,
        do_not_sell_link=do_not_sell_link,
        privacy_policy_url=privacy_policy_url,
    )
    status = escape_text(texts["saved"]) if saved else ""
    # After the no-JS form's redirect the confirmation is already in the page, and a live
    # region that holds its text at load is not announced: it takes focus instead
    # (autofocus), so a screen reader reads it, and keyboard users start from it.
    focus = ' tabindex="-1" autofocus' if saved else ""
    body = [
        '<main class="gpc-panel" aria-labelledby="gpc-page-title">',
        f'<h1 class="gpc-title" id="gpc-page-title">{escape_text(texts["settings_title"])}</h1>',
    ]
    if state.gpc_honored:
        body.append(f'<p class="gpc-notice">{escape_text(texts["gpc_notice"])}</p>')
    body += [
        f'<p class="gpc-text">{escape_text(texts["settings_intro"])}</p>',
        f'<form class="gpc-form" method="post" action="{escape_attribute(endpoint)}/settings" '
        "data-gpc-settings>",
        *_hidden_fields(csrf_token, next_url),
        '<fieldset class="gpc-categories">',
        f'<legend class="gpc-legend">{escape_text(texts["categories_legend"])}</legend>',
        *_category_rows(texts, state),
        "</fieldset>",
        '<div class="gpc-actions">',
        *(
            f'<button type="submit" class="gpc-button" name="action" value="{action}">'
            f"{escape_text(texts[key])}</button>"
            for action, key in _SETTINGS_BUTTONS
        ),
        "</div>",
        f'<p class="gpc-status" role="status" aria-live="polite"{focus}>{status}</p>',
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
        f'<script src="{escape_attribute(widget_assets()["widget.js"].url(endpoint))}" '
        f'data-endpoint="{escape_attribute(endpoint)}" data-page="settings" data-css="none"'
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
    endpoint = check_endpoint(endpoint)
    check_texts(texts)
    next_url = safe_next_path(next_url)
    privacy_policy_url = check_link(privacy_policy_url, "privacy_policy_url")
    action_url = f"{escape_attribute(endpoint)}/do-not-sell"

    def section(
        *, action: FormAction, title: str, intro: str, button: str, done: str | None
    ) -> list[str]:
        heading_id = f"gpc-{action.replace('_', '-')}-title"
        lines = [
            f'<section class="gpc-section" aria-labelledby="{heading_id}">',
            f'<h2 class="gpc-subtitle" id="{heading_id}">{escape_text(title)}</h2>',
            f'<p class="gpc-text">{escape_text(intro)}</p>',
        ]
        if done is not None:
            # The request just made is confirmed where focus lands (see the settings page).
            focus = ' tabindex="-1" autofocus' if action == confirmed else ""
            lines.append(
                f'<p class="gpc-confirmation" role="status"{focus}>{escape_text(done)}</p>'
            )
        lines += [
            f'<form class="gpc-form" method="post" action="{action_url}">',
            *_hidden_fields(csrf_token, next_url),
            '<div class="gpc-actions">',
            f'<button type="submit" class="gpc-button" name="action" value="{action}">'
            f"{escape_text(button)}</button>",
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
        f'<h1 class="gpc-title" id="gpc-page-title">{escape_text(texts["dns_page_title"])}</h1>',
    ]
    if state.gpc_honored:
        body.append(f'<p class="gpc-notice">{escape_text(texts["gpc_notice"])}</p>')
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
