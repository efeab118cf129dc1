"""The twin as a LangGraph graph: retrieve (audience-filtered) -> respond -> guard.

Conversation state per session lives in a SQLite checkpointer under the home, so a session resumes
after a restart. The graph only proposes; the caller sends the reply through the ActionGate.

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

from persona.app import App
from persona.events import Principal
from persona.profile import Audience
from persona.twin.chat_form import as_chat_message
from persona.twin.guard import boundary_for, details, leaked_details, unsupported_details
from persona.twin.prompt import audience_line, context_block, first_name, persona_prefix, tone_samples

if TYPE_CHECKING:
    from persona.memory.store import ItemKind

HISTORY_TURNS = 6  # earlier messages of the session shown to the model
FACTS_K = 4
EXEMPLARS_K = 2
MAX_ANSWER_TOKENS = 220
UNSUPPORTED = "details not in memory: "
SPOKEN = (HumanMessage, AIMessage)  # the conversation's own messages: no system prompt, no tool calls


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
    async def retrieve(state: TwinState) -> dict[str, Any]:
        principal = Principal.model_validate(state["principal"])
        wanted = memory_wanted(principal)
        found = await app.memory.asearch_kinds(state["question"], principal.audiences, wanted)
        return {
            "facts": [_plain(h) for h in found["knowledge"]],
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
                f"<message from=\"{who}\">\n{state['question']}\n</message>\n"
                f"Answer {who} in a few sentences of your own, as a chat message: do not copy the context or"
                " a past mail, no greeting, no sign-off. Use only facts from the context."
            )
        )
        draft = await app.llm.atext(prompt, max_tokens=MAX_ANSWER_TOKENS, tag="chat")
        return {"draft": draft.strip()}

    async def guard(state: TwinState) -> dict[str, Any]:
        principal = Principal.model_validate(state["principal"])
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
        if blocked.startswith(UNSUPPORTED):
            answer = f"I'm {me}'s assistant, and I don't have that detail. I'll pass your question to {me}."
        elif blocked:
            answer = (
                f"I'm {me}'s assistant, and that's not something I can share. "
                f"I'll let {me} know you asked."
            )
        else:
            answer = draft or (
                f"I'm {me}'s assistant; I couldn't put an answer together just now. "
                f"I'll pass this on to {me}."
            )
        reply = AIMessage(content=answer)
        older = _older([*state.get("messages", []), reply])
        return {
            "answer": answer,
            "blocked": blocked,
            "messages": [*(RemoveMessage(id=m.id) for m in older), reply],
            "archive": [(m.type, m.text) for m in older],
        }

    graph = StateGraph(TwinState)
    graph.add_node("retrieve", retrieve)
    graph.add_node("respond", respond)
    graph.add_node("guard", guard)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "respond")
    graph.add_edge("respond", "guard")
    graph.add_edge("guard", END)
    return graph
