"""Cold outreach: a first contact from a stranger who pitches something or asks for the owner's time.

Sales pitches, recruiters and "would you be open to a quick call?" from someone the owner never wrote
to are for the owner to decide: triage shows them (notify) and no reply may offer a time. Read from
the profile, the mail and the owner's mail history only (no model call), so a pitch that tells the
assistant to accept it changes nothing: its words are matched, never followed.
"""

from __future__ import annotations

import re

from persona.channels.email.base import IncomingMail
from persona.profile import Profile
from persona.skills.mail_signals import MailHistory, domain_of, org_domains, sender_kind

_TEXT_CHARS = 1500  # a pitch says what it wants up front; the tail may hold anything

# Asking for the owner's time: a call, a meeting, a demo, a slot.
_ASKS_FOR_TIME = re.compile(
    r"\b(?:(?:quick|short|brief|intro(?:ductory)?|discovery|exploratory|\d+[- ]?min(?:ute)?s?)[- ](?:call|chat|meeting|"
    r"demo|conversation|sync|zoom|video call)|schedule (?:a|an|some|the) (?:call|meeting|time|demo|chat)|"
    r"(?:hop|jump|get) on a (?:quick )?call|book (?:a|some) (?:time|call|slot|meeting)|"
    r"(?:set up|arrange|find) (?:a |some )?(?:time|call|meeting)|are you (?:available|free)\b|"
    r"do you have (?:\d+ minutes|time|a few minutes|a moment)|(?:would|are) you (?:be )?open to|"
    r"grab (?:a )?(?:coffee|time|call)|calendly|worth a (?:quick )?(?:call|chat|conversation)|"
    r"(?:call|meeting|chat) (?:next|this) week|meet (?:next|this) week)",
    re.IGNORECASE,
)
# Selling or recruiting: what the sender offers, not what the owner asked for.
_PITCH = re.compile(
    r"\b(?:(?:we|i) help (?:teams|companies|businesses|organi[sz]ations|leaders|founders|engineering|platform|people|you)|"
    r"(?:our|my) (?:product|platform|solution|services?|software|tool|agency|consultancy|firm|offering|team can)\b|"
    r"i run an? \w+|save (?:you|your (?:team|company|business)) (?:money|time|\d)|"
    r"(?:cut|reduce|lower) (?:your )?(?:\w+ )?costs?|(?:increase|boost|grow|double|scale) (?:your )?(?:revenue|sales|"
    r"pipeline|growth|leads|roi|conversions?|business)|free (?:trial|demo|consultation|audit|assessment)|book a demo|"
    r"partnership (?:opportunity|proposal)|partner(?:ing)? with (?:you|your)|i came across (?:your|you)|"
    r"i (?:noticed|saw) (?:that )?(?:you|your)|(?:i'?m|i am|we'?re|we are) reaching out|(?:let me|allow me to) introduce|"
    r"(?:role|position|opening|opportunity) (?:at|with|in) an?\b|(?:recruit|hiring|headhunt)\w*|"
    r"(?:exciting|unique|great) opportunity|(?:suggestions|ideas|strategies|tips) (?:that|to|which) (?:could|can|will|"
    r"might) (?:potentially )?(?:save|help|improve|boost)|(?:strong|competitive) (?:package|salary|compensation)|"
    r"no (?:cost|obligation)|limited[- ]time offer|special offer)\b",
    re.IGNORECASE,
)


def is_cold_outreach(profile: Profile, mail: IncomingMail, history: MailHistory | None = None) -> bool:
    """Whether `mail` is cold outreach: from outside the owner's people and organisation, to an owner who
    never wrote to the sender, pitching something or asking for the owner's time.

    `history` is what the twin knows of the owner's mail (`persona.skills.mail_signals.mail_history(app)`).
    When it is empty (a new owner) a first contact cannot be told, so the wording must show a pitch (two
    signs of selling or recruiting, or one and a request for a call or meeting); when the owner has history,
    a stranger they never wrote to asking for a call is enough. Never cold: the owner, the owner's people,
    their organisations' domains, senders the owner has written to, machine senders (no-reply, notification).
    A reply to cold outreach must not offer or hold a time: the owner decides.
    """
    return cold_outreach_reason(profile, mail, history) is not None


def cold_outreach_reason(
    profile: Profile, mail: IncomingMail, history: MailHistory | None = None
) -> str | None:
    """Why `mail` is cold outreach (one line for the owner), or None when it is not. See `is_cold_outreach`."""
    sender = mail.from_addr.strip().lower()
    history = history or MailHistory()
    if (
        not sender
        or profile.is_owner(sender)
        or profile.person_for(sender) is not None
        or domain_of(sender) in org_domains(profile)
        or history.owner_wrote_to(sender)
        or sender_kind(sender) in ("no_reply", "notification")
    ):
        return None
    text = f"{mail.subject}\n{mail.text[:_TEXT_CHARS]}"
    asks = _ASKS_FOR_TIME.search(text)
    pitch = list(dict.fromkeys(m.group(0).lower() for m in _PITCH.finditer(text)))
    first_contact = not history.empty and not history.knows(sender)
    if not (len(pitch) >= 2 or (pitch and asks) or (asks and first_contact)):
        return None
    said = ", ".join(f'"{w}"' for w in [*([asks.group(0).lower()] if asks else []), *pitch][:3])
    who = "a first contact" if first_contact else "a sender outside your people and organisation"
    return f"cold outreach from {who} ({said}): yours to decide; no time is offered"
