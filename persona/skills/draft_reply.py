"""Draft a reply in the owner's voice, threaded, to the sender only.

Prompt: the stable persona prefix, the audience line, the owner's past mail as earlier turns (similar
mail and mail to the same person), facts the sender may see, the incoming mail in <message> tags, and
a last line naming who writes to whom. The output is checked; one retry with a note on what was
wrong, then a short holding reply (`fallback=True`) that promises an answer and commits to nothing.
"""

from __future__ import annotations

import hashlib
import re
from difflib import SequenceMatcher
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from persona.channels.email.base import IncomingMail
from persona.errors import PersonaError
from persona.events import Principal
from persona.profile import Audience
from persona.skills.claims import unsourced_times
from persona.skills.meeting_request import MeetingConstraints, parse_meeting_request
from persona.skills.prompt import audience_line, context_block, exemplar_turns, first_name, persona_prefix
from persona.skills.propose_meeting import free_slots
from persona.skills.schedule import Slot

if TYPE_CHECKING:
    from persona.app import App
    from persona.memory.style import StyleCard

_BODY_CHARS = 2000
_REFUSAL = re.compile(r"\b(I can(?:'|no)t (?:assist|help) with|I'?m (?:sorry|unable)[^.]{0,40}\b(?:assist|help)"
                      r"|as an AI\b|language model)", re.IGNORECASE)
_MEETING = re.compile(r"\b(meet(?:ing)?|(?<!-)call|sync|catch up|schedule|availability|available|calendar|slot|"
                      r"invite|appointment)\b", re.IGNORECASE)
