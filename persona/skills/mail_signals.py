"""What a mail's sender, headers and wording show before any model reads it: evidence for triage.

Everything here is a plain reading of the message (no model call), general rather than tuned to any
set of mails: the kind of address it came from (a person, a team or role mailbox, a notification
system, a no-reply address), the footers of bulk and machine mail ("unsubscribe", "view in browser",
"this message was generated automatically"), whether the owner is in To, only in Cc or in neither
(a Bcc or a list), whether the sender is one of the owner's people or organisation, and what the
owner's own mail history says about the sender (`MailHistory`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from persona.channels.email.base import IncomingMail
from persona.errors import PersonaError
from persona.profile import Profile
from persona.skills.mailbox import handled
from persona.skills.prompt import first_name

if TYPE_CHECKING:
    from persona.app import App

_NAME_CHARS = 300  # a greeting is at the top
SenderKind = Literal["person", "role", "notification", "marketing", "no_reply"]

NO_REPLY = re.compile(
    r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?)([+.\-_]|@)", re.IGNORECASE
)
# Local parts of mailboxes no single person writes from. Order matters: the first kind that matches wins.
_LOCAL_KINDS: tuple[tuple[SenderKind, re.Pattern[str]], ...] = (
    (
        "notification",
        re.compile(
            r"^(notif\w*|alerts?|alerting|monitor\w*|automated|auto|system|daemon|bot|robot|"
            r"ci|builds?|jenkins|status|security|accounts?|receipts?|invoices?|orders?|"
            r"billing|calendar|reminders?)([+.\-_\d]|$)",
            re.IGNORECASE,
        ),
    ),
    (
        "marketing",
        re.compile(
            r"^(news\w*|marketing|promo\w*|offers?|deals|digest|updates?|campaigns?|"
            r"announce\w*|mailings?|e?mail(ing)?list)([+.\-_\d]|$)",
            re.IGNORECASE,
        ),
    ),
    (
        "role",
        re.compile(
            r"^(info|hello|hi|team|support|help|helpdesk|sales|events?|hr|people|admin|sysadmin|"
            r"office|contact|success|service|customer\w*|community|careers|jobs|recruit\w*|"
            r"press|legal|finance|payroll|it|ops|projects?|feedback)([+.\-_\d]|$)",
            re.IGNORECASE,
        ),
    ),
)
# Footers of mail sent to many at once; a person writing to the owner does not put them in.
BULK_WORDS = re.compile(
    r"\bunsubscribe\b|\bview (?:(?:this|the) (?:e-?mail|message|newsletter) |it |this )?(?:online|in (?:your|a|the) browser)\b|"
    r"\bmanage (?:your )?(?:e-?mail |notification |subscription )?(?:preferences|subscriptions?|newsletters?)\b|"
    r"\bupdate your (?:e-?mail )?preferences\b|\bopt[- ]out\b|\bno longer (?:wish|want) to receive\b",
    re.IGNORECASE,
)
# Mail a system wrote: answering it reaches nobody.
AUTOMATED_WORDS = re.compile(
    r"\b(?:this (?:is an? )?(?:message|e-?mail|notification|alert) (?:is|was|has been) (?:automatically |auto-)?"
    r"(?:generated|sent) automatically|(?:automatically|auto)[- ]generated|automated (?:message|e-?mail|notification|alert)|"
    r"(?:please )?do not reply|don'?t reply to this|this (?:mailbox|address|inbox) is (?:not|un)monitored|"
    r"you(?:'re| are) receiving this (?:e-?mail |message |notification )?(?:because|as)|you receive this as)\b",
    re.IGNORECASE,
)
# About the owner's own account, money or access: worth showing even when it reads like marketing.
ACCOUNT_WORDS = re.compile(
    r"\b(?:invoice|receipt|(?:will|has|have) been charged|will be charged|payment (?:method|failed|due|received)|"
    r"amount due|due date|refund|(?:will|to) (?:auto(?:matically)?[- ])?renew|renewal|your (?:subscription|order|account|plan|"
    r"booking|reservation|password|card)|order (?:number|#|no\.?)|verification code|security alert|sign-?in attempt)\b",
    re.IGNORECASE,
)
# A request to the reader: a question to "you", a proposal ("could we"), "let me know", "please confirm".
ASKS_WORDS = re.compile(
    r"\b(?:(?:could|can|would|will|do|did|are|have|should) you\b|(?:could|can|shall|should) we\b|"
    r"let (?:me|us) know|get back to (?:me|us)|please (?:reply|respond|confirm|advise|call|review|send|share|sign|"
    r"approve|check|look|let)|(?:are you|is (?:that|this|it)) (?:ok|okay|fine|available|free|possible)|"
    r"(?:your|any) (?:thoughts|input|feedback|approval|availability|opinion)\b)",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"(?<=[.?!])\s+|\n")
# Lines that only look like asks: a Lotus Notes "Please respond to <address>" header, a mail provider's
# advert footer ("Do You Yahoo!?"), an empty form field ("E-mail:?"), a lone question mark.
_NOT_ASKS = re.compile(
    r"^(?:please respond to\b\W*(?:\S+@\S+|\S+\s*<[^>]+>)\W*$|do you yahoo!?\?|[\w-]+:\s*\?|\W*$)",
    re.IGNORECASE,
)
# An offer that needs no answer: "If you have any questions, let us know", "Feel free to reach out".
_CONDITIONAL = re.compile(r"^\s*(?:if|should|in case|whenever|when)\b|feel free", re.IGNORECASE)

# Large mail providers: a shared domain there says nothing about belonging to one organisation.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "posteo.de",
    }
)


class MailHistory(BaseModel):
    """Who the owner has exchanged mail with, as far as the twin knows: addresses the owner wrote to
    (ingested sent mail, replies the twin sent) and addresses that wrote before. `empty` means the twin
    knows no history at all (a new owner), so "first contact" cannot be told from it."""

    wrote_to: frozenset[str] = frozenset()
    heard_from: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.wrote_to or self.heard_from)

    def owner_wrote_to(self, address: str) -> bool:
        return address.strip().lower() in self.wrote_to

    def knows(self, address: str) -> bool:
        address = address.strip().lower()
        return address in self.wrote_to or address in self.heard_from


def mail_history(app: App, *, before: str = "") -> MailHistory:
    """The owner's mail history from the inbox ledger (who wrote, whom a reply went to) and from ingested
    mail in memory (whom the owner's sent mail was addressed to, who wrote to the owner). `before`: a
    Message-ID to leave out of `heard_from` (the mail being triaged)."""
    wrote_to: set[str] = set()
    heard_from: set[str] = set()
    for message_id, state in handled(app.store):
        if message_id != before and state.sender:
            heard_from.add(state.sender.lower())
        if state.reply is not None and state.verdict == "run":
            wrote_to.update(a.lower() for a in state.reply.to)
    for author, recipients in _memory_mail_parties(app):
        if app.profile.is_owner(author):
            wrote_to.update(recipients)
        elif author:
            heard_from.add(author)
    return MailHistory(wrote_to=frozenset(wrote_to), heard_from=frozenset(heard_from))


def _memory_mail_parties(app: App) -> list[tuple[str, list[str]]]:
    """(author, recipients) of every ingested mail. Read from the memory store's collection metadata:
    MemoryStore has no public listing of correspondents yet; a store without one gives nothing."""
    try:
        collection = getattr(app.memory, "_collection", None)
    except PersonaError:  # no memory built, or built with another embedding model: no history from it
        return []
    if collection is None:
        return []
    fingerprint = app.memory.fingerprint()
    kept = _PARTIES.get(str(collection.id))
    if (
        kept is not None and kept[0] == fingerprint
    ):  # nothing ingested or forgotten since: seconds on a big home
        return kept[1]
    got = collection.get(where={"doc_kind": "mail"}, include=["metadatas"])
    parties = []
    for meta in got.get("metadatas") or []:
        author = str(meta.get("author", "")).strip().lower()
        recipients = [r.strip().lower() for r in str(meta.get("recipients", "")).split(",") if "@" in r]
        parties.append((author, recipients))
    _PARTIES[str(collection.id)] = (fingerprint, parties)
    return parties


# collection id -> (its fingerprint when read, its mail's parties): triage and drafting ask for every mail, and a
# 10,000-item home took 1.2 s to read each time; memory changes by ingest and forget, which change the fingerprint
_PARTIES: dict[str, tuple[tuple[int, float], list[tuple[str, list[str]]]]] = {}


class Signals(BaseModel):
    """What the headers and wording of one mail show, read without a model."""

    sender_kind: SenderKind
    addressed: Literal["to", "cc", "none"]  # where the owner's address is: none means Bcc or a list
    to_count: int = 1  # addresses in To: a request to a crowd is rarely the owner's alone to answer
    names_owner: bool = False  # the text greets or names the owner by first name
    bulk_words: list[str] = []  # footers of mail sent to many ("unsubscribe", "view in browser")
    automated_words: list[str] = []  # "automatically generated", "do not reply"
    asks: list[str] = []  # sentences that ask the reader something ("Could you review…?")
    account_words: list[str] = []  # the owner's account, money or access ("will be charged", "your order")
    known_person: bool = False  # one of the owner's people in the profile
    same_org: bool = False  # the owner's own mail domain, or the domain of one of the owner's people
    owner_wrote_to: bool = False  # the owner has written to this address before
    heard_before: bool = False  # this address has written before

    @property
    def machine(self) -> bool:
        """Written by a system: a no-reply or notification address, or a footer saying so."""
        return self.sender_kind in ("no_reply", "notification") or bool(self.automated_words)

    @property
    def asks_owner(self) -> bool:
        """Asks the owner something, sent to the owner directly (not a crowd, not a Cc), by a person, or by a
        team mailbox that greets the owner by name. Commercial bulk mail carries an unsubscribe footer (and is
        `bulk`); a marketing sender is never taken to ask."""
        by = self.sender_kind == "person" or (self.sender_kind == "role" and self.names_owner)
        return (
            bool(self.asks)
            and by
            and self.addressed == "to"
            and self.to_count <= 3
            and not (self.bulk or self.machine)
        )

    @property
    def bulk(self) -> bool:
        """Sent to many: a bulk footer, from an address that is not one of the owner's people."""
        return bool(self.bulk_words) and not self.known_person

    def lines(self) -> list[str]:
        """The signals as short lines a small model can read next to the mail."""
        kinds = {
            "person": "a person's own address",
            "role": "a team or role mailbox, not one person's",
            "notification": "an automatic notification system",
            "marketing": "a marketing or newsletter sender",
            "no_reply": "a no-reply address: nobody reads answers",
        }
        where = {
            "to": "the owner is a direct recipient (To)",
            "cc": "the owner is only in Cc",
            "none": "the owner is not in To or Cc (a list or Bcc)",
        }
        out = [f"Sender address: {kinds[self.sender_kind]}.", f"Recipients: {where[self.addressed]}."]
        if self.known_person or self.same_org:
            out.append(
                "Sender: "
                + ("one of the owner's people." if self.known_person else "the owner's organisation.")
            )
        else:
            out.append("Sender: outside the owner's people and organisation.")
        if self.owner_wrote_to:
            out.append("The owner has written to this sender before.")
        if self.asks:
            out.append(f'The sender asks: "{self.asks[0][:120]}"')
        if self.bulk_words or self.automated_words:
            out.append(
                "Footer words: "
                + ", ".join(f'"{w}"' for w in [*self.bulk_words, *self.automated_words])
                + "."
            )
        return out


def sender_kind(address: str) -> SenderKind:
    """What kind of mailbox an address is, by its local part alone."""
    address = address.strip().lower()
    if not address or NO_REPLY.match(address):
        return "no_reply"
    local = address.partition("@")[0]
    return next((kind for kind, pattern in _LOCAL_KINDS if pattern.match(local)), "person")


def domain_of(address: str) -> str:
    return address.strip().lower().rpartition("@")[2]


def org_domains(profile: Profile) -> set[str]:
    """The owner's own mail domains and those of the owner's people, free-mail providers left out."""
    addresses = [*profile.owner.emails, *(e for p in profile.people for e in p.emails)]
    return {domain_of(a) for a in addresses} - FREE_MAIL


def read_signals(profile: Profile, mail: IncomingMail, history: MailHistory | None = None) -> Signals:
    """The evidence in `mail`'s headers and wording, and what `history` says about its sender."""
    sender = mail.from_addr.strip().lower()
    text = f"{mail.subject}\n{mail.body or mail.text}"
    owner = set(profile.owner.emails)
    addressed = (
        "to"
        if owner & {a.lower() for a in mail.to}
        else "cc"
        if owner & {a.lower() for a in mail.cc}
        else "none"
    )
    history = history or MailHistory()
    return Signals(
        sender_kind=sender_kind(sender),
        addressed=addressed,
        bulk_words=_found(BULK_WORDS, text),
        automated_words=_found(AUTOMATED_WORDS, text),
        asks=asks_in(mail.text),
        account_words=_found(ACCOUNT_WORDS, text),
        to_count=len(mail.to),
        names_owner=_names(first_name(profile.owner.name), mail.text[:_NAME_CHARS]),
        known_person=profile.person_for(sender) is not None,
        same_org=domain_of(sender) in org_domains(profile),
        owner_wrote_to=history.owner_wrote_to(sender),
        heard_before=sender in history.heard_from,
    )


def asks_in(text: str) -> list[str]:
    """The sentences of `text` that ask the reader for something: a question put to them, a proposal, a
    request to reply, confirm, review or call. Offers that need no answer ("If you have any questions,
    let us know") are not asks; every question is."""
    found = []
    text = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith(">")
    )  # quoted: not theirs
    for sentence in _SENTENCES.split(text):
        sentence = sentence.strip()
        if _NOT_ASKS.match(sentence):
            continue
        if sentence.endswith("?") or (ASKS_WORDS.search(sentence) and not _CONDITIONAL.search(sentence)):
            found.append(sentence)
    return found[:3]


def _names(name: str, text: str) -> bool:
    return bool(name) and re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE) is not None


def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(text)))[:3]
