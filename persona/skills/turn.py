"""What a skill is given and what it gives back.

A skill is a typed function `run(turn, args) -> Outcome`: `Turn` is its one explicit dependency (the
open App, who asks, their words, the time), `args` a pydantic model of what it needs, and the Outcome
says what really happened (every effect went through the ActionGate and is listed with its verdict),
what to say about it, or what to ask back when something is missing or unclear.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from persona.events import Action, ActionKind, Principal, Provenance, Verdict
from persona.policy import decide

if TYPE_CHECKING:
    from persona.app import App

REQUEST_CHARS = 2000  # of the asker's message, kept with the action for the owner to read


class Done(BaseModel):
    """One action a skill proposed, and what the gate made of it."""

    id: str
    kind: ActionKind
    verdict: Verdict
    summary: str
    receipt: str = ""
    reason: str = ""

    @property
    def ran(self) -> bool:
        return self.verdict is Verdict.RUN

    @property
    def waits(self) -> bool:
        return self.verdict is Verdict.APPROVE


class Option(BaseModel):
    """One answer to a question the twin asked: a label to show and the arguments it stands for."""

    label: str
    args: dict[str, Any]


class Question(BaseModel):
    """Asked back instead of guessing; the next message answers it (or starts something new)."""

    skill: str
    args: dict[str, Any]  # what is known so far
    text: str  # the request as first said, so an answer can complete it
    ask: str
    options: list[Option] = []
    confirm: bool = False  # a yes runs the skill with `args` as they are


class Outcome(BaseModel):
    reply: str  # built from real results; never claims more than `done` shows
    done: list[Done] = []
    question: Question | None = None


@dataclass(frozen=True)
class Turn:
    app: App
    principal: Principal
    provenance: Provenance  # of the asker's words
    text: str
    event_id: str
    channel: str
    session: str  # the conversation thread
    now: datetime

    @property
    def owner_first(self) -> str:
        return self.app.profile.owner.name.split()[0]

    def submit(self, action: Action) -> Done:
        """The one way a skill acts: through the gate, which decides, audits and (if allowed) executes.
        The channel that carries it out is opened only for an action the policy lets run now."""
        from persona.channels.delivery import delivering

        action = action.model_copy(update={"request": action.request or self.text[:REQUEST_CHARS]})
        if decide(action, self.app.profile).verdict is not Verdict.RUN:
            outcome = self.app.gate.submit(action)
        else:
            with delivering(self.app, action.kind):
                outcome = self.app.gate.submit(action)
        return Done(
            id=action.id,
            kind=action.kind,
            verdict=outcome.decision.verdict,
            summary=action.summary,
            receipt=outcome.receipt,
            reason=outcome.decision.reason,
        )

    async def asubmit(self, action: Action) -> Done:
        return await asyncio.to_thread(self.submit, action)
