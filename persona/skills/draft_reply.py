"""Draft a reply in the owner's voice, threaded, to the sender only.

Prompt: the stable persona prefix, the audience line, the owner's past mail as earlier turns (similar
mail and mail to the same person), facts the sender may see, the incoming mail in <message> tags, and
a last line naming who writes to whom. The output is checked; one retry with a note on what was
wrong, then a reply written by rule (`fallback=True`): a plain proposal of the free time the calendar
solver found, a plain no when the rules or the owner's habit decided one, else a holding reply that
promises an answer and commits to nothing.
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
from persona.skills.claims import clock_times, unsourced_times
from persona.skills.cold_outreach import is_cold_outreach
from persona.skills.mail_signals import asks_in, mail_history
from persona.skills.meeting_request import MeetingConstraints, parse_meeting_request
from persona.skills.prompt import audience_line, context_block, exemplar_turns, first_name, persona_prefix
from persona.skills.propose_meeting import slots_or_alternatives
from persona.skills.reply_decision import Decision, Facts, Plan, Situation, decide, plan_problem
from persona.skills.reply_style import (
    finish_reply,
    greeting_name,
    reply_content,
    usual_greeting,
    usual_signoff,
)
from persona.skills.schedule import Slot

if TYPE_CHECKING:
    from persona.app import App
    from persona.memory.style import StyleCard

_BODY_CHARS = 2000
_SITUATIONS = 2  # past mail like this one, with the owner's replies, shown when deciding and writing
_PRECEDENTS = (
    8  # past mail like this one whose replies' decisions order the options (the habit, not the words)
)
_PAST_CHARS = 600  # of each side of a past situation in the writing prompt
_COPIED_SHARE = 0.8  # of a sentence found word for word in the mail: the sender's sentence, not a reply
_COPY_BLOCK_CHARS = 12  # runs of the mail's text shorter than this are shared words, not copying
_COPY_MIN_WORDS = 6  # a shorter one is copied only word for word: "Thanks for the update." fits any reply
# the model speaking as an assistant: "I'm sorry, but I don't have any information about the dry cleaning"
_AS_AI = re.compile(
    r"\b(as an AI\b|language model|(?:I'?m|I am) sorry,? but I (?:don'?t|do not) have (?:any )?"
    r"(?:information|access|details|knowledge))",
    re.IGNORECASE,
)
# the model refusing the task; when the decision is to decline, the same words are the owner's "no",
# unless they refuse nothing named: "I can't assist with that" is the model's, a person says what
_REFUSAL = re.compile(
    r"\b(I can(?:'|no)t (?:assist|help) with|I'?m (?:sorry|unable)[^.]{0,40}\b(?:assist|help))", re.IGNORECASE
)
_BARE_REFUSAL = re.compile(
    r"\b(?:can(?:'|no)t|unable to) (?:assist|help)(?: you)?(?: with (?:that|this|it|your request))?\s*[.!]",
    re.IGNORECASE,
)
# the writer speaking as a stand-in for the owner: "as a personal assistant for…", "as Dana's assistant"
_AS_STAND_IN = re.compile(
    r"\bas (?:a|an|the|your|\w+'s) (?:\w+ ){0,2}(?:assistant|secretary|twin|bot)\b", re.IGNORECASE
)
_MEETING = re.compile(
    r"\b(meet(?:ing)?|(?<!-)call|sync|catch up|schedule|availability|available|calendar|slot|"
    r"invite|appointment)\b",
    re.IGNORECASE,
)
# "can we find 45 minutes next Tuesday?" asks for a meeting without naming one: a length and a day.
_DURATION = re.compile(r"\b(?:\d+|half an?|an?)\s*-?\s*(?:min(?:ute)?s?|hours?)\b", re.IGNORECASE)
_DAY = re.compile(
    r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b|\btomorrow\b|\bnext week\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n\s*\n")
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[ ,]*(\w+)?", re.IGNORECASE
)


class Draft(BaseModel):
    to: str
    subject: str
    body: str
    in_reply_to: str = ""
    references: list[str] = []
    fallback: bool = False  # the model's answers failed the checks twice: the reply was written by rule
    holding: bool = False  # that reply only promises an answer: it carries out no decision
    # What the mail asks for when it asks to meet, and the free slot the draft proposes.
    meeting: MeetingConstraints | None = None
    slot: Slot | None = None
    alternatives: list[Slot] = []  # the other free times found, for the owner to choose from instead
    plan: Plan | None = None  # what the reply was decided to do, and the past replies it was read from


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
    """A reply from the owner to the sender of `mail`, in the owner's voice: decided, then written."""
    profile = app.profile
    me = first_name(profile.owner.name)
    them = greeting_name(principal.name or mail.from_name, principal.address, profile.people, text=mail.text)
    who = (
        them or mail.from_name or principal.address
    )  # how the prompt names the sender when no first name is sure
    style = app.style_card
    meeting = meeting_constraints(app, mail) if is_meeting_request(mail) else None
    in_window, later = _free_times(app, meeting, mail)
    # The owner's habit is read from all their past replies; the words of only those this sender may read
    # reach the writer (a reply to a stranger never quotes what the owner told a colleague).
    precedents = [
        Situation.of(hit)
        for hit in _search(app, _query(mail), frozenset(Audience), k=_PRECEDENTS, kind="situation")
    ]
    situations = [s for s in precedents if s.audience in principal.audiences][:_SITUATIONS]
    facts = Facts(
        meeting=meeting is not None,
        free_in_window=bool(in_window),
        free_later=bool(later),
        unclear=bool(meeting and meeting.needs_clarification),
        cold=is_cold_outreach(profile, mail, mail_history(app, before=mail.message_id)),
    )
    plan = decide(app, mail, facts, situations, precedents)
    offered = {Decision.ACCEPT: in_window, Decision.RESCHEDULE: later}.get(plan.decision)
    slot = offered[0] if offered else None
    writing = (app, mail, principal, me, who, greeting_hint(me, them, style), plan, situations, meeting, slot)
    prompt = _prompt(*writing)
    body, copied = without_copies(_write(app, prompt), mail, me)
    # what the model was given to answer from: the mail, facts, the slot, and the owner's own past mail
    sources = "\n".join(str(m.content) for m in prompt[1:])
    declining = plan.decision is Decision.DECLINE
    problem = reply_problem(body, mail, me, who, sources, declining) or plan_problem(body, plan)
    if problem:
        if copied and (problem == "is empty" or problem.startswith("repeats")):
            # A small model that copied the mail once copies it again, shown its copy or not (greedy or
            # sampled): the second try sees only what the mail asks, which leaves it nothing to copy.
            retry = _prompt(*writing, shown=" ".join(asks_in(mail.text)) or mail.subject)
        else:
            retry = [
                *prompt,
                AIMessage(body),
                HumanMessage(
                    f"That reply {problem}. Write {me}'s reply to {who} again:"
                    f" only the reply body, from {me} to {who}."
                ),
            ]
        body, _ = without_copies(_write(app, retry), mail, me)
        problem = reply_problem(body, mail, me, who, sources, declining) or plan_problem(body, plan)
    # greeting, one sign-off and length are the owner's by construction, whatever the model wrote
    body = "" if problem else finish_reply(body, them=them, owner_name=profile.owner.name, style=style)
    # a time is held only when the reply proposes it: a yes to something else ("the call on the 1st still
    # stands") holds no slot the solver found for a day the mail named
    if body and slot is not None and not _names_time(body, slot, profile.zone):
        slot, offered = None, []
    # a no the rules or the owner's habit decided is said plainly; the model's own pick, which its writing
    # would not carry out twice, may be wrong, so that draft only promises an answer
    plain_no = declining and plan.by != "llm"
    # a free time the solver found is a real result: when the model cannot write around it, a plain
    # proposal of that time carries the decision out, not a promise to answer later
    proposing = slot is not None and not body
    if plain_no:
        standby = declining_reply(me, them, style, meeting is not None)
    elif slot is not None:
        standby = proposing_reply(me, them, style, slot, profile.zone, plan.decision is Decision.RESCHEDULE)
    else:
        standby = holding_reply(me, them, style)
    subject = mail.subject if mail.subject.lower().startswith("re:") else f"Re: {mail.subject}".strip()
    return Draft(
        to=mail.reply_to or principal.address,  # where the sender asked replies to go; the policy checks it
        subject=subject,
        body=body or standby,
        in_reply_to=mail.message_id,
        references=list(dict.fromkeys([*mail.references, mail.message_id])),
        fallback=not body,
        holding=not body and not plain_no and not proposing,
        meeting=meeting,
        slot=slot if body or proposing else None,  # a holding reply proposes no time, so none is held
        alternatives=offered[1:] if (body or proposing) and offered else [],
        plan=plan,
    )


