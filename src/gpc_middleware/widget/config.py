"""``E/widget.json``: what the script needs on each page (texts, links, the visitor's state)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from .state import WidgetState
from .validation import check_endpoint, check_language, check_link, check_texts

__all__ = ["CONFIG_VERSION", "render_widget_config", "widget_config"]

#: Version of the :func:`widget_config` JSON shape; the script refuses other versions.
CONFIG_VERSION: Final = 1


def widget_config(
    *,
    state: WidgetState,
    texts: Mapping[str, str],
    language: str,
    endpoint: str,
    do_not_sell_link: bool = True,
    privacy_policy_url: str | None = None,
    iab: Mapping[str, object] | None = None,
    google_consent_mode: bool = False,
) -> dict[str, object]:
    """Return what the script needs, as a JSON-ready dict (see :func:`render_widget_config`).

    Shape (``CONFIG_VERSION`` 1)::

        {"version": 1, "language": "fr", "endpoint": "/_consent",
         "links": {"settings": "/_consent/settings",
                   "do_not_sell": "/_consent/do-not-sell" | null,
                   "privacy_policy": "/privacy" | null},
         "texts": {<every key of i18n.TEXT_KEYS>: str},
         "state": <WidgetState.to_json_dict()>,
         "iab": null | {"usprivacy", "gpp", "applicableSections", "sectionList",
                        "parsedSections", "gpc": <the same with a GPC signal> | absent},
         "google_consent_mode": false}

    ``language`` is spelled in the case BCP 47 recommends (``"zh-Hant"``, ``"pt-PT"``):
    the script writes it into the ``lang`` attribute of what it shows.
    """
    endpoint = check_endpoint(endpoint)
    return {
        "version": CONFIG_VERSION,
        "language": check_language(language),
        "endpoint": endpoint,
        "links": {
            "settings": f"{endpoint}/settings",
            "do_not_sell": f"{endpoint}/do-not-sell" if do_not_sell_link else None,
            "privacy_policy": check_link(privacy_policy_url, "privacy_policy_url"),
        },
        "texts": {key: texts[key] for key in sorted(check_texts(texts))},
        "state": state.to_json_dict(),
        # The IAB signals (US Privacy, GPP, the parsed sections; under "gpc" the same for a
        # GPC signal only scripts see) the script answers __uspapi/__gpp with, if published.
        "iab": dict(iab) if iab is not None else None,
        # Whether the script calls gtag('consent', 'update', ...) from the visitor's state.
        "google_consent_mode": google_consent_mode,
    }


def render_widget_config(
    *,
    state: WidgetState,
    texts: Mapping[str, str],
    language: str,
    endpoint: str,
    do_not_sell_link: bool = True,
    privacy_policy_url: str | None = None,
    iab: Mapping[str, object] | None = None,
    google_consent_mode: bool = False,
) -> bytes:
    """Return the ``E/widget.json`` body (UTF-8 JSON) the script fetches on each page.

    The middleware serves it with ``Content-Type: application/json``,
    ``Cache-Control: no-store`` (it carries the visitor's state) and ``Vary`` on what
    chose the language and the state. The script asks ``E/widget.json?lang=<html lang>``;
    pass that ``lang`` as ``page`` to :func:`gpc_middleware.widget.i18n.negotiate_language`.
    """
    config = widget_config(
        state=state,
        texts=texts,
        language=language,
        endpoint=endpoint,
        do_not_sell_link=do_not_sell_link,
        privacy_policy_url=privacy_policy_url,
        iab=iab,
        google_consent_mode=google_consent_mode,
    )
    return json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
