"""What a decision about a tag says: :class:`Decision` (a verdict with why) and the
:class:`RemovalEvent` reported for each element removed, made inert or edited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from ..core.categories import Category
from .tokenizer import KEEP, Verdict

__all__ = ["KEEP_DECISION", "Decision", "Mode", "RemovalEvent"]

Mode = Literal["strip", "neutralize"]


@dataclass(frozen=True, slots=True)
class RemovalEvent:
    """One element removed (``action="removed"``), made inert (``"neutralized"``), or
    kept without what it loaded by the way (``"edited"``: attributes taken out).

    ``start``/``end`` are byte offsets in the input stream: the element's ``<`` and one
    past its last byte (for a neutralized or edited element, past its rewritten start tag).
    """

    tag: str
    category: Category
    categories: frozenset[Category]
    reason: str  # host:..., signature:..., marker:..., consent:attr=value, srcdoc:..., data:...
    vendor: str
    start: int
    end: int
    action: Literal["removed", "neutralized", "edited"]
    in_template: bool


class Decision(Verdict):
    """A :class:`Verdict` with why: the categories, the reason and the vendor.

    ``google``: a Google tag, before which the Consent Mode snippet goes (the verdict's
    ``prefix``); ``marked``: decided by a consent-manager attribute; ``activate``: the
    new start tag switches an inert element on; ``edited``: the new start tag is the
    element's without what it loaded by the way.
    """

    __slots__ = ("activate", "categories", "edited", "marked", "reason", "vendor")

    def __init__(
        self,
        action: int,
        categories: frozenset[Category] = frozenset(),
        reason: str = "",
        vendor: str = "",
        new_tag: bytes = b"",
        *,
        google: bool = False,
        marked: bool = False,
        activate: bool = False,
        edited: bool = False,
    ) -> None:
        super().__init__(action, new_tag, prefix=google, watch=google or marked)
        self.categories = categories
        self.reason = reason
        self.vendor = vendor
        self.marked = marked
        self.activate = activate
        self.edited = edited


KEEP_DECISION: Final = Decision(KEEP)
