"""The form both standalone pages post, and its strict parsing.

The form is visitor input: anything but the fields the pages send, in the number they
send them, is a :class:`SettingsFormError` (the middleware answers 400 and changes
nothing), except ``next``, which falls back to ``"/"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, get_args
from urllib.parse import parse_qsl

from ..core.categories import OPTIONAL_CATEGORIES, Category, check_category
from .validation import safe_next_path

__all__ = [
    "CSRF_FIELD",
    "FORM_ACTIONS",
    "FormAction",
    "SettingsForm",
    "SettingsFormError",
    "parse_settings_form",
]

#: The ``action`` values the settings and do-not-sell forms post.
FormAction = Literal["accept_all", "reject_all", "save", "do_not_sell", "limit_sensitive"]
FORM_ACTIONS: Final[tuple[FormAction, ...]] = get_args(FormAction)

#: Name of the hidden CSRF token field of both forms.
CSRF_FIELD: Final = "csrf_token"

# A lookup rather than a cast turns a checked str into its Literal type.
_ACTIONS: Final[Mapping[str, FormAction]] = MappingProxyType(
    {action: action for action in FORM_ACTIONS}
)


class SettingsFormError(ValueError):
    """The posted settings or do-not-sell form is unusable; the message says why.

    The middleware answers ``400 Bad Request`` and changes nothing.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsForm:
    """A parsed settings or do-not-sell form.

    ``categories`` holds the optional categories this action sets; categories absent
    from it keep their current value: ``accept_all``/``reject_all`` set all three,
    ``save`` sets all three from the checkboxes, ``do_not_sell`` sets ``targeting`` to
    ``False``, ``limit_sensitive`` sets none and has ``limit_sensitive`` true.
    ``csrf_token`` is as posted: checking it is the caller's job. ``next_url`` already
    went through :func:`safe_next_path`.
    """

    action: FormAction
    categories: Mapping[Category, bool]
    csrf_token: str
    next_url: str
    limit_sensitive: bool = False


_MAX_FORM_BYTES: Final = 8192
_MAX_FORM_FIELDS: Final = 32
_MAX_TOKEN_LENGTH: Final = 1024
_FORM_FIELDS: Final = frozenset({"action", CSRF_FIELD, "next", "category"})


def parse_settings_form(body: bytes, *, max_bytes: int = _MAX_FORM_BYTES) -> SettingsForm:
    """Parse an ``application/x-www-form-urlencoded`` body posted by either page.

    Raises :class:`SettingsFormError` for: a body over ``max_bytes``; non-ASCII bytes,
    malformed pairs or percent-escapes that are not UTF-8; more than 32 fields; an
    unknown field; a missing, repeated or unknown ``action``; a missing, empty, repeated
    or over-long ``csrf_token``; a repeated ``next``; an unknown ``category``. A
    ``next`` that is not a path on this site becomes ``"/"`` rather than an error.
    ``category=essential`` is accepted and ignored (essential is always on).
    """
    if len(body) > max_bytes:
        raise SettingsFormError(f"form body is {len(body)} bytes; the limit is {max_bytes}")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise SettingsFormError("form body must be URL-encoded ASCII") from None
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise SettingsFormError(f"malformed form body: {exc}") from None

    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in _FORM_FIELDS:
            raise SettingsFormError(f"unexpected form field {name!r}")
        values.setdefault(name, []).append(value)

    def single(name: str) -> str | None:
        found = values.get(name, [])
        if len(found) > 1:
            raise SettingsFormError(f"form field {name!r} was sent {len(found)} times")
        return found[0] if found else None

    raw_action = single("action")
    if raw_action is None:
        raise SettingsFormError("form field 'action' is missing")
    action = _ACTIONS.get(raw_action)
    if action is None:
        raise SettingsFormError(
            f"unknown action {raw_action!r}; expected one of {', '.join(FORM_ACTIONS)}"
        )
    token = single(CSRF_FIELD)
    if not token:
        raise SettingsFormError(f"form field {CSRF_FIELD!r} is missing or empty")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise SettingsFormError(f"form field {CSRF_FIELD!r} is too long")
    next_url = safe_next_path(single("next"))

    checked: set[Category] = set()
    for name in values.get("category", []):
        try:
            checked.add(check_category(name))
        except ValueError as exc:
            raise SettingsFormError(str(exc)) from None

    categories: dict[Category, bool]
    if action == "accept_all":
        categories = {category: True for category in OPTIONAL_CATEGORIES}
    elif action == "reject_all":
        categories = {category: False for category in OPTIONAL_CATEGORIES}
    elif action == "save":
        categories = {category: category in checked for category in OPTIONAL_CATEGORIES}
    elif action == "do_not_sell":
        categories = {"targeting": False}
    else:
        categories = {}
    return SettingsForm(
        action=action,
        categories=MappingProxyType(categories),
        csrf_token=token,
        next_url=next_url,
        limit_sensitive=action == "limit_sensitive",
    )
