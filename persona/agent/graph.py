"""The twin as a LangGraph graph: understand -> (act | respond) -> guard.

`understand` reads the message with rules and, only when they are unsure, asks the model to choose
among the skills this principal may use (persona.agent.choose). A skill runs in `act`: it reads
directly, and every effect it has is an Action through the gate. A question about what the owner
knows is answered from memory: `understand` fetches it (audience-filtered), `respond` writes the
answer. Each graph step costs ~1 ms of LangGraph's own work a turn, so there is no separate retrieve
step. `guard` checks whatever would
leave: boundaries and owner-only details for anyone but the owner, and for everyone that the reply
claims no action the turn did not take.

Conversation state per session lives in a SQLite checkpointer under the home, so a session resumes
after a restart, and so does a question the twin asked ("Which day?"), answered in the next turn.
The graph only proposes its reply; the caller sends it through the ActionGate.

`messages` holds only the last HISTORY_TURNS messages, the ones the model is shown; older ones move to
`archive` as plain (speaker, text) pairs. Each turn reads and writes the session's whole state, and
rebuilding message objects grew with the session: with every message kept, a turn of a 400-turn
session took 17.5 ms of the twin's time instead of 4 ms.
"""

from __future__ import annotations

import asyncio
import operator
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from persona.agent import understand as names
from persona.agent.choose import Choice, choose
from persona.agent.guard import boundary_for, details, leaked_details, unsupported_details
from persona.agent.toolbox import BY_NAME, run
from persona.agent.truth import truthful
from persona.agent.understand import read
from persona.events import Principal, Provenance
from persona.profile import Audience
from persona.skills.chat_form import as_chat_message
from persona.skills.prompt import audience_line, context_block, first_name, persona_prefix, tone_samples
from persona.skills.turn import Done, Question, Turn

if TYPE_CHECKING:
    from persona.app import App
    from persona.memory.store import ItemKind

HISTORY_TURNS = 6  # earlier messages of the session shown to the model
FACTS_K = 4
EXEMPLARS_K = 2
MAX_ANSWER_TOKENS = 220
RECENT_KEPT = 10  # approvals this conversation queued, remembered for "send it"
UNSUPPORTED = "details not in memory: "
SPOKEN = (HumanMessage, AIMessage)  # the conversation's own messages: no system prompt, no tool calls
# Per-turn values: the runner resets them with each new message, so nothing leaks into the next turn.
TURN_RESET = {
    "draft": "",
    "blocked": "",
    "answer": "",
    "done": [],
    "facts": [],
    "exemplars": [],
    "choice": {},
}


class TwinState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    archive: Annotated[list[tuple[str, str]], operator.add]  # the conversation before `messages`
    principal: dict[str, Any]
    question: str
    facts: list[dict[str, Any]]
    exemplars: list[dict[str, Any]]
    draft: str
    answer: str
    blocked: str
    event: dict[str, Any]  # id, channel, session and provenance of the turn's Event
    choice: dict[str, Any]  # what `understand` chose (a Choice)
    done: list[dict[str, Any]]  # the actions the turn's skill proposed, with the gate's verdicts
    # each answer's `done`, kept for reading the conversation back: {"turn": its place in it, "actions": [...]}
    acted: Annotated[list[dict[str, Any]], operator.add]
    pending: dict[str, Any] | None  # a question the twin asked, for the next message to answer
    recent: list[str]  # ids of what this conversation queued for the owner, newest last


class _Hit:
    """A retrieved memory item as kept in graph state (plain dicts survive checkpointing)."""

    def __init__(self, data: dict[str, Any]):
        self.text = data["text"]
        self.metadata = data.get("metadata", {})


def _plain(hit: Any) -> dict[str, Any]:
    return {"text": hit.text, "metadata": dict(hit.metadata)}


def _shown(state: TwinState) -> str:
    """Everything the model was shown that an answer may take a detail from."""
    texts = [f["text"] for f in state.get("facts", [])] + [e["text"] for e in state.get("exemplars", [])]
    return " ".join(texts + [str(m.content) for m in state.get("messages", [])])


def conversation(state: dict[str, Any]) -> list[tuple[str, str]]:
    """The whole conversation of a state, oldest first, as (speaker, text): "human" or "ai"."""
    return [(speaker, text) for speaker, text in state.get("archive", [])] + [
        (m.type, m.text) for m in state.get("messages", []) if isinstance(m, SPOKEN)
    ]


def turn_actions(state: dict[str, Any]) -> dict[int, list[Done]]:
    """What each answer of a state's conversation took or queued, by the answer's place in `conversation`."""
    return {
        entry["turn"]: [Done.model_validate(d) for d in entry["actions"]] for entry in state.get("acted", [])
    }


