"""The skills as typed tools: name, argument model, the function, and who may call it.

The chooser only ever offers a principal the tools whose `who` holds their role, and `run` checks it
again: a colleague cannot reach an owner skill, whatever a model answers. `acts` marks tools that
can change something (through the gate); the chooser never runs one on a model's word alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from persona.agent import understand as names
from persona.agent.understand import Reading
from persona.errors import PersonaError
from persona.events import Principal
from persona.profile import Role
from persona.skills import agenda, approvals, brief, compose, meetings, notes, triage
from persona.skills.turn import Outcome, Turn

OWNER = frozenset({Role.OWNER})
KNOWN = frozenset({Role.COLLEAGUE, Role.FAMILY, Role.CONTACT})
NOT_OWNER = KNOWN | {Role.STRANGER}
EVERYONE = OWNER | NOT_OWNER


class RecallArgs(BaseModel):
    """Answer from memory: what was said, decided or planned, as far as the asker may know it."""

    question: str = Field(default="", description="the question")


@dataclass(frozen=True)
class Tool:
    name: str
    args: type[BaseModel]
    run: (
        Callable[..., Outcome] | None
    )  # (turn, args, **context) -> Outcome; None: the graph's own recall path
    who: frozenset[Role]
    acts: bool
    offer: str  # "book that meeting": what the twin offers to do when it asks first

    @property
    def about(self) -> str:
        return (self.args.__doc__ or self.name).strip()


TOOLS: tuple[Tool, ...] = (
    Tool(names.RECALL, RecallArgs, None, EVERYONE, False, "answer from what I know"),
    Tool(names.AGENDA, agenda.AgendaArgs, agenda.agenda, OWNER, False, "show your calendar"),
    Tool(names.FREE_TIME, agenda.FreeTimeArgs, agenda.free_time, OWNER, False, "look for your free time"),
    Tool(names.BOOK, meetings.BookArgs, meetings.book_meeting, OWNER, True, "book that meeting"),
    Tool(names.MOVE, meetings.MoveArgs, meetings.move_meeting, OWNER, True, "move that meeting"),
    Tool(names.CANCEL, meetings.CancelArgs, meetings.cancel_meeting, OWNER, True, "cancel that meeting"),
    Tool(names.WRITE_MAIL, compose.WriteMailArgs, compose.write_mail, OWNER, True, "write that mail"),
    Tool(names.REPLY_MAIL, compose.ReplyMailArgs, compose.reply_mail, OWNER, True, "write that reply"),
    Tool(names.FORWARD_MAIL, compose.ForwardMailArgs, compose.forward_mail, OWNER, True, "forward that mail"),
    Tool(
        names.APPROVALS,
        approvals.ApprovalArgs,
        approvals.approvals,
        OWNER,
        True,
        "act on what waits for your approval",
    ),
    Tool(names.REMEMBER, notes.RememberArgs, notes.remember, OWNER, True, "remember that"),
    Tool(names.BRIEF, brief.BriefArgs, brief.brief_now, OWNER, False, "give you the brief"),
    Tool(names.MESSAGES, notes.MessagesArgs, notes.messages, OWNER, False, "show the messages left for you"),
    Tool(
        names.CORRECT_TRIAGE,
        triage.TriageFixArgs,
        triage.correct_triage,
        OWNER,
        True,
        "change how that sender's mail is sorted",
    ),
    Tool(
        names.AVAILABILITY, agenda.FreeTimeArgs, agenda.availability, KNOWN, False, "look up {me}'s free time"
    ),
    Tool(
        names.REQUEST_MEETING,
        meetings.RequestArgs,
        meetings.request_meeting,
        NOT_OWNER,
        True,
        "ask {me} for that meeting",
    ),
    Tool(
        names.LEAVE_MESSAGE,
        notes.LeaveMessageArgs,
        notes.leave_message,
        NOT_OWNER,
        True,
        "pass that on to {me}",
    ),
)
BY_NAME = {tool.name: tool for tool in TOOLS}


def tools_for(principal: Principal) -> list[Tool]:
    return [tool for tool in TOOLS if principal.role in tool.who]


def rule_args(tool: Tool, reading: Reading) -> BaseModel:
    """What the rules fill in before a skill runs; a skill reads the rest from the words itself."""
    people = [n.said for n in reading.people]
    if tool.name == names.BOOK:
        return meetings.BookArgs(people=people)
    if tool.name == names.REQUEST_MEETING:
        return meetings.RequestArgs(people=people)
    if tool.name == names.APPROVALS:
        return approvals.ApprovalArgs(decision=approvals.decision_in(reading.text), which=reading.text)
    if tool.name == names.LEAVE_MESSAGE:
        return notes.LeaveMessageArgs(text=notes.message_text(reading.text))
    if tool.name == names.RECALL:
        return RecallArgs(question=reading.text)
    return tool.args()


def run(tool: Tool, turn: Turn, args: BaseModel, **extra: object) -> Outcome:
    """Run a tool for the turn's principal, who must be one it is for."""
    if turn.principal.role not in tool.who or tool.run is None:
        raise PersonaError(f"{tool.name} is not available to {turn.principal.role.value}")
    return tool.run(turn, tool.args.model_validate(args.model_dump()), **extra)