def _names_time(body: str, slot: Slot, zone: ZoneInfo) -> bool:
    """Whether `body` names the slot's start: "14:00", "2pm", "2:00 p.m.", or "at 10" on the hour."""
    start = slot.start.astimezone(zone)
    if start.hour * 60 + start.minute in clock_times(body):
        return True
    return (
        start.minute == 0
        and re.search(rf"\bat (?:{start.hour}|{start.hour % 12 or 12})\b", body, re.IGNORECASE) is not None
    )


def _write(app: App, prompt: list[BaseMessage]) -> str:
    # Greedy: the decision is made already, and sampling only moved drafts between carrying it out and a
    # holding reply from one run to the next (Enron lay-k, 12 pairs: 67% and 50% agreement).
    return _clean(app.llm.text(prompt, max_tokens=350, tag="draft", temperature=0.0))


def without_copies(body: str, mail: IncomingMail, me: str) -> tuple[str, bool]:
    """`body` without the sentences the model copied from the mail it answers ("I'd like to walk you
    through the runbook", the sender's words in the owner's reply) and without a line that is the sender's
    own signature; "" when only a greeting and a thanks are left; and whether anything was dropped."""
    said = " ".join(mail.text.split()).lower()
    # what the sender stated, not asked: an answer may take up a question's or a request's words ("Yes,
    # the window is 05:00-07:00", "I will review the contract by Friday"), restating statements is copying
    asked = {" ".join(a.split()).lower() for a in asks_in(mail.text)}
    stated = " | ".join(
        s for s in _SENTENCE.split(said) if not s.rstrip().endswith("?") and s.strip() not in asked
    )
    names = {n.lower() for n in (mail.from_name, first_name(mail.from_name)) if n}
    kept: list[str] = []
    copied = False
    for line in body.split("\n"):
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", line.strip()) if s]
        own = [s for s in sentences if not _copied(s, said, stated)]
        if line.strip().rstrip(".,!").lower() in names or (sentences and not own):
            copied = True
            continue
        copied = copied or len(own) < len(sentences)
        kept.append(" ".join(own) if own else line)
    left = "\n".join(kept).strip()
    if copied and len(reply_content(left, owner_name=me)[0].split()) < 3:
        return "", True
    return left, copied