# "can we find 45 minutes next Tuesday?" asks for a meeting without naming one: a length and a day.
_DURATION = re.compile(r"\b(?:\d+|half an?|an?)\s*-?\s*(?:min(?:ute)?s?|hours?)\b", re.IGNORECASE)
_DAY = re.compile(r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b|\btomorrow\b|\bnext week\b",
                  re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n\s*\n")
_GREETING = re.compile(r"^\s*(hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[ ,]*(\w+)?", re.IGNORECASE)


class Draft(BaseModel):
    to: str
    subject: str
    body: str
    in_reply_to: str = ""
    references: list[str] = []
    fallback: bool = False  # the model's answers failed the checks twice: a holding reply was used
    # What the mail asks for when it asks to meet, and the free slot the draft proposes.
    meeting: MeetingConstraints | None = None
    slot: Slot | None = None


def reply_message_id(incoming_id: str, owner_address: str) -> str:
    """The reply's Message-ID, derived from the incoming one: a rerun finds the same draft."""
    digest = hashlib.sha256(incoming_id.encode()).hexdigest()[:24]
    return f"<twin-{digest}@{owner_address.rpartition('@')[2] or 'persona.local'}>"


def _asks_to_meet(sentence: str) -> bool:
    return bool(_MEETING.search(sentence) or (_DURATION.search(sentence) and _DAY.search(sentence)))


def is_meeting_request(mail: IncomingMail) -> bool:
    """Read from what the sender wrote only: a triage reason that mentions meetings is no request."""
    return _asks_to_meet(mail.subject) or any(_asks_to_meet(s) for s in _SENTENCE.split(mail.text))


def draft_reply(app: App, mail: IncomingMail, principal: Principal) -> Draft:
    """A reply from the owner to the sender of `mail`, in the owner's voice."""
    profile = app.profile
    me = first_name(profile.owner.name)
    them = first_name(principal.name or mail.from_name) or principal.address.partition("@")[0]
    style = app.style_card
    meeting = meeting_constraints(app, mail) if is_meeting_request(mail) else None
    slot = _first_free_slot(app, meeting, mail)
    prompt = _prompt(app, mail, principal, me, them, meeting, slot, style)
    body = _clean(app.llm.text(prompt, max_tokens=350, tag="draft"))
    sources = str(prompt[-1].content)  # what the model was given to answer from: the mail, facts, the slot
    problem = reply_problem(body, mail, me, them, sources)
    if problem:
        retry = [*prompt, AIMessage(body), HumanMessage(f"That reply {problem}. Write {me}'s reply to {them} again:"
                                                        f" only the reply body, from {me} to {them}.")]
        body = _clean(app.llm.text(retry, max_tokens=350, tag="draft"))
        problem = reply_problem(body, mail, me, them, sources)
    subject = mail.subject if mail.subject.lower().startswith("re:") else f"Re: {mail.subject}".strip()
    return Draft(
        to=mail.reply_to or principal.address,  # where the sender asked replies to go; the policy checks it
        subject=subject,
        body=holding_reply(me, them, style) if problem else body,
        in_reply_to=mail.message_id,
        references=list(dict.fromkeys([*mail.references, mail.message_id])),
        fallback=bool(problem),
        meeting=meeting,
        slot=slot,
    )


def meeting_constraints(app: App, mail: IncomingMail) -> MeetingConstraints:
    """The meeting the mail asks for, read by the scheduling skill's rules (no model call) from the sentences
    that ask, so days mentioned for other reasons ("the go/no-go on Friday") are not taken as options."""
    profile = app.profile
    asking = " ".join(s.strip() for s in _SENTENCE.split(mail.text) if _asks_to_meet(s)) or mail.text
    return parse_meeting_request(asking, mail.date or app.clock(), profile.zone, people=profile.people,
                                 sender=mail.from_addr, subject=mail.subject, owner_emails=profile.owner.emails)


def _first_free_slot(app: App, meeting: MeetingConstraints | None, mail: IncomingMail) -> Slot | None:
    """The slot to propose: the solver's best on the owner's calendar (none if unclear or unreachable)."""
    if meeting is None:
        return None
    try:
        slots = free_slots(app, meeting, mail.date or app.clock(), limit=1)
    except PersonaError:  # a calendar that cannot be read: the draft asks instead of guessing
        return None
    return slots[0] if slots else None


def _meeting_task(meeting: MeetingConstraints, slot: Slot | None, me: str, them: str, zone: ZoneInfo) -> str:
    if slot is not None:
        start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
        return (f" {them} asks to meet. {me}'s calendar is free on {start:%A %-d %B} from {start:%H:%M} to"
                f" {end:%H:%M}: propose exactly that time and say {me} has pencilled it in.")
    if meeting.needs_clarification:
        return f" {them} asks to meet: ask {them} \"{meeting.question}\" and say {me} will then confirm a time."
    days = ", ".join(f"{w.day:%A %-d %B}" for w in meeting.windows)
    part = f" ({meeting.part_of_day})" if meeting.part_of_day else ""
    return (f" {them} asks for a {meeting.duration_minutes}-minute meeting on {days}{part}: say {me} will check"
            " the calendar and confirm a time.")


def _prompt(app: App, mail: IncomingMail, principal: Principal, me: str, them: str,
            meeting: MeetingConstraints | None, slot: Slot | None, style: StyleCard | None) -> list[BaseMessage]:
    query = f"{mail.subject}\n{mail.text[:500]}"
    similar = _search(app, query, principal.audiences, k=2, kind="exemplar")
    to_them = _search(app, query, principal.audiences, k=1, kind="exemplar", where={"recipients": principal.address})
    exemplars = list({hit.text: hit for hit in [*to_them, *similar]}.values())
    facts = _search(app, query, principal.audiences, k=3, kind="knowledge")
    sender = f"{mail.from_name} <{mail.from_addr}>" if mail.from_name else mail.from_addr
    task = f"Write {me}'s reply to {them}. {greeting_hint(me, them, style)} Answer what {them} wrote in a few" \
           f" sentences, as {me}, addressed to {them}. Do not repeat {them}'s mail. Write only the reply body."
    if meeting is not None:
        task += _meeting_task(meeting, slot, me, them, app.profile.zone)
    return [
        SystemMessage(persona_prefix(app.profile, style) + "\n" + audience_line(app.profile, principal, "mail")),
        *exemplar_turns(exemplars, app.profile.owner.name),
        HumanMessage(f"{context_block(facts)}\n<message>\nFrom: {sender}\nSubject: {mail.subject}\n\n"
                     f"{mail.text[:_BODY_CHARS]}\n</message>\n{task}"),
    ]


def _search(app: App, query: str, audiences: frozenset[Audience], **kwargs: object) -> list:
    """Memory hits, or none when memory is not built yet: a reply without exemplars beats no reply."""
    try:
        return app.memory.search(query, audiences, **kwargs)
    except PersonaError:
        return []


def greeting_hint(me: str, them: str, style: StyleCard | None) -> str:
    greeting, signoff = _habits(me, them, style)
    return f"Open with \"{greeting}\" and close with \"{signoff}\"."


def _habits(me: str, them: str, style: StyleCard | None) -> tuple[str, str]:
    greeting, signoff = f"Hi {them},", f"Best,\n{me}"
    if style is not None and style.greetings:
        greeting = style.greetings[0].text.replace("{name}", them)
    if style is not None and style.signoffs:
        signoff = style.signoffs[0].text
    return greeting, signoff


def holding_reply(me: str, them: str, style: StyleCard | None) -> str:
    """Used when the model's drafts fail the checks: promises an answer, commits to nothing."""
    greeting, signoff = _habits(me, them, style)
    return f"{greeting}\n\nThanks for your message. I'll look into it and get back to you soon.\n\n{signoff}"


def reply_problem(body: str, mail: IncomingMail, me: str, them: str, sources: str = "") -> str:
    """What is wrong with a drafted reply, as a phrase for a corrective note; "" when it is fine.
    `sources`: what the model was given; a date or time the reply names must be found there."""
    if len(body.split()) < 3:
        return "is empty"
    if _REFUSAL.search(body):
        return "refuses instead of answering; a polite reply that says what happens next is fine"
    greeted = _GREETING.match(body)
    if greeted and greeted.group(2) and greeted.group(2).lower() == me.lower() and me.lower() != them.lower():
        return f"is addressed to {me}; it must be addressed to {them}"
    if re.match(rf"^\s*(from:|{re.escape(them)}\s*:)", body, re.IGNORECASE):
        return f"is written as {them}; {me} is the writer"
    if sources and (unsourced := unsourced_times(body, sources)):
        return f"names {', '.join(sorted(unsourced))}, which neither the mail nor what {me} knows says: leave it out"
    incoming = " ".join(mail.text.split()).lower()
    reply = " ".join(body.split()).lower()
    if incoming and len(incoming) > 40:
        match = SequenceMatcher(None, incoming, reply, autojunk=False).find_longest_match()
        if match.size >= min(120, int(len(incoming) * 0.6)):
            return f"repeats {them}'s mail instead of answering it"
    return ""


def _clean(text: str) -> str:
    """Drop a leading `Subject:` line and surrounding blank space the model sometimes adds."""
    text = text.strip()
    text = re.sub(r"^subject:[^\n]*\n+", "", text, flags=re.IGNORECASE)
    return text.strip()
