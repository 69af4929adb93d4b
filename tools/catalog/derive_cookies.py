"""Derive gpc_middleware's cookies.csv from the Open Cookie Database (review script).

python derive_cookies.py OCD_CSV EXISTING_COOKIES_CSV OUT_CSV
"""

from __future__ import annotations

import collections
import csv
import io
import re
import sys

OCD, EXISTING, OUT = sys.argv[1:4]
MAP = {
    "Analytics": "analytics",
    "Marketing": "targeting",
    "Personalization": "preference",
    "Functional": "preference",
    "Necessary": "essential",
    "Security": "essential",
}
TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# names that first-party code uses for its own purposes: never classified by name alone
GENERIC = {
    "id",
    "uid",
    "uuid",
    "uuid2",
    "guid",
    "sid",
    "ssid",
    "session",
    "sessionid",
    "session_id",
    "sess",
    "token",
    "auth_token",
    "access_token",
    "csrftoken",
    "csrf",
    "xsrf",
    "lang",
    "language",
    "locale",
    "country",
    "currency",
    "region",
    "user",
    "userid",
    "user_id",
    "visitor",
    "visitor_id",
    "visitor-id",
    "visitorid",
    "guest",
    "guest_id",
    "test",
    "test_cookie",
    "testcookie",
    "cookie",
    "cart",
    "theme",
    "version",
    "callback",
    "hash",
    "audit",
    "audit_p",
    "data",
    "info",
    "state",
    "sync",
    "csync",
    "usersync",
    "viewer",
    "viewer_token",
    "optout",
    "opt_out",
    "opout",
    "dnt",
    "consent",
    "cookies_accepted",
    "gdpr",
    "gdpr_status",
    "gpp",
    "europe",
    "initref",
    "external_referer",
    "landing_page",
    "orig_referrer",
    "querystring",
    "searchterm",
    "pagereferrer",
    "sitereferrer",
    "geoip",
    "focustime",
    "blurtime",
    "referrer",
    "referer",
    "source",
    "campaign",
    "device",
    "deviceid",
    "device_id",
    "client_id",
    "clientid",
    "auth",
    "login",
    "remember_me",
    "preferences",
    "prefs",
    "settings",
    "store",
    "frontend",
    "secret",
    "hs",
    "ss",
    "pid",
    "cid",
    "vid",
    "gid",
    "aid",
    "tid",
    "ab",
    "mc",
    "pd",
    "pi",
    "pl",
    "pp",
    "tp",
    "tu",
    "um",
    "vs",
    "td",
    "sp",
    "sb",
    "zi",
    "cs",
    "ct",
    "cf",
    "dc",
    "dt",
    "ep",
    "gt",
    "lu",
    "rc",
    "sr",
    "tv",
    "ud",
    "uu",
    "chk",
    "car",
    "cap",
    "cmp",
    "trk",
    "sst",
    "dst",
    "vst",
    "rts",
    "svid",
    "tvid",
    "tluid",
    "recs",
    "cct",
    "ick",
    "icu",
    "idp",
    "ucid",
    "ckid",
    "cref",
    "brwsr",
    "zsc",
    "zuc",
    "zc",
    "oo",
    "mr",
    "mh",
    "sm",
    "bh",
    "c1",
    "s1",
    "wid",
    "xid",
    "oid",
    "nap",
    "apc",
    "ids",
    "univ_id",
    "unique_id",
    "tracking",
    "track",
    "ref",
    "affiliate",
    "partner",
    "promo",
    "experiment",
    "variant",
    "split",
    "segment",
    "location",
    "geo",
    "city",
    "zip",
    "timezone",
    "tz",
    "debug",
    "expires",
    "expiry",
    "timestamp",
    "time",
    "date",
    "count",
    "counter",
    "visits",
    "visit",
    "first_visit",
    "last_visit",
    "new_visitor",
    "returning",
    "page_views",
    "pageviews",
    "history",
    "recently_viewed",
    "wishlist",
    "compare",
    "search",
    "filter",
    "sort",
    "view",
    "mode",
    "layout",
    "font",
    "size",
    "zoom",
    "volume",
    "muted",
    "player",
    "quality",
    "status",
    "flag",
    "flags",
    "hash_id",
    "key",
    "value",
    "name",
    "email",
    "phone",
    "account",
    "customer",
    "member",
    "profile",
    "role",
    "group",
    "team",
    "org",
    "tenant",
    "app",
    "site",
    "domain",
    "host",
    "server",
    "node",
    "instance",
    "cluster",
    "region_id",
    "authtoken",
    "jwt",
    "bearer",
    "refresh_token",
    "id_token",
    "nonce",
    "state_token",
    "cookie_test",
    "cookietest",
    "cookies",
    "accepted",
    "allow",
    "agree",
    "notice",
    "banner",
    "popup",
    "modal",
    "welcome",
    "intro",
    "tour",
    "onboarding",
    "locale_id",
    "lang_id",
    "language_id",
    "country_code",
    "currency_code",
    "ad",
    "ads",
    "ad-id",
    "adid",
    "ad_id",
    "advertising",
    "marketing",
    "analytics",
    "stats",
    "statistics",
    "metrics",
    "events",
    "event",
    "pixel",
    "tag",
    "tags",
    "click",
    "clicks",
    "click_id",
    "clickid",
    "conversion",
    "attribution",
    "utm",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
    "msclkid",
    "wbraid",
    "gbraid",
    "utm_key",
    "hasgmid",
    "gmid",
    "put_",
    "data-",
    "ref-",
    "partner-",
    "recs-",
    "n",
    "d",
    "g",
    "i",
    "s",
    "u",
    "c",
    "a",
}
# A name that says what it stores about consent, an opt-out or privacy: never dropped.
CONSENT_NAME = re.compile(
    r"consent|opt.?out|optin|opt_in|opt-in|gdpr|ccpa|privacy|(^|_)dnt($|_)|cookie_?pref|"
    r"cookies?_?accepted|cookie_?notice|cookielaw|cookie_?banner|(^|_)gpc($|_)|donottrack|"
    r"do_not_track|_ignore$|tracking_consent",
    re.I,
)
# Functional rows that are strictly necessary (ePrivacy art. 5(3)): kept essential.
NECESSARY = re.compile(
    r"session|sess(id)?\b|log.?in|sign.?in|sign.?on|\bsso\b|authenticat|\bauth(?!or)|csrf|xsrf|"
    r"forgery|antiforgery|secur|load.?balanc|affinity|sticky|stickiness|routing|\broute|"
    r"gateway|traffic|\bcart\b|basket|checkout|payment|order|bot\b|bots\b|fraud|captcha|"
    r"challenge|abuse|firewall|ddos|rate limit|\bcache|waiting.?room|server|necessary|"
    r"essential|cookies? (are|is) enabled|supports? cookies|accepts cookies|cookie support|"
    r"remember me|two.factor|2fa|\btoken|verification|consent|opt.?out|privacy|"
    r"anti-?scraping|spam",
    re.I,
)


