"""How a browser audit says "reject all": as a visitor would, through the site's own banner.

The reject control of this package's widget and of common consent managers is tried first
(by selector), then any visible button or link named like a refusal ("Reject all",
"Decline", "Only necessary cookies"), in the page and in its frames. A site running this
middleware whose page shows no such control (a GPC-only banner, a page without the widget)
gets the same choice through its consent endpoint, same-origin as its widget makes it.
Which way was taken is recorded, for the report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .browser_log import host_of

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

# This package's widget, OneTrust, Cookiebot, CookieYes, Didomi, Osano, Usercentrics.
REJECT_SELECTORS = (
    "[data-consent-action=reject_all]",
    ".gpc-root [data-action=reject_all]",
    "#onetrust-reject-all-handler",
    "#CybotCookiebotDialogBodyButtonDecline",
    "[data-cky-tag=reject-button]",
    "#didomi-notice-disagree-button",
    ".osano-cm-denyAll",
    "[data-testid=uc-deny-all-button]",
)
REJECT_NAME = re.compile(
    r"^\s*(reject|decline|refuse|deny|disagree)"
    r"(\s+(all|cookies|all cookies|optional cookies|non-essential cookies|additional cookies))?\s*$"
    r"|^\s*(use |accept |allow )?only\s+(strictly )?(necessary|essential|required)(\s+cookies)?\s*$"
    r"|^\s*(necessary|essential|required)\s+(cookies\s+)?only\s*$",
    re.IGNORECASE,
)


def click_reject(page: Page) -> str | None:
    """Click the first visible reject control of the page or its frames; say which, or None."""
    from playwright.sync_api import Error as PlaywrightError

    for frame in page.frames:
        try:
            control = frame.locator(", ".join(REJECT_SELECTORS)).filter(visible=True)
            if not control.count():
                control = (
                    frame.get_by_role("button", name=REJECT_NAME)
                    .or_(frame.get_by_role("link", name=REJECT_NAME))
                    .filter(visible=True)
                )
            if not control.count():
                continue
            first = control.first
            label = " ".join((first.inner_text() or "").split())[:60]
            label = label or first.get_attribute("aria-label") or "(unnamed control)"
            first.click()
        except PlaywrightError:
            continue  # a frame that went away, a control that moved: try the next
        where = "" if frame is page.main_frame else f" (in a frame from {host_of(frame.url)})"
        return f'clicked "{label}" in the page{where}'
    return None


def reject_through_endpoint(
    context: BrowserContext,
    base_url: str,
    endpoint: str,
    endpoint_state: Mapping[str, Any] | None,
) -> str | None:
    """``PUT endpoint {"all": false}`` with the context's cookies, when the site has the
    endpoint (``endpoint_state`` is its answer); say so, or None."""
    if endpoint_state is None:
        return None
    reply = context.request.put(
        base_url + endpoint,
        data=json.dumps({"all": False}),
        headers={
            "Content-Type": "application/json",
            "Origin": base_url,
            "Sec-Fetch-Site": "same-origin",
        },
    )
    if not reply.ok:
        return None
    return f'no reject control on the page: PUT {endpoint} {{"all": false}} -> {reply.status}'
