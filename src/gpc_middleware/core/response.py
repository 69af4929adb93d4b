"""Plain response values the core returns; the adapters only send them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_CONTENT_TYPE = "application/json"

_REASONS = {
    200: "OK",
    204: "No Content",
    303: "See Other",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
}


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response: status, header pairs (repeatable, e.g. ``Set-Cookie``) and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def status_line(self) -> str:
        """``"200 OK"``: the form WSGI's ``start_response`` wants."""
        return f"{self.status} {_REASONS.get(self.status, 'Unknown')}"

    def header_bytes(self) -> list[tuple[bytes, bytes]]:
        """Header pairs as latin-1 bytes, the form ASGI wants."""
        return [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self.headers
        ]


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A JSON response with a correct ``Content-Length`` and ``Cache-Control: no-store``.

    Consent state is per visitor: no cache, shared or private, may keep it.
    """
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return Response(
        status,
        [
            ("Content-Type", JSON_CONTENT_TYPE),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *(headers or []),
        ],
        body,
    )


def error_response(
    status: int, message: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    """``{"error": message}`` with ``status``: every error of the middleware looks like this."""
    return json_response(status, {"error": message}, headers)