# Reviewed by hand (the maintainers' review of the derived rows): a category the OCD row
# does not give, and why.
OVERRIDES = {
    # session identifiers OCD describes otherwise
    "cfid": ("essential", "ColdFusion session identifier"),
    "cftoken": ("essential", "ColdFusion session identifier"),
    **{
        n: ("essential", "sign-in flow (Azure AD B2C)")
        for n in (
            "x-ms-cpim-admin",
            "x-ms-cpim-ctx",
            "x-ms-cpim-geo",
            "x-ms-cpim-rc",
            "x-ms-cpim-rp",
        )
    },
    **{
        n: ("essential", "sign-in flow (Keycloak)")
        for n in ("KC_RESTART", "KC_START", "KC_STATE_CHECKER", "KEYCLOAK_REMEMBER_ME")
    },
    "wporg_logged_in": ("essential", "sign-in"),
    "wporg_sec": ("essential", "sign-in"),
    "bbpassword": ("essential", "sign-in (vBulletin)"),
    "bbuserid": ("essential", "sign-in (vBulletin)"),
    "csssid": ("essential", "session"),
    "sid_Client": ("essential", "session"),
    "Nop.customer": ("essential", "guest customer and cart (nopCommerce)"),
    "_shopify_u": ("essential", "customer account updates"),
    "did_compat": ("essential", "sign-in (Auth0)"),
    "spbc_is_logged_in": ("essential", "security plugin"),
    "spbc_log_id": ("essential", "security plugin"),
    "spbc_timer": ("essential", "security plugin"),
    "spbc_cookies_test": ("essential", "security plugin"),
    "apbct_cookies_test": ("essential", "anti-spam"),
    "apbct_": ("essential", "anti-spam"),
    "external_no_cache": ("essential", "page cache"),
    "section_data_clean": ("essential", "cart sections"),
    "_vercel_": ("essential", "deployment protection and cache"),
    "AKA_A2": ("essential", "CDN routing"),
    "cf_chl_rc_i": ("essential", "bot challenge"),
    "cf_chl_rc_m": ("essential", "bot challenge"),
    "cf_chl_rc_ni": ("essential", "bot challenge"),
    # consent managers' and consent state OCD files as functional or marketing
    **{
        n: ("essential", "consent state")
        for n in (
            "__cmpcpc",
            "__cmpcvc",
            "__cmpiab",
            "__cmpiuid",
            "__cmpwel",
            "axeptio_authorized_vendors",
            "BCPermissionLevel",
            "cky-action",
            "cookies-analytics",
            "cookies-functional",
            "cookies-marketing",
            "cookies-preferences",
            "SOCS",
            "cookie.policy.banner.eu",
            "cookie.policy.banner.nl",
            "user_allowed_save_cookie",
            "CMSCookieLevel",
            "nrid",
            "cookieSettingVerified",
            "FCCDCF",
            "FCNEC",
            "sat_track",
            "excludecalltracking",
        )
    },
    # analytics identifiers OCD files as functional (or as essential by our session rule)
    **{
        n: ("analytics", "analytics identifier or A/B-test state")
        for n in (
            "ai_user",
            "ai_session",
            "_splunk_rum_sid",
            "muxData",
            "_vwo_uuid",
            "_vwo_uuid_v2",
            "_vis_opt_exp_",
            "_vis_opt_s",
            "_vwo_ssm",
            "_conv_r",
            "_conv_v",
            "_conv_s",
            "ce_sid",
            "ceac",
            "cean",
            "cean_assoc",
            "cecu",
            "cehc",
            "celi",
            "first_snapshot_url",
            "_lo_bn",
            "_lo_cid",
            "_lo_np_",
            "hjViewportId",
            "_hjptid",
            "_parsely_slot_click",
            "_parsely_tpa_blocked",
            "_parsely_session",
            "_parsely_visitor",
            "QSI_CT",
            "QSI_S_",
            "QSI_DATA",
            "QSI_OptInIDsAndTargetOrigins",
            "QSI_OptInIDsAndWindowNames",
            "QSI_ReplaySession_SampledOut_",
            "QSI_ReplaySession_Throttled_",
            "SSRT",
            "SSPV",
            "SSSC",
            "_ym_debug",
            "_ym_hostIndex",
            "hs_ab_test",
            "X-AB",
            "tk_ai",
            "_pcid",
            "_pctx",
            "__pnahc",
            "pnespsdk_ssn",
            "_dyid",
            "DYID",
            "DYSES",
            "_dy_lu_ses",
            "_dy_soct",
            "_dy_toffset",
            "_dyjsession",
            "_dy_ses_load_seq",
            "_dyid_server",
            "dy_fs_page",
            "Dynamics365PortalAnalytics",
            "lz_userid",
            "lz_visits",
            "lz_last_visit",
        )
    },
    # advertising identifiers OCD files as functional
    **{
        n: ("targeting", "advertising identifier, ID sync or frequency cap")
        for n in (
            "permutive-id",
            "pxid",
            "t_pt_gid",
            "taboola_fp_td_user_id",
            "taboola_select",
            "_tb_sess_r",
            "pubsyncexp",
            "PUBUIDSYNCUPFQ",
            "PMFREQ_ON",
            "pubtime_",
            "fpestid",
            "pxcelAcc3PC",
            "ANID",
            "DLBCTLYOXA",
            "FDLBCAMPAIGNCDOM",
            "FDLBCTLY",
            "FDLBFIRST",
            "FDLBFIRSTAPI",
            "FDLBFIRSTCAMPAIGN",
            "FDLBFIRSTCAMPAIGNEF",
            "FDLBFIRSTCMP",
            "FDLBFIRSTDATA",
            "FDLBFIRSTEVENTS",
            "FDLBFIRSTTMS",
            "tc_caids",
            "tc_cj_ss",
            "tc_ss",
        )
    },
    # things our rules made essential that are not
    "comment_author_": ("preference", "remembers a commenter's name"),
    "comment_author_url_": ("preference", "remembers a commenter's site"),
    **{n: ("preference", "advertising platform state, not necessary") for n in ("ezoawesome_",)},
}
# Not taken: names first-party code also uses, account cookies of the vendors' own sites
# (never in a site's headers), and rows whose OCD data is contradicted by the vendor.
EXCLUDED = {
    "APISID",
    "HSID",
    "LSID",
    "SAPISID",
    "SIDCC",
    "OSID",
    "__Secure-OSID",
    "__Secure-1PAPISID",
    "__Secure-1PSID",
    "__Secure-1PSIDCC",
    "__Secure-1PSIDTS",
    "__Secure-3PAPISID",
    "__Secure-3PSID",
    "__Secure-3PSIDCC",
    "__Secure-3PSIDTS",
    "c_user",
    "datr",
    "js_ver",
    "campaign_click_url",
    "childinfo",
    "audience",
    "ServerPool",
    "remember_checked_on",
    "Comp",
    "TestIfCookie",
    "TestIfCookieP",
    "cookieJartestCookie",
    "svSession",
    "amplitude_id",
    "vuid",
    "pses",
    "l_page",
    "c-plan",
    "c-referrer",
    "c-signup",
    "VisitorStatus",
    "autocomplete",
    "disco",
    "keep_alive",
    "localization",
    "store_notice",
    "referrer_url",
    "unique_id_durable",
    "help_center_data",
    "lastlist",
    "inst",
    "webact",
    "activeView",
    # truncated in OCD; the full names have reviewed rows (JSESSIONID, ASP.NET_SessionId)
    "JSESSIO",
    "ASP.NET_Sessio",
    "ASP.NET_Sessio_Fallback",
}
HASHLIKE = re.compile(r"^(?=.*[0-9])(?=.*[a-z])[0-9a-z]{8}$")


