"""The IAB signals that research crawlers and browser extensions read: US Privacy and GPP strings.

- US Privacy (CCPA framework, ``1YYN``): version ``1``, notice given ``Y``,
  opted out of sale ``Y``/``N``, LSPA covered ``N``.
- GPP (Global Privacy Platform) with the US National section (id 7, version 1)
  and its GPC subsection. Fields are 2-bit values (0 not applicable, 1 yes /
  opted out, 2 no); the header's section list is Fibonacci-coded; every part is
  padded to whole bytes, then written 6 bits per character in the base64url
  alphabet (GPP specification, "Consent String Specification" and "US National
  Privacy Technical Specification").
"""

from __future__ import annotations

from typing import Final

from .consent import Consent

_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
US_NATIONAL_SECTION_ID: Final = 7


def us_privacy_string(consent: Consent) -> str:
    """``1Y?N``: the third character is ``Y`` once targeting (sale/sharing) is off."""
    return consent.us_privacy


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


def gpp_string(consent: Consent) -> str:
    """A GPP string with the US National section stating the effective opt-outs and GPC."""
    opted_out = 2 if consent.categories["targeting"] else 1
    notice = 1  # the site gives these notices: its policy and the do-not-sell page
    fields = [
        notice,  # SharingNotice
        notice,  # SaleOptOutNotice
        notice,  # SharingOptOutNotice
        notice,  # TargetedAdvertisingOptOutNotice
        0,  # SensitiveDataProcessingOptOutNotice
        0,  # SensitiveDataLimitUseNotice
        opted_out,  # SaleOptOut
        opted_out,  # SharingOptOut
        opted_out,  # TargetedAdvertisingOptOut
    ]
    bits = f"{1:06b}" + "".join(f"{v:02b}" for v in fields)
    bits += "00" * 12  # SensitiveDataProcessing (12 fields)
    bits += "00" * 2  # KnownChildSensitiveDataConsents
    bits += "00"  # PersonalDataConsents
    bits += f"{2:02b}{0:02b}{0:02b}"  # MspaCoveredTransaction: no; the two MSPA modes: n/a
    gpc = _encode("01" + ("1" if consent.gpc_honored else "0"))  # subsection type 1: GPC
    return f"{_header([US_NATIONAL_SECTION_ID])}~{_encode(bits)}.{gpc}"


def _decode(text: str) -> str:
    return "".join(f"{_ALPHABET.index(char):06b}" for char in text)


def read_us_national(gpp: str) -> dict[str, int | bool]:
    """The opt-out fields and the GPC flag of a GPP string's US National section (for checkers).

    Raises ``ValueError`` when the string has no US National section it can read.
    """
    try:
        header, *sections = gpp.split("~")
        bits = _decode(header)
        if (
            int(bits[0:6], 2) != 3
            or int(bits[12:24], 2) != 1
            or bits[24] != "0"
            or not bits[25:].startswith("01011")
        ):
            raise ValueError("only a GPP string with the US National section alone is read here")
        core, _, gpc = sections[0].partition(".")
        core_bits = _decode(core)
        if int(core_bits[0:6], 2) != 1:
            raise ValueError("unknown US National section version")
        fields = [int(core_bits[i : i + 2], 2) for i in range(6, 24, 2)]
        gpc_bits = _decode(gpc) if gpc else ""
    except (IndexError, ValueError) as exc:
        raise ValueError(f"not a readable GPP string: {gpp!r} ({exc})") from None
    return {
        "SaleOptOut": fields[6],
        "SharingOptOut": fields[7],
        "TargetedAdvertisingOptOut": fields[8],
        "Gpc": gpc_bits[:3] == "011",
    }
