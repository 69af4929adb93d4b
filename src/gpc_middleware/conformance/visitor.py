"""The browser-like visitor every check plays: a cookie jar of its own for one site, the
``Sec-GPC`` signal on or off, and same-origin choices through the consent endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .transports import Reply, Transport

SAME_ORIGIN_HEADERS: tuple[tuple[str, str], ...] = (("Sec-Fetch-Site", "same-origin"),)


class Visitor:
    """A browser-like visitor: a cookie jar (one site), optional GPC signal, same-origin requests."""

    def __init__(self, transport: Transport, *, gpc: bool = False) -> None:
        self.transport = transport
        self.gpc = gpc
        self.cookies: dict[str, str] = {}
        self.set_cookie_log: list[str] = []  # every Set-Cookie received, in order

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Reply:
        sent = list(headers)
        if self.gpc:
            sent.append(("Sec-GPC", "1"))
        if self.cookies:
            sent.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        reply = self.transport(method, path, sent, body)
        for value in reply.all("set-cookie"):
            self.set_cookie_log.append(value)
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            attributes = rest.lower()
            if (
                "max-age=0" in attributes.replace(" ", "")
                or "expires=thu, 01 jan 1970" in attributes
            ):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = cookie_value
        return reply

    def get(self, path: str) -> Reply:
        return self.request("GET", path, headers=(("Accept", "text/html,application/json"),))

    def choose(self, endpoint: str, payload: Mapping[str, Any]) -> Reply:
        """A same-origin choice through the consent endpoint, as the widget makes it."""
        body = json.dumps(payload).encode()
        headers = (*SAME_ORIGIN_HEADERS, ("Content-Type", "application/json"))
        return self.request("PUT", endpoint, body=body, headers=headers)
