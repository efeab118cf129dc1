"""The one interface every channel backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from persona.events import Action, Event


class Channel(ABC):
    """A source of Events and a sink for the Actions policy lets run.

    Implementations are synchronous (their client libraries are); async callers use
    `asyncio.to_thread`. `fetch` returns only what was not fetched before: each channel keeps its own
    cursor (IMAP UIDs + UIDVALIDITY, Maildir keys, calendar sync tokens) in the state store.
    """

    name: str

    def start(self) -> None:
        """Connect, create folders; called once before the first fetch."""

    def stop(self) -> None:
        """Release connections."""

    @abstractmethod
    def fetch(self) -> list[Event]:
        """New Events since the last fetch."""

    @abstractmethod
    def deliver(self, action: Action) -> str:
        """Carry out an Action policy allowed; return a short receipt for the audit log."""