def generic(name: str) -> bool:
    bare = name.lower().strip("_-.")
    return len(bare) <= 3 or name.lower() in GENERIC or bare in GENERIC


def read(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))


ocd = read(OCD)
existing = read(EXISTING)
existing_rows = [r for r in existing if not (r["pattern"] == "IDE" and r["match"] == "exact")]
# The reviewed rows' notes, restated for the new mapping (Functional -> preference).
for r in existing_rows:
    note = r["notes"]
    if not note.startswith("OCD ") or "(Functional)" not in note.split(";")[0]:
        continue
    if "category overridden essential->preference" in note:
        note = re.sub(r"; category overridden essential->preference;?", ";", note).rstrip(";")
    elif "category overridden essential->" in note:
        note = note.replace("category overridden essential->", "category overridden preference->")
    elif r["category"] == "essential":
        head, _, tail = note.partition(";")
        note = (
            head
            + "; category overridden preference->essential: strictly necessary"
            + (";" + tail if tail else "")
        )
    r["notes"] = note


def existing_category(name):
    best = None
    for r in existing_rows:
        p, m = r["pattern"], r["match"]
        if m == "exact" and p == name:
            return r
        if m == "prefix" and name.startswith(p) and (best is None or len(p) > len(best["pattern"])):
            best = r
    if best is not None:
        return best
    for r in existing_rows:
        if r["match"] == "glob" and re.fullmatch(
            ".*".join(map(re.escape, r["pattern"].split("*"))), name
        ):
            return r
    return None


