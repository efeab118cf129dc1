"""What waits for the owner, by talking: list it, approve, reject or edit one item.

Which item is meant is read from the owner's words (a person, "reply" or "meeting", words of the
subject, "the second one", an id) against the pending approvals; several that fit equally are asked
about, never guessed. Approving carries the action out through the gate, like the CLI and dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from persona.errors import PersonaError
from persona.events import ActionKind
from persona.skills.people import name_of, people_named
from persona.skills.turn import Done, Option, Outcome, Question, Turn
from persona.store import Approval

Decision = Literal["list", "approve", "reject", "edit"]
_KIND_WORDS: dict[ActionKind, re.Pattern[str]] = {
    ActionKind.SEND_MAIL: re.compile(
        r"\b(?:reply|replies|response|answer|mail|e-?mail|draft|note|message)\b"
    ),
    ActionKind.FORWARD_MAIL: re.compile(r"\b(?:forward|fwd)\b"),
    ActionKind.CREATE_EVENT: re.compile(
        r"\b(?:meeting|event|invite|invitation|request|slot|time|hold|call|sync|1:1)\b"
    ),
    ActionKind.MOVE_EVENT: re.compile(r"\b(?:move|reschedul\w*)\b"),
    ActionKind.CANCEL_EVENT: re.compile(r"\b(?:cancel\w*)\b"),
}
_REJECT = re.compile(
    r"\b(?:reject|decline|don'?t|do not|discard|scrap|bin|trash|drop|kill|cancel|no|never ?mind|deny|"
    r"refuse|throw away|delete|turn down|say no|pass on|not going to)\b"
)
_EDIT = re.compile(r"\b(?:edit|change|reword|rewrite|shorten|update|make it say|say instead|instead say)\b")
_APPROVE = re.compile(
    r"\b(?:approve|go ahead|send|ship|accept|confirm|yes|yep|ok|okay|book|do it|lgtm|fine|agree|"
    r"sounds good|let it go|go with)\b"
)
_NEW_TEXT = re.compile(
    r"(?::\s*|\bsay(?:ing)?\s+|\bto read\s+)[\"“”']?(?P<text>.{3,})$", re.IGNORECASE | re.DOTALL
)
_ID = re.compile(r"\b([0-9a-f]{6,32})\b")
_SKIP = {
    "the",
    "to",
    "a",
    "an",
    "and",
    "it",
    "that",
    "this",
    "my",
    "please",
    "reply",
    "mail",
    "email",
    "send",
    "approve",
    "reject",
    "meeting",
    "request",
    "for",
    "from",
    "with",
    "of",
    "go",
    "ahead",
    "one",
    "draft",
    "yes",
    "ok",
}


class ApprovalArgs(BaseModel):
    """What waits for the owner's approval: list it, or approve, reject or edit one item."""

    decision: Decision = Field(default="list", description="list, approve, reject or edit")
    which: str = Field(
        default="", description="words naming the item: a person, 'the reply', a subject, an id"
    )
    text: str = Field(default="", description="the new text, for an edit")
    id: str = Field(default="", description="the approval's id, when already known")


def decision_in(text: str) -> Decision:
    lowered = text.lower()
    if _EDIT.search(lowered):
        return "edit"
    if (
        re.search(r"\b(?:what|which|show|list|anything|pending|waiting|queued)\b", lowered)
        and "?" in text
        or re.match(r"^\s*(?:what|which|show|list)\b", lowered)
    ):
        return "list"
    if _REJECT.search(lowered):
        return "reject"
    if _APPROVE.search(lowered):
        return "approve"
    return "list"


def _label(turn: Turn, approval: Approval) -> str:
    action = approval.action
    to = ", ".join(name_of(turn.app.profile, t) for t in action.targets)
    return f"{action.summary or action.kind.value}" + (
        f" (to {to})" if to and to not in action.summary else ""
    )


def _listing(turn: Turn, items: list[Approval]) -> str:
    lines = [f"{i + 1}. {_label(turn, a)} [{a.id[:8]}] — {a.reason}" for i, a in enumerate(items)]
    return "\n".join(lines)


