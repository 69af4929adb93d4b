/*! gpc_middleware cookie-settings widget. No dependencies, ES2017, no build step.
 *
 * Include once:  <script src="/_consent/widget.js?v=HASH" defer></script>
 * Options (data attributes of that tag):
 *   data-endpoint  consent endpoint path (default: the script's own directory)
 *   data-reload    "false": activate newly allowed elements instead of reloading
 *   data-link      "none": never add the floating "Cookie settings" button
 *   data-css       stylesheet URL (default ENDPOINT/widget.css), "none" for none
 *   data-page      "settings": enhance the server-rendered settings form instead
 *
 * It fetches ENDPOINT/widget.json ({version, language, texts, state, links}),
 * shows a banner to undecided visitors (not when GPC is on in opt-out mode: there
 * is nothing to ask; a small "Opt-Out Request Honored" status instead), announces a
 * saved choice (after the reload too), opens the settings dialog from any [data-consent-open]
 * element, saves with PUT ENDPOINT, dispatches "consent:change" on document, then
 * reloads or activates inert elements (<script type="text/plain" data-consent>,
 * [data-consent][data-src], <template data-consent data-consent-inert>). Server data
 * is only ever inserted with textContent.
 *
 * Events on document: "consent:ready" (detail: state, after load) and "consent:change"
 * (detail: the endpoint's new state, before any reload). window.gpcConsent.open()
 * opens the dialog; window.gpcConsent.state() returns the latest state.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.gpcConsent) return; // one widget per page

  const OPTIONAL = ["analytics", "preference", "targeting"];
  const CATEGORIES = ["essential"].concat(OPTIONAL);
  const options = script.dataset;
  const endpoint = endpointPath(options.endpoint, script.src);
  const shouldReload = options.reload !== "false";
  // Global Privacy Control, as the browser exposes it (GPC spec section 3.3).
  const browserGpc = navigator.globalPrivacyControl === true;

  // ==== IAB CMP APIs (__gpp, __uspapi) and Google Consent Mode ===========================
  // (Kept in one block: the banner and dialog code below does not depend on it.)
  //
  // The stubs are defined now, synchronously, as this (deferred) script runs: __gpp and
  // __uspapi exist before DOMContentLoaded, and the calls that need data (getSection,
  // getField, hasSection; getUSPData) are queued until widget.json says what to answer,
  // then answered in order. ping, addEventListener and removeEventListener answer at once
  // (GPP CMP API 1.1: cmpStatus "stub" until loaded). Hidden frames named __gppLocator
  // and __uspapiLocator let scripts in iframes find this window and ask by postMessage
  // ({__gppCall} / {__uspapiCall}, answered with {__gppReturn} / {__uspapiReturn}, a string
  // for a string). The strings and the parsed section come from the server; when the
  // browser gives GPC to scripts only (navigator.globalPrivacyControl, no Sec-GPC header)
  // the server's "gpc" variant is used, so the signal shows in them. If the site publishes
  // no IAB signals (iab: null), the stubs are removed and queued calls get success=false.
  const cmp = (() => {
    const api = { configure: () => {}, fail: () => {}, changing: () => {} };
    if (options.page === "settings") return api; // the standalone pages carry no ad tech
    const LOCATORS = ["__gppLocator", "__uspapiLocator"];
    let status = "stub"; // stub | loaded | error
    let signal = "not ready";
    let display = "hidden";
    let data = null; // the widget.json "iab" object in force
    let queue = []; // [command, callback, parameter] for __gpp, [callback] for __uspapi
    let uspQueue = [];
    const listeners = new Map();
    let nextListener = 1;

    const copy = (value) => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

    function ping() {
      return {
        gppVersion: "1.1",
        cmpStatus: status,
        cmpDisplayStatus: display,
        signalStatus: signal,
        supportedAPIs: ["7:usnat"],
        cmpId: 1, // a CMP not registered with the IAB
        sectionList: data ? copy(data.sectionList) : [],
        applicableSections: data ? copy(data.applicableSections) : [-1],
        gppString: data ? data.gpp : "",
        parsedSections: data ? copy(data.parsedSections) : {},
      };
    }

    // A listener or a queued callback that throws must not stop the others (or the widget).
    function safely(callback, value, success) {
      try {
        callback(value, success);
      } catch (error) {
        if (window.console) console.warn("gpc_middleware widget: a CMP API callback failed:", error);
      }
    }

    function fire(eventName, value) {
      listeners.forEach((callback, id) => {
        safely(callback, { eventName: eventName, listenerId: id, data: value, pingData: ping() }, true);
      });
    }

    function answer(command, callback, parameter) {
      const sections = data ? data.parsedSections : {};
      if (command === "hasSection") {
        callback(Object.prototype.hasOwnProperty.call(sections, parameter), true);
      } else if (command === "getSection") {
        callback(Object.prototype.hasOwnProperty.call(sections, parameter) ? copy(sections[parameter]) : null, true);
      } else if (command === "getField") {
        const dot = typeof parameter === "string" ? parameter.indexOf(".") : -1;
        const fields = dot > 0 ? sections[parameter.slice(0, dot)] : null;
        const name = dot > 0 ? parameter.slice(dot + 1) : "";
        callback(fields && Object.prototype.hasOwnProperty.call(fields, name) ? copy(fields[name]) : null, true);
      } else {
        callback(null, false); // no other command is supported
      }
    }

    function gpp(command, callback, parameter) {
      if (typeof command !== "string" || typeof callback !== "function") return;
      if (command === "ping") {
        callback(ping(), true);
      } else if (command === "addEventListener") {
        const id = nextListener++;
        listeners.set(id, callback);
        callback({ eventName: "listenerRegistered", listenerId: id, data: true, pingData: ping() }, true);
      } else if (command === "removeEventListener") {
        callback(listeners.delete(parameter), true); // false for an unknown listener id
      } else if (status === "stub") {
        queue.push([command, callback, parameter]);
      } else if (status === "error") {
        callback(null, false);
      } else {
        answer(command, callback, parameter);
      }
    }

    function uspapi(command, version, callback) {
      if (typeof callback !== "function") return;
      if (command !== "getUSPData") callback(null, false);
      else if (status === "stub") uspQueue.push(callback);
      else if (status === "error" || !data) callback(null, false);
      else callback({ version: 1, uspString: data.usprivacy }, true);
    }

    function onMessage(event) {
      const text = typeof event.data === "string";
      let message = event.data;
      if (text) {
        try {
          message = JSON.parse(message);
        } catch (error) {
          return;
        }
      }
      if (!message || typeof message !== "object" || !event.source) return;
      const reply = (key, call) => (returnValue, success) => {
        const out = {};
        out[key] = { returnValue: returnValue, success: success, callId: call.callId };
        event.source.postMessage(text ? JSON.stringify(out) : out, "*");
      };
      const call = message.__gppCall || message.__uspapiCall;
      if (!call || typeof call !== "object") return;
      if (message.__gppCall) {
        window.__gpp(call.command, reply("__gppReturn", call), call.parameter, call.version);
      } else {
        window.__uspapi(call.command, call.version, reply("__uspapiReturn", call));
      }
    }

    function addLocators() {
      for (const name of LOCATORS) {
        if (window.frames[name]) continue;
        const frame = document.createElement("iframe");
        frame.name = name;
        frame.title = name;
        frame.hidden = true;
        frame.tabIndex = -1;
        frame.setAttribute("aria-hidden", "true");
        frame.setAttribute("data-gpc-locator", "");
        frame.style.display = "none";
        document.body.appendChild(frame);
      }
    }

    function displayNow() {
      return document.querySelector(".gpc-root.gpc-banner, .gpc-root.gpc-overlay") ? "visible" : "hidden";
    }

    function watchDisplay() {
      const check = () => {
        const now = displayNow();
        if (now !== display && status === "loaded") {
          display = now;
          fire("cmpDisplayStatus", now);
        }
      };
      const watched = { childList: true, subtree: true };
      if (window.MutationObserver) new MutationObserver(check).observe(document.body, watched);
    }

    function flush() {
      const pending = queue;
      const pendingUsp = uspQueue;
      queue = [];
      uspQueue = [];
      for (const call of pending) gpp(call[0], (value, success) => safely(call[1], value, success), call[2]);
      for (const callback of pendingUsp) uspapi("getUSPData", 1, (value, success) => safely(callback, value, success));
    }

    function uninstall() {
      if (window.__gpp === gpp) delete window.__gpp;
      if (window.__uspapi === uspapi) delete window.__uspapi;
      window.removeEventListener("message", onMessage);
      for (const frame of Array.prototype.slice.call(document.querySelectorAll("iframe[data-gpc-locator]"))) {
        frame.parentNode.removeChild(frame);
      }
      status = "error";
      flush();
    }

    // Another CMP on the page keeps its own APIs.
    if (typeof window.__gpp === "function" || typeof window.__uspapi === "function") return api;
    window.__gpp = gpp;
    window.__uspapi = uspapi;
    window.addEventListener("message", onMessage);
    if (document.body) addLocators();
    else document.addEventListener("DOMContentLoaded", addLocators);

    api.configure = (iab) => {
      if (!iab || typeof iab !== "object" || typeof iab.gpp !== "string") {
        uninstall();
        return;
      }
      const first = status === "stub";
      data = browserGpc && iab.gpc ? iab.gpc : iab;
      status = "loaded";
      if (first) {
        display = displayNow(); // later changes are events (watchDisplay)
        fire("cmpStatus", "loaded");
        watchDisplay();
      } else {
        for (const name of Object.keys(data.parsedSections)) fire("sectionChange", name);
      }
      signal = "ready";
      fire("signalStatus", "ready");
      flush();
    };
    api.fail = () => {
      if (status !== "stub") return;
      status = "error";
      fire("cmpStatus", "error");
      flush();
    };
    api.changing = () => {
      // After a choice the strings change: not ready until widget.json says how.
      if (status !== "loaded") return false;
      signal = "not ready";
      fire("signalStatus", "not ready");
      return true;
    };
    return api;
  })();

  // Google Consent Mode v2: the server inserts 'default' values (all denied in neutralize
  // mode, where the page is the same for everyone); the visitor's state is sent as an
  // 'update' once known and after each choice. gtag() pushes its arguments object, which
  // is what the tag reads from dataLayer; the page's own gtag is used when there is one.
  function consentModeUpdate() {
    if (!config || config.google_consent_mode !== true || !state) return;
    const value = (category) => (allowed(category) ? "granted" : "denied");
    window.dataLayer = window.dataLayer || [];
    const gtag = typeof window.gtag === "function" ? window.gtag : function () { window.dataLayer.push(arguments); };
    gtag("consent", "update", {
      ad_storage: value("targeting"),
      ad_user_data: value("targeting"),
      ad_personalization: value("targeting"),
      analytics_storage: value("analytics"),
      functionality_storage: value("preference"),
      personalization_storage: value("preference"),
      security_storage: "granted",
    });
  }

  document.addEventListener("consent:change", () => {
    consentModeUpdate();
    if (!cmp.changing()) return;
    const lang = document.documentElement.getAttribute("lang") || "";
    request("GET", endpoint + "/widget.json?lang=" + encodeURIComponent(lang))
      .then((loaded) => cmp.configure(loaded && loaded.iab))
      .catch((error) => { if (window.console) console.warn("gpc_middleware widget:", error); });
  });
  // ==== end of the IAB and Consent Mode block ============================================

  let config = null; // the widget.json body
  let state = null; // the consent endpoint's latest answer
  let banner = null;
  let bannerSpace = null; // keeps the end of the page clear of the banner (or the GPC status)
  let gpcStatus = null; // the "Opt-Out Request Honored" status of opt-out mode
  let overlay = null;
  let floating = null;
  let opener = null;
  let busy = false;
  let made = []; // elements made inert while the dialog is open
  let live = null;
  let uid = 0;

  window.gpcConsent = {
    open: () => openDialog(document.activeElement),
    state: () => state,
  };

  function endpointPath(given, src) {
    let path = given;
    if (!path && src) {
      const url = new URL(src, location.href);
      if (url.origin === location.origin && /\/widget\.js$/.test(url.pathname)) {
        path = url.pathname.replace(/\/widget\.js$/, "");
      }
    }
    // Same-origin absolute paths only: never "//host" or "https://host".
    if (!path || path.charAt(0) !== "/" || path.charAt(1) === "/" || path.indexOf("\\") >= 0) {
      path = "/_consent";
    }
    return path.replace(/\/+$/, "");
  }

  function t(key) {
    const value = config && config.texts && config.texts[key];
    return typeof value === "string" ? value : key;
  }

  // ---- DOM building: text through textContent only, no HTML parsing -----------

  function h(tag, attrs, children) {
    const el = document.createElement(tag);
    for (const name of Object.keys(attrs || {})) {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") el.textContent = value;
      else if (name === "onclick") el.addEventListener("click", value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children || []) {
      if (child) el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return el;
  }

  function nextId(prefix) {
    uid += 1;
    return "gpc-" + prefix + "-" + uid;
  }

  // ---- state --------------------------------------------------------------------

  function validState(value) {
    return Boolean(value && typeof value === "object" && value.categories &&
      typeof value.categories === "object");
  }

  function gpcOn() {
    return browserGpc || Boolean(state && state.gpc);
  }

  function allowed(category) {
    if (category === "essential") return true;
    if (CATEGORIES.indexOf(category) < 0) return false;
    // With GPC on, targeting (sale/sharing) stays off in the browser whatever was stored.
    if (category === "targeting" && browserGpc) return false;
    return Boolean(state && state.categories[category] === true);
  }

  function shouldAsk() {
    if (!state || state.decided) return false;
    return !(gpcOn() && state.mode === "opt-out");
  }

  async function request(method, url, body) {
    const init = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (!response.ok) throw new Error(method + " " + url + ": HTTP " + response.status);
    return response.json();
  }

  async function choose(body, statusEl) {
    if (busy) return;
    busy = true;
    if (statusEl) statusEl.textContent = "";
    try {
      const next = await request("PUT", endpoint, body);
      if (!validState(next)) throw new Error("unexpected consent endpoint answer");
      applyChoice(next);
    } catch (error) {
      if (statusEl) statusEl.textContent = t("save_failed");
      if (window.console) console.warn("gpc_middleware widget:", error);
    } finally {
      busy = false;
    }
  }

  function applyChoice(next) {
    state = next;
    document.dispatchEvent(new CustomEvent("consent:change", { detail: next }));
    if (shouldReload) {
      // Nothing can be announced across a reload: the next page announces it.
      remember(ANNOUNCE_KEY, t("saved"));
      location.reload();
      return;
    }
    announce(t("saved"));
    removeBanner();
    showFloating();
    closeDialog();
    activate();
  }

  function bodyFor(action, boxes) {
    if (action === "accept_all") return { all: true };
    if (action === "reject_all") return { all: false };
    const categories = {};
    for (const name of OPTIONAL) categories[name] = Boolean(boxes[name] && boxes[name].checked);
    return { categories: categories };
  }

  // ---- activation of elements the server made inert -------------------------------

  function categoriesOf(el) {
    return (el.getAttribute("data-consent") || "").trim().split(/\s+/).filter(Boolean);
  }

  function activate() {
    // An opened <template> puts elements in the page that may need activating in turn.
    let opened = true;
    while (opened) {
      opened = false;
      const nodes = document.querySelectorAll("[data-consent]");
      for (const el of Array.prototype.slice.call(nodes)) {
        if (el.getAttribute("data-consent-state") === "active" || el.closest(".gpc-root")) continue;
        const wanted = categoriesOf(el);
        if (!wanted.length || !wanted.every(allowed)) continue;
        if (el.tagName === "TEMPLATE") {
          if (el.hasAttribute("data-consent-inert")) opened = openTemplate(el) || opened;
        } else if (el.tagName === "SCRIPT") activateScript(el);
        else activateElement(el);
      }
    }
  }

  function openTemplate(template) {
    // The server kept a refused element whole, and inert, in a <template>: put it in its
    // place. Scripts of a template's content never started, so their copies run.
    if (!template.parentNode) return false;
    template.parentNode.replaceChild(document.importNode(template.content, true), template);
    return true;
  }

  function activateScript(old) {
    if ((old.getAttribute("type") || "").toLowerCase() !== "text/plain") return;
    // A script only runs if the element is created anew, not by changing its type.
    const fresh = document.createElement("script");
    for (const attribute of Array.prototype.slice.call(old.attributes)) {
      if (["type", "data-type", "data-src", "nonce"].indexOf(attribute.name) >= 0) continue;
      fresh.setAttribute(attribute.name, attribute.value);
    }
    if (old.nonce) fresh.nonce = old.nonce;
    const type = old.getAttribute("data-type");
    if (type) fresh.setAttribute("type", type);
    const src = old.getAttribute("data-src");
    if (src) fresh.setAttribute("src", src);
    // Keep document order for external scripts unless they were async to begin with.
    if (fresh.hasAttribute("src")) fresh.async = old.hasAttribute("async");
    fresh.text = old.text;
    fresh.setAttribute("data-consent-state", "active");
    old.parentNode.replaceChild(fresh, old);
  }

  function activateElement(el) {
    let changed = false;
    for (const pair of [["data-srcset", "srcset"], ["data-src", "src"], ["data-href", "href"]]) {
      if (el.hasAttribute(pair[0])) {
        el.setAttribute(pair[1], el.getAttribute(pair[0]));
        el.removeAttribute(pair[0]);
        changed = true;
      }
    }
    if (changed) el.setAttribute("data-consent-state", "active");
  }

  // ---- shared UI pieces -------------------------------------------------------------

  const ANNOUNCE_KEY = "gpc-consent-announce";
  const STATUS_KEY = "gpc-consent-status-closed";

  // sessionStorage may be missing or refuse (storage blocked, private modes): then the
  // confirmation is simply not carried over.
  function remember(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, value);
    } catch (error) { /* no storage: nothing to carry over */ }
  }

  function recall(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  // A polite live region made for the message: a region that already holds its text when
  // it appears is not announced, so it is inserted empty and filled a moment later.
  function announce(text) {
    if (!live) {
      live = h("div", { class: "gpc-root gpc-visually-hidden", role: "status", "aria-live": "polite",
        "data-gpc-announcer": true, lang: config ? config.language : null });
      document.body.appendChild(live);
    }
    live.textContent = "";
    setTimeout(() => { live.textContent = text; }, 100);
  }

  // Opt-out mode, GPC on: nothing to ask, but the visitor is told the signal was honoured,
  // without an interstitial (CCPA regulations section 7025(c)(6), (f)(3)). Closed, it stays
  // closed for the browser session.
  function showGpcStatus() {
    if (gpcStatus || recall(STATUS_KEY)) return;
    const text = h("p", { class: "gpc-toast__text", role: "status" });
    const close = h("button", {
      type: "button",
      class: "gpc-close",
      onclick: () => {
        remember(STATUS_KEY, "1");
        releaseBannerSpace();
        if (gpcStatus && gpcStatus.parentNode) gpcStatus.parentNode.removeChild(gpcStatus);
        gpcStatus = null;
        const next = floating || document.querySelector("[data-consent-open]");
        if (next && next.focus) next.focus();
      },
    }, [
      h("span", { "aria-hidden": "true", text: "\u00d7" }),
      h("span", { class: "gpc-visually-hidden", text: t("close") }),
    ]);
    gpcStatus = h("div", { class: "gpc-root gpc-toast", lang: config.language }, [text, close]);
    document.body.appendChild(gpcStatus);
    setTimeout(() => { text.textContent = t("gpc_notice"); }, 100);
    reserveBannerSpace(gpcStatus);
  }

  function gpcNotice() {
    return state && state.gpc_honored ? h("p", { class: "gpc-notice", text: t("gpc_notice") }) : null;
  }

  function actionButtons(boxes, statusEl) {
    // One element, one class, one look for the three choices; "save" first as on the page.
    const make = (action, key) => h("button", {
      type: "button",
      class: "gpc-button",
      "data-action": action,
      text: t(key),
      onclick: () => choose(bodyFor(action, boxes), statusEl),
    });
    return h("div", { class: "gpc-actions" }, [
      make("save", "save_choices"),
      make("reject_all", "reject_all"),
      make("accept_all", "accept_all"),
    ]);
  }

  function checkbox(category, prefix, describedBy) {
    const id = nextId(prefix + "-" + category);
    const essential = category === "essential";
    const box = h("input", {
      type: "checkbox",
      class: "gpc-checkbox",
      id: id,
      name: category,
      "aria-describedby": describedBy || null,
    });
    // While GPC is sent, targeting stays off whatever is ticked: show it locked, say why.
    const locked = category === "targeting" && (browserGpc || (state && state.gpc === true));
    box.checked = allowed(category);
    box.disabled = essential || locked;
    const label = h("label", { for: id }, [t("category_" + category)]);
    if (locked) label.appendChild(h("span", { class: "gpc-badge", text: t("gpc_locked") }));
    return { box: box, label: label };
  }

  function links() {
    const items = [];
    const l = (config && config.links) || {};
    if (typeof l.do_not_sell === "string") items.push(h("a", { href: l.do_not_sell, text: t("dns_title") }));
    if (typeof l.privacy_policy === "string") {
      items.push(h("a", { href: l.privacy_policy, text: t("privacy_policy") }));
    }
    return items;
  }

  // ---- banner -------------------------------------------------------------------------

  function showBanner() {
    // Compact by design: a title, a short text, the three choices of equal weight ("Accept
    // all", "Reject all", "Settings", which opens the dialog with the categories). On a
    // small or zoomed screen the banner is at most 45% of the viewport: its text scrolls
    // (and is then focusable to scroll by keyboard), the three choices stay in view.
    const titleId = nextId("banner-title");
    const statusEl = h("p", { class: "gpc-status", role: "status", "aria-live": "polite" });
    // The privacy policy only: the "Do Not Sell or Share" link belongs in the site's footer
    // (CCPA regulations section 7013) and is in the dialog.
    const l = (config && config.links) || {};
    const more = typeof l.privacy_policy === "string"
      ? [h("a", { href: l.privacy_policy, text: t("privacy_policy") })] : [];
    const body = h("div", { class: "gpc-banner__body" }, [
      h("h2", { class: "gpc-title", id: titleId, text: t("banner_title") }),
      state && state.gpc_honored ? h("p", { class: "gpc-notice gpc-notice--short", text: t("gpc_status") }) : null,
      h("p", { class: "gpc-text", text: t("banner_text") }),
      more.length ? h("p", { class: "gpc-links" }, more) : null,
    ]);
    const make = (action, key, onclick) => h("button", {
      type: "button",
      class: "gpc-button",
      "data-action": action,
      text: t(key),
      onclick: onclick,
    });
    const actions = h("div", { class: "gpc-actions" }, [
      make("accept_all", "accept_all", () => choose({ all: true }, statusEl)),
      make("reject_all", "reject_all", () => choose({ all: false }, statusEl)),
      make("settings", "banner_details", (event) => openDialog(event.currentTarget)),
    ]);
    actions.lastChild.setAttribute("data-consent-details", "");
    actions.lastChild.setAttribute("aria-haspopup", "dialog");
    banner = h("div", {
      class: "gpc-root gpc-banner",
      role: "region",
      "aria-labelledby": titleId,
      lang: config.language,
    }, [
      h("div", { class: "gpc-banner__inner" }, [body, actions, statusEl]),
    ]);
    // First in the document: keyboard users reach it before the page content.
    document.body.insertBefore(banner, document.body.firstChild);
    reserveBannerSpace(banner);
  }

  function removeBanner() {
    if (banner && banner.parentNode) banner.parentNode.removeChild(banner);
    banner = null;
    releaseBannerSpace();
  }

  // The banner is fixed over the bottom of the viewport. Without room below the page's
  // content, the end of the page could never be scrolled into view, and an element there
  // could have keyboard focus while entirely hidden (WCAG 2.2 SC 2.4.11 Focus Not
  // Obscured). So while the banner is shown, an empty block as tall as the banner ends
  // the page, and the same height is scroll padding for focus and anchor scrolling.
  // (CSSOM style changes are allowed under a Content-Security-Policy without
  // 'unsafe-inline'; only style attributes in markup are not.)
  //
  // A ResizeObserver alone is not enough: it reports only at the next rendering update,
  // so after the banner changes height (a narrower window wraps its text, rotation,
  // zoom) the reserved space is stale until then, and an element focused in between is
  // scrolled to just above where the old, shorter banner ended: under the new one, and
  // nothing scrolls it out again. So on every focus change the space is measured anew,
  // synchronously, and whenever the space changes or focus moves, an element with focus
  // that the banner covers is scrolled above it.
  function reserveBannerSpace(covering) {
    const root = document.documentElement;
    const spacer = h("div", { class: "gpc-banner-space", "aria-hidden": "true" });
    const fit = () => {
      if (!bannerSpace || !covering.parentNode) return;
      const body = covering.querySelector(".gpc-banner__body");
      if (body) {
        const scrolls = body.scrollHeight > body.clientHeight + 1;
        if (scrolls !== body.hasAttribute("tabindex")) {
          if (scrolls) {
            body.setAttribute("tabindex", "0");
            body.setAttribute("role", "group");
            body.setAttribute("aria-labelledby", covering.getAttribute("aria-labelledby"));
          } else {
            body.removeAttribute("tabindex");
            body.removeAttribute("role");
            body.removeAttribute("aria-labelledby");
          }
        }
      }
      // The banner: its height (its slide-in aside); a status above the floating link: from its top.
      const box = covering.getBoundingClientRect();
      const height = Math.ceil(covering === banner ? box.height : Math.max(0, root.clientHeight - box.top)) + "px";
      if (spacer.style.getPropertyValue("height") !== height) spacer.style.setProperty("height", height);
      if (root.style.getPropertyValue("scroll-padding-bottom") !== height) {
        root.style.setProperty("scroll-padding-bottom", height);
      }
    };
    const refit = () => {
      fit();
      revealFocus();
    };
    releaseBannerSpace();
    bannerSpace = {
      covering: covering,
      spacer: spacer,
      padding: root.style.getPropertyValue("scroll-padding-bottom"),
      priority: root.style.getPropertyPriority("scroll-padding-bottom"),
      observer: null,
      onFocus: refit,
    };
    document.body.appendChild(spacer);
    fit();
    // Capture phase: runs right after the browser's own focus scrolling, before paint.
    document.addEventListener("focusin", refit, true);
    if (window.ResizeObserver) {
      bannerSpace.observer = new ResizeObserver(refit); // text wrapping, zoom, rotation
      bannerSpace.observer.observe(covering);
    }
  }

  // Scrolls the element with keyboard focus above the banner if the banner covers any of it.
  function revealFocus() {
    const el = document.activeElement;
    const covering = bannerSpace && bannerSpace.covering;
    if (!covering || !el || el === document.body || el === document.documentElement) return;
    if (!el.getBoundingClientRect || (el.closest && el.closest(".gpc-root"))) return;
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) return; // not rendered
    // The banner's layout box (its slide-in transform aside): the bottom of the viewport.
    const bottom = document.documentElement.clientHeight;
    const top = covering === banner ? bottom - banner.offsetHeight : covering.getBoundingClientRect().top;
    if (box.bottom > top && box.top < bottom) el.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function releaseBannerSpace() {
    if (!bannerSpace) return;
    const root = document.documentElement;
    document.removeEventListener("focusin", bannerSpace.onFocus, true);
    if (bannerSpace.observer) bannerSpace.observer.disconnect();
    if (bannerSpace.spacer.parentNode) bannerSpace.spacer.parentNode.removeChild(bannerSpace.spacer);
    if (bannerSpace.padding) {
      root.style.setProperty("scroll-padding-bottom", bannerSpace.padding, bannerSpace.priority);
    } else {
      root.style.removeProperty("scroll-padding-bottom");
    }
    bannerSpace = null;
  }

  // ---- floating "Cookie settings" button ---------------------------------------------

  function showFloating() {
    if (options.link === "none" || document.querySelector("[data-consent-open]:not([data-gpc-floating])")) {
      return;
    }
    if (!floating) {
      floating = h("button", {
        type: "button",
        class: "gpc-root gpc-open-link",
        "data-consent-open": true,
        "data-gpc-floating": true,
        lang: config.language,
        text: t("settings_link"),
      });
      document.body.appendChild(floating);
    }
    floating.hidden = Boolean(banner); // the banner already offers the settings
    if (gpcStatus) {
      gpcStatus.classList.toggle("gpc-toast--above-link", !floating.hidden);
      if (bannerSpace) bannerSpace.onFocus(); // it moved: the space it covers changed
    }
  }

  // ---- dialog (WAI-ARIA APG "Dialog (Modal)" pattern) -----------------------------------

  function focusables(root) {
    const selector = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled])," +
      " textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
    return Array.prototype.slice.call(root.querySelectorAll(selector))
      .filter((el) => el.getClientRects().length > 0);
  }

  function openDialog(from) {
    if (!config || overlay) return;
    opener = from && from.focus ? from : null;
    const titleId = nextId("dialog-title");
    const statusEl = h("p", { class: "gpc-status", role: "status", "aria-live": "polite" });
    const boxes = {};
    const fieldset = h("fieldset", { class: "gpc-categories" }, [
      h("legend", { class: "gpc-legend", text: t("categories_legend") }),
    ]);
    for (const category of CATEGORIES) {
      const descriptionId = nextId("dialog-" + category + "-description");
      const c = checkbox(category, "dialog", descriptionId);
      c.label.className = "gpc-category__name";
      if (category === "essential") c.label.appendChild(h("span", { class: "gpc-badge", text: t("always_on") }));
      boxes[category] = c.box;
      fieldset.appendChild(h("div", { class: "gpc-category", "data-category": category }, [
        h("div", { class: "gpc-category__head" }, [c.box, c.label]),
        h("p", { class: "gpc-category__description", id: descriptionId, text: t("category_" + category + "_description") }),
      ]));
    }
    const title = h("h2", { class: "gpc-title", id: titleId, tabindex: "-1", text: t("settings_title") });
    const close = h("button", { type: "button", class: "gpc-close", onclick: () => closeDialog() }, [
      h("span", { "aria-hidden": "true", text: "\u00d7" }),
      h("span", { class: "gpc-visually-hidden", text: t("close") }),
    ]);
    const linkItems = links();
    const dialog = h("div", {
      class: "gpc-dialog",
      role: "dialog",
      "aria-modal": "true",
      "aria-labelledby": titleId,
    }, [
      h("div", { class: "gpc-dialog__header" }, [title, close]),
      gpcNotice(),
      h("p", { class: "gpc-text", text: t("settings_intro") }),
      fieldset,
      actionButtons(boxes, statusEl),
      statusEl,
      linkItems.length ? h("p", { class: "gpc-links" }, linkItems) : null,
    ]);
    overlay = h("div", { class: "gpc-root gpc-overlay", lang: config.language }, [dialog]);
    overlay.addEventListener("keydown", onDialogKey);
    overlay.addEventListener("mousedown", (event) => {
      if (event.target === overlay) event.preventDefault(); // clicks outside do nothing
    });
    // Everything else becomes inert while the modal dialog is open.
    made = [];
    for (const child of Array.prototype.slice.call(document.body.children)) {
      if (!child.hasAttribute("inert")) {
        child.setAttribute("inert", "");
        made.push(child);
      }
    }
    document.body.appendChild(overlay);
    document.documentElement.classList.add("gpc-lock");
    document.addEventListener("focusin", keepFocusInside, true);
    title.focus();
  }

  function keepFocusInside(event) {
    if (overlay && !overlay.contains(event.target)) {
      const first = focusables(overlay)[0];
      if (first) first.focus();
    }
  }

  function onDialogKey(event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      event.stopPropagation();
      closeDialog();
      return;
    }
    if (event.key !== "Tab") return;
    const items = focusables(overlay);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    const inside = items.indexOf(active) >= 0;
    if (event.shiftKey && (active === first || !inside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !inside) && active !== overlay.querySelector("[tabindex='-1']")) {
      event.preventDefault();
      first.focus();
    }
  }

  function closeDialog() {
    if (!overlay) return;
    document.removeEventListener("focusin", keepFocusInside, true);
    overlay.parentNode.removeChild(overlay);
    overlay = null;
    for (const el of made) el.removeAttribute("inert");
    made = [];
    document.documentElement.classList.remove("gpc-lock");
    // Focus goes back where it came from, or to the next sensible place if that is gone.
    let target = opener && document.contains(opener) ? opener : null;
    if (!target) target = banner ? focusables(banner)[0] : floating || document.querySelector("[data-consent-open]");
    opener = null;
    if (target && target.focus) target.focus();
    showFloating();
  }

  // ---- settings page: the server-rendered form, saved without reloading ----------------

  function enhanceSettingsPage() {
    const form = document.querySelector("form[data-gpc-settings]");
    const data = document.getElementById("gpc-consent-config");
    if (!form || !data) return;
    try {
      config = JSON.parse(data.textContent);
    } catch (error) {
      return; // the plain form still works
    }
    if (!config || config.version !== 1 || !validState(config.state)) return;
    state = config.state;
    const statusEl = form.querySelector(".gpc-status");
    let lastClicked = null;
    let native = false;
    form.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest("button[name='action']");
      if (button) lastClicked = button;
    });
    form.addEventListener("submit", async (event) => {
      if (native) return; // fallback: let the browser post the form
      event.preventDefault();
      if (busy) return;
      const submitter = event.submitter || lastClicked;
      const action = submitter ? submitter.value : "save";
      const boxes = {};
      for (const name of OPTIONAL) boxes[name] = form.querySelector("input[name='category'][value='" + name + "']");
      busy = true;
      if (statusEl) statusEl.textContent = "";
      try {
        const next = await request("PUT", endpoint, bodyFor(action, boxes));
        if (!validState(next)) throw new Error("unexpected consent endpoint answer");
        state = next;
        for (const name of OPTIONAL) if (boxes[name]) boxes[name].checked = next.categories[name] === true;
        if (statusEl) statusEl.textContent = t("saved");
        document.dispatchEvent(new CustomEvent("consent:change", { detail: next }));
      } catch (error) {
        // The JSON endpoint failed: post the form as if there were no script.
        native = true;
        if (form.requestSubmit) form.requestSubmit(submitter || undefined);
        else form.submit();
      } finally {
        busy = false;
      }
    });
  }

  // ---- start --------------------------------------------------------------------------

  function loadStylesheet() {
    const href = options.css || endpoint + "/widget.css";
    if (href === "none" || document.querySelector("link[data-gpc-css]")) return Promise.resolve();
    return new Promise((resolve) => {
      const link = h("link", { rel: "stylesheet", href: href, "data-gpc-css": true });
      link.addEventListener("load", resolve);
      link.addEventListener("error", resolve);
      (document.head || document.documentElement).appendChild(link);
    });
  }

  async function start() {
    if (options.page === "settings") {
      enhanceSettingsPage();
      return;
    }
    document.addEventListener("click", (event) => {
      const trigger = event.target.closest && event.target.closest("[data-consent-open]");
      if (!trigger || !config) return;
      event.preventDefault(); // a link to the settings page is the no-JS fallback
      openDialog(trigger);
    });
    const styled = loadStylesheet();
    const lang = document.documentElement.getAttribute("lang") || "";
    try {
      const loaded = await request("GET", endpoint + "/widget.json?lang=" + encodeURIComponent(lang));
      if (!loaded || loaded.version !== 1 || !validState(loaded.state)) {
        throw new Error("unexpected widget.json");
      }
      config = loaded;
      state = loaded.state;
      cmp.configure(loaded.iab);
      consentModeUpdate(); // before activate(): tags the server made inert start updated
    } catch (error) {
      cmp.fail();
      if (window.console) console.warn("gpc_middleware widget:", error);
      return;
    }
    activate();
    await styled;
    if (shouldAsk()) showBanner();
    else if (gpcOn() && state.gpc_honored && state.mode === "opt-out") showGpcStatus();
    showFloating();
    const saved = recall(ANNOUNCE_KEY);
    if (saved) {
      remember(ANNOUNCE_KEY, null);
      announce(saved);
    }
    document.dispatchEvent(new CustomEvent("consent:ready", { detail: state }));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
