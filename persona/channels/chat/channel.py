"""ChatChannel: thin glue between HTTP chat and the twin. It never calls the LLM."""

from __future__ import annotations

from persona.channels.base import Channel
from persona.events import Action, Event, Principal, Provenance
from persona.payloads import ChatReply


class ChatChannel(Channel):
    name = "chat"

    def event(self, principal: Principal, text: str, session_id: str, *, client: str = "") -> Event:
        """A chat message as an Event; its provenance follows from who sent it (owner vs. others)."""
        return Event(
            channel=self.name,
            principal=principal,
            text=text,
            session_id=session_id,
            provenance=Provenance.of(principal, ref=f"chat:{session_id}"),
            meta={"client": client} if client else {},
        )

    def fetch(self) -> list[Event]:
        """Nothing to poll: the server hands each message to the twin as it arrives."""
        return []

    def deliver(self, action: Action) -> str:
        """The reply is shown on the stream of the request that asked; this only records where it went."""
        return f"shown in chat session {ChatReply.of(action).session or '?'}"
