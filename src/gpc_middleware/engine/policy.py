"""``ConsentPolicy``: every setting of the middleware, declared and validated once.

Both adapters take the same policy object. Values derived from the settings
(the cookie codec, the cookie attribute string, the gpc.json body) are computed
here, at construction, never per request.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final, Literal

from ..core.categories import Category, check_category
from ..core.consent import Mode
from ..core.consent_cookie import ConsentCookieCodec
from ..core.csrf import FormTokens
from ..core.events import ConsentEvent
from ..core.jurisdiction import ModeResolver
from ..core.request import CookieReader, Headers, parse_cookie_header
from ..enforcement.catalog import TrackerCatalog
from ..enforcement.csp import ConsentWall, CSPMode, UnknownHosts, wall_for_settings
from ..enforcement.rewriter import RewriteRules
from ..widget.i18n import build_catalogs, match_language

if TYPE_CHECKING:
    from ..records.csp_hosts import HostReportStore
    from ..records.log import ConsentLog
    from ..records.recorder import ConsentRecorder

HTMLMode = Literal["strip", "neutralize", "off"]
SameSite = Literal["lax", "strict", "none"]
ChangeCallback = Callable[[ConsentEvent], "Awaitable[None] | None"]

#: 13 months, the longest consent lifetime European regulators accept (CNIL, AEPD).
THIRTEEN_MONTHS: Final = 395 * 24 * 60 * 60
MIN_SECRET_KEY_LENGTH: Final = 16

# RFC 6265 section 4.1.1: a cookie name is an HTTP token.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Domain and Path attribute values may not contain ";" or control characters (RFC 6265 4.1.1).
_ATTRIBUTE_VALUE = re.compile(r"^[\x21-\x3a\x3c-\x7e]+$")
_POLICY_VERSION = re.compile(r"^[\x21-\x7e]{1,64}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class ConsentPolicy:
    """The site's consent policy and the middleware's settings (immutable; invalid values raise ``ValueError``).

    See the README's settings table for what each field does.
    """

    secret_key: str | bytes = field(repr=False)
    fallback_keys: Sequence[str | bytes] = field(default=(), repr=False)
    policy_version: str = "1"
    mode: Mode | ModeResolver = "opt-in"
    gpc_categories: Sequence[Category] = ("targeting",)
    cookie_name: str = "gpc_consent"
    cookie_max_age: int = THIRTEEN_MONTHS
    cookie_domain: str | None = None
    cookie_path: str = "/"
    cookie_secure: bool = True
    cookie_samesite: SameSite = "lax"
    endpoint_path: str = "/_consent"
    body_timeout: float = 10.0
    gpc_json_last_update: date | str | None = "auto"
    on_change: ChangeCallback | None = field(default=None, repr=False)
    texts: Mapping[str, Mapping[str, str]] | None = field(default=None, repr=False)
    languages: Sequence[str] | None = None
    language: str | None = None
    privacy_policy_url: str | None = None
    html_mode: HTMLMode = "strip"
    tracker_hosts: Mapping[str, Category | None] | None = None
    tracker_signatures: Mapping[str, Category | None] | None = None
    cookie_categories: Mapping[str, Category | None] | None = None
    consent_services: Mapping[str, Category] | None = None
    essential_cookies: Sequence[str] = ()
    unknown_cookies: Literal["allow", "block"] = "allow"
    filter_set_cookies: bool = True
    clear_refused_cookies: bool = True
    google_consent_mode: bool = False
    inject_widget: bool = False
    suppressed_header: str | None = None
    iab_signals: bool = False
    consent_log: str | ConsentLog | None = field(default=None, repr=False)
    consent_log_retention: timedelta | None = timedelta(days=731)
    csp: CSPMode = "off"
    third_party_hosts: Mapping[str, Category] | None = None
    unknown_third_parties: UnknownHosts = "block"
    csp_unsafe_eval: bool = False

    # Derived once, in __post_init__.
    codec: ConsentCookieCodec = field(init=False, repr=False, compare=False)
    cookie_attributes: str = field(init=False, repr=False, compare=False)
    gpc_json: bytes | None = field(init=False, repr=False, compare=False)
    read_cookie: CookieReader = field(init=False, repr=False, compare=False)
    form_tokens: FormTokens = field(init=False, repr=False, compare=False)
    catalogs: Mapping[str, Mapping[str, str]] = field(init=False, repr=False, compare=False)
    recorder: ConsentRecorder | None = field(init=False, repr=False, compare=False)
    catalog: TrackerCatalog = field(init=False, repr=False, compare=False)
    rewrite_rules: RewriteRules = field(init=False, repr=False, compare=False)
    essential_cookie_names: frozenset[str] = field(init=False, repr=False, compare=False)
    #: Whether the app's responses are looked at at all (``False``: they pass untouched).
    inspects_responses: bool = field(init=False, repr=False, compare=False)
    read_us_privacy: CookieReader = field(init=False, repr=False, compare=False)
    csp_wall: ConsentWall | None = field(init=False, repr=False, compare=False)
    csp_reports: HostReportStore | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [self.secret_key, *self.fallback_keys]
        for key in keys:
            if not isinstance(key, (str, bytes)):
                raise ValueError("secret_key and fallback_keys must be str or bytes")
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    f"secret_key and every fallback key must be at least {MIN_SECRET_KEY_LENGTH} "
                    "characters; use e.g. secrets.token_urlsafe(32)"
                )
        if not isinstance(self.policy_version, str) or not _POLICY_VERSION.match(
            self.policy_version
        ):
            raise ValueError("policy_version must be 1 to 64 printable ASCII characters, no spaces")
        if not callable(self.mode) and self.mode not in ("opt-in", "opt-out"):
            raise ValueError(f"mode must be 'opt-in', 'opt-out' or a callable, not {self.mode!r}")
        gpc_categories = tuple(check_category(c) for c in self.gpc_categories)
        if "essential" in gpc_categories:
            raise ValueError("gpc_categories cannot include 'essential'")
        if not _TOKEN.match(self.cookie_name):
            raise ValueError(f"cookie_name {self.cookie_name!r} is not a valid cookie name")
        if type(self.cookie_max_age) is not int or self.cookie_max_age <= 0:
            raise ValueError("cookie_max_age must be a positive number of seconds")
        if self.cookie_domain is not None and not _ATTRIBUTE_VALUE.match(self.cookie_domain):
            raise ValueError(f"cookie_domain {self.cookie_domain!r} is not a valid domain")
        if not self.cookie_path.startswith("/") or not _ATTRIBUTE_VALUE.match(self.cookie_path):
            raise ValueError(f"cookie_path {self.cookie_path!r} must be a path starting with '/'")
        if self.cookie_samesite not in ("lax", "strict", "none"):
            raise ValueError("cookie_samesite must be 'lax', 'strict' or 'none'")
        if self.cookie_samesite == "none" and not self.cookie_secure:
            raise ValueError(
                "cookie_samesite='none' requires cookie_secure=True (browsers reject it)"
            )
        if (
            not self.endpoint_path.startswith("/")
            or self.endpoint_path.endswith("/")
            or not _ATTRIBUTE_VALUE.match(self.endpoint_path)
            or "?" in self.endpoint_path
        ):
            raise ValueError(
                "endpoint_path must start with '/' and not end with '/', e.g. '/_consent'"
            )
        if (
            isinstance(self.body_timeout, bool)
            or not isinstance(self.body_timeout, (int, float))
            or not 0 < self.body_timeout <= 3600
        ):
            raise ValueError("body_timeout must be a number of seconds, more than 0, at most 3600")
        if self.on_change is not None and not callable(self.on_change):
            raise ValueError("on_change must be a callable taking a ConsentEvent")

        set_ = object.__setattr__
        set_(self, "gpc_categories", gpc_categories)
        set_(self, "fallback_keys", tuple(self.fallback_keys))
        # itsdangerous wants the keys oldest first, the signing key last.
        set_(
            self,
            "codec",
            ConsentCookieCodec(
                [*reversed(self.fallback_keys), self.secret_key], self.cookie_max_age
            ),
        )
        set_(self, "cookie_attributes", self._cookie_attributes())
        set_(self, "gpc_json", self._gpc_json())
        set_(self, "read_cookie", CookieReader(self.cookie_name))
        set_(self, "form_tokens", FormTokens([*reversed(self.fallback_keys), self.secret_key]))
        catalogs = build_catalogs(self.texts, languages=self.languages)
        if self.language is not None and match_language(self.language, catalogs) is None:
            raise ValueError(
                f"language {self.language!r} has no texts; available: {', '.join(catalogs)}"
            )
        set_(self, "catalogs", catalogs)
        if self.privacy_policy_url is not None and not re.match(
            r"^(/(?!/)|https?://)\S*$", self.privacy_policy_url
        ):
            raise ValueError(
                "privacy_policy_url must be a path such as '/privacy' or an http(s) URL"
            )
        self._check_enforcement()
        catalog = TrackerCatalog.default()
        if self.tracker_hosts or self.tracker_signatures or self.cookie_categories:
            catalog = catalog.with_overrides(
                hosts=self.tracker_hosts,
                signatures=self.tracker_signatures,
                cookies=self.cookie_categories,
            )
        set_(self, "catalog", catalog)
        rules = (
            RewriteRules.default()
            if catalog is TrackerCatalog.default()
            else RewriteRules(catalog=catalog)
        )
        if self.consent_services:
            rules = rules.with_consent_attributes({"data-name": dict(self.consent_services)})
        set_(self, "rewrite_rules", rules)
        # The consent cookie and the IAB US Privacy cookie record opt-outs: never dropped.
        set_(
            self,
            "essential_cookie_names",
            frozenset({self.cookie_name, "usprivacy", *self.essential_cookies}),
        )
        set_(self, "read_us_privacy", CookieReader("usprivacy"))
        set_(self, "inspects_responses", self.html_mode != "off" or self.filter_set_cookies)
        set_(self, "recorder", self._recorder())
        wall = wall_for_settings(self, catalog)
        set_(self, "csp_wall", wall)
        set_(self, "csp_reports", None if wall is None else _host_reports(self.consent_log))

    def _check_enforcement(self) -> None:
        if self.html_mode not in ("strip", "neutralize", "off"):
            raise ValueError(
                f"html_mode must be 'strip', 'neutralize' or 'off', not {self.html_mode!r}"
            )
        for name in ("filter_set_cookies", "clear_refused_cookies"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False")
        if self.unknown_cookies not in ("allow", "block"):
            raise ValueError(
                f"unknown_cookies must be 'allow' or 'block', not {self.unknown_cookies!r}"
            )
        if self.suppressed_header is not None and not _TOKEN.match(self.suppressed_header):
            raise ValueError(
                f"suppressed_header {self.suppressed_header!r} is not a valid header name"
            )
        for name in self.essential_cookies:
            if not isinstance(name, str) or not _TOKEN.match(name):
                raise ValueError(f"essential_cookies: {name!r} is not a valid cookie name")
        for what, mapping in (
            ("tracker_hosts", self.tracker_hosts),
            ("tracker_signatures", self.tracker_signatures),
            ("cookie_categories", self.cookie_categories),
            ("consent_services", self.consent_services),
        ):
            for key, category in (mapping or {}).items():
                if not isinstance(key, str) or not key:
                    raise ValueError(f"{what}: keys must be non-empty strings, not {key!r}")
                if category is not None:
                    check_category(category)

    def refused_cookie_names(
        self, cookie_header: bytes, allowed: frozenset[Category]
    ) -> tuple[str, ...]:
        """Names in a ``Cookie`` header whose category is not in ``allowed`` (the engine caches the answer)."""
        names = parse_cookie_header(cookie_header.decode("latin-1"))
        refused = []
        for name in names:
            if not name or name in self.essential_cookie_names:
                continue
            category = self.catalog.classify_cookie(name)
            if category is not None and category != "essential" and category not in allowed:
                refused.append(name)
        return tuple(refused)

    def us_privacy_cookie(self, value: str) -> str:
        """A ``Set-Cookie`` value for the IAB US Privacy string (readable by scripts: CMP APIs read it)."""
        attributes = self.cookie_attributes.replace("HttpOnly; ", "")
        return f"usprivacy={value}; Max-Age={self.cookie_max_age}; {attributes}"

    def widget_tag(self, nonce: str | None = None) -> bytes:
        """The ``<script>`` tag that loads the widget, as ``inject_widget`` adds it to pages."""
        from ..widget.assets import widget_script_tag

        return widget_script_tag(self.endpoint_path, nonce=nonce).encode("utf-8")

    def _recorder(self) -> ConsentRecorder | None:
        """The background writer of the consent log, if one is configured (records are a subscriber of events)."""
        if self.consent_log is None:
            return None
        from ..records.log import open_consent_log  # sqlite3 only when asked for
        from ..records.recorder import ConsentRecorder

        log = (
            open_consent_log(self.consent_log)
            if isinstance(self.consent_log, str)
            else self.consent_log
        )
        return ConsentRecorder(log, retention=self.consent_log_retention)

    def _cookie_attributes(self) -> str:
        parts = [f"Path={self.cookie_path}"]
        if self.cookie_domain:
            parts.append(f"Domain={self.cookie_domain}")
        parts.append("HttpOnly")
        if self.cookie_secure:
            parts.append("Secure")
        parts.append(f"SameSite={self.cookie_samesite.capitalize()}")
        return "; ".join(parts)

    def _gpc_json(self) -> bytes | None:
        """The body of ``/.well-known/gpc.json`` (GPC specification section 3.4), or ``None``."""
        last_update = self.gpc_json_last_update
        if last_update is None:
            return None
        if last_update == "auto":
            # A policy versioned by date says when the site last changed it.
            if _ISO_DATE.match(self.policy_version):
                last_update = self.policy_version
            else:
                return b'{"gpc":true}'
        if isinstance(last_update, date):
            last_update = last_update.isoformat()
        if not isinstance(last_update, str) or not _ISO_DATE.match(last_update):
            raise ValueError(
                "gpc_json_last_update must be a date, an ISO date string, 'auto' or None"
            )
        try:
            date.fromisoformat(last_update)
        except ValueError:
            raise ValueError(f"gpc_json_last_update {last_update!r} is not a valid date") from None
        return f'{{"gpc":true,"lastUpdate":"{last_update}"}}'.encode("ascii")

    def mode_for(self, headers: Headers) -> Mode:
        """The consent mode for a request: the fixed mode, or the resolver's answer."""
        if callable(self.mode):
            mode = self.mode(headers)
            if mode not in ("opt-in", "opt-out"):
                raise ValueError(f"the mode resolver returned {mode!r}, not 'opt-in' or 'opt-out'")
            return mode
        return self.mode

    def set_cookie_header(self, value: str) -> str:
        """A ``Set-Cookie`` value storing ``value`` in the consent cookie."""
        return (
            f"{self.cookie_name}={value}; Max-Age={self.cookie_max_age}; {self.cookie_attributes}"
        )

    def clear_cookie_header(self) -> str:
        """A ``Set-Cookie`` value that expires the consent cookie."""
        return (
            f"{self.cookie_name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
            f"{self.cookie_attributes}"
        )


def _host_reports(consent_log: str | ConsentLog | None) -> HostReportStore:
    """Where the wall's violation reports are counted: the consent log's SQLite file, else memory."""
    if consent_log is None:  # no sqlite3 import for memory
        from ..records.csp_hosts import MemoryHostReports

        return MemoryHostReports()
    from ..records.csp_hosts_sqlite import open_host_reports

    return open_host_reports(consent_log)