def _copied(sentence: str, said: str, stated: str) -> bool:
    """Whether `sentence` is the mail's own: most of it found in what the mail `said`, and either much of
    it in what the sender `stated` or itself a question (the sender's question asked back)."""
    flat = " ".join(sentence.split()).lower()
    if len(flat.split()) < _COPY_MIN_WORDS:
        return len(flat.split()) >= 3 and flat in said
    return _covered(flat, said) >= _COPIED_SHARE and (flat.endswith("?") or _covered(flat, stated) >= 0.5)


def _covered(flat: str, text: str) -> float:
    blocks = SequenceMatcher(None, flat, text, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks if b.size >= _COPY_BLOCK_CHARS) / len(flat)


def _query(mail: IncomingMail) -> str:
    return f"{mail.subject}\n{mail.text[:500]}"


def meeting_constraints(app: App, mail: IncomingMail) -> MeetingConstraints:
    """The meeting the mail asks for, read by the scheduling skill's rules (no model call) from the sentences
    that ask, so days mentioned for other reasons ("the go/no-go on Friday") are not taken as options."""
    profile = app.profile
    asking = " ".join(s.strip() for s in _SENTENCE.split(mail.text) if _asks_to_meet(s)) or mail.text
    return parse_meeting_request(
        asking,
        mail.date or app.clock(),
        profile.zone,
        people=profile.people,
        sender=mail.from_addr,
        subject=mail.subject,
        owner_emails=profile.owner.emails,
    )


