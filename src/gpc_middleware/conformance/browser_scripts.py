"""The JavaScript a browser audit runs in the pages it visits, and the answers its stub gives.

Init scripts run before any of the page's own scripts, in every frame; the others are
``page.evaluate`` expressions run once the page has settled. Each returns plain JSON values.
"""

from __future__ import annotations

import base64
from typing import Final

#: A GPC browser: ``navigator.globalPrivacyControl`` is true (GPC spec 3.2).
GPC_ON: Final = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
    "{get: () => true, configurable: true});"
)

#: The name of the binding the cookie hook reports to.
COOKIE_BINDING: Final = "__gpcAuditCookieWrite"

#: Reports every ``document.cookie`` write (the cookie's name, the writing script's URL) to
#: the audit, so a cookie set by a script can be told from one set by a header, and by whom.
COOKIE_HOOK: Final = r"""(() => {
  const descriptor = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (!descriptor || !descriptor.set) return;
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() { return descriptor.get.call(this); },
    set(value) {
      try {
        const text = String(value);
        const urls = (new Error().stack || "").match(/https?:\/\/[^\s)]+?(?=:\d+:\d+)/g) || [];
        const report = window.BINDING;
        if (typeof report === "function") report(text.slice(0, 300), urls[0] || location.href);
      } catch (error) { /* never break the page */ }
      return descriptor.set.call(this, value);
    },
  });
})();""".replace("BINDING", COOKIE_BINDING)

#: ``__uspapi`` and ``__gpp`` as the privacy-tech-lab crawler reads them, each call bounded:
#: an API that never calls back is "no answer", an absent one is left out.
SIGNALS: Final = r"""async () => {
  const call = (invoke) => new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 1000);
    try {
      invoke((data, ok) => { clearTimeout(timer); resolve(ok === false ? null : data); });
    } catch (error) { clearTimeout(timer); resolve(null); }
  });
  const plain = (value) => {
    try { return value === undefined ? null : JSON.parse(JSON.stringify(value)); }
    catch (error) { return null; }
  };
  const out = { gpc: typeof navigator.globalPrivacyControl === "boolean" ? navigator.globalPrivacyControl : null };
  if (typeof window.__uspapi === "function") {
    const data = await call((cb) => window.__uspapi("getUSPData", 1, cb));
    out.usp = data && typeof data.uspString === "string" ? data.uspString : null;
  }
  if (typeof window.__gpp === "function") {
    const ping = await call((cb) => window.__gpp("ping", cb));
    let gpp = ping && typeof ping.gppString === "string" ? ping.gppString : null;
    if (gpp === null && ping) {  // GPP 1.0: the string comes from getGPPData
      const data = await call((cb) => window.__gpp("getGPPData", cb));
      gpp = data && typeof data.gppString === "string" ? data.gppString : null;
    }
    out.gpp = gpp;
    out.usnat = plain(await call((cb) => window.__gpp("getSection", cb, "usnat")));
  }
  return out;
}"""

#: A visible consent banner: an element that is fixed, sticky, a dialog or a region, or named
#: like one, in the viewport, at least 5 % of it, whose text speaks of cookies, consent or
#: privacy and which holds a control to choose with. The outermost such element's text, or
#: null. (Light DOM of the top document: a banner inside a cross-origin frame is not seen.)
BANNER: Final = r"""() => {
  const topic = /cookie|consent|privacy|tracking|personal (data|information)/i;
  const action = /accept|agree|allow|reject|decline|refuse|deny|got it|^ok$|settings|preferences|manage|customi[sz]e|necessary|save/i;
  const named = "[role=dialog],[role=alertdialog],[role=region],[aria-modal=true],dialog,"
    + "[id*=cookie i],[class*=cookie i],[id*=consent i],[class*=consent i],[id*=banner i],[class*=banner i]";
  const candidates = new Set(document.querySelectorAll(named));
  for (const el of document.body ? document.body.querySelectorAll("*") : []) {
    const position = getComputedStyle(el).position;
    if (position === "fixed" || position === "sticky") candidates.add(el);
  }
  const area = innerWidth * innerHeight;
  const shown = (el) => {
    if (el.checkVisibility && !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    const r = el.getBoundingClientRect();
    const w = Math.min(r.right, innerWidth) - Math.max(r.left, 0);
    const h = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
    return w > 0 && h > 0 && w * h >= 0.05 * area;
  };
  const controls = (el) => Array.from(el.querySelectorAll("button,a,[role=button],input[type=button],input[type=submit]"))
    .some((c) => action.test((c.innerText || c.value || c.getAttribute("aria-label") || "").trim()));
  const banners = Array.from(candidates).filter((el) => shown(el) && topic.test(el.innerText || "") && controls(el));
  const outer = banners.filter((el) => !banners.some((other) => other !== el && other.contains(el)));
  if (!outer.length) return null;
  return outer.map((el) => (el.innerText || "").replace(/\s+/g, " ").trim().slice(0, 300)).join(" | ");
}"""

#: Visible text saying the signal or the opt-out was honoured (CCPA §7025(c)(6): "Opt-Out
#: Request Honored", "Opt-Out Preference Signal Honored", "GPC signal detected/respected").
NOTICE: Final = r"""() => {
  const text = (document.body && document.body.innerText) || "";
  const patterns = [
    /opt[- ]?out (request|preference signal|preference|signal)s?[^.\n]{0,40}?(honou?red|respected|processed|received|applied|recogni[sz]ed)/i,
    /(global privacy control|\bGPC\b)[^.\n]{0,80}?(honou?red|respected|detected|recogni[sz]ed|processed|applied)/i,
    /(honou?r(ed|ing)?|respect(ed|ing)?)[^.\n]{0,40}?(global privacy control|\bGPC\b)/i,
  ];
  for (const pattern of patterns) {
    const found = text.match(pattern);
    if (found) return found[0].replace(/\s+/g, " ").trim();
  }
  return null;
}"""

# The offline stub's answers, by Playwright resource type: an empty body of a plausible type.
_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
STUB_BODIES: Final[dict[str, tuple[str, bytes]]] = {
    "script": ("application/javascript", b"/* stubbed by the gpc-middleware audit */\n"),
    "image": ("image/gif", _GIF),
    "stylesheet": ("text/css", b""),
    "document": ("text/html", b"<!doctype html><title>stub</title>"),
    "xhr": ("application/json", b"{}"),
    "fetch": ("application/json", b"{}"),
}
STUB_DEFAULT: Final = ("text/plain", b"")
