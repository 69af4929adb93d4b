"""Consent precedence: from a request's signal and cookie to the effective consent.

How it works
------------
1. Start from the mode's defaults: ``opt-in`` allows only ``essential``;
   ``opt-out`` allows everything.
2. A valid cookie holding a choice made under the current ``policy_version``
   replaces the defaults. A choice made under an older version is ignored: the
   policy changed, so the visitor is asked again.
3. A GPC signal, on this request or recorded in the cookie by an earlier one,
   turns every category in ``policy.gpc_categories`` off. The absence of the
   signal after it was sent is not consent to opt back in (CCPA regulations
   section 7025(c)(5), Colorado rule 6.09(B)), so a recorded signal survives a
   policy change too. Only an explicit choice made on a request *without* the
   signal clears the record (the consent after notice that section 7025(c)(3)
   allows); while the signal is present, it always wins.
4. The first response to a request carrying the signal records it in the cookie
   (``Decision.record_gpc``), which produces a ``"gpc"`` consent event.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from ..core.categories import OPTIONAL_CATEGORIES, Category
from ..core.consent import Consent, Mode, category_map
from ..core.consent_cookie import ConsentState, new_consent_id
from .policy import ConsentPolicy

_ALL_OPTIONAL: frozenset[Category] = frozenset(OPTIONAL_CATEGORIES)
_NONE: frozenset[Category] = frozenset()


class Decision(NamedTuple):
    """Everything the middleware decided about one request before the app runs.

    ``state`` is the verified cookie (``None`` when missing or invalid), whatever
    its policy version. ``record_gpc`` says the response must record the signal.
    """

    consent: Consent
    state: ConsentState | None
    mode: Mode
    record_gpc: bool

    def recorded_state(self, policy: ConsentPolicy) -> ConsentState:
        """The state to store once the GPC signal of this request is recorded."""
        return state_with_gpc(self.state, policy, gpc=True)


def effective_consent(
    policy: ConsentPolicy, state: ConsentState | None, *, mode: Mode, signal: bool
) -> Consent:
    """The consent in force for a cookie ``state`` and a request's GPC ``signal``."""
    if state is None:
        return _consent(
            policy.policy_version, policy.gpc_categories, None, False, False, mode, signal
        )
    current = state.policy_version == policy.policy_version
    return _consent(
        policy.policy_version,
        policy.gpc_categories,
        state.choice if current else None,
        state.gpc,
        state.limit_sensitive,
        mode,
        signal,
    )


@lru_cache(maxsize=1024)
def _consent(
    policy_version: str,
    gpc_categories: Sequence[Category],
    choice: frozenset[Category] | None,
    recorded_gpc: bool,
    limit_sensitive: bool,
    mode: Mode,
    signal: bool,
) -> Consent:
    # Consent values are few (choices x signals x modes) and immutable: each is made once and
    # shared, so a visitor's first request does not pay for building one.
    decided = choice is not None
    allowed = set(choice if choice is not None else _ALL_OPTIONAL if mode == "opt-out" else _NONE)
    gpc_active = signal or recorded_gpc
    if gpc_active:
        allowed.difference_update(gpc_categories)
    honored = gpc_active and bool(gpc_categories)
    return Consent(
        categories=category_map(allowed),
        gpc=signal,
        gpc_honored=honored,
        decided=decided,
        source="gpc" if honored else ("user" if decided else "default"),
        policy_version=policy_version,
        mode=mode,
        limit_sensitive=limit_sensitive,
    )


def state_with_gpc(state: ConsentState | None, policy: ConsentPolicy, *, gpc: bool) -> ConsentState:
    """``state`` with the GPC record set or cleared; a new state (fresh consent id) when there is none.

    A choice made under an older policy version is dropped: it no longer counts.
    """
    if state is None:
        return ConsentState(
            consent_id=new_consent_id(), policy_version=policy.policy_version, gpc=gpc
        )
    if state.policy_version != policy.policy_version:
        return ConsentState(
            consent_id=state.consent_id,
            policy_version=policy.policy_version,
            gpc=gpc or state.gpc,
            limit_sensitive=state.limit_sensitive,
        )
    return state._replace(gpc=gpc or state.gpc)


def state_with_choice(
    state: ConsentState | None,
    policy: ConsentPolicy,
    choice: frozenset[Category],
    *,
    signal: bool,
    limit_sensitive: bool | None = None,
) -> ConsentState:
    """The state after the visitor chose ``choice`` on a request with or without a GPC ``signal``.

    A choice made without the signal clears a recorded one (the visitor opted
    back in after notice); a choice made with it keeps the record.
    """
    return ConsentState(
        consent_id=state.consent_id if state is not None else new_consent_id(),
        policy_version=policy.policy_version,
        choice=choice,
        chosen_at=int(time.time()),
        gpc=signal,
        limit_sensitive=(
            limit_sensitive
            if limit_sensitive is not None
            else (state is not None and state.limit_sensitive)
        ),
    )
