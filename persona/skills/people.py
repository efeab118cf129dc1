"""Who a message names: the owner's people by full name, first name or address, and raw addresses.

A first name shared by two people is not a guess: it comes back with both candidates, and the skill
asks which one. Lower-case names count too ("grab 45 w/ jordan"), except those that are also common
words ("will", "may"), which must be capitalised to count as a name.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from persona.profile import Profile

ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")  # an e-mail address in running text
# first names that are also everyday words: only a capitalised one is read as a name
_WORDS = {
    "will",
    "may",
    "mark",
    "bill",
    "rose",
    "june",
    "april",
    "grace",
    "hope",
    "joy",
    "frank",
    "jack",
    "sue",
    "pat",
    "ray",
    "dawn",
    "summer",
    "art",
    "max",
    "sage",
    "faith",
    "sky",
    "rich",
    "chase",
    "page",
    "gene",
    "don",
    "eve",
    "ken",
    "dean",
    "drew",
    "lane",
    "case",
    "bob",
    "rob",
    "sunny",
    "autumn",
    "amber",
    "ruby",
    "crystal",
}


_SELF = {"me", "myself", "i", "you", "us", "we", "her", "him", "them"}


class Named(BaseModel):
    """One mention in the text and the people it may mean (one when it is clear)."""

    said: str
    start: int
    candidates: list[str]  # addresses; the owner's own address when the owner is named

    @property
    def clear(self) -> bool:
        return len(self.candidates) == 1


def _names(name: str) -> list[str]:
    """How a person may be called: the full name, the first name, the last name."""
    parts = name.split()
    return list(dict.fromkeys([name, parts[0], *(parts[-1:] if len(parts) > 1 else [])]))


class _NameIndex:
    """Every way the profile's people (and the owner) may be named, in one pass over a text: a longest-
    first alternation, case-blind except for names that are also everyday words."""

    def __init__(self, profile: Profile):
        everyone = [(profile.owner.name, profile.owner.emails[0])]
        everyone += [(p.name, p.emails[0]) for p in profile.people if p.emails]
        self.addresses: dict[str, list[str]] = {}
        spelled: dict[str, str] = {}  # lower-case name -> as the profile writes it
        for name, address in everyone:
            for said in _names(name):
                self.addresses.setdefault(said.lower(), [])
                if address not in self.addresses[said.lower()]:
                    self.addresses[said.lower()].append(address)
                spelled.setdefault(said.lower(), said)
        ordered = sorted(spelled.values(), key=len, reverse=True)
        self.pattern = self._alternation([n for n in ordered if n.lower() not in _WORDS], re.IGNORECASE)
        self.cased = self._alternation([n for n in ordered if n.lower() in _WORDS], 0)

    @staticmethod
    def _alternation(names: list[str], flags: int) -> re.Pattern[str] | None:
        if not names:
            return None
        return re.compile(rf"(?<![\w@.])(?:{'|'.join(re.escape(n) for n in names)})(?='s\b|(?![\w@]))", flags)


_INDEXES: dict[int, tuple[Profile, _NameIndex]] = {}  # by id, holding the profile so its id stays its own


def _index(profile: Profile) -> _NameIndex:
    kept = _INDEXES.get(id(profile))
    if kept is None or kept[0] is not profile:
        if len(_INDEXES) >= 16:
            _INDEXES.pop(next(iter(_INDEXES)))
        kept = _INDEXES[id(profile)] = (profile, _NameIndex(profile))
    return kept[1]


def people_named(profile: Profile, text: str) -> list[Named]:
    """Every person the text names, in order of mention; a full name wins over a first name inside it."""
    index = _index(profile)
    found: list[Named] = []
    taken: list[range] = []

    def add(said: str, start: int, end: int, candidates: list[str]) -> None:
        if any(start in r for r in taken):
            return
        taken.append(range(start, end))
        if not any(set(n.candidates) == set(candidates) for n in found):
            found.append(Named(said=said, start=start, candidates=candidates))

    for match in ADDRESS.finditer(text):
        add(match.group(0), match.start(), match.end(), [match.group(0).lower()])
    for pattern in (index.pattern, index.cased):
        for match in pattern.finditer(text) if pattern else ():
            add(match.group(0), match.start(), match.end(), index.addresses[match.group(0).lower()])
    return sorted(found, key=lambda n: n.start)


def name_of(profile: Profile, address: str) -> str:
    """The person's name for an address, or the address itself."""
    if profile.is_owner(address):
        return profile.owner.name
    person = profile.person_for(address)
    return person.name if person else address


def resolve(profile: Profile, said: list[str], *, leave_out: set[str] = frozenset()) -> tuple[list[str], str]:
    """Addresses for what a request calls people ("Sofia", "priya.raman@…"), and a question when one of
    them is unclear: a name two people share, or a name nobody in the profile has."""
    addresses: list[str] = []
    for words in said:
        if words.strip().lower() in _SELF:
            continue
        named = [n for n in people_named(profile, words) if not set(n.candidates) & leave_out]
        if not named:
            if not any(
                profile.is_owner(c) or c in leave_out
                for n in people_named(profile, words)
                for c in n.candidates
            ):
                return [], f"I don't know who {words.strip()} is. What is their email address?"
            continue
        for mention in named:
            if not mention.clear:
                names = " or ".join(name_of(profile, c) for c in mention.candidates)
                return [], f"Which {mention.said} do you mean: {names}?"
            addresses.append(mention.candidates[0])
    return list(dict.fromkeys(a for a in addresses if a not in leave_out)), ""