def _older(messages: list[AnyMessage]) -> list[AnyMessage]:
    """Those of `messages` before the last HISTORY_TURNS: they leave the model's view for the archive."""
    return [m for m in messages[:-HISTORY_TURNS] if m.id and isinstance(m, SPOKEN)]


def memory_wanted(principal: Principal) -> dict[ItemKind, int]:
    """How many items of each kind a turn retrieves for this principal."""
    # exemplars set the tone for others; the owner needs no samples of their own voice
    return {"knowledge": FACTS_K, "exemplar": 0 if principal.is_owner else EXEMPLARS_K}


def build_graph(app: App) -> StateGraph:
    profile = app.profile
    me = first_name(profile.owner.name)

    # Nodes are async: LangGraph runs a sync node on a thread of the loop's executor, a hop each way.
    async def recall(question: str, principal: Principal) -> dict[str, Any]:
        """What memory holds for the question, as this principal may see it (the search began as the
        message arrived: Twin.prefetch)."""
        found = await app.memory.asearch_kinds(question, principal.audiences, memory_wanted(principal))
        # the model reads each fact's lines that bear on the question; the checks read what it read
        facts = await asyncio.to_thread(app.memory.focused, question, found["knowledge"])
        return {
            "facts": [_plain(h) for h in facts],
            "exemplars": [_plain(h) for h in found["exemplar"]],
        }

    async def respond(state: TwinState) -> dict[str, Any]:
        principal = Principal.model_validate(state["principal"])
        if (boundary := boundary_for(profile, principal, state["question"])) is not None:
            return {"draft": "", "blocked": f"boundary: {boundary.topic}"}
        system = persona_prefix(profile, app.style_card) + "\n\n" + audience_line(profile, principal)
        history = [m for m in state.get("messages", []) if isinstance(m, SPOKEN)]
        prompt: list[BaseMessage] = [SystemMessage(content=system)]
        prompt += history[-(HISTORY_TURNS + 1) : -1]  # the current question is added below, with context
        who = me if principal.is_owner else (principal.name or principal.address or "a stranger")
        facts = [_Hit(f) for f in state.get("facts", [])]
        # a past message already in the context would only be there twice, and invite copying it
        in_context = {f.text for f in facts}
        samples = [_Hit(e) for e in state.get("exemplars", []) if e["text"] not in in_context]
        tone = "" if principal.is_owner else tone_samples(samples, profile.owner.name)
        prompt.append(
            HumanMessage(
                content=f"{context_block(facts)}\n{tone}"
                f'<message from="{who}">\n{state["question"]}\n</message>\n'
                f"Answer {who} in a few sentences of your own, as a chat message: do not copy the context or"
                " a past mail, no greeting, no sign-off. Use only facts from the context."
            )
        )
        draft = await app.llm.atext(prompt, max_tokens=MAX_ANSWER_TOKENS, tag="chat")
        return {"draft": draft.strip()}

    async def understand(state: TwinState) -> dict[str, Any]:
        """Choose what to do; an answer from memory gets its memory here too (one graph step less a turn)."""
        principal = Principal.model_validate(state["principal"])
        pending = Question.model_validate(state["pending"]) if state.get("pending") else None
        choice = await choose(app, principal, read(state["question"], principal, profile), pending)
        update = {
            "choice": choice.model_dump(),
            "pending": choice.question.model_dump() if choice.question else None,
        }
        if choice.skill == names.RECALL:
            update |= await recall(state["question"], principal)
        return update

    def after_understanding(state: TwinState) -> str:
        skill = state["choice"].get("skill", "")
        return "respond" if skill == names.RECALL else ("act" if skill else "guard")

    async def act(state: TwinState) -> dict[str, Any]:
        principal = Principal.model_validate(state["principal"])
        choice = Choice.model_validate(state["choice"])
        tool, event = BY_NAME[choice.skill], state["event"]
        turn = Turn(
            app=app,
            principal=principal,
            provenance=Provenance.model_validate(event["provenance"]),
            text=choice.text or state["question"],
            event_id=event["id"],
            channel=event["channel"],
            session=event["session"],
            now=app.clock(),
        )
        extra: dict[str, Any] = {}
        if tool.name == names.APPROVALS:
            extra["recent"] = state.get("recent", [])
        if choice.because:
            extra["because"] = choice.because
        outcome = await asyncio.to_thread(run, tool, turn, tool.args.model_validate(choice.args), **extra)
        queued = [d.id for d in outcome.done if d.waits]
        return {
            "draft": outcome.reply,
            "done": [d.model_dump(mode="json") for d in outcome.done],
            "pending": outcome.question.model_dump() if outcome.question else None,
            "recent": (state.get("recent", []) + queued)[-RECENT_KEPT:],
        }

    async def guard(state: TwinState) -> dict[str, Any]:
        principal = Principal.model_validate(state["principal"])
        skill = state.get("choice", {}).get("skill", "")
        done = [Done.model_validate(d) for d in state.get("done", [])]
        pending = state.get("pending")
        if skill != names.RECALL:  # a skill's reply, or the twin's own question: built from real results
            draft = state.get("draft") or state.get("choice", {}).get("say", "")
            answer, cut = truthful(draft, done, _plain_answer(principal), offered_times=True)
            blocked = "claims: " + "; ".join(c.sentence for c in cut) if cut else ""
        else:
            answer, blocked, offer = await _checked_answer(state, principal)
            if offer is not None:
                pending = offer.model_dump()
        reply = AIMessage(content=answer)
        older = _older([*state.get("messages", []), reply])
        acted = state.get("done", [])
        return {
            "answer": answer,
            "blocked": blocked,
            "pending": pending,
            "messages": [*(RemoveMessage(id=m.id) for m in older), reply],
            "archive": [(m.type, m.text) for m in older],
            # the reply's place: after everything said so far, the question included
            "acted": [{"turn": len(conversation(state)), "actions": acted}] if acted else [],
        }

    async def _checked_answer(state: TwinState, principal: Principal) -> tuple[str, str, Question | None]:
        """The model's answer from memory, after every check; and a question to offer, when it could not
        answer and the asker may want it passed on."""
        # the checks read what would leave: the draft in chat form
        draft, blocked = as_chat_message(state.get("draft", ""), profile.owner.name), state.get("blocked", "")
        if not blocked and not principal.is_owner:
            if (boundary := boundary_for(profile, principal, draft)) is not None:
                blocked = f"boundary: {boundary.topic}"
            else:
                allowed = " ".join(f["text"] for f in state.get("facts", [])) + " " + state["question"]
                # only figures and codes are matched, and one the asker was shown cannot leak: only new
                # ones are looked up, in every owner-only item that holds them
                if new := details(draft) - details(allowed):
                    private = await asyncio.to_thread(app.memory.texts_holding, new, [Audience.OWNER])
                    if leaked := leaked_details(draft, private, allowed):
                        blocked = "owner-only details: " + ", ".join(sorted(leaked))
                    # a figure in nothing the model was shown is made up, and would go out in the owner's name
                    elif invented := unsupported_details(draft, _shown(state)):
                        blocked = UNSUPPORTED + ", ".join(sorted(invented))
        if blocked:
            why = (
                "I don't have that detail"
                if blocked.startswith(UNSUPPORTED)
                else "that's not something I can share"
            )
            return _offer(state, principal, why, blocked)
        answer, cut = truthful(draft, [], "", sources=_shown(state))
        claimed = "claims: " + "; ".join(c.sentence for c in cut) if cut else ""
        if answer:
            return answer, claimed, None
        # nothing usable: an empty answer, or one that only claimed or promised what did not happen
        if principal.is_owner:
            return "I don't have an answer to that in what I know.", claimed, None
        return _offer(state, principal, "I don't have an answer to that", claimed)

    def _offer(
        state: TwinState, principal: Principal, why: str, blocked: str
    ) -> tuple[str, str, Question | None]:
        """What someone else hears when the twin cannot answer: why, and an offer to pass the question on
        (a yes leaves it as a message for the owner)."""
        ask = f"I'm {me}'s assistant, and {why}. Shall I pass your question on to {me}?"
        offer = Question(
            skill=names.LEAVE_MESSAGE,
            args={"text": state["question"]},
            text=state["question"],
            ask=ask,
            confirm=True,
        )
        return ask, blocked, None if principal.is_owner else offer

    def _plain_answer(principal: Principal) -> str:
        """What stands when a reply claimed only things that did not happen."""
        if principal.is_owner:
            return (
                "I haven't done anything about that. To have me act, say what to do, e.g. “book 30 minutes"
                " with Sam on Tuesday afternoon”."
            )
        return (
            f"I can't promise that for {me}. I can ask {me} for a time if you tell me when suits you, or pass a"
            " message on."
        )

    graph = StateGraph(TwinState)
    graph.add_node("understand", understand)
    graph.add_node("act", act)
    graph.add_node("respond", respond)
    graph.add_node("guard", guard)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", after_understanding, ["act", "respond", "guard"])
    graph.add_edge("act", "guard")
    graph.add_edge("respond", "guard")
    graph.add_edge("guard", END)
    return graph
