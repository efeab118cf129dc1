"""Which suite tools are Actions, and how a call becomes one: kind, targets and payload, each value
with the provenance the Ledger assigns. Read-only tools (search, list, get) are not Actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from persona.evals.agentdojo.provenance import Ledger
from persona.evals.agentdojo.workspace import Workspace
from persona.events import Action, ActionKind, Principal, Provenance, Source
from persona.payloads import Payload
from persona.policy import DESTRUCTIVE

READ_ONLY = frozenset(
    {
        "get_unread_emails",
        "get_sent_emails",
        "get_received_emails",
        "get_draft_emails",
        "search_emails",
        "search_contacts_by_name",
        "search_contacts_by_email",
        "get_current_day",
        "search_calendar_events",
        "get_day_calendar_events",
        "search_files_by_filename",
        "get_file_by_id",
        "list_files",
        "search_files",
    }
)

# (kind, target argument names, payload argument names); a function when the kind depends on state.
Shape = tuple[ActionKind, tuple[str, ...], tuple[str, ...]]
_SHAPES: dict[str, Shape | Callable[[dict[str, Any], Workspace], Shape]] = {
    "send_email": (ActionKind.SEND_MAIL, ("recipients", "cc", "bcc"), ("subject", "body", "attachments")),
    "delete_email": (ActionKind.DELETE_MAIL, ("email_id",), ()),
    "create_calendar_event": (
        ActionKind.CREATE_EVENT,
        ("participants",),
        ("title", "start_time", "end_time", "description", "location"),
    ),
    "cancel_calendar_event": (ActionKind.CANCEL_EVENT, ("event_id",), ()),
    "reschedule_calendar_event": (ActionKind.MOVE_EVENT, ("event_id",), ("new_start_time", "new_end_time")),
    "add_calendar_event_participants": (ActionKind.ADD_ATTENDEES, ("participants",), ("event_id",)),
    "share_file": (ActionKind.SHARE_DOCUMENT, ("email",), ("file_id", "permission")),
    "delete_file": (ActionKind.DELETE_DOCUMENT, ("file_id",), ()),
    # A new file is readable by the owner only: it stays in the owner's own space.
    "create_file": (ActionKind.WRITE_BRIEF, (), ("filename", "content")),
    "append_to_file": lambda args, ws: _append_shape(args, ws),
}
SIDE_EFFECTING = frozenset(_SHAPES)


class ToolCall(Payload):
    """What an Action here carries: the suite tool's name and its arguments (as the tool names them), not
    persona's own payloads; the gate of a session checks every kind against this."""

    tool: str = Field(min_length=1)


TOOL_CALLS: dict[ActionKind, type[Payload]] = dict.fromkeys(ActionKind, ToolCall)


def _append_shape(args: dict[str, Any], ws: Workspace) -> Shape:
    """Appending to a file others can read hands them the content: policy treats it as sharing. A file the
    owner alone reads reaches nobody else: no person is its target, like a new file."""
    if ws.readers(str(args.get("file_id", ""))):
        return (ActionKind.SHARE_DOCUMENT, ("file_id",), ("content",))
    return (ActionKind.WRITE_BRIEF, (), ("file_id", "content"))


def _provenance(ledger: Ledger, kind: ActionKind, arg: str, value: Any) -> list[Provenance]:
    """`file_id`, `email_id`, `event_id` name a record of that kind; addresses are targets; the rest content."""
    if arg.endswith("_id"):
        return ledger.record(arg.removesuffix("_id"), value, removes=kind in DESTRUCTIVE)
    role: Literal["content", "target"] = (
        "target" if arg in ("recipients", "cc", "bcc", "participants", "email") else "content"
    )
    return ledger.attribute(value, role)


def _values(value: Any) -> list[Any]:
    if value is None or value == "" or value == []:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def to_action(
    name: str, args: dict[str, Any], ws: Workspace, ledger: Ledger, owner: Principal, closed: set[str]
) -> Action:
    """The Action a side-effecting call proposes. `closed` names enum parameters: a choice from a closed
    set carries no text from anywhere, so it adds no provenance."""
    shape = _SHAPES[name]
    kind, target_args, payload_args = shape(args, ws) if callable(shape) else shape
    targets: list[str] = []
    target_provenance: list[Provenance] = []
    for arg in target_args:
        for value in _values(args.get(arg)):
            if str(value).lower() == ws.owner:
                continue  # the owner among the attendees reaches no one new
            targets.append(str(value))
            target_provenance += _provenance(ledger, kind, arg, value)
    if kind is ActionKind.SHARE_DOCUMENT and name == "append_to_file":
        file_id = str(args.get("file_id", ""))
        targets = ws.readers(file_id)  # who will read the appended text
        target_provenance = [Provenance(source=Source.OWNER_DATA, ref=f"file:{file_id} sharing")]
        target_provenance += _provenance(ledger, kind, "file_id", file_id)
    payload = {k: args[k] for k in payload_args if k in args}
    payload_provenance = [
        p
        for k, v in payload.items()
        if k not in closed
        for x in _values(v)
        for p in _provenance(ledger, kind, k, x)
    ]
    return Action(
        kind=kind,
        requested_by=owner,
        targets=targets,
        target_provenance=target_provenance,
        payload={"tool": name, **payload},
        payload_provenance=payload_provenance,
        summary=f"{name}({', '.join(f'{k}={str(v)[:40]!r}' for k, v in args.items())})",
    )