def _free_times(
    app: App, meeting: MeetingConstraints | None, mail: IncomingMail
) -> tuple[list[Slot], list[Slot]]:
    """Free slots at the asked time, else in the days after it; none if unclear or the calendar is unreadable."""
    if meeting is None:
        return [], []
    try:
        return slots_or_alternatives(app, meeting, mail.date or app.clock())
    except PersonaError:  # a calendar that cannot be read: the draft asks instead of guessing
        return [], []


def _task(
    plan: Plan, meeting: MeetingConstraints | None, slot: Slot | None, me: str, them: str, zone: ZoneInfo
) -> str:
    """What the reply must do, in words the writer can follow: the decision, made concrete."""
    decision = plan.decision
    if slot is not None:
        start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
        other = " instead of the asked time" if decision is Decision.RESCHEDULE else ""
        return (
            f" {them} asks to meet. {me}'s calendar is free on {start:%A %-d %B} from {start:%H:%M} to"
            f" {end:%H:%M}: propose exactly that time{other} and say {me} has pencilled it in."
        )
    if decision is Decision.ASK_BACK and meeting is not None and meeting.question:
        return f' {them} asks to meet: ask {them} "{meeting.question}" and say {me} will then confirm a time.'
    return {
        Decision.ACCEPT: f" {me} says yes to what {them} asks; commit to nothing beyond it.",
        Decision.DECLINE: f" {me} declines, politely and briefly; offer no meeting and no other time.",
        Decision.ANSWER: f" Answer {them}'s question from what {me} knows; if the context does not hold the answer,"
        f" say {me} will find out.",
        Decision.ASK_BACK: f" Ask {them} the one question {me} needs answered before committing to anything.",
        Decision.REDIRECT: f" Say someone else handles this and point {them} to them, as {me}'s earlier replies did;"
        " offer no meeting.",
        Decision.ACKNOWLEDGE: f" Thank {them} or confirm receipt, briefly; promise nothing and offer no meeting.",
        Decision.RESCHEDULE: f" {me} cannot meet at the asked time: say so and ask {them} for another time.",
    }[decision]


def _prompt(
    app: App,
    mail: IncomingMail,
    principal: Principal,
    me: str,
    them: str,
    greeting: str,
    plan: Plan,
    situations: list[Situation],
    meeting: MeetingConstraints | None,
    slot: Slot | None,
    shown: str | None = None,
) -> list[BaseMessage]:
    """The writing prompt; `shown`: what of the mail's text the model sees, by default all of it."""
    style = app.style_card
    query = _query(mail)
    to_them = _search(
        app, query, principal.audiences, k=1, kind="exemplar", where={"recipients": principal.address}
    )
    similar = [] if situations else _search(app, query, principal.audiences, k=2, kind="exemplar")
    exemplars = list({hit.text: hit for hit in [*to_them, *similar]}.values())
    facts = _search(app, query, principal.audiences, k=3, kind="knowledge")
    sender = f"{mail.from_name} <{mail.from_addr}>" if mail.from_name else mail.from_addr
    task = (
        f"Write {me}'s reply to {them}. {greeting} Answer what {them} wrote in a few"
        f" sentences, as {me}, addressed to {them}. Do not repeat {them}'s mail. Write only the reply body."
    )
    task += _task(plan, meeting, slot, me, them, app.profile.zone)
    return [
        SystemMessage(
            persona_prefix(app.profile, style) + "\n" + audience_line(app.profile, principal, "mail")
        ),
        *exemplar_turns(exemplars, app.profile.owner.name),
        *_situation_turns(situations, me),
        HumanMessage(
            f"{context_block(facts)}\n<message>\nFrom: {sender}\nSubject: {mail.subject}\n\n"
            f"{(mail.text if shown is None else shown)[:_BODY_CHARS]}\n</message>\n{task}"
        ),
    ]


def _situation_turns(situations: list[Situation], me: str) -> list[BaseMessage]:
    """How the owner answered similar mail, as earlier turns: the model sees what the owner did, not only how
    the owner sounds."""
    turns: list[BaseMessage] = []
    for past in situations:
        if past.reply.strip():
            turns.append(
                HumanMessage(
                    f"<message>\nFrom: {past.sender}\nSubject: {past.subject}\n\n"
                    f"{past.mail[:_PAST_CHARS]}\n</message>\nWrite {me}'s reply."
                )
            )
            turns.append(AIMessage(past.reply[:_PAST_CHARS]))
    return turns