def _match(turn: Turn, items: list[Approval], words: str, recent: list[str]) -> list[Approval]:
    """The pending items `words` fit best; when they name nothing in particular, the ones this
    conversation just queued, or the only one there is."""
    lowered = words.lower()
    if ids := [m for m in _ID.findall(lowered) if any(a.id.startswith(m) for a in items)]:
        return [a for a in items if any(a.id.startswith(i) for i in ids)]
    people = {c for n in people_named(turn.app.profile, words) for c in n.candidates}
    kinds = {k for k, pattern in _KIND_WORDS.items() if pattern.search(lowered)}
    tokens = {t for t in re.findall(r"[a-z0-9]{3,}", lowered) if t not in _SKIP}
    scored = []
    for approval in items:
        action = approval.action
        involved = {*action.targets, action.requested_by.address}
        if people and not people & involved:
            continue
        if (
            kinds
            and action.kind not in kinds
            and not (action.kind is ActionKind.SAVE_DRAFT and ActionKind.SEND_MAIL in kinds)
        ):
            continue
        text = f"{action.summary} {action.payload.get('subject', '')} {action.payload.get('summary', '')}".lower()
        scored.append((len(tokens & set(re.findall(r"[a-z0-9]{3,}", text))), approval))
    if not scored:
        return []
    if not people and not kinds and not any(s for s, _ in scored):
        mine = [a for a in items if a.id in recent]
        return mine or items
    best = max(s for s, _ in scored)
    return [a for s, a in scored if s == best]


def approvals(turn: Turn, args: ApprovalArgs, *, recent: Sequence[str] = ()) -> Outcome:
    """`recent`: ids of what this conversation queued, for "send it" and "go ahead"."""
    store = turn.app.store
    items = [a for a in store.approvals("pending") if a.action.kind is not ActionKind.SAVE_DRAFT]
    if args.decision == "list" and not args.id:
        if not items:
            return Outcome(reply="Nothing waits for your approval.")
        count = "1 item waits" if len(items) == 1 else f"{len(items)} items wait"
        return Outcome(
            reply=f"{count} for your approval:\n{_listing(turn, items)}\n"
            "Say e.g. “approve 1” or “reject the reply to …”."
        )
    if not items:
        return Outcome(reply="Nothing waits for your approval.")
    chosen = (
        [a for a in items if a.id.startswith(args.id)]
        if args.id
        else _match(turn, items, args.which, list(recent))
    )
    if not chosen:
        return Outcome(reply=f"Nothing waiting matches that. What waits:\n{_listing(turn, items)}")
    if len(chosen) > 1:
        ask = f"Which one?\n{_listing(turn, chosen)}"
        options = [Option(label=_label(turn, a), args=args.model_dump() | {"id": a.id}) for a in chosen]
        return Outcome(
            reply=ask,
            question=Question(
                skill="approvals", args=args.model_dump(), text=turn.text, ask=ask, options=options
            ),
        )
    return _decide(turn, chosen[0], args)


def _decide(turn: Turn, approval: Approval, args: ApprovalArgs) -> Outcome:
    from persona.channels.delivery import delivering

    app, owner = turn.app, turn.app.profile.owner.emails[0]
    label = _label(turn, approval)
    if args.decision == "reject":
        app.gate.reject(approval.id, by=owner, reason=f"said in {turn.channel}: {turn.text}"[:200])
        return Outcome(
            reply=f"Rejected: {label}. Nothing was sent or booked.",
            done=[
                Done(id=approval.id, kind=approval.action.kind, verdict="refuse", summary=f"rejected {label}")
            ],
        )
    if args.decision == "edit":
        new = args.text or ((m := _NEW_TEXT.search(turn.text)) and m.group("text").strip(" \"“”'")) or ""
        field = "body" if "body" in approval.action.payload else ""
        if not field:
            return Outcome(reply=f"I can only edit the text of a mail; {label} has none.")
        if not new:
            ask = f"What should the {label} say instead?"
            return Outcome(
                reply=ask,
                question=Question(
                    skill="approvals", args=args.model_dump() | {"id": approval.id}, text=turn.text, ask=ask
                ),
            )
        app.store.edit_approval(approval.id, {field: new})
        return Outcome(
            reply=f"Changed the text of {label}; it still waits for you. Say “send it” to send it."
        )
    try:
        with delivering(app, approval.action.kind):
            result = app.gate.approve(approval.id, by=owner)
    except PersonaError as exc:
        return Outcome(reply=f"Approved {label}, but it could not be carried out: {exc}")
    return Outcome(
        reply=f"Approved and done: {label}. ({result.receipt})",
        done=[
            Done(
                id=approval.id,
                kind=approval.action.kind,
                verdict="run",
                summary=f"approved {label}",
                receipt=result.receipt or "",
            )
        ],
    )
