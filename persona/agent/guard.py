"""Last checks on an answer before it leaves: boundaries the owner set, and owner-only facts.

Retrieval already filters memory by audience, so the model never sees what the asker may not. These
checks are the second wall, for what a model could still produce (hallucinated or echoed details).
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from persona.events import Principal
from persona.profile import Boundary, Profile

# Figures, amounts, dates and codes: the details whose leak matters and whose match is unambiguous.
_DETAIL = re.compile(r"[€$£]?\d[\d,.:/\-]*\d(?:k\b)?|\b[A-Z]{2,}-?\d+\b")
_MIN_DIGITS = 3  # "1:1" or "10" are everyday words; "148,500", "2026-12-04" and "HR-7741" are details


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def boundary_for(profile: Profile, principal: Principal, *texts: str) -> Boundary | None:
    """The first boundary that forbids this principal the topic any of `texts` touches."""
    if principal.is_owner:
        return None
    selectors = {principal.role.value, principal.address}
    words = set().union(*(_words(t) for t in texts))
    joined = " ".join(t.lower() for t in texts)
    for boundary in profile.boundaries:
        if not selectors & {s.lower() for s in boundary.never_with}:
            continue
        terms = boundary.keywords or [boundary.topic]
        for term in terms:
            term = term.lower().strip()
            if (" " in term and term in joined) or term in words:
                return boundary
    return None


def details(text: str) -> set[str]:
    found = (m.group(0).rstrip(".,") for m in _DETAIL.finditer(text))
    return {d for d in found if sum(c.isdigit() for c in d) >= _MIN_DIGITS}


def leaked_details(answer: str, private_texts: list[str], allowed_text: str) -> set[str]:
    """Details in the answer that memory holds only in places this audience may not see."""
    private = set().union(*(details(text) for text in private_texts)) if private_texts else set()
    return (details(answer) & private) - details(allowed_text)


def unsupported_details(answer: str, sources: str) -> set[str]:
    """Details in the answer that no source holds, even written another way ("05:00-07:00" for
    "05:00–07:00", "2026-12-06" for "6 December"): the model made them up."""
    digits = re.sub(r"\D", "", sources)
    lowered = sources.lower()
    return {d for d in details(answer) if re.sub(r"\D", "", d) not in digits and not _day_named(d, lowered)}


def _day_named(detail: str, lowered: str) -> bool:
    try:
        day = date.fromisoformat(detail)
    except ValueError:
        return False
    month = calendar.month_name[day.month].lower()
    return f"{day.day} {month}" in lowered or f"{month} {day.day}" in lowered