def _search(app: App, query: str, audiences: frozenset[Audience], **kwargs: object) -> list:
    """Memory hits, or none when memory is not built yet: a reply without exemplars beats no reply."""
    try:
        return app.memory.search(query, audiences, **kwargs)
    except PersonaError:
        return []


def greeting_hint(me: str, them: str, style: StyleCard | None) -> str:
    greeting, signoff = usual_greeting(style, them), usual_signoff(style, me)
    return f'Open with "{greeting}" and close with "{signoff}".' if greeting else f'Close with "{signoff}".'


def holding_reply(me: str, them: str, style: StyleCard | None) -> str:
    """Used when the model's drafts fail the checks: promises an answer, commits to nothing."""
    text = "Thanks for your message. I'll look into it and get back to you soon."
    return finish_reply(text, them=them, owner_name=me, style=style)


def proposing_reply(
    me: str, them: str, style: StyleCard | None, slot: Slot, zone: ZoneInfo, moved: bool
) -> str:
    """Used when the model's drafts fail the checks and a free time was found: proposes that time only."""
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    when = f"{start:%A %-d %B} from {start:%H:%M} to {end:%H:%M}"
    text = (
        f"Thanks for getting in touch. The time you asked for doesn't work for me; how about {when}?"
        if moved
        else f"Thanks for getting in touch. {when[0].upper()}{when[1:]} works for me."
    )
    return finish_reply(f"{text} I've pencilled it in.", them=them, owner_name=me, style=style)


def declining_reply(me: str, them: str, style: StyleCard | None, meeting: bool) -> str:
    """Used when the model's drafts fail the checks and the decision is no: says no, commits to nothing."""
    text = (
        "Thank you for the invitation. Unfortunately, I won't be able to attend."
        if meeting
        else "Thank you for asking. Unfortunately, I won't be able to take this on."
    )
    return finish_reply(text, them=them, owner_name=me, style=style)


def reply_problem(
    body: str, mail: IncomingMail, me: str, them: str, sources: str = "", declining: bool = False
) -> str:
    """What is wrong with a drafted reply, as a phrase for a corrective note; "" when it is fine.
    `sources`: what the model was given; a date or time the reply names must be found there."""
    if len(body.split()) < 3:
        return "is empty"
    if _AS_AI.search(body) or _BARE_REFUSAL.search(body) or (_REFUSAL.search(body) and not declining):
        return "refuses instead of answering; a polite reply that says what happens next is fine"
    if _AS_STAND_IN.search(body) or re.search(
        rf"\b(?:as|on behalf of) {re.escape(me)}\b", body, re.IGNORECASE
    ):
        return f"speaks of {me} as someone else; {me} writes it, in the first person"
    if re.search(rf"\b(?:my name is|i'?m|i am) {re.escape(me)}\b", body, re.IGNORECASE):
        return f"introduces {me}, whom {them} wrote to and knows: leave the introduction out"
    # a small model copies the sender's own introduction ("I'm Jim Sikes, Project Coordinator …")
    sender = first_name(mail.from_name)
    if (
        sender
        and sender.lower() != first_name(me).lower()
        and re.search(rf"\b(?:my name is|i'?m|i am) {re.escape(sender)}\b", body, re.IGNORECASE)
    ):
        return f"is written as {mail.from_name}, who wrote the mail; {me} is the writer"
    greeted = _GREETING.match(body)
    if greeted and greeted.group(2) and greeted.group(2).lower() == me.lower() and me.lower() != them.lower():
        return f"is addressed to {me}; it must be addressed to {them}"
    if re.match(rf"^\s*(from:|{re.escape(them)}\s*:)", body, re.IGNORECASE):
        return f"is written as {them}; {me} is the writer"
    # "I don't have any information about Alex's dinner plans", written to Alex: not to them, about them
    if (
        re.fullmatch(r"[A-Z][\w-]+", them)
        and them.lower() != me.lower()
        and re.search(rf"\b{them}'s\b", body)
    ):
        return f"speaks of {them} as someone else; it is written to {them}: say 'you'"
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
