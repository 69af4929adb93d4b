"""A consent record: the durable, minimal proof of one change of a visitor's consent.

GDPR Art. 7(1): the controller "shall be able to demonstrate that the data subject has
consented". The CCPA regulations (11 CCR § 7101(a)) keep records of consumer requests,
opt-outs by Global Privacy Control included (§ 7025), and of how the business responded, for
at least 24 months. One :class:`ConsentRecord` is made from each
:class:`~gpc_middleware.core.events.ConsentEvent`; the stores
(:mod:`~gpc_middleware.records.sqlite_log`, :mod:`~gpc_middleware.records.sqlalchemy_log`)
keep them and read them back for an audit or a data-subject access request.

Data minimisation (GDPR Art. 5(1)(c)): a record holds the consent id (a random token that
also travels in the signed cookie), the time, what was chosen and what is in force, the
policy version, and a keyed hash of the user agent. No IP address and no raw identifier.

Also here, because every store shares them: the table name and column limits, the checks
of export filters, and the row form of a record (times as fixed-width ISO 8601 text,
categories as canonical JSON).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, get_args

from gpc_middleware.core.events import ConsentEvent, EventKind

__all__ = ["DEFAULT_RETENTION", "ConsentRecord"]

#: How long records are kept by default: the 24 months of 11 CCR § 7101(a), rounded up to
#: cover a leap day. It must exceed the consent cookie's lifetime, or a consent still in
#: force could lose its proof.
DEFAULT_RETENTION: Final = timedelta(days=731)

#: The table both database implementations use, with the same columns and indexes.
TABLE_NAME: Final = "gpc_consent_records"

#: The longest text a record field may hold: every text column is ``VARCHAR(255)``, and a
#: record that could never be stored would block the writer's retries.
MAX_TEXT_LENGTH: Final = 255

#: The longest ``record_id`` (a random one is 32 hexadecimal digits).
MAX_RECORD_ID_LENGTH: Final = 64

_EVENT_KINDS: Final[tuple[str, ...]] = get_args(EventKind)

_JSON_FIELDS: Final = (
    "record_id",
    "consent_id",
    "time",
    "kind",
    "policy_version",
    "mode",
    "source",
    "gpc",
    "limit_sensitive",
    "chosen",
    "effective",
    "user_agent_hash",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRecord:
    """One stored change of consent: what a site shows to demonstrate consent or an opt-out.

    Construction validates and normalises: ``time`` must be timezone-aware and is converted
    to UTC; ``chosen`` and ``effective`` become read-only copies (written sorted); every
    text field is at most :data:`MAX_TEXT_LENGTH` characters. Invalid values raise
    ``ValueError``, so every record that exists can be stored.
    """

    record_id: str  # random, unique per record; makes writes idempotent
    consent_id: str
    time: datetime  # UTC
    kind: EventKind
    policy_version: str
    mode: str  # "opt-in" or "opt-out"
    source: str  # "user", "gpc" or "default"
    gpc: bool  # the request carried a Sec-GPC: 1 signal
    chosen: Mapping[str, bool] | None  # what the visitor chose; None for "gpc", "withdrawal"
    effective: Mapping[str, bool]  # the categories in force after the change
    limit_sensitive: bool
    user_agent_hash: str | None

    def __post_init__(self) -> None:
        _check_text("record_id", self.record_id, max_length=MAX_RECORD_ID_LENGTH)
        _check_text("consent_id", self.consent_id)
        _check_text("policy_version", self.policy_version, allow_empty=True)
        _check_text("mode", self.mode)
        _check_text("source", self.source)
        if self.user_agent_hash is not None:
            _check_text("user_agent_hash", self.user_agent_hash)
        if self.kind not in _EVENT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(_EVENT_KINDS)}, got {self.kind!r}")
        for name in ("gpc", "limit_sensitive"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool")
        object.__setattr__(self, "time", _utc(self.time, "time"))
        if self.chosen is not None:
            object.__setattr__(self, "chosen", _categories(self.chosen, "chosen"))
        object.__setattr__(self, "effective", _categories(self.effective, "effective"))

    @classmethod
    def from_event(cls, event: ConsentEvent, *, record_id: str | None = None) -> ConsentRecord:
        """The record of ``event``, under a new random ``record_id`` unless one is given.

        The categories are copied, so later changes to the event's mappings do not reach
        the record. Raises ``ValueError`` if the event cannot be stored (see the class).
        """
        return cls(
            # 128 random bits, as in a UUID4, without the cost of making a UUID object.
            record_id=os.urandom(16).hex() if record_id is None else record_id,
            consent_id=event.consent_id,
            time=event.time,
            kind=event.kind,
            policy_version=event.policy_version,
            mode=event.mode,
            source=event.source,
            gpc=event.gpc,
            chosen=event.chosen,
            effective=event.effective,
            limit_sensitive=event.limit_sensitive,
            user_agent_hash=event.user_agent_hash,
        )

    def to_json(self) -> str:
        """One line of JSON (no newline) with every field; ``time`` in ISO 8601, UTC."""
        return json.dumps(
            {
                "record_id": self.record_id,
                "consent_id": self.consent_id,
                "time": _iso(self.time),
                "kind": self.kind,
                "policy_version": self.policy_version,
                "mode": self.mode,
                "source": self.source,
                "gpc": self.gpc,
                "limit_sensitive": self.limit_sensitive,
                "chosen": None if self.chosen is None else dict(sorted(self.chosen.items())),
                "effective": dict(sorted(self.effective.items())),
                "user_agent_hash": self.user_agent_hash,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str | bytes) -> ConsentRecord:
        """The record written by :meth:`to_json`. Raises ``ValueError`` on anything else.

        Every field must be present and no other: a record is evidence, and a field this
        version does not know must not be dropped silently.
        """
        try:
            data = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a JSON consent record: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON consent record: expected an object")
        missing = [name for name in _JSON_FIELDS if name not in data]
        unknown = sorted(set(data) - set(_JSON_FIELDS))
        if missing or unknown:
            raise ValueError(
                "not a JSON consent record:"
                + (f" missing {', '.join(missing)}" if missing else "")
                + (f" unknown {', '.join(unknown)}" if unknown else "")
            )
        time_text = data["time"]
        if not isinstance(time_text, str):
            raise ValueError("time must be an ISO 8601 string")
        return cls(**{**data, "time": _parse_iso(time_text, "time")})


def _check_text(
    name: str, value: object, *, allow_empty: bool = False, max_length: int = MAX_TEXT_LENGTH
) -> None:
    """Refuse what a database would refuse, so that no record can block the writer."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    # PostgreSQL text cannot hold NUL; no driver can encode a lone surrogate.
    if "\x00" in value:
        raise ValueError(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode text") from None


def _categories(value: object, name: str) -> Mapping[str, bool]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a mapping of category to bool")
    copy = dict(value)  # a snapshot: later changes to the event's mapping do not reach us
    for category, allowed in copy.items():
        _check_text(f"{name} category name", category)
        if not isinstance(allowed, bool):
            raise ValueError(f"{name}[{category!r}] must be a bool")
    return MappingProxyType(copy)


def _utc(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00
        raise ValueError(f"{name} is out of range in UTC") from None


def _iso(value: datetime) -> str:
    # Fixed width (microseconds always present, +00:00 offset), so that the text sorts as
    # the time does: the SQLite column is compared as text.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_iso(text: str, name: str) -> datetime:
    if text.endswith("z"):  # RFC 3339 allows a lower-case "z"; fromisoformat does not
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} is not an ISO 8601 date-time: {text!r}") from None
    return _utc(value, name)


def _categories_text(categories: Mapping[str, bool] | None) -> str | None:
    """Canonical JSON (sorted keys, no spaces) of a category map.

    Built by hand for plain names: ``json.dumps`` with options costs more than the rest
    of the row.
    """
    if categories is None:
        return None
    items = sorted(categories.items())
    if all(k.isascii() and k.isidentifier() for k, _ in items):  # category names: nothing to escape
        return "{" + ",".join(f'"{k}":{"true" if v else "false"}' for k, v in items) + "}"
    return json.dumps(dict(items), sort_keys=True, separators=(",", ":"))


def _categories_from_text(text: str | None) -> dict[str, bool] | None:
    if text is None:
        return None
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("stored categories are not a JSON object")
    return value


def _record_row(record: ConsentRecord) -> dict[str, Any]:
    """The column values of ``record`` (categories as canonical JSON text)."""
    return {
        "record_id": record.record_id,
        "consent_id": record.consent_id,
        "time": record.time,
        "kind": record.kind,
        "policy_version": record.policy_version,
        "mode": record.mode,
        "source": record.source,
        "gpc": record.gpc,
        "limit_sensitive": record.limit_sensitive,
        "chosen": _categories_text(record.chosen),
        "effective": _categories_text(record.effective),
        "user_agent_hash": record.user_agent_hash,
    }


def _record_from_row(row: Mapping[str, Any]) -> ConsentRecord:
    """The record stored as ``row`` (as made by :func:`_record_row`)."""
    effective = _categories_from_text(row["effective"])
    if effective is None:
        raise ValueError("stored record has no effective categories")
    return ConsentRecord(
        record_id=row["record_id"],
        consent_id=row["consent_id"],
        time=row["time"],
        kind=row["kind"],
        policy_version=row["policy_version"],
        mode=row["mode"],
        source=row["source"],
        gpc=bool(row["gpc"]),
        limit_sensitive=bool(row["limit_sensitive"]),
        chosen=_categories_from_text(row["chosen"]),
        effective=effective,
        user_agent_hash=row["user_agent_hash"],
    )


def _check_filters(since: datetime | None, consent_id: str | None) -> datetime | None:
    if consent_id is not None:
        _check_text("consent_id", consent_id)
    return None if since is None else _utc(since, "since")
