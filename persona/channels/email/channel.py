"""The email channel: new mail in as Events, SAVE_DRAFT / SEND_MAIL Actions out through a backend.

Mail headers are not authenticated, so a message never gains the owner's rights: mail that claims
to come from the owner's own address is resolved as a stranger (and triage ignores it). Recipients of
what the channel delivers come only from the Action's targets, never from any mail text.
"""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import getaddresses

from persona.channels.base import Channel
from persona.channels.email.base import IncomingMail, MailBackend, OutgoingMail, RawMail
from persona.channels.email.errors import MailError
from persona.channels.email.mailparse import MailParseError, parse_mail
from persona.events import Action, ActionKind, Event, Principal, Provenance
from persona.profile import Profile, Role

_BULK_PRECEDENCE = {"bulk", "list", "junk"}


def read_mail(raw: RawMail) -> IncomingMail:
    """Parse a raw message; headers that mark list or machine mail set `bulk` / `auto`."""
    parsed = parse_mail(raw.data)
    headers = message_from_bytes(raw.data, policy=default_policy)
    precedence = str(headers.get("Precedence", "")).strip().lower()
    reply_to = getaddresses([str(headers.get("Reply-To", ""))])
    return IncomingMail(
        key=raw.key,
        **parsed.model_dump(),
        reply_to=reply_to[0][1].lower() if reply_to and reply_to[0][1] else "",
        bulk=bool(headers.get("List-Id") or headers.get("List-Unsubscribe"))
        or precedence in _BULK_PRECEDENCE,
        auto=str(headers.get("Auto-Submitted", "no")).strip().lower() != "no",
    )


def sender_principal(profile: Profile, mail: IncomingMail) -> Principal:
    """Who wrote the mail, by its From address; never the owner (headers can be forged)."""
    if not mail.from_addr or profile.is_owner(mail.from_addr):
        return Principal(role=Role.STRANGER, address=mail.from_addr.strip().lower(), name=mail.from_name)
    principal = Principal.resolve(profile, mail.from_addr)
    return principal if principal.name else principal.model_copy(update={"name": mail.from_name})


def outgoing_from(action: Action) -> OutgoingMail:
    """The message an Action describes; its recipients are exactly the Action's targets."""
    return OutgoingMail.model_validate({**action.payload, "to": action.targets})


class EmailChannel(Channel):
    name = "email"

    def __init__(self, backend: MailBackend, profile: Profile):
        self.backend = backend
        self.profile = profile

    def start(self) -> None:
        self.backend.open()

    def stop(self) -> None:
        self.backend.close()

    def fetch(self) -> list[Event]:
        """New mail since the cursor, oldest first. The cursor moves only through `commit`."""
        events = []
        for raw in self.backend.fetch_new():
            try:
                events.append(self.to_event(read_mail(raw)))
            except MailParseError:
                self.backend.advance(raw.key)  # an empty message holds nothing to handle, ever
        return events

    def to_event(self, mail: IncomingMail) -> Event:
        principal = sender_principal(self.profile, mail)
        return Event(
            channel=self.name,
            principal=principal,
            text=mail.text,
            subject=mail.subject,
            session_id=mail.thread_id,
            provenance=Provenance.of(principal, ref=mail.message_id),
            meta={"mail": mail.model_dump(mode="json")},
        )

    def commit(self, event: Event) -> None:
        """The event's message is durably handled: move the cursor past it."""
        self.backend.advance(event.meta["mail"]["key"])

    def mark_seen(self, event: Event) -> None:
        self.backend.mark_seen(event.meta["mail"]["key"])

    def deliver(self, action: Action) -> str:
        if action.kind is ActionKind.SAVE_DRAFT:
            return self.backend.save_draft(outgoing_from(action))
        if action.kind in (ActionKind.SEND_MAIL, ActionKind.FORWARD_MAIL):
            return self.backend.send(outgoing_from(action))
        raise MailError(f"the email channel does not deliver {action.kind.value} actions")