log = collections.defaultdict(list)
candidates = collections.defaultdict(list)  # (pattern, match) -> [(category, note, row)]
for row in ocd:
    raw = row["Cookie / Data Key name"].strip().replace("\u200b", "")
    ocd_cat = row["Category"].strip()
    if not raw or ocd_cat not in MAP:
        log["no name or category"].append(raw)
        continue
    wildcard = row["Wildcard match"].strip() == "1"
    name = raw
    if name.endswith("*") and "*" not in name[:-1]:
        name, wildcard = name[:-1], True
    if "*" in name or "NNN" in name or "%" in name or not TOKEN.match(name):
        log["not a plain cookie name"].append(raw)
        continue
    match = "prefix" if wildcard else "exact"
    category = MAP[ocd_cat]
    why = ""
    if name in EXCLUDED or HASHLIKE.match(name):
        log["excluded by review"].append(raw)
        continue
    desc = row["Description"]
    if category != "essential" and CONSENT_NAME.search(name):
        category, why = "essential", "a consent or opt-out state"
    elif ocd_cat == "Functional" and NECESSARY.search(name + " " + desc):
        category, why = (
            "essential",
            "strictly necessary (session, security, load balancing, cart or consent)",
        )
    if name in OVERRIDES:
        category, why = OVERRIDES[name][0], OVERRIDES[name][1]
        if category == MAP[ocd_cat]:
            why = ""
    if (generic(name) or (match == "prefix" and len(name.strip("_-.")) < 4)) and (
        category != "essential" or generic(name)
    ):
        log["generic name"].append(f"{raw} ({ocd_cat})")
        continue
    candidates[(name, match)].append((category, ocd_cat, row, why))

