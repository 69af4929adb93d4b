"""The IAB signals that ad tech, research crawlers and browser extensions read: US Privacy and GPP.

How it works
------------
- **Jurisdiction.** The US sections apply to a visitor in ``opt-out`` mode (the US model:
  CCPA and the state laws). In ``opt-in`` mode (GDPR, PIPA: consent first) no US section
  applies: US Privacy is ``1---`` (the CCPA framework's "not applicable") and the GPP
  string has no section, with ``applicableSections`` ``[-1]``. A site that serves both
  picks the mode per visitor (``mode_from_country_header``).
- **US Privacy** (CCPA framework): version ``1``, notice given ``Y``, opted out of sale
  ``Y`` once targeting (sale and sharing) is off, LSPA covered ``N``.
- **GPP** (Global Privacy Platform): a header (type 3, version 1, the section ids
  Fibonacci-coded), then the MSPA US National section (id 7, ``usnat``) at **version 2**:
  six notices, three opt-outs, 16 sensitive-data and 3 known-child consent fields,
  ``PersonalDataConsents`` and the three MSPA fields, each 2 bits (0 not applicable); then
  its GPC subsection (type 1) carrying the signal **as received** on this request (header,
  or the JavaScript API as the widget reads it), not whether it was honoured. Every part
  is padded to whole bytes, then written 6 bits per character in the base64url alphabet
  ("Consent String Specification"; "MSPA US National Technical Specification" v2.0).
- **What the site offers** sets the notices: the do-not-sell page offers "Do Not Sell or
  Share" (sale, sharing and targeted-advertising opt-out notices ``1``) and "Limit the Use
  of My Sensitive Personal Information" (``SensitiveDataProcessingOptOutNotice`` and
  ``SensitiveDataLimitUseNotice`` ``1``). After a limit request every
  ``SensitiveDataProcessing`` field is ``1`` ("no consent"); before it they are ``0``
  (the middleware knows of no sensitive processing and claims no consent it did not ask
  for). The site is not an MSPA signatory: ``MspaCoveredTransaction`` ``2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .consent import Consent

_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
US_NATIONAL_SECTION_ID: Final = 7
US_NATIONAL_VERSION: Final = 2
#: ``applicableSections`` when no section applies (GPP CMP API: the CMP cannot name one).
NO_APPLICABLE_SECTION: Final = -1
#: US Privacy for a visitor outside the CCPA framework's scope.
US_PRIVACY_NOT_APPLICABLE: Final = "1---"

#: (field, width in 2-bit values) of the US National core segment, version 2, in order.
_CORE_V2: Final = (
    ("SharingNotice", 1),
    ("SaleOptOutNotice", 1),
    ("SharingOptOutNotice", 1),
    ("TargetedAdvertisingOptOutNotice", 1),
    ("SensitiveDataProcessingOptOutNotice", 1),
    ("SensitiveDataLimitUseNotice", 1),
    ("SaleOptOut", 1),
    ("SharingOptOut", 1),
    ("TargetedAdvertisingOptOut", 1),
    ("SensitiveDataProcessing", 16),
    ("KnownChildSensitiveDataConsents", 3),
    ("PersonalDataConsents", 1),
    ("MspaCoveredTransaction", 1),
    ("MspaOptOutOptionMode", 1),
    ("MspaServiceProviderMode", 1),
)
# Version 1 had 12 sensitive-data and 2 known-child fields (read, for audits of other sites).
_CORE_V1: Final = tuple(
    (name, {"SensitiveDataProcessing": 12, "KnownChildSensitiveDataConsents": 2}.get(name, n))
    for name, n in _CORE_V2
)

_LIST_FIELDS: Final = frozenset({"SensitiveDataProcessing", "KnownChildSensitiveDataConsents"})

UsNatFields = Mapping[str, int | bool | list[int]]


@dataclass(frozen=True, slots=True)
class IabSignals:
    """The IAB strings for one visitor, and what a CMP API answers about them.

    ``usnat`` holds the US National section's fields as the IAB's JavaScript library
    names and types them (``getSection("usnat")``), or ``None`` when it does not apply.
    """

    usprivacy: str
    gpp: str
    applicable_sections: tuple[int, ...]
    usnat: UsNatFields | None

    def to_json(self) -> dict[str, object]:
        """What the widget needs to answer ``__uspapi`` and ``__gpp`` without decoding."""
        return {
            "usprivacy": self.usprivacy,
            "gpp": self.gpp,
            "applicableSections": list(self.applicable_sections),
            "sectionList": [US_NATIONAL_SECTION_ID] if self.usnat is not None else [],
            "parsedSections": {"usnat": dict(self.usnat)} if self.usnat is not None else {},
        }


def us_privacy_applies(consent: Consent) -> bool:
    """Whether the US sections apply to this visitor: in ``opt-out`` mode (see the module docs)."""
    return consent.mode == "opt-out"


def us_privacy_string(consent: Consent) -> str:
    """``1Y?N`` (the third character ``Y`` once targeting is off), or ``1---`` in opt-in mode."""
    return consent.us_privacy


def us_national_fields(consent: Consent) -> dict[str, int | bool | list[int]]:
    """The US National (version 2) fields for ``consent``, GPC subsection included."""
    opted_out = 2 if consent.categories["targeting"] else 1  # 1 opted out, 2 did not
    sensitive = 1 if consent.limit_sensitive else 0  # 1 no consent, 0 not applicable
    return {
        "Version": US_NATIONAL_VERSION,
        "SharingNotice": 1,  # the banner and the pages describe the processing
        "SaleOptOutNotice": 1,  # the do-not-sell page
        "SharingOptOutNotice": 1,
        "TargetedAdvertisingOptOutNotice": 1,
        "SensitiveDataProcessingOptOutNotice": 1,  # its "Limit the Use..." action
        "SensitiveDataLimitUseNotice": 1,
        "SaleOptOut": opted_out,
        "SharingOptOut": opted_out,
        "TargetedAdvertisingOptOut": opted_out,
        "SensitiveDataProcessing": [sensitive] * 16,
        "KnownChildSensitiveDataConsents": [0, 0, 0],
        "PersonalDataConsents": 0,
        "MspaCoveredTransaction": 2,  # not an MSPA signatory's covered transaction
        "MspaOptOutOptionMode": 0,
        "MspaServiceProviderMode": 0,
        "GpcSegmentType": 1,
        "Gpc": consent.gpc,  # the signal as received, not whether it was honoured
    }


def iab_signals(consent: Consent) -> IabSignals:
    """Both strings for ``consent``, with ``applicableSections`` and the parsed section."""
    if not us_privacy_applies(consent):
        return IabSignals(US_PRIVACY_NOT_APPLICABLE, _header([]), (NO_APPLICABLE_SECTION,), None)
    fields = us_national_fields(consent)
    return IabSignals(
        us_privacy_string(consent),
        encode_us_national(fields),
        (US_NATIONAL_SECTION_ID,),
        fields,
    )


def gpp_string(consent: Consent) -> str:
    """The GPP string for ``consent``: the US National section in opt-out mode, none in opt-in."""
    return iab_signals(consent).gpp


def encode_us_national(fields: UsNatFields) -> str:
    """A GPP string holding one US National (version 2) section with its GPC subsection."""
    bits = f"{US_NATIONAL_VERSION:06b}"
    for name, count in _CORE_V2:
        value = fields[name]
        values = value if isinstance(value, list) else [value]
        if len(values) != count or any(not 0 <= int(v) <= 3 for v in values):
            raise ValueError(f"{name} must be {count} value(s) from 0 to 3, not {value!r}")
        bits += "".join(f"{int(v):02b}" for v in values)
    gpc = _encode("01" + ("1" if fields["Gpc"] else "0"))  # subsection type 1: GPC
    return f"{_header([US_NATIONAL_SECTION_ID])}~{_encode(bits)}.{gpc}"


def _encode(bits: str) -> str:
    bits += "0" * (-len(bits) % 8)  # whole bytes first...
    bits += "0" * (-len(bits) % 6)  # ...then whole characters
    return "".join(_ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def _fibonacci(value: int) -> str:
    """Fibonacci coding of a positive integer (Zeckendorf digits, smallest first, then a closing 1)."""
    fibs = [1, 2]
    while fibs[-1] <= value:
        fibs.append(fibs[-1] + fibs[-2])
    digits = ["0"] * (len(fibs) - 1)
    remaining = value
    for i in range(len(fibs) - 2, -1, -1):
        if fibs[i] <= remaining:
            digits[i] = "1"
            remaining -= fibs[i]
    return "".join(digits).rstrip("0") + "1"


def _header(section_ids: list[int]) -> str:
    bits = f"{3:06b}{1:06b}{len(section_ids):012b}"  # type 3 (header), version 1, entries
    previous = 0
    for section_id in section_ids:
        bits += "0" + _fibonacci(section_id - previous)  # single ids, each an offset from the last
        previous = section_id
    return _encode(bits)


def _decode(text: str) -> str:
    return "".join(f"{_ALPHABET.index(char):06b}" for char in text)


def _read_fibonacci(bits: str, start: int) -> tuple[int, int]:
    """The Fibonacci-coded integer at ``start``, and where the next field begins."""
    fibs = [1, 2]
    value, i = 0, start
    while True:
        if bits[i] == "1" and i > start and bits[i - 1] == "1":
            return value, i + 1
        if bits[i] == "1":
            while len(fibs) <= i - start:
                fibs.append(fibs[-1] + fibs[-2])
            value += fibs[i - start]
        i += 1


def read_section_ids(header: str) -> list[int]:
    """The section ids a GPP header lists, in order (singles and ranges)."""
    bits = _decode(header)
    if int(bits[0:6], 2) != 3 or int(bits[6:12], 2) != 1:
        raise ValueError("not a GPP header (type 3, version 1)")
    ids: list[int] = []
    position, previous = 24, 0
    for _ in range(int(bits[12:24], 2)):
        is_range = bits[position] == "1"
        offset, position = _read_fibonacci(bits, position + 1)
        first = previous + offset
        last = first
        if is_range:
            length, position = _read_fibonacci(bits, position)
            last = first + length
        ids.extend(range(first, last + 1))
        previous = last
    return ids


def read_us_national(gpp: str) -> dict[str, int | bool | list[int]]:
    """The fields of a GPP string's US National section (version 1 or 2), ``Gpc`` included.

    For checkers reading other sites' strings. Raises ``ValueError`` when the string has
    no US National section it can read.
    """
    try:
        header, *sections = gpp.split("~")
        ids = read_section_ids(header)
        if US_NATIONAL_SECTION_ID not in ids or len(sections) != len(ids):
            raise ValueError("no US National section")
        core, _, gpc = sections[ids.index(US_NATIONAL_SECTION_ID)].partition(".")
        bits = _decode(core)
        version = int(bits[0:6], 2)
        if version not in (1, 2):
            raise ValueError(f"unknown US National section version {version}")
        fields: dict[str, int | bool | list[int]] = {"Version": version}
        position = 6
        for name, count in _CORE_V2 if version == 2 else _CORE_V1:
            if len(bits) < position + 2 * count:
                raise ValueError("the core segment is too short")
            values = [int(bits[position + 2 * i : position + 2 * i + 2], 2) for i in range(count)]
            position += 2 * count
            fields[name] = values if name in _LIST_FIELDS else values[0]
        gpc_bits = _decode(gpc) if gpc else ""
    except (IndexError, ValueError) as exc:
        raise ValueError(f"not a readable GPP string: {gpp!r} ({exc})") from None
    if gpc_bits[:2] == "01":  # the GPC subsection
        fields["GpcSegmentType"] = 1
    fields["Gpc"] = gpc_bits[:3] == "011"
    return fields
