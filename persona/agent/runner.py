"""Running the twin for one Event: the graph proposes a reply, the ActionGate decides, all audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from persona.actions import Outcome
from persona.agent.checkpoints import Checkpoints
from persona.agent.graph import TURN_RESET, build_graph, conversation, memory_wanted, turn_actions
from persona.agent.understand import read
from persona.events import Action, ActionKind, Event, Provenance, Source, Verdict
from persona.skills.turn import Done

if TYPE_CHECKING:
    from persona.app import App


class TwinReply(BaseModel):
    text: str
    blocked: str = ""  # why the guard replaced or cut the answer, if it did
    outcome: Outcome  # the reply's own delivery
    actions: list[Done] = []  # what the turn did or queued for the owner, with the gate's verdicts
    skill: str = ""  # which skill answered ("recall": from memory)
    chosen_by: str = ""  # what chose it: rules, model, rules+model, answer (to the twin's question), default
    asks: bool = False  # the reply is a question the next message can answer


class Said(BaseModel):
    """One message of a conversation read back: an answer with the actions it took or queued."""

    role: str  # "human" | "ai"
    text: str
    actions: list[Done] = []


def thread_id(event: Event) -> str:
    """Sessions are namespaced by principal, so nobody can resume someone else's conversation."""
    who = event.principal.address or event.principal.role.value
    return f"{event.channel}:{who}:{event.session_id or 'default'}"


class Twin:
    """The agent over one home: an Event in, a TwinReply out, through the graph (understand -> act or
    respond -> guard), each conversation checkpointed.

    Guarantees: a conversation is keyed by who speaks (`thread_id`), so nobody resumes someone else's;
    whatever a turn does goes through the ActionGate (`Turn.submit`), and the reply itself is a
    REPLY_CHAT Action, shown only when the gate lets it run; memory reaches a prompt only as the
    speaker's audiences allow; only the owner's answer streams before the guard has read all of it.
    """

    def __init__(self, app: App, checkpointer: Checkpoints):
        self.app = app
        self.profile = app.profile  # the one its graph was built with
        self.graph = build_graph(app).compile(checkpointer=checkpointer)

    @classmethod
    @asynccontextmanager
    async def open(cls, app: App) -> AsyncIterator[Twin]:
        with Checkpoints.open(app.home.checkpoints_db) as saver:
            yield cls(app, saver)

    def prefetch(self, event: Event) -> None:
        """Start the work a turn for this event will begin with, while the caller finishes its own: the
        memory search, unless the words clearly ask a skill to do something."""
        if read(event.text, event.principal, self.app.profile).strong():
            return
        self.app.memory.prefetch_kinds(event.text, event.principal.audiences, memory_wanted(event.principal))

    async def respond(self, event: Event) -> TwinReply:
        async for part in self.stream(event, live=False):
            if isinstance(part, TwinReply):
                return part
        raise AssertionError("Twin.stream ends with a TwinReply")

    async def stream(self, event: Event, live: bool = True) -> AsyncIterator[str | TwinReply]:
        """The owner's answer token by token as the model writes it, then the TwinReply. Anyone else
        gets only the TwinReply: their answer may not leave before the guard has read all of it.
        `live=False` asks the model for the whole answer at once: llama.cpp's server reports token
        usage only then."""
        session = thread_id(event)
        live = live and event.principal.is_owner
        state: dict = {}
        async for mode, data in self.graph.astream(
            {
                **TURN_RESET,
                "messages": [HumanMessage(content=event.text)],
                "principal": event.principal.model_dump(mode="json"),
                "question": event.text,
                "event": {
                    "id": event.id,
                    "channel": event.channel,
                    "session": session,
                    "provenance": event.provenance.model_dump(mode="json"),
                },
            },
            {"configurable": {"thread_id": session}},
            stream_mode=["messages", "values"] if live else ["values"],
            durability="exit",  # one checkpoint per turn; the message itself is kept by the channel
        ):
            if mode == "values":
                state = data
            elif data[1].get("langgraph_node") == "respond" and (token := data[0].text):
                yield token
        yield await self._reply(event, session, state)

    async def _reply(self, event: Event, session: str, state: dict) -> TwinReply:
        """The graph only proposes: the reply goes through the ActionGate like every action."""
        principal = event.principal
        action = Action(
            kind=ActionKind.REPLY_CHAT,
            requested_by=principal,
            targets=[principal.address] if principal.address and not principal.is_owner else [],
            target_provenance=[event.provenance],
            payload={"text": state["answer"], "session": session},
            payload_provenance=[event.provenance, Provenance(source=Source.OWNER_DATA, ref="memory")],
            event_id=event.id,
            summary=f"chat reply to {principal.name or principal.address or principal.role.value}",
        )
        outcome = await asyncio.to_thread(self.app.gate.submit, action)
        if state.get("blocked"):
            await asyncio.to_thread(
                self.app.store.audit,
                "guard_blocked",
                principal.address or principal.role.value,
                # the thread and the answer's place in it: the owner's Conversations view marks that turn
                "reply_chat",
                {
                    "event_id": event.id,
                    "why": state["blocked"],
                    "thread": session,
                    "turn": len(conversation(state)) - 1,
                },
            )
        text = state["answer"] if outcome.decision.verdict is Verdict.RUN else "I can't answer that here."
        return TwinReply(
            text=text,
            blocked=state.get("blocked", ""),
            outcome=outcome,
            actions=[Done.model_validate(d) for d in state.get("done", [])],
            skill=state.get("choice", {}).get("skill", ""),
            chosen_by=state.get("choice", {}).get("by", ""),
            asks=bool(state.get("pending")),
        )

    async def history(self, event: Event) -> list[Said]:
        snapshot = await self.graph.aget_state({"configurable": {"thread_id": thread_id(event)}})
        values = snapshot.values if snapshot else {}
        acted = turn_actions(values)
        return [
            Said(role=role, text=text, actions=acted.get(i, []))
            for i, (role, text) in enumerate(conversation(values))
        ]
