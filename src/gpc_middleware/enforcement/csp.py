"""The browser's wall: a per-visitor ``Content-Security-Policy`` built from the catalog and a consent.

How it works
------------
Rewriting HTML cannot see what a script does at run time (a URL built by
concatenation, ``atob``, a JSON config, ``fetch``, ``sendBeacon``, ``new Image()``).
The browser can: it checks every fetch a page makes against each policy the page
carries (CSP Level 3, section 8.1, "The effect of multiple policies": each is enforced
on its own, so a second policy only ever adds restrictions). The
middleware therefore sends one policy of its own beside the app's:

- ``default-src`` lists the sources a visitor's page may fetch from: ``'self'``,
  the hosts the site declared ``essential``, the hosts (catalog and declared) of
  each category the visitor allows, and the schemes pages build content from
  (``data:``, ``blob:``). Every fetch directive (``script-src``,
  ``script-src-elem``, ``img-src``, ``frame-src``, ``connect-src``, ``style-src``,
  ``font-src``, ``media-src``, ``object-src``, ``worker-src``, ``manifest-src``)
  falls back to ``default-src`` (CSP3, "Get the fallback list"), so the list is written once,
  and a violation report still names the specific directive.
- ``form-action``, which does not fall back, lists ``'self'`` and the declared
  hosts only (a form posts where the site's templates say; trackers do not post forms).
- ``'unsafe-inline'`` and ``'wasm-unsafe-eval'`` are in the list so that this policy
  never decides about inline code or WebAssembly: the app's own policy (its nonces,
  its hashes, ``'strict-dynamic'``) alone does. ``'unsafe-eval'`` only when the
  site asks (``eval`` then depends on the app's policy alone, too).
- A host is written twice, ``host`` and ``*.host``: the catalog's host matches its
  subdomains, and CSP's ``*.`` does not match the host itself. A catalog row with a
  path prefix becomes ``host/prefix`` (CSP matches paths, not after a redirect).

A visitor who allows every category gets no policy at all: any host, unknown ones
included, is of some category, and all of them are allowed. An unknown host is
otherwise blocked until the site declares it (``third_party_hosts``).

Only hosts that are plain DNS names or IPv4 addresses, and paths of URL-safe
characters, are written: nothing in the header can end a directive (``;``), a
policy (``,``) or a source (whitespace), or open a keyword (``'``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Final, Literal, Protocol

from ..core.categories import OPTIONAL_CATEGORIES, Category, check_category
from .catalog import TrackerCatalog
from .urls import normalise_host

CSPMode = Literal["off", "report-only", "enforce"]
UnknownHosts = Literal["block", "allow"]

_LABEL: Final = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST: Final = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PATH: Final = re.compile(r"/[A-Za-z0-9._~/%-]*")
_REPORT_PATH: Final = re.compile(r"/[A-Za-z0-9._~/%-]*")


def valid_host(host: str) -> str | None:
    """``host`` as the header writes it (lower case, IDNs in ASCII), or ``None`` if it may not go there."""
    if not isinstance(host, str) or not host or len(host) > 253:
        return None
    written = normalise_host(host)
    return written if _HOST.fullmatch(written) else None


def source_expressions(host: str, path_prefix: str = "") -> tuple[str, ...]:
    """The CSP host-sources for a catalog-style host (the host and its subdomains), ``()`` if invalid."""
    written = valid_host(host)
    if written is None or (path_prefix and not _PATH.fullmatch(path_prefix)):
        return ()
    return (written + path_prefix, f"*.{written}{path_prefix}")


class ConsentWall:
    """The policy headers for each set of allowed categories, computed once (at most eight).

    ``headers_for(allowed)`` is a dict look-up: the response filter calls it for every
    rewritten page.
    """

    __slots__ = ("_by_allowed", "header_name", "mode", "unknown")

    def __init__(
        self,
        catalog: TrackerCatalog,
        *,
        mode: CSPMode,
        declared: Mapping[str, Category] | None = None,
        unknown: UnknownHosts = "block",
        unsafe_eval: bool = False,
        report_path: str | None = None,
    ) -> None:
        if mode not in ("report-only", "enforce"):
            raise ValueError(f"a wall is 'report-only' or 'enforce', not {mode!r}")
        if report_path is not None and not _REPORT_PATH.fullmatch(report_path):
            raise ValueError(f"report path {report_path!r} cannot go in a header")
        self.mode = mode
        self.unknown = unknown
        # CSP is an allowlist: it cannot let unknown hosts through and stop known ones,
        # so with unknown hosts allowed the wall only reports (see the README).
        blocking = mode == "enforce" and unknown == "block"
        self.header_name = (
            b"content-security-policy" if blocking else b"content-security-policy-report-only"
        )
        by_category = _sources_by_category(catalog, declared or {})
        declared_by_category = _sources_by_category(None, declared or {})
        extra = ["data:", "blob:", "'unsafe-inline'", "'wasm-unsafe-eval'"]
        if unsafe_eval:
            extra.append("'unsafe-eval'")
        # report-uri, not report-to: with report-to, Chromium ignores report-uri and
        # batches reports through the Reporting API (README: "Violation reports").
        reporting = [f"report-uri {report_path}"] if report_path is not None else []
        self._by_allowed: dict[frozenset[str], tuple[tuple[bytes, bytes], ...]] = {}
        for allowed in _subsets(OPTIONAL_CATEGORIES):
            if len(allowed) == len(OPTIONAL_CATEGORIES):
                headers: tuple[tuple[bytes, bytes], ...] = ()  # every host is allowed
            else:
                cats = ("essential", *allowed)
                hosts = _union(by_category.get(c, ()) for c in cats)
                posts = _union(declared_by_category.get(c, ()) for c in cats)
                directives = [
                    " ".join(["default-src", "'self'", *hosts, *extra]),
                    " ".join(["form-action", "'self'", *posts]),
                    *reporting,
                ]
                headers = ((self.header_name, "; ".join(directives).encode("ascii")),)
            self._by_allowed[frozenset({"essential", *allowed})] = headers

    def headers_for(self, allowed: frozenset[str]) -> tuple[tuple[bytes, bytes], ...]:
        """The header pairs a page for a visitor who allows ``allowed`` (``essential`` included) gets."""
        found = self._by_allowed.get(allowed)
        if found is None:  # ``essential`` left out by a caller: the same visitor
            found = self._by_allowed[frozenset({"essential", *allowed})]
        return found

    def header_sizes(self) -> dict[str, int]:
        """Bytes of header per set of allowed optional categories (for the README and the benchmark)."""
        return {
            "+".join(sorted(a - {"essential"})) or "essential": sum(len(n) + len(v) for n, v in h)
            for a, h in self._by_allowed.items()
        }


def _subsets(items: tuple[Category, ...]) -> Iterable[tuple[Category, ...]]:
    for size in range(len(items) + 1):
        yield from itertools.combinations(items, size)


def _union(groups: Iterable[Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(itertools.chain.from_iterable(groups)))


def _sources_by_category(
    catalog: TrackerCatalog | None, declared: Mapping[str, Category]
) -> dict[str, list[str]]:
    """Host-sources by category: the catalog's rows, then the site's declared hosts."""
    out: dict[str, list[str]] = {}
    if catalog is not None:
        for rule in catalog.host_rules:
            if (
                rule.category is None
                or catalog.match_host(rule.host, rule.path_prefix or "/") is not rule
            ):
                continue  # not a tracker, or replaced by an override
            out.setdefault(rule.category, []).extend(
                source_expressions(rule.host, rule.path_prefix)
            )
    for host, category in declared.items():
        out.setdefault(category, []).extend(source_expressions(host))
    return out


def check_third_party_hosts(
    hosts: Mapping[str, Category], catalog: TrackerCatalog
) -> dict[str, Category]:
    """``third_party_hosts`` checked and written as the header writes them.

    Raises ``ValueError`` for a host that cannot go in a header (a path, a port, a
    scheme, ``;``, ``,``, quotes, whitespace), an unknown category, or a host the
    catalog files under another category: a declaration may not take away what the
    catalog knows (reclassify a catalog host with ``tracker_hosts``).
    """
    if not isinstance(hosts, Mapping):
        raise ValueError("third_party_hosts must map host names to categories")
    out: dict[str, Category] = {}
    for host, category in hosts.items():
        written = valid_host(host) if isinstance(host, str) else None
        if written is None:
            raise ValueError(
                f"third_party_hosts: {host!r} is not a host name (write 'cdn.example.net': "
                "no scheme, port, path or wildcard; it covers its subdomains)"
            )
        category = check_category(category)
        rule = catalog.match_host(written)
        if rule is not None and rule.category != category:
            raise ValueError(
                f"third_party_hosts: the catalog files {written!r} as {rule.category!r} "
                f"({rule.vendor}), not {category!r}; use tracker_hosts to reclassify it"
            )
        out[written] = category
    return out


class WallSettings(Protocol):
    """The settings a wall is made from (``ConsentPolicy``'s fields of the same names)."""

    @property
    def csp(self) -> str: ...
    @property
    def html_mode(self) -> str: ...
    @property
    def third_party_hosts(self) -> Mapping[str, Category] | None: ...
    @property
    def unknown_third_parties(self) -> str: ...
    @property
    def csp_unsafe_eval(self) -> object: ...
    @property
    def endpoint_path(self) -> str: ...


def wall_for_settings(settings: WallSettings, catalog: TrackerCatalog) -> ConsentWall | None:
    """The wall ``settings`` ask for (``ValueError`` for invalid ones), or ``None``.

    Neutralize mode serves one page to every visitor, which a CDN caches with its
    headers: a per-visitor policy would reach the wrong visitors, and a shared one
    would either block what the widget activates after a choice (essential hosts
    only) or block only unknown hosts at the price of every catalog host in the
    header. So only ``strip`` mode gets a wall (README).
    """
    csp, unknown = settings.csp, settings.unknown_third_parties
    if csp not in ("off", "report-only", "enforce"):
        raise ValueError(f"csp must be 'off', 'report-only' or 'enforce', not {csp!r}")
    if unknown not in ("block", "allow"):
        raise ValueError(f"unknown_third_parties must be 'block' or 'allow', not {unknown!r}")
    if not isinstance(settings.csp_unsafe_eval, bool):
        raise ValueError("csp_unsafe_eval must be True or False")
    hosts = check_third_party_hosts(settings.third_party_hosts or {}, catalog)
    if csp == "off" or settings.html_mode != "strip":
        return None
    return ConsentWall(
        catalog,
        mode=csp,  # type: ignore[arg-type]
        declared=hosts,
        unknown=unknown,  # type: ignore[arg-type]
        unsafe_eval=settings.csp_unsafe_eval,
        report_path=f"{settings.endpoint_path}/csp-report",
    )