out = []
for (name, match), options in candidates.items():
    cats = {c for c, *_ in options}
    if len(cats) > 1:
        if "essential" in cats:
            pick = "essential"
        elif "targeting" in cats:
            pick = "targeting"
        elif "analytics" in cats:
            pick = "analytics"
        else:
            pick = sorted(cats)[0]
        log["several categories (resolved)"].append(f"{name}: {sorted(cats)} -> {pick}")
        options = [o for o in options if o[0] == pick]
    category, ocd_cat, row, why = options[0]
    # exact OCD name already covered by an existing (reviewed) row
    have = existing_category(name)  # a reviewed row (exact, or a prefix of this name or prefix)
    if have is not None:
        if have["category"] != category:
            log["existing row wins"].append(
                f"{name}: OCD {category} vs existing {have['category']} ({have['pattern']})"
            )
        continue
    note = f"OCD {row['ID'].strip()} ({ocd_cat})"
    if why:
        note += f"; category overridden {MAP[ocd_cat]}->{category}: {why}"
    if len(options) > 1:
        note += f"; also {len(options) - 1} more OCD row(s) of the same name"
    vendor = row["Platform"].strip() or row["Data Controller"].strip() or "unknown"
    out.append(
        {"pattern": name, "match": match, "category": category, "vendor": vendor, "notes": note}
    )

# shadowing: a new prefix row must not decide a name another row of another category names
rows_all = existing_rows + out
prefixes = [r for r in rows_all if r["match"] == "prefix"]
bad = set()
for p in prefixes:
    for r in rows_all:
        if r is p or r["category"] == p["category"]:
            continue
        if r["match"] == "glob" and r["pattern"].startswith(p["pattern"]):
            bad.add(id(p))
            log["prefix shadows a glob"].append(f"{p['pattern']} vs {r['pattern']}")
        if (
            r["match"] == "prefix"
            and r["pattern"].startswith(p["pattern"])
            and len(r["pattern"]) == len(p["pattern"])
        ):
            bad.add(id(p))
out = [r for r in out if id(r) not in bad]
out.sort(
    key=lambda r: (
        ["essential", "analytics", "preference", "targeting"].index(r["category"]),
        r["vendor"].lower(),
        r["pattern"].lower(),
    )
)

buf = io.StringIO()
w = csv.DictWriter(
    buf, fieldnames=["pattern", "match", "category", "vendor", "notes"], lineterminator="\n"
)
w.writeheader()
for r in existing_rows + out:
    w.writerow({k: r[k] for k in ["pattern", "match", "category", "vendor", "notes"]})
with open(OUT, "w", encoding="utf-8") as target:
    target.write(buf.getvalue())
for k, v in log.items():
    print(f"== {k}: {len(v)}")
    print("   " + " | ".join(map(str, v))[:6000])
c = collections.Counter(r["category"] for r in existing_rows + out)
print("rows", len(existing_rows + out), dict(c), "new", len(out))
