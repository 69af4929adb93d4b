"""The four consent categories every part of the package speaks of.

``essential`` is always allowed: it covers what the site cannot work without
(the session, the CSRF token, this package's own consent cookie) and the
visitor cannot refuse it. The other three are the choices a visitor makes.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Category = Literal["essential", "analytics", "preference", "targeting"]

CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)
#: The categories a visitor can turn on and off (all but ``essential``).
OPTIONAL_CATEGORIES: Final[tuple[Category, ...]] = ("analytics", "preference", "targeting")


def check_category(name: str) -> Category:
    """Return ``name`` as a :data:`Category`, or raise ``ValueError`` naming the valid ones."""
    if name not in CATEGORIES:
        raise ValueError(
            f"unknown consent category {name!r}; expected one of {', '.join(CATEGORIES)}"
        )
    return name
